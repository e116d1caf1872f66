import type { DType } from "../core/kernels.js";
import type { Dataset } from "../data/dataset-core.js";
import { loadPixels } from "../data/pixels.js";
import { sampleTask } from "../data/tasks.js";
import { planTangentStep } from "../nets/plan.js";
import { makeRule, type ThetaSpec } from "../rules/rule.js";
import type { MetaParam } from "../learn/tangent.js";
import { thetaSpec } from "../meta/theta.js";
import { buildNetwork, onTaskArena, shapeKey, sitesOf, taskStreams, type RunConfig } from "./task.js";

export interface EpisodeResult {
  /** Query cross-entropy after the online loop. */
  loss: number;
  acc: number;
  /** d loss / d θ_k for every meta-parameter (non-finite entries mean the episode diverged). */
  grad: number[];
}

/**
 * One meta-training episode (PAPER.md): sample task t, fresh weights, the
 * online loop with tangents, then the query loss and its exact gradient.
 */
export function runEpisode(
  cfg: RunConfig,
  ds: Dataset,
  t: number,
  layout: readonly MetaParam[],
  theta: ArrayLike<number>,
  fixed: ThetaSpec,
  dtype: DType = "f32",
  opts: { gradient?: boolean } = {},
): EpisodeResult {
  // Without the gradient: the same step (same active terms, same kernel schedule) with no tangent directions.
  const withGrad = opts.gradient ?? true;
  const task = sampleTask(ds, cfg, taskStreams(cfg.seed, t).sample);
  const spec = thetaSpec(layout, theta, fixed, sitesOf(cfg));
  const learned = [...new Set(layout.map((p) => p.term))];
  const tl = onTaskArena(cfg.backend, dtype, shapeKey({ ...cfg, theta: spec }, { dtype, layout, withGrad }), (arena) => {
    const net = buildNetwork(cfg, ds, t, arena);
    const rule = makeRule(spec, net.S, { ojaOutput: cfg.ojaOutput });
    // Oja's term at the output is off with --no-oja-output: never differentiate a coefficient that is held at 0.
    const params = cfg.ojaOutput ? layout : layout.map((p) => (p.term === "oja" ? { ...p, layers: p.layers.filter((l) => l !== net.S) } : p));
    return planTangentStep(net, rule, { always: learned, batch: cfg.batch, optimizer: cfg.optimizer }, withGrad ? params : []);
  });
  const x = tl.primal.x;
  for (let ep = 0; ep < (cfg.epochs ?? 1); ep++) {
    for (let i = 0; i < task.trainIdx.length; i++) {
      loadPixels(x, ds.images, task.trainIdx[i], ds.dim);
      if (!Number.isFinite(tl.step(task.trainLabels[i]))) return { loss: NaN, acc: 1 / cfg.way, grad: layout.map(() => NaN) };
    }
  }
  tl.finish();
  const r = tl.queryGrad(ds.images, ds.dim, task.queryIdx, task.queryLabels);
  return { loss: r.loss, acc: r.acc, grad: withGrad ? Array.from(r.grad) : [] };
}
