import type { Buf, Kernels } from "../core/kernels.js";
import type { Rng } from "../core/rng.js";

export type InitName = "xavier" | "xavier-normal" | "he" | "orthogonal";
export const INITS: readonly InitName[] = ["xavier", "xavier-normal", "he", "orthogonal"];

/**
 * Fill W(nOut, nIn) in place. `gain` scales every scheme, so "careless"
 * initial weights (PAPER.md claim 3) are one number away from the default:
 * - xavier (uniform): U(−a, a), a = gain·√(6 / (nIn + nOut))   (Glorot & Bengio 2010)
 * - xavier-normal:    N(0, s²),  s = gain·√(2 / (nIn + nOut))
 * - he:               N(0, s²),  s = gain·√(2 / nIn)            (He et al. 2015)
 * - orthogonal:       gain · a random matrix with orthonormal rows (or columns
 *                     when nOut > nIn)                          (Saxe et al. 2014)
 */
export function initWeights(W: Buf, nOut: number, nIn: number, name: InitName, gain: number, rng: Rng, k?: Kernels): void {
  if (!(gain > 0) || !Number.isFinite(gain)) throw new RangeError(`the initializer's gain must be a positive number, got ${gain}`);
  const n = nOut * nIn;
  switch (name) {
    case "xavier": {
      const a = gain * Math.sqrt(6 / (nIn + nOut));
      // The backend's loop draws the same stream to the same bytes, about twice as fast (most of building a task).
      if (k?.uniformFill?.(W, n, a, rng)) return;
      for (let i = 0; i < n; i++) W[i] = (2 * rng.uniform() - 1) * a;
      return;
    }
    case "xavier-normal": {
      const s = gain * Math.sqrt(2 / (nIn + nOut));
      for (let i = 0; i < n; i++) W[i] = s * rng.normal();
      return;
    }
    case "he": {
      const s = gain * Math.sqrt(2 / nIn);
      for (let i = 0; i < n; i++) W[i] = s * rng.normal();
      return;
    }
    case "orthogonal":
      return orthogonal(W, nOut, nIn, gain, rng);
  }
  throw new Error(`unknown init '${name}' (expected one of ${INITS.join(", ")})`);
}

/** Gaussian matrix, then modified Gram–Schmidt on its shorter side, in float64. */
function orthogonal(W: Buf, nOut: number, nIn: number, gain: number, rng: Rng): void {
  const rows = Math.min(nOut, nIn), cols = Math.max(nOut, nIn);
  // Q(rows, cols): orthonormal rows; W = Q when nOut ≤ nIn, else W = Qᵀ.
  const Q = new Float64Array(rows * cols);
  for (let i = 0; i < Q.length; i++) Q[i] = rng.normal();
  for (let i = 0; i < rows; i++) {
    const ri = i * cols;
    for (let pass = 0; pass < 2; pass++) { // re-orthogonalize once: keeps QQᵀ = I to ~1e-15
      for (let k = 0; k < i; k++) {
        const rk = k * cols;
        let d = 0;
        for (let j = 0; j < cols; j++) d += Q[ri + j] * Q[rk + j];
        for (let j = 0; j < cols; j++) Q[ri + j] -= d * Q[rk + j];
      }
    }
    let nrm = 0;
    for (let j = 0; j < cols; j++) nrm += Q[ri + j] * Q[ri + j];
    nrm = Math.sqrt(nrm);
    for (let j = 0; j < cols; j++) Q[ri + j] /= nrm;
  }
  if (nOut <= nIn) {
    for (let i = 0; i < Q.length; i++) W[i] = gain * Q[i];
  } else {
    for (let i = 0; i < nOut; i++) for (let j = 0; j < nIn; j++) W[i * nIn + j] = gain * Q[j * cols + i];
  }
}
