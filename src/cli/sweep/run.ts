import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeAtomic } from "../../core/files.js";
import { train } from "../../experiments/train.js";
import { metaTrain, specOf } from "../../experiments/meta-train.js";
import { computeCell, type Cell, type ReproduceOptions } from "../../reproduce/run.js";
import { formatThetaSpec } from "../../rules/rule.js";
import type { TaskResult } from "../../experiments/task.js";
import { provenance } from "../provenance.js";
import { claimCell } from "./claim.js";
import { axesText, cellFile, readCell, readManifest, resolveCell, SweepError, sweepPaths, type ManifestLine } from "./plan.js";

/** One rule's results in a cell: the summary and every task (collect pools tasks across cells). */
export interface CellRun {
  rule: string;
  theta: unknown;
  acc: number; acc_se: number; loss: number; loss_se: number; diverged: number; weight_norm: number;
  tasks: { task: number; acc: number; loss: number; diverged: boolean }[];
}

/** The first cell and how many, from --index/--count or the engine's environment (element k runs cells k·n … k·n + n − 1). */
export function cellRange(
  n: number,
  opts: { index?: number; count?: number },
  env: NodeJS.ProcessEnv = process.env,
): { first: number; count: number; from: string } {
  let first = opts.index,
    from = "--index";
  const count = opts.count ?? (first === undefined && env.SLURM_ARRAY_TASK_ID === undefined && env.JOB_COMPLETION_INDEX === undefined ? n : 1);
  if (first === undefined) {
    const e = env.SLURM_ARRAY_TASK_ID ?? env.JOB_COMPLETION_INDEX;
    from = env.SLURM_ARRAY_TASK_ID !== undefined ? "SLURM_ARRAY_TASK_ID" : env.JOB_COMPLETION_INDEX !== undefined ? "JOB_COMPLETION_INDEX" : "all cells";
    if (e === undefined) first = 0;
    else {
      const k = Number(e);
      if (!Number.isInteger(k) || k < 0) throw new SweepError(`${from} is '${e}', not a non-negative integer`);
      first = k * count;
      if (first >= n)
        throw new SweepError(
          `${from} ${k} is out of range: element ${k} runs cells ${first} … ${first + count - 1} (--count ${count}), and the sweep has ${n} cells (0 … ` +
            `${n - 1}); elements 0 … ${Math.ceil(n / count) - 1} exist`,
        );
    }
  }
  if (first < 0 || first >= n)
    throw new SweepError(`${from === "--index" ? "--index" : from} ${first} is out of range: the sweep has ${n} cells (0 … ${n - 1})`);
  return { first, count: Math.min(count, n - first), from };
}

/** Where this process's output goes, for a failure record: the SLURM log (the --output pattern of sweep.sbatch), or the pod. */
function logPath(dir: string): string {
  const e = process.env;
  if (e.SLURM_ARRAY_JOB_ID && e.SLURM_ARRAY_TASK_ID) return join(sweepPaths(dir).logs, `${e.SLURM_ARRAY_JOB_ID}_${e.SLURM_ARRAY_TASK_ID}.out`);
  if (e.SLURM_JOB_ID) return join(sweepPaths(dir).logs, `${e.SLURM_JOB_ID}.out`);
  if (e.JOB_COMPLETION_INDEX !== undefined) return `kubectl logs ${e.HOSTNAME ?? "(pod)"}`;
  return `stdout of process ${process.pid} on ${hostname()}`;
}

/**
 * Run cells first … first + count − 1 of DIR. Idempotent: a finished cell is
 * skipped. Each cell is written atomically to DIR/cells/ (a killed run leaves
 * no partial cell); a cell that fails leaves DIR/failed/<index>.json with the
 * error and its log, and the others still run. Returns the failed indices.
 */
