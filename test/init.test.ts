import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { initWeights, type InitName } from "../src/nn/init.js";

function stats(W: Float64Array) {
  let s = 0, s2 = 0, mx = 0;
  for (const w of W) { s += w; s2 += w * w; mx = Math.max(mx, Math.abs(w)); }
  return { mean: s / W.length, std: Math.sqrt(s2 / W.length - (s / W.length) ** 2), max: mx };
}

test("initializers have the variance their formula gives, scaled by the gain", () => {
  const nOut = 200, nIn = 300;
  const want: Record<Exclude<InitName, "orthogonal">, number> = {
    xavier: Math.sqrt(6 / (nIn + nOut)) / Math.sqrt(3),
    "xavier-normal": Math.sqrt(2 / (nIn + nOut)),
    he: Math.sqrt(2 / nIn),
  };
  for (const [name, sd] of Object.entries(want)) {
    for (const gain of [0.25, 1, 3]) {
      const W = new Float64Array(nOut * nIn);
      initWeights(W, nOut, nIn, name as InitName, gain, new Rng(5));
      const s = stats(W);
      assert.ok(Math.abs(s.std / (gain * sd) - 1) < 0.02, `${name} gain ${gain}: std ${s.std} vs ${gain * sd}`);
      assert.ok(Math.abs(s.mean) < 0.05 * gain * sd);
      if (name === "xavier") assert.ok(s.max <= gain * Math.sqrt(6 / (nIn + nOut)));
    }
  }
});

test("orthogonal init has orthonormal rows (wide) or columns (tall), times the gain", () => {
  for (const [nOut, nIn] of [[5, 9], [9, 5], [6, 6]]) {
    const W = new Float64Array(nOut * nIn);
    initWeights(W, nOut, nIn, "orthogonal", 2, new Rng(9));
    const k = Math.min(nOut, nIn);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
      let d = 0;
      for (let t = 0; t < Math.max(nOut, nIn); t++) {
        d += nOut <= nIn ? W[a * nIn + t] * W[b * nIn + t] : W[t * nIn + a] * W[t * nIn + b];
      }
      assert.ok(Math.abs(d - (a === b ? 4 : 0)) < 1e-12, `(${nOut}x${nIn}) gram[${a},${b}] = ${d}`);
    }
  }
});
