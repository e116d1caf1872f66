import { test } from "node:test";
import assert from "node:assert/strict";
import { addOuter, alloc, matTVec, matVec } from "../src/core/kernels.js";
import { Rng } from "../src/core/rng.js";
import { forward, MLP, Trace } from "../src/nets/mlp/mlp.js";
import { TERMS, TERM_NAMES, type TermName } from "../src/rules/registry.js";
import { makeRule, parseThetaSpec, formatThetaSpec } from "../src/rules/rule.js";
import type { LayerSignals, RankOne } from "../src/rules/types.js";
import { makeFeedback } from "../src/signals/feedback.js";
import { backward } from "../src/nets/mlp/mlp.js";
import { assertClose, diff, maxAbs, stepFor } from "./helpers.js";

function setup(bias: boolean, seed = 1) {
  const rng = new Rng(seed);
  const net = new MLP({ dims: [6, 5, 4, 3], bias, dtype: "f64" }).init("xavier", 1, rng);
  if (bias) for (let l = 1; l <= net.L; l++) for (let i = 0; i < net.b[l].length; i++) net.b[l][i] = 0.2 * rng.normal();
  const x = Float64Array.from({ length: 6 }, () => rng.uniform());
  return { net, x, label: 1 };
}

/** Signals of one pass on an untouched copy: the inputs to every term's naive formula. */
function signals(net: MLP, x: Float64Array, label: number): { tr: Trace; sig: (l: number) => LayerSignals } {
  const tr = new Trace(net);
  tr.y[0].set(x);
  forward(net, tr);
  const L = net.L;
  for (let i = 0; i < net.dims[L]; i++) tr.e[L][i] = tr.y[L][i] - (i === label ? 1 : 0);
  backward(net, makeFeedback("sym", net, "xavier", 1, new Rng(0)), tr, { needU: new Array(L + 1).fill(true), needE0: true });
  return {
    tr,
    sig: (l) => ({ l, L, n: net.dims[l], m: net.dims[l - 1], T: 1, pre: tr.y[l - 1], post: tr.y[l], e: tr.e[l], ePre: tr.e[l - 1], u: tr.u[l], b: net.bias ? net.b[l] : null }),
  };
}

for (const name of TERM_NAMES) {
  for (const bias of [false, true]) {
    test(`term ${name} applied by the learner equals θ · its naive formula (bias ${bias})`, () => {
      const { net, x, label } = setup(bias);
      const before = net.clone();
      const { sig } = signals(before, x, label);
      const theta = 0.37;
      const learner = stepFor(net, makeFeedback("sym", net, "xavier", 1, new Rng(0)), makeRule({ [name]: theta }, net.L));
      learner.x.set(x);
      learner.step(label);
      for (let l = 1; l <= net.L; l++) {
        const s = sig(l);
        const want = TERMS[name].naive(s, before.W[l]).map((v) => theta * v);
        assertClose(diff(net.W[l], before.W[l]), want, 1e-10, 1e-14, `${name} ΔW${l}`);
        assert.ok(maxAbs(want) > 1e-6, "the check is not vacuous");
        if (bias) {
          // A bias is a weight from a constant input 1 (Oja: pre factor 1 − yᵀb; no error at the constant).
          let yb = 0;
          for (let i = 0; i < s.n; i++) yb += s.post[i] * s.b![i];
          const wantB = Array.from({ length: s.n }, (_, i) => theta * ({
            bp: -s.e[i], hebb: s.post[i], oja: s.post[i] * (1 - yb), ehebb: 0,
          } as Record<TermName, number>)[name]);
          assertClose(diff(net.b[l], before.b[l]), wantB, 1e-10, 1e-14, `${name} Δb${l}`);
        }
      }
    });
  }
}

test("a rule is the weighted sum of its terms, per-layer coefficients included", () => {
  const { net, x, label } = setup(false);
  const before = net.clone();
  const { sig } = signals(before, x, label);
  const theta = { bp: [0.1, 0.2, 0.3], oja: 0.05, hebb: [0, 0.01, 0.02], ehebb: 0.03 };
  const learner = stepFor(net, makeFeedback("sym", net, "xavier", 1, new Rng(0)), makeRule(theta, net.L));
  learner.x.set(x);
  learner.step(label);
  for (let l = 1; l <= net.L; l++) {
    const want = new Float64Array(net.W[l].length);
    for (const [k, v] of Object.entries(theta)) {
      const c = Array.isArray(v) ? v[l - 1] : v;
      TERMS[k as TermName].naive(sig(l), before.W[l]).forEach((d, i) => { want[i] += c * d; });
    }
    assertClose(diff(net.W[l], before.W[l]), want, 1e-10, 1e-14, `ΔW${l}`);
  }
});

