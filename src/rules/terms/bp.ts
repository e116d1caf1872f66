import type { PlasticityTerm } from "../types.js";

/**
 * Pseudo-gradient: ΔWₗ = −θ_bp · eₗ yₗ₋₁ᵀ (PAPER.md). With symmetric feedback
 * this is exactly −θ_bp ∂CE/∂Wₗ; with random feedback it is the
 * feedback-alignment update.
 */
export const bp: PlasticityTerm = {
  name: "bp",
  equation: "-e_l y_{l-1}^T",
  needsU: false,
  needsEPre: false,
  inputPre: "x",
  factors(s, _scratch, out) {
    out.sign = -1; out.post = s.e; out.pre = s.pre; out.preBias = 1;
  },
  tangent(_s, ds, _scratch, out) {
    out.sign = -1; out.post = ds.e; out.pre = ds.pre; out.preBias = 0;
  },
  naive(s) {
    const { n, m } = s, out = new Float64Array(n * m);
    for (let t = 0; t < s.T; t++) for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] += -s.e[t * n + i] * s.pre[t * m + j];
    return out;
  },
};
