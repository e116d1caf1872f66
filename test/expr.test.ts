import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Rng } from "../src/core/rng.js";
import { backward, forward, MLP, Trace } from "../src/nets/mlp/mlp.js";
import { makeRule } from "../src/rules/rule.js";
import { TERMS, type TermName } from "../src/rules/registry.js";
import type { LayerSignals } from "../src/rules/types.js";
import { makeFeedback } from "../src/signals/feedback.js";
import { expressionTerm, registerExpressionTerm, updateAndTangent, type ExpressionTerm } from "../src/rules/expr/compile.js";
import { ExprError, FUNCTIONS, parseDefinition, parseExpr, printExpr, sameExpr, SIGNALS, type Expr } from "../src/rules/expr/parse.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaLayout } from "../src/learn/tangent.js";
import { DEFAULT_CONFIG, type RunConfig } from "../src/experiments/task.js";
import { train } from "../src/experiments/train.js";
import { assertClose, diff, maxAbs, stepFor, tinyData } from "./helpers.js";

// Expression terms of every shape: rank-1 (bare factors, computed factors on either side, constants, bias-aware
// pre factors), and elementwise (reading W, or not factoring).
const DEFS: Record<string, string> = {
  xoja: "post * (pre - u)",
  xoja2: "post*pre - post*u",
  xbp: "-e * pre",
  xsoft: "tanh(post) * relu(pre - u) / (1 + abs(ue))",
  xpost: "0.5 * post^2",
  xeoja: "e * (ePre - ue)",
  xlocal: "post * pre - post^2 * W",
  xmix: "exp(-abs(post + pre)) * (1 + W) - 0.1 * e * ePre * W^2",
};
const terms = Object.fromEntries(Object.entries(DEFS).map(([k, f]) => [k, registerExpressionTerm(k, f)])) as Record<string, ExpressionTerm>;

test("expression terms take the rank-1 path when they factor, the transposed first layer when pre is x or x − u, else the elementwise sweep", () => {
  assert.equal(terms.xoja.inputPre, "x-u"); assert.equal(terms.xoja2.inputPre, "x-u");
  assert.equal(terms.xbp.inputPre, "x"); assert.equal(terms.xbp.form!.c, -1);
  for (const k of ["xsoft", "xpost", "xeoja"]) assert.ok(terms[k].form !== null && terms[k].elementwise === undefined, k);
  for (const k of ["xlocal", "xmix"]) assert.ok(terms[k].form === null && terms[k].elementwise !== undefined, k);
  assert.equal(terms.xeoja.needsUE, true); assert.equal(terms.xeoja.needsEPre, true); assert.equal(terms.xoja.needsU, true);
});

test("bad formulas are refused at parse time with the column of the error", () => {
  const cases: [string, number, RegExp][] = [
    ["post * foo", 8, /unknown signal 'foo'/],
    ["post * (pre - u", 16, /expected '\)'/],
    ["post / pre", 8, /division by a value that can be zero/],
    ["post / (pre^2)", 9, /division by a value that can be zero/],
    ["log(post)", 1, /log of a value/],
    ["post ^ pre", 8, /exponent must be a constant/],
    ["abs(pre)^0.5 * post^-1", 21, /negative power of a value that can be zero/],
    ["post $ pre", 6, /unexpected character/],
    ["post pre", 6, /unexpected 'pre'/],
    ["sinh(post)", 1, /unknown function 'sinh'/],
    ["3 * 2", 1, /reads no signal/],
  ];
  for (const [f, col, re] of cases) {
    assert.throws(() => expressionTerm("t", f), (e: Error) => e instanceof ExprError && re.test(e.message) && e.message.includes(`at column ${col}`) && !e.message.includes("\n"), f);
  }
  // Guarded forms are accepted.
  for (const f of ["post / (1 + abs(pre))", "post * log(1 + pre^2)", "post * (1 + pre^2)^-0.5", "post / exp(pre)", "post * abs(pre)^0.5"]) expressionTerm("t", f);
  // A definition's error is placed in the whole text.
  assert.throws(() => parseDefinition("my = post * bad"), /at column 13/);
  assert.throws(() => registerExpressionTerm("oja = post * pre"), /built in/);
});

