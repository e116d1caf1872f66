import type { Buf } from "../../core/kernels.js";
import type { LayerSignals } from "../../rules/types.js";
import type { SignalNeeds, TangentPass } from "../../learn/network.js";
import { SITE_J, SITE_U, SITE_W, type RNN } from "./rnn.js";

/** Tangent activity of one meta-parameter direction, laid out like the RNN's activity. */
class RnnTangentTrace {
  readonly dH: Buf;
  readonly dA: Buf;
  readonly dR: Buf;
  readonly dG: Buf;
  readonly dD: Buf;
  readonly duJ: Buf;
  readonly duU: Buf;
  readonly duW: Buf;
  readonly deX: Buf;
  readonly dueU: Buf;
  readonly dueJ: Buf;
  readonly dueW: Buf;
  readonly dz: Buf;
  readonly dp: Buf;
  readonly rows: { h: Buf[]; a: Buf[]; r: Buf[]; g: Buf[]; delta: Buf[]; uJ: Buf[]; uU: Buf[]; eX: Buf[]; ueU: Buf[]; ueJ: Buf[] };
  readonly sig: LayerSignals[];
  readonly dU: Buf;
  readonly dJ: Buf;
  readonly dW: Buf;

  constructor(net: RNN, dParams: Buf, zeroX: Buf) {
    const { N, nIn, T, nOut: C } = net, a = net.arena;
    this.dU = net.paramView(dParams, net.U); this.dJ = net.paramView(dParams, net.J); this.dW = net.paramView(dParams, net.W);
    this.dH = a.alloc((T + 1) * N); this.dA = a.alloc(T * N);
    this.dR = net.leak === 1 ? this.dH.subarray(N) : a.alloc(T * N);
    this.dG = a.alloc((T + 1) * N); this.dD = a.alloc((T + 1) * N);
    this.duJ = a.alloc(T * N); this.duU = a.alloc(T * nIn); this.duW = a.alloc(N); this.deX = a.alloc(T * nIn);
    this.dueU = a.alloc(T * nIn); this.dueJ = a.alloc(T * N); this.dueW = a.alloc(N);
    this.dz = a.alloc(C); this.dp = a.alloc(C);
    const rowsOf = (b: Buf, w: number, n: number) => Array.from({ length: n }, (_, t) => b.subarray(t * w, (t + 1) * w));
    const shifted = (b: Buf, w: number) => [b.subarray(0, 0), ...rowsOf(b, w, T)];
    this.rows = {
      h: rowsOf(this.dH, N, T + 1), g: rowsOf(this.dG, N, T + 1), delta: rowsOf(this.dD, N, T + 1),
      a: shifted(this.dA, N), r: shifted(this.dR, N), uJ: shifted(this.duJ, N), uU: shifted(this.duU, nIn), eX: shifted(this.deX, nIn),
      ueU: shifted(this.dueU, nIn), ueJ: shifted(this.dueJ, N),
    };
    const base = net.sites.map((s) => s.sig);
    const empty = this.dz.subarray(0, 0);
    this.sig = [
      { ...base[0], pre: empty, post: empty, e: empty, ePre: empty, u: empty, ue: empty },
      { ...base[SITE_U], pre: zeroX, post: this.dH.subarray(N), e: this.dD.subarray(N), ePre: this.deX, u: this.duU, ue: this.dueU },
      {
        ...base[SITE_J],
        pre: this.dH.subarray(0, T * N),
        post: this.dH.subarray(N),
        e: this.dD.subarray(N),
        ePre: this.dD.subarray(0, T * N),
        u: this.duJ,
        ue: this.dueJ,
      },
      { ...base[SITE_W], pre: this.rows.h[T], post: this.dp, e: this.dp, ePre: this.rows.delta[T], u: this.duW, ue: this.dueW },
    ];
  }
}

