import { allFinite, heapArena, type Arena, type DType } from "../core/kernels.js";
import { sharedWasmArena, wasmAvailable } from "../core/wasm.js";

let warned = false;
import { Rng } from "../core/rng.js";
import { loadDataset, type Dataset, type Split } from "../data/dataset.js";
import { checkTaskOptions, sampleTask, type Task } from "../data/tasks.js";
import { evaluate, Learner } from "../learn/learner.js";
import type { ActivationName } from "../nn/activations.js";
import type { InitName } from "../nn/init.js";
import { loadPixels, MLP, type Norm } from "../nn/mlp.js";
import { makeRule, type ThetaSpec } from "../rules/rule.js";
import { makeFeedback, type FeedbackName } from "../signals/feedback.js";
import { probe, type LayerDiagnostics } from "../diagnostics/probe.js";

/** Everything that defines a run of online (or mini-batch) learning over many tasks. Plain data: it crosses to worker threads. */
export interface RunConfig {
  dataset: string;
  split: Split;
  transpose: boolean;
  hidden: number[];
  activation: ActivationName;
  beta: number;
  bias: boolean;
  init: InitName;
  gain: number;
  theta: ThetaSpec;
  ojaOutput: boolean;
  feedback: FeedbackName;
  batch: number;
  way: number;
  shots: number;
  query: number;
  /** Output layer of N units and labels remapped to 0 … N−1 (default: the whole label set, as published). */
  remap: boolean;
  tasks: number;
  seed: number;
  /** Kernels: "wasm" (f32x4 SIMD, default) or "js" (the plain reference). */
  backend: Backend;
  /** Normalization of hidden layers (an engineering trick, for baselines): none (default), layer, batch. */
  norm: Norm;
  /** "adam" passes the pseudo-gradient through Adam with θ_bp as learning rate (a baseline); default "sgd". */
  optimizer: Optimizer;
  /** Passes over each task's training set (default 1, as published). */
  epochs?: number;
}

export type Optimizer = "sgd" | "adam";
export const OPTIMIZERS: readonly Optimizer[] = ["sgd", "adam"];

export type Backend = "wasm" | "js";
export const BACKENDS: readonly Backend[] = ["wasm", "js"];

export const DEFAULT_CONFIG: RunConfig = {
  dataset: "mnist", split: "test", transpose: false,
  hidden: [170, 130, 100, 70], activation: "softplus", beta: 10, bias: false,
  init: "xavier", gain: 1,
  theta: { bp: 0.0068, oja: 0.0053 }, ojaOutput: true,
  feedback: "sym", batch: 1,
  way: 5, shots: 50, query: 10, remap: false,
  tasks: 200, seed: 1, backend: "wasm", norm: "none", optimizer: "sgd",
};

export interface TaskResult {
  task: number;
  acc: number;
  loss: number;
  /** Weights became NaN or ±Inf: scored at chance (acc 1/N, loss ln N), never averaged in as a number. */
  diverged: boolean;
  steps: number;
  /** Σₗ ‖Wₗ‖_F after training (NaN when diverged). */
  weightNorm: number;
  /** Per-layer diagnostics at the planned steps (only when a DiagnosticsPlan was given). */
  diagnostics?: { step: number; layers: LayerDiagnostics[] }[];
}

export function dims(cfg: RunConfig, ds: Dataset): number[] {
  return [ds.dim, ...cfg.hidden, cfg.remap ? cfg.way : ds.nClasses];
}

