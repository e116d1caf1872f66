import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Rng } from "../src/core/rng.js";
import { encodeIdx, parseIdx, type IdxArray } from "../src/data/idx.js";
import { fromArrays, loadDataset } from "../src/data/dataset.js";
import { checkTaskOptions, sampleTask } from "../src/data/tasks.js";

/** A tiny labelled image set: n images of rows × cols, class c's pixels all equal c. */
function tinySet(n: number, rows: number, cols: number, classes: number, rng: Rng): { img: IdxArray; lbl: IdxArray } {
  const labels = Uint8Array.from({ length: n }, (_, i) => i % classes);
  rng.shuffle(labels);
  const px = new Uint8Array(n * rows * cols);
  for (let i = 0; i < px.length; i++) px[i] = rng.int(256);
  return { img: { dtype: "u8", dims: [n, rows, cols], data: px }, lbl: { dtype: "u8", dims: [n], data: labels } };
}

test("IDX round-trips every dtype, raw and gzipped", () => {
  const r = new Rng(1);
  const cases: IdxArray[] = [
    { dtype: "u8", dims: [3, 2, 2], data: Uint8Array.from({ length: 12 }, () => r.int(256)) },
    { dtype: "i8", dims: [5], data: Int8Array.from([-128, -1, 0, 1, 127]) },
    { dtype: "i16", dims: [2, 2], data: Int16Array.from([-32768, -2, 3, 32767]) },
    { dtype: "i32", dims: [3], data: Int32Array.from([-2147483648, 7, 2147483647]) },
    { dtype: "f32", dims: [2], data: Float32Array.from([1.5, -0.25]) },
    { dtype: "f64", dims: [1, 2], data: Float64Array.from([Math.PI, -1e-300]) },
  ];
  for (const a of cases) {
    const bytes = encodeIdx(a);
    for (const b of [bytes, new Uint8Array(gzipSync(bytes))]) {
      const back = parseIdx(b);
      assert.equal(back.dtype, a.dtype);
      assert.deepEqual(back.dims, a.dims);
      assert.deepEqual(Array.from(back.data), Array.from(a.data));
    }
  }
});

