/**
 * Speed-ups that must not change a bit: end-to-end tasks and a meta-gradient
 * episode on the WebAssembly backend, at the paper's widths and at odd ones
 * (ragged SIMD tails), hashed. The fixture (test/fixtures/exact.json) was
 * written by the code at commit 38fa3a8, before the kernels of the online
 * step's input layer, the initializer, scoring (blank pixel groups skipped),
 * Σ‖W‖ and task sampling were reworked for speed; they must reproduce it.
 * test/trajectory.test.ts freezes the engine the same way at small widths.
 * The native backend (src/core/native.ts) must reproduce the same frozen
 * hashes: its kernels give the wasm kernels' bytes (skipped where it is not built).
 *   UPDATE_EXACT=1 node --import tsx --test test/exact.test.ts   rewrites it (only when a change is meant to alter results)
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { DEFAULT_CONFIG, runTask, taskStreams, type RunConfig } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaLayout } from "../src/learn/tangent.js";
import { sampleTask } from "../src/data/tasks.js";
import { loadPixels } from "../src/data/pixels.js";
import { Rng } from "../src/core/rng.js";
import { softplusAt } from "../src/core/kernels.js";
import { WasmArena } from "../src/core/wasm.js";
import { nativeIsa, nativeMissing } from "../src/core/native.js";
import { MLP } from "../src/nets/mlp/mlp.js";
import type { Dataset } from "../src/data/dataset.js";
import { freshPlasticStep } from "./trajectory-helpers.js";

const FIXTURE = new URL("./fixtures/exact.json", import.meta.url);
const update = process.env.UPDATE_EXACT === "1";
const expected: Record<string, string> = !update && existsSync(FIXTURE) ? JSON.parse(readFileSync(FIXTURE, "utf8")) : {};
const got: Record<string, string> = {};
after(() => { if (update) writeFileSync(FIXTURE, JSON.stringify(got, null, 1) + "\n"); });

/** The frozen hash of `name` (on native: the same fixture as wasm, never rewritten from it). */
function check(name: string, parts: unknown[], backend: RunConfig["backend"] = "wasm"): void {
  const h = createHash("sha256");
  for (const p of parts) {
    if (ArrayBuffer.isView(p)) h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    else h.update(JSON.stringify(p));
  }
  const hex = h.digest("hex");
  if (backend === "wasm") got[name] = hex;
  if (update) return;
  assert.ok(name in expected, `no frozen hash for ${name}`);
  assert.equal(hex, expected[name], `${name}${backend === "wasm" ? "" : ` on ${backend}`}: results changed`);
}

const backends: [RunConfig["backend"], string | false][] = [
  ["wasm", false],
  ["native", nativeIsa() === null ? `the native kernels are ${nativeMissing}` : false],
];

const paper: RunConfig = { ...DEFAULT_CONFIG, theta: { bp: 0.0068, oja: 0.0053 }, backend: "wasm" };
const cases: [string, Partial<RunConfig>][] = [
  ["paper net bp+oja", {}],
  ["paper net bp", { theta: { bp: 0.0068 } }],
  ["odd widths bp+oja", { hidden: [37, 21, 10] }],
  ["odd widths feedback alignment", { hidden: [37, 21], feedback: "random" }],
  ["odd widths bias, all terms", { hidden: [37, 21], bias: true, theta: { bp: 0.0068, oja: 0.0053, hebb: 1e-4, ehebb: 1e-3 } }],
  ["rnn", { net: "rnn", hidden: [30], delay: 2, theta: { bp: 0.003, oja: 0.002 } }],
];

for (const [backend, skip] of backends) for (const [name, over] of cases) {
  test(`bit for bit as before the speed-ups: a task end to end, ${name}${backend === "wasm" ? "" : `, on ${backend}`}`, { skip }, () => {
    const cfg: RunConfig = { ...paper, ...over, backend };
    const ds = cachedDataset(cfg);
    // runTask: initialization, the online steps, scoring (learning-curve points too) and Σ‖W‖.
    const rs = [0, 1].map((t) => runTask(cfg, ds, t, undefined, 60));
    // The weights themselves after 100 steps.
    const { step, task, params } = freshPlasticStep(cfg, ds, 2, "f32");
    for (let i = 0; i < 100; i++) step(task.trainIdx[i], task.trainLabels[i]);
    check(`task ${name}`, [rs.map((r) => [r.acc, r.loss, r.weightNorm, r.diverged, r.curve]), Float32Array.from(params())], backend);
  });
}

