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
import { WasmArena } from "../src/core/wasm.js";
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
  backward(net, makeFeedback("sym", net, "xavier", 1, new Rng(0)), tr, { needU: new Array(L + 1).fill(true), needE0: true, needUE: new Array(L + 1).fill(true) });
  return {
    tr,
    sig: (l) => ({ l, L, n: net.dims[l], m: net.dims[l - 1], T: 1, pre: tr.y[l - 1], post: tr.y[l], e: tr.e[l], ePre: tr.e[l - 1], u: tr.u[l], ue: tr.ue[l], b: net.bias ? net.b[l] : null }),
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
      let largest = 0;
      for (let l = 1; l <= net.L; l++) {
        const s = sig(l);
        const want = TERMS[name].naive(s, before.W[l]).map((v) => theta * v);
        assertClose(diff(net.W[l], before.W[l]), want, 1e-10, 1e-14, `${name} ΔW${l}`);
        largest = Math.max(largest, maxAbs(want));
        if (bias) {
          // A bias is a weight from a constant input 1 (Oja: pre factor 1 − yᵀb; no error at the constant,
          // so eoja's pre factor is −bᵀe; decay shrinks it like any weight).
          let yb = 0, eb = 0;
          for (let i = 0; i < s.n; i++) { yb += s.post[i] * s.b![i]; eb += s.e[i] * s.b![i]; }
          const bias0 = Float64Array.from(before.b[l]);
          const wantB = Array.from({ length: s.n }, (_, i) => theta * ({
            bp: -s.e[i], hebb: s.post[i], oja: s.post[i] * (1 - yb), ehebb: 0, ye: 0, eoja: -s.e[i] * eb, decay: -bias0[i],
          } as Record<TermName, number>)[name]);
          assertClose(diff(net.b[l], before.b[l]), wantB, 1e-10, 1e-14, `${name} Δb${l}`);
        }
      }
      // The other backend: the same start in float32 on the WebAssembly kernels (the fast step where it applies)
      // lands θ · the same formula, to float32's precision.
      const w32 = new MLP({ dims: [...net.dims], bias, arena: new WasmArena(1 << 20) });
      for (let l = 1; l <= net.L; l++) { w32.W[l].set(before.W[l]); if (bias) w32.b[l].set(before.b[l]); }
      const start32 = w32.clone(), step32 = stepFor(w32, makeFeedback("sym", w32, "xavier", 1, new Rng(0)), makeRule({ [name]: theta }, net.L));
      step32.x.set(x);
      step32.step(label);
      step32.finish();
      for (let l = 1; l <= net.L; l++) {
        const want = TERMS[name].naive(sig(l), before.W[l]).map((v) => theta * v);
        assertClose(diff(w32.W[l], start32.W[l]), want, 1e-3, 1e-6 * Math.max(1e-3, maxAbs(want)) + 2e-7, `wasm f32: ${name} ΔW${l}`);
      }
      // eoja is small here and exactly 0 at layer 1 with backprop (e₀ = W₁ᵀe₁; deeper, eₗ₋₁ − Wᵀeₗ = Wᵀeₗ ⊙ (σ' − 1)), but not zero.
      assert.ok(largest > 1e-10, "the check is not vacuous");
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
  test(`conformance: ${name} gives zero ΔW for zero signals (and zero W), keeps shapes, is deterministic`, () => {
    const n = 4, m = 3, z = (k: number) => new Float64Array(k);
    const zero: LayerSignals = { l: 1, L: 2, n, m, T: 1, pre: z(m), post: z(n), e: z(n), ePre: z(m), u: z(m), ue: z(m), b: null };
    const f: RankOne = { sign: 1, post: z(0), pre: z(0), preBias: 0 };
    TERMS[name].factors(zero, z(m), f);
    assert.equal(f.post.length, n); assert.equal(f.pre.length, m);
    const W = z(n * m);
    addOuter(W, 1, f.post, f.pre, n, m);
    assert.equal(maxAbs(W), 0);
    // A rank-1 term is zero for zero signals whatever W; a term that scales W is zero for zero W.
    assert.equal(maxAbs(TERMS[name].naive(zero, TERMS[name].scalesW ? z(n * m) : new Float64Array(n * m).fill(1))), 0);
    const r = new Rng(3), rnd = (k: number) => Float64Array.from({ length: k }, () => r.normal());
    const s: LayerSignals = { ...zero, pre: rnd(m), post: rnd(n), e: rnd(n), ePre: rnd(m), u: rnd(m), ue: rnd(m) };
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

// The conformance table's tangent row: along a straight path of the signals, s(α) = s + α·ds (bias included),
// d/dα of the term's factors, sign · Σ_t post ⊗ pre and sign · preBias · post, equals what its tangent gives.
for (const name of TERM_NAMES.filter((t) => !TERMS[t].scalesW)) {
  test(`conformance: the tangent of ${name} passes a central finite-difference check (T = 1 and T = 3 rows, bias)`, () => {
    const r = new Rng(11), n = 5, m = 4;
    for (const T of [1, 3]) {
      const rnd = (k: number) => Float64Array.from({ length: k }, () => r.normal());
      const mk = (): LayerSignals => ({ l: 1, L: 2, n, m, T, pre: rnd(T * m), post: rnd(T * n), e: rnd(T * n), ePre: rnd(T * m), u: rnd(T * m), ue: rnd(T * m), b: T === 1 ? rnd(n) : null });
      const s = mk(), ds = mk();
      const at = (a: number): LayerSignals => {
        const mix = (x: Float64Array, d: Float64Array) => x.map((v, i) => v + a * d[i]);
        return { ...s, pre: mix(s.pre as Float64Array, ds.pre as Float64Array), post: mix(s.post as Float64Array, ds.post as Float64Array), e: mix(s.e as Float64Array, ds.e as Float64Array),
          ePre: mix(s.ePre as Float64Array, ds.ePre as Float64Array), u: mix(s.u as Float64Array, ds.u as Float64Array), ue: mix(s.ue as Float64Array, ds.ue as Float64Array),
          b: s.b === null ? null : mix(s.b as Float64Array, ds.b as Float64Array) };
      };
      // ΔW/θ and Δb/θ as one vector.
      const value = (sig: LayerSignals) => {
        const f: RankOne = { sign: 1, post: sig.post, pre: sig.pre, preBias: 0 };
        TERMS[name].factors(sig, new Float64Array(T * m), f);
        const out = new Float64Array(n * m + n);
        for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] += f.sign * f.post[t * n + i] * f.pre[t * m + j];
        if (T === 1) for (let i = 0; i < n; i++) out[n * m + i] = f.sign * f.preBias * f.post[i];
        return out;
      };
      const f: RankOne = { sign: 1, post: s.post, pre: s.pre, preBias: 0 }, g: RankOne = { sign: 1, post: s.post, pre: s.pre, preBias: 0 };
      const sp = new Float64Array(T * m), st = new Float64Array(T * m);
      TERMS[name].factors(s, sp, f);
      TERMS[name].tangent(s, ds, st, g);
      const tan = new Float64Array(n * m + n);
      for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
        tan[i * m + j] += f.sign * (g.post[t * n + i] * f.pre[t * m + j] + f.post[t * n + i] * g.pre[t * m + j]);
      }
      if (T === 1) for (let i = 0; i < n; i++) tan[n * m + i] = f.sign * (g.post[i] * f.preBias + f.post[i] * g.preBias);
      const h = 1e-6, vp = value(at(h)), vm = value(at(-h));
      assertClose(tan, vp.map((v, i) => (v - vm[i]) / (2 * h)), 1e-6, 1e-8, `${name} tangent (T = ${T})`);
      assert.ok(maxAbs(tan) > 1e-3, "the check is not vacuous");
    }
  });
}

test("a term defined outside the package: registered, applied by the literal formula, on worker threads, differentiated; a malformed one refused by name", async () => {
  const { registerTermsModule, registerTerm, TermError, isTermName } = await import("../src/rules/registry.js");
  const url = new URL("./fixtures/antihebb.mjs", import.meta.url).href;
  assert.deepEqual(await registerTermsModule(url), ["antihebb"]);
  assert.ok(isTermName("antihebb"));
  // Applied as its literal formula says.
  const { net, x, label } = setup(false);
  const before = net.clone();
  const { sig } = signals(before, x, label);
  const step = stepFor(net, makeFeedback("sym", net, "xavier", 1, new Rng(0)), makeRule({ bp: 0.1, antihebb: 0.2 }, net.L));
  step.x.set(x); step.step(label);
  for (let l = 1; l <= net.L; l++) {
    const want = TERMS.bp.naive(sig(l), before.W[l]).map((v, i) => 0.1 * v + 0.2 * TERMS.antihebb.naive(sig(l), before.W[l])[i]);
    assertClose(diff(net.W[l], before.W[l]), want, 1e-10, 1e-14, `ΔW${l}`);
  }
  // Worker threads import the module: the same bytes on 1 and 2 threads.
  const { train } = await import("../src/experiments/train.js");
  const { DEFAULT_CONFIG } = await import("../src/experiments/task.js");
  const cfg = { ...DEFAULT_CONFIG, hidden: [20], tasks: 4, shots: 5, query: 3, theta: { bp: 0.01, antihebb: 0.001 } };
  const one = await train(cfg, 1), two = await train(cfg, 2);
  assert.deepEqual(two.results.map((r) => r.loss), one.results.map((r) => r.loss));
  // Its coefficient's meta-gradient is exact (central finite differences, float64).
  const { runEpisode } = await import("../src/experiments/episode.js");
  const { metaLayout } = await import("../src/learn/tangent.js");
  const { tinyData } = await import("./helpers.js");
  const tc = { ...DEFAULT_CONFIG, hidden: [6, 5], way: 3, shots: 4, query: 3, seed: 5, backend: "js" as const };
  const layout = metaLayout(["bp", "antihebb"], 3, false), th = [0.4, 0.2], ds = tinyData();
  const r = runEpisode(tc, ds, 0, layout, th, {}, "f64"), h = 1e-5;
  th.forEach((_, k) => {
    const p = [...th], m = [...th]; p[k] += h; m[k] -= h;
    const fd = (runEpisode(tc, ds, 0, layout, p, {}, "f64").loss - runEpisode(tc, ds, 0, layout, m, {}, "f64").loss) / (2 * h);
    assert.ok(Math.abs(r.grad[k] - fd) < 1e-5 * Math.abs(fd), `${layout[k].term}: ${r.grad[k]} vs ${fd}`);
  });
  // A term whose factors have the wrong length is refused, naming it.
  const bad = { ...TERMS.antihebb, name: "badterm", factors(s: LayerSignals, _sc: Float64Array | Float32Array, out: RankOne) { out.sign = 1; out.post = s.post.subarray(0, 1); out.pre = s.pre; out.preBias = 0; } };
  assert.throws(() => registerTerm(bad), (e: Error) => e instanceof TermError && /rule term 'badterm': factors gave a post factor of 1 values, expected T·n/.test(e.message));
  assert.throws(() => registerTerm({ ...TERMS.antihebb, name: "bp" }), /built in/);
});
