import type { Buf } from "../../core/kernels.js";
import type { LayerSignals } from "../../rules/types.js";
import type { SignalNeeds, TangentPass } from "../../learn/network.js";
import type { InputLayer } from "./input-layer.js";
import type { MLP } from "./mlp.js";

/** Tangent activity of one meta-parameter direction; same layout as Trace. */
class TangentTrace {
  readonly dz: Buf[];
  /** dy[L] is dp, the tangent of the softmax output. */
  readonly dy: Buf[];
  readonly de: Buf[];
  readonly du: Buf[];
  /** d(Wₗᵀeₗ) = dWₗᵀeₗ + Wₗᵀdeₗ. */
  readonly due: Buf[];
  /** dbte[l] = d(Bₗ₊₁ᵀ eₗ₊₁), before the σ' factor. */
  readonly dbte: Buf[];
  readonly sig: LayerSignals[];
  constructor(net: MLP, db: Buf[]) {
    const d = net.dims, a = net.arena;
    this.dz = d.map((n) => a.alloc(n));
    this.dy = d.map((n) => a.alloc(n));
    this.de = d.map((n) => a.alloc(n));
    this.du = d.map((_, i) => a.alloc(i === 0 ? 0 : d[i - 1]));
    this.due = d.map((_, i) => a.alloc(i === 0 ? 0 : d[i - 1]));
    this.dbte = d.map((n) => a.alloc(n));
    this.sig = d.map((n, i) => ({
      l: i, L: net.L, n, m: i > 0 ? d[i - 1] : 0, T: 1,
      pre: this.dy[Math.max(0, i - 1)], post: this.dy[i], e: this.de[i], ePre: this.de[Math.max(0, i - 1)],
      u: this.du[i], ue: this.due[i], b: net.bias && i > 0 ? db[i] : null,
    }));
  }
}

/** Where a fast step keeps layer 1 and its tangents transposed (src/nets/mlp/sweep-tangent.ts). */
export interface TransposedTangents {
  readonly I: InputLayer;
  /** dWT[k]: the tangent of layer 1 along direction k, transposed like I.WT. */
  readonly dWT: readonly Buf[];
}

/**
 * Forward-mode tangents of the MLP's activity along each meta-parameter
 * direction (PAPER.md "Meta-learning"): the tangent of eₗ carries
 * σ''(zₗ)·dzₗ, so second-order terms are included.
 */
export class MlpTangentPass implements TangentPass {
  readonly sig: LayerSignals[][];
  private readonly net: MLP;
  private readonly tt: TangentTrace[];
  private readonly dW: Buf[][];
  private readonly db: Buf[][];
  /** σ''(zₗ), shared by all tangents of a step. */
  private readonly d2sig: Buf[];
  private readonly tmpA: Buf;
  private readonly tmpB: Buf;
  private fast: TransposedTangents | null = null;

  constructor(net: MLP, dParams: readonly Buf[]) {
    if (net.norm !== "none") throw new Error(`meta-gradients through ${net.norm} normalization are not implemented`);
    this.net = net;
    const { dims, arena: a } = net, raw = net.raw;
    this.dW = dParams.map((d) => raw.W.map((w) => net.paramView(d, w)));
    this.db = dParams.map((d) => raw.b.map((b) => net.paramView(d, b)));
    this.tt = this.db.map((db) => new TangentTrace(net, db));
    this.sig = this.tt.map((t) => t.sig);
    this.d2sig = dims.map((n) => a.alloc(n));
    const wide = Math.max(...dims);
    this.tmpA = a.alloc(wide); this.tmpB = a.alloc(wide);
  }

  /** dy₀ of direction k: the input has no tangent. */
  zeroOf(k: number): Buf { return this.tt[k].dy[0]; }

  /** Layer 1 and its tangents are held transposed by a fast step from now on (see sweep-tangent.ts). */
  useTransposed(t: TransposedTangents): void { this.fast = t; }

  /** σ''(zₗ) of the current forward pass (σ' is kept by the forward pass), for every hidden layer. */
  prepare(): void {
    const net = this.net, tr = net.tr, a = net.act;
    for (let l = 1; l < net.L; l++) {
      if (a.d2fd !== undefined) a.d2fd(this.d2sig[l], tr.dsig[l], net.dims[l]);
      else a.d2f(this.d2sig[l], tr.y[l], tr.z[l], net.dims[l]);
    }
  }

  propagate(k: number, needs: SignalNeeds): void {
    this.forward(k);
    this.backward(k, needs);
  }

  logits(k: number): Buf {
    this.forward(k);
    return this.tt[k].dz[this.net.L];
  }

  /** dzₗ = dWₗ yₗ₋₁ + Wₗ dyₗ₋₁ (+ dbₗ); dyₗ = σ'(zₗ) dzₗ; dp = p ⊙ (dz_L − p·dz_L). */
  private forward(k: number): void {
    const net = this.net, tr = net.tr, { L, dims } = net, W = net.raw.W, K = net.k;
    const T = this.tt[k], dW = this.dW[k];
    for (let l = 1; l <= L; l++) {
      const n = dims[l], m = dims[l - 1], dz = T.dz[l];
      const dbl = net.bias ? this.db[k][l] : null;
      if (l === 1 && this.fast !== null) this.fast.I.forward(dz, tr.y[0], dbl, this.fast.dWT[k]);
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
   * de_L = dp; d(Bᵀe) = dBᵀe + Bᵀde (dB = dW for backprop, 0 for a fixed B and for sign(W)·s);
   * deₗ₋₁ = d(Bᵀe) ⊙ σ'(zₗ₋₁) + Bᵀe ⊙ σ''(zₗ₋₁) ⊙ dzₗ₋₁;  duₗ = dWₗᵀ yₗ + Wₗᵀ dyₗ.
   */
  private backward(k: number, needs: SignalNeeds): void {
    const net = this.net, fb = net.feedback, tr = net.tr, { L, dims } = net, W = net.raw.W, K = net.k;
    const T = this.tt[k], dW = this.dW[k], sym = fb.name === "sym";
    T.de[L].set(T.dy[L]);
    const A = this.tmpA, C = this.tmpB;
    for (let l = L; l >= 1; l--) {
      const n = dims[l], m = dims[l - 1];
      // Fast path: du₁ is formed row by row in layer 1's sweep.
      const wantE = l > 1 || needs.needEPre[1], wantU = needs.needU[l] && !(l === 1 && this.fast !== null);
      const post = tr.y[l], dpost = T.dy[l], dbte = T.dbte[l - 1], du = T.du[l];
      if (needs.needUE?.[l]) {
        // d(Wᵀe) through W itself, whatever the feedback: dWᵀe + Wᵀde.
        K.matTVec(T.due[l], dW[l], tr.e[l], n, m);
        K.matTVec(A, W[l], T.de[l], n, m);
        K.lin2(T.due[l], 1, T.due[l], 1, A, m, false);
      }
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
        // Fixed B (feedback alignment, DFA) and sign symmetry alike: dB = 0 (sign is piecewise constant), so d(Bᵀe) = Bᵀde;
        // DFA reads the output error's tangent, d(Dₗ₋₁ e_L) = Dₗ₋₁ de_L.
        if (wantE && fb.name === "dfa") K.matVec(dbte, fb.B[l - 1], T.de[L], m, dims[L], null);
        else if (wantE) K.matTVec(dbte, fb.B[l], T.de[l], n, m);
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
}
