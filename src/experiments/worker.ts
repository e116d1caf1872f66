/**
 * Worker-thread entry: runs one job. Jobs are plain data; each thread reads
 * its datasets once.
 */
import "../core/native.js"; // the native kernels, where built (registers them for --backend native)
import type { ThetaSpec } from "../rules/rule.js";
import { registerTermsModule, TERM_MODULES } from "../rules/registry.js";
import { registerExpressionTerms } from "../rules/expr/compile.js";
import { runEpisode, type EpisodeResult } from "./episode.js";
import type { MetaParam } from "../learn/tangent.js";
import { runTask, type DiagnosticsPlan, type RunConfig, type TaskResult } from "./task.js";
import { cachedDataset } from "./datasets.js";

/** Online learning on a chunk of tasks. */
export interface TrainJob {
  kind: "train";
  cfg: RunConfig;
  tasks: number[];
  plan?: DiagnosticsPlan;
  planTasks?: number;
  curve?: number;
  /** Keep the trained arrays of tasks t < save. */ save?: number;
}
/** One meta-training episode: the query loss and its exact gradient in θ (or the loss alone, `gradient` false). */
export interface EpisodeJob { kind: "episode"; cfg: RunConfig; task: number; layout: MetaParam[]; theta: number[]; fixed: ThetaSpec; gradient?: boolean }
export type Job = (TrainJob | EpisodeJob) & {
  /** Modules of registered rule terms this thread must know (registerTermsModule). */ termModules?: string[];
  /** Expression terms (`name = formula`) this thread must know (registerExpressionTerm). */ expressionTerms?: string[];
};

export default async function run(job: Job): Promise<TaskResult[] | EpisodeResult> {
  for (const url of job.termModules ?? []) if (!TERM_MODULES.includes(url)) await registerTermsModule(url);
  if (job.expressionTerms !== undefined) registerExpressionTerms(job.expressionTerms);
  const ds = cachedDataset(job.cfg);
  switch (job.kind) {
    // The plan applies to the first planTasks tasks (diagnostics are costly; a few tasks suffice for means).
    case "train":
      return job.tasks.map((t) =>
        runTask(job.cfg, ds, t, job.plan && t < (job.planTasks ?? Infinity) ? job.plan : undefined, job.curve ?? 0, t < (job.save ?? 0)),
      );
    case "episode":
      return runEpisode(job.cfg, ds, job.task, job.layout, job.theta, job.fixed, "f32", { gradient: job.gradient ?? true });
  }
}
