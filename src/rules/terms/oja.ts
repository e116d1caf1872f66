import type { PlasticityTerm } from "../types.js";

/**
 * Oja's subspace rule (Oja 1989; PAPER.md):
 *   ΔWₗ = θ_oja · (yₗ yₗ₋₁ᵀ − yₗ yₗᵀ Wₗ) = θ_oja · yₗ (yₗ₋₁ − Wₗᵀ yₗ)ᵀ.
 * The Hebbian growth is balanced by a decay that pulls the rows of Wₗ toward
 * an orthonormal basis of the input's principal subspace. The factored form
 * never builds yₗ yₗᵀ (nₗ × nₗ): uₗ = Wₗᵀ yₗ comes from the backward pass.
 * With a bias (a weight from a constant input 1), the pre factor of the bias
 * is 1 − yₗᵀ bₗ.
 */
export const oja: PlasticityTerm = {
  name: "oja",
  equation: "y_l y_{l-1}^T - y_l y_l^T W_l",
  needsU: true,
  needsEPre: false,
  inputPre: "x-u",
  factors(s, scratch, out) {
    for (let j = 0, M = s.T * s.m; j < M; j++) scratch[j] = s.pre[j] - s.u[j];
    let yb = 0;
    if (s.b !== null) for (let i = 0; i < s.n; i++) yb += s.post[i] * s.b[i];
    out.sign = 1; out.post = s.post; out.pre = scratch; out.preBias = 1 - yb;
  },
  tangent(s, ds, scratch, out) {
    // d(yₗ₋₁ − uₗ) = dyₗ₋₁ − duₗ, with duₗ = dWₗᵀ yₗ + Wₗᵀ dyₗ from the tangent backward pass.
    for (let j = 0, M = s.T * s.m; j < M; j++) scratch[j] = ds.pre[j] - ds.u[j];
    let d = 0;
    if (s.b !== null && ds.b !== null) for (let i = 0; i < s.n; i++) d += ds.post[i] * s.b[i] + s.post[i] * ds.b[i];
    out.sign = 1; out.post = ds.post; out.pre = scratch; out.preBias = -d;
  },
  naive(s, W) {
    // Literally Σ_t (y_t y_{t−1}ᵀ − y_t y_tᵀ W), forming y yᵀ (n × n) as the formula reads.
    const { n, m } = s;
    const out = new Float64Array(n * m), yyT = new Float64Array(n * n);
    for (let t = 0; t < s.T; t++) {
      const y = s.post.subarray(t * n, (t + 1) * n), x = s.pre.subarray(t * m, (t + 1) * m);
      for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) yyT[i * n + k] = y[i] * y[k];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) {
          let decay = 0;
          for (let k = 0; k < n; k++) decay += yyT[i * n + k] * W[k * m + j];
          out[i * m + j] += y[i] * x[j] - decay;
        }
      }
    }
    return out;
  },
};
