import type { DType } from "../core/kernels.js";
import type { Dataset } from "../data/dataset.js";
import { sampleTask } from "../data/tasks.js";
import { Learner } from "../learn/learner.js";
import { loadPixels, MLP } from "../nn/mlp.js";
import type { TermName } from "../rules/registry.js";
import { makeRule, type ThetaSpec } from "../rules/rule.js";
import { makeFeedback } from "../signals/feedback.js";
import { dims, taskArena, taskStreams, type RunConfig } from "../experiments/task.js";
import { TangentLearner, type MetaParam } from "./tangent.js";

/**
 * θ as a flat vector of meta-parameters plus the fixed coefficients of terms
 * that are not learned. θ is always passed in, never closed over.
 */
export function thetaSpec(layout: readonly MetaParam[], theta: ArrayLike<number>, fixed: ThetaSpec, L: number): ThetaSpec {
  const spec: ThetaSpec = {};
  for (const [k, v] of Object.entries(fixed)) spec[k as TermName] = Array.isArray(v) ? [...v] : v;
  const perLayer = new Map<TermName, number[]>();
  layout.forEach((p, i) => {
    let arr = perLayer.get(p.term);
    if (arr === undefined) {
      const f = fixed[p.term];
      arr = Array.from({ length: L }, (_, l) => (f === undefined ? 0 : Array.isArray(f) ? f[l] : f));
      perLayer.set(p.term, arr);
    }
    for (const l of p.layers) arr[l - 1] = theta[i];
  });
  for (const [term, arr] of perLayer) spec[term] = arr.every((x) => x === arr[0]) && layout.filter((p) => p.term === term).length === 1 ? arr[0] : arr;
  return spec;
}

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
export function runEpisode(cfg: RunConfig, ds: Dataset, t: number, layout: readonly MetaParam[], theta: ArrayLike<number>, fixed: ThetaSpec, dtype: DType = "f32"): EpisodeResult {
  const s = taskStreams(cfg.seed, t);
  const task = sampleTask(ds, cfg, s.sample);
  const d = dims(cfg, ds);
  const arena = taskArena(cfg.backend, d, { tangents: layout.length, dtype });
  const net = new MLP({ dims: d, activation: cfg.activation, beta: cfg.beta, bias: cfg.bias, norm: cfg.norm, arena }).init(cfg.init, cfg.gain, s.init);
  const fb = makeFeedback(cfg.feedback, net, cfg.init, cfg.gain, s.feedback);
  const rule = makeRule(thetaSpec(layout, theta, fixed, net.L), net.L, { ojaOutput: cfg.ojaOutput });
  const learned = [...new Set(layout.map((p) => p.term))];
  // Oja's term at the output is off with --no-oja-output: never differentiate a coefficient that is held at 0.
  const params = cfg.ojaOutput ? layout : layout.map((p) => (p.term === "oja" ? { ...p, layers: p.layers.filter((l) => l !== net.L) } : p));
  const tl = new TangentLearner(new Learner(net, fb, rule, { always: learned, batch: cfg.batch, optimizer: cfg.optimizer }), params);
  for (let ep = 0; ep < (cfg.epochs ?? 1); ep++) {
    for (let i = 0; i < task.trainIdx.length; i++) {
      loadPixels(tl.learner.x, ds.images, task.trainIdx[i], ds.dim);
      if (!Number.isFinite(tl.step(task.trainLabels[i]))) return { loss: NaN, acc: 1 / cfg.way, grad: layout.map(() => NaN) };
    }
  }
  tl.flush();
  const r = tl.queryGrad(ds.images, ds.dim, task.queryIdx, task.queryLabels);
  return { loss: r.loss, acc: r.acc, grad: Array.from(r.grad) };
}
