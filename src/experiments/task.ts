import { allFinite, CountingArena, heapArena, type Arena, type DType, type Kernels } from "../core/kernels.js";
import { nativeFastIsa, nativeIsa, nativeMissingReason, sharedWasmArena, WasmArena, wasmAvailable } from "../core/wasm.js";
import { Rng } from "../core/rng.js";
import type { Dataset, Split } from "../data/dataset-core.js";
import { loadPixels } from "../data/pixels.js";
import { checkTaskOptions, sampleTask, type Task } from "../data/tasks.js";
import { evaluate } from "../learn/evaluate.js";
import { optimizerOf } from "../learn/optimizers.js";
import type { PlasticStep } from "../learn/step.js";
import type { ActivationName } from "../nn/activations.js";
import type { InitName } from "../nn/init.js";
import type { Norm } from "../nets/mlp/mlp.js";
import type { PlasticNetwork } from "../learn/network.js";
import { planStep } from "../nets/plan.js";
import { checkNetwork, networkKinds, networkOf, outputsOf } from "../nets/registry.js";
import { makeRule, type ThetaSpec } from "../rules/rule.js";
import type { FeedbackName } from "../signals/feedback.js";
import type { LayerDiagnostics } from "../nets/mlp/probe.js";
import type { RnnDiagnostics } from "../nets/rnn/probe.js";
import { savedTask, type SavedTask } from "./export.js";

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
  /** Kernels: "wasm" (f32x4 SIMD, default), "native" (the same bytes), "native-fast" (opt-in, not wasm's bytes) or "js" (the plain reference). */
  backend: Backend;
  /**
   * With native-fast only: the vector path that ran ("avx512+fma" or "avx2+fma"), since the two sum in
   * different widths and give different bytes. Absent on the exact backends, whose paths all give wasm's.
   */
  kernels?: string;
  /** Normalization of hidden layers (an engineering trick, for baselines): none (default), layer, batch. */
  norm: Norm;
  /**
   * An optimizer's name (src/learn/optimizers.ts): "sgd", the rule as is (default); "adam" passes the
   * pseudo-gradient through Adam with θ_bp as learning rate (a baseline).
   */
  optimizer: string;
  /** Passes over each task's training set (default 1, as published). */
  epochs?: number;
  /** Network kind (src/nets/registry.ts): "mlp" (default, absent) or "rnn", the rate RNN of PAPER.md's recurrent section (hidden = [N]). */
  net?: string;
  // The rnn module's own keys (src/nets/rnn/module.ts); another network's own keys sit in the same flat object.
  /** RNN: D, steps of zero input between the image's last row and the read-out (default 0). */
  delay?: number;
  /** RNN: Xavier gain of the recurrent weights J (default: gain). */
  gainRec?: number;
  /** RNN: leak α ∈ (0, 1] (default 1). */
  leak?: number;
  /** Dale's law: the fraction of excitatory hidden units (absent: no constraint; src/learn/dale.ts). */
  dale?: number;
  /** Accept a label set with gaps (classes with no example); refused by default. */
  sparseLabels?: boolean;
}

/** A configuration that cannot run (a bad value or combination), reported as a usage error. */
export class ConfigError extends RangeError {}



/**
 * Kernels: "wasm" (f32x4 SIMD, everywhere), "native" (Node with the addon: the heavy sweeps in C,
 * the same bytes as wasm), "native-fast" (the same C kernels with FMA and 8- or 16-lane reductions:
 * faster, NOT the same bytes, held to the plain reference within stated tolerances by
 * test/native-fast.test.ts; opt-in only, never chosen by auto), "js" (the plain reference).
 */
export type Backend = "wasm" | "js" | "native" | "native-fast";
export const BACKENDS: readonly Backend[] = ["wasm", "js", "native", "native-fast"];

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
  /** Query accuracy and loss every k examples while the task trains (only with a curve), and at the end. */
  curve?: CurvePoint[];
  /** Per-layer (per-site) diagnostics at the planned steps (only when a DiagnosticsPlan was given); the RNN's own in `rnn`. */
  diagnostics?: DiagnosticsAt[];
  /** The trained arrays and the task's examples (only when asked to keep them: train --save-weights). */
  saved?: SavedTask;
}

/** One point of a learning curve: after `step` examples (online steps, or sequences), the query set's accuracy and loss. */
export interface CurvePoint { step: number; acc: number; loss: number }

