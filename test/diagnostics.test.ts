import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { angleDeg, orthonormalityError, participationRatio } from "../src/nn/metrics.js";
import { initWeights } from "../src/nn/init.js";
import { DEFAULT_CONFIG, runTask } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";

function covSums(samples: number[][]) {
  const n = samples[0].length, sum = new Float64Array(n), outer = new Float64Array(n * n);
  for (const y of samples) for (let i = 0; i < n; i++) { sum[i] += y[i]; for (let j = 0; j < n; j++) outer[i * n + j] += y[i] * y[j]; }
  return { sum, outer, n };
}

test("participation ratio: n for isotropic activity, 1 for activity on one direction, 2 for two equal ones", () => {
  const r = new Rng(1), n = 6, P = 20000;
  const iso = covSums(Array.from({ length: P }, () => Array.from({ length: n }, () => r.normal())));
  assert.ok(Math.abs(participationRatio(iso.sum, iso.outer, n, P) - n) < 0.1);
  const dir = [1, 2, -1, 0.5, 0, 3];
  const one = covSums(Array.from({ length: 500 }, () => { const g = r.normal(); return dir.map((d) => 1 + g * d); }));
  assert.ok(Math.abs(participationRatio(one.sum, one.outer, n, 500) - 1) < 1e-9);
  const two = covSums(Array.from({ length: P }, () => { const a = r.normal(), b = r.normal(); return [a, b, 0, 0, 0, 0]; }));
  assert.ok(Math.abs(participationRatio(two.sum, two.outer, n, P) - 2) < 0.05);
});

test("orthonormality error is 0 for orthonormal rows and grows with the scale", () => {
  const W = new Float64Array(5 * 9);
  initWeights(W, 5, 9, "orthogonal", 1, new Rng(2));
  assert.ok(orthonormalityError(W, 5, 9) < 1e-12);
  initWeights(W, 5, 9, "orthogonal", 2, new Rng(2));
  // W Wᵀ = 4 I: ‖3 I‖_F / √5 = 3.
  assert.ok(Math.abs(orthonormalityError(W, 5, 9) - 3) < 1e-12);
});

test("orthonormality error, four Gram entries at a time, equals the one-pair-at-a-time formula to the bit (f32 and f64, every n mod 4)", () => {
  // The plain formula, ‖W Wᵀ − I‖_F / √n over the upper triangle, each dot product summed over j in order.
  const plain = (W: ArrayLike<number>, n: number, m: number) => {
    let s = 0;
    for (let a = 0; a < n; a++) for (let b = a; b < n; b++) {
      let d = 0;
      for (let j = 0; j < m; j++) d += W[a * m + j] * W[b * m + j];
      const g = d - (a === b ? 1 : 0);
      s += a === b ? g * g : 2 * g * g;
    }
    return Math.sqrt(s / n);
  };
  for (const [n, m] of [[1, 3], [2, 7], [3, 5], [4, 4], [5, 9], [7, 13], [17, 30], [170, 784]]) {
    for (const W of [new Float32Array(n * m), new Float64Array(n * m)]) {
      initWeights(W, n, m, "xavier", 1.3, new Rng(n * 1000 + m));
      assert.equal(orthonormalityError(W, n, m), plain(W, n, m), `${n} × ${m}, ${W.constructor.name}`);
    }
  }
});

test("angles between updates", () => {
  assert.ok(Math.abs(angleDeg([1, 0], [0, 2]) - 90) < 1e-12);
  assert.ok(Math.abs(angleDeg([1, 1], [2, 2])) < 1e-6);
  assert.ok(Number.isNaN(angleDeg([0, 0], [1, 0])));
});

test("diagnostics during a task leave training unchanged and report every layer", () => {
  const cfg = { ...DEFAULT_CONFIG, hidden: [40, 30], tasks: 1, feedback: "random" as const };
  const ds = cachedDataset(cfg);
  const plain = runTask(cfg, ds, 0);
  const probeIdx = Array.from({ length: 20 }, (_, i) => i), probeLabels = probeIdx.map((i) => ds.labels[i]);
  const withDiag = runTask(cfg, ds, 0, { at: [0, 100, 250], probeIdx, probeLabels });
  assert.equal(withDiag.acc, plain.acc);
  assert.equal(withDiag.weightNorm, plain.weightNorm);
  assert.deepEqual(withDiag.diagnostics!.map((d) => d.step), [0, 100, 250]);
  for (const d of withDiag.diagnostics!) {
    assert.equal(d.layers.length, 3);
    for (const l of d.layers) {
      for (const v of [l.pr, l.actNorm, l.errNorm, l.weightNorm, l.orthoErr, l.faAngle!]) assert.ok(Number.isFinite(v) && v >= 0);
      assert.ok(l.faAngle! <= 180);
    }
  }
  // Before any step the output layer's error is the same on both sides; FA changes only hidden errors.
  assert.ok(withDiag.diagnostics![0].layers[0].faAngle! > 1, "FA errors differ from backprop's at the first layer");
});

