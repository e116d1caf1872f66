import { boundaryFraction } from "../../learn/dale.js";
import { heapArena, type Buf } from "../../core/kernels.js";
import { loadPixels } from "../../data/pixels.js";
import { RNN, SITE_J, SITE_U, SITE_W } from "./rnn.js";
import { copyFeedback, type Feedback } from "../../signals/feedback.js";
import { angleDeg, frobenius, orthonormalityError, participationRatio } from "../../nn/metrics.js";
import type { LayerDiagnostics } from "../mlp/probe.js";

/** The RNN's diagnostics at one moment of training (PAPER.md "Recurrent networks": diagnostics for RNNs). */
export interface RnnDiagnostics {
  /** Spectral radius of J: max |λ| over its eigenvalues (> 1: the linearized dynamics expand). */
  specRadius: number;
  /** ‖JJᵀ − I‖_F / √N: distance of J's rows from an orthonormal set (Oja's fixed point). */
  orthoErrJ: number;
  /** Over time, t = 1 … T (index t − 1): mean ‖hₜ‖ over the probe set. */
  hNorm: number[];
  /** Participation ratio of hₜ's covariance over the probe set (effective dimensionality of the state). */
  pr: number[];
  /** Mean ‖δₜ‖: the error through time (vanishing or exploding gradients through time). */
  deltaNorm: number[];
}

/**
 * Spectral radius of a square matrix A (n, n), by Gelfand's formula
 * ρ(A) = lim_k ‖Aᵏ‖^{1/k}, with k = 2^m reached by m squarings, each
 * renormalized (the scale kept in logs, so nothing overflows). The error is
 * about ln(c)/k for a transient factor c of the matrix, below 1e-6 relative
 * after 24 squarings even for far-from-normal matrices; unlike a QR
 * iteration it cannot fail to converge. Cost: m·n³ multiply-adds.
 */
export function spectralRadius(A: ArrayLike<number>, n: number, squarings = 24): number {
  let B = Float64Array.from({ length: n * n }, (_, i) => A[i]), C = new Float64Array(n * n);
  const fro = (M: Float64Array) => { let s = 0; for (let i = 0; i < M.length; i++) s += M[i] * M[i]; return Math.sqrt(s); };
  const f0 = fro(B);
  if (!Number.isFinite(f0)) return NaN;
  if (f0 === 0) return 0;
  for (let i = 0; i < B.length; i++) B[i] /= f0;
  // ℓ = ln ‖(A/‖A‖)^(2^m)‖ after m squarings.
  let ell = 0, est = f0;
  for (let m = 1; m <= squarings; m++) {
    C.fill(0);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
      const b = B[i * n + k];
      if (b === 0) continue;
      for (let j = 0; j < n; j++) C[i * n + j] += b * B[k * n + j];
    }
    const s = fro(C);
    if (s === 0) return 0; // nilpotent
    for (let i = 0; i < C.length; i++) C[i] /= s;
    ell = 2 * ell + Math.log(s);
    [B, C] = [C, B];
    const next = f0 * Math.exp(ell / 2 ** m);
    if (Math.abs(next - est) <= 1e-13 * next) return next;
    est = next;
  }
  return est;
}

/**
 * Measure the RNN on a fixed probe set without touching its weights (a
 * float64 copy): per site (U, J, W) the same measures as an MLP layer's —
 * participation ratio and norm of the post-synaptic activity at the read-out
 * (h_T, or p for W), error norm, ‖W‖, ‖WWᵀ − I‖/√n and, under feedback
 * alignment, the angle between its update and the true gradient — and the
 * RNN's own: spectral radius of J, and hₜ and δₜ over time.
 */