/**
 * Forward-mode tangents of the RNN's activity along each meta-parameter
 * direction, through the sequence and back through time (second-order terms
 * included: the tangent of δₜ carries σ''(aₜ)·daₜ, σ'' = −2 rₜ σ'(aₜ)):
 *   daₜ = dU xₜ + dJ hₜ₋₁ + J dhₜ₋₁,  dhₜ = (1 − α) dhₜ₋₁ + α σ'(aₜ) daₜ,
 *   dz = dW h_T + W dh_T,  dp = p ⊙ (dz − p·dz),  de = dp,
 *   dg_T = dB_Wᵀ e + B_Wᵀ de,  dδₜ = α (dgₜ ⊙ σ' + gₜ ⊙ σ'' ⊙ daₜ),
 *   dgₜ₋₁ = (1 − α) dgₜ + dB_Jᵀ δₜ + B_Jᵀ dδₜ   (dB = dW, dJ with backprop; 0 with fixed B),
 *   du = dWᵀ post + Wᵀ d(post) at every site.
 */
export class RnnTangentPass implements TangentPass {
  readonly sig: LayerSignals[][];
  private readonly net: RNN;
  private readonly tt: RnnTangentTrace[];
  /** σ''(aₜ) (T, N), shared by all directions of a step. */
  private readonly d2: Buf;
  private readonly d2rows: Buf[];
  /** The tangent of the input: zero. */
  private readonly zeroX: Buf;
  private readonly tmp: Buf;

  constructor(net: RNN, dParams: readonly Buf[]) {
    this.net = net;
    const { N, T, nIn } = net, a = net.arena;
    this.zeroX = a.alloc(T * nIn);
    this.tt = dParams.map((d) => new RnnTangentTrace(net, d, this.zeroX));
    this.sig = this.tt.map((t) => t.sig);
    this.d2 = a.alloc(T * N);
    this.d2rows = [this.d2.subarray(0, 0), ...Array.from({ length: T }, (_, t) => this.d2.subarray(t * N, (t + 1) * N))];
    this.tmp = a.alloc(Math.max(N, nIn));
  }

  zeroOf(): Buf { return this.zeroX; }

  prepare(): void {
    const r = this.net.R, d = this.net.dsig, d2 = this.d2;
    for (let i = 0; i < d2.length; i++) d2[i] = -2 * r[i] * d[i];
  }

  propagate(k: number, needs: SignalNeeds): void {
    this.forward(k);
    this.backward(k, needs);
  }

  logits(k: number): Buf {
    this.forward(k);
    return this.tt[k].dz;
  }

  private forward(k: number): void {
    const net = this.net, { N, nIn, T, rows, leak, k: K } = net, R = net.rowsOf, tt = this.tt[k], D = tt.rows;
    for (let t = 1; t <= T; t++) {
      const da = D.a[t];
      if (t <= rows) K.matVec(da, tt.dU, R.x[t], N, nIn, null);
      else da.fill(0);
      // dJ hₜ₋₁ + J dhₜ₋₁ (+ what is there), one pass over J and dJ.
      if (t > 1) K.matVec2(da, tt.dJ, R.h[t - 1], net.J, D.h[t - 1], N, N, da);
      K.mul(D.r[t], R.d[t], da, N);
      if (leak !== 1) K.lin2(D.h[t], 1 - leak, D.h[t - 1], leak, D.r[t], N, false);
    }
    K.matVec2(tt.dz, tt.dW, R.h[T], net.W, D.h[T], net.nOut, N, null);
    const p = net.p, dz = tt.dz, dp = tt.dp, C = net.nOut;
    let pd = 0;
    for (let i = 0; i < C; i++) pd += p[i] * dz[i];
    for (let i = 0; i < C; i++) dp[i] = p[i] * (dz[i] - pd);
  }

