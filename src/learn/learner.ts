import { ACT_CODE, argmax, logSumExp, softmax, type Buf, type InputTangent } from "../core/kernels.js";
import { BN_EPS, BN_MOMENTUM, forward, loadPixels, paramView, settle, Trace, type MLP } from "../nn/mlp.js";
import { InputLayer } from "./input-layer.js";
import { TERMS, type TermName } from "../rules/registry.js";
import type { Rule } from "../rules/rule.js";
import type { LayerSignals, PlasticityTerm, RankOne } from "../rules/types.js";
import { backward, type Feedback } from "../signals/feedback.js";

export interface LearnerOptions {
  /** Examples per update. 1 = online (PAPER.md); > 1 = mini-batch, per-example ΔW averaged. */
  batch?: number;
  /** Terms kept active even where their coefficient is 0 (meta-learning differentiates through them). */
  always?: readonly TermName[];
  /**
   * "adam": the pseudo-gradient eₗyₗ₋₁ᵀ (averaged over a mini-batch) goes
   * through Adam (Kingma & Ba 2015) with θ_bp as its learning rate — one of
   * the engineering tricks Oja is compared against (PAPER.md claim 4). The
   * other terms are applied as usual. Default "sgd": the plain rule.
   */
  optimizer?: "sgd" | "adam";
}

const ADAM = { b1: 0.9, b2: 0.999, eps: 1e-8 };
const NO_TANGENTS: readonly InputTangent[] = [];

export interface ActiveTerm {
  term: PlasticityTerm;
  coef: number;
  scratch: Buf;
  f: RankOne;
}

/**
 * The plasticity loop of PAPER.md for one network: forward, error signals,
 * then every layer's ΔWₗ = Σ_k θ_k,ₗ · term_k from that one pass, applied
 * together. All buffers are allocated here; a step allocates nothing.
 */
export class Learner {
  readonly net: MLP;
  readonly fb: Feedback;
  readonly rule: Rule;
  readonly batch: number;
  readonly tr: Trace;
  /** active[l]: the terms applied at layer l, with their coefficients and factors. */
  readonly active: readonly ActiveTerm[][];
  /** sig[l]: views of the trace that the terms at layer l read. */
  readonly sig: readonly LayerSignals[];
  private readonly needU: boolean[];
  /** needU for the backward pass: layers whose uₗ the (fused) forward pass did not compute. */
  private readonly needUAfter: boolean[];
  private readonly needE0: boolean;
  /** Whether step() takes the fused two-sweep path. */
  readonly fusable: boolean;
  /**
   * The transposed first layer of the online fast path, or null. While it
   * holds the weights, net.W[1] is stale and net.pending is set: flush(),
   * sync() or any forward() write it back.
   */
  readonly input: InputLayer | null;
  /** Σ s_k post_k over layer 1's terms with pre factor x (A) and x − u (B), for inputSweep. */
  private readonly inA: Buf | null;
  private readonly inB: Buf | null;
  private readonly syncFn = () => this.sync();
  /** Layer 1's signals with m = 0: the terms' post factors and bias factors, the pre factors being formed in the sweep. */
  readonly sig1: LayerSignals;
  /** Every layer's signals with m = 0 (pre factors formed elsewhere). */
  readonly sig0: readonly LayerSignals[];
  /** needU for the backward pass when layer 1 is transposed (its u₁ comes from the update's sweep). */
  private readonly needUInput: boolean[];
  // Per-layer scratch for addOuters: coefficients, post and pre vectors.
  private readonly s: Float64Array[];
  private readonly us: Buf[][];
  private readonly vs: Buf[][];
  // Mini-batch accumulators: ΔW and Δb per layer, and examples since the last flush.
  private readonly dParams: Buf | null;
  private readonly dW: Buf[];
  private readonly db: Buf[];
  private pending = 0;
  // Batch normalization: the batch's inputs, labels and traces, and per-layer batch standard deviations.
  private readonly bn: { xs: Buf[]; labels: Int32Array; traces: Trace[]; sigs: LayerSignals[][]; std: Float64Array[]; count: number } | null;
  // Adam (optimizer "adam"): gradient accumulator, moments, step count, and which active term is bp per layer.
  readonly adam: { G: Buf; GW: Buf[]; Gb: Buf[]; m: Float64Array; v: Float64Array; t: number; bpAt: number[] } | null;
  /** Examples accumulated since the last mini-batch update. */
  get pendingCount(): number { return this.pending; }