export async function runSweep(
  dir: string,
  opts: { index?: number; count?: number; workers: number; log?: (s: string) => void },
): Promise<{ ran: number[]; skipped: number[]; failed: number[]; busy: number[] }> {
  const log = opts.log ?? ((s: string) => process.stdout.write(s + "\n"));
  const { lines, hash } = readManifest(dir);
  const p = sweepPaths(dir);
  // Results of another plan are never mixed in: every finished cell must carry this manifest's hash.
  for (const l of lines) readCell(dir, l, hash);
  const { first, count, from } = cellRange(lines.length, opts);
  log(`sweep ${dir}: cells ${first} … ${first + count - 1} of ${lines.length} (${from}), ${opts.workers} worker(s), manifest ${hash.slice(0, 12)}`);
  for (const d of [p.cells, p.failed, p.running]) mkdirSync(d, { recursive: true });
  const ran: number[] = [],
    skipped: number[] = [],
    failed: number[] = [],
    busy: number[] = [];
  for (let i = first; i < first + count; i++) {
    const line = lines[i];
    if (readCell(dir, line, hash)) {
      log(`cell ${i}: done already, skipped`);
      skipped.push(i);
      continue;
    }
    // Every cell's log says which configuration it ran.
    log(`cell ${i} of ${lines.length} [${axesText(line.axes)}]: ${JSON.stringify(line.config)}`);
    const marker = join(p.running, `${i}.json`);
    const claim = claimCell(marker, { index: i, host: hostname(), pid: process.pid, log: logPath(dir), started: new Date().toISOString() });
    if (!claim.ok) {
      const h = claim.holder;
      log(
        `cell ${i}: being computed by ${h ? `process ${h.pid} on ${h.host} since ${h.started}` : "another process"} (${marker}), skipped; if that process ` +
          `is gone, remove the file or run again later`,
      );
      busy.push(i);
      continue;
    }
    if (claim.recovered) log(`cell ${i}: took over the stale claim of process ${claim.recovered.pid} on ${claim.recovered.host}`);
    // Finished by another process between the check above and the claim.
    if (readCell(dir, line, hash)) {
      claim.release();
      log(`cell ${i}: done already, skipped`);
      skipped.push(i);
      continue;
    }
    const t0 = performance.now();
    try {
      const result = await computeSweepCell(line, opts.workers);
      writeAtomic(
        cellFile(dir, line),
        JSON.stringify({ ...result, index: i, manifest: hash, seconds: (performance.now() - t0) / 1000, host: hostname(), provenance: provenance() }) + "\n",
      );
      rmSync(join(p.failed, `${i}.json`), { force: true });
      log(`cell ${i}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      ran.push(i);
    } catch (e) {
      const msg = (e as Error).message.split("\n")[0];
      writeAtomic(
        join(p.failed, `${i}.json`),
        JSON.stringify({ index: i, error: msg, log: logPath(dir), host: hostname(), at: new Date().toISOString() }) + "\n",
      );
      log(`cell ${i}: FAILED: ${msg}`);
      failed.push(i);
    } finally {
      claim.release();
    }
  }
  return { ran, skipped, failed, busy };
}

/** Compute one manifest line (train: every rule; meta: meta-learn, then score the learned θ; reproduce: the report's cell). */
async function computeSweepCell(line: ManifestLine, workers: number): Promise<Record<string, unknown>> {
  if (line.command === "reproduce") {
    const o = { ...(line.config as ReproduceOptions), workers };
    const { cells } = await import("../../reproduce/run.js");
    const c = cells(o).find((x) => x.id === line.id);
    if (!c || JSON.stringify(c) !== JSON.stringify(line.cell as Cell))
      throw new SweepError(`cell ${line.index} (${line.id}) is not what this version of neuroplastic plans for these options; plan again into a new directory`);
    return { ...(await computeCell(c, o)) };
  }
  const r = await resolveCell(line.command, line.flags ?? {}, `cell ${line.index}`);
  // The manifest is the contract: this version must resolve the flags to the configuration it holds.
  const kernelsOf = (c: unknown) => (Array.isArray(c) ? c[0] : c as { kernels?: string } | undefined)?.kernels;
  if (kernelsOf(r.config) !== kernelsOf(line.config))
    throw new SweepError(
      `cell ${line.index}: planned for native-fast on ${kernelsOf(line.config) ?? "no native-fast"}, this node runs ${kernelsOf(r.config) ?? "none"} ` +
        "(NEUROPLASTIC_NATIVE_ISA selects the path; the two give different bytes)",
    );
  if (JSON.stringify(r.config) !== JSON.stringify(line.config))
    throw new SweepError(
      `cell ${line.index}: its flags resolve to another configuration here than when planned (another neuroplastic version?); plan again into a new directory`,
    );
  if (r.command === "train") {
    const runs: CellRun[] = [];
    for (const [k, cfg] of r.cfgs.entries()) runs.push(cellRun(r.rules[k], cfg.theta, await train(cfg, workers)));
    return { axes: line.axes, config: line.config, runs };
  }
  const m = await metaTrain(r.meta, workers, null);
  if (m.state.episode > 0 && m.state.skipped === m.state.episode) throw new Error(`every one of the ${m.state.episode} episodes diverged, so no θ was learned`);
  const theta = specOf(r.meta, m.learned);
  const ev = await train({ ...r.meta.run, theta, split: r.evalSplit, tasks: r.evalTasks }, workers);
  return {
    axes: line.axes, config: line.config,
    meta: { learned: theta, final: specOf(r.meta, m.state.theta), episodes: m.state.episode, skipped: m.state.skipped },
    runs: [cellRun(formatThetaSpec(theta), theta, ev)],
  };
}

function cellRun(
  rule: string,
  theta: unknown,
  out: { acc: number; acc_se: number; loss: number; loss_se: number; diverged: number; weight_norm: number; results: TaskResult[] },
): CellRun {
  return {
    rule,
    theta,
    acc: out.acc,
    acc_se: out.acc_se,
    loss: out.loss,
    loss_se: out.loss_se,
    diverged: out.diverged,
    weight_norm: out.weight_norm,
    tasks: out.results.map((t) => ({ task: t.task, acc: t.acc, loss: t.loss, diverged: t.diverged })),
  };
}

export interface SweepStatus {
  total: number;
  done: number[];
  missing: number[];
  /** Cells that failed (an error was recorded) or started and never finished (killed, or running now), with their logs. */
  failed: { index: number; error: string; log: string }[];
}

/** Count the cells of DIR that are done, missing and failed. */
export function sweepStatus(dir: string): SweepStatus {
  const { lines, hash } = readManifest(dir);
  const p = sweepPaths(dir);
  const read = (d: string, i: number) => {
    const f = join(d, `${i}.json`);
    try {
      return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")) : null;
    } catch {
      return null;
    }
  };
  const st: SweepStatus = { total: lines.length, done: [], missing: [], failed: [] };
  for (const l of lines) {
    if (readCell(dir, l, hash)) { st.done.push(l.index); continue; }
    const f = read(p.failed, l.index), r = read(p.running, l.index);
    if (f) st.failed.push({ index: l.index, error: f.error, log: f.log });
    else if (r) st.failed.push({ index: l.index, error: `started on ${r.host} at ${r.started}, no result (killed, or still running)`, log: r.log });
    else st.missing.push(l.index);
  }
  return st;
}

/** Cells not done (missing or failed), in index order. */
export function notDone(st: SweepStatus): number[] {
  return [...st.missing, ...st.failed.map((f) => f.index)].sort((a, b) => a - b);
}

