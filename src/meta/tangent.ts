import { argmax, logSumExp, type Buf, type InputTangent, type Kernels } from "../core/kernels.js";
import { InputLayer } from "../learn/input-layer.js";
import { forward, loadPixels, paramView } from "../nn/mlp.js";
import type { Learner } from "../learn/learner.js";
import type { TermName } from "../rules/registry.js";
import type { LayerSignals, RankOne } from "../rules/types.js";

/** One meta-parameter: the coefficient of `term` at `layers` (all layers when shared). */
export interface MetaParam {
  term: TermName;
  layers: number[];
}

/** The meta-parameters for learning `terms`, shared across layers or one per layer. */
export function metaLayout(terms: readonly TermName[], L: number, perLayer: boolean): MetaParam[] {
  const all = Array.from({ length: L }, (_, i) => i + 1);
  return terms.flatMap((term) => (perLayer ? all.map((l) => ({ term, layers: [l] })) : [{ term, layers: all }]));
}

/** Tangent activity of one meta-parameter direction; same layout as Trace. */
class TangentTrace {
  readonly dz: Buf[];
  /** dy[L] is dp, the tangent of the softmax output. */
  readonly dy: Buf[];
  readonly de: Buf[];
  readonly du: Buf[];
  /** dbte[l] = d(Bₗ₊₁ᵀ eₗ₊₁), before the σ' factor. */
  readonly dbte: Buf[];
  readonly sig: LayerSignals[];
  /** sig with m = 0: a term's post and bias factors only (pre factors formed by the backend or row by row). */
  readonly sig0: LayerSignals[];
  /** sig0[1], for the transposed first layer. */
  readonly sig1: LayerSignals;
  constructor(l: Learner, db: Buf[]) {
    const d = l.net.dims, a = l.net.arena;
    this.dz = d.map((n) => a.alloc(n));
    this.dy = d.map((n) => a.alloc(n));
    this.de = d.map((n) => a.alloc(n));
    this.du = d.map((_, i) => a.alloc(i === 0 ? 0 : d[i - 1]));
    this.dbte = d.map((n) => a.alloc(n));
    this.sig = d.map((n, i) => ({
      l: i, L: l.net.L, n, m: i > 0 ? d[i - 1] : 0,
      pre: this.dy[Math.max(0, i - 1)], post: this.dy[i], e: this.de[i], ePre: this.de[Math.max(0, i - 1)],
      u: this.du[i], b: l.net.bias && i > 0 ? db[i] : null,
    }));
    this.sig0 = this.sig.map((g) => ({ ...g, m: 0 }));
    this.sig1 = this.sig0[Math.min(1, d.length - 1)];
  }
}

/**
 * Forward-mode differentiation of the online loop with respect to θ
 * (PAPER.md "Meta-learning"): alongside the weights W, carry one tangent
 * dW/dθ_k per meta-parameter through every plasticity step, second-order
 * terms included (the tangent of eₗ carries σ''(zₗ)·dzₗ, the tangent of the
 * update carries dθ·term + θ·d(term)). Memory is P copies of the weights,
 * independent of the number of steps; cost is about 2P + 1 primal steps.
 */
export class TangentLearner {
  readonly learner: Learner;
  readonly params: readonly MetaParam[];
  readonly P: number;
  /** dParams[k]: tangent of every parameter along θ_k (same layout as net.params). */
  readonly dParams: Buf[];
  readonly dW: Buf[][];
  readonly db: Buf[][];
  private readonly accParams: Buf[];
  private readonly accW: Buf[][];
  private readonly accb: Buf[][];
  private readonly tt: TangentTrace[];
  /** σ''(zₗ), shared by all tangents of a step. */
  private readonly d2sig: Buf[];
  // Scratch: n- and m-sized temporaries and factor holders.
  private readonly tmpN: Buf;
  private readonly tmpA: Buf;
  private readonly tmpB: Buf;
  private readonly scrP: Buf[];
  private readonly scrT: Buf[];
  private readonly f: RankOne;
  private readonly g: RankOne;
  private readonly gBias = new Float64Array(16);
  // Pieces of a layer's tangent update (≤ 3 per term) and buffers for merged ones.
  private readonly ps = new Float64Array(12);
  private readonly pu: Buf[] = [];
  private readonly pv: (Buf | null)[] = [];
  private readonly comb: Buf[];
  /** owner[l][a]: the meta-parameter index controlling active term a at layer l, or −1. */
  private readonly owner: number[][];
  private readonly needU: boolean[];
  private readonly needE0: boolean;
  /**
   * The fast path (online, learner with a transposed first layer): each
   * tangent's dW₁ lives transposed in dWT[k], so dz₁ = dW₁x reads only the
   * nonzero pixels and du₁, the tangent update and the primal update of
   * layer 1 happen in one sweep (InputKernels.inputSweep, with A', B', C').
   * dW[k][1] is current only after syncTangents().
   */
  private readonly fast: { I: InputLayer; t: InputTangent[] } | null;

