import type { PlasticityTerm } from "../types.js";

/**
 * Learned weight decay (PAPER.md's rule pool): ΔWₗ = −θ_decay · Wₗ, once per
 * update (not summed over time steps), biases included. Not rank-1: a scaling
 * of W (`scalesW`), which the engine applies before the rank-1 terms land, all
 * from the same old W; its tangent, −dθ·W − θ·dW, is formed by the engine too.
 */
export const decay: PlasticityTerm = {
  name: "decay",
  equation: "-W_l",
  needsU: false,
  needsEPre: false,
  scalesW: true,
  factors(s, _scratch, out) {
    out.sign = -1; out.post = s.post; out.pre = s.pre; out.preBias = 0;
  },
  tangent(_s, ds, _scratch, out) {
    out.sign = -1; out.post = ds.post; out.pre = ds.pre; out.preBias = 0;
  },
  naive(s, W) {
    return Float64Array.from({ length: s.n * s.m }, (_, i) => -W[i]);
  },
};
