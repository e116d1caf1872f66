/**
 * How long a task will take, before it runs: the weights a step touches
 * (times the sequence's time steps for the RNN) over a throughput measured
 * with `neuroplastic train --workers 1` on the 2-core AMD EPYC development
 * machine: about 7e9 weight·steps/s while the weights fit in cache (the
 * paper's network: 176k weights, 42,000 steps/s), about 6.5e8 beyond a few
 * million (784-4096-4096-4096-10: 36.8M weights, 16 steps/s). Once a run has
 * measured its own rate, that is used instead.
 */
import { networkOf, type Dataset, type RunConfig } from "neuroplastic";

const IN_CACHE = 7e9, BEYOND = 6.5e8, CACHE_WEIGHTS = 2e6;

export function estimate(cfg: RunConfig, ds: Dataset, measuredStepsPerSec: number): { seconds: number; basis: string } {
  const steps = cfg.way * cfg.shots * (cfg.epochs ?? 1);
  if (measuredStepsPerSec > 0) return { seconds: steps / measuredStepsPerSec, basis: "from this run's measured rate" };
  // The network's module knows its weights and its time steps per example (an RNN: one per image row, then the delay).
  const net = networkOf(cfg.net), weights = net.weights(cfg, ds), T = net.seqLen(cfg, ds);
  const perStep = T * (weights / IN_CACHE + Math.max(0, weights - CACHE_WEIGHTS) / BEYOND);
  return { seconds: steps * perStep, basis: "estimated from its size" };
}
