import { heapArena, softmax, type Arena, type Buf, type DType, type Kernels } from "../core/kernels.js";
import type { Rng } from "../core/rng.js";
import { makeActivation, type Activation, type ActivationName } from "./activations.js";
import { initWeights, type InitName } from "./init.js";

export interface MLPOptions {
  /** Layer widths n₀ (input) … n_L (output), e.g. [784, 170, 130, 100, 70, 10]. */
  dims: readonly number[];
  activation?: ActivationName;
  /** softplus β (PAPER.md: 10). */
  beta?: number;
  /** Biases are off by default, as in the paper. */
  bias?: boolean;
  dtype?: DType;
  /**
   * "layer": layer normalization of every hidden layer's input to σ,
   * ẑ = (z − mean z) / √(var z + ε) (Ba et al. 2016; no gain or shift) — one of
   * the engineering tricks Oja is compared against. "batch": batch
   * normalization of the same (Ioffe & Szegedy 2015; no gain or shift), with
   * mini-batch statistics while learning and running statistics otherwise;
   * needs mini-batches. Default "none".
   */
  norm?: Norm;
  /** Where buffers live (and so which kernels run); default: the JS heap with the plain kernels. */
  arena?: Arena;
}

/**
 * A multilayer perceptron whose parameters live in one flat buffer with a view
 * per layer. Layers are numbered as in PAPER.md: Wₗ of shape (nₗ, nₗ₋₁) for
 * l = 1 … L; index 0 of every per-layer array is the input and holds no weights.
 */
export type Norm = "none" | "layer" | "batch";
export const NORMS: readonly Norm[] = ["none", "layer", "batch"];
export const LN_EPS = 1e-5;
/** Batch normalization: ε and the momentum of the running statistics (PyTorch's defaults). */
export const BN_EPS = 1e-5, BN_MOMENTUM = 0.1;

export class MLP {
  readonly dims: readonly number[];
  readonly L: number;
  readonly act: Activation;
  readonly activation: ActivationName;
  readonly beta: number;
  readonly bias: boolean;
  readonly norm: Norm;
  readonly dtype: DType;
  readonly arena: Arena;
  /** The kernels for this network's buffers. */
  readonly k: Kernels;
  /** All weights, then all biases. */
  readonly params: Buf;
  /** W[l]: (nₗ, nₗ₋₁) view into params; W[0] is empty. */
  readonly W: Buf[];
  /** b[l]: (nₗ) view into params when bias is on, else empty. */
  readonly b: Buf[];
  /** Batch normalization: running mean and variance of every hidden layer's z (not learned by plasticity). */
  readonly bnMean: Float64Array[];
  readonly bnVar: Float64Array[];
  /**
   * Set while a fast path holds newer weights elsewhere (the Learner's
   * transposed first layer): calling it writes them back. `settle(net)` runs
   * it; forward() does so first, so evaluation never reads stale weights.
   */
  pending: (() => void) | null = null;

  constructor(opts: MLPOptions) {
    const dims = opts.dims;
    if (dims.length < 2) throw new RangeError("an MLP needs at least an input and an output width");
    for (const d of dims) {
      if (!Number.isInteger(d) || d <= 0) throw new RangeError(`layer widths must be positive integers, got ${d}`);
    }
    this.dims = [...dims];
    this.L = dims.length - 1;
    this.activation = opts.activation ?? "softplus";
    this.beta = opts.beta ?? 10;
    this.act = makeActivation(this.activation, this.beta);
    this.bias = opts.bias ?? false;
    this.norm = opts.norm ?? "none";
    if (!NORMS.includes(this.norm)) throw new Error(`unknown normalization '${this.norm}' (expected ${NORMS.join(", ")})`);
    this.arena = opts.arena ?? heapArena(opts.dtype ?? "f32");
    if (opts.dtype !== undefined && opts.dtype !== this.arena.dtype) throw new Error(`dtype ${opts.dtype} does not match the arena's ${this.arena.dtype}`);
    this.dtype = this.arena.dtype;
    this.k = this.arena.kernels;
    let nW = 0, nB = 0;
    for (let l = 1; l <= this.L; l++) { nW += dims[l] * dims[l - 1]; nB += dims[l]; }
    this.params = this.arena.alloc(nW + (this.bias ? nB : 0));
    this.W = [this.params.subarray(0, 0)];
    this.b = [this.params.subarray(0, 0)];
    let o = 0;
    for (let l = 1; l <= this.L; l++) {
      this.W.push(this.params.subarray(o, o + dims[l] * dims[l - 1]));
      o += dims[l] * dims[l - 1];
    }
    for (let l = 1; l <= this.L; l++) {
      if (this.bias) { this.b.push(this.params.subarray(o, o + dims[l])); o += dims[l]; }
      else this.b.push(this.params.subarray(0, 0));
    }
    this.bnMean = dims.map((n) => new Float64Array(this.norm === "batch" ? n : 0));
    this.bnVar = dims.map((n) => new Float64Array(this.norm === "batch" ? n : 0).fill(1));
  }

  /** Fresh weights for a new task; biases start at zero. */
  init(name: InitName, gain: number, rng: Rng): this {
    for (let l = 1; l <= this.L; l++) initWeights(this.W[l], this.dims[l], this.dims[l - 1], name, gain, rng);
    for (let l = 1; l <= this.L; l++) this.b[l].fill(0);
    for (let l = 0; l <= this.L; l++) { this.bnMean[l].fill(0); this.bnVar[l].fill(1); }
    return this;
  }

