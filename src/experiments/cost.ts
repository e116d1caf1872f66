import { cachedDataset } from "./datasets.js";
import { optimizerOf } from "../learn/optimizers.js";
import { networkOf } from "../nets/registry.js";
import { seqLen, type RunConfig } from "./task.js";
import type { Job } from "./worker.js";

/**
 * A rough cost model: weight visits (one multiply-add per weight per step,
 * forward, backward and update counted as three) at a typical rate. From the
 * README's benchmark (2-core AMD EPYC): 28,050 bare steps/s of the paper
 * network (176,080 weights) is 1.5e10 visits/s, and 5,768 RNN sequences/s at
 * N = 100, delay 20 (13,800 weights × 48 steps) is 1.1e10. It only decides
 * where a job runs (in process, or on a worker thread so that signals are
 * answered) and whether to warn before a very long run; no result depends on it.
 */
const VISITS_PER_S = { wasm: 1e10, js: 2e9 } as const;

/** Seconds one task of cfg takes, roughly (training and scoring its query set). */
export function taskSeconds(cfg: RunConfig): number {
  const ds = cachedDataset(cfg), weights = networkOf(cfg.net).weights(cfg, ds);
  const T = seqLen(cfg, ds), steps = cfg.way * cfg.shots * (cfg.epochs ?? 1), scored = cfg.way * cfg.query;
  const slow = optimizerOf(cfg.optimizer).cost ?? 1;
  return (weights * T * (3 * steps * slow + scored)) / VISITS_PER_S[cfg.backend === "js" ? "js" : "wasm"];
}

/** Seconds a meta episode's task takes: the forward-mode tangents carry one extra pass per learned coefficient. */
export function episodeSeconds(cfg: RunConfig, coefficients: number): number {
  return taskSeconds(cfg) * (1 + 2 * coefficients);
}

export function jobSeconds(j: Job): number {
  return j.kind === "train" ? j.tasks.length * taskSeconds(j.cfg) * (j.plan ? 2 : 1) : episodeSeconds(j.cfg, j.gradient === false ? 0 : j.layout.length);
}

/** "3.2 hours", "12 minutes", "40 s". */
export function duration(s: number): string {
  if (s >= 86_400 * 2) return `${(s / 86_400).toPrecision(2)} days`;
  if (s >= 7200) return `${(s / 3600).toPrecision(2)} hours`;
  if (s >= 120) return `${Math.round(s / 60)} minutes`;
  return `${Math.round(s)} s`;
}
