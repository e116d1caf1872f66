import type { PlasticityTerm } from "../types.js";

/**
 * Error-Hebbian term: ΔWₗ = θ_ehebb · eₗ eₗ₋₁ᵀ, the correlation of errors on
 * both sides of the synapse (a member of the rule pool of Shervani-Tabar &
 * Rosenbaum 2023). The constant bias input carries no error, so its factor is 0.
 */
export const ehebb: PlasticityTerm = {
  name: "ehebb",
  equation: "e_l e_{l-1}^T",
  needsU: false,
  needsEPre: true,
  factors(s, _scratch, out) {
    out.sign = 1; out.post = s.e; out.pre = s.ePre; out.preBias = 0;
  },
  tangent(_s, ds, _scratch, out) {
    out.sign = 1; out.post = ds.e; out.pre = ds.ePre; out.preBias = 0;
  },
  naive(s) {
    const { n, m } = s, out = new Float64Array(n * m);
    for (let t = 0; t < s.T; t++) for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] += s.e[t * n + i] * s.ePre[t * m + j];
    return out;
  },
};
