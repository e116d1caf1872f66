import { test } from "node:test";
import assert from "node:assert/strict";
import { heapArena } from "../src/core/kernels.js";
import "../src/core/native.js";
import { nativeIsa, WasmArena } from "../src/core/wasm.js";
import { Rng } from "../src/core/rng.js";
import { DEFAULT_CONFIG, type RunConfig } from "../src/experiments/task.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaLayout } from "../src/learn/tangent.js";
import { crossEntropy } from "../src/nn/loss.js";
import { RNN, SITE_J, SITE_U, SITE_W } from "../src/nets/rnn/rnn.js";
import { planStep } from "../src/nets/plan.js";
import { TERMS, TERM_NAMES, type TermName } from "../src/rules/registry.js";
import { makeRule } from "../src/rules/rule.js";
import { makeFeedback } from "../src/signals/feedback.js";
import { assertClose, diff, maxAbs, tinyData } from "./helpers.js";

const ALL_NEEDS = { needU: [false, true, true, true], needEPre: [false, true, true, true], needUE: [false, true, true, true] };

function rnn(o: { leak?: number; delay?: number; feedback?: "sym" | "random"; seed?: number; gainRec?: number } = {}) {
  const rng = new Rng(o.seed ?? 3);
  const net = new RNN({ nIn: 4, rows: 3, delay: o.delay ?? 2, N: 6, nOut: 3, leak: o.leak ?? 1, arena: heapArena("f64") }).init("xavier", 1.2, o.gainRec ?? 1.1, rng);
  net.feedback = makeFeedback(o.feedback ?? "sym", net, "xavier", (i) => (i === SITE_J ? o.gainRec ?? 1.1 : 1.2), rng);
  for (let j = 0; j < net.x.length; j++) net.x[j] = rng.uniform();
  return net;
}

for (const leak of [1, 0.6]) {
  test(`BPTT errors equal central finite differences in float64 (leak α = ${leak})`, () => {
    const net = rnn({ leak }), label = 1;
    net.propagate(label, ALL_NEEDS);
    // ∂CE/∂U = Σₜ δₜ xₜᵀ, ∂CE/∂J = Σₜ δₜ hₜ₋₁ᵀ, ∂CE/∂W = e h_Tᵀ: the bp term's factors, exactly.
    const grads = [SITE_U, SITE_J, SITE_W].map((l) => TERMS.bp.naive(net.sites[l].sig, net.sites[l].W).map((v) => -v));
    const h = 1e-6;
    [SITE_U, SITE_J, SITE_W].forEach((l, gi) => {
      const W = net.sites[l].W, numeric: number[] = [];
      for (let i = 0; i < W.length; i++) {
        const w0 = W[i];
        W[i] = w0 + h; const fp = crossEntropy(net.logits(), 3, label);
        W[i] = w0 - h; const fm = crossEntropy(net.logits(), 3, label);
        W[i] = w0;
        numeric.push((fp - fm) / (2 * h));
      }
      assertClose(grads[gi], numeric, 1e-5, 1e-9, `dCE/d${net.sites[l].name}`);
      assert.ok(maxAbs(numeric) > 1e-4, "the check is not vacuous");
    });
    // g₀ = ∂CE/∂h₀ (the pre-synaptic error of J at t = 1): perturb the initial state.
    net.propagate(label, ALL_NEEDS);
    const g0 = Float64Array.from(net.rowsOf.delta[0]), num0: number[] = [];
    for (let i = 0; i < net.N; i++) {
      const fwd = (d: number) => { const H = net.H; const keep = H[i]; const f = () => { H[i] = keep + d; const z = forwardFromState(net); H[i] = keep; return crossEntropy(z, 3, label); }; return f(); };
      num0.push((fwd(h) - fwd(-h)) / (2 * h));
    }
    assertClose(g0, num0, 1e-5, 1e-9, "dCE/dh0");
    // The error reaching the input: ∂CE/∂xₜ = Uᵀδₜ (with backprop).
    const eX = Float64Array.from(net.eX.subarray(0, 3 * 4)), numX: number[] = [];
    for (let i = 0; i < 12; i++) {
      const x0 = net.x[i];
      net.x[i] = x0 + h; const fp = crossEntropy(net.logits(), 3, label);
      net.x[i] = x0 - h; const fm = crossEntropy(net.logits(), 3, label);
      net.x[i] = x0;
      numX.push((fp - fm) / (2 * h));
    }
    assertClose(eX, numX, 1e-5, 1e-9, "dCE/dx");
  });
}

