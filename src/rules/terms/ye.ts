import type { PlasticityTerm } from "../types.js";

/**
 * Post-activity × pre-error: ΔWₗ = θ_ye · yₗ eₗ₋₁ᵀ (PAPER.md's rule pool): the
 * unit's own activity correlated with the error of its inputs, a member of the
 * pool of local terms of Shervani-Tabar & Rosenbaum 2023. The constant bias
 * input carries no error, so its pre factor is 0.
 */
export const ye: PlasticityTerm = {
  name: "ye",
  equation: "y_l e_{l-1}^T",
  needsU: false,
  needsEPre: true,
  factors(s, _scratch, out) {
    out.sign = 1; out.post = s.post; out.pre = s.ePre; out.preBias = 0;
  },
  tangent(_s, ds, _scratch, out) {
    out.sign = 1; out.post = ds.post; out.pre = ds.ePre; out.preBias = 0;
  },
  naive(s) {
    const { n, m } = s, out = new Float64Array(n * m);
    for (let t = 0; t < s.T; t++) for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] += s.post[t * n + i] * s.ePre[t * m + j];
    return out;
  },
};
