import type { Buf } from "../core/kernels.js";
import type { Rng } from "../core/rng.js";
import { initWeights, type InitName } from "../nn/init.js";
import { BN_EPS, layerNormBackward, type MLP, type Trace } from "../nn/mlp.js";

export type FeedbackName = "sym" | "random";
export const FEEDBACKS: readonly FeedbackName[] = ["sym", "random"];

/**
 * How the error reaches a layer (PAPER.md, "Error signals"):
 *   eₗ = (Bₗ₊₁ᵀ eₗ₊₁) ⊙ σ'(zₗ)
 * with Bₗ = Wₗ for backprop ("sym"), or a fixed random Bₗ for feedback
 * alignment (Lillicrap et al. 2016), drawn from the same distribution as W
 * (same init, same gain) but independently, and never updated.
 */
export interface Feedback {
  readonly name: FeedbackName;
  /** B[l], shape (nₗ, nₗ₋₁); for "sym" these are the network's own W[l] views. */
  readonly B: readonly Buf[];
}

export function makeFeedback(name: FeedbackName, net: MLP, init: InitName, gain: number, rng: Rng): Feedback {
  if (name === "sym") return { name, B: net.W };
  if (name !== "random") throw new Error(`unknown feedback '${name}' (expected sym or random)`);
  const B = net.W.map((w, l) => {
    const m = net.arena.alloc(w.length); // same arena (so the fast kernels apply), own storage
    if (l > 0) initWeights(m, net.dims[l], net.dims[l - 1], init, gain, rng);
    return m;
  });
  return { name, B };
}

export interface BackwardNeeds {
  /** needU[l]: compute uₗ = Wₗᵀ yₗ (Oja's rule is active at layer l). */
  needU: readonly boolean[];
  /** Compute e₀ = B₁ᵀ e₁ (the input is linear, so no σ' there); only the ehebb term at layer 1 reads it. */
  needE0: boolean;
}

/**
 * Backward pass from e_L = p − onehot(label) (already in tr.e[L]). Where B = W,
 * Wᵀe and Wᵀy are read from the same matrix in one pass (`matTVec2`).
 */
export function backward(net: MLP, fb: Feedback, tr: Trace, needs: BackwardNeeds): void {
  const { L, dims, W, k } = net;
  const sym = fb.name === "sym";
  for (let l = L; l >= 1; l--) {
    const n = dims[l], m = dims[l - 1];
    const wantE = l > 1 || needs.needE0;
    const wantU = needs.needU[l];
    const g = tr.e[l - 1];
    if (wantE && wantU && sym) k.matTVec2(g, tr.u[l], W[l], tr.e[l], tr.y[l], n, m);
    else {
      if (wantE) k.matTVec(g, fb.B[l], tr.e[l], n, m);
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