/** Validate a configuration against its dataset; throws a one-line error. */
export function checkConfig(cfg: RunConfig, ds: Dataset): void {
  for (const h of cfg.hidden) if (!Number.isInteger(h) || h <= 0) throw new RangeError(`--hidden widths must be positive integers, got ${h}`);
  if (!(cfg.gain > 0) || !Number.isFinite(cfg.gain)) throw new RangeError(`--gain must be a positive number, got ${cfg.gain}`);
  if (!Number.isInteger(cfg.batch) || cfg.batch < 1) throw new RangeError(`--batch must be a positive integer, got ${cfg.batch}`);
  if (!Number.isInteger(cfg.tasks) || cfg.tasks < 1) throw new RangeError(`--tasks must be a positive integer, got ${cfg.tasks}`);
  if (cfg.norm === "batch" && cfg.batch < 2) throw new RangeError("--norm batch needs mini-batches (--batch 2 or more)");
  checkTaskOptions(ds, cfg);
  makeRule(cfg.theta, cfg.hidden.length + 1, { ojaOutput: cfg.ojaOutput });
}

/** The random streams of task t: the same for every rule, worker count and run order (paired comparisons). */
export function taskStreams(seed: number, t: number): { sample: Rng; init: Rng; feedback: Rng } {
  const r = new Rng(seed).child(t);
  return { sample: r.child(0), init: r.child(1), feedback: r.child(2) };
}

/**
 * The arena for one task's buffers: this thread's WebAssembly arena, reset and
 * sized for the network with `tangents` meta-gradient directions, or the JS heap.
 */
export function taskArena(backend: Backend, d: readonly number[], opts: { tangents?: number; batch?: number; dtype?: DType; norm?: Norm } = {}): Arena {
  const dtype = opts.dtype ?? "f32";
  if (backend === "js" || dtype === "f64") return heapArena(dtype);
  if (!wasmAvailable()) {
    // A runtime without WebAssembly SIMD still runs, on the plain kernels.
    if (!warned) { warned = true; process.emitWarning("WebAssembly SIMD is not available: using the plain JS kernels"); }
    return heapArena(dtype);
  }
  const P = opts.tangents ?? 0;
  let params = 0, units = 0;
  for (let l = 1; l < d.length; l++) params += d[l] * d[l - 1] + d[l];
  for (const n of d) units += n;
  // Weights, feedback B, mini-batch and Adam accumulators, P tangents; ~12 vectors per unit for traces and scratch
  // per direction, and one trace per example of a batch-normalized mini-batch.
  const batch = opts.batch ?? 1;
  // The fast path's transposed first layer (src/learn/input-layer.ts): one copy per tangent too, rows padded to 4.
  const inputT = d.length > 2 ? (1 + P) * (d[0] * ((d[1] + 3) & ~3) + 4 * d[1]) + 2 * d[0] : 0;
  const floats = params * (4 + P) + inputT + units * 12 * (1 + P) + 8 * Math.max(...d) * (1 + P) + (opts.norm === "batch" ? units * 8 * batch : 0);
  return sharedWasmArena(4 * floats + 16 * 64 * (4 + P) + 65536);
}

/** Fresh network and learner for task t (PAPER.md: every task starts from fresh weights). */
export function freshLearner(cfg: RunConfig, ds: Dataset, t: number): { learner: Learner; task: Task } {
  const s = taskStreams(cfg.seed, t);
  const task = sampleTask(ds, cfg, s.sample);
  const d = dims(cfg, ds);
  const net = new MLP({ dims: d, activation: cfg.activation, beta: cfg.beta, bias: cfg.bias, norm: cfg.norm, arena: taskArena(cfg.backend, d, { batch: cfg.batch, norm: cfg.norm }) }).init(cfg.init, cfg.gain, s.init);
  const fb = makeFeedback(cfg.feedback, net, cfg.init, cfg.gain, s.feedback);
  const rule = makeRule(cfg.theta, net.L, { ojaOutput: cfg.ojaOutput });
  return { learner: new Learner(net, fb, rule, { batch: cfg.batch, optimizer: cfg.optimizer }), task };
}

/** Where and on what to measure diagnostics while a task trains. */
export interface DiagnosticsPlan {
  /** Steps after which to measure (0 = before training). */
  at: number[];
  probeIdx: number[];
  probeLabels: number[];
}

