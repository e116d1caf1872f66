import { softplusAt, type Buf } from "../core/kernels.js";

export type ActivationName = "softplus" | "relu" | "tanh" | "linear";
export const ACTIVATIONS: readonly ActivationName[] = ["softplus", "relu", "tanh", "linear"];

/**
 * A hidden-layer nonlinearity σ with its first and second derivatives, the
 * derivatives written from the output y where that is cheaper (PAPER.md:
 * softplus σ'(z) = 1 − exp(−βy)). σ'' is needed by forward-mode meta-gradients,
 * where the tangent of eₗ = (Bᵀeₗ₊₁) ⊙ σ'(zₗ) carries σ''(zₗ)·dzₗ.
 */
export interface Activation {
  readonly name: ActivationName;
  /** y(n) = σ(z(n)) */
  f(y: Buf, z: Buf, n: number): void;
  /** y = σ(z) and d = σ'(z) together (the forward pass keeps σ' for the backward pass). */
  fdf(y: Buf, d: Buf, z: Buf, n: number): void;
  /** d2(n) = σ''(z), given y = σ(z) */
  d2f(d2: Buf, y: Buf, z: Buf, n: number): void;
  /** d2(n) = σ''(z) from d = σ'(z), where that is cheaper than d2f (softplus: no exp). */
  d2fd?(d2: Buf, d: Buf, n: number): void;
}

/** softplus_β(z) = log(1 + exp(βz)) / β (PAPER.md, β = 10 by default). */
export function softplus(beta = 10): Activation {
  if (!(beta > 0)) throw new RangeError(`softplus beta must be > 0, got ${beta}`);
  return {
    name: "softplus",
    f(y, z, n) {
      for (let i = 0; i < n; i++) y[i] = softplusAt(z[i], beta);
    },
    fdf(y, d, z, n) {
      // One exp per unit: with q = exp(−|βz|), y = (max(βz, 0) + log1p(q)) / β and
      // σ'(z) = sigmoid(βz) = 1/(1 + q) for z ≥ 0, q/(1 + q) otherwise.
      for (let i = 0; i < n; i++) {
        const t = beta * z[i], q = Math.exp(-Math.abs(t));
        y[i] = (Math.max(t, 0) + Math.log1p(q)) / beta;
        d[i] = (t >= 0 ? 1 : q) / (1 + q);
      }
    },
    d2f(d2, y, _z, n) {
      // σ''(z) = β s (1 − s) with s = sigmoid(βz).
      for (let i = 0; i < n; i++) { const s = 1 - Math.exp(-beta * y[i]); d2[i] = beta * s * (1 - s); }
    },
    d2fd(d2, d, n) {
      // The same with s = σ'(z), which the forward pass kept.
      for (let i = 0; i < n; i++) { const s = d[i]; d2[i] = beta * s * (1 - s); }
    },
  };
}

export const relu: Activation = {
  name: "relu",
  f(y, z, n) { for (let i = 0; i < n; i++) y[i] = z[i] > 0 ? z[i] : 0; },
  fdf(y, d, z, n) { for (let i = 0; i < n; i++) { const p = z[i] > 0; y[i] = p ? z[i] : 0; d[i] = p ? 1 : 0; } },
  d2f(d2, _y, _z, n) { d2.fill(0, 0, n); },
};

export const tanh: Activation = {
  name: "tanh",
  f(y, z, n) { for (let i = 0; i < n; i++) y[i] = Math.tanh(z[i]); },
  fdf(y, d, z, n) { for (let i = 0; i < n; i++) { const t = Math.tanh(z[i]); y[i] = t; d[i] = 1 - t * t; } },
  d2f(d2, y, _z, n) { for (let i = 0; i < n; i++) d2[i] = -2 * y[i] * (1 - y[i] * y[i]); },
};

export const linear: Activation = {
  name: "linear",
  f(y, z, n) { for (let i = 0; i < n; i++) y[i] = z[i]; },
  fdf(y, d, z, n) { for (let i = 0; i < n; i++) y[i] = z[i]; d.fill(1, 0, n); },
  d2f(d2, _y, _z, n) { d2.fill(0, 0, n); },
};

export function makeActivation(name: ActivationName, beta = 10): Activation {
  switch (name) {
    case "softplus": return softplus(beta);
    case "relu": return relu;
    case "tanh": return tanh;
    case "linear": return linear;
  }
  throw new Error(`unknown activation '${name}' (expected one of ${ACTIVATIONS.join(", ")})`);
}
