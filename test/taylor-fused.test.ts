import { test } from "node:test";
import assert from "node:assert/strict";
import { heapArena, jsKernels, monoTangent, monoUpdate, type Arena, type Buf } from "../src/core/kernels.js";
import { Rng } from "../src/core/rng.js";
import { nativeIsa, WasmArena } from "../src/core/wasm.js";
import "../src/core/native.js";
import { loadPixels } from "../src/data/pixels.js";
import { sampleTask } from "../src/data/tasks.js";
import { runEpisode } from "../src/experiments/episode.js";
import { buildNetwork, DEFAULT_CONFIG, sitesOf, taskStreams, type RunConfig } from "../src/experiments/task.js";
import { setMonomialFusion } from "../src/learn/plasticity.js";
import { metaLayout, type MetaParam } from "../src/learn/tangent.js";
import { thetaSpec } from "../src/meta/theta.js";
import { planTangentStep } from "../src/nets/plan.js";
import { expressionTerm, registerExpressionTerm } from "../src/rules/expr/compile.js";
import { monomial, type Node } from "../src/rules/expr/derive.js";
import { registerTaylor, taylorDefinitions } from "../src/rules/expr/family.js";
import { parseExpr } from "../src/rules/expr/parse.js";
import { randomSignals, uniformStream } from "../src/rules/random-signals.js";
import { makeRule } from "../src/rules/rule.js";
import { maxAbs, tinyData } from "./helpers.js";

// The fused monomial sweeps (Kernels.monoUpdate, monoTangent) against the per-term path they replace
// (setMonomialFusion(false): each term's own compiled loop, one sweep each). They are not bit-identical: the
// fused sweep evaluates Σ_k c_k preᵃ postᵇ Wᶜ as a polynomial by Horner's rule in float64, the per-term loops
// term by term (and, on f32 buffers, round each term's partial sum to f32). Stated tolerances below.
const taylor = registerTaylor();
const tiny = tinyData();

/** Runs `f` with fusion set to `on`, restoring the setting. */
function withFusion<T>(on: boolean, f: () => T): T {
  const was = setMonomialFusion(on);
  try { return f(); } finally { setMonomialFusion(was); }
}

test("monomials are read from the formula, not the name: any order, constants, powers ≤ 2; others are not", () => {
  const mono = (f: string) => monomial(parseExpr(f) as Node);
  assert.deepEqual(mono("pre * post^2 * W"), { k: 1, a: 1, b: 2, c: 1 });
  assert.deepEqual(mono("W * pre * pre / 4"), { k: 0.25, a: 2, b: 0, c: 1 });
  assert.deepEqual(mono("-(post * W)^2"), { k: -1, a: 0, b: 2, c: 2 });
  assert.deepEqual(mono("3 * (post * W)"), { k: 3, a: 0, b: 1, c: 1 });
  for (const f of ["post * pre - post^2 * W", "pre^3 * W", "exp(W)", "ePre * W", "e * W", "u * W", "W / (1 + abs(pre))", "pre * W + W"]) assert.equal(mono(f), null, f);
  // Every Taylor term with c ≥ 1 is elementwise and a monomial of its own exponents.
  for (const d of taylorDefinitions()) {
    const [name, f] = d.split(" = "), t = expressionTerm(name, f), [a, b, c] = name.slice(2).split("").map(Number);
    if (c === 0) assert.equal(t.elementwise, undefined, name);
    else assert.deepEqual(t.elementwise?.monomial, { k: 1, a, b, c }, name);
  }
});

const fill = <B extends Buf>(b: B, r: Rng, lo = -1, hi = 1): B => { for (let i = 0; i < b.length; i++) b[i] = lo + (hi - lo) * r.uniform(); return b; };