  /** A same-shaped network with copied parameters, on the JS heap unless an arena is given. */
  clone(arena: Arena = heapArena(this.dtype)): MLP {
    settle(this);
    const m = new MLP({ dims: this.dims, activation: this.activation, beta: this.beta, bias: this.bias, norm: this.norm, arena });
    m.params.set(this.params);
    for (let l = 0; l <= this.L; l++) { m.bnMean[l].set(this.bnMean[l]); m.bnVar[l].set(this.bnVar[l]); }
    return m;
  }
}

/** The part of `buf` (laid out like net.params) that corresponds to the parameter view `v` (a W[l] or b[l]). */
export function paramView<T extends Buf>(net: MLP, buf: T, v: Buf): T {
  const o = v.byteOffset / v.BYTES_PER_ELEMENT - net.params.byteOffset / net.params.BYTES_PER_ELEMENT;
  return buf.subarray(o, o + v.length) as T;
}

/**
 * Activity of one forward pass, preallocated once per network so the online
 * loop never allocates. y[0] is the input x; y[L] is the softmax output p.
 */
export class Trace {
  /** zₗ = Wₗ yₗ₋₁ (+ bₗ); z[L] are the logits. With layer normalization, hidden z[l] holds ẑₗ, the input to σ. */
  readonly z: Buf[];
  /** yₗ = σ(zₗ) for l < L; y[L] = softmax(z_L) = p. */
  readonly y: Buf[];
  /** σ'(zₗ) for 0 < l < L, computed by the forward pass. */
  readonly dsig: Buf[];
  /** Error signals eₗ (e[0] is the error reaching the input). */
  readonly e: Buf[];
  /** uₗ = Wₗᵀ yₗ: the decay part of Oja's rule, from the same (old) Wₗ. */
  readonly u: Buf[];
  /** bte[l−1] = Bₗᵀ eₗ before the σ' factor (forward-mode tangents need it). */
  readonly bte: Buf[];
  /** Layer normalization: √(var zₗ + ε) per hidden layer. */
  readonly lnStd: Float64Array;

  constructor(net: MLP) {
    const d = net.dims, a = net.arena;
    this.z = d.map((n) => a.alloc(n));
    this.y = d.map((n) => a.alloc(n));
    this.dsig = d.map((n) => a.alloc(n));
    this.e = d.map((n) => a.alloc(n));
    this.u = d.map((_, l) => a.alloc(l === 0 ? 0 : d[l - 1]));
    this.bte = d.map((n) => a.alloc(n));
    this.lnStd = new Float64Array(d.length);
  }
}

/** Forward pass of PAPER.md: zₗ = Wₗ yₗ₋₁, yₗ = σ(zₗ) (l < L), p = softmax(z_L). Reads x from tr.y[0]. */
/** Bring net.W up to date if a learner's fast path holds newer weights (see MLP.pending). */
export function settle(net: MLP): void {
  const f = net.pending;
  if (f !== null) { net.pending = null; f(); }
}

export function forward(net: MLP, tr: Trace): void {
  if (net.pending !== null) settle(net);
  const { L, dims, W, b, act } = net;
  for (let l = 1; l <= L; l++) {
    net.k.matVec(tr.z[l], W[l], tr.y[l - 1], dims[l], dims[l - 1], net.bias ? b[l] : null);
    if (l < L) {
      if (net.norm === "layer") tr.lnStd[l] = layerNorm(tr.z[l], dims[l]);
      else if (net.norm === "batch") {
        // One example at a time: the running statistics (evaluation mode).
        const z = tr.z[l], mu = net.bnMean[l], v = net.bnVar[l];
        for (let i = 0; i < dims[l]; i++) z[i] = (z[i] - mu[i]) / Math.sqrt(v[i] + BN_EPS);
      }
      act.fdf(tr.y[l], tr.dsig[l], tr.z[l], dims[l]);
    }
  }
  softmax(tr.y[L], tr.z[L], dims[L]);
}

/** z(n) ← (z − mean z) / √(var z + ε) in place; returns the denominator. */
export function layerNorm(z: Buf, n: number): number {
  let mu = 0;
  for (let i = 0; i < n; i++) mu += z[i];
  mu /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (z[i] - mu) ** 2;
  const s = Math.sqrt(v / n + LN_EPS);
  for (let i = 0; i < n; i++) z[i] = (z[i] - mu) / s;
  return s;
}

/**
 * Backward through layer normalization, in place: g = ∂L/∂ẑ becomes ∂L/∂z =
 * (g − mean g − ẑ · mean(g ⊙ ẑ)) / s.
 */
export function layerNormBackward(g: Buf, zhat: Buf, s: number, n: number): void {
  let mg = 0, mgz = 0;
  for (let i = 0; i < n; i++) { mg += g[i]; mgz += g[i] * zhat[i]; }
  mg /= n; mgz /= n;
  for (let i = 0; i < n; i++) g[i] = (g[i] - mg - zhat[i] * mgz) / s;
}

/** v / 255 for every byte v: the same doubles as the division, without 784 divisions per example. */
const PIXEL = Float64Array.from({ length: 256 }, (_, v) => v / 255);

/** Pixels (0..255) of example `i` scaled to [0, 1] into x. */
export function loadPixels(x: Buf, images: Uint8Array, i: number, dim: number): void {
  const o = i * dim;
  for (let j = 0; j < dim; j++) x[j] = PIXEL[images[o + j]];
}
