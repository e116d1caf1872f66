import type { PlasticityTerm } from "../types.js";

/** Plain Hebbian term: ΔWₗ = θ_hebb · yₗ yₗ₋₁ᵀ (Hebb 1949); unstable alone, a pool member for meta-learned rules. */
export const hebb: PlasticityTerm = {
  name: "hebb",
  equation: "y_l y_{l-1}^T",
  needsU: false,
  needsEPre: false,
  inputPre: "x",
  factors(s, _scratch, out) {
    out.sign = 1; out.post = s.post; out.pre = s.pre; out.preBias = 1;
  },
  tangent(_s, ds, _scratch, out) {
    out.sign = 1; out.post = ds.post; out.pre = ds.pre; out.preBias = 0;
  },
  naive(s) {
    const { n, m } = s, out = new Float64Array(n * m);
    for (let t = 0; t < s.T; t++) for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] += s.post[t * n + i] * s.pre[t * m + j];
    return out;
  },
};