  constructor(learner: Learner, params: readonly MetaParam[]) {
    if (learner.net.norm !== "none") throw new Error(`meta-gradients through ${learner.net.norm} normalization are not implemented`);
    if (learner.adam !== null) throw new Error("meta-gradients through the Adam optimizer are not implemented");
    this.learner = learner;
    this.params = params;
    this.P = params.length;
    const net = learner.net, { L, dims } = net, a = net.arena;
    const view = (buf: Buf, v: Buf) => paramView(net, buf, v);
    this.dParams = params.map(() => a.alloc(net.params.length));
    this.dW = this.dParams.map((d) => net.W.map((w) => view(d, w)));
    this.db = this.dParams.map((d) => net.b.map((b) => view(d, b)));
    this.tt = this.db.map((db) => new TangentTrace(learner, db));
    // Mini-batches: tangent updates accumulate beside the primal ones and are applied with them.
    this.accParams = learner.batch > 1 ? params.map(() => a.alloc(net.params.length)) : [];
    this.accW = this.accParams.map((d) => net.W.map((w) => view(d, w)));
    this.accb = this.accParams.map((d) => net.b.map((b) => view(d, b)));
    this.d2sig = dims.map((n) => a.alloc(n));
    const wide = Math.max(...dims);
    this.tmpN = a.alloc(wide); this.tmpA = a.alloc(wide); this.tmpB = a.alloc(wide);
    this.scrP = [0, 1, 2, 3].map(() => a.alloc(wide)); this.scrT = [0, 1, 2, 3].map(() => a.alloc(wide));
    this.comb = Array.from({ length: 12 }, () => a.alloc(wide));
    this.f = { sign: 1, post: this.tmpN, pre: this.tmpN, preBias: 0 };
    this.g = { sign: 1, post: this.tmpN, pre: this.tmpN, preBias: 0 };
    this.owner = learner.active.map((act, l) => act.map((a) => params.findIndex((p) => p.term === a.term.name && p.layers.includes(l))));
    for (const p of params) for (const l of p.layers) {
      if (!learner.active[l].some((a) => a.term.name === p.term)) throw new Error(`meta-parameter ${p.term} at layer ${l} is not active in the learner (pass it in 'always')`);
    }
    this.needU = learner.active.map((act) => act.some((a) => a.term.needsU));
    this.needE0 = L >= 1 && learner.active[1].some((a) => a.term.needsEPre);
    const I = learner.input;
    if (I !== null && learner.batch === 1) {
      const act1 = learner.active[1], n1 = dims[1];
      const hasX = act1.some((t) => t.term.inputPre === "x"), hasXU = act1.some((t) => t.term.inputPre === "x-u");
      this.fast = {
        I,
        t: this.tt.map((T) => ({
          dWT: InputLayer.like(net, I), dy: T.dy[1],
          A: hasX ? a.alloc(n1) : null, B: hasXU ? a.alloc(n1) : null, C: hasXU ? a.alloc(n1) : null, du: T.du[1],
        })),
      };
    } else this.fast = null;
  }

  /** Write the transposed first-layer tangents back into dW[k][1] (dParams), for readers outside the fast path. */
  syncTangents(): void {
    const F = this.fast;
    if (F !== null) this.fast!.t.forEach((t, k) => F.I.store(this.dW[k][1], t.dWT));
  }

  /** One online step with tangents. Returns the logits' sum (non-finite once diverged). */
  step(label: number): number {
    if (this.fast !== null) return this.fastStep(label);
    const zs = this.learner.propagate(label);
    this.derivs();
    for (let k = 0; k < this.P; k++) {
      this.tangentForward(k);
      this.tangentBackward(k);
    }
    for (let k = 0; k < this.P; k++) this.tangentUpdate(k);
    const batch = this.learner.batch;
    if (batch > 1 && this.learner.pendingCount === batch - 1) this.flushTangents(1);
    this.learner.update();
    return zs;
  }