/** A learning curve over tasks: mean and standard error per point. */
export interface CurveSummary { step: number; acc: number; acc_se: number; loss: number; loss_se: number }

/** Mean ± standard error over tasks at each point of their curves. */
export function summarizeCurves(rs: readonly TaskResult[]): CurveSummary[] {
  const withC = rs.filter((r) => r.curve);
  if (withC.length === 0) return [];
  const n = withC.length;
  return withC[0].curve!.map((p0, k) => {
    const accs = withC.map((r) => r.curve![k].acc), losses = withC.map((r) => r.curve![k].loss);
    const m = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / n,
      se = (xs: number[], mu: number) => Math.sqrt(xs.reduce((s, x) => s + (x - mu) ** 2, 0) / n / n);
    const acc = m(accs), loss = m(losses);
    return { step: p0.step, acc, acc_se: se(accs, acc), loss, loss_se: se(losses, loss) };
  });
}

/** Diagnostics of one network at one step of training. */
export interface DiagnosticsAt { step: number; layers: LayerDiagnostics[]; rnn?: RnnDiagnostics }

export function dims(cfg: RunConfig, ds: Dataset): number[] {
  return [ds.dim, ...cfg.hidden, outputsOf(cfg, ds)];
}

/** Number of plastic sites (the rule's layers): L for an MLP, 3 (U, J, W) for the RNN. */
export function sitesOf(cfg: RunConfig): number {
  return networkOf(cfg.net).sites(cfg);
}

/** Time steps of one sequence (RNN: image rows + delay), or 1. */
export function seqLen(cfg: RunConfig, ds: Dataset): number {
  return networkOf(cfg.net).seqLen(cfg, ds);
}

/** Validate a configuration against its dataset; throws a one-line error. */
export function checkConfig(cfg: RunConfig, ds: Dataset): void {
  for (const h of cfg.hidden) if (!Number.isInteger(h) || h <= 0) throw new ConfigError(`--hidden widths must be positive integers, got ${h}`);
  if (!(cfg.gain > 0) || !Number.isFinite(cfg.gain)) throw new ConfigError(`--gain must be a positive number, got ${cfg.gain}`);
  if (!Number.isInteger(cfg.batch) || cfg.batch < 1) throw new ConfigError(`--batch must be a positive integer, got ${cfg.batch}`);
  if (!Number.isInteger(cfg.tasks) || cfg.tasks < 1) throw new ConfigError(`--tasks must be a positive integer, got ${cfg.tasks}`);
  if (cfg.norm === "batch" && cfg.batch < 2) throw new ConfigError("--norm batch needs mini-batches (--batch 2 or more)");
  try { optimizerOf(cfg.optimizer); } catch (e) { throw new ConfigError((e as Error).message); }
  // The network's module checks its own keys and refuses other networks' flags; the task options and the rule are
  // checked by their own modules: here their refusals are usage errors.
  let net;
  try {
    net = checkNetwork(cfg, ds);
    checkTaskOptions(ds, cfg);
    makeRule(cfg.theta, net.sites(cfg), { ojaOutput: cfg.ojaOutput });
  } catch (e) { throw new ConfigError((e as Error).message); }
  // A network too large for memory is refused before anything is allocated, with what it would need.
  const params = net.weights(cfg, ds);
  const bytes = 4 * params * 4; // weights, feedback, an accumulator and a transposed copy, at least
  const limit = memoryLimit;
  if (bytes > limit)
    throw new ConfigError(
      `the network has ${params.toExponential(2)} weights and needs at least ${(bytes / 2 ** 30).toFixed(1)} GiB per task; the limit here is ` +
        `${(limit / 2 ** 30).toFixed(1)} GiB (smaller --hidden widths)`,
    );
}

/** The random streams of task t: the same for every rule, worker count and run order (paired comparisons). */
export function taskStreams(seed: number, t: number): { sample: Rng; init: Rng; feedback: Rng } {
  const r = new Rng(seed).child(t);
  return { sample: r.child(0), init: r.child(1), feedback: r.child(2) };
}

let warned = false;
/** Bytes one task's network may take: 2 GiB (a wasm32 arena) unless the host says less (experiments/datasets.ts sets it from Node's totalmem). */
let memoryLimit = 2 ** 31;
export function setMemoryLimit(bytes: number): void { memoryLimit = Math.min(2 ** 31, bytes); }
let countingKernels: Kernels | null = null;
const arenaBytes = new Map<string, number>();

