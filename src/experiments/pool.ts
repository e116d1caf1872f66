import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import type { Job } from "./worker.js";
import { TERM_MODULES, TERM_NAMES } from "../rules/registry.js";
import { EXPRESSION_TERMS } from "../rules/expr/compile.js";
import { jobSeconds } from "./cost.js";

/**
 * Worker threads (piscina). Pools are kept per size for the life of the
 * process, so repeated runs (sweeps, meta-batches every episode) do not pay
 * for starting threads and reading datasets again; closePools() ends them.
 */
const pools = new Map<number, Piscina>();

function pool(workers: number): Piscina {
  let p = pools.get(workers);
  if (p === undefined) {
    // Under tsx the sources are .ts; built, they are .js.
    const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
    p = new Piscina({ filename: new URL(`./worker${ext}`, import.meta.url).href, minThreads: workers, maxThreads: workers, idleTimeout: 60_000 });
    pools.set(workers, p);
  }
  return p;
}

/** End every pool's threads (the CLI calls this before exiting). */
export async function closePools(): Promise<void> {
  const ps = [...pools.values()];
  pools.clear();
  await Promise.all(ps.map((p) => p.destroy()));
}

/**
 * Run jobs on `workers` threads, or inline when workers ≤ 1. Results come
 * back in job order, so output never depends on scheduling.
 */
export async function runJobs<R>(jobs: Job[], workers: number, onDone?: (r: R, i: number) => void): Promise<R[]> {
  // In process only when every job is short: a long synchronous job would leave SIGINT and SIGTERM unanswered
  // until it ends (a thread's results are the same bytes).
  if ((workers <= 1 || jobs.length <= 1) && (!offloadable(jobs) || Math.max(...jobs.map(jobSeconds)) < INLINE_S)) {
    const run = await inlineRunner();
    const out: R[] = [];
    for (const [i, j] of jobs.entries()) {
      const r = (await run(j)) as R;
      onDone?.(r, i);
      out.push(r);
      // Yield to the event loop between jobs (an awaited resolved promise does not): signals are handled
      // and output flushed while a long in-process run goes on.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return out;
  }
  // Worker threads learn the rule terms registered here by importing the same modules.
  if (TERM_MODULES.length > 0) jobs = jobs.map((j) => ({ ...j, termModules: [...TERM_MODULES] }));
  if (EXPRESSION_TERMS.length > 0) jobs = jobs.map((j) => ({ ...j, expressionTerms: [...EXPRESSION_TERMS] }));
  const p = pool(Math.max(1, workers));
  return Promise.all(jobs.map(async (j, i) => {
    const r = (await p.run(j)) as R;
    onDone?.(r, i);
    return r;
  }));
}

/**
 * The in-process job runner, imported once. A dynamic import() of a module already loaded still goes through
 * the module loader's resolve step each time, and under a loader hook (tsx, as the CLI runs from source) that
 * is a round trip to the hooks thread with file-system lookups: measured (node --cpu-prof, scripts/bench-meta-cli.ts)
 * as several ms per call, i.e. per meta episode, the CLI's `meta` overhead against the same episodes run in-process.
 */
let inline: Promise<(job: Job) => Promise<unknown>> | null = null;
function inlineRunner(): Promise<(job: Job) => Promise<unknown>> {
  inline ??= import("./worker.js").then((m) => m.default);
  return inline;
}

/** Longest job (estimated seconds) run in the main thread. */
const INLINE_S = 0.5;

/** Jobs a worker thread can run: their terms are built in or come from modules the thread can import (not registerTerm in process). */
function offloadable(jobs: readonly Job[]): boolean {
  return TERM_MODULES.length > 0 || jobs.every((j) => Object.keys(j.cfg.theta).every((t) => (TERM_NAMES as readonly string[]).includes(t)));
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