  constructor(net: MLP, fb: Feedback, rule: Rule, opts: LearnerOptions = {}) {
    if (rule.L !== net.L) throw new Error(`rule has ${rule.L} layers, network has ${net.L}`);
    const batch = opts.batch ?? 1;
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
    this.net = net; this.fb = fb; this.rule = rule; this.batch = batch;
    this.tr = new Trace(net);
    const { L, dims } = net;
    const active: ActiveTerm[][] = [[]];
    this.needU = [false];
    for (let l = 1; l <= L; l++) {
      const act: ActiveTerm[] = [];
      for (const name of Object.keys(rule.coef) as TermName[]) {
        const c = rule.coef[name]![l];
        if (c === 0 && !(opts.always ?? []).includes(name)) continue;
        act.push({ term: TERMS[name], coef: c, scratch: net.arena.alloc(dims[l - 1]), f: { sign: 1, post: this.tr.y[l], pre: this.tr.y[l - 1], preBias: 0 } });
      }
      active.push(act);
      this.needU.push(act.some((a) => a.term.needsU));
    }
    this.active = active;
    this.needE0 = L >= 1 && active[1].some((a) => a.term.needsEPre);
    const fused = net.k.fused !== undefined;
    // The composite forward kernel (activations and Oja's u in wasm) has no normalization.
    const fusedForward = fused && net.norm === "none";
    this.needUAfter = this.needU.map((u, l) => u && (!fusedForward || l === L));
    const adam = opts.optimizer === "adam";
    this.fusable = !adam && fusedForward && fb.name === "sym" && active.every((a) => a.length <= 3 && a.every((t) => !t.term.needsEPre));
    this.sig = signalsOf(net, this.tr);
    this.sig0 = this.sig.map((g) => ({ ...g, m: 0 }));
    this.sig1 = this.sig0[Math.min(1, L)];
    // The transposed first layer: online, a hidden layer 1, and every term there row-local (bp, hebb, Oja).
    if (!adam && fusedForward && batch === 1 && L >= 2 && active[1].every((a) => a.term.inputPre !== undefined)) {
      this.input = new InputLayer(net, net.k.fused!.input);
      this.inA = active[1].some((a) => a.term.inputPre === "x") ? net.arena.alloc(dims[1]) : null;
      this.inB = active[1].some((a) => a.term.inputPre === "x-u") ? net.arena.alloc(dims[1]) : null;
    } else { this.input = null; this.inA = null; this.inB = null; }
    this.needUInput = this.needUAfter.map((u, l) => u && l !== 1);
    this.s = this.active.map((a) => new Float64Array(a.length));
    this.us = this.active.map((a) => a.map((t) => t.f.post));
    this.vs = this.active.map((a) => a.map((t) => t.f.pre));
    if (batch > 1) {
      const d = (this.dParams = net.arena.alloc(net.params.length));
      this.dW = net.W.map((w) => paramView(net, d, w));
      this.db = net.b.map((b) => paramView(net, d, b));
    } else {
      this.dParams = null; this.dW = []; this.db = [];
    }
    if (adam) {
      const G = net.arena.alloc(net.params.length);
      this.adam = {
        G, GW: net.W.map((w) => paramView(net, G, w)), Gb: net.b.map((b) => paramView(net, G, b)),
        m: new Float64Array(net.params.length), v: new Float64Array(net.params.length), t: 0,
        bpAt: active.map((act) => act.findIndex((a) => a.term.name === "bp")),
      };
    } else this.adam = null;
    if (net.norm === "batch") {
      if (batch < 2) throw new RangeError("batch normalization needs mini-batches (--batch ≥ 2)");
      const traces = Array.from({ length: batch }, () => new Trace(net));
      this.bn = {
        xs: traces.map((t) => t.y[0]), labels: new Int32Array(batch), traces, count: 0,
        sigs: traces.map((t) => signalsOf(net, t)),
        std: dims.map((n) => new Float64Array(n)),
      };
    } else this.bn = null;
  }

