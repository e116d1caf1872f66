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
    const out = new Float64Array(s.n * s.m);
    for (let i = 0; i < s.n; i++) for (let j = 0; j < s.m; j++) out[i * s.m + j] = s.e[i] * s.ePre[j];
    return out;
  },
};
