import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";

test("same seed gives the same stream; different seeds differ", () => {
  const a = new Rng(7), b = new Rng(7), c = new Rng(8);
  const xa = Array.from({ length: 100 }, () => a.nextU32());
  const xb = Array.from({ length: 100 }, () => b.nextU32());
  const xc = Array.from({ length: 100 }, () => c.nextU32());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
});

test("child(i) is independent of the parent's position and of other children", () => {
  const a = new Rng(3);
  const before = a.child(5).nextU32();
  for (let i = 0; i < 10; i++) a.nextU32();
  assert.equal(a.child(5).nextU32(), before);
  assert.notEqual(a.child(6).nextU32(), before);
  assert.notEqual(new Rng(4).child(5).nextU32(), before);
});

test("uniform, int and normal have the right ranges and moments", () => {
  const r = new Rng(11);
  const N = 100000;
  let s = 0, s2 = 0, ns = 0, ns2 = 0;
  const counts = new Array(7).fill(0);
  for (let i = 0; i < N; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    s += u; s2 += u * u;
    counts[r.int(7)]++;
    const g = r.normal(); ns += g; ns2 += g * g;
  }
  assert.ok(Math.abs(s / N - 0.5) < 0.01);
  assert.ok(Math.abs(s2 / N - 1 / 3) < 0.01);
  for (const c of counts) assert.ok(Math.abs(c / N - 1 / 7) < 0.01);
  assert.ok(Math.abs(ns / N) < 0.02);
  assert.ok(Math.abs(ns2 / N - 1) < 0.02);
});

test("sample draws distinct items; shuffle is a permutation", () => {
  const r = new Rng(1);
  const s = r.sample([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 5);
  assert.equal(new Set(s).size, 5);
  const a = Array.from({ length: 50 }, (_, i) => i);
  r.shuffle(a);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.throws(() => r.sample([1, 2], 3), /cannot draw 3/);
});