  /** The input buffer x = y₀ (n₀); write pixels here before `step`. */
  get x(): Buf { return this.tr.y[0]; }

  /**
   * One plasticity step on the example in `x` with class `label`. Returns the
   * logits' sum, which is non-finite exactly when the network has diverged.
   */
  step(label: number): number {
    if (this.bn !== null) return this.bnStep(label);
    if (this.fusable) return this.fusedStep(label);
    if (this.input !== null) {
      // Feedback alignment (or a term that reads eₗ₋₁): row-major layers as in update(), layer 1 transposed.
      const zs = this.propagateInput(label);
      this.updateUpper();
      this.inputUpdate(this.factors(1, 1, this.sig1), NO_TANGENTS);
      return zs;
    }
    const zs = this.propagate(label);
    this.update();
    return zs;
  }

  /** Forward pass and error signals for `label`; returns the logits' sum (non-finite once diverged). */
  propagate(label: number): number {
    this.sync();
    const { net, tr } = this;
    const zs = this.forwardAndError(label);
    backward(net, this.fb, tr, { needU: this.needUAfter, needE0: this.needE0 });
    return zs;
  }

  /**
   * Forward pass and error signals with layer 1 transposed (see `input`):
   * u₁ is left to the update's sweep, so follow with updateUpper() and
   * inputUpdate(). For the meta-gradient's fast path.
   */
  propagateInput(label: number): number {
    this.takeInput();
    const zs = this.forwardAndError(label);
    backward(this.net, this.fb, this.tr, { needU: this.needUInput, needE0: this.needE0 });
    return zs;
  }

  /**
   * The forward pass alone on the fast path (z, y and σ' of every layer, the
   * nonzero pixels recorded): for scoring a query set without touching the
   * weights. Falls back to forward() where there is no fast path.
   */
  forwardOnly(): void {
    if (this.input === null) { forward(this.net, this.tr); return; }
    this.takeInput();
    this.forwardAndError(0, false);
  }

  /** Apply ΔWₗ of layers 2 … L from the last propagateInput (online). */
  updateUpper(): void {
    const { dims, L, W, b } = this.net;
    for (let l = 2; l <= L; l++) {
      const K = this.factors(l, 1);
      if (K === 0) continue;
      this.net.k.addOuters(W[l], this.s[l], this.us[l], this.vs[l], K, dims[l], dims[l - 1]);
      if (this.net.bias) this.biasUpdate(l, b[l], K);
    }
  }

  /** Take layer 1 into the transposed layout (after any other holder has written its weights back). */
  private takeInput(): void {
    const I = this.input!;
    if (I.valid) return;
    settle(this.net);
    I.load(this.net.W[1]);
    I.valid = true;
    this.net.pending = this.syncFn;
  }