/**
 * Build one task's network and steps (`build`) on the right arena: this
 * thread's WebAssembly arena, reset and sized for exactly what `build`
 * allocates (counted once per `key` on a counting arena), or the JS heap for
 * the plain kernels and float64. `build` must draw its random streams itself,
 * so the counting pass leaves the real one unchanged.
 */
/**
 * What a result file without a config (a CSV row, a log line) carries to name native-fast, its one backend
 * whose bytes are not wasm's: the backend and the path that ran. Nothing on the exact backends, so their
 * files stay as they were (test/native.test.ts holds them equal across wasm and native).
 */
export function fastTag(backend: Backend, kernels?: string): { backend?: "native-fast"; kernels?: string } {
  return backend === "native-fast" ? { backend, kernels: kernels ?? nativeFastIsa() ?? "unknown" } : {};
}

export function onTaskArena<T>(backend: Backend, dtype: DType, key: string, build: (arena: Arena) => T): T {
  if (backend === "js" || dtype === "f64") return build(heapArena(dtype));
  if (backend === "native" && nativeIsa() === null) {
    throw new ConfigError(`--backend native: the native kernels are ${nativeMissingReason()}`);
  }
  if (backend === "native-fast" && nativeFastIsa() === null) {
    const why = nativeIsa() === null ? `the native kernels are ${nativeMissingReason()}` : "this CPU lacks AVX2 + FMA or NEUROPLASTIC_NATIVE_ISA=portable turns it off";
    throw new ConfigError(`--backend native-fast: ${why}`);
  }
  if (!wasmAvailable()) {
    // A runtime without WebAssembly SIMD still runs, on the plain kernels.
    if (!warned) { warned = true; console.warn("neuroplastic: WebAssembly SIMD is not available: using the plain JS kernels"); }
    return build(heapArena(dtype));
  }
  let bytes = arenaBytes.get(key);
  if (bytes === undefined) {
    countingKernels ??= new WasmArena(65536).kernels;
    const c = new CountingArena(countingKernels);
    build(c);
    bytes = c.bytes + 4096;
    arenaBytes.set(key, bytes);
  }
  return build(sharedWasmArena(bytes, backend === "native" || backend === "native-fast" ? backend : false));
}

/** What a configuration allocates depends on its shape, not on its seed, task count or coefficient values (only where they are zero). */
export function shapeKey(cfg: RunConfig, extra: unknown = null): string {
  const mask = Object.fromEntries(Object.entries(cfg.theta).map(([k, v]) => [k, Array.isArray(v) ? v.map((x) => x !== 0) : v !== 0]));
  return JSON.stringify({ ...cfg, theta: mask, seed: 0, tasks: 0, split: "", dataset: "", extra });
}

/** The network of task t, with fresh weights and its error pathway (PAPER.md: every task starts from fresh weights). */
export function buildNetwork(cfg: RunConfig, ds: Dataset, t: number, arena: Arena): PlasticNetwork {
  return networkOf(cfg.net).build(cfg, ds, taskStreams(cfg.seed, t), arena);
}