  /**
   * The same step with layer 1 transposed: primal forward and errors, every
   * tangent's forward and backward pass (reading the old weights), the
   * tangent and primal updates of layers 2 … L, then one sweep of layer 1
   * that does u₁, du₁, the tangent updates and the primal update row by row.
   */
  private fastStep(label: number): number {
    const learner = this.learner, F = this.fast!;
    const zs = learner.propagateInput(label);
    this.derivs();
    for (let k = 0; k < this.P; k++) {
      this.tangentForward(k);
      this.tangentBackward(k);
    }
    for (let k = 0; k < this.P; k++) this.tangentUpdate(k);
    learner.updateUpper();
    learner.inputUpdate(learner.factors(1, 1, learner.sig1), F.t);
    return zs;
  }

  /**
   * Layer 1's tangent update for the fast path, as row vectors for
   * inputSweep: every term there has pre factor x (tangent 0: the input has
   * none) or x − u₁ (tangent −du₁), so
   * dW₁ += Σ_x (c dpost + dc post) ⊗ x + Σ_{x−u} [(c dpost + dc post) ⊗ (x − u) − c post ⊗ du]:
   * A' and B' are the bracketed n-vectors, C' = Σ_{x−u} c post.
   */
  private inputTangentFactors(k: number): void {
    const { net, active, sig1 } = this.learner, T = this.tt[k], t = this.fast!.t[k], n = net.dims[1];
    const f = this.f, g = this.g, act = active[1], dbl = this.db[k][1], K = net.k;
    if (t.A !== null) t.A.fill(0);
    if (t.B !== null) t.B.fill(0);
    if (t.C !== null) t.C.fill(0);
    const gb = this.gBias;
    if (net.bias) for (let a = 0; a < act.length; a++) { act[a].term.tangent(sig1, T.sig1, this.scrT[a], g); gb[a] = g.preBias; }
    for (let a = 0; a < act.length; a++) {
      const term = act[a].term;
      term.factors(sig1, this.scrP[a], f);
      term.tangent(sig1, T.sig1, this.scrT[a], g);
      const c = act[a].coef * f.sign, dc = this.owner[1][a] === k ? f.sign : 0;
      const V = term.inputPre === "x" ? t.A! : t.B!;
      K.lin2(V, c, g.post, dc, f.post, n, true);
      if (term.inputPre === "x-u") K.lin2(t.C!, c, f.post, 0, f.post, n, true);
      if (net.bias) for (let i = 0; i < n; i++) dbl[i] += c * (g.post[i] * f.preBias + f.post[i] * gb[a]) + dc * f.post[i] * f.preBias;
    }
  }

  /** Apply a trailing partial mini-batch (primal and tangents), averaged over its size. */
  flush(): void {
    const p = this.learner.pendingCount;
    if (p > 0) this.flushTangents(this.learner.batch / p);
    this.learner.flush();
  }

  /** dW_k += scale · (accumulated tangent updates): the tangent of the primal mini-batch update. */
  private flushTangents(scale: number): void {
    for (let k = 0; k < this.P; k++) {
      const d = this.dParams[k], acc = this.accParams[k];
      for (let i = 0; i < d.length; i++) d[i] += scale * acc[i];
      acc.fill(0);
    }
  }

  /**
   * Mean query cross-entropy and accuracy, and the exact gradient of the loss
   * with respect to each meta-parameter: dCE = (p − onehot) · dz_L.
   */
  queryGrad(images: Uint8Array, dim: number, idx: ArrayLike<number>, labels: ArrayLike<number>): { loss: number; acc: number; grad: Float64Array } {
    const net = this.learner.net, tr = this.learner.tr, L = net.L, nL = net.dims[L];
    const grad = new Float64Array(this.P);
    let loss = 0, hits = 0;
    for (let q = 0; q < idx.length; q++) {
      loadPixels(tr.y[0], images, idx[q], dim);
      // The fast path's forward pass also records the nonzero pixels for the tangents' dz₁ = dW₁x.
      if (this.fast !== null) this.learner.forwardOnly();
      else forward(net, tr);
      this.derivs();
      const zL = tr.z[L], p = tr.y[L], lab = labels[q];
      loss += logSumExp(zL, nL) - zL[lab];
      if (argmax(zL, nL) === lab) hits++;
      for (let k = 0; k < this.P; k++) {
        this.tangentForward(k);
        const dz = this.tt[k].dz[L];
        let s = 0;
        for (let i = 0; i < nL; i++) s += (p[i] - (i === lab ? 1 : 0)) * dz[i];
        grad[k] += s;
      }
    }
    const n = idx.length;
    for (let k = 0; k < this.P; k++) grad[k] /= n;
    return { loss: loss / n, acc: hits / n, grad };
  }