test("--no-oja-output leaves the output layer out of Oja's rule", () => {
  const { net, x, label } = setup(false);
  const before = net.clone();
  const learner = stepFor(net, makeFeedback("sym", net, "xavier", 1, new Rng(0)), makeRule({ oja: 0.5 }, net.L, { ojaOutput: false }));
  learner.x.set(x);
  learner.step(label);
  assert.deepEqual(net.W[net.L], before.W[net.L]);
  assert.notDeepEqual(net.W[1], before.W[1]);
});

// The conformance table every term must pass (STYLE.md).
for (const name of TERM_NAMES) {
  test(`conformance: ${name} gives zero ΔW for zero signals, keeps shapes, is deterministic`, () => {
    const n = 4, m = 3, z = (k: number) => new Float64Array(k);
    const zero: LayerSignals = { l: 1, L: 2, n, m, T: 1, pre: z(m), post: z(n), e: z(n), ePre: z(m), u: z(m), b: null };
    const f: RankOne = { sign: 1, post: z(0), pre: z(0), preBias: 0 };
    TERMS[name].factors(zero, z(m), f);
    assert.equal(f.post.length, n); assert.equal(f.pre.length, m);
    const W = z(n * m);
    addOuter(W, 1, f.post, f.pre, n, m);
    assert.equal(maxAbs(W), 0);
    assert.equal(maxAbs(TERMS[name].naive(zero, new Float64Array(n * m).fill(1))), 0);
    const r = new Rng(3), rnd = (k: number) => Float64Array.from({ length: k }, () => r.normal());
    const s: LayerSignals = { ...zero, pre: rnd(m), post: rnd(n), e: rnd(n), ePre: rnd(m), u: rnd(m) };
    const g1 = z(m), g2 = z(m);
    const f1: RankOne = { ...f }, f2: RankOne = { ...f };
    TERMS[name].factors(s, g1, f1); TERMS[name].factors(s, g2, f2);
    assert.deepEqual([Array.from(f1.post), Array.from(f1.pre), f1.sign], [Array.from(f2.post), Array.from(f2.pre), f2.sign]);
  });
}

test("Oja's rule alone drives the rows of a linear layer to orthonormality (W Wᵀ → I)", () => {
  const n = 3, m = 8, rng = new Rng(2);
  const W = alloc("f64", n * m), y = alloc("f64", n), u = alloc("f64", m), x = alloc("f64", m), pre = alloc("f64", m);
  for (let i = 0; i < W.length; i++) W[i] = 0.1 * rng.normal();
  const scales = [3, 2.5, 2, 1, 0.5, 0.3, 0.2, 0.1];
  for (let t = 0; t < 20000; t++) {
    for (let j = 0; j < m; j++) x[j] = scales[j] * rng.normal();
    matVec(y, W, x, n, m);
    matTVec(u, W, y, n, m);
    for (let j = 0; j < m; j++) pre[j] = x[j] - u[j];
    addOuter(W, 0.002, y, pre, n, m);
  }
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
    let d = 0;
    for (let j = 0; j < m; j++) d += W[a * m + j] * W[b * m + j];
    assert.ok(Math.abs(d - (a === b ? 1 : 0)) < 0.05, `WWᵀ[${a},${b}] = ${d}`);
  }
  // The rows span the top-3 principal subspace: almost no weight on the low-variance inputs.
  let low = 0;
  for (let a = 0; a < n; a++) for (let j = 3; j < m; j++) low += W[a * m + j] ** 2;
  assert.ok(low < 0.05, `weight outside the principal subspace: ${low}`);
});

test("rule specs parse, round-trip and reject unknown terms", () => {
  assert.deepEqual(parseThetaSpec("bp=0.0068,oja=0.0053"), { bp: 0.0068, oja: 0.0053 });
  assert.deepEqual(parseThetaSpec("oja=1:2:3"), { oja: [1, 2, 3] });
  assert.equal(formatThetaSpec(parseThetaSpec("bp=0.001,oja=0:0.5")), "bp=0.001,oja=0:0.5");
  assert.throws(() => parseThetaSpec("bp=0.1,foo=2"), /unknown rule term 'foo'/);
  assert.throws(() => parseThetaSpec("bp=abc"), /bad coefficient/);
  assert.throws(() => parseThetaSpec("bp"), /no coefficient/);
  assert.throws(() => makeRule({ oja: [1, 2] }, 3), /2 per-layer coefficients/);
});
