import { test } from "node:test";
import assert from "node:assert/strict";
import { heapArena, jsKernels, type Buf } from "../src/core/kernels.js";
import { Rng } from "../src/core/rng.js";
import { WasmArena } from "../src/core/wasm.js";
import { cachedDataset, DEFAULT_CONFIG, runTask, type RunConfig } from "../src/experiments/task.js";
import { runEpisode } from "../src/meta/episode.js";
import { metaLayout } from "../src/meta/tangent.js";
import { assertClose, maxAbs } from "./helpers.js";

/**
 * The WebAssembly SIMD kernels against the plain reference. Tolerance: both
 * compute in f32 storage; the SIMD kernels also accumulate in f32 with four or
 * more partial sums, so results agree to a few f32 ulps of the accumulated
 * magnitude: we hold them to 2e-6 relative to the largest output.
 */
const TOL = 2e-6;

function fill(b: Buf, r: Rng): Buf { for (let i = 0; i < b.length; i++) b[i] = r.normal(); return b; }

for (const [n, m] of [[1, 1], [3, 5], [7, 13], [4, 8], [10, 70], [170, 784], [131, 99]]) {
  test(`wasm kernels equal the plain kernels (${n}×${m})`, () => {
    const r = new Rng(n * 1000 + m), w = new WasmArena(4 * (8 * n * m + 40 * (n + m)) + 65536), k = w.kernels;
    const W = fill(w.alloc(n * m), r), x = fill(w.alloc(m), r), a = fill(w.alloc(n), r), b = fill(w.alloc(n), r), bias = fill(w.alloc(n), r);
    const Wj = Float32Array.from(W);
    const check = (got: Buf, want: Buf, what: string) => assertClose(got, want, 0, TOL * Math.max(1, maxAbs(want)), what);
    for (const bb of [null, bias]) {
      const o1 = w.alloc(n), o2 = new Float32Array(n);
      k.matVec(o1, W, x, n, m, bb); jsKernels.matVec(o2, Wj, Float32Array.from(x), n, m, bb && Float32Array.from(bb));
      check(o1, o2, `matVec bias=${bb !== null}`);
    }
    const t1 = w.alloc(m), t2 = new Float32Array(m), t3 = w.alloc(m), t4 = new Float32Array(m), t5 = w.alloc(m);
    t1.fill(7); // kernels must overwrite, not accumulate
    k.matTVec(t1, W, a, n, m); jsKernels.matTVec(t2, Wj, Float32Array.from(a), n, m);
    check(t1, t2, "matTVec");
    k.matTVec2(t3, t5, W, a, b, n, m); jsKernels.matTVec2(t4, t2, Wj, Float32Array.from(a), Float32Array.from(b), n, m);
    check(t3, t4, "matTVec2 (a)"); check(t5, t2, "matTVec2 (b)");
    for (const K of [1, 2, 3, 4, 5]) {
      const us = Array.from({ length: K }, () => fill(w.alloc(n), r)), vs = Array.from({ length: K }, () => fill(w.alloc(m), r));
      const s = Array.from({ length: K }, () => r.normal());
      const W1 = w.alloc(n * m); W1.set(W);
      const W2 = Float32Array.from(W);
      k.addOuters(W1, s, us, vs, K, n, m);
      jsKernels.addOuters(W2, s, us.map((u) => Float32Array.from(u)), vs.map((v) => Float32Array.from(v)), K, n, m);
      check(W1, W2, `addOuters K=${K}`);
    }
  });
}

test("buffers outside the arena fall back to the plain kernels", () => {
  const w = new WasmArena(65536), r = new Rng(1);
  const W = fill(new Float32Array(12), r), x = fill(new Float32Array(4), r), o1 = new Float32Array(3), o2 = new Float32Array(3);
  w.kernels.matVec(o1, W, x, 3, 4); jsKernels.matVec(o2, W, x, 3, 4);
  assert.deepEqual(o1, o2);
});