/** The forward pass from the current h₀ (row 0 of H) instead of zero: for the g₀ check only. */
function forwardFromState(net: RNN): Float64Array {
  const { N, nIn, T, rows, leak } = net, R = net.rowsOf, z = new Float64Array(net.nOut);
  const h = [Float64Array.from(R.h[0])];
  for (let t = 1; t <= T; t++) {
    const a = new Float64Array(N), hp = h[t - 1];
    for (let i = 0; i < N; i++) {
      let s = 0;
      if (t <= rows) for (let j = 0; j < nIn; j++) s += net.U[i * nIn + j] * R.x[t][j];
      for (let j = 0; j < N; j++) s += net.J[i * N + j] * hp[j];
      a[i] = s;
    }
    h.push(Float64Array.from(a, (ai, i) => (1 - leak) * hp[i] + leak * Math.tanh(ai)));
  }
  for (let c = 0; c < net.nOut; c++) { let s = 0; for (let j = 0; j < N; j++) s += net.W[c * N + j] * h[T][j]; z[c] = s; }
  return z;
}

test("feedback alignment through time sends errors through B_W and B_J, never W or J, and never changes B", () => {
  const net = rnn({ feedback: "random" }), label = 2;
  const B = net.feedback.B;
  for (const l of [SITE_U, SITE_J, SITE_W]) assert.notDeepEqual(Array.from(B[l]), Array.from(net.sites[l].W));
  const B0 = B.map((b) => Float64Array.from(b));
  net.propagate(label, ALL_NEEDS);
  const { N, T } = net, R = net.rowsOf;
  const viaB = new Float64Array(N), viaW = new Float64Array(N);
  for (let j = 0; j < N; j++) for (let c = 0; c < 3; c++) { viaB[j] += B[SITE_W][c * N + j] * net.e[c]; viaW[j] += net.W[c * N + j] * net.e[c]; }
  assertClose(R.g[T], viaB, 1e-12, 1e-15, "g_T = B_Wᵀ e");
  assert.ok(viaW.some((v, j) => Math.abs(v - R.g[T][j]) > 1e-6), "differs from Wᵀe");
  for (let t = T; t >= 2; t--) {
    const want = new Float64Array(N), viaJ = new Float64Array(N);
    for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) { want[j] += B[SITE_J][i * N + j] * R.delta[t][i]; viaJ[j] += net.J[i * N + j] * R.delta[t][i]; }
    assertClose(R.g[t - 1], want, 1e-12, 1e-15, `g${t - 1} = B_Jᵀ δ${t}`);
    assert.ok(viaJ.some((v, j) => Math.abs(v - R.g[t - 1][j]) > 1e-9), "differs from Jᵀδ");
  }
  const step = planStep(net, makeRule({ bp: 0.1, oja: 0.05 }, 3));
  const W0 = Float64Array.from(net.params);
  for (let k = 0; k < 4; k++) step.step(k % 3);
  B.forEach((b, l) => assert.deepEqual(Array.from(b), Array.from(B0[l]), `B${l} fixed`));
  assert.notDeepEqual(Array.from(net.params), Array.from(W0), "U, J, W learn");
});

