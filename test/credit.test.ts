// Credit-assignment pathways (DFA, sign symmetry) and Dale's law (issue 25): errors against the literal equations,
// fast steps against the composed reference, tangents and meta-gradients against finite differences, Dale's signs kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { heapArena, type Buf } from "../src/core/kernels.js";
import { Rng } from "../src/core/rng.js";
import { DEFAULT_CONFIG, buildNetwork, runTask, sitesOf, type RunConfig } from "../src/experiments/task.js";
import { runEpisode } from "../src/experiments/episode.js";
import { networkTensors } from "../src/experiments/export.js";
import { metaLayout } from "../src/learn/tangent.js";
import { project, unitSigns, foldInit } from "../src/learn/dale.js";
import { MLP } from "../src/nets/mlp/mlp.js";
import { RNN } from "../src/nets/rnn/rnn.js";
import { planStep } from "../src/nets/plan.js";
import { makeRule } from "../src/rules/rule.js";
import { initScale, makeFeedback, refreshSign, type FeedbackName } from "../src/signals/feedback.js";
import { checkNetwork } from "../src/nets/registry.js";
import { TERM_NAMES, type TermName } from "../src/rules/registry.js";
import { assertClose, tinyData } from "./helpers.js";
import { wasmAvailable, WasmArena } from "../src/core/wasm.js";

const ds = tinyData();
const base: RunConfig = { ...DEFAULT_CONFIG, hidden: [6, 5], way: 3, shots: 4, query: 3, seed: 5 };
const NEW: readonly FeedbackName[] = ["dfa", "sign", "sign-random"];
const sp = (z: number, beta = 10) => Math.log1p(Math.exp(beta * z)) / beta;
const dsp = (z: number, beta = 10) => 1 / (1 + Math.exp(-beta * z));

/** A float64 MLP 9-6-5-4 with pathway `fb` drawn from `seed`, an input written, and one propagate of class `label`. */
function propagated(fb: FeedbackName, seed = 3, label = 2, dale?: number) {
  const net = new MLP({ dims: [9, 6, 5, 4], dtype: "f64" }).init("xavier", 1, new Rng(seed));
  if (dale !== undefined) net.applyDale(dale);
  net.feedback = makeFeedback(fb, net, "xavier", 1, new Rng(seed + 1));
  const r = new Rng(seed + 2);
  for (let i = 0; i < 9; i++) net.x[i] = r.uniform();
  const none = [false, false, false, false];
  net.propagate(label, { needU: none, needEPre: [false, true, false, false] });
  return net;
}

/** The literal equations of src/signals/feedback.ts, from z, W and the pathway's fixed matrices. */
function literalErrors(net: MLP, fb: FeedbackName): Float64Array[] {
  const { L, dims } = net, tr = net.tr, W = net.W, e: Float64Array[] = dims.map((n) => new Float64Array(n));
  e[L].set(tr.e[L]);
  const B = net.feedback.B, mag = net.feedback.mag;
  for (let l = L - 1; l >= 0; l--) {
    const m = dims[l], n = dims[l + 1];
    for (let j = 0; j < m; j++) {
      let g = 0;
      if (fb === "dfa") for (let k = 0; k < dims[L]; k++) g += B[l][j * dims[L] + k] * e[L][k];
      else for (let i = 0; i < n; i++) {
        const w = W[l + 1][i * m + j];
        const b = fb === "sign" ? Math.sign(w) * (mag![l + 1] as number) : Math.sign(w) * (mag![l + 1] as Buf)[i * m + j];
        g += b * e[l + 1][i];
      }
      e[l][j] = l > 0 ? g * dsp(tr.z[l][j]) : g; // the input is linear: no σ' at layer 0
    }
  }
  return e;
}

for (const fb of NEW) {
  test(`${fb}: every layer's error is the pathway's literal equation`, () => {
    const net = propagated(fb);
    const want = literalErrors(net, fb);
    for (let l = 0; l <= net.L; l++) assertClose(net.tr.e[l], want[l], 1e-12, 1e-15, `e${l}`);
    // Nothing was trained by the pass: the fixed matrices are the drawn ones.
    assert.ok(net.tr.e[1].some((v) => v !== 0));
  });
}

