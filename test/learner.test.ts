import { after, test } from "node:test";
import { closePools } from "../src/experiments/pool.js";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { forward, MLP, Trace } from "../src/nets/mlp/mlp.js";
import { makeRule } from "../src/rules/rule.js";
import { makeFeedback } from "../src/signals/feedback.js";
import { backward } from "../src/nets/mlp/mlp.js";
import { runTask, DEFAULT_CONFIG, type RunConfig } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { train } from "../src/experiments/train.js";
import { assertClose, diff, stepFor } from "./helpers.js";

after(closePools);

test("feedback alignment sends errors through the fixed random B, not W, and never changes B", () => {
  const rng = new Rng(4);
  const net = new MLP({ dims: [5, 4, 4, 3], dtype: "f64" }).init("xavier", 1, rng);
  const fb = makeFeedback("random", net, "xavier", 1, rng);
  const B0 = fb.B.map((b) => b.slice());
  for (let l = 1; l <= net.L; l++) assert.notDeepEqual(Array.from(fb.B[l]), Array.from(net.W[l]));
  const tr = new Trace(net);
  for (let j = 0; j < 5; j++) tr.y[0][j] = rng.uniform();
  forward(net, tr);
  const L = net.L;
  for (let i = 0; i < 3; i++) tr.e[L][i] = tr.y[L][i] - (i === 0 ? 1 : 0);
  backward(net, fb, tr, { needU: [false, false, false, false], needE0: false });
  for (let l = L; l >= 2; l--) {
    const n = net.dims[l], m = net.dims[l - 1];
    const viaB = new Float64Array(m), viaW = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      const d = 1 - Math.exp(-10 * tr.y[l - 1][j]);
      for (let i = 0; i < n; i++) { viaB[j] += fb.B[l][i * m + j] * tr.e[l][i] * d; viaW[j] += net.W[l][i * m + j] * tr.e[l][i] * d; }
    }
    assertClose(tr.e[l - 1], viaB, 1e-12, 1e-15, `e${l - 1}`);
    assert.ok(viaW.some((v, j) => Math.abs(v - tr.e[l - 1][j]) > 1e-6), "differs from the backprop error");
  }
  const learner = stepFor(net, fb, makeRule({ bp: 0.1, oja: 0.1 }, L));
  const W0 = net.W.map((w) => w.slice());
  for (let k = 0; k < 5; k++) { for (let j = 0; j < 5; j++) learner.x[j] = rng.uniform(); learner.step(k % 3); }
  for (let l = 1; l <= L; l++) {
    assert.deepEqual(Array.from(fb.B[l]), Array.from(B0[l]), "B is fixed");
    assert.notDeepEqual(Array.from(net.W[l]), Array.from(W0[l]), "W learns");
  }
});

test("mini-batch learning applies the average of per-example updates, all from the same weights", () => {
  const rng = new Rng(6);
  const base = new MLP({ dims: [6, 5, 3], dtype: "f64", bias: true }).init("xavier", 1, rng);
  const xs = Array.from({ length: 5 }, () => Float64Array.from({ length: 6 }, () => rng.uniform()));
  const labels = [0, 2, 1, 1, 0];
  const rule = makeRule({ bp: 0.2, oja: 0.1, hebb: 0.01 }, 2);
  const fb = (n: MLP) => makeFeedback("sym", n, "xavier", 1, new Rng(0));
  const batched = base.clone();
  const lb = stepFor(batched, fb(batched), rule, { batch: 3 });
  for (let k = 0; k < 5; k++) { lb.x.set(xs[k]); lb.step(labels[k]); }
  lb.finish();
  // Reference: batches {0,1,2} then {3,4}, each the mean of single-example updates from the batch's start weights.
  const ref = base.clone();
  for (const group of [[0, 1, 2], [3, 4]]) {
    const sum = new Float64Array(ref.params.length);
    for (const k of group) {
      const one = ref.clone();
      const lo = stepFor(one, fb(one), rule);
      lo.x.set(xs[k]); lo.step(labels[k]);
      diff(one.params, ref.params).forEach((d, i) => { sum[i] += d; });
    }
    for (let i = 0; i < sum.length; i++) ref.params[i] += sum[i] / group.length;
  }
  assertClose(batched.params, ref.params, 1e-12, 1e-14, "params");
});

const small: RunConfig = { ...DEFAULT_CONFIG, hidden: [40, 30], tasks: 6, shots: 10, query: 5, seed: 3 };

test("the same seed gives identical bytes, whatever the number of workers", async () => {
  const a = await train(small, 1);
  const b = await train(small, 1);
  const c = await train(small, 2);
  const bytes = (o: typeof a) => Buffer.from(new Float64Array(o.results.flatMap((r) => [r.acc, r.loss, r.weightNorm])).buffer);
  assert.ok(bytes(a).equals(bytes(b)));
  assert.ok(bytes(a).equals(bytes(c)));
  const d = await train({ ...small, seed: 4 }, 1);
  assert.ok(!bytes(a).equals(bytes(d)));
});