// Whole tasks: 250 online steps through every layer, then the query set.
const cfg: RunConfig = { ...DEFAULT_CONFIG, tasks: 1 };
for (const [name, over] of [
  ["bp+oja", {}], ["feedback alignment, all terms", { feedback: "random", theta: { bp: 0.0068, oja: 0.0053, hebb: 1e-4, ehebb: 1e-3 } }],
  ["mini-batch 10 with biases", { batch: 10, bias: true }],
] as [string, Partial<RunConfig>][]) {
  test(`a whole task on wasm equals the plain reference (${name})`, () => {
    const c = { ...cfg, ...over }, ds = cachedDataset(c);
    for (const t of [0, 1]) {
      const a = runTask({ ...c, backend: "wasm" }, ds, t), b = runTask({ ...c, backend: "js" }, ds, t);
      assert.ok(Math.abs(a.weightNorm - b.weightNorm) < 1e-4 * b.weightNorm, `Σ‖W‖ ${a.weightNorm} vs ${b.weightNorm}`);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-3 * b.loss, `loss ${a.loss} vs ${b.loss}`);
      assert.ok(Math.abs(a.acc - b.acc) <= 0.02, `acc ${a.acc} vs ${b.acc}`);
    }
  });
}

test("the meta-gradient on wasm equals the plain reference", () => {
  const c = { ...cfg, split: "train" as const }, ds = cachedDataset(c);
  const layout = metaLayout(["bp", "oja"], 5, false);
  const a = runEpisode({ ...c, backend: "wasm" }, ds, 3, layout, [0.005, 0.003], {});
  const b = runEpisode({ ...c, backend: "js" }, ds, 3, layout, [0.005, 0.003], {});
  assert.ok(Math.abs(a.loss - b.loss) < 1e-4 * b.loss, `loss ${a.loss} vs ${b.loss}`);
  a.grad.forEach((g, k) => assert.ok(Math.abs(g - b.grad[k]) < 1e-3 * Math.max(...b.grad.map(Math.abs)), `grad ${k}: ${g} vs ${b.grad[k]}`));
});

test("heap arenas give the reference kernels", () => {
  assert.equal(heapArena("f32").kernels, jsKernels);
});

test("the composite forward kernel (activations in wasm, Oja's u) equals the plain forward for every activation", async () => {
  const { makeActivation } = await import("../src/nn/activations.js");
  const { ACT_CODE } = await import("../src/core/kernels.js");
  const n = 37, m = 53, r = new Rng(12);
  for (const name of ["softplus", "relu", "tanh", "linear"] as const) {
    const w = new WasmArena(1 << 20);
    const W = fill(w.alloc(n * m), r), x = fill(w.alloc(m), r), b = fill(w.alloc(n), r);
    const z = w.alloc(n), y = w.alloc(n), d = w.alloc(n), u = w.alloc(m);
    assert.ok(w.kernels.fused!.forwardHidden(z, y, d, u, W, x, b, n, m, ACT_CODE[name], 10));
    const z2 = new Float32Array(n), y2 = new Float32Array(n), d2 = new Float32Array(n), u2 = new Float32Array(m);
    jsKernels.matVec(z2, Float32Array.from(W), Float32Array.from(x), n, m, Float32Array.from(b));
    makeActivation(name, 10).fdf(y2, d2, z2, n);
    jsKernels.matTVec(u2, Float32Array.from(W), y2, n, m);
    // Single-precision maths in wasm (Mathf) against float64 maths stored in f32: a few ulps.
    assertClose(z, z2, 1e-5, 1e-5, `${name} z`);
    assertClose(y, y2, 1e-5, 1e-6, `${name} y`);
    assertClose(d, d2, 1e-5, 1e-6, `${name} σ'`);
    assertClose(u, u2, 1e-5, 1e-4, `${name} u`);
  }
});
