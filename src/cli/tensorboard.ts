import { existsSync, mkdirSync, readdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EVENTS_FILE, runName, TensorBoardLog, type ScalarEvent } from "../report/tensorboard.js";
import { fastTag, type Backend, type CurveSummary, type TaskResult } from "../experiments/task.js";
import type { MetaLogLine } from "../experiments/meta-train.js";
import type { CellResult } from "../reproduce/types.js";
import { UsageError } from "./common.js";
import { describeFsError } from "./fs-errors.js";

/**
 * --tensorboard DIR of train, meta and reproduce: scalars named after the
 * CLI's own fields, written as the run goes (`tensorboard --logdir DIR`).
 * Checked before any work: DIR must be writable, and an earlier run's events
 * are kept only with --resume (continued without duplicates) or replaced
 * with --force.
 */
export function checkTensorBoardDir(dir: string, resume: boolean, force: boolean): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--tensorboard ${dir} is a file; give a directory`);
  if (!resume && !force && hasEvents(dir))
    throw new UsageError(`--tensorboard ${dir} holds an earlier run's events; resume it with --resume, or overwrite it with --force`);
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.${process.pid}.probe`);
    writeFileSync(probe, "");
    unlinkSync(probe);
  } catch (e) { throw new UsageError(`cannot write --tensorboard ${dir}: ${describeFsError(e)}`); }
}

function hasEvents(dir: string, depth = 1): boolean {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
  return readdirSync(dir).some((f) => f === EVENTS_FILE || (depth > 0 && hasEvents(join(dir, f), depth - 1)));
}

/** Run directories under DIR, one per name (a repeated name gets _2, _3, …). */
export function runDirs(dir: string, names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const base = runName(n), k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    return join(dir, k === 1 ? base : `${base}_${k}`);
  });
}

/**
 * With native-fast (its bytes are not wasm's), a log names it: one scalar at step 0 whose tag is the backend
 * and its path (`backend/native-fast (avx512+fma)` = 1). Nothing on the exact backends. Resumed logs drop the
 * earlier one (their keep filters take no `backend/` event) before this writes it again.
 */
export function nameBackend(log: TensorBoardLog, cfg: { backend: Backend; kernels?: string }): TensorBoardLog {
  const t = fastTag(cfg.backend, cfg.kernels);
  if (t.backend) log.scalars(0, { [`backend/${t.backend} (${t.kernels})`]: 1 });
  return log;
}
const notBackend = (e: ScalarEvent) => e.scalars.every(([t]) => !t.startsWith("backend/"));

/** One task of `train` (step = the task's index): its tasks.jsonl fields. */
export function taskScalars(r: TaskResult): Record<string, number> {
  return { "task/acc": r.acc, "task/loss": r.loss, "task/diverged": r.diverged ? 1 : 0, "task/weightNorm": r.weightNorm };
}

/** A train run's log: a resumed one keeps the events of tasks already in its stream and re-emits any it lacks. */
export function trainLog(dir: string, done: readonly TaskResult[] | undefined): TensorBoardLog {
  const doneTasks = new Set((done ?? []).map((r) => r.task));
  const have = new Set<number>();
  const keep = (e: ScalarEvent) => {
    const ok = e.scalars.every(([t]) => t.startsWith("task/")) && doneTasks.has(e.step) && !have.has(e.step);
    if (ok) have.add(e.step);
    return ok;
  };
  const log = new TensorBoardLog(dir, done ? { keep } : {});
  for (const r of done ?? []) if (!have.has(r.task)) log.scalars(r.task, taskScalars(r));
  return log;
}

/** The learning curve (mean ± se over tasks at each step k), written when the rule's tasks are done. */
export function writeCurve(log: TensorBoardLog, curve: readonly CurveSummary[]): void {
  for (const p of curve) log.scalars(p.step, { "curve/acc": p.acc, "curve/acc_se": p.acc_se, "curve/loss": p.loss, "curve/loss_se": p.loss_se });
}

/** One episode of `meta` (step = meta.jsonl's `episode`): loss, acc, each learned coefficient, the gradient's norm and entries, skipped. */
export function metaScalars(l: MetaLogLine, names: readonly string[], theta: readonly number[]): Record<string, number> {
  const s: Record<string, number> = { loss: l.loss, acc: l.acc };
  names.forEach((n, k) => { s[`theta/${n}`] = theta[k]; });
  s.grad_norm = Math.sqrt(l.grad.reduce((a, g) => a + g * g, 0));
  names.forEach((n, k) => { s[`grad/${n}`] = l.grad[k]; });
  s.skipped = l.skipped ? 1 : 0;
  return s;
}

/**
 * A meta run's log. Resumed from a checkpoint at episode `from`, it keeps the
 * events of episodes before it (the lines meta.jsonl keeps) and re-emits any
 * of those it lacks from `earlier`; episodes from `from` on are run again.
 */
export function metaLog(dir: string, from: number, earlier: readonly MetaLogLine[], scalars: (l: MetaLogLine) => Record<string, number>): TensorBoardLog {
  const have = new Set<number>();
  const keep = (e: ScalarEvent) => { const ok = notBackend(e) && e.step < from && !have.has(e.step); if (ok) have.add(e.step); return ok; };
  const log = new TensorBoardLog(dir, from > 0 ? { keep } : {});
  for (const l of earlier) if (l.episode < from && !have.has(l.episode)) log.scalars(l.episode, scalars(l));
  return log;
}

/**
 * `reproduce`: one run per rule (bp, bp+oja, pool), one event per cell, tags
 * `<scenario>/<results.csv field>`, step = the cell's position along its
 * scenario's axis (0, 1, … in the order of summary.md's tables). Every
 * invocation writes the log anew, cached cells first, so a rerun never
 * duplicates a cell.
 */
export class ReproduceLogs {
  private logs = new Map<string, TensorBoardLog>();
  private xs = new Map<string, string[]>();
  constructor(private dir: string, private backend: { backend: Backend; kernels?: string } = { backend: "wasm" }) {}
  cell(c: CellResult): void {
    const xs = this.xs.get(c.scenario) ?? [];
    if (!xs.includes(c.x)) xs.push(c.x);
    this.xs.set(c.scenario, xs);
    let log = this.logs.get(c.rule);
    if (!log) { log = nameBackend(new TensorBoardLog(join(this.dir, runName(c.rule))), this.backend); this.logs.set(c.rule, log); }
    const s = c.scenario;
    log.scalars(xs.indexOf(c.x), {
      [`${s}/acc`]: c.acc,
      [`${s}/acc_ci95`]: c.acc_ci95,
      [`${s}/loss`]: c.loss,
      [`${s}/loss_median`]: c.loss_median,
      [`${s}/diverged`]: c.diverged,
      [`${s}/exploded`]: c.exploded,
      [`${s}/weight_norm`]: c.weight_norm,
    });
  }
}