test("a diverging task is counted and scored at chance, never averaged in as NaN", async () => {
  const cfg: RunConfig = { ...small, theta: { bp: 50, hebb: 50 }, gain: 4, tasks: 3 };
  const ds = cachedDataset(cfg);
  const r = runTask(cfg, ds, 0);
  assert.equal(r.diverged, true);
  assert.equal(r.acc, 1 / cfg.way);
  assert.equal(r.loss, Math.log(cfg.way));
  const out = await train(cfg, 1);
  assert.equal(out.diverged, 3);
  assert.ok(Number.isFinite(out.acc) && Number.isFinite(out.loss));
});

test("bp + Oja learns MNIST tasks well above chance", async () => {
  const out = await train({ ...DEFAULT_CONFIG, tasks: 4, seed: 1 }, 1);
  assert.ok(out.acc > 0.5, `accuracy ${out.acc}`);
  assert.equal(out.diverged, 0);
});

test("optimizer adam: the pseudo-gradient goes through Adam with θ_bp as learning rate; other terms as usual", () => {
  const rng = new Rng(8);
  for (const batch of [1, 2]) {
    const base = new MLP({ dims: [5, 4, 3], dtype: "f64", bias: true }).init("xavier", 1, rng);
    const xs = Array.from({ length: 4 }, () => Float64Array.from({ length: 5 }, () => rng.uniform()));
    const labels = [0, 2, 1, 2];
    const lr = 0.01, oja = 0.05;
    const net = base.clone();
    const learner = stepFor(net, makeFeedback("sym", net, "xavier", 1, new Rng(0)), makeRule({ bp: lr, oja }, 2), { optimizer: "adam", batch });
    for (let k = 0; k < 4; k++) { learner.x.set(xs[k]); learner.step(labels[k]); }
    learner.finish();
    // Reference: per batch, the mean gradient eₗyₗ₋₁ᵀ and mean Oja update from the batch's start weights, then Adam.
    const ref = base.clone(), P = ref.params.length;
    const m = new Float64Array(P), v = new Float64Array(P);
    let t = 0;
    for (let start = 0; start < 4; start += batch) {
      const G = new Float64Array(P), D = new Float64Array(P);
      for (let k = start; k < start + batch; k++) {
        const g = ref.clone(), o = ref.clone();
        const lg = stepFor(g, makeFeedback("sym", g, "xavier", 1, new Rng(0)), makeRule({ bp: 1 }, 2));
        lg.x.set(xs[k]); lg.step(labels[k]);
        diff(g.params, ref.params).forEach((d, i) => { G[i] -= d / batch; }); // ΔW = −1·e yᵀ, so G = −ΔW
        const lo = stepFor(o, makeFeedback("sym", o, "xavier", 1, new Rng(0)), makeRule({ oja }, 2));
        lo.x.set(xs[k]); lo.step(labels[k]);
        diff(o.params, ref.params).forEach((d, i) => { D[i] += d / batch; });
      }
      t++;
      for (let i = 0; i < P; i++) {
        m[i] = 0.9 * m[i] + 0.1 * G[i]; v[i] = 0.999 * v[i] + 0.001 * G[i] * G[i];
        ref.params[i] += D[i] - (lr * (m[i] / (1 - 0.9 ** t))) / (Math.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8);
      }
    }
    assertClose(net.params, ref.params, 1e-10, 1e-13, `params (batch ${batch})`);
  }
});

test("learning curves: query accuracy and loss every k steps; measuring them never changes training (MLP fast path, mini-batch, RNN)", async () => {
  for (const over of [{}, { batch: 4, bias: true }, { net: "rnn" as const, hidden: [20], delay: 3 }]) {
    const cfg: RunConfig = { ...small, ...over, tasks: 3 };
    const plain = await train(cfg, 1), withCurve = await train(cfg, 1, undefined, undefined, { curve: 7 });
    assert.deepEqual(withCurve.results.map((r) => [r.acc, r.loss, r.weightNorm]), plain.results.map((r) => [r.acc, r.loss, r.weightNorm]));
    const steps = withCurve.curve!.map((p) => p.step);
    assert.deepEqual(steps, [0, 7, 14, 21, 28, 35, 42, 49, 50]);
    const last = withCurve.curve![withCurve.curve!.length - 1];
    assert.ok(Math.abs(last.acc - withCurve.acc) < 1e-12, "the last point is the task's score");
    assert.ok(withCurve.curve!.every((p) => Number.isFinite(p.acc_se) && p.acc_se >= 0));
  }
});
