import { chunks, runJobs } from "./pool.js";
import { cachedDataset, checkConfig, summarize, summarizeCurves, type CurveSummary, type DiagnosticsPlan, type RunConfig, type Summary, type TaskResult } from "./task.js";

export interface TrainOutcome extends Summary {
  results: TaskResult[];
  /** The learning curve (with a curve period): query accuracy and loss ± se over tasks. */
  curve?: CurveSummary[];
  seconds: number;
  steps_per_s: number;
}

/** Online (or mini-batch) learning over cfg.tasks fresh tasks, spread over worker threads. */
export async function train(cfg: RunConfig, workers: number, onProgress?: (done: number) => void, diag?: { plan: DiagnosticsPlan; tasks: number }, opts: { curve?: number } = {}): Promise<TrainOutcome> {
  checkConfig(cfg, cachedDataset(cfg));
  const size = Math.max(1, Math.min(10, Math.ceil(cfg.tasks / (8 * Math.max(1, workers)))));
  let done = 0;
  const t0 = performance.now();
  const parts = await runJobs<TaskResult[]>(chunks(cfg.tasks, size).map((tasks) => ({ kind: "train", cfg, tasks, plan: diag?.plan, planTasks: diag?.tasks, curve: opts.curve })), workers, (r) => {
    done += r.length;
    onProgress?.(done);
  });
  const seconds = (performance.now() - t0) / 1000;
  const results = parts.flat();
  const steps = results.reduce((s, r) => s + r.steps, 0);
  return { ...summarize(results), results, seconds, steps_per_s: steps / seconds, ...(opts.curve ? { curve: summarizeCurves(results) } : {}) };
}
