import { ACT_CODE, heapArena, softmax, type Arena, type Buf, type DType, type Kernels } from "../../core/kernels.js";
import type { Rng } from "../../core/rng.js";
import { makeActivation, type Activation, type ActivationName } from "../../nn/activations.js";
import { initWeights, type InitName } from "../../nn/init.js";
import { logitSum, outputError } from "../../nn/loss.js";
import type { LayerSignals } from "../../rules/types.js";
import { isSign, refreshSign, type Feedback } from "../../signals/feedback.js";
import type { ScorerOptions, SignalNeeds, Site, TangentNetwork } from "../../learn/network.js";
import { MlpTangentPass } from "./tangent.js";
import type { InputLayer } from "./input-layer.js";
import { foldInit, unitSigns, type DaleSigns } from "../../learn/dale.js";

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
   * needs mini-batches (src/nets/mlp/batchnorm.ts). Default "none".
   */
  norm?: Norm;
  /** Where buffers live (and so which kernels run); default: the JS heap with the plain kernels. */
  arena?: Arena;
}

export type Norm = "none" | "layer" | "batch";
export const NORMS: readonly Norm[] = ["none", "layer", "batch"];
export const LN_EPS = 1e-5;
/** Batch normalization: ε and the momentum of the running statistics (PyTorch's defaults). */
export const BN_EPS = 1e-5, BN_MOMENTUM = 0.1;

/** Views of the parameters as stored (see MLP.raw). */
export interface MLPViews {
  readonly params: Buf;
  /** W[l]: (nₗ, nₗ₋₁); W[0] is empty. */
  readonly W: Buf[];
  /** b[l]: (nₗ) when bias is on, else empty. */
  readonly b: Buf[];
}

/**
 * A multilayer perceptron (PAPER.md "The algorithm") as a plastic network:
 * parameters in one flat buffer with a view per layer, layers numbered as in
 * the paper (Wₗ of shape (nₗ, nₗ₋₁), l = 1 … L; index 0 of every per-layer
 * array is the input and holds no weights), one site per layer.
 */
export class MLP implements TangentNetwork {
  readonly kind: string = "mlp";
  readonly dims: readonly number[];
  readonly L: number;
  readonly S: number;
  readonly act: Activation;
  readonly activation: ActivationName;
  readonly beta: number;
  readonly bias: boolean;
  readonly norm: Norm;
  readonly dtype: DType;
  readonly arena: Arena;
  readonly k: Kernels;
  readonly nOut: number;
  /**
   * The parameter views as stored, for kernels and steps. A fast step may hold
   * layer 1 transposed while a task trains (src/nets/mlp/input-layer.ts), and
   * raw.W[1] is then stale; everything outside a step reads `params`, `W` and
   * `b`, which write it back first, so a stale read cannot happen.
   */
  readonly raw: MLPViews;
  /** Batch normalization: running mean and variance of every hidden layer's z (not learned by plasticity). */
  readonly bnMean: Float64Array[];
  readonly bnVar: Float64Array[];
  /** The activity of the last pass; sites' signals are views into it. */
  readonly tr: Trace;
  readonly sites: readonly Site[];
  feedback: Feedback;
  /** Dale's law: column signs of W₂ … W_L (hidden layer l − 1's units), W₁ unconstrained (its inputs are pixels); null: off. */
  dale: DaleSigns | null = null;
  /** Set while a fast step holds newer weights of layer 1 elsewhere: calling it writes them back. */
  private holder: InputLayer | null = null;

  constructor(opts: MLPOptions) {
    const dims = opts.dims;
    if (dims.length < 2) throw new RangeError("an MLP needs at least an input and an output width");
    for (const d of dims) {
      if (!Number.isInteger(d) || d <= 0) throw new RangeError(`layer widths must be positive integers, got ${d}`);
    }
    this.dims = [...dims];
    this.L = this.S = dims.length - 1;
    this.nOut = dims[this.L];
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
    const params = this.arena.alloc(nW + (this.bias ? nB : 0));
    const W = [params.subarray(0, 0)], b = [params.subarray(0, 0)];
    let o = 0;
    for (let l = 1; l <= this.L; l++) {
      W.push(params.subarray(o, o + dims[l] * dims[l - 1]));
      o += dims[l] * dims[l - 1];
    }
    for (let l = 1; l <= this.L; l++) {
      if (this.bias) { b.push(params.subarray(o, o + dims[l])); o += dims[l]; }
      else b.push(params.subarray(0, 0));
    }
    this.raw = { params, W, b };
    this.bnMean = dims.map((n) => new Float64Array(this.norm === "batch" ? n : 0));
    this.bnVar = dims.map((n) => new Float64Array(this.norm === "batch" ? n : 0).fill(1));
    this.tr = new Trace(this);
    const sig = signalsOf(this, this.tr);
    this.sites = dims.map((n, l) => ({
      name: l === 0 ? "input" : `W${l}`,
      n: l === 0 ? 0 : n,
      m: l === 0 ? 0 : dims[l - 1],
      T: 1,
      W: W[l],
      b: this.bias && l > 0 ? b[l] : null,
      sig: sig[l],
    }));
    this.feedback = { name: "sym", B: W };
  }

