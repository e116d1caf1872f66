import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { angleDeg, orthonormalityError, participationRatio } from "../src/diagnostics/metrics.js";
import { initWeights } from "../src/nn/init.js";
import { cachedDataset, DEFAULT_CONFIG, runTask } from "../src/experiments/task.js";

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