test("sign symmetry's magnitudes: the initializer's standard deviation (uniform) or a fixed |R| drawn like FA's B", () => {
  const net = propagated("sign");
  for (let l = 1; l <= net.L; l++) assert.equal(net.feedback.mag![l], initScale("xavier", net.dims[l], net.dims[l - 1], 1));
  // ‖B‖_F of the uniform pathway matches the Xavier draw's expected ‖W‖_F (mean square = s²), to sampling error.
  const s = initScale("xavier", 6, 9, 1), W1 = net.W[1];
  const ms = Array.from(W1).reduce((a, w) => a + w * w, 0) / W1.length;
  assert.ok(Math.abs(Math.sqrt(ms) / s - 1) < 0.35, `rms ${Math.sqrt(ms)} vs s ${s}`);
  const r = propagated("sign-random"), fa = new MLP({ dims: [9, 6, 5, 4], dtype: "f64" }).init("xavier", 1, new Rng(3));
  const faB = makeFeedback("random", fa, "xavier", 1, new Rng(4)).B;
  for (let l = 1; l <= 3; l++) assertClose(r.feedback.mag![l] as Buf, Array.from(faB[l], Math.abs), 0, 0, `|R${l}| = |B${l}| of FA`);
});

test("sign symmetry follows W: B is recomputed from the current weights before each backward pass", () => {
  const net = propagated("sign");
  const W3 = net.W[3];
  W3[0] = -W3[0];
  net.propagate(1, { needU: [false, false, false, false], needEPre: [false, false, false, false] });
  assert.equal(Math.sign(net.feedback.B[3][0]), Math.sign(W3[0]));
  assertClose(net.tr.e[2], literalErrors(net, "sign")[2], 1e-12, 1e-15, "e2 after W changed");
});

test("the tangent of B = sign(W)·s is 0 (finite difference away from W = 0), and the tangent pass's de matches a finite difference", () => {
  for (const fb of ["sign", "sign-random", "dfa"] as const) {
    const net = propagated(fb);
    const r = new Rng(11), d = new Float64Array(net.params.length).map(() => r.uniform() - 0.5);
    // B(W + h d) − B(W − h d) = 0 for h below min |w| / |d|: sign is locally constant.
    if (fb !== "dfa") {
      const h = 1e-6, B0 = Float64Array.from(net.feedback.B[2]), W2 = net.W[2], dW2 = net.paramView(d, W2), w0 = Float64Array.from(W2);
      assert.ok(Array.from(w0).every((w) => Math.abs(w) > 10 * h), "away from W = 0");
      for (let i = 0; i < w0.length; i++) W2[i] = w0[i] + h * dW2[i];
      refreshSign(net.feedback, 2, W2);
      const Bp = Float64Array.from(net.feedback.B[2]);
      for (let i = 0; i < w0.length; i++) W2[i] = w0[i] - h * dW2[i];
      refreshSign(net.feedback, 2, W2);
      assert.deepEqual(Array.from(Bp), Array.from(net.feedback.B[2]), "dB = 0");
      assert.deepEqual(Array.from(Bp), Array.from(B0));
      W2.set(w0);
    }
    const needs = { needU: [false, false, false, false], needEPre: [false, true, false, false] };
    const pass = net.tangents([d]);
    net.propagate(2, needs);
    pass.prepare();
    pass.propagate(0, needs);
    const p0 = Float64Array.from(net.params), h = 1e-6;
    const errsAt = (s: number) => {
      for (let i = 0; i < p0.length; i++) net.params[i] = p0[i] + s * h * d[i];
      net.propagate(2, needs);
      return net.tr.e.map((e) => Float64Array.from(e));
    };
    const ep = errsAt(1), em = errsAt(-1);
    net.params.set(p0);
    for (let l = 0; l <= net.L; l++) {
      const fd = ep[l].map((v, i) => (v - em[l][i]) / (2 * h));
      assertClose(pass.sig[0][Math.max(1, l)][l === 0 ? "ePre" : "e"], fd, 1e-5, 1e-8, `${fb}: de${l}`);
    }
  }
});