/**
 * Train on task t (one pass over its shuffled training set), then score on
 * its query set; with a plan, also measure the layers on the probe set.
 */
export function runTask(cfg: RunConfig, ds: Dataset, t: number, plan?: DiagnosticsPlan): TaskResult {
  const { learner, task } = freshLearner(cfg, ds, t);
  const net = learner.net;
  const diagnostics: { step: number; layers: LayerDiagnostics[] }[] = [];
  const measure = (step: number) => {
    if (plan && plan.at.includes(step)) diagnostics.push({ step, layers: probe(net, learner.fb, ds.images, ds.dim, plan.probeIdx, plan.probeLabels) });
  };
  let diverged = false;
  measure(0);
  const N = task.trainIdx.length, epochs = cfg.epochs ?? 1;
  // Passes over the same shuffled training set (PAPER.md: one; more to watch long-run stability).
  train: for (let ep = 0; ep < epochs; ep++) {
    for (let i = 0; i < N; i++) {
      loadPixels(learner.x, ds.images, task.trainIdx[i], ds.dim);
      if (!Number.isFinite(learner.step(task.trainLabels[i]))) { diverged = true; break train; }
      if (plan && (ep * N + i + 1) % cfg.batch === 0) measure(ep * N + i + 1);
    }
  }
  learner.flush();
  diverged ||= !allFinite(net.params);
  // A trailing partial mini-batch is applied by flush(): measure the end of training after it.
  const end = N * epochs;
  if (plan && !diverged && !diagnostics.some((d) => d.step === end)) measure(end);
  let sc = diverged ? { acc: 0, loss: 0 } : evaluate(net, learner.tr, ds.images, ds.dim, task.queryIdx, task.queryLabels);
  if (!diverged && !Number.isFinite(sc.loss)) diverged = true;
  if (diverged) sc = { acc: 1 / cfg.way, loss: Math.log(cfg.way) };
  let wn = 0;
  for (let l = 1; l <= net.L; l++) { let s = 0; for (const w of net.W[l]) s += w * w; wn += Math.sqrt(s); }
  const r: TaskResult = { task: t, acc: sc.acc, loss: sc.loss, diverged, steps: end, weightNorm: diverged ? NaN : wn };
  if (plan) r.diagnostics = diagnostics;
  return r;
}

const cache = new Map<string, Dataset>();
/** Datasets are read once per thread. */
export function cachedDataset(cfg: Pick<RunConfig, "dataset" | "split" | "transpose">): Dataset {
  const key = `${cfg.dataset}\0${cfg.split}\0${cfg.transpose}`;
  let ds = cache.get(key);
  if (ds === undefined) { ds = loadDataset(cfg.dataset, cfg.split, { transpose: cfg.transpose }); cache.set(key, ds); }
  return ds;
}

export interface Summary {
  acc: number;
  /** Standard error of the mean accuracy over tasks. */
  acc_se: number;
  loss: number;
  loss_se: number;
  tasks: number;
  diverged: number;
  weight_norm: number;
}

export function summarize(rs: readonly TaskResult[]): Summary {
  const n = rs.length;
  const mean = (f: (r: TaskResult) => number) => rs.reduce((s, r) => s + f(r), 0) / n;
  const se = (f: (r: TaskResult) => number, m: number) => Math.sqrt(rs.reduce((s, r) => s + (f(r) - m) ** 2, 0) / n / n);
  const acc = mean((r) => r.acc), loss = mean((r) => r.loss);
  const ok = rs.filter((r) => !r.diverged);
  return {
    acc, acc_se: se((r) => r.acc, acc), loss, loss_se: se((r) => r.loss, loss), tasks: n,
    diverged: n - ok.length,
    weight_norm: ok.length ? ok.reduce((s, r) => s + r.weightNorm, 0) / ok.length : NaN,
  };
}