  /**
   * The forward pass, using the backend's composite kernel where it has one
   * (activations in WebAssembly, Oja's uₗ of hidden layers in the same call),
   * and e_L = p − onehot.
   */
  private forwardAndError(label: number, wantU = true): number {
    const { net, tr } = this, { L, dims, W, b } = net, F = net.k.fused;
    if (F === undefined || net.norm !== "none") forward(net, tr);
    else {
      const code = ACT_CODE[net.activation], I = this.input;
      for (let l = 1; l <= L; l++) {
        const n = dims[l], m = dims[l - 1];
        const bl = net.bias ? b[l] : null;
        if (l === 1 && I !== null && I.valid) {
          // z₁ = W₁x over the nonzero pixels; u₁ comes later, row by row, in the update's sweep.
          I.scan(tr.y[0]);
          I.forward(tr.z[1], tr.y[0], bl);
          F.activate(tr.y[1], tr.dsig[1], tr.z[1], n, code, net.beta);
          continue;
        }
        const u = wantU && this.needU[l] ? tr.u[l] : null;
        if (l < L && F.forwardHidden(tr.z[l], tr.y[l], tr.dsig[l], u, W[l], tr.y[l - 1], bl, n, m, code, net.beta)) continue;
        net.k.matVec(tr.z[l], W[l], tr.y[l - 1], n, m, bl);
        if (l < L) {
          net.act.fdf(tr.y[l], tr.dsig[l], tr.z[l], n);
          if (u !== null) net.k.matTVec(u, W[l], tr.y[l], n, m);
        }
      }
      softmax(tr.y[L], tr.z[L], dims[L]);
    }
    const nL = dims[L], eL = tr.e[L], p = tr.y[L];
    // e_L = p − onehot(label): the cross-entropy gradient at the logits.
    for (let i = 0; i < nL; i++) eL[i] = p[i];
    eL[label] -= 1;
    let zs = 0;
    for (let i = 0; i < nL; i++) zs += tr.z[L][i];
    return zs;
  }

  /**
   * The same step as propagate + update with the fast kernels: the forward
   * pass with Oja's uₗ, then, from the top layer down, eₗ₋₁ = (Wₗᵀeₗ) ⊙ σ'
   * and the update of Wₗ in one sweep that reads each row before writing it.
   * Taken with backprop feedback and terms that do not read eₗ₋₁ (ehebb does:
   * it needs the sweep's own result).
   */
  private fusedStep(label: number): number {
    const { net, tr } = this, { L, dims, W } = net, F = net.k.fused!, I = this.input;
    if (I !== null) this.takeInput();
    const zs = this.forwardAndError(label);
    if (this.needU[L]) net.k.matTVec(tr.u[L], W[L], tr.y[L], dims[L], dims[L - 1]);
    const online = this.batch === 1;
    const target = online ? W : this.dW, tb = online ? net.b : this.db, scale = online ? 1 : 1 / this.batch;
    for (let l = L; l >= 1; l--) {
      if (l === 1 && I !== null) { this.inputUpdate(this.factors(1, scale, this.sig1), NO_TANGENTS); continue; }
      const n = dims[l], m = dims[l - 1], K = this.factors(l, scale);
      const g = l > 1 ? tr.e[l - 1] : null, d = l > 1 ? tr.dsig[l - 1] : null, bte = l > 1 ? tr.bte[l - 1] : null;
      if (!F.backUpdate(g, W[l], target[l], tr.e[l], n, m, this.s[l], this.us[l], this.vs[l], K, d, bte)) {
        if (g !== null) net.k.matTVec(g, W[l], tr.e[l], n, m);
        net.k.addOuters(target[l], this.s[l], this.us[l], this.vs[l], K, n, m);
        if (g !== null) for (let j = 0; j < m; j++) { bte![j] = g[j]; g[j] *= d![j]; }
      }
      if (net.bias) this.biasUpdate(l, tb[l], K);
    }
    if (!online && ++this.pending === this.batch) this.flush();
    return zs;
  }

  /**
   * Layer 1 from its transposed copy: A = Σ s_k post_k over terms with pre
   * factor x, B = the same over x − u (Oja), then one sweep of the rows does
   * uⱼ = WTⱼ·y₁ and WTⱼ += xⱼ A + (xⱼ − uⱼ) B (PAPER.md: ΔW₁ from the same
   * pass, old weights on the right-hand side). The tangents of the meta-
   * gradient (src/meta/tangent.ts) ride along in the same sweep: they read the
   * old rows.
   */
  inputUpdate(K: number, tangents: readonly InputTangent[]): void {
    const I = this.input!, net = this.net, tr = this.tr, n = net.dims[1], act = this.active[1];
    const A = this.inA, B = this.inB, s = this.s[1], us = this.us[1];
    if (A !== null) A.fill(0);
    if (B !== null) B.fill(0);
    for (let k = 0; k < K; k++) {
      const t = act[k].term.inputPre === "x" ? A! : B!, sk = s[k], u = us[k];
      for (let i = 0; i < n; i++) t[i] += sk * u[i];
    }
    I.k.inputSweep(I.WT, I.stride, I.m, n, tr.y[0], tr.y[1], A, B, tr.u[1], I.idx, I.cnt, tangents);
    if (net.bias) this.biasUpdate(1, net.b[1], K);
  }