// Meta-gradients through every new pathway, with and without Dale's law, on both backends (the float64 one checked by finite differences).
interface Case { name: string; cfg: Partial<RunConfig>; learn: TermName[]; perLayer: boolean; theta: number[] }
const cases: Case[] = [
  { name: "DFA, bp+oja shared", cfg: { feedback: "dfa" }, learn: ["bp", "oja"], perLayer: false, theta: [0.5, 0.2] },
  { name: "DFA with biases, all terms per layer, tanh", cfg: { feedback: "dfa", bias: true, activation: "tanh" }, learn: ["bp", "oja", "hebb", "ehebb"], perLayer: true,
    theta: [0.4, 0.3, 0.5, 0.1, 0.2, 0.05, 0.02, -0.03, 0.01, 0.1, -0.1, 0.05] },
  // Every term of the pool (decay scales W; eoja reads Wᵀe through W itself, whatever the pathway).
  { name: "DFA, the whole pool shared, biases", cfg: { feedback: "dfa", bias: true }, learn: [...TERM_NAMES],
    perLayer: false, theta: [0.5, 0.2, 0.03, 0.1, 0.05, 0.08, 0.02] },
  { name: "sign-random, the whole pool shared", cfg: { feedback: "sign-random" }, learn: [...TERM_NAMES], perLayer: false, theta: [0.5, 0.2, 0.03, 0.1, 0.05, 0.08, 0.02] },
  { name: "sign symmetry, bp+oja per layer", cfg: { feedback: "sign" }, learn: ["bp", "oja"], perLayer: true, theta: [0.4, 0.5, 0.3, 0.1, 0.2, 0.1] },
  { name: "sign symmetry with fixed random magnitudes, mini-batches of 4", cfg: { feedback: "sign-random", batch: 4 }, learn: ["bp", "oja"], perLayer: false, theta: [1, 0.4] },
  { name: "backprop under Dale's law (0.8)", cfg: { dale: 0.8 }, learn: ["bp", "oja"], perLayer: false, theta: [0.8, 0.3] },
  { name: "DFA under Dale's law (0.6), three passes", cfg: { feedback: "dfa", dale: 0.6, epochs: 3 }, learn: ["bp", "oja"], perLayer: false, theta: [0.6, 0.2] },
  { name: "sign symmetry under Dale's law (0.8), per layer", cfg: { feedback: "sign", dale: 0.8 }, learn: ["bp", "oja"], perLayer: true, theta: [0.6, 0.8, 0.5, 0.1, 0.2, 0.1] },
  { name: "RNN: sign symmetry through time under Dale's law (0.75), per site", cfg: { net: "rnn", hidden: [5], feedback: "sign", dale: 0.75 }, learn: ["bp", "oja"],
    perLayer: true, theta: [0.5, 0.6, 0.4, 0.1, 0.2, 0.1] },
  { name: "feedback alignment under Dale's law, mini-batches of 3", cfg: { feedback: "random", dale: 0.8, batch: 3 }, learn: ["bp", "oja"], perLayer: false, theta: [1.5, 0.5] },
];

for (const c of cases) {
  test(`meta-gradient equals central finite differences in float64, and wasm float32 agrees: ${c.name}`, () => {
    const cfg = { ...base, ...c.cfg };
    const layout = metaLayout(c.learn, sitesOf(cfg), c.perLayer);
    assert.equal(layout.length, c.theta.length);
    let clipped = 0;
    for (const t of [0, 1]) {
      const r = runEpisode(cfg, ds, t, layout, c.theta, {}, "f64");
      const h = 1e-5;
      const fd = c.theta.map((_, k) => {
        const p = [...c.theta], m = [...c.theta];
        p[k] += h; m[k] -= h;
        return (runEpisode(cfg, ds, t, layout, p, {}, "f64").loss - runEpisode(cfg, ds, t, layout, m, {}, "f64").loss) / (2 * h);
      });
      const scale = Math.max(...fd.map(Math.abs));
      assert.ok(scale > 1e-3, "the check is not vacuous");
      for (let k = 0; k < fd.length; k++) {
        const rel = Math.abs(r.grad[k] - fd[k]) / Math.max(Math.abs(fd[k]), 1e-3 * scale);
        assert.ok(rel < 1e-5, `${layout[k].term}@${layout[k].layers}: exact ${r.grad[k]} vs fd ${fd[k]} (rel ${rel.toExponential(2)})`);
      }
      const r32 = runEpisode({ ...cfg, backend: "wasm" }, ds, t, layout, c.theta, {}, "f32");
      for (let k = 0; k < fd.length; k++) {
        const rel = Math.abs(r32.grad[k] - r.grad[k]) / scale;
        assert.ok(rel < 1e-4, `wasm f32 ${layout[k].term}@${layout[k].layers}: ${r32.grad[k]} vs f64 ${r.grad[k]} (rel ${rel.toExponential(2)})`);
      }
      if (cfg.dale !== undefined) clipped += boundaryAfter(cfg, t, layout, c.theta);
    }
    // Under Dale the projection must have been active somewhere, or its tangent was not tested.
    if (cfg.dale !== undefined) assert.ok(clipped > 0, "some weight reached the sign boundary");
  });
}