export function probeRnn(
  net: RNN,
  images: Uint8Array,
  dim: number,
  idx: ArrayLike<number>,
  labels: ArrayLike<number>,
): { layers: LayerDiagnostics[]; rnn: RnnDiagnostics } {
  const copy = new RNN({ nIn: net.nIn, rows: net.rows, delay: net.delay, N: net.N, nOut: net.nOut, leak: net.leak, arena: heapArena("f64") });
  copy.params.set(net.params);
  const fb = net.feedback,
    random = fb.name !== "sym"; // any pathway but backprop: its angle to the true gradient
  const fbCopy: Feedback = copyFeedback(fb, copy.sites.map((s) => s.W));
  const symFb: Feedback = { name: "sym", B: copy.sites.map((s) => s.W) };
  const { N, T, nOut: C } = copy,
    R = copy.rowsOf;
  const none = { needU: [false, false, false, false], needEPre: [false, false, false, false] };
  const sumT = Array.from({ length: T + 1 }, () => new Float64Array(N)),
    outerT = Array.from({ length: T + 1 }, () => new Float64Array(N * N));
  const hN = new Float64Array(T + 1),
    dN = new Float64Array(T + 1);
  const sumP = new Float64Array(C),
    outerP = new Float64Array(C * C);
  let pNorm = 0,
    eNorm = 0;
  const sites = [SITE_U, SITE_J, SITE_W];
  const gFa = sites.map((l) => new Float64Array(random ? copy.sites[l].W.length : 0)),
    gBp = sites.map((l) => new Float64Array(random ? copy.sites[l].W.length : 0));
  const P = idx.length;
  for (let q = 0; q < P; q++) {
    loadPixels(copy.x, images, idx[q], dim);
    copy.feedback = fbCopy;
    copy.propagate(labels[q], none);
    for (let t = 1; t <= T; t++) {
      const h = R.h[t],
        d = R.delta[t],
        s = sumT[t],
        o = outerT[t];
      let a = 0,
        b = 0;
      for (let i = 0; i < N; i++) {
        s[i] += h[i];
        a += h[i] * h[i];
        b += d[i] * d[i];
        for (let j = 0; j < N; j++) o[i * N + j] += h[i] * h[j];
      }
      hN[t] += Math.sqrt(a);
      dN[t] += Math.sqrt(b);
    }
    let a = 0,
      b = 0;
    for (let i = 0; i < C; i++) {
      sumP[i] += copy.p[i];
      a += copy.p[i] ** 2;
      b += copy.e[i] ** 2;
      for (let j = 0; j < C; j++) outerP[i * C + j] += copy.p[i] * copy.p[j];
    }
    pNorm += Math.sqrt(a);
    eNorm += Math.sqrt(b);
    if (random) {
      sites.forEach((l, i) => addUpdate(gFa[i], copy, l));
      copy.feedback = symFb;
      copy.propagate(labels[q], none);
      sites.forEach((l, i) => addUpdate(gBp[i], copy, l));
    }
  }
  const prT = (t: number) => participationRatio(sumT[t], outerT[t], N, P);
  const layers: LayerDiagnostics[] = sites.map((l, i) => {
    const s = copy.sites[l];
    return {
      l,
      pr: l === SITE_W ? participationRatio(sumP, outerP, C, P) : prT(T),
      actNorm: (l === SITE_W ? pNorm : hN[T]) / P,
      errNorm: (l === SITE_W ? eNorm : dN[T]) / P,
      weightNorm: frobenius(s.W),
      orthoErr: orthonormalityError(s.W, s.n, s.m),
      faAngle: random ? angleDeg(gFa[i], gBp[i]) : null,
      ...(net.dale ? { daleBoundary: boundaryFraction(net.dale, l, s.W, s.n, s.m) } : {}),
    };
  });
  const ts = Array.from({ length: T }, (_, i) => i + 1);
  return {
    layers,
    rnn: {
      specRadius: spectralRadius(copy.J, N),
      orthoErrJ: orthonormalityError(copy.J, N, N),
      hNorm: ts.map((t) => hN[t] / P),
      pr: ts.map(prT),
      deltaNorm: ts.map((t) => dN[t] / P),
    },
  };
}

/** G += the site's pseudo-gradient Σₜ eₜ preₜᵀ of the last propagate (the bp term's update, without its sign). */
function addUpdate(G: Float64Array, net: RNN, l: number): void {
  const s = net.sites[l], { n, m, T } = s, e: Buf = s.sig.e, pre: Buf = s.sig.pre;
  for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) {
    const c = e[t * n + i];
    if (c !== 0) for (let j = 0; j < m; j++) G[i * m + j] += c * pre[t * m + j];
  }
}