  /**
   * Write the transposed first layer back to net.W[1] (a no-op when it does
   * not hold the weights). The next fast step takes net.W[1] afresh, so
   * weights set from outside in between are respected.
   */
  sync(): void {
    const I = this.input;
    if (I !== null && I.valid) { I.store(this.net.W[1]); I.valid = false; }
    if (this.net.pending === this.syncFn) this.net.pending = null;
  }

  /** Batch normalization: keep the example (x is copied); the whole batch is processed once it is full. */
  private bnStep(label: number): number {
    const bn = this.bn!;
    bn.xs[bn.count].set(this.tr.y[0]);
    bn.labels[bn.count++] = label;
    return bn.count === this.batch ? this.bnBatch() : 0;
  }

  /**
   * One mini-batch with batch normalization (Ioffe & Szegedy 2015): forward
   * layer by layer with the batch's mean and variance, backward through them
   * (∂L/∂z = (g − mean g − ẑ · mean(g ⊙ ẑ)) / s over the batch), then every
   * example's ΔW from its own trace, averaged. Returns the logits' sum.
   */
  private bnBatch(): number {
    const bn = this.bn!, net = this.net, { L, dims, W, b, k } = net, P = bn.count, T = bn.traces;
    for (let l = 1; l <= L; l++) {
      const n = dims[l], m = dims[l - 1];
      for (let q = 0; q < P; q++) k.matVec(T[q].z[l], W[l], T[q].y[l - 1], n, m, net.bias ? b[l] : null);
      if (l === L) { for (let q = 0; q < P; q++) softmax(T[q].y[L], T[q].z[L], n); continue; }
      const std = bn.std[l], mu = net.bnMean[l], rv = net.bnVar[l];
      for (let i = 0; i < n; i++) {
        let mean = 0, v = 0;
        for (let q = 0; q < P; q++) mean += T[q].z[l][i];
        mean /= P;
        for (let q = 0; q < P; q++) v += (T[q].z[l][i] - mean) ** 2;
        v /= P;
        std[i] = Math.sqrt(v + BN_EPS);
        for (let q = 0; q < P; q++) T[q].z[l][i] = (T[q].z[l][i] - mean) / std[i];
        // Running statistics for evaluation (unbiased variance, as PyTorch keeps them).
        mu[i] = (1 - BN_MOMENTUM) * mu[i] + BN_MOMENTUM * mean;
        rv[i] = (1 - BN_MOMENTUM) * rv[i] + BN_MOMENTUM * (P > 1 ? (v * P) / (P - 1) : v);
      }
      for (let q = 0; q < P; q++) net.act.fdf(T[q].y[l], T[q].dsig[l], T[q].z[l], n);
    }
    let zs = 0;
    for (let q = 0; q < P; q++) {
      const e = T[q].e[L], p = T[q].y[L];
      for (let i = 0; i < dims[L]; i++) { e[i] = p[i]; zs += T[q].z[L][i]; }
      e[bn.labels[q]] -= 1;
    }
    for (let l = L; l >= 1; l--) {
      const n = dims[l], m = dims[l - 1], wantE = l > 1 || this.needE0;
      for (let q = 0; q < P; q++) {
        if (wantE) k.matTVec(T[q].e[l - 1], this.fb.B[l], T[q].e[l], n, m);
        if (this.needU[l]) k.matTVec(T[q].u[l], W[l], T[q].y[l], n, m);
      }
      if (l === 1) continue;
      const std = bn.std[l - 1];
      for (let q = 0; q < P; q++) {
        const g = T[q].e[l - 1], d = T[q].dsig[l - 1], bte = T[q].bte[l - 1];
        for (let j = 0; j < m; j++) { bte[j] = g[j]; g[j] *= d[j]; }
      }
      for (let j = 0; j < m; j++) {
        let mg = 0, mgz = 0;
        for (let q = 0; q < P; q++) { mg += T[q].e[l - 1][j]; mgz += T[q].e[l - 1][j] * T[q].z[l - 1][j]; }
        mg /= P; mgz /= P;
        for (let q = 0; q < P; q++) T[q].e[l - 1][j] = (T[q].e[l - 1][j] - mg - T[q].z[l - 1][j] * mgz) / std[j];
      }
    }
    for (let q = 0; q < P; q++) this.apply(this.dW, this.db, 1 / this.batch, bn.sigs[q]);
    bn.count = 0;
    const dParams = this.dParams!, params = net.params, kf = this.batch / P;
    for (let i = 0; i < params.length; i++) params[i] += kf * dParams[i];
    dParams.fill(0);
    this.pending = 0;
    return zs;
  }