// The native backend has no C twin of these: its arenas run the wasm kernels (the same floats, checked where it is built).
const backends = [false, ...(nativeIsa() === null ? [] : [true])];
test("monoUpdate and monoTangent: the WebAssembly kernels (and the native backend's) give their plain twins' floats bit for bit; both equal the terms' own loops", () => {
  for (const [T, n, m] of [[1, 1, 1], [1, 3, 5], [1, 17, 33], [3, 4, 7], [5, 6, 2]]) for (const withNative of backends) {
    const r = new Rng(100 * T + 10 * n + m), w = new WasmArena(4 * (6 * n * m + 8 * T * (n + m)) + 65536, withNative), k = w.kernels;
    const W = fill(w.alloc(n * m), r), dW = fill(w.alloc(n * m), r), pre = fill(w.alloc(T * m), r), dpre = fill(w.alloc(T * m), r);
    const post = fill(w.alloc(T * n), r), dpost = fill(w.alloc(T * n), r), out = fill(w.alloc(n * m), r), dout = fill(w.alloc(n * m), r);
    const C = fill(new Float64Array(27), r), dC = fill(new Float64Array(27), r);
    const out2 = Float32Array.from(out), dout2 = Float32Array.from(dout);
    k.monoUpdate(out, W, pre, post, C, T, n, m);
    k.monoTangent(dout, W, dW, pre, dpre, post, dpost, C, dC, T, n, m);
    const cp = (b: Buf) => Float32Array.from(b);
    monoUpdate(out2, cp(W), cp(pre), cp(post), C, T, n, m);
    monoTangent(dout2, cp(W), cp(dW), cp(pre), cp(dpre), cp(post), cp(dpost), C, dC, T, n, m);
    assert.deepEqual(Array.from(out), Array.from(out2), `monoUpdate T ${T} n ${n} m ${m} ${w.backend}`);
    assert.deepEqual(Array.from(dout), Array.from(dout2), `monoTangent T ${T} n ${n} m ${m} ${w.backend}`);
  }
  // The plain kernels (float64) against every Taylor term's own accumulate and tangent loops, summed with the same coefficients.
  const rnd = uniformStream(3, -0.8, 1.6), n = 3, m = 4;
  const terms = taylorDefinitions().map((d) => d.split(" = ")).map(([name, f]) => expressionTerm(name, f)).filter((t) => t.elementwise !== undefined);
  assert.equal(terms.length, 18);
  for (const T of [1, 3]) {
    const s = randomSignals(rnd, n, m, T, false), ds = randomSignals(rnd, n, m, T, false), W = rnd(n * m), dW = rnd(n * m);
    const C = new Float64Array(27), dC = new Float64Array(27);
    const ref = new Float64Array(n * m), got = new Float64Array(n * m), tref = new Float64Array(n * m), tgot = new Float64Array(n * m);
    terms.forEach((t, q) => {
      const x = t.elementwise!.monomial!, c = 0.1 * (q + 1) - 0.9, dc = q === 5 ? 0.7 : 0;
      C[9 * x.a + 3 * x.b + x.c] += c; dC[9 * x.a + 3 * x.b + x.c] += dc;
      t.elementwise!.accumulate(s, W, null, c, ref, null);
      t.elementwise!.tangent(s, ds, W, dW, null, null, c, dc, tref, null);
    });
    monoUpdate(got, W, s.pre, s.post, C, T, n, m);
    monoTangent(tgot, W, dW, s.pre, ds.pre, s.post, ds.post, C, dC, T, n, m);
    // Float64, 18 terms summed in two orders: a few roundings of the largest partial sum.
    for (const [a, b, what] of [[got, ref, "update"], [tgot, tref, "tangent"]] as const) {
      const tol = 1e-14 * Math.max(1, maxAbs(b));
      assert.ok(maxAbs(b) > 0.1, "the check is not vacuous");
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= tol, `${what} T ${T} [${i}]: ${v} vs ${b[i]}`));
    }
  }
});

/** A few online (or mini-batch) steps of a meta-learning step from the same task; its weights and tangents after them. */
function trajectory(cfg: RunConfig, arena: () => Arena, layout: readonly MetaParam[], theta: readonly number[], fused: boolean, steps = 8) {
  return withFusion(fused, () => {
    const net = buildNetwork(cfg, tiny, 0, arena());
    const rule = makeRule(thetaSpec(layout, theta, {}, sitesOf(cfg)), net.S);
    const tl = planTangentStep(net, rule, { always: [...new Set(layout.map((p) => p.term))], batch: cfg.batch }, layout);
    const task = sampleTask(tiny, cfg, taskStreams(cfg.seed, 0).sample);
    for (let i = 0; i < Math.min(steps, task.trainIdx.length); i++) {
      loadPixels(tl.primal.x, tiny.images, task.trainIdx[i], tiny.dim);
      assert.ok(Number.isFinite(tl.step(task.trainLabels[i])), "the trajectory stays finite");
    }
    tl.finish();
    return { W: Float64Array.from(net.params), dW: tl.dParams.map((d) => Float64Array.from(d)) };
  });
}