/** Task t's examples and a fresh network with its planned step. */
export function freshStep(cfg: RunConfig, ds: Dataset, t: number, dtype: DType = "f32"): { step: PlasticStep; task: Task } {
  const task = sampleTask(ds, cfg, taskStreams(cfg.seed, t).sample);
  const step = onTaskArena(cfg.backend, dtype, shapeKey(cfg, dtype), (arena) => {
    const net = buildNetwork(cfg, ds, t, arena);
    return planStep(net, makeRule(cfg.theta, net.S, { ojaOutput: cfg.ojaOutput }), { batch: cfg.batch, optimizer: cfg.optimizer });
  });
  return { step, task };
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
export function runTask(cfg: RunConfig, ds: Dataset, t: number, plan?: DiagnosticsPlan, curveEvery = 0, keep = false): TaskResult {
  const g = taskSteps(cfg, ds, t, plan, curveEvery, keep);
  for (;;) { const r = g.next(); if (r.done) return r.value; }
}

/** Where a task stands between two online steps (taskSteps with `every` > 0). */
export interface TaskProgress {
  /** Examples (or sequences) trained on so far, out of `total`. */
  done: number;
  total: number;
  /** The example just trained on: its index in the dataset, and its label. */
  index: number;
  label: number;
  net: PlasticNetwork;
  /** The task's query examples (dataset indices), on which it is scored. */
  queryIdx: ArrayLike<number>;
  /** The learning curve so far (with curveEvery > 0). */
  curve: readonly CurvePoint[];
}

/**
 * runTask as a generator: the same steps in the same order, pausing after
 * every `every`-th example to yield its progress (0: never), so a caller can
 * watch, pause or abandon a task between two steps. Reading the network
 * while paused never changes training (as the learning curve's reads).
 */
export function* taskSteps(
  cfg: RunConfig,
  ds: Dataset,
  t: number,
  plan?: DiagnosticsPlan,
  curveEvery = 0,
  keep = false,
  every = 0,
): Generator<TaskProgress, TaskResult> {
  const { step, task } = freshStep(cfg, ds, t);
  const net = step.net,
    probeOf = networkOf(net.kind).probe;
  const diagnostics: DiagnosticsAt[] = [];
  const measure = (at: number) => {
    if (!plan || !plan.at.includes(at) || !probeOf) return;
    diagnostics.push({ step: at, ...probeOf(net, ds.images, ds.dim, plan.probeIdx, plan.probeLabels) });
  };
  let diverged = false;
  // The learning curve: query accuracy and loss every `curveEvery` examples (reading weights never changes training).
  const curve: CurvePoint[] = [];
  const point = (at: number) => {
    if (curveEvery > 0) curve.push({ step: at, ...evaluate(net, ds.images, ds.dim, task.queryIdx, task.queryLabels) });
  };
  point(0);
  measure(0);
  const N = task.trainIdx.length,
    epochs = cfg.epochs ?? 1;
  // Passes over the same shuffled training set (PAPER.md: one; more to watch long-run stability).
  train: for (let ep = 0; ep < epochs; ep++) {
    for (let i = 0; i < N; i++) {
      loadPixels(step.x, ds.images, task.trainIdx[i], ds.dim);
      if (!Number.isFinite(step.step(task.trainLabels[i]))) {
        diverged = true;
        break train;
      }
      if (plan && (ep * N + i + 1) % cfg.batch === 0) measure(ep * N + i + 1);
      if (curveEvery > 0 && (ep * N + i + 1) % curveEvery === 0 && ep * N + i + 1 < N * epochs) point(ep * N + i + 1);
      if (every > 0 && (ep * N + i + 1) % every === 0)
        yield { done: ep * N + i + 1, total: N * epochs, index: task.trainIdx[i], label: task.trainLabels[i], net, queryIdx: task.queryIdx, curve };
    }
  }
  step.finish();
  const params = net.params;
  diverged ||= !(net.k.finite?.(params) ?? allFinite(params));
  // A trailing partial mini-batch is applied by finish(): measure the end of training after it.
  const end = N * epochs;
  if (plan && !diverged && !diagnostics.some((d) => d.step === end)) measure(end);
  let sc = diverged ? { acc: 0, loss: 0 } : evaluate(net, ds.images, ds.dim, task.queryIdx, task.queryLabels);
  if (!diverged && !Number.isFinite(sc.loss)) diverged = true;
  if (diverged) sc = { acc: 1 / cfg.way, loss: Math.log(cfg.way) };
  let wn = 0;
  // Σ‖W‖, each sum of squares in order (the backend's loop gives the same double; indexed, not for-of, in plain JS:
  // iterating a typed array costs ~5× more).
  for (let l = 1; l <= net.S; l++) {
    const W = net.sites[l].W;
    let s = net.k.sumSq?.(W);
    if (s === undefined) {
      s = 0;
      for (let i = 0; i < W.length; i++) s += W[i] * W[i];
    }
    wn += Math.sqrt(s);
  }
  const r: TaskResult = { task: t, acc: sc.acc, loss: sc.loss, diverged, steps: end, weightNorm: diverged ? NaN : wn };
  if (plan) r.diagnostics = diagnostics;
  if (keep) r.saved = savedTask(net, task);
  if (curveEvery > 0) {
    // The last point is the task's score; points a diverged task never reached are at chance, as its score is.
    const at = [...Array.from({ length: Math.ceil(end / curveEvery) }, (_, k) => k * curveEvery), end];
    r.curve = at.map(
      (step) =>
        curve.find((c) => c.step === step) ?? (step === end ? { step, acc: sc.acc, loss: sc.loss } : { step, acc: 1 / cfg.way, loss: Math.log(cfg.way) }),
    );
    r.curve = r.curve.map((c) => (Number.isFinite(c.loss) ? c : { step: c.step, acc: 1 / cfg.way, loss: Math.log(cfg.way) }));
  }
  return r;
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