  /** Apply every layer's ΔW from the last `propagate` (accumulated until the batch is full in mini-batch mode). */
  update(): void {
    this.sync();
    const { net } = this;
    if (this.batch === 1) { this.apply(net.W, net.b, 1); if (this.adam) this.adamStep(); }
    else {
      this.apply(this.dW, this.db, 1 / this.batch);
      if (++this.pending === this.batch) this.flush();
    }
  }

  /** Apply accumulated mini-batch updates (a no-op online). A trailing partial batch is averaged over its size. */
  flush(): void {
    this.sync();
    if (this.bn !== null) { if (this.bn.count > 0) this.bnBatch(); return; }
    if (this.dParams === null || this.pending === 0) return;
    if (this.adam) {
      // A trailing partial batch: its gradient was accumulated as Σ g / batch; average it over its size.
      const k = this.batch / this.pending;
      for (let i = 0; i < this.adam.G.length; i++) this.adam.G[i] *= k;
      this.adamStep();
    }
    const { params } = this.net;
    const k = this.batch / this.pending; // the accumulators hold Σ ΔW / batch
    for (let i = 0; i < params.length; i++) params[i] += k * this.dParams[i];
    this.dParams.fill(0);
    this.pending = 0;
  }

  /** W[l] += scale · Σ_k θ_k,ₗ sign_k post_k ⊗ pre_k, every layer, from the current trace. */
  private apply(W: readonly Buf[], b: readonly Buf[], scale: number, sigs: readonly LayerSignals[] = this.sig): void {
    const { dims, L } = this.net;
    for (let l = 1; l <= L; l++) {
      const K = this.factors(l, scale, sigs[l]);
      if (K === 0) continue;
      this.net.k.addOuters(W[l], this.s[l], this.us[l], this.vs[l], K, dims[l], dims[l - 1]);
      if (this.net.bias) this.biasUpdate(l, b[l], K);
    }
  }

  /** The rank-1 factors of layer l's active terms into s[l], us[l], vs[l]; returns their number. */
  factors(l: number, scale: number, sig: LayerSignals = this.sig[l]): number {
    // (with optimizer "adam", the bp term's factors also feed Adam's gradient accumulator)
    const act = this.active[l], K = act.length;
    const s = this.s[l], us = this.us[l], vs = this.vs[l];
    const own = sig === this.sig[l];
    for (let k = 0; k < K; k++) {
      const a = act[k];
      if (own && a.term.inputPre === "x-u") {
        // Oja-like (pre factor yₗ₋₁ − uₗ): the term gives post and bias factors (m = 0), the backend the subtraction.
        a.term.factors(this.sig0[l], a.scratch, a.f);
        this.net.k.sub(a.scratch, sig.pre, sig.u, sig.m);
        a.f.pre = a.scratch;
      } else a.term.factors(sig, a.scratch, a.f);
      s[k] = scale * a.coef * a.f.sign;
      us[k] = a.f.post;
      vs[k] = a.f.pre;
    }
    const ad = this.adam;
    if (ad !== null && ad.bpAt[l] >= 0) {
      // The pseudo-gradient goes to Adam's accumulator, not to W.
      const k = ad.bpAt[l], n = this.net.dims[l], g = 1 / this.batch;
      this.net.k.addOuter(ad.GW[l], g, us[k], vs[k], n, this.net.dims[l - 1]);
      if (this.net.bias) for (let i = 0; i < n; i++) ad.Gb[l][i] += g * us[k][i];
      s[k] = 0;
    }
    return K;
  }