for (const name of TERM_NAMES) {
  test(`term ${name} on U, J and W of the RNN equals θ · its literal formula summed over t`, () => {
    const net = rnn({ leak: 0.8 }), label = 0, theta = 0.3;
    const before = Float64Array.from(net.params);
    net.propagate(label, ALL_NEEDS);
    // The literal formula, from the signals of this pass: Σₜ post_t ⊗ pre_t forms (Oja: yyᵀW as written).
    const want = [SITE_U, SITE_J, SITE_W].map((l) => TERMS[name].naive(net.sites[l].sig, net.sites[l].W).map((v) => theta * v));
    // The literal per-time-step loop as PAPER.md writes ΔJ and ΔU, for the RNN-specific meaning of each signal.
    const lit = literal(net, name, theta);
    [0, 1, 2].forEach((i) => assertClose(want[i], lit[i], 1e-12, 1e-14, `${name} naive vs literal, site ${i + 1}`));
    net.params.set(before);
    const step = planStep(net, makeRule({ [name]: theta }, 3));
    step.step(label);
    [SITE_U, SITE_J, SITE_W].forEach((l, i) => {
      const W = net.sites[l].W, W0 = before.subarray(W.byteOffset / 8 - net.params.byteOffset / 8, W.byteOffset / 8 - net.params.byteOffset / 8 + W.length);
      assertClose(diff(W, Float64Array.from(W0)), want[i], 1e-10, 1e-13, `${name} Δ${net.sites[l].name}`);
    });
    assert.ok(Math.max(...want.map(maxAbs)) > 1e-6, "the check is not vacuous");
  });
}

/** PAPER.md's RNN update equations written out per time step, independent of the site signal views. */
function literal(net: RNN, name: TermName, theta: number): Float64Array[] {
  const { N, nIn, T, nOut: C } = net, R = net.rowsOf;
  const out = [new Float64Array(N * nIn), new Float64Array(N * N), new Float64Array(C * N)];
  const x = (t: number) => R.x[t], h = (t: number) => R.h[t], d = (t: number) => R.delta[t];
  const JTh = (t: number) => { const u = new Float64Array(N); for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) u[j] += net.J[i * N + j] * h(t)[i]; return u; };
  const UTh = (t: number) => { const u = new Float64Array(nIn); for (let j = 0; j < nIn; j++) for (let i = 0; i < N; i++) u[j] += net.U[i * nIn + j] * h(t)[i]; return u; };
  const WTp = () => { const u = new Float64Array(N); for (let j = 0; j < N; j++) for (let c = 0; c < C; c++) u[j] += net.W[c * N + j] * net.p[c]; return u; };
  const errX = (t: number) => { const u = new Float64Array(nIn); for (let j = 0; j < nIn; j++) for (let i = 0; i < N; i++) u[j] += net.U[i * nIn + j] * d(t)[i]; return u; };
  const JTd = (t: number) => { const u = new Float64Array(N); for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) u[j] += net.J[i * N + j] * d(t)[i]; return u; };
  const WTe = () => { const u = new Float64Array(N); for (let j = 0; j < N; j++) for (let c = 0; c < C; c++) u[j] += net.W[c * N + j] * net.e[c]; return u; };
  const add = (M: Float64Array, m: number, post: ArrayLike<number>, pre: ArrayLike<number>, s: number) => { for (let i = 0; i < post.length; i++) for (let j = 0; j < m; j++) M[i * m + j] += theta * s * post[i] * pre[j]; };
  for (let t = 1; t <= T; t++) {
    const ePrevJ = t === 1 ? R.delta[0] : d(t - 1);
    switch (name) {
      case "bp": add(out[0], nIn, d(t), x(t), -1); add(out[1], N, d(t), h(t - 1), -1); break;
      case "hebb": add(out[0], nIn, h(t), x(t), 1); add(out[1], N, h(t), h(t - 1), 1); break;
      case "oja": add(out[0], nIn, h(t), Float64Array.from(x(t), (v, j) => v - UTh(t)[j]), 1); add(out[1], N, h(t), Float64Array.from(h(t - 1), (v, j) => v - JTh(t)[j]), 1); break;
      case "ehebb": add(out[0], nIn, d(t), errX(t), 1); add(out[1], N, d(t), ePrevJ, 1); break;
      case "ye": add(out[0], nIn, h(t), errX(t), 1); add(out[1], N, h(t), ePrevJ, 1); break;
      // With backprop the input's error is Uᵀδₜ itself, so eoja's U part is zero here; J's is not.
      case "eoja": add(out[0], nIn, d(t), Float64Array.from(errX(t), (v, j) => v - errX(t)[j]), 1); add(out[1], N, d(t), Float64Array.from(ePrevJ, (v, j) => v - JTd(t)[j]), 1); break;
    }
  }
  if (name === "decay") {
    // Once per sequence, not per time step: ΔU = −θU, ΔJ = −θJ, ΔW = −θW.
    [net.U, net.J, net.W].forEach((M, i) => M.forEach((v, j) => { out[i][j] = -theta * v; }));
    return out;
  }
  const hT = h(T);
  switch (name) {
    case "bp": add(out[2], N, net.e, hT, -1); break;
    case "hebb": add(out[2], N, net.p, hT, 1); break;
    case "oja": add(out[2], N, net.p, Float64Array.from(hT, (v, j) => v - WTp()[j]), 1); break;
    case "ehebb": add(out[2], N, net.e, d(T), 1); break;
    case "ye": add(out[2], N, net.p, d(T), 1); break;
    case "eoja": add(out[2], N, net.e, Float64Array.from(d(T), (v, j) => v - WTe()[j]), 1); break;
  }
  return out;
}