test("spectral radius: rotations, triangular, similar-to-block-diagonal and symmetric matrices; huge entries", async () => {
  const { spectralRadius } = await import("../src/nets/rnn/probe.js");
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.abs(b), `${what}: ${a} vs ${b}`);
  const c = Math.cos(0.7), s = Math.sin(0.7);
  close(spectralRadius([0.9 * c, -0.9 * s, 0.9 * s, 0.9 * c], 2), 0.9, "complex pair on a circle of radius 0.9");
  close(spectralRadius([0.5, 7, 3, 0, -1.5, 2, 0, 0, 1.2], 3), 1.5, "triangular: the largest |diagonal|");
  assert.equal(spectralRadius([0, 1, 0, 0], 2), 0, "nilpotent");
  // A = S D S⁻¹ with D block-diagonal (rotation blocks of radii 0.7, 1.3, 0.4 and a real −1.1): ρ = 1.3.
  const rng = new Rng(4), m = 7, radii = [0.7, 1.3, 0.4], D = new Float64Array(m * m);
  radii.forEach((r, b) => { const a = 0.3 + b; D[2 * b * m + 2 * b] = r * Math.cos(a); D[2 * b * m + 2 * b + 1] = -r * Math.sin(a); D[(2 * b + 1) * m + 2 * b] = r * Math.sin(a); D[(2 * b + 1) * m + 2 * b + 1] = r * Math.cos(a); });
  D[6 * m + 6] = -1.1;
  const S = Float64Array.from({ length: m * m }, (_, i) => (i % (m + 1) === 0 ? 3 : 0) + 0.5 * rng.normal());
  const Sinv = invert(S, m), SD = mm(S, D, m), SDS = mm(SD, Sinv, m);
  close(spectralRadius(SDS, m), 1.3, "similar to a block-diagonal matrix");
  close(spectralRadius(SDS.map((x) => x * 1e26), m), 1.3e26, "the same scaled by 1e26 (what a diverging J looks like)");
  // A symmetric matrix: the largest |eigenvalue| by power iteration on A².
  const n = 12, r = new Rng(9), A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) { const v = r.normal(); A[i * n + j] = v; A[j * n + i] = v; }
  let v = Float64Array.from({ length: n }, () => r.normal()), lam = 0;
  for (let it = 0; it < 5000; it++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[i] += A[i * n + j] * v[j];
    const u = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) u[i] += A[i * n + j] * w[j];
    const nu = Math.hypot(...u); lam = Math.sqrt(nu / Math.hypot(...v)); v = u.map((x) => x / nu);
  }
  close(spectralRadius(A, n), lam, "symmetric");
});

test("RNN diagnostics: state and error through time, spectral radius, FA angle", async () => {
  const { probeRnn } = await import("../src/nets/rnn/probe.js");
  const { RNN } = await import("../src/nets/rnn/rnn.js");
  const { makeFeedback } = await import("../src/signals/feedback.js");
  const { tinyData } = await import("./helpers.js");
  const ds = tinyData();
  const idx = Array.from({ length: 20 }, (_, i) => i), labels = idx.map((i) => ds.labels[i]);
  // Small recurrent weights: the error shrinks going back in time (vanishing gradients through time).
  const small = new RNN({ nIn: 3, rows: 3, delay: 6, N: 8, nOut: 4 }).init("xavier", 1, 0.3, new Rng(1));
  const d = probeRnn(small, ds.images, ds.dim, idx, labels);
  assert.equal(d.rnn.hNorm.length, 9); assert.equal(d.rnn.deltaNorm.length, 9); assert.equal(d.rnn.pr.length, 9);
  assert.ok(d.rnn.deltaNorm[0] < 0.01 * d.rnn.deltaNorm[8], `δ vanishes back in time: ${d.rnn.deltaNorm[0]} vs ${d.rnn.deltaNorm[8]}`);
  assert.ok(d.rnn.specRadius > 0 && d.rnn.specRadius < 0.6, `ρ(J) ${d.rnn.specRadius}`);
  // A large gain expands: ρ(J) > 1.
  const big = new RNN({ nIn: 3, rows: 3, delay: 6, N: 8, nOut: 4 }).init("xavier", 1, 3, new Rng(1));
  assert.ok(probeRnn(big, ds.images, ds.dim, idx, labels).rnn.specRadius > 1);
  assert.equal(d.layers.length, 3);
  assert.ok(d.layers.every((l) => l.faAngle === null && Number.isFinite(l.pr) && l.pr >= 1 && Number.isFinite(l.orthoErr)));
  small.feedback = makeFeedback("random", small, "xavier", 1, new Rng(2));
  const fa = probeRnn(small, ds.images, ds.dim, idx, labels);
  // The read-out's error is exact under feedback alignment (angle 0); U and J receive δₜ through B_W and B_J.
  assert.ok(fa.layers[2].faAngle !== null && fa.layers[2].faAngle < 1e-3, `W: ${fa.layers[2].faAngle}`);
  for (const l of fa.layers.slice(0, 2)) assert.ok(l.faAngle !== null && l.faAngle > 1 && l.faAngle < 179, `site ${l.l}: ${l.faAngle}`);
});

function mm(A: Float64Array, B: Float64Array, n: number): Float64Array {
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) C[i * n + j] += A[i * n + k] * B[k * n + j];
  return C;
}

/** Gauss–Jordan inverse with partial pivoting (test helper). */
function invert(A: Float64Array, n: number): Float64Array {
  const M = Float64Array.from(A), I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[p * n + c])) p = r;
    for (let j = 0; j < n; j++) { [M[c * n + j], M[p * n + j]] = [M[p * n + j], M[c * n + j]]; [I[c * n + j], I[p * n + j]] = [I[p * n + j], I[c * n + j]]; }
    const d = M[c * n + c];
    for (let j = 0; j < n; j++) { M[c * n + j] /= d; I[c * n + j] /= d; }
    for (let r = 0; r < n; r++) if (r !== c) { const f = M[r * n + c]; for (let j = 0; j < n; j++) { M[r * n + j] -= f * M[c * n + j]; I[r * n + j] -= f * I[c * n + j]; } }
  }
  return I;
}