for (const [backend, skip] of backends) {
  test(`bit for bit as before the speed-ups: a meta-gradient episode on ${backend} (paper net, train split)`, { skip }, () => {
    const cfg: RunConfig = { ...paper, split: "train", backend };
    const ds = cachedDataset(cfg);
    const layout = metaLayout(["bp", "oja"], 5, false);
    const e = runEpisode(cfg, ds, 3, layout, [0.0068, 0.0053], {});
    check("meta episode paper net", [Float64Array.from([e.loss, e.acc, ...e.grad])], backend);
  });
}

test("bit for bit as before the speed-ups: task sampling from both splits", () => {
  const parts: Int32Array[] = [];
  for (const split of ["test", "train"] as const) {
    const cfg: RunConfig = { ...paper, split };
    const ds = cachedDataset(cfg);
    for (let t = 0; t < 20; t++) {
      const task = sampleTask(ds, { ...cfg, shots: 1 + (t % 7) * 9, query: t % 4 }, taskStreams(t, t).sample);
      parts.push(task.trainIdx, task.trainLabels, task.queryIdx, task.queryLabels);
    }
  }
  check("task sampling", parts);
});

/** A freshly initialized wasm MLP of cfg's shape (xavier). */
function freshNet(cfg: RunConfig, ds: Dataset): MLP {
  return new MLP({ dims: [ds.dim, ...cfg.hidden, ds.nClasses], activation: cfg.activation, beta: cfg.beta, bias: false, norm: "none", arena: new WasmArena(1 << 22) }).init("xavier", 1, new Rng(1));
}

// The new exact fast paths, each against the plain loop it replaces, on inputs built to reach their edges.

function rngFill(b: Float32Array, r: Rng, density = 1): Float32Array {
  for (let i = 0; i < b.length; i++) b[i] = r.uniform() < density ? r.normal() : 0;
  return b;
}

test("matVecSparse equals matVec bit for bit for a finite W (blank groups, −0, ragged shapes); foreign buffers are declined", () => {
  const r = new Rng(11), w = new WasmArena(1 << 22), k = w.kernels;
  for (const [n, m] of [[1, 1], [3, 5], [5, 8], [13, 29], [170, 784], [7, 3]]) {
    for (const density of [0, 0.05, 0.3, 1]) {
      const W = rngFill(w.alloc(n * m) as Float32Array, r), x = rngFill(w.alloc(m) as Float32Array, r, density), b = rngFill(w.alloc(n) as Float32Array, r);
      // Negative zeros in x and W: a −0 pixel is kept, and ±0 products must not change a sum's sign.
      if (m > 2) { x[1] = -0; W[0] = -0; }
      for (const bias of [null, b]) {
        const dense = w.alloc(n), sparse = w.alloc(n);
        k.matVec(dense, W, x, n, m, bias);
        assert.equal(k.matVecSparse!(sparse, W, x, n, m, bias), true);
        assert.deepEqual(new Uint32Array(sparse.buffer, sparse.byteOffset, n), new Uint32Array(dense.buffer, dense.byteOffset, n), `${n}×${m} density ${density}`);
      }
    }
  }
  assert.equal(k.matVecSparse!(new Float32Array(2), w.alloc(4), w.alloc(2), 2, 2), false);
});

test("scoring skips blank pixels only when W₁ is finite: with ∞ in W₁ it gives logits() exactly (NaN where 0·∞ is)", () => {
  const cfg: RunConfig = { ...paper, hidden: [21, 9] };
  const ds = cachedDataset(cfg);
  const task = sampleTask(ds, cfg, taskStreams(1, 0).sample);
  const net = freshNet(cfg, ds);
  for (const poison of [false, true]) {
    // Pixel 0 is blank in every MNIST image: 0·∞ = NaN in the dense sum, skipped by the sparse one.
    if (poison) net.W[1][0] = Infinity;
    const score = net.scorer!(), want: number[][] = [], have: number[][] = [];
    for (const q of task.queryIdx) {
      loadPixels(net.x, ds.images, q, ds.dim);
      have.push(Array.from(score()));
      want.push(Array.from(net.logits()));
    }
    assert.deepEqual(have, want, poison ? "∞ in W₁" : "finite W₁");
    if (poison) assert.ok(have.every((z) => z.every(Number.isNaN)));
  }
});

