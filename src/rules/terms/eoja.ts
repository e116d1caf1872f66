import type { PlasticityTerm } from "../types.js";

/**
 * Oja's form on error signals (PAPER.md's rule pool):
 *   ΔWₗ = θ_eoja · eₗ (eₗ₋₁ − Wₗᵀ eₗ)ᵀ = θ_eoja · (eₗ eₗ₋₁ᵀ − eₗ eₗᵀ Wₗ),
 * the error-Hebbian term balanced by a decay toward rows orthonormal in the
 * space of errors. ueₗ = Wₗᵀeₗ is computed through W itself (not the feedback
 * matrix) by the network; eₗeₗᵀ (n × n) is never formed. With a bias, the
 * constant input's error is 0, so its pre factor is −bₗᵀeₗ.
 */
export const eoja: PlasticityTerm = {
  name: "eoja",
  equation: "e_l e_{l-1}^T - e_l e_l^T W_l",
  needsU: false,
  needsEPre: true,
  needsUE: true,
  factors(s, scratch, out) {
    for (let j = 0, M = s.T * s.m; j < M; j++) scratch[j] = s.ePre[j] - s.ue[j];
    let be = 0;
    if (s.b !== null) for (let i = 0; i < s.n; i++) be += s.e[i] * s.b[i];
    out.sign = 1; out.post = s.e; out.pre = scratch; out.preBias = -be;
  },
  tangent(s, ds, scratch, out) {
    // d(eₗ₋₁ − Wᵀeₗ) = deₗ₋₁ − (dWᵀeₗ + Wᵀdeₗ), the latter from the tangent error pathway.
    for (let j = 0, M = s.T * s.m; j < M; j++) scratch[j] = ds.ePre[j] - ds.ue[j];
    let d = 0;
    if (s.b !== null && ds.b !== null) for (let i = 0; i < s.n; i++) d += ds.e[i] * s.b[i] + s.e[i] * ds.b[i];
    out.sign = 1; out.post = ds.e; out.pre = scratch; out.preBias = -d;
  },
  naive(s, W) {
    // Literally Σ_t (e_t e_{t−1}ᵀ − e_t e_tᵀ W), forming e eᵀ as the formula reads.
    const { n, m } = s, out = new Float64Array(n * m), eeT = new Float64Array(n * n);
    for (let t = 0; t < s.T; t++) {
      const e = s.e.subarray(t * n, (t + 1) * n), ep = s.ePre.subarray(t * m, (t + 1) * m);
      for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) eeT[i * n + k] = e[i] * e[k];
      for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
        let decay = 0;
        for (let k = 0; k < n; k++) decay += eeT[i * n + k] * W[k * m + j];
        out[i * m + j] += e[i] * ep[j] - decay;
      }
    }
    return out;
  },
};
