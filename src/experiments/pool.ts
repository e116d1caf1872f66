import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import type { Job } from "./worker.js";

/**
 * Run jobs on `workers` threads (piscina), or inline when workers ≤ 1. Results
 * come back in job order, so output never depends on scheduling.
 */
export async function runJobs<R>(jobs: Job[], workers: number, onDone?: (r: R, i: number) => void): Promise<R[]> {
  if (workers <= 1 || jobs.length <= 1) {
    const { default: run } = await import("./worker.js");
    return jobs.map((j, i) => { const r = run(j) as R; onDone?.(r, i); return r; });
  }
  // Under tsx the sources are .ts; built, they are .js.
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const pool = new Piscina({ filename: new URL(`./worker${ext}`, import.meta.url).href, minThreads: workers, maxThreads: workers });
  try {
    return await Promise.all(jobs.map(async (j, i) => {
      const r = (await pool.run(j)) as R;
      onDone?.(r, i);
      return r;
    }));
  } finally {
    await pool.destroy();
  }
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** Split 0 … n−1 into contiguous chunks (small enough for a live progress bar). */
export function chunks(n: number, size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i += size) out.push(Array.from({ length: Math.min(size, n - i) }, (_, k) => i + k));
  return out;
}