// The robust outer loop's bracket scores θ by episodes without the gradient (no tangent directions): under Dale's law
// that step projects by the backend's kernel where it has one (a full `reproduce --meta-episodes` crashed there once).
test("Dale's law: an episode without the gradient runs on every backend and gives the loss of the episode with it", () => {
  const cfg: RunConfig = { ...base, dale: 0.8, feedback: "random" };
  const layout = metaLayout(["bp", "oja"], sitesOf(cfg), false), theta = [0.8, 0.3];
  const backends: [RunConfig["backend"], "f64" | "f32"][] = [["js", "f64"], ...(wasmAvailable() ? [["wasm", "f32"] as [RunConfig["backend"], "f32"]] : [])];
  for (const [backend, dtype] of backends) {
    for (const t of [0, 1]) {
      const c = { ...cfg, backend };
      const without = runEpisode(c, ds, t, layout, theta, {}, dtype, { gradient: false });
      const withGrad = runEpisode(c, ds, t, layout, theta, {}, dtype);
      assert.ok(Number.isFinite(without.loss), `${backend}: a finite loss`);
      assert.deepEqual(without.grad, []);
      assert.equal(without.loss, withGrad.loss, `${backend}, task ${t}: the primal is the same with and without tangents`);
    }
    assert.ok(boundaryAfter({ ...cfg, backend }, 0, layout, theta) > 0, "the projection was active");
  }
});

/** Weights at the sign boundary after training task t with the episode's θ (so the finite differences above crossed the projection). */
function boundaryAfter(cfg: RunConfig, t: number, layout: readonly { term: TermName; layers: number[] }[], theta: number[]): number {
  const spec: Record<string, number | number[]> = {};
  layout.forEach((p, k) => {
    if (p.layers.length > 1) spec[p.term] = theta[k];
    else ((spec[p.term] ??= []) as number[])[p.layers[0] - 1] = theta[k];
  });
  const steps = cfg.way * cfg.shots * (cfg.epochs ?? 1);
  const r = runTask({ ...cfg, theta: spec, backend: "js" }, ds, t, { at: [steps], probeIdx: [0, 1, 2], probeLabels: [0, 1, 2] });
  return r.diagnostics!.at(-1)!.layers.reduce((s, l) => s + (l.daleBoundary ?? 0), 0);
}

test("Dale's projection: the tangent is zeroed exactly where the projection is active (finite difference)", () => {
  const n = 3, m = 4, s = unitSigns(m, 0.5), r = new Rng(2);
  const W = new Float64Array(n * m).map(() => r.uniform() - 0.5), d = new Float64Array(n * m).map(() => r.uniform() - 0.5);
  const P = (w: Float64Array) => { const c = Float64Array.from(w); project(c, n, m, s); return c; };
  const h = 1e-7, wp = P(W.map((w, i) => w + h * d[i])), wm = P(W.map((w, i) => w - h * d[i]));
  const dt = Float64Array.from(d), Wc = Float64Array.from(W);
  const at = project(Wc, n, m, s, [dt]);
  assert.ok(at > 0 && at < n * m, "both sides of the boundary are exercised");
  for (let i = 0; i < n * m; i++) {
    assert.ok(Math.abs((wp[i] - wm[i]) / (2 * h) - dt[i]) < 1e-8, `entry ${i}`);
    assert.ok(s[i % m] * Wc[i] >= 0);
  }
});