// The exact meta-gradient through the RNN's online loop against central finite differences (float64).
const tiny = tinyData();
const rbase: RunConfig = { ...DEFAULT_CONFIG, net: "rnn", hidden: [5], way: 3, shots: 4, query: 3, seed: 5, delay: 2, gain: 1.2, backend: "js" };
const metaCases: { name: string; cfg: Partial<RunConfig>; learn: TermName[]; perLayer: boolean; theta: number[] }[] = [
  { name: "BPTT, bp+oja shared", cfg: {}, learn: ["bp", "oja"], perLayer: false, theta: [0.4, 0.2] },
  { name: "feedback alignment through time, bp+oja per site", cfg: { feedback: "random" }, learn: ["bp", "oja"], perLayer: true, theta: [0.3, 0.4, 0.5, 0.1, 0.2, 0.3] },
  { name: "leak α = 0.6, all terms shared", cfg: { leak: 0.6 }, learn: ["bp", "oja", "hebb", "ehebb"], perLayer: false, theta: [0.5, 0.2, 0.03, 0.1] },
  { name: "feedback alignment, leak 0.8, all terms per site, gain-rec 0.7", cfg: { feedback: "random", leak: 0.8, gainRec: 0.7 }, learn: ["bp", "oja", "hebb", "ehebb"], perLayer: true,
    theta: [0.4, 0.3, 0.5, 0.1, 0.2, 0.05, 0.02, -0.03, 0.01, 0.1, -0.1, 0.05] },
  { name: "no delay, mini-batches of 5, bp+oja", cfg: { delay: 0, batch: 5 }, learn: ["bp", "oja"], perLayer: false, theta: [1.2, 0.5] },
  { name: "two passes, only oja learned, no oja at the output", cfg: { epochs: 2, ojaOutput: false }, learn: ["oja"], perLayer: false, theta: [0.2] },
  { name: "the whole pool shared, BPTT, leak 0.7", cfg: { leak: 0.7 }, learn: [...TERM_NAMES], perLayer: false, theta: [0.4, 0.2, 0.03, 0.1, 0.05, 0.08, 0.02] },
  { name: "the whole pool per site, feedback alignment through time", cfg: { feedback: "random" }, learn: [...TERM_NAMES], perLayer: true,
    theta: TERM_NAMES.flatMap((t) => (t === "decay" ? [0.01, 0.02, 0.015] : t === "hebb" ? [0.01, 0.02, 0.01] : [0.3, 0.2, 0.25])) },
];
for (const c of metaCases) {
  test(`RNN: exact meta-gradient equals central finite differences in float64: ${c.name}`, () => {
    const cfg = { ...rbase, ...c.cfg };
    const layout = metaLayout(c.learn, 3, c.perLayer);
    assert.equal(layout.length, c.theta.length);
    const fixed = c.learn.includes("bp") ? {} : { bp: 0.3 };
    for (const t of [0, 1]) {
      const r = runEpisode(cfg, tiny, t, layout, c.theta, fixed, "f64");
      const h = 1e-5;
      const fd = c.theta.map((_, k) => {
        const p = [...c.theta], m = [...c.theta];
        p[k] += h; m[k] -= h;
        return (runEpisode(cfg, tiny, t, layout, p, fixed, "f64").loss - runEpisode(cfg, tiny, t, layout, m, fixed, "f64").loss) / (2 * h);
      });
      const scale = Math.max(...fd.map(Math.abs));
      assert.ok(scale > 1e-3, "the check is not vacuous");
      for (let k = 0; k < fd.length; k++) {
        if (cfg.ojaOutput === false && layout[k].term === "oja" && layout[k].layers.length === 1 && layout[k].layers[0] === 3) continue;
        const rel = Math.abs(r.grad[k] - fd[k]) / Math.max(Math.abs(fd[k]), 1e-3 * scale);
        assert.ok(rel < 1e-5, `${layout[k].term}@${layout[k].layers}: exact ${r.grad[k]} vs fd ${fd[k]} (rel ${rel.toExponential(2)})`);
      }
    }
  });
}