  /** All weights, then all biases (current: a fast step's transposed layer 1 is written back first). */
  get params(): Buf { this.settle(); return this.raw.params; }
  /** W[l]: (nₗ, nₗ₋₁) view into params, current; W[0] is empty. */
  get W(): Buf[] { this.settle(); return this.raw.W; }
  /** b[l]: (nₗ) view into params when bias is on, else empty. */
  get b(): Buf[] { this.settle(); return this.raw.b; }
  /** The input buffer x = y₀ (n₀). */
  get x(): Buf { return this.tr.y[0]; }
  /** The softmax output of the last pass. */
  get p(): Buf { return this.tr.y[this.L]; }

  /** Fresh weights for a new task; biases start at zero. */
  init(name: InitName, gain: number, rng: Rng): this {
    this.settle();
    const { W, b } = this.raw;
    for (let l = 1; l <= this.L; l++) initWeights(W[l], this.dims[l], this.dims[l - 1], name, gain, rng, this.k);
    for (let l = 1; l <= this.L; l++) b[l].fill(0);
    for (let l = 0; l <= this.L; l++) { this.bnMean[l].fill(0); this.bnVar[l].fill(1); }
    return this;
  }

  /**
   * Put this network under Dale's law with excitatory fraction f (src/learn/dale.ts): each hidden layer's units
   * get their signs, and the weights they send (the columns of Wₗ₊₁) are folded to them. Call after init.
   */
  applyDale(fraction: number): this {
    const W = this.W, colSign: (Int8Array | null)[] = this.dims.map(() => null);
    for (let l = 2; l <= this.L; l++) {
      colSign[l] = unitSigns(this.dims[l - 1], fraction);
      foldInit(W[l], this.dims[l], this.dims[l - 1], colSign[l]!, fraction);
    }
    this.dale = { fraction, colSign };
    return this;
  }

  /** A same-shaped network with copied parameters (feedback not copied), on the JS heap unless an arena is given. */
  clone(arena: Arena = heapArena(this.dtype)): MLP {
    const m = new MLP({ dims: this.dims, activation: this.activation, beta: this.beta, bias: this.bias, norm: this.norm, arena });
    m.raw.params.set(this.params);
    for (let l = 0; l <= this.L; l++) { m.bnMean[l].set(this.bnMean[l]); m.bnVar[l].set(this.bnVar[l]); }
    return m;
  }

  paramView<T extends Buf>(buf: T, v: Buf): T {
    const p = this.raw.params;
    const o = v.byteOffset / v.BYTES_PER_ELEMENT - p.byteOffset / p.BYTES_PER_ELEMENT;
    return buf.subarray(o, o + v.length) as T;
  }

  /** A fast step takes layer 1 into its transposed copy (the copy is current until the step writes it back). */
  hold(I: InputLayer | null): void {
    if (this.holder !== null && this.holder !== I) this.settle();
    this.holder = I;
  }

  /** Write layer 1 back from a fast step's transposed copy, if one holds it. */
  settle(): void {
    const I = this.holder;
    if (I !== null) { this.holder = null; I.release(this.raw.W[1]); }
  }

  /** Whether a fast step's transposed copy holds layer 1 now. */
  get held(): boolean { return this.holder !== null; }

  propagate(label: number, needs: SignalNeeds): number {
    this.settle();
    const plan = this.planFor(needs);
    const zs = forwardTrain(this, label, plan.needUForward, null, true);
    backward(this, this.feedback, this.tr, { needU: plan.needUAfter, needE0: needs.needEPre[1] ?? false, needUE: needs.needUE });
    return zs;
  }

  logits(): Buf {
    forward(this, this.tr);
    return this.tr.z[this.L];
  }

  /**
   * logits() for a query set. An image is mostly 0, so z₁ = W₁x may skip its
   * blank groups (Kernels.matVecSparse): the same floats as matVec when W₁ is
   * finite, which is checked here once for the whole set.
   */
  scorer(opts: ScorerOptions = {}): () => Buf {
    const k = this.k, W1 = this.W[1]; // the getter writes a fast step's layer 1 back
    const sparse = k.matVecSparse !== undefined && k.finite !== undefined && k.finite(W1);
    const only = opts.logitsOnly === true;
    return () => { forward(this, this.tr, sparse, only); return this.tr.z[this.L]; };
  }

