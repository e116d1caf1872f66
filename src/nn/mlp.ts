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
  /** Where buffers live (and so which kernels run); default: the JS heap with the plain kernels. */
  arena?: Arena;
}

/**
 * A multilayer perceptron whose parameters live in one flat buffer with a view
 * per layer. Layers are numbered as in PAPER.md: Wₗ of shape (nₗ, nₗ₋₁) for
 * l = 1 … L; index 0 of every per-layer array is the input and holds no weights.
 */
export class MLP {
  readonly dims: readonly number[];
  readonly L: number;
  readonly act: Activation;
  readonly activation: ActivationName;
  readonly beta: number;
  readonly bias: boolean;
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
  }

  /** Fresh weights for a new task; biases start at zero. */
  init(name: InitName, gain: number, rng: Rng): this {
    for (let l = 1; l <= this.L; l++) initWeights(this.W[l], this.dims[l], this.dims[l - 1], name, gain, rng);
    for (let l = 1; l <= this.L; l++) this.b[l].fill(0);
    return this;
  }

  /** A same-shaped network with copied parameters, on the JS heap unless an arena is given. */
  clone(arena: Arena = heapArena(this.dtype)): MLP {
    const m = new MLP({ dims: this.dims, activation: this.activation, beta: this.beta, bias: this.bias, arena });
    m.params.set(this.params);
    return m;
  }
}

/**
 * Activity of one forward pass, preallocated once per network so the online
 * loop never allocates. y[0] is the input x; y[L] is the softmax output p.
 */
export class Trace {
  /** zₗ = Wₗ yₗ₋₁ (+ bₗ); z[L] are the logits. */
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

  constructor(net: MLP) {
    const d = net.dims, a = net.arena;
    this.z = d.map((n) => a.alloc(n));
    this.y = d.map((n) => a.alloc(n));
    this.dsig = d.map((n) => a.alloc(n));
    this.e = d.map((n) => a.alloc(n));
    this.u = d.map((_, l) => a.alloc(l === 0 ? 0 : d[l - 1]));
    this.bte = d.map((n) => a.alloc(n));
  }
}

/** Forward pass of PAPER.md: zₗ = Wₗ yₗ₋₁, yₗ = σ(zₗ) (l < L), p = softmax(z_L). Reads x from tr.y[0]. */
export function forward(net: MLP, tr: Trace): void {
  const { L, dims, W, b, act } = net;
  for (let l = 1; l <= L; l++) {
    net.k.matVec(tr.z[l], W[l], tr.y[l - 1], dims[l], dims[l - 1], net.bias ? b[l] : null);
    if (l < L) act.fdf(tr.y[l], tr.dsig[l], tr.z[l], dims[l]);
  }
  softmax(tr.y[L], tr.z[L], dims[L]);
}

/** Pixels (0..255) of example `i` scaled to [0, 1] into x. */
export function loadPixels(x: Buf, images: Uint8Array, i: number, dim: number): void {
  const o = i * dim;
  for (let j = 0; j < dim; j++) x[j] = images[o + j] / 255;
}