  private backward(k: number, needs: SignalNeeds): void {
    const net = this.net, { N, nIn, T, nOut: C, leak, k: K } = net, R = net.rowsOf, tt = this.tt[k], D = tt.rows;
    const sym = net.feedback.name === "sym", B = net.feedback.B, tmp = this.tmp;
    const needUJ = needs.needU[SITE_J], needUU = needs.needU[SITE_U], needG0 = needs.needEPre[SITE_J], needEX = needs.needEPre[SITE_U];
    // dg_T and duW (de = dp).
    if (sym) K.matTVec2x2(D.g[T], tt.duW, net.W, tt.dp, tt.dp, tt.dW, net.e, net.p, C, N);
    else {
      K.matTVec(D.g[T], B[SITE_W], tt.dp, C, N);
      if (needs.needU[SITE_W]) { K.matTVec(tt.duW, tt.dW, net.p, C, N); K.matTVec(tmp, net.W, tt.dp, C, N); K.lin2(tt.duW, 1, tt.duW, 1, tmp, N, false); }
    }
    for (let t = T; t >= 1; t--) {
      const dd = D.delta[t];
      K.tanErr(dd, D.g[t], R.d[t], R.g[t], this.d2rows[t], D.a[t], N);
      if (leak !== 1) K.lin2(dd, leak, dd, 0, dd, N, false);
      const wantG = t > 1 || needG0;
      if (sym && wantG && needUJ) K.matTVec2x2(D.g[t - 1], D.uJ[t], net.J, dd, D.h[t], tt.dJ, R.delta[t], R.h[t], N, N);
      else {
        if (wantG) {
          if (sym) { K.matTVec(D.g[t - 1], tt.dJ, R.delta[t], N, N); K.matTVec(tmp, net.J, dd, N, N); K.lin2(D.g[t - 1], 1, D.g[t - 1], 1, tmp, N, false); }
          else K.matTVec(D.g[t - 1], B[SITE_J], dd, N, N);
        }
        if (needUJ) { K.matTVec(D.uJ[t], tt.dJ, R.h[t], N, N); K.matTVec(tmp, net.J, D.h[t], N, N); K.lin2(D.uJ[t], 1, D.uJ[t], 1, tmp, N, false); }
      }
      if (wantG && leak !== 1) K.lin2(D.g[t - 1], 1, D.g[t - 1], 1 - leak, D.g[t], N, false);
      if (needUU) { K.matTVec(D.uU[t], tt.dU, R.h[t], N, nIn); K.matTVec(tmp, net.U, D.h[t], N, nIn); K.lin2(D.uU[t], 1, D.uU[t], 1, tmp, nIn, false); }
      if (needEX) {
        if (sym) { K.matTVec(D.eX[t], tt.dU, R.delta[t], N, nIn); K.matTVec(tmp, net.U, dd, N, nIn); K.lin2(D.eX[t], 1, D.eX[t], 1, tmp, nIn, false); }
        else K.matTVec(D.eX[t], B[SITE_U], dd, N, nIn);
      }
    }
    if (needG0) D.delta[0].set(D.g[0]);
    // d(Wᵀe) through each site's own weights: dWᵀe + Wᵀde.
    const ue = needs.needUE;
    const dTv = (out: Buf, dM: Buf, M: Buf, e: Buf, de: Buf, n: number, m: number) => {
      K.matTVec(out, dM, e, n, m);
      K.matTVec(tmp, M, de, n, m);
      K.lin2(out, 1, out, 1, tmp, m, false);
    };
    if (ue?.[SITE_W]) dTv(tt.dueW, tt.dW, net.W, net.e, tt.dp, C, N);
    if (ue?.[SITE_J] || ue?.[SITE_U]) for (let t = 1; t <= T; t++) {
      if (ue[SITE_J]) dTv(D.ueJ[t], tt.dJ, net.J, R.delta[t], D.delta[t], N, N);
      if (ue[SITE_U]) dTv(D.ueU[t], tt.dU, net.U, R.delta[t], D.delta[t], N, nIn);
    }
  }
}