test("IDX rejects truncated, garbled and inconsistent files with a message naming the cause", () => {
  const good = encodeIdx({ dtype: "u8", dims: [2, 3], data: new Uint8Array(6) });
  assert.throws(() => parseIdx(good.slice(0, 2)), /truncated/);
  assert.throws(() => parseIdx(good.slice(0, 9)), /truncated header/);
  assert.throws(() => parseIdx(good.slice(0, good.length - 1)), /truncated \(/);
  assert.throws(() => parseIdx(new Uint8Array([...good, 0])), /trailing bytes/);
  const badMagic = good.slice(); badMagic[0] = 7;
  assert.throws(() => parseIdx(badMagic), /bad magic number/);
  const badType = good.slice(); badType[2] = 0x42;
  assert.throws(() => parseIdx(badType), /unknown IDX dtype 0x42/);
  const gz = new Uint8Array(gzipSync(good));
  assert.throws(() => parseIdx(gz.slice(0, gz.length - 6)), /corrupt gzip/);
  const zeroDim = good.slice(); zeroDim.set([0, 0, 0, 0], 4);
  assert.throws(() => parseIdx(zeroDim), /dimension 0 is 0/);
});

test("a directory of IDX files loads (MNIST, gzipped EMNIST-style names, prefix selection, transpose)", () => {
  const dir = mkdtempSync(join(tmpdir(), "np-idx-"));
  const r = new Rng(2);
  const a = tinySet(40, 3, 2, 4, r), b = tinySet(30, 3, 2, 3, r);
  writeFileSync(join(dir, "emnist-balanced-train-images-idx3-ubyte.gz"), gzipSync(encodeIdx(a.img)));
  writeFileSync(join(dir, "emnist-balanced-train-labels-idx1-ubyte.gz"), gzipSync(encodeIdx(a.lbl)));
  writeFileSync(join(dir, "emnist-digits-train-images-idx3-ubyte.gz"), gzipSync(encodeIdx(b.img)));
  writeFileSync(join(dir, "emnist-digits-train-labels-idx1-ubyte.gz"), gzipSync(encodeIdx(b.lbl)));
  assert.throws(() => loadDataset(dir, "train"), /several train images files/);
  const ds = loadDataset(join(dir, "emnist-balanced"), "train");
  assert.equal(ds.n, 40); assert.equal(ds.dim, 6); assert.equal(ds.nClasses, 4);
  assert.deepEqual(Array.from(ds.images), Array.from(a.img.data));
  assert.deepEqual(Array.from(ds.labels), Array.from(a.lbl.data));
  for (let c = 0; c < 4; c++) for (const i of ds.byClass[c]) assert.equal(ds.labels[i], c);
  const t = loadDataset(join(dir, "emnist-balanced"), "train", { transpose: true });
  // Image 0 is 3 × 2 (rows × cols); transposed it is 2 × 3.
  const p = a.img.data;
  assert.deepEqual(Array.from(t.images.subarray(0, 6)), [p[0], p[2], p[4], p[1], p[3], p[5]]);
  assert.throws(() => loadDataset(join(dir, "emnist-balanced"), "test"), /no test images file/);

  const mn = join(dir, "mnist"); mkdirSync(mn);
  writeFileSync(join(mn, "t10k-images-idx3-ubyte"), encodeIdx(a.img));
  writeFileSync(join(mn, "t10k-labels-idx1-ubyte"), encodeIdx(tinySet(39, 3, 2, 4, r).lbl));
  assert.throws(() => loadDataset(mn, "test"), /39 labels for 40 images/);
  assert.throws(() => loadDataset(join(dir, "nope", "nothing"), "test"), /not found/);
});

test("embedded MNIST loads with the shapes the paper uses", () => {
  const ds = loadDataset("mnist", "test");
  assert.equal(ds.n, 10000); assert.equal(ds.dim, 784); assert.equal(ds.nClasses, 10);
  assert.equal(ds.byClass.reduce((s, c) => s + c.length, 0), 10000);
});

test("task sampler: N distinct classes, K + Q per class, disjoint sets, shuffled order, seeded", () => {
  const r = new Rng(3);
  const { img, lbl } = tinySet(600, 2, 2, 12, r);
  const ds = fromArrays(img.data, img.dims, lbl.data, lbl.dims, "tiny", "train");
  const o = { way: 5, shots: 20, query: 7 };
  const t = sampleTask(ds, o, new Rng(9));
  assert.equal(new Set(t.classes).size, 5);
  assert.equal(t.trainIdx.length, 100); assert.equal(t.queryIdx.length, 35);
  const all = [...t.trainIdx, ...t.queryIdx];
  assert.equal(new Set(all).size, all.length, "train and query are disjoint, no repeats");
  for (let i = 0; i < t.trainIdx.length; i++) assert.equal(ds.labels[t.trainIdx[i]], t.trainLabels[i]);
  for (let i = 0; i < t.queryIdx.length; i++) assert.equal(ds.labels[t.queryIdx[i]], t.queryLabels[i]);
  for (const c of t.classes) {
    assert.equal(t.trainLabels.filter((l) => l === c).length, 20);
    assert.equal(t.queryLabels.filter((l) => l === c).length, 7);
  }
  // Shuffled: not grouped by class (probability of a grouped order is negligible).
  let switches = 0;
  for (let i = 1; i < 100; i++) if (t.trainLabels[i] !== t.trainLabels[i - 1]) switches++;
  assert.ok(switches > 20);
  assert.deepEqual(sampleTask(ds, o, new Rng(9)), t);
  assert.notDeepEqual(sampleTask(ds, o, new Rng(10)).trainIdx, t.trainIdx);
  const m = sampleTask(ds, { ...o, remap: true }, new Rng(9));
  assert.deepEqual(Array.from(m.trainIdx), Array.from(t.trainIdx));
  for (let i = 0; i < m.trainLabels.length; i++) assert.equal(m.trainLabels[i], t.classes.indexOf(t.trainLabels[i]));
  assert.throws(() => checkTaskOptions(ds, { way: 5, shots: 45, query: 10 }), /more examples than the smallest class/);
  assert.throws(() => checkTaskOptions(ds, { way: 13, shots: 1, query: 1 }), /more classes/);
});

test("Fashion-MNIST: the fixed split, a binary cache verified on every load, a corrupt cache rebuilt rather than trusted", async () => {
  const { mkdtempSync, readFileSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const prev = process.env.NEUROPLASTIC_CACHE;
  process.env.NEUROPLASTIC_CACHE = mkdtempSync(join(tmpdir(), "np-cache-"));
  try {
    const { fashionDataset, fashionCachePath, fashionPayload } = await import("../src/data/fashion.js");
    const train = fashionDataset("train"), test = fashionDataset("test");
    assert.equal(train.n, 60000);
    assert.deepEqual(train.byClass.map((c) => c.length), new Array(10).fill(6000));
    assert.ok(test.n > 9900 && test.n <= 10000, `test split ${test.n}`);
    assert.equal(train.rows, 28); assert.equal(train.cols, 28); assert.equal(train.nClasses, 10);
    // The splits share no image.
    const { createHash } = await import("node:crypto");
    const h = (ds: typeof train, i: number) => createHash("sha1").update(ds.images.subarray(i * 784, (i + 1) * 784)).digest("hex");
    const seen = new Set(Array.from({ length: train.n }, (_, i) => h(train, i)));
    assert.ok(Array.from({ length: test.n }, (_, i) => h(test, i)).every((k) => !seen.has(k)));
    // Cached: the same bytes; then one flipped byte makes it rebuild.
    assert.equal(fashionPayload().built, false);
    const file = fashionCachePath(), buf = readFileSync(file);
    buf[buf.length - 5] ^= 0xff;
    writeFileSync(file, buf);
    const again = fashionPayload();
    assert.equal(again.built, true, "a corrupt cache is rebuilt");
    assert.deepEqual(fashionDataset("train").images, train.images);
    assert.equal(fashionPayload().built, false);
  } finally {
    if (prev === undefined) delete process.env.NEUROPLASTIC_CACHE; else process.env.NEUROPLASTIC_CACHE = prev;
  }
});