const mlp: RunConfig = { ...DEFAULT_CONFIG, hidden: [7, 5], way: 3, shots: 3, query: 2, seed: 3, backend: "js" };
const rnn: RunConfig = { ...DEFAULT_CONFIG, net: "rnn", hidden: [6], way: 3, shots: 3, query: 2, seed: 3, delay: 1, gain: 1.1, backend: "js" };
/** θ: bp as published and Taylor coefficients large enough that the elementwise terms move the weights (checked below). */
const thetaFor = (layout: readonly MetaParam[], big = 0.02) => layout.map((p, k) => (p.term === "bp" ? 0.3 : big * Math.sin(1 + 7 * k)));

const cases: [string, RunConfig][] = [
  ["MLP, backprop", mlp],
  ["MLP, feedback alignment", { ...mlp, feedback: "random" }],
  ["MLP, biases", { ...mlp, bias: true }],
  ["MLP, mini-batches of 3", { ...mlp, batch: 3 }],
  ["RNN, BPTT", rnn],
  ["RNN, feedback alignment through time", { ...rnn, feedback: "random" }],
];
const arenas: [string, "f64" | "f32", (cfg: RunConfig) => () => Arena][] = [
  ["plain kernels, float64", "f64", () => () => heapArena("f64")],
  ["wasm kernels, f32", "f32", () => () => new WasmArena(1 << 21)],
];

for (const [name, cfg] of cases) {
  for (const [aname, dtype, arenaOf] of arenas) {
    for (const perLayer of [false, true]) {
      test(`fused monomial sweeps equal the per-term path, weights and tangents: ${name}, ${aname}, ${perLayer ? "per-layer" : "shared"} θ`, () => {
        const L = sitesOf(cfg), layout = metaLayout(taylor, L, perLayer), theta = thetaFor(layout);
        const a = trajectory(cfg, arenaOf(cfg), layout, theta, true), b = trajectory(cfg, arenaOf(cfg), layout, theta, false);
        // Not vacuous: without the elementwise terms (c ≥ 1) the weights and tangents are far from these.
        const rank1 = theta.map((v, k) => (layout[k].term === "bp" || layout[k].term.endsWith("0") ? v : 0));
        const z = trajectory(cfg, arenaOf(cfg), layout, rank1, true);
        // float64: the polynomial and the term-by-term sums differ by a few roundings per step (1e-12 of the scale over 8 steps);
        // f32: the per-term path rounds each term's partial sum to f32 (18 roundings per weight and step), the fused one once.
        const rtol = dtype === "f64" ? 1e-12 : 2e-5;
        const close = (x: Float64Array, y: Float64Array, zz: Float64Array, what: string) => {
          const scale = maxAbs(y), gap = Math.max(...y.map((v, i) => Math.abs(v - zz[i])));
          assert.ok(gap > 1e3 * rtol * scale, `${what}: the elementwise terms matter (gap ${gap}, scale ${scale})`);
          const worst = Math.max(...x.map((v, i) => Math.abs(v - y[i])));
          assert.ok(worst <= rtol * scale, `${what}: fused vs per-term worst ${worst} (scale ${scale})`);
        };
        close(a.W, b.W, z.W, "weights");
        a.dW.forEach((d, k) => { if (maxAbs(b.dW[k]) > 0) close(d, b.dW[k], z.dW[k], `tangent ${layout[k].term}@${layout[k].layers.join(",")}`); });
      });
    }
  }
}