  tangents(dParams: readonly Buf[]): MlpTangentPass { return new MlpTangentPass(this, dParams); }

  private lastNeeds: SignalNeeds | null = null;
  private lastPlan: { needUForward: boolean[]; needUAfter: boolean[] } = { needUForward: [], needUAfter: [] };
  /** Where each uₗ is computed: the composite forward kernel takes those of hidden layers, the backward pass the rest. */
  planFor(needs: SignalNeeds): { needUForward: boolean[]; needUAfter: boolean[] } {
    if (needs === this.lastNeeds) return this.lastPlan;
    const fusedForward = this.k.fused !== undefined && this.norm === "none";
    this.lastNeeds = needs;
    this.lastPlan = {
      needUForward: needs.needU.map((u) => u),
      needUAfter: needs.needU.map((u, l) => u && (!fusedForward || l === this.L)),
    };
    return this.lastPlan;
  }
}

/** Views of a trace that the plasticity terms of each layer read (index l = 1 … L). */
export function signalsOf(net: MLP, tr: Trace): LayerSignals[] {
  const { L, dims } = net;
  return dims.map((n, l) => ({
    l, L, n, m: l > 0 ? dims[l - 1] : 0, T: 1,
    pre: tr.y[Math.max(0, l - 1)], post: tr.y[l], e: tr.e[l], ePre: tr.e[Math.max(0, l - 1)],
    u: tr.u[l], ue: tr.ue[l], b: net.bias && l > 0 ? net.raw.b[l] : null,
  }));
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
  /** ueₗ = Wₗᵀ eₗ through W itself (Oja's form on errors), when a term reads it. */
  readonly ue: Buf[];
  /** bte[l−1] = Bₗᵀ eₗ before the σ' factor (forward-mode tangents need it). */
  readonly bte: Buf[];
  /** Layer normalization: √(var zₗ + ε) per hidden layer. */
  readonly lnStd: Float64Array;

  constructor(net: { dims: readonly number[]; arena: Arena }) {
    const d = net.dims, a = net.arena;
    this.z = d.map((n) => a.alloc(n));
    this.y = d.map((n) => a.alloc(n));
    this.dsig = d.map((n) => a.alloc(n));
    this.e = d.map((n) => a.alloc(n));
    this.u = d.map((_, l) => a.alloc(l === 0 ? 0 : d[l - 1]));
    this.ue = d.map((_, l) => a.alloc(l === 0 ? 0 : d[l - 1]));
    this.bte = d.map((n) => a.alloc(n));
    this.lnStd = new Float64Array(d.length);
  }
}

/**
 * Forward pass of PAPER.md: zₗ = Wₗ yₗ₋₁, yₗ = σ(zₗ) (l < L), p = softmax(z_L),
 * with the plain activations (used to score query sets and by diagnostics).
 * Reads x from tr.y[0].
 */
export function forward(net: MLP, tr: Trace, sparseInput = false, logitsOnly = false): void {
  const { L, dims, act } = net, { W, b } = net; // the getters write a fast step's layer 1 back first
  for (let l = 1; l <= L; l++) {
    // sparseInput: the caller knows W₁ is finite (MLP.scorer), so skipping x's blank groups changes no float.
    if (!(l === 1 && sparseInput && net.k.matVecSparse!(tr.z[1], W[1], tr.y[0], dims[1], dims[0], net.bias ? b[1] : null))) {
      net.k.matVec(tr.z[l], W[l], tr.y[l - 1], dims[l], dims[l - 1], net.bias ? b[l] : null);
    }
    if (l < L) {
      if (net.norm === "layer") tr.lnStd[l] = layerNorm(tr.z[l], dims[l]);
      else if (net.norm === "batch") {
        // One example at a time: the running statistics (evaluation mode).
        const z = tr.z[l], mu = net.bnMean[l], v = net.bnVar[l];
        for (let i = 0; i < dims[l]; i++) z[i] = (z[i] - mu[i]) / Math.sqrt(v[i] + BN_EPS);
      }
      // logitsOnly (scoring): y alone, the same floats, and softplus by the backend's kernel where it has one.
      if (!logitsOnly) act.fdf(tr.y[l], tr.dsig[l], tr.z[l], dims[l]);
      else if (!(act.name === "softplus" && (net.k.softplus?.(tr.y[l], tr.z[l], dims[l], net.beta) ?? -1) >= 0)) act.f(tr.y[l], tr.z[l], dims[l]);
    }
  }
  if (!logitsOnly) softmax(tr.y[L], tr.z[L], dims[L]);
}

