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

/**
 * ‖W Wᵀ − I‖_F / √n for W (n, m): 0 when the rows are orthonormal (Oja's fixed point). Gram entries (a, b ≥ a) four
 * b at a time: each dot product still sums over j in order and the squares are added in b order, so the result is
 * the one-pair-at-a-time loop's to the bit (test/diagnostics.test.ts), with four sums in flight instead of one
 * (the app's probe of W₁, 170 × 784, spent a third of its time here).
 */
export function orthonormalityError(W: Buf, n: number, m: number): number {
  let s = 0;
  for (let a = 0; a < n; a++) {
    const ra = a * m;
    let b = a;
    for (; b + 3 < n; b += 4) {
      const r0 = b * m, r1 = r0 + m, r2 = r1 + m, r3 = r2 + m;
      let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
      for (let j = 0; j < m; j++) {
        const w = W[ra + j];
        d0 += w * W[r0 + j]; d1 += w * W[r1 + j]; d2 += w * W[r2 + j]; d3 += w * W[r3 + j];
      }
      const g0 = d0 - (a === b ? 1 : 0);
      s += a === b ? g0 * g0 : 2 * g0 * g0;
      s += 2 * d1 * d1; s += 2 * d2 * d2; s += 2 * d3 * d3;
    }
    for (; b < n; b++) {
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