// The fused BPTT recursion (Kernels.fused.rnnBack, one wasm call for t = T … 1) against the per-step loop it replaces on the same
// wasm kernels: every buffer of the backward pass the same bytes, for leaky and not, symmetric and random feedback, each need.
test("the fused BPTT kernel gives the per-step loop's bytes (wasm): leak, feedback and needs", () => {
  const needsOf = (uJ: boolean, g0: boolean) => ({ needU: [false, true, uJ, true], needEPre: [false, true, g0, true], needUE: [false, true, true, true] });
  for (const leak of [1, 0.6]) for (const feedback of ["sym", "random"] as const) for (const uJ of [true, false]) for (const g0 of [true, false]) {
    const make = (fused: boolean) => {
      const a = new WasmArena(1 << 22), rng = new Rng(11);
      const net = new RNN({ nIn: 13, rows: 5, delay: 3, N: 37, nOut: 7, leak, arena: a }).init("xavier", 1.2, 1.1, rng);
      net.feedback = makeFeedback(feedback, net, "xavier", (i) => (i === SITE_J ? 1.1 : 1.2), rng);
      for (let j = 0; j < net.x.length; j++) net.x[j] = rng.uniform();
      assert.equal(typeof a.kernels.fused?.rnnBack, "function", "the wasm arena has the fused kernel");
      if (!fused) (a.kernels.fused as { rnnBack?: unknown }).rnnBack = undefined;
      net.propagate(2, needsOf(uJ, g0));
      return [net.G, net.D, net.uJ, net.uU, net.eX].map((b) => Array.from(new Uint32Array(b.buffer, b.byteOffset, b.length)));
    };
    assert.deepEqual(make(true), make(false), `leak ${leak} ${feedback} uJ ${uJ} g0 ${g0}`);
  }
});

// The fused forward recursion (Kernels.fused.rnnFwd, one call for t = 1 … T) against the per-step loop it replaces on the same
// kernels: every buffer of the forward pass the same bytes, leaky and not, on wasm and (when built) native, N a multiple of four
// (native's own twin) and not (native hands it to wasm).
test("the fused forward kernel gives the per-step loop's bytes: leak, N, backend", () => {
  for (const native of nativeIsa() === null ? [false] : [false, true]) for (const leak of [1, 0.6]) for (const N of [36, 37]) {
    const make = (fused: boolean) => {
      const a = new WasmArena(1 << 22, native), rng = new Rng(12);
      const net = new RNN({ nIn: 13, rows: 5, delay: 3, N, nOut: 7, leak, arena: a }).init("xavier", 3, 2.5, rng);
      for (let j = 0; j < net.x.length; j++) net.x[j] = rng.uniform();
      // Every seventh unit's input weights ×30: its aₜ passes tanh's clamp (|a| > 43.5) on the image's rows.
      for (let i = 0; i < N; i += 7) for (let j = 0; j < 13; j++) net.U[i * 13 + j] *= 30;
      assert.equal(typeof a.kernels.fused?.rnnFwd, "function", "the arena has the fused kernel");
      if (!fused) (a.kernels.fused as { rnnFwd?: unknown }).rnnFwd = undefined;
      net.forward();
      return [net.A, net.H, net.R, net.dsig, net.z].map((b) => Array.from(new Uint32Array(b.buffer, b.byteOffset, b.length)));
    };
    const [fused, loop] = [make(true), make(false)];
    assert.ok(Array.from(new Float32Array(new Uint32Array(fused[0]).buffer)).some((v) => Math.abs(v) > 43.5), "some aₜ past the clamp");
    assert.deepEqual(fused, loop, `native ${native} leak ${leak} N ${N}`);
  }
});