/**
 * The forward pass of a learning step and e_L = p − onehot(label), using the
 * backend's composite kernel where it has one (activations in WebAssembly,
 * Oja's uₗ of hidden layers in the same call; `needU` says where), with
 * layer 1 read from its transposed copy when `input` holds it. Returns the
 * logits' sum. With `withError` false only the forward pass runs (scoring).
 */
export function forwardTrain(net: MLP, label: number, needU: readonly boolean[], input: InputLayer | null, withError: boolean, wantU = true): number {
  const tr = net.tr, { L, dims } = net, { W, b } = net.raw, F = net.k.fused;
  if (F === undefined || net.norm !== "none") forward(net, tr);
  else {
    const code = ACT_CODE[net.activation];
    for (let l = 1; l <= L; l++) {
      const n = dims[l], m = dims[l - 1];
      const bl = net.bias ? b[l] : null;
      if (l === 1 && input !== null) {
        // z₁ = W₁x over the nonzero pixels; u₁ comes later, row by row, in the update's sweep.
        input.scan(tr.y[0]);
        input.forward(tr.z[1], tr.y[0], bl);
        F.activate(tr.y[1], tr.dsig[1], tr.z[1], n, code, net.beta);
        continue;
      }
      const u = wantU && needU[l] ? tr.u[l] : null;
      if (l < L && F.forwardHidden(tr.z[l], tr.y[l], tr.dsig[l], u, W[l], tr.y[l - 1], bl, n, m, code, net.beta)) continue;
      net.k.matVec(tr.z[l], W[l], tr.y[l - 1], n, m, bl);
      if (l < L) {
        net.act.fdf(tr.y[l], tr.dsig[l], tr.z[l], n);
        if (u !== null) net.k.matTVec(u, W[l], tr.y[l], n, m);
      }
    }
    softmax(tr.y[L], tr.z[L], dims[L]);
  }
  if (!withError) return 0;
  outputError(tr.e[L], tr.y[L], label, dims[L]);
  return logitSum(tr.z[L], dims[L]);
}

export interface BackwardNeeds {
  /** needU[l]: compute uₗ = Wₗᵀ yₗ (Oja's rule is active at layer l). */
  needU: readonly boolean[];
  /** Compute e₀ = B₁ᵀ e₁ (the input is linear, so no σ' there); only terms reading eₗ₋₁ at layer 1 need it. */
  needE0: boolean;
  /** needUE[l]: compute ueₗ = Wₗᵀ eₗ through W itself. */
  needUE?: readonly boolean[];
}

/**
 * Backward pass from e_L = p − onehot(label) (already in tr.e[L]):
 * eₗ₋₁ = (Bₗᵀ eₗ) ⊙ σ'(zₗ₋₁). Where B = W, Wᵀe and Wᵀy are read from the
 * same matrix in one pass (`matTVec2`).
 */
export function backward(net: MLP, fb: Feedback, tr: Trace, needs: BackwardNeeds): void {
  const { L, dims, k } = net, W = net.raw.W;
  const sym = fb.name === "sym", dfa = fb.name === "dfa", sign = isSign(fb);
  for (let l = L; l >= 1; l--) {
    const n = dims[l], m = dims[l - 1];
    const wantE = l > 1 || needs.needE0;
    const wantU = needs.needU[l];
    const g = tr.e[l - 1];
    if (needs.needUE?.[l]) k.matTVec(tr.ue[l], W[l], tr.e[l], n, m);
    if (wantE && wantU && sym) k.matTVec2(g, tr.u[l], W[l], tr.e[l], tr.y[l], n, m);
    else {
      // DFA: Dₗ₋₁ e_L straight from the output error (src/signals/feedback.ts); sign symmetry: B = sign(W)·s from the current W.
      if (wantE && dfa) k.matVec(g, fb.B[l - 1], tr.e[L], m, dims[L], null);
      else if (wantE) {
        if (sign) refreshSign(fb, l, l === 1 && net.held ? net.W[1] : W[l], k);
        k.matTVec(g, fb.B[l], tr.e[l], n, m);
      }
      if (wantU) k.matTVec(tr.u[l], W[l], tr.y[l], n, m);
    }
    if (l > 1) {
      // σ'(zₗ₋₁) was kept by the forward pass.
      const d = tr.dsig[l - 1], bte = tr.bte[l - 1];
      for (let j = 0; j < m; j++) { bte[j] = g[j]; g[j] *= d[j]; }
      if (net.norm === "layer") layerNormBackward(g, tr.z[l - 1], tr.lnStd[l - 1], m);
      else if (net.norm === "batch") {
        // One example at a time (evaluation mode): the running statistics are constants.
        const v = net.bnVar[l - 1];
        for (let j = 0; j < m; j++) g[j] /= Math.sqrt(v[j] + BN_EPS);
      }
    }
  }
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
