import { heapArena } from "../../core/kernels.js";
import { boundaryFraction } from "../../learn/dale.js";
import { loadPixels } from "../../data/pixels.js";
import { backward, forward, type MLP } from "./mlp.js";
import { copyFeedback, type Feedback } from "../../signals/feedback.js";
import { angleDeg, frobenius, orthonormalityError, participationRatio } from "../../nn/metrics.js";

/** One layer's diagnostics at one moment of training (PAPER.md "Diagnostics"). */
export interface LayerDiagnostics {
  /** Layer l = 1 … L (activations yₗ; the output layer's are the softmax probabilities). */
  l: number;
  /** Participation ratio of the activation covariance on the probe set. */
  pr: number;
  /** Mean ‖yₗ‖ over the probe set. */
  actNorm: number;
  /** Mean ‖eₗ‖ over the probe set (the error the layer receives). */
  errNorm: number;
  weightNorm: number;
  /** ‖Wₗ Wₗᵀ − I‖_F / √nₗ */
  orthoErr: number;
  /**
   * Every pathway but backprop (feedback alignment, DFA, sign symmetry): the angle (degrees) between the pathway's summed
   * update eₗ yₗ₋₁ᵀ and the true gradient's, over the probe set; null under backprop (where it is 0).
   */
  faAngle: number | null;
  /** Dale's law only: the fraction of the layer's constrained weights at the sign boundary (exactly 0); absent or null otherwise. */
  daleBoundary?: number | null;
}

/**
 * Measure every layer of `net` on a fixed probe set without touching its
 * weights. Works on a float64 copy, so it never competes for the fast
 * path's arena.
 */
export function probe(net: MLP, images: Uint8Array, dim: number, idx: ArrayLike<number>, labels: ArrayLike<number>): LayerDiagnostics[] {
  const fb = net.feedback, dale = net.dale, copy = net.clone(heapArena("f64"));
  const fbCopy: Feedback = copyFeedback(fb, copy.W);
  const symFb: Feedback = { name: "sym", B: copy.W };
  const { L, dims } = copy;
  const tr = copy.tr;
  const sums = dims.map((n) => new Float64Array(n));
  const outer = dims.map((n, l) => new Float64Array(l === 0 ? 0 : n * n));
  const act = new Float64Array(L + 1), err = new Float64Array(L + 1);
  const gFa = dims.map((n, l) => new Float64Array(l === 0 || fb.name === "sym" ? 0 : n * dims[l - 1]));
  const gBp = dims.map((n, l) => new Float64Array(l === 0 || fb.name === "sym" ? 0 : n * dims[l - 1]));
  const none = new Array(L + 1).fill(false);
  for (let q = 0; q < idx.length; q++) {
    loadPixels(tr.y[0], images, idx[q], dim);
    forward(copy, tr);
    for (let i = 0; i < dims[L]; i++) tr.e[L][i] = tr.y[L][i] - (i === labels[q] ? 1 : 0);
    backward(copy, fbCopy, tr, { needU: none, needE0: false });
    for (let l = 1; l <= L; l++) {
      const y = tr.y[l], n = dims[l], s = sums[l], o = outer[l];
      let a = 0, e = 0;
      for (let i = 0; i < n; i++) {
        s[i] += y[i]; a += y[i] * y[i]; e += tr.e[l][i] * tr.e[l][i];
        for (let j = 0; j < n; j++) o[i * n + j] += y[i] * y[j];
      }
      act[l] += Math.sqrt(a); err[l] += Math.sqrt(e);
      if (fb.name !== "sym") addOuter(gFa[l], tr.e[l], tr.y[l - 1]);
    }
    if (fb.name !== "sym") {
      backward(copy, symFb, tr, { needU: none, needE0: false });
      for (let l = 1; l <= L; l++) addOuter(gBp[l], tr.e[l], tr.y[l - 1]);
    }
  }
  const P = idx.length, out: LayerDiagnostics[] = [];
  for (let l = 1; l <= L; l++) {
    out.push({
      l, pr: participationRatio(sums[l], outer[l], dims[l], P), actNorm: act[l] / P, errNorm: err[l] / P,
      weightNorm: frobenius(copy.W[l]), orthoErr: orthonormalityError(copy.W[l], dims[l], dims[l - 1]),
      faAngle: fb.name === "sym" ? null : angleDeg(gFa[l], gBp[l]),
      ...(dale ? { daleBoundary: boundaryFraction(dale, l, copy.W[l], dims[l], dims[l - 1]) } : {}),
    });
  }
  return out;
}

function addOuter(G: Float64Array, u: ArrayLike<number>, v: ArrayLike<number>): void {
  const m = v.length;
  for (let i = 0; i < u.length; i++) { const c = u[i]; if (c !== 0) for (let j = 0; j < m; j++) G[i * m + j] += c * v[j]; }
}