  /** σ''(zₗ) of the current forward pass (σ' is kept by the forward pass), for every hidden layer. */
  private derivs(): void {
    const net = this.learner.net, tr = this.learner.tr;
    const a = net.act;
    for (let l = 1; l < net.L; l++) {
      if (a.d2fd !== undefined) a.d2fd(this.d2sig[l], tr.dsig[l], net.dims[l]);
      else a.d2f(this.d2sig[l], tr.y[l], tr.z[l], net.dims[l]);
    }
  }

  /** dzₗ = dWₗ yₗ₋₁ + Wₗ dyₗ₋₁ (+ dbₗ); dyₗ = σ'(zₗ) dzₗ; dp = p ⊙ (dz_L − p·dz_L). */
  private tangentForward(k: number): void {
    const net = this.learner.net, tr = this.learner.tr, { L, dims, W } = net, K = net.k;
    const T = this.tt[k], dW = this.dW[k];
    for (let l = 1; l <= L; l++) {
      const n = dims[l], m = dims[l - 1], dz = T.dz[l];
      const dbl = net.bias ? this.db[k][l] : null;
      if (l === 1 && this.fast !== null) this.fast.I.forward(dz, tr.y[0], dbl, this.fast.t[k].dWT);
      else if (l === 1) K.matVec(dz, dW[l], tr.y[l - 1], n, m, dbl); // dy₀ = 0: the input has no tangent
      else K.matVec2(dz, dW[l], tr.y[l - 1], W[l], T.dy[l - 1], n, m, dbl);
      const dy = T.dy[l];
      if (l < L) {
        K.mul(dy, tr.dsig[l], dz, n);
      } else {
        const p = tr.y[L];
        let pd = 0;
        for (let i = 0; i < n; i++) pd += p[i] * dz[i];
        for (let i = 0; i < n; i++) dy[i] = p[i] * (dz[i] - pd);
      }
    }
  }

  /**
   * de_L = dp; d(Bᵀe) = dBᵀe + Bᵀde (dB = dW for backprop, 0 for fixed random B);
   * deₗ₋₁ = d(Bᵀe) ⊙ σ'(zₗ₋₁) + Bᵀe ⊙ σ''(zₗ₋₁) ⊙ dzₗ₋₁;  duₗ = dWₗᵀ yₗ + Wₗᵀ dyₗ.
   */
  private tangentBackward(k: number): void {
    const { net, fb, tr } = this.learner, { L, dims, W } = net, K = net.k;
    const T = this.tt[k], dW = this.dW[k], sym = fb.name === "sym";
    T.de[L].set(T.dy[L]);
    const A = this.tmpA, C = this.tmpB;
    for (let l = L; l >= 1; l--) {
      const n = dims[l], m = dims[l - 1];
      // Fast path: du₁ is formed row by row in layer 1's sweep.
      const wantE = l > 1 || this.needE0, wantU = this.needU[l] && !(l === 1 && this.fast !== null);
      const post = tr.y[l], dpost = T.dy[l], dbte = T.dbte[l - 1], du = T.du[l];
      if (sym && wantE && wantU) {
        // One pass over W and dW gives both d(Wᵀe) = Wᵀde + dWᵀe and duₗ = Wᵀdy + dWᵀy.
        K.matTVec2x2(dbte, du, W[l], T.de[l], dpost, dW[l], tr.e[l], post, n, m);
      } else if (sym) {
        if (wantE) {
          K.matTVec(dbte, dW[l], tr.e[l], n, m);
          K.matTVec(A, W[l], T.de[l], n, m);
          for (let j = 0; j < m; j++) dbte[j] += A[j];
        }
        if (wantU) {
          K.matTVec(du, dW[l], post, n, m);
          K.matTVec(C, W[l], dpost, n, m);
          for (let j = 0; j < m; j++) du[j] += C[j];
        }
      } else {
        if (wantE) K.matTVec(dbte, fb.B[l], T.de[l], n, m);
        if (wantU) {
          K.matTVec(du, dW[l], post, n, m);
          K.matTVec(C, W[l], dpost, n, m);
          for (let j = 0; j < m; j++) du[j] += C[j];
        }
      }
      if (!wantE) continue;
      const de = T.de[l - 1];
      if (l > 1) {
        K.tanErr(de, dbte, tr.dsig[l - 1], tr.bte[l - 1], this.d2sig[l - 1], T.dz[l - 1], m);
      } else de.set(dbte.subarray(0, m));
    }
  }