test("Dale's init respects the signs, balances each row in expectation and keeps the initializer's mean square", () => {
  const n = 400, m = 500, f = 0.8, s = unitSigns(m, f), r = new Rng(9);
  assert.equal(s.filter((v) => v > 0).length, 400);
  const W = new Float64Array(n * m).map(() => 2 * r.uniform() - 1), ms0 = W.reduce((a, w) => a + w * w, 0);
  foldInit(W, n, m, s, f);
  let sum = 0, ms = 0;
  for (let i = 0; i < n * m; i++) { assert.ok(s[i % m] * W[i] >= 0); sum += W[i]; ms += W[i] * W[i]; }
  assert.ok(Math.abs(sum / (n * m)) < 0.01, `mean ${sum / (n * m)}`);
  assert.ok(Math.abs(ms / ms0 - 1) < 0.02, `mean square ratio ${ms / ms0}`);
});

for (const fb of ["sym", "random", "dfa", "sign", "sign-random"] as const) {
  test(`Dale's law keeps every sign through learning, on both backends: ${fb}`, () => {
    for (const backend of ["js", "wasm"] as const) {
      const cfg: RunConfig = { ...base, feedback: fb, dale: 0.8, backend, theta: { bp: 2, oja: 0.5 }, epochs: 2 };
      const net = buildNetwork(cfg, ds, 0, backend === "js" ? heapArena("f64") : new WasmArena(1 << 20));
      const dale = net.dale!;
      assert.equal(dale.colSign[1], null, "the pixels are not units");
      const step = planStep(net, makeRule(cfg.theta, net.S), {});
      assert.match(step.name, /Dale/);
      const signsOk = () => {
        for (let i = 1; i <= net.S; i++) {
          const sg = dale.colSign[i];
          if (sg === null) continue;
          const { W, n, m } = net.sites[i];
          for (let a = 0; a < n; a++) for (let b = 0; b < m; b++) assert.ok(sg[b] * W[a * m + b] >= 0, `site ${i} (${a},${b}) = ${W[a * m + b]}`);
        }
      };
      signsOk();
      let zeros = 0;
      for (let k = 0; k < 40; k++) {
        for (let j = 0; j < 9; j++) step.x[j] = ds.images[(k % 20) * 9 + j] / 255;
        step.step(ds.labels[k % 20] % 3);
        signsOk();
      }
      step.finish();
      signsOk();
      for (let i = 2; i <= net.S; i++) zeros += Array.from(net.sites[i].W).filter((w) => w === 0).length;
      assert.ok(zeros > 0, `${backend}: the projection was active (${zeros} weights on the boundary)`);
    }
  });
}

test("Dale's law on the RNN: J's and W's columns keep the units' signs; U is free; the probe reports the boundary", () => {
  const cfg: RunConfig = { ...base, net: "rnn", hidden: [8], dale: 0.75, feedback: "sign", theta: { bp: 1, oja: 0.3 }, epochs: 2 };
  checkNetwork(cfg, ds);
  const net = buildNetwork(cfg, ds, 0, heapArena("f64")) as RNN;
  assert.deepEqual(net.dale!.colSign.map((c) => c === null), [true, true, false, false]);
  const r = runTask({ ...cfg, backend: "js" }, ds, 0, { at: [0, 1e9], probeIdx: [0, 1], probeLabels: [0, 1] });
  const last = r.diagnostics!.at(-1)!;
  assert.equal(last.layers[0].daleBoundary, null);
  assert.ok(last.layers.slice(1).every((l) => typeof l.daleBoundary === "number" && l.daleBoundary >= 0 && l.daleBoundary <= 1));
  assert.ok(last.layers.every((l) => l.faAngle !== null), "sign symmetry reports its angle at every site");
});

test("DFA through time is refused for the RNN with a one-line error", () => {
  assert.throws(() => checkNetwork({ ...base, net: "rnn", hidden: [8], feedback: "dfa" }, ds), /--feedback dfa is defined for feedforward networks/);
  assert.throws(() => checkNetwork({ ...base, dale: 1.2 }, ds), /--dale takes the excitatory fraction in \[0, 1\]/);
});