test("the meta-gradient through the fused sweeps equals central finite differences (float64, plain kernels, small MLP and RNN, shared and per-layer)", () => {
  for (const [cfg, perLayer] of [[mlp, false], [mlp, true], [{ ...mlp, feedback: "random" as const }, false], [rnn, false]] as const) {
    const L = sitesOf(cfg), layout = metaLayout(taylor, L, perLayer), theta = thetaFor(layout, 0.01);
    assert.ok(withFusion(true, () => true));
    const r = runEpisode(cfg, tiny, 0, layout, theta, {}, "f64");
    // A spread of coefficients: bp, rank-1 (c = 0) and elementwise terms (c = 1, 2), at several layers.
    const pick = layout.flatMap((p, k) => (["bp", "t_110", "t_011", "t_101", "t_112", "t_202", "t_221"].includes(p.term) && k % (perLayer ? 2 : 1) === 0 ? [k] : []));
    const h = 1e-6, fd = pick.map((k) => {
      const p = [...theta], m = [...theta]; p[k] += h; m[k] -= h;
      return (runEpisode(cfg, tiny, 0, layout, p, {}, "f64", { gradient: false }).loss - runEpisode(cfg, tiny, 0, layout, m, {}, "f64", { gradient: false }).loss) / (2 * h);
    });
    const scale = Math.max(...fd.map(Math.abs));
    assert.ok(scale > 1e-4, "the check is not vacuous");
    pick.forEach((k, q) => assert.ok(Math.abs(r.grad[k] - fd[q]) <= 1e-5 * Math.max(Math.abs(fd[q]), 1e-2 * scale),
      `${cfg.net ?? "mlp"} ${layout[k].term}@${layout[k].layers.join(",")}: exact ${r.grad[k]} vs fd ${fd[q]}`));
  }
});

test("mixed families: monomials in any order + a non-monomial elementwise term + rank-1 terms, fused vs per-term and against finite differences", () => {
  const defs = ["mw = 0.5 * W * pre^2", "mq = -(post * W) / 4", "mloc = post * pre - post^2 * W", "msoft = tanh(post) * pre", "m2 = pre * post * W"];
  const terms = ["bp", "oja", ...defs.map((d) => registerExpressionTerm(d, undefined, { replace: true }).name)];
  for (const cfg of [mlp, rnn]) {
    const L = sitesOf(cfg), layout = metaLayout(terms, L, false), theta = [0.3, 0.05, 0.04, 0.03, 0.02, 0.05, -0.03];
    const a = trajectory(cfg, () => heapArena("f64"), layout, theta, true), b = trajectory(cfg, () => heapArena("f64"), layout, theta, false);
    const scale = maxAbs(b.W);
    assert.ok(Math.max(...a.W.map((v, i) => Math.abs(v - b.W[i]))) <= 1e-12 * scale, "weights");
    a.dW.forEach((d, k) => assert.ok(Math.max(...d.map((v, i) => Math.abs(v - b.dW[k][i]))) <= 1e-12 * Math.max(maxAbs(b.dW[k]), 1e-12), `tangent ${terms[k]}`));
    const r = runEpisode(cfg, tiny, 0, layout, theta, {}, "f64"), h = 1e-6;
    const fd = theta.map((_, k) => {
      const p = [...theta], m = [...theta]; p[k] += h; m[k] -= h;
      return (runEpisode(cfg, tiny, 0, layout, p, {}, "f64", { gradient: false }).loss - runEpisode(cfg, tiny, 0, layout, m, {}, "f64", { gradient: false }).loss) / (2 * h);
    });
    const top = Math.max(...fd.map(Math.abs));
    fd.forEach((f, k) => assert.ok(Math.abs(r.grad[k] - f) <= 1e-5 * Math.max(Math.abs(f), 1e-2 * top), `${cfg.net ?? "mlp"} ${terms[k]}: exact ${r.grad[k]} vs fd ${f}`));
  }
});

test("setMonomialFusion(false) restores the per-term sweeps: sites built then fuse nothing", () => {
  const cfg = mlp, L = sitesOf(cfg), layout = metaLayout(taylor, L, false);
  const build = () => {
    const net = buildNetwork(cfg, tiny, 0, heapArena("f64"));
    return planTangentStep(net, makeRule(thetaSpec(layout, thetaFor(layout), {}, L), net.S), { always: taylor }, layout).primal.plasticity;
  };
  assert.ok(withFusion(true, build).slice(1).every((pl) => pl.monoIdx.length === 18));
  assert.ok(withFusion(false, build).slice(1).every((pl) => pl.monoIdx.length === 0 && pl.ew.length === 18));
  assert.ok(jsKernels.monoUpdate === monoUpdate && jsKernels.monoTangent === monoTangent);
});