  /**
   * dWₗ += Σ_a sign·[θ_a (d(post) ⊗ pre + post ⊗ d(pre)) + [a is θ_k] post ⊗ pre].
   * The pieces of all terms are gathered first; pieces on the input's tangent
   * (dy₀ = 0) are dropped and pieces sharing a pre vector are merged, so a
   * layer's tangent update is usually one sweep of dWₗ.
   */
  private tangentUpdate(k: number): void {
    const { net, active, sig, sig0 } = this.learner, { L, dims } = net, K = net.k;
    const T = this.tt[k], f = this.f, g = this.g, zero = T.dy[0];
    for (let l = 1; l <= L; l++) {
      if (l === 1 && this.fast !== null) { this.inputTangentFactors(k); continue; }
      const act = active[l], n = dims[l], m = dims[l - 1];
      const online = this.learner.batch === 1, inv = online ? 1 : 1 / this.learner.batch;
      const dWl = online ? this.dW[k][l] : this.accW[k][l], dbl = online ? this.db[k][l] : this.accb[k][l], gb = this.gBias;
      // Bias factors read dbₗ, so take them all before any term writes to it.
      if (net.bias) for (let a = 0; a < act.length; a++) { act[a].term.tangent(sig[l], T.sig[l], this.scrT[a], g); gb[a] = g.preBias; }
      const s = this.ps, us = this.pu, vs = this.pv;
      let q = 0;
      for (let a = 0; a < act.length; a++) {
        const t = act[a];
        // Each term gets its own scratch: the pre vectors must survive until the sweep.
        if (t.term.inputPre === "x-u") {
          // Oja-like: pre = yₗ₋₁ − uₗ, d(pre) = dyₗ₋₁ − duₗ, formed by the backend (the term gives the rest, m = 0).
          t.term.factors(sig0[l], this.scrP[a], f);
          t.term.tangent(sig0[l], T.sig0[l], this.scrT[a], g);
          K.sub(this.scrP[a], sig[l].pre, sig[l].u, m); f.pre = this.scrP[a];
          K.sub(this.scrT[a], T.sig[l].pre, T.sig[l].u, m); g.pre = this.scrT[a];
        } else {
          t.term.factors(sig[l], this.scrP[a], f);
          t.term.tangent(sig[l], T.sig[l], this.scrT[a], g);
        }
        const c = inv * t.coef * f.sign, dc = this.owner[l][a] === k ? inv * f.sign : 0;
        if (c !== 0) {
          if (g.post !== zero) { s[q] = c; us[q] = g.post; vs[q++] = f.pre; }
          if (g.pre !== zero) { s[q] = c; us[q] = f.post; vs[q++] = g.pre; }
        }
        if (dc !== 0) { s[q] = dc; us[q] = f.post; vs[q++] = f.pre; }
        if (net.bias) {
          for (let i = 0; i < n; i++) dbl[i] += c * (g.post[i] * f.preBias + f.post[i] * gb[a]) + dc * f.post[i] * f.preBias;
        }
      }
      q = this.mergeByPre(q, n, K);
      K.addOuters(dWl, s, us, vs as Buf[], q, n, m);
    }
  }

  /** Merge pieces s_a u_a ⊗ v with the same v into one (Σ s_a u_a) ⊗ v; returns the new count. */
  private mergeByPre(q: number, n: number, K: Kernels): number {
    const s = this.ps, us = this.pu, vs = this.pv;
    let out = 0, buf = 0;
    for (let a = 0; a < q; a++) {
      if (vs[a] === null) continue;
      let comb: Buf | null = null;
      for (let b = a + 1; b < q; b++) {
        if (vs[b] !== vs[a]) continue;
        if (comb === null) { comb = this.comb[buf++]; K.lin2(comb, s[a], us[a], s[b], us[b], n, false); }
        else K.lin2(comb, s[b], us[b], 0, us[b], n, true);
        vs[b] = null;
      }
      if (comb !== null) { s[out] = 1; us[out] = comb; vs[out++] = vs[a]; }
      else { s[out] = s[a]; us[out] = us[a]; vs[out++] = vs[a]; }
    }
    return out;
  }
}