test("fast steps equal the composed reference for the new pathways and under Dale (wasm arena)", { skip: !wasmAvailable() }, () => {
  for (const fb of ["dfa", "sign", "sign-random"] as const) for (const dale of [undefined, 0.8]) {
    const cfg: RunConfig = { ...DEFAULT_CONFIG, hidden: [20, 16, 12], way: 3, shots: 6, query: 2, seed: 2, feedback: fb, ...(dale ? { dale } : {}) };
    const big = tinyData(4);
    const run = (plan: "auto" | "plain") => {
      const net = buildNetwork(cfg, big, 0, new WasmArena(1 << 22));
      const step = planStep(net, makeRule({ bp: 0.5, oja: 0.2 }, net.S), { plan });
      for (let k = 0; k < 30; k++) {
        for (let j = 0; j < 9; j++) step.x[j] = big.images[k * 9 + j] / 255;
        step.step(big.labels[k] % 3);
      }
      step.finish();
      return { name: step.name, W: Float64Array.from(net.params) };
    };
    const fast = run("auto"), plain = run("plain");
    assert.notEqual(fast.name, plain.name, `${fb}: a fast step applies`);
    assertClose(fast.W, plain.W, 1e-4, 1e-6, `${fb}${dale ? " + Dale" : ""}: ${fast.name} vs ${plain.name}`);
  }
});

test("export: DFA's Dₗ (nₗ × n_L), sign symmetry's B of the final W and its fixed |R|", () => {
  const dfa = propagated("dfa"), t = networkTensors(dfa).filter((x) => x.name.startsWith("D"));
  assert.deepEqual(t.map((x) => [x.name, x.shape]), [["D0", [9, 4]], ["D1", [6, 4]], ["D2", [5, 4]]]);
  const sr = propagated("sign-random"), ts = networkTensors(sr);
  const B3 = ts.find((x) => x.name === "B_W3")!, R3 = ts.find((x) => x.name === "R_W3")!, W3 = ts.find((x) => x.name === "W3")!;
  for (let i = 0; i < B3.data.length; i++) assert.equal(B3.data[i], Math.fround(Math.sign(W3.data[i]) * R3.data[i]));
});

test("the WebAssembly kernels for sign(W)·s and Dale's projection give the plain loops' floats (±0, NaN, ±∞, subnormals, ragged n)", { skip: !wasmAvailable() }, () => {
  const a = new WasmArena(1 << 20), k = a.kernels, r = new Rng(7);
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-40, 3.5, -2.25];
  for (const n of [1, 3, 4, 7, 33]) for (const m of [1, 5, 8]) {
    const len = n * m, W = a.alloc(len), B1 = a.alloc(len), B2 = a.alloc(len), M = a.alloc(len);
    for (let i = 0; i < len; i++) { W[i] = i < special.length ? special[i] : r.uniform() - 0.5; M[i] = Math.abs(r.uniform() - 0.5) * (i % 5 === 0 ? 0 : 1); }
    for (const mag of [0.0816, M] as const) {
      const fb = { name: "sign" as const, B: [B1, B1], mag: [0, mag] };
      refreshSign(fb, 1, W); // the plain loop
      const plain = Float32Array.from(B1);
      const fbK = { name: "sign" as const, B: [B2, B2], mag: [0, mag] };
      refreshSign(fbK, 1, W, k);
      for (let i = 0; i < len; i++) assert.ok(Object.is(B2[i], plain[i]), `signOf n=${n} m=${m} [${i}]: ${B2[i]} vs ${plain[i]} (w ${W[i]})`);
    }
    const s = unitSigns(m, 0.6), sg = a.alloc(m);
    for (let j = 0; j < m; j++) sg[j] = s[j];
    const P1 = a.alloc(len), P2 = a.alloc(len);
    P1.set(W); P2.set(W);
    project(P1, n, m, s);
    assert.equal(k.daleProject!(P2, sg, n, m), true);
    for (let i = 0; i < len; i++) assert.ok(Object.is(P2[i], P1[i]), `daleProject n=${n} m=${m} [${i}]: ${P2[i]} vs ${P1[i]}`);
  }
  // Buffers outside the arena are declined (the caller takes the plain loop).
  const outside = new Float32Array(4), inside = a.alloc(4);
  assert.equal(k.signOf!(outside, inside, 1, null, 4), false);
  assert.equal(k.daleProject!(outside, inside, 1, 4), false);
});
