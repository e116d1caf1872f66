import { test } from "node:test";
import assert from "node:assert/strict";
import { heapArena, jsKernels, type Buf } from "../src/core/kernels.js";
import { Rng } from "../src/core/rng.js";
import { WasmArena } from "../src/core/wasm.js";
import { DEFAULT_CONFIG, runTask, type RunConfig } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaLayout } from "../src/learn/tangent.js";
import { assertClose, maxAbs, stepFor } from "./helpers.js";

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
    const r = new Rng(n * 1000 + m), w = new WasmArena(4 * (16 * n * m + 60 * (n + m)) + 65536), k = w.kernels;
    const W = fill(w.alloc(n * m), r), x = fill(w.alloc(m), r), a = fill(w.alloc(n), r), b = fill(w.alloc(n), r), bias = fill(w.alloc(n), r);
    const Wj = Float32Array.from(W);
    const check = (got: Buf, want: Buf, what: string) => assertClose(got, want, 0, TOL * Math.max(1, maxAbs(want)), what);
    for (const bb of [null, bias]) {
      const o1 = w.alloc(n), o2 = new Float32Array(n);
      k.matVec(o1, W, x, n, m, bb); jsKernels.matVec(o2, Wj, Float32Array.from(x), n, m, bb && Float32Array.from(bb));
      check(o1, o2, `matVec bias=${bb !== null}`);
    }
    {
      // T matVecs / matTVecs of one W in one call: each row the floats of its own single call, on this backend and the plain one.
      const T = 3, X = fill(w.alloc(T * m), r), Av = fill(w.alloc(T * n), r), O = w.alloc(T * n), P = w.alloc(T * m), o1 = w.alloc(n), p1 = w.alloc(m);
      k.matVecs(O, W, X, T, n, m); k.matTVecs(P, W, Av, T, n, m);
      const Oj = new Float32Array(T * n), Pj = new Float32Array(T * m);
      jsKernels.matVecs(Oj, Wj, Float32Array.from(X), T, n, m); jsKernels.matTVecs(Pj, Wj, Float32Array.from(Av), T, n, m);
      check(O, Oj, "matVecs"); check(P, Pj, "matTVecs");
      for (let t = 0; t < T; t++) {
        k.matVec(o1, W, X.subarray(t * m, (t + 1) * m), n, m); k.matTVec(p1, W, Av.subarray(t * n, (t + 1) * n), n, m);
        assert.deepEqual(O.subarray(t * n, (t + 1) * n), o1, `matVecs row ${t}: matVec's floats`);
        assert.deepEqual(P.subarray(t * m, (t + 1) * m), p1, `matTVecs row ${t}: matTVec's floats`);
      }
    }
    const t1 = w.alloc(m), t2 = new Float32Array(m), t3 = w.alloc(m), t4 = new Float32Array(m), t5 = w.alloc(m);
    t1.fill(7); // kernels must overwrite, not accumulate
    k.matTVec(t1, W, a, n, m); jsKernels.matTVec(t2, Wj, Float32Array.from(a), n, m);
    check(t1, t2, "matTVec");
    k.matTVec2(t3, t5, W, a, b, n, m); jsKernels.matTVec2(t4, t2, Wj, Float32Array.from(a), Float32Array.from(b), n, m);
    check(t3, t4, "matTVec2 (a)"); check(t5, t2, "matTVec2 (b)");
    {
      const V = fill(w.alloc(n * m), r), w2 = fill(w.alloc(m), r), c = fill(w.alloc(n), r), d = fill(w.alloc(n), r);
      for (const bb of [null, bias]) {
        const o1 = w.alloc(n), o2 = new Float32Array(n);
        k.matVec2(o1, W, x, V, w2, n, m, bb); jsKernels.matVec2(o2, Wj, Float32Array.from(x), Float32Array.from(V), Float32Array.from(w2), n, m, bb && Float32Array.from(bb));
        check(o1, o2, `matVec2 bias=${bb !== null}`);
      }
      const pA = w.alloc(m), pB = w.alloc(m), qA = new Float32Array(m), qB = new Float32Array(m);
      pA.fill(3); // overwritten, not accumulated
      k.matTVec2x2(pA, pB, W, a, b, V, c, d, n, m); jsKernels.matTVec2x2(qA, qB, Wj, a, b, Float32Array.from(V), c, d, n, m);
      check(pA, qA, "matTVec2x2 (A)"); check(pB, qB, "matTVec2x2 (B)");
    }
    {
      // Elementwise helpers of the tangent passes, on n and m lengths (odd tails included).
      for (const len of [n, m]) {
        const a1 = fill(w.alloc(len), r), b1 = fill(w.alloc(len), r), c1 = fill(w.alloc(len), r), d1 = fill(w.alloc(len), r), e1 = fill(w.alloc(len), r);
        const o1 = fill(w.alloc(len), r), o2 = Float32Array.from(o1);
        const J = { a: Float32Array.from(a1), b: Float32Array.from(b1), c: Float32Array.from(c1), d: Float32Array.from(d1), e: Float32Array.from(e1) };
        k.mul(o1, a1, b1, len); jsKernels.mul(o2, J.a, J.b, len); check(o1, o2, "mul");
        k.sub(o1, a1, b1, len); jsKernels.sub(o2, J.a, J.b, len); check(o1, o2, "sub");
        k.lin2(o1, 0.3, a1, -1.7, b1, len, false); jsKernels.lin2(o2, 0.3, J.a, -1.7, J.b, len, false); check(o1, o2, "lin2");
        k.lin2(o1, 0.3, a1, -1.7, b1, len, true); jsKernels.lin2(o2, 0.3, J.a, -1.7, J.b, len, true); check(o1, o2, "lin2 (accumulate)");
        k.tanErr(o1, a1, b1, c1, d1, e1, len); jsKernels.tanErr(o2, J.a, J.b, J.c, J.d, J.e, len); check(o1, o2, "tanErr");
      }
    }
    for (const K of [1, 2, 3, 4, 5, 7, 8, 9]) {
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
  ["feedback alignment, bp+oja (transposed first layer, row-major rest)", { feedback: "random" }],
  ["bp+oja+hebb with biases", { bias: true, theta: { bp: 0.0068, oja: 0.0053, hebb: 1e-4 } }],
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

// The meta-gradient's fast path (first layer transposed, tangents in its sweep) against the plain one.
for (const [name, over, terms, perLayer] of [
  ["bp+oja shared", {}, ["bp", "oja"], false],
  ["per layer, biases, feedback alignment, 3-way 10-shot", { bias: true, feedback: "random", way: 3, shots: 10 }, ["bp", "oja"], true],
  ["bp+oja+hebb shared, biases, 3-way 10-shot", { bias: true, way: 3, shots: 10 }, ["bp", "oja", "hebb"], false],
] as [string, Partial<RunConfig>, ("bp" | "oja" | "hebb")[], boolean][]) {
  test(`the meta-gradient on wasm equals the plain reference (${name})`, () => {
    const c = { ...cfg, split: "train" as const, ...over }, ds = cachedDataset(c);
    const layout = metaLayout(terms, 5, perLayer);
    const start: Record<string, number> = { bp: 0.005, oja: 0.003, hebb: 1e-4 };
    const theta = layout.map((p) => start[p.term]);
    const a = runEpisode({ ...c, backend: "wasm" }, ds, 3, layout, theta, {});
    const b = runEpisode({ ...c, backend: "js" }, ds, 3, layout, theta, {});
    assert.ok(Math.abs(a.loss - b.loss) < 1e-4 * b.loss, `loss ${a.loss} vs ${b.loss}`);
    a.grad.forEach((g, k) => assert.ok(Math.abs(g - b.grad[k]) < 1e-3 * Math.max(...b.grad.map(Math.abs)), `grad ${k}: ${g} vs ${b.grad[k]}`));
  });
}

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

// The transposed first layer (InputKernels): wasm against the plain references, odd shapes, sparse inputs.
for (const [n, m] of [[1, 3], [5, 7], [13, 9], [170, 784], [8, 16]]) {
  test(`input-layer kernels equal the plain references (${n}×${m})`, async () => {
    const { jsInputKernels } = await import("../src/core/kernels.js");
    const r = new Rng(7 * n + m), w = new WasmArena(1 << 24), K = w.kernels.fused!.input, J = jsInputKernels;
    const stride = (n + 3) & ~3;
    const W = fill(w.alloc(n * m), r), WT = w.alloc(m * stride), back = w.alloc(n * m);
    K.transpose(WT, W, n, m, stride, false); K.transpose(WT, back, n, m, stride, true);
    assert.deepEqual(back, W, "transpose round trip");
    const WTj = new Float32Array(m * stride); J.transpose(WTj, Float32Array.from(W), n, m, stride, false);
    assert.deepEqual(Float32Array.from(WT), WTj, "transpose");
    // An MNIST-like input: most pixels exactly 0.
    const x = w.alloc(m);
    for (let j = 0; j < m; j++) x[j] = r.uniform() < 0.3 ? r.uniform() : 0;
    const ib = w.alloc(m), idx = new Int32Array(ib.buffer, ib.byteOffset, m), idxj = new Int32Array(m);
    const cnt = K.nonzeros(idx, x, m);
    assert.equal(cnt, J.nonzeros(idxj, x, m));
    assert.deepEqual(idx.subarray(0, cnt), idxj.subarray(0, cnt));
    const bias = fill(w.alloc(n), r), z = w.alloc(n), zj = new Float32Array(n);
    K.matVecT(z, WT, stride, x, idx, cnt, n, bias); J.matVecT(zj, WTj, stride, x, idxj, cnt, n, bias);
    assertClose(z, zj, 0, TOL * Math.max(1, maxAbs(zj)), "matVecT");
    const zr = new Float32Array(n); jsKernels.matVec(zr, Float32Array.from(W), x, n, m, bias);
    assertClose(zj, zr, 0, TOL * Math.max(1, maxAbs(zr)), "matVecT = W x + b");
    for (const [useA, useB, P] of [[true, false, 0], [true, true, 0], [false, true, 0], [true, true, 2], [true, false, 1], [false, true, 3]] as [boolean, boolean, number][]) {
      const y = fill(w.alloc(n), r), A = useA ? fill(w.alloc(n), r) : null, B = useB ? fill(w.alloc(n), r) : null;
      const u = w.alloc(m), uj = new Float32Array(m);
      const W1 = w.alloc(m * stride); W1.set(WT);
      const W2 = Float32Array.from(WT);
      const tw = Array.from({ length: P }, () => ({
        dWT: fill(w.alloc(m * stride), r), dy: fill(w.alloc(n), r), A: useA ? fill(w.alloc(n), r) : null,
        B: useB ? fill(w.alloc(n), r) : null, C: useB ? fill(w.alloc(n), r) : null, du: useB ? w.alloc(m) : null,
      }));
      const tj = tw.map((t) => ({ dWT: Float32Array.from(t.dWT), dy: t.dy, A: t.A, B: t.B, C: t.C, du: t.du && new Float32Array(m) }));
      K.inputSweep(W1, stride, m, n, x, y, A, B, u, idx, cnt, tw);
      J.inputSweep(W2, stride, m, n, x, y, A, B, uj, idxj, cnt, tj);
      const what = `inputSweep A=${useA} B=${useB} P=${P}`;
      assertClose(W1, W2, 0, TOL * Math.max(1, maxAbs(W2)) * 10, what);
      if (useB) assertClose(u, uj, 0, TOL * Math.max(1, maxAbs(uj)) * 10, `${what} u`);
      tw.forEach((t, k) => {
        assertClose(t.dWT, tj[k].dWT, 0, TOL * Math.max(1, maxAbs(tj[k].dWT)) * 10, `${what} dWT ${k}`);
        if (t.du) assertClose(t.du, tj[k].du!, 0, TOL * Math.max(1, maxAbs(tj[k].du!)) * 10, `${what} du ${k}`);
      });
    }
  });
}

test("the transposed first layer: steps equal the composed reference; reads and outside writes see current weights", async () => {
  const { MLP, forward, Trace } = await import("../src/nets/mlp/mlp.js");
  const { SweepStep } = await import("../src/nets/mlp/sweep.js");
  const { makeFeedback } = await import("../src/signals/feedback.js");
  const { makeRule } = await import("../src/rules/rule.js");
  const dims = [37, 11, 9, 4];
  for (const theta of [{ bp: 0.05 }, { bp: 0.05, oja: 0.03 }, { oja: 0.04, hebb: 0.001 }]) {
    for (const bias of [false, true]) {
      const make = (arena: ReturnType<typeof heapArena> | WasmArena) => {
        const net = new MLP({ dims, arena, bias }).init("xavier", 1, new Rng(2));
        return stepFor(net, makeFeedback("sym", net, "xavier", 1, new Rng(3)), makeRule(theta, 3));
      };
      const fast = make(new WasmArena(1 << 20)), ref = make(heapArena("f32"));
      assert.ok(fast instanceof SweepStep && fast.input !== null, "the fast path takes the transposed first layer");
      assert.equal(ref.name, "composed");
      const s = new Rng(4);
      for (let k = 0; k < 30; k++) {
        for (let j = 0; j < 37; j++) { const v = s.uniform() < 0.4 ? s.uniform() : 0; fast.x[j] = v; ref.x[j] = v; }
        const label = s.int(4);
        fast.step(label); ref.step(label);
        if (k === 10) {
          // A forward pass (evaluation) reads current weights: layer 1 is written back first.
          const net = fast.net as InstanceType<typeof MLP>;
          assert.equal(net.held, true);
          forward(net, new Trace(net));
          assert.equal(net.held, false);
          assertClose(net.raw.W[1], ref.net.params.subarray(0, 37 * 11), 0, 1e-5, "W1 after forward");
        }
        if (k === 15) {
          // A read of the weights mid-task sees the current ones, with no call to remember.
          assertClose((fast.net as InstanceType<typeof MLP>).W[1], (ref.net as InstanceType<typeof MLP>).W[1], 0, 1e-5, "W1 read mid-task");
        }
        if (k === 20) { (fast.net as InstanceType<typeof MLP>).W[1][3] += 0.5; (ref.net as InstanceType<typeof MLP>).W[1][3] += 0.5; } // written from outside: the next step takes it
      }
      fast.finish(); ref.finish();
      assertClose(fast.net.params, ref.net.params, 0, 1e-5, `${JSON.stringify(theta)} bias=${bias}`);
    }
  }
});

// The recurrent network's kernels: rank-T updates (odd shapes, many terms, long sequences) and the SIMD tanh.
for (const [n, m, T] of [[1, 1, 1], [3, 5, 2], [7, 13, 9], [100, 28, 48], [100, 100, 48], [10, 100, 1], [13, 6, 300]]) {
  test(`wasm addOutersT equals the plain kernel (${n}×${m}, T = ${T})`, () => {
    const r = new Rng(n * 7 + m * 3 + T), w = new WasmArena(4 * (2 * n * m + 12 * T * (n + m)) + (1 << 20)), k = w.kernels;
    for (const K of [1, 2, 3, 5, 9]) {
      if (K * T * (n + m) * 4 > 3 << 20) continue;
      const us = Array.from({ length: K }, () => fill(w.alloc(T * n), r)), vs = Array.from({ length: K }, () => fill(w.alloc(T * m), r));
      const s = Array.from({ length: K }, () => r.normal());
      const W1 = fill(w.alloc(n * m), r), W2 = Float32Array.from(W1);
      k.addOutersT(W1, s, us, vs, K, T, n, m);
      jsKernels.addOutersT(W2, s, us.map((u) => Float32Array.from(u)), vs.map((v) => Float32Array.from(v)), K, T, n, m);
      assertClose(W1, W2, 0, TOL * Math.max(1, maxAbs(W2)) * Math.sqrt(K * T), `addOutersT K=${K}`);
    }
  });
}

test("wasm tanh equals the plain one (a few f32 ulps), small and large arguments", () => {
  const w = new WasmArena(1 << 20), n = 1003, r = new Rng(5);
  const z = w.alloc(n);
  for (let i = 0; i < n; i++) z[i] = i < 100 ? (i - 50) * 1e-6 : i < 200 ? (i - 150) * 0.3 : 4 * r.normal();
  const y = w.alloc(n), d = w.alloc(n), y2 = new Float32Array(n), d2 = new Float32Array(n);
  w.kernels.tanh(y, d, z, n); jsKernels.tanh(y2, d2, Float32Array.from(z), n);
  assertClose(y, y2, 4e-7, 1e-12, "tanh");
  assertClose(d, d2, 0, 1e-6, "1 − tanh²");
});

for (const [name, over] of [
  ["BPTT bp+oja, delay 20", {}], ["feedback alignment through time, all terms, leak 0.5", { feedback: "random", leak: 0.5, theta: { bp: 0.01, oja: 0.005, hebb: 1e-4, ehebb: 1e-3 } }],
  ["mini-batch 5, delay 0, gain-rec 1.5", { batch: 5, delay: 0, gainRec: 1.5 }],
] as [string, Partial<RunConfig>][]) {
  test(`an RNN task on wasm equals the plain reference (${name})`, () => {
    const c: RunConfig = { ...cfg, net: "rnn", hidden: [40], delay: 20, shots: 20, theta: { bp: 0.01, oja: 0.005 }, ...over }, ds = cachedDataset(c);
    for (const t of [0, 1]) {
      const a = runTask({ ...c, backend: "wasm" }, ds, t), b = runTask({ ...c, backend: "js" }, ds, t);
      assert.ok(Math.abs(a.weightNorm - b.weightNorm) < 1e-4 * b.weightNorm, `Σ‖W‖ ${a.weightNorm} vs ${b.weightNorm}`);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-3 * b.loss, `loss ${a.loss} vs ${b.loss}`);
      assert.ok(Math.abs(a.acc - b.acc) <= 0.02, `acc ${a.acc} vs ${b.acc}`);
    }
  });
}