test("finite, sumSq and uniformFill equal their plain loops (values, NaN and ∞ anywhere, the Rng's position after)", () => {
  const r = new Rng(5), w = new WasmArena(1 << 22), k = w.kernels;
  for (const n of [0, 1, 3, 4, 7, 64, 1001]) {
    const a = rngFill(w.alloc(n) as Float32Array, r);
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i] * a[i];
    assert.equal(k.sumSq!(a), s, `sumSq n = ${n}`);
    assert.equal(k.finite!(a), true);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of n > 0 ? [0, n - 1, n >> 1] : []) {
        const v = a[at]; a[at] = bad;
        assert.equal(k.finite!(a), false, `finite n = ${n}, ${bad} at ${at}`);
        a[at] = v;
      }
    }
    for (const gain of [1, 0.1, 4]) {
      const W = w.alloc(n) as Float32Array, plain = new Float32Array(n), r1 = new Rng([n, 9]), r2 = new Rng([n, 9]);
      const scale = gain * Math.sqrt(6 / (n + 3));
      assert.equal(k.uniformFill!(W, n, scale, r1), true);
      for (let i = 0; i < n; i++) plain[i] = (2 * r2.uniform() - 1) * scale;
      assert.deepEqual(new Uint32Array(W.buffer, W.byteOffset, n), new Uint32Array(plain.buffer), `uniformFill n = ${n}`);
      assert.equal(r1.nextU32(), r2.nextU32(), "the stream continues where the plain loop left it");
    }
  }
});

test("scoring's softplus kernel gives the plain loop's f32 bytes (any z, NaN, ±∞, ±0, subnormals, ragged n, several β), its fallback exercised", () => {
  const r = new Rng(11), w = new WasmArena(1 << 22), k = w.kernels;
  const bits = (b: Float32Array, n: number) => new Uint32Array(b.buffer, b.byteOffset, n);
  let listed = 0, units = 0;
  for (const beta of [10, 1, 3.7, 0.25, 100]) {
    for (const n of [0, 1, 3, 4, 7, 170, 1001]) {
      for (const scale of [1e-6, 0.05, 1, 8, 100]) {
        const z = w.alloc(n) as Float32Array, y = w.alloc(n) as Float32Array, plain = new Float32Array(n);
        for (let i = 0; i < n; i++) z[i] = (2 * r.uniform() - 1) * scale;
        if (n >= 7) { z[0] = NaN; z[1] = Infinity; z[2] = -Infinity; z[3] = -0; z[4] = 0; z[5] = 1e-40; z[6] = -3e-39; }
        y.fill(123); // the kernel must write every unit
        const c = k.softplus!(y, z, n, beta);
        for (let i = 0; i < n; i++) plain[i] = softplusAt(z[i], beta);
        assert.deepEqual(bits(y, n), bits(plain, n), `β = ${beta}, n = ${n}, scale = ${scale}`);
        // The last n mod 4 units always take the plain formula; count the rest.
        assert.ok(c >= n % 4 && c <= n, `${c} of ${n} listed`);
        listed += c - (n % 4); units += n - (n % 4);
      }
    }
  }
  // Units near an f32 rounding boundary (or out of range, or NaN) took the plain formula: the guard of exactness ran,
  // and it passed most units (the fast form is the common case).
  assert.ok(listed > 0 && listed < 0.2 * units, `${listed} of ${units} units listed`);
});

test("addScaled equals the plain float64 loop on f32 buffers (first or accumulating, −0, NaN, ±∞, ragged n)", () => {
  const r = new Rng(12), w = new WasmArena(1 << 20), k = w.kernels;
  for (const n of [0, 1, 2, 5, 8, 170, 171]) {
    for (const first of [true, false]) {
      for (const s of [0.0068, -0.0053, -0, 1e30, NaN]) {
        const out = w.alloc(n) as Float32Array, u = w.alloc(n) as Float32Array;
        for (let i = 0; i < n; i++) { out[i] = r.normal(); u[i] = r.normal(); }
        if (n > 4) { u[0] = -0; out[1] = -0; u[2] = Infinity; out[3] = NaN; u[4] = 0; }
        const plain = Float32Array.from(out);
        if (first) plain.fill(0);
        for (let i = 0; i < n; i++) plain[i] += s * u[i];
        assert.equal(k.addScaled!(out, s, u, n, first), true);
        assert.deepEqual(new Uint32Array(out.buffer, out.byteOffset, n), new Uint32Array(plain.buffer), `n = ${n}, first = ${first}, s = ${s}`);
      }
    }
  }
});

