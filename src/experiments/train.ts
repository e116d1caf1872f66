import { runJobs } from "./pool.js";
import { checkConfig, summarize, summarizeCurves, type CurveSummary, type DiagnosticsPlan, type RunConfig, type Summary, type TaskResult } from "./task.js";
import { cachedDataset } from "./datasets.js";
import type { SavedTask } from "./export.js";

export interface TrainOutcome extends Summary {
  results: TaskResult[];
  /** The learning curve (with a curve period): query accuracy and loss ± se over tasks. */
  curve?: CurveSummary[];
  seconds: number;
  steps_per_s: number;
}

/** Online (or mini-batch) learning over cfg.tasks fresh tasks, spread over worker threads. */
export interface TrainOptions {
  /** Learning curves: measure the query set every this many steps. */
  curve?: number;
  /** Results of tasks already done (a resumed run): they are not run again. */
  done?: readonly TaskResult[];
  /** Called with each task's result in task order, as soon as every earlier task has one (streaming to a file). */
  onResult?: (r: TaskResult) => void;
  /** Keep the trained arrays of the first `save` tasks: each goes to onSaved (before onResult of the same task), never into the results. */
  save?: number;
  onSaved?: (r: TaskResult, saved: SavedTask) => void;
}

export async function train(
  cfg: RunConfig,
  workers: number,
  onProgress?: (done: number) => void,
  diag?: { plan: DiagnosticsPlan; tasks: number },
  opts: TrainOptions = {},
): Promise<TrainOutcome> {
  checkConfig(cfg, cachedDataset(cfg));
  const have = new Map((opts.done ?? []).map((r) => [r.task, r])),
    old = new Set(have.keys());
  const todo = Array.from({ length: cfg.tasks }, (_, t) => t).filter((t) => !have.has(t));
  const size = Math.max(1, Math.min(10, Math.ceil(todo.length / (8 * Math.max(1, workers)))));
  let done = have.size,
    next = 0;
  // Results reach onResult in task order: completions that arrive early wait for the ones before them.
  const flush = () => {
    while (next < cfg.tasks && have.has(next)) {
      const r = have.get(next)!;
      if (r.saved) {
        const saved = r.saved;
        delete r.saved;
        opts.onSaved?.(r, saved);
      }
      if (!old.has(next)) opts.onResult?.(r);
      next++;
    }
  };
  flush();
  const t0 = performance.now();
  const parts: number[][] = [];
  for (let i = 0; i < todo.length; i += size) parts.push(todo.slice(i, i + size));
  await runJobs<TaskResult[]>(
    parts.map((tasks) => ({ kind: "train", cfg, tasks, plan: diag?.plan, planTasks: diag?.tasks, curve: opts.curve, save: opts.save })),
    workers,
    (r) => {
      for (const x of r) have.set(x.task, x);
      done += r.length;
      onProgress?.(done);
      flush();
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  const results = Array.from({ length: cfg.tasks }, (_, t) => have.get(t)!);
  const steps = results.filter((r) => !old.has(r.task)).reduce((s, r) => s + r.steps, 0);
  return { ...summarize(results), results, seconds, steps_per_s: steps / seconds, ...(opts.curve ? { curve: summarizeCurves(results) } : {}) };
}