  /** One Adam step on the accumulated pseudo-gradient: W −= θ_bp · m̂ / (√v̂ + ε), per layer's θ_bp. */
  private adamStep(): void {
    const ad = this.adam!, { L, W, b, bias } = this.net;
    ad.t++;
    const c1 = 1 - ADAM.b1 ** ad.t, c2 = 1 - ADAM.b2 ** ad.t;
    const base = this.net.params.byteOffset / this.net.params.BYTES_PER_ELEMENT;
    for (let l = 1; l <= L; l++) {
      const lr = this.rule.coef.bp?.[l] ?? 0;
      for (const P of bias ? [W[l], b[l]] : [W[l]]) {
        const o = P.byteOffset / P.BYTES_PER_ELEMENT - base;
        for (let i = 0; i < P.length; i++) {
          const g = ad.G[o + i], m = (ad.m[o + i] = ADAM.b1 * ad.m[o + i] + (1 - ADAM.b1) * g), v = (ad.v[o + i] = ADAM.b2 * ad.v[o + i] + (1 - ADAM.b2) * g * g);
          P[i] -= (lr * (m / c1)) / (Math.sqrt(v / c2) + ADAM.eps);
        }
      }
    }
    ad.G.fill(0);
  }

  /** A bias is a weight from a constant input 1: bₗ += Σ_k s_k · preBias_k · post_k. */
  private biasUpdate(l: number, bl: Buf, K: number): void {
    const act = this.active[l], s = this.s[l], us = this.us[l], n = this.net.dims[l];
    for (let k = 0; k < K; k++) {
      const c = s[k] * act[k].f.preBias;
      if (c === 0) continue;
      const u = us[k];
      for (let i = 0; i < n; i++) bl[i] += c * u[i];
    }
  }
}

/** Views of a trace that the plasticity terms of each layer read (index l = 1 … L). */
export function signalsOf(net: MLP, tr: Trace): LayerSignals[] {
  const { L, dims } = net;
  return dims.map((n, l) => ({
    l, L, n, m: l > 0 ? dims[l - 1] : 0,
    pre: tr.y[Math.max(0, l - 1)], post: tr.y[l], e: tr.e[l], ePre: tr.e[Math.max(0, l - 1)],
    u: tr.u[l], b: net.bias && l > 0 ? net.b[l] : null,
  }));
}

export interface Scores { loss: number; acc: number }

/** Mean cross-entropy and accuracy of `net` on examples `idx` (argmax over all outputs, as published). */
export function evaluate(net: MLP, tr: Trace, images: Uint8Array, dim: number, idx: ArrayLike<number>, labels: ArrayLike<number>): Scores {
  const L = net.L, nL = net.dims[L], x = tr.y[0];
  let loss = 0, hits = 0;
  for (let q = 0; q < idx.length; q++) {
    loadPixels(x, images, idx[q], dim);
    forward(net, tr);
    const zL = tr.z[L];
    // CE = log Σ exp z − z_label, stable in the logits.
    loss += logSumExp(zL, nL) - zL[labels[q]];
    if (argmax(zL, nL) === labels[q]) hits++;
  }
  return { loss: loss / idx.length, acc: hits / idx.length };
}