test("pixels load into a wasm arena's view as the plain loop loads them (all 256 values, ragged lengths, the guards)", () => {
  const w = new WasmArena(1 << 20), r = new Rng(13);
  const images = Uint8Array.from({ length: 4096 }, (_, i) => (i < 512 ? i & 255 : r.int(256)));
  for (const dim of [0, 1, 15, 16, 17, 256, 784, 785]) {
    for (const i of [0, 1, 2]) {
      const x = w.alloc(dim) as Float32Array, plain = new Float32Array(dim);
      w.offsetOf(x); // a kernel has seen it: loadPixels takes the arena's path
      x.fill(7);
      loadPixels(x, images, i, dim);
      loadPixels(plain, images, i, dim); // a plain Float32Array: the loop
      assert.deepEqual(new Uint32Array(x.buffer, x.byteOffset, dim), new Uint32Array(plain.buffer), `dim = ${dim}, example ${i}`);
      assert.equal(w.pixels(x, images, i, dim), true);
    }
  }
  const x = w.alloc(16) as Float32Array;
  assert.equal(w.pixels(x, images, 0, 17), false, "a view shorter than dim");
  assert.equal(w.pixels(x, images, 4090, 16), false, "an image past the end of the array");
  assert.equal(w.pixels(new Float32Array(16), images, 0, 16), false, "a view outside the arena");
});

test("nonzeros lists what the plain scan lists (every 4-lane pattern, −0, NaN, ±∞, ragged m, none and all)", async () => {
  const { jsInputKernels } = await import("../src/core/kernels.js");
  const w = new WasmArena(1 << 20), K = w.kernels.fused!.input, r = new Rng(14);
  for (const m of [0, 1, 3, 4, 5, 64, 67, 784]) {
    for (const fill of ["patterns", "random", "none", "all"]) {
      const x = w.alloc(m) as Float32Array;
      for (let j = 0; j < m; j++) {
        // "patterns": group g's lanes follow the bits of g mod 16, so every mask occurs.
        const on = fill === "all" || (fill === "patterns" && ((j >> 2) % 16 >> (j & 3)) & 1) === 1 || (fill === "random" && r.uniform() < 0.3);
        x[j] = on ? [0.5, NaN, Infinity, -Infinity, 1e-40, -2][j % 6] : j % 5 === 0 ? -0 : 0;
      }
      const ib = w.alloc(m), idx = new Int32Array(ib.buffer, ib.byteOffset, m), plain = new Int32Array(m);
      const cnt = K.nonzeros(idx, x, m);
      assert.equal(cnt, jsInputKernels.nonzeros(plain, x, m), `count, m = ${m}, ${fill}`);
      assert.deepEqual(idx.subarray(0, cnt), plain.subarray(0, cnt), `indices, m = ${m}, ${fill}`);
    }
  }
});

test("Rng.sample draws what a partial shuffle of a full copy draws", () => {
  const reference = <T>(rng: Rng, pool: ArrayLike<T>, k: number): T[] => {
    const a = Array.from(pool);
    for (let i = 0; i < k; i++) { const j = i + rng.int(a.length - i); const t = a[i]; a[i] = a[j]; a[j] = t; }
    return a.slice(0, k);
  };
  const r = new Rng(3);
  for (let c = 0; c < 200; c++) {
    const n = 1 + r.int(300), k = r.int(n + 1), pool = Int32Array.from({ length: n }, (_, i) => 7 * i + 1);
    const seed: [number, number] = [c, 77];
    const a = new Rng(seed), b = new Rng(seed);
    assert.deepEqual(a.sample(pool, k), reference(b, pool, k), `n = ${n}, k = ${k}`);
    assert.equal(a.nextU32(), b.nextU32());
  }
  assert.throws(() => r.sample([1, 2], 3), /cannot draw 3 distinct items from 2/);
});

test("pixels load as the same f32 values into float32 and float64 inputs", () => {
  const images = Uint8Array.from({ length: 512 }, (_, i) => i & 255);
  const x32 = new Float32Array(256), x64 = new Float64Array(256);
  loadPixels(x32, images, 1, 256); loadPixels(x64, images, 1, 256);
  for (let v = 0; v < 256; v++) { assert.equal(x64[v], v / 255); assert.equal(x32[v], Math.fround(v / 255)); }
});