// Random trees over the grammar, for the round trip.
const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof({ depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...SIGNALS).map((name): Expr => ({ k: "var", name, pos: 0 })),
    fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 1e6, noNaN: true })).map((v): Expr => ({ k: "num", v, pos: 0 })),
    tie("e").map((a): Expr => ({ k: "neg", a, pos: 0 })),
    fc.tuple(fc.constantFrom("+", "-", "*"), tie("e"), tie("e")).map(([op, a, b]): Expr => ({ k: "bin", op, a, b, pos: 0 })),
    tie("e").map((a): Expr => ({ k: "bin", op: "/", a, b: { k: "bin", op: "+", a: { k: "num", v: 1, pos: 0 }, b: { k: "call", f: "exp", a, pos: 0 }, pos: 0 }, pos: 0 })),
    fc.tuple(tie("e"), fc.integer({ min: 0, max: 4 })).map(([a, c]): Expr => ({ k: "bin", op: "^", a, b: { k: "num", v: c, pos: 0 }, pos: 0 })),
    fc.tuple(fc.constantFrom(...FUNCTIONS.filter((f) => f !== "log")), tie("e")).map(([f, a]): Expr => ({ k: "call", f, a, pos: 0 })),
  ),
})).e;

test("fuzz: random strings never crash the parser (a formula or an ExprError), random formulas round-trip through print and parse", () => {
  const alphabet = fc.constantFrom(..."post pre e ePre u ue W exp log tanh abs sign relu + - * / ^ ( ) 0 1 2.5 1e3 . , = $ x".split(" "));
  fc.assert(fc.property(fc.array(alphabet, { maxLength: 20 }).map((a) => a.join(fc.sample(fc.constantFrom("", " "), 1)[0])), (s) => {
    try { parseExpr(s); } catch (e) { if (!(e instanceof ExprError)) throw e; }
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.string({ maxLength: 30 }), (s) => {
    try { parseExpr(s); } catch (e) { if (!(e instanceof ExprError)) throw e; }
  }), { numRuns: 2000 });
  fc.assert(fc.property(exprArb, (e) => {
    const text = printExpr(e);
    const back = parseExpr(text);
    assert.ok(sameExpr(back, e), `${text} → ${printExpr(back)}`);
  }), { numRuns: 1000 });
});

/** Signals of one pass on an untouched copy (as test/rules.test.ts): the inputs to a term's naive formula. */
function signals(net: MLP, x: Float64Array, label: number, fb: "sym" | "random"): (l: number) => LayerSignals {
  const tr = new Trace(net);
  tr.y[0].set(x);
  forward(net, tr);
  const L = net.L;
  for (let i = 0; i < net.dims[L]; i++) tr.e[L][i] = tr.y[L][i] - (i === label ? 1 : 0);
  backward(net, makeFeedback(fb, net, "xavier", 1, new Rng(0)), tr, { needU: new Array(L + 1).fill(true), needE0: true, needUE: new Array(L + 1).fill(true) });
  return (l) => ({ l, L, n: net.dims[l], m: net.dims[l - 1], T: 1, pre: tr.y[l - 1], post: tr.y[l], e: tr.e[l], ePre: tr.e[l - 1], u: tr.u[l], ue: tr.ue[l], b: net.bias ? net.b[l] : null });
}

for (const name of Object.keys(DEFS)) {
  for (const fb of ["sym", "random"] as const) {
    test(`expression term ${name} = ${DEFS[name]}: applied by the learner equals θ · its literal formula (${fb}, bias and mini-batch of 1)`, () => {
      for (const bias of [false, true]) {
        const rng = new Rng(3);
        const net = new MLP({ dims: [6, 5, 4, 3], bias, dtype: "f64" }).init("xavier", 1, rng);
        if (bias) for (let l = 1; l <= net.L; l++) for (let i = 0; i < net.b[l].length; i++) net.b[l][i] = 0.2 * rng.normal();
        const x = Float64Array.from({ length: 6 }, () => rng.uniform());
        const before = net.clone(), sig = signals(before, x, 1, fb);
        const theta = 0.37, step = stepFor(net, makeFeedback(fb, net, "xavier", 1, new Rng(0)), makeRule({ bp: 0.1, [name]: theta }, net.L));
        step.x.set(x); step.step(1);
        let largest = 0;
        for (let l = 1; l <= net.L; l++) {
          const s = sig(l), a = TERMS.bp.naive(s, before.W[l]), b = terms[name].naive(s, before.W[l]);
          assertClose(diff(net.W[l], before.W[l]), a.map((v, i) => 0.1 * v + theta * b[i]), 1e-10, 1e-14, `${name} ΔW${l}`);
          largest = Math.max(largest, maxAbs(b));
        }
        // Like the built-in eoja, xeoja is exactly 0 at layer 1 with backprop (e₀ = W₁ᵀe₁), not above it.
        assert.ok(largest > 1e-6, "the check is not vacuous");
      }
    });
  }
}

test("the derived tangent of every expression term passes a central finite-difference check (T = 1 with a bias, T = 3)", () => {
  const r = new Rng(5), n = 5, m = 4, rnd = (k: number) => Float64Array.from({ length: k }, () => r.normal() * 0.7);
  for (const name of Object.keys(DEFS)) for (const T of [1, 3]) {
    const mk = (): LayerSignals => ({ l: 1, L: 2, n, m, T, pre: rnd(T * m), post: rnd(T * n), e: rnd(T * n), ePre: rnd(T * m), u: rnd(T * m), ue: rnd(T * m), b: T === 1 ? rnd(n) : null });
    const s = mk(), ds = mk(), W = rnd(n * m), dW = rnd(n * m);
    const at = (a: number): [LayerSignals, Float64Array] => {
      const mix = (x: Float64Array | Float32Array, d: Float64Array | Float32Array) => (x as Float64Array).map((v, i) => v + a * d[i]);
      return [{ ...s, pre: mix(s.pre, ds.pre), post: mix(s.post, ds.post), e: mix(s.e, ds.e), ePre: mix(s.ePre, ds.ePre), u: mix(s.u, ds.u), ue: mix(s.ue, ds.ue), b: s.b && mix(s.b, ds.b!) }, mix(W, dW)];
    };
    const h = 1e-6, { tan } = updateAndTangent(terms[name], s, ds, W, dW);
    const [sp, Wp] = at(h), [sm, Wm] = at(-h);
    const vp = updateAndTangent(terms[name], sp, ds, Wp, dW).value, vm = updateAndTangent(terms[name], sm, ds, Wm, dW).value;
    assertClose(tan, vp.map((v, i) => (v - vm[i]) / (2 * h)), 1e-6, 1e-8, `${name} (T = ${T})`);
    assert.ok(maxAbs(tan) > 1e-3, "the check is not vacuous");
  }
});

// The exact meta-gradient through the online loop, with expression terms learned, against central finite differences.
const tiny = tinyData();
const mlp: RunConfig = { ...DEFAULT_CONFIG, hidden: [6, 5], way: 3, shots: 4, query: 3, seed: 5, backend: "js" };
const rnn: RunConfig = { ...DEFAULT_CONFIG, net: "rnn", hidden: [5], way: 3, shots: 4, query: 3, seed: 5, delay: 2, gain: 1.2, backend: "js" };
const metaCases: [string, RunConfig, TermName[], number[]][] = [
  ["MLP, backprop, rank-1 and elementwise", mlp, ["bp", "xsoft", "xlocal"], [0.4, 0.2, 0.1]],
  ["MLP, feedback alignment", { ...mlp, feedback: "random" }, ["xbp", "xeoja", "xmix"], [0.4, 0.1, 0.05]],
  ["MLP, mini-batches of 3 with decay", { ...mlp, batch: 3 }, ["bp", "xpost", "xlocal", "decay"], [0.6, 0.05, 0.1, 0.02]],
  ["RNN, BPTT", rnn, ["bp", "xoja", "xlocal"], [0.4, 0.2, 0.05]],
  ["RNN, feedback alignment through time", { ...rnn, feedback: "random" }, ["xbp", "xsoft", "xmix"], [0.3, 0.1, 0.005]],
];
for (const [name, cfg, learn, theta] of metaCases) {
  test(`exact meta-gradient of expression terms equals central finite differences in float64: ${name}`, () => {
    const layout = metaLayout(learn, 3, false), h = 1e-5;
    const r = runEpisode(cfg, tiny, 0, layout, theta, {}, "f64");
    const fd = theta.map((_, k) => {
      const p = [...theta], m = [...theta]; p[k] += h; m[k] -= h;
      return (runEpisode(cfg, tiny, 0, layout, p, {}, "f64").loss - runEpisode(cfg, tiny, 0, layout, m, {}, "f64").loss) / (2 * h);
    });
    const scale = Math.max(...fd.map(Math.abs));
    assert.ok(scale > 1e-4, "the check is not vacuous");
    fd.forEach((f, k) => assert.ok(Math.abs(r.grad[k] - f) <= 1e-5 * Math.max(Math.abs(f), 1e-3 * scale), `${learn[k]}: exact ${r.grad[k]} vs fd ${f}`));
  });
}

test("Oja's rule as a formula gives the built-in oja's accuracies bit for bit (MLP on the wasm kernels, feedback alignment, RNN), on 1 and 2 threads", async () => {
  const cases: Partial<RunConfig>[] = [{ hidden: [30, 20] }, { hidden: [30, 20], feedback: "random" }, { net: "rnn", hidden: [12], delay: 2 }];
  for (const c of cases) {
    const cfg = { ...DEFAULT_CONFIG, ...c, tasks: 3, shots: 5, query: 3 } as RunConfig;
    const a = await train({ ...cfg, theta: { bp: 0.0068, oja: 0.0053 } }, 1), b = await train({ ...cfg, theta: { bp: 0.0068, xoja: 0.0053 } }, 2);
    assert.deepEqual(b.results.map((r) => [r.acc, r.loss]), a.results.map((r) => [r.acc, r.loss]), JSON.stringify(c));
  }
});

test("recover: from the 7-term pool, a teacher bp = 0.0068, oja = 0.0053 is recovered within 5% with the other terms near 0 (small network, weights matched)", async () => {
  const { recoverFit } = await import("../src/experiments/recover.js");
  const { cachedDataset } = await import("../src/experiments/datasets.js");
  const { TERM_NAMES } = await import("../src/rules/registry.js");
  const cfg: RunConfig = { ...DEFAULT_CONFIG, hidden: [8], way: 3, shots: 3, query: 1, backend: "js" };
  const fit = recoverFit(cfg, cachedDataset(cfg), { bp: 0.0068, oja: 0.0053 }, TERM_NAMES, { tasks: 2, iterations: 8 });
  const th = Object.fromEntries(TERM_NAMES.map((t, k) => [t, fit.theta[k]]));
  assert.ok(Math.abs(th.bp / 0.0068 - 1) < 0.05 && Math.abs(th.oja / 0.0053 - 1) < 0.05, JSON.stringify(th));
  for (const t of TERM_NAMES.filter((t) => t !== "bp" && t !== "oja")) assert.ok(Math.abs(th[t]) < 0.05 * 0.0053, `${t} = ${th[t]}`);
  assert.ok(fit.loss < fit.losses[0] * 1e-4, `residual ${fit.loss}`);
});
