import { ACT_CODE, argmax, logSumExp, softmax, type Buf } from "../core/kernels.js";
import { forward, Trace, type MLP } from "../nn/mlp.js";
import { TERMS, type TermName } from "../rules/registry.js";
import type { Rule } from "../rules/rule.js";
import type { LayerSignals, PlasticityTerm, RankOne } from "../rules/types.js";
import { backward, type Feedback } from "../signals/feedback.js";

export interface LearnerOptions {
  /** Examples per update. 1 = online (PAPER.md); > 1 = mini-batch, per-example ΔW averaged. */
  batch?: number;
  /** Terms kept active even where their coefficient is 0 (meta-learning differentiates through them). */
  always?: readonly TermName[];
}

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
  // Per-layer scratch for addOuters: coefficients, post and pre vectors.
  private readonly s: Float64Array[];
  private readonly us: Buf[][];
  private readonly vs: Buf[][];
  // Mini-batch accumulators: ΔW and Δb per layer, and examples since the last flush.
  private readonly dParams: Buf | null;
  private readonly dW: Buf[];
  private readonly db: Buf[];
  private pending = 0;
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
    this.needUAfter = this.needU.map((u, l) => u && (!fused || l === L));
    this.fusable = fused && fb.name === "sym" && active.every((a) => a.length <= 3 && a.every((t) => !t.term.needsEPre));
    const sig: LayerSignals[] = [];
    this.sig = sig;
    for (let l = 0; l <= L; l++) {
      sig.push({
        l, L, n: dims[l], m: l > 0 ? dims[l - 1] : 0,
        pre: this.tr.y[Math.max(0, l - 1)], post: this.tr.y[l], e: this.tr.e[l], ePre: this.tr.e[Math.max(0, l - 1)],
        u: this.tr.u[l], b: net.bias && l > 0 ? net.b[l] : null,
      });
    }
    this.s = this.active.map((a) => new Float64Array(a.length));
    this.us = this.active.map((a) => a.map((t) => t.f.post));
    this.vs = this.active.map((a) => a.map((t) => t.f.pre));
    if (batch > 1) {
      this.dParams = net.arena.alloc(net.params.length);
      const off = (v: Buf) => v.byteOffset / v.BYTES_PER_ELEMENT - net.params.byteOffset / net.params.BYTES_PER_ELEMENT;
      this.dW = net.W.map((w) => this.dParams!.subarray(off(w), off(w) + w.length));
      this.db = net.b.map((b) => this.dParams!.subarray(off(b), off(b) + b.length));
    } else {
      this.dParams = null; this.dW = []; this.db = [];
    }
  }

  /** The input buffer x = y₀ (n₀); write pixels here before `step`. */
  get x(): Buf { return this.tr.y[0]; }

  /**
   * One plasticity step on the example in `x` with class `label`. Returns the
   * logits' sum, which is non-finite exactly when the network has diverged.
   */
  step(label: number): number {
    if (this.fusable) return this.fusedStep(label);
    const zs = this.propagate(label);
    this.update();
    return zs;
  }

  /** Forward pass and error signals for `label`; returns the logits' sum (non-finite once diverged). */
  propagate(label: number): number {
    const { net, tr } = this;
    const zs = this.forwardAndError(label);
    backward(net, this.fb, tr, { needU: this.needUAfter, needE0: this.needE0 });
    return zs;
  }

  /**
   * The forward pass, using the fused kernel where the backend has one (then
   * Oja's uₗ of hidden layers comes from the same sweep), and e_L = p − onehot.
   */
  private forwardAndError(label: number): number {
    const { net, tr } = this, { L, dims, W, b } = net, F = net.k.fused;
    if (F === undefined) forward(net, tr);
    else {
      const code = ACT_CODE[net.activation];
      for (let l = 1; l <= L; l++) {
        const n = dims[l], m = dims[l - 1];
        const bl = net.bias ? b[l] : null;
        if (l < L && F.forwardHidden(tr.z[l], tr.y[l], tr.dsig[l], this.needU[l] ? tr.u[l] : null, W[l], tr.y[l - 1], bl, n, m, code, net.beta)) continue;
        net.k.matVec(tr.z[l], W[l], tr.y[l - 1], n, m, bl);
        if (l < L) {
          net.act.fdf(tr.y[l], tr.dsig[l], tr.z[l], n);
          if (this.needU[l]) net.k.matTVec(tr.u[l], W[l], tr.y[l], n, m);
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
   * The same step as propagate + update, in two sweeps of each Wₗ (fused
   * WebAssembly kernels): the forward pass with Oja's uₗ, then, from the top
   * layer down, eₗ₋₁ = (Wₗᵀeₗ) ⊙ σ' and the update of Wₗ in one sweep that
   * reads each row before writing it. Taken with backprop feedback and terms
   * that do not read eₗ₋₁ (ehebb does: it needs the sweep's own result).
   */
  private fusedStep(label: number): number {
    const { net, tr } = this, { L, dims, W } = net, F = net.k.fused!;
    const zs = this.forwardAndError(label);
    if (this.needU[L]) net.k.matTVec(tr.u[L], W[L], tr.y[L], dims[L], dims[L - 1]);
    const online = this.batch === 1;
    const target = online ? W : this.dW, tb = online ? net.b : this.db, scale = online ? 1 : 1 / this.batch;
    for (let l = L; l >= 1; l--) {
      const n = dims[l], m = dims[l - 1], K = this.factors(l, scale);
      const g = l > 1 ? tr.e[l - 1] : null;
      if (!F.backUpdate(g, W[l], target[l], tr.e[l], n, m, this.s[l], this.us[l], this.vs[l], K)) {
        if (g !== null) net.k.matTVec(g, W[l], tr.e[l], n, m);
        net.k.addOuters(target[l], this.s[l], this.us[l], this.vs[l], K, n, m);
      }
      if (net.bias) this.biasUpdate(l, tb[l], K);
      if (g !== null) {
        const d = tr.dsig[l - 1], bte = tr.bte[l - 1];
        for (let j = 0; j < m; j++) { bte[j] = g[j]; g[j] *= d[j]; }
      }
    }
    if (!online && ++this.pending === this.batch) this.flush();
    return zs;
  }

  /** Apply every layer's ΔW from the last `propagate` (accumulated until the batch is full in mini-batch mode). */
  update(): void {
    const { net } = this;
    if (this.batch === 1) this.apply(net.W, net.b, 1);
    else {
      this.apply(this.dW, this.db, 1 / this.batch);
      if (++this.pending === this.batch) this.flush();
    }
  }

  /** Apply accumulated mini-batch updates (a no-op online). A trailing partial batch is averaged over its size. */
  flush(): void {
    if (this.dParams === null || this.pending === 0) return;
    const { params } = this.net;
    const k = this.batch / this.pending; // the accumulators hold Σ ΔW / batch
    for (let i = 0; i < params.length; i++) params[i] += k * this.dParams[i];
    this.dParams.fill(0);
    this.pending = 0;
  }

  /** W[l] += scale · Σ_k θ_k,ₗ sign_k post_k ⊗ pre_k, every layer, from the current trace. */
  private apply(W: readonly Buf[], b: readonly Buf[], scale: number): void {
    const { dims, L } = this.net;
    for (let l = 1; l <= L; l++) {
      const K = this.factors(l, scale);
      if (K === 0) continue;
      this.net.k.addOuters(W[l], this.s[l], this.us[l], this.vs[l], K, dims[l], dims[l - 1]);
      if (this.net.bias) this.biasUpdate(l, b[l], K);
    }
  }

  /** The rank-1 factors of layer l's active terms into s[l], us[l], vs[l]; returns their number. */
  private factors(l: number, scale: number): number {
    const act = this.active[l], K = act.length;
    const s = this.s[l], us = this.us[l], vs = this.vs[l], sig = this.sig[l];
    for (let k = 0; k < K; k++) {
      const a = act[k];
      a.term.factors(sig, a.scratch, a.f);
      s[k] = scale * a.coef * a.f.sign;
      us[k] = a.f.post;
      vs[k] = a.f.pre;
    }
    return K;
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

export interface Scores { loss: number; acc: number }

/** Mean cross-entropy and accuracy of `net` on examples `idx` (argmax over all outputs, as published). */
export function evaluate(net: MLP, tr: Trace, images: Uint8Array, dim: number, idx: ArrayLike<number>, labels: ArrayLike<number>): Scores {
  const L = net.L, nL = net.dims[L], x = tr.y[0];
  let loss = 0, hits = 0;
  for (let q = 0; q < idx.length; q++) {
    const o = idx[q] * dim;
    for (let j = 0; j < dim; j++) x[j] = images[o + j] / 255;
    forward(net, tr);
    const zL = tr.z[L];
    // CE = log Σ exp z − z_label, stable in the logits.
    loss += logSumExp(zL, nL) - zL[labels[q]];
    if (argmax(zL, nL) === labels[q]) hits++;
  }
  return { loss: loss / idx.length, acc: hits / idx.length };
}
