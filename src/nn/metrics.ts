import type { Buf } from "../core/kernels.js";

/**
 * Effective dimensionality of activations (PAPER.md "Diagnostics"): the
 * participation ratio of the covariance eigenvalues, PR = (Σλ)² / Σλ²
 * = tr(C)² / ‖C‖_F², computed without an eigendecomposition. From the sums
 * Σy (n) and Σyyᵀ (n × n) over `count` probe examples.
 */
export function participationRatio(sum: Float64Array, sumOuter: Float64Array, n: number, count: number): number {
  let tr = 0, fro = 0;
  for (let i = 0; i < n; i++) {
    const mi = sum[i] / count;
    for (let j = 0; j < n; j++) {
      const c = sumOuter[i * n + j] / count - mi * (sum[j] / count);
      fro += c * c;
      if (i === j) tr += c;
    }
  }
  return fro > 0 ? (tr * tr) / fro : 0;
}

/** ‖W‖_F */
export function frobenius(W: Buf): number {
  let s = 0;
  for (let i = 0; i < W.length; i++) s += W[i] * W[i];
  return Math.sqrt(s);
}

/** ‖W Wᵀ − I‖_F / √n for W (n, m): 0 when the rows are orthonormal (Oja's fixed point). */
export function orthonormalityError(W: Buf, n: number, m: number): number {
  let s = 0;
  for (let a = 0; a < n; a++) {
    const ra = a * m;
    for (let b = a; b < n; b++) {
      const rb = b * m;
      let d = 0;
      for (let j = 0; j < m; j++) d += W[ra + j] * W[rb + j];
      const g = d - (a === b ? 1 : 0);
      s += a === b ? g * g : 2 * g * g;
    }
  }
  return Math.sqrt(s / n);
}

/** The angle in degrees between two arrays seen as vectors (e.g. two update matrices). */
export function angleDeg(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  if (aa === 0 || bb === 0) return NaN;
  return (Math.acos(Math.max(-1, Math.min(1, ab / Math.sqrt(aa * bb)))) * 180) / Math.PI;
}