test("the RNN meta-gradient on wasm equals the plain reference (BPTT and FA, per site, leak)", () => {
  for (const over of [{}, { feedback: "random" as const, leak: 0.7 }]) {
    const c: RunConfig = { ...cfg, split: "train", net: "rnn", hidden: [30], delay: 10, way: 3, shots: 10, ...over }, ds = cachedDataset(c);
    const layout = metaLayout(["bp", "oja"], 3, true);
    const theta = layout.map((p) => (p.term === "bp" ? 0.01 : 0.004));
    const a = runEpisode({ ...c, backend: "wasm" }, ds, 3, layout, theta, {});
    const b = runEpisode({ ...c, backend: "js" }, ds, 3, layout, theta, {});
    assert.ok(Math.abs(a.loss - b.loss) < 1e-4 * b.loss, `loss ${a.loss} vs ${b.loss}`);
    a.grad.forEach((g, k) => assert.ok(Math.abs(g - b.grad[k]) < 1e-3 * Math.max(...b.grad.map(Math.abs)), `grad ${k}: ${g} vs ${b.grad[k]}`));
  }
});

test("the whole rule pool on wasm equals the plain reference: a task and the meta-gradient (MLP with FA and biases, RNN)", () => {
  const pool = { bp: 0.005, oja: 0.003, hebb: 1e-4, ehebb: 1e-3, ye: 1e-3, eoja: 1e-3, decay: 1e-4 };
  for (const over of [{ feedback: "random" as const, bias: true }, { net: "rnn" as const, hidden: [30], delay: 5 }]) {
    const c: RunConfig = { ...cfg, ...over, way: 3, shots: 10, theta: pool }, ds = cachedDataset(c);
    const a = runTask({ ...c, backend: "wasm" }, ds, 0), b = runTask({ ...c, backend: "js" }, ds, 0);
    assert.ok(Math.abs(a.weightNorm - b.weightNorm) < 1e-4 * b.weightNorm, `Σ‖W‖ ${a.weightNorm} vs ${b.weightNorm}`);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-3 * b.loss, `loss ${a.loss} vs ${b.loss}`);
    const layout = metaLayout(Object.keys(pool), over.net === "rnn" ? 3 : 5, false), theta = Object.values(pool);
    const m = { ...c, split: "train" as const };
    const ga = runEpisode({ ...m, backend: "wasm" }, cachedDataset(m), 2, layout, theta, {}), gb = runEpisode({ ...m, backend: "js" }, cachedDataset(m), 2, layout, theta, {});
    assert.ok(Math.abs(ga.loss - gb.loss) < 1e-4 * gb.loss, `meta loss ${ga.loss} vs ${gb.loss}`);
    ga.grad.forEach((g, k) => assert.ok(Math.abs(g - gb.grad[k]) < 2e-3 * Math.max(...gb.grad.map(Math.abs)), `grad ${layout[k].term}: ${g} vs ${gb.grad[k]}`));
  }
});
