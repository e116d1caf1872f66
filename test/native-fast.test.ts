/**
 * --backend native-fast (native/kern.c with -DNP_FAST: FMA contraction, 8- or 16-lane reductions).
 * Not the wasm kernels' bytes by design, so every fast kernel is held to the plain float64
 * reference (src/core/kernels.ts's jsKernels on float64 copies of the same float32 inputs):
 *
 *   |fast − ref| ≤ γ_L · M,   γ_L = L·u / (1 − L·u),  u = 2⁻²⁴,
 *
 * where M is the same expression evaluated on the absolute values of its inputs (subtractions as
 * additions) and L the length of the longest chain of float32 roundings that forms one output: a
 * sum of L terms in any order, with or without FMA, stays within γ_L of the sum of |terms| (Higham,
 * Accuracy and Stability of Numerical Algorithms, §3.1; γ_a + γ_b + γ_a γ_b ≤ γ_{a+b} chains the
 * stages of a composite kernel). L is given at each case. A whole task is held to the wasm result
 * within a stated accuracy tolerance. Skipped, saying why, without the addon or AVX2 + FMA; the
 * refusal itself is checked without the addon (NEUROPLASTIC_NATIVE=0).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readEvents } from "../src/report/tensorboard.js";
import { nativeFastIsa, nativeIsa, nativeMissing } from "../src/core/native.js";
import { WasmArena } from "../src/core/wasm.js";
import { jsInputKernels, jsKernels, type InputTangent } from "../src/core/kernels.js";
import { Rng } from "../src/core/rng.js";
import { DEFAULT_CONFIG, runTask, type RunConfig } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaLayout } from "../src/learn/tangent.js";
import { cli } from "./helpers.js";

const root = new URL("..", import.meta.url).pathname;
const fastIsa = nativeFastIsa();
const skip = nativeIsa() === null ? `the native kernels are ${nativeMissing}` : fastIsa === null ? "this CPU lacks AVX2 + FMA (native-fast)" : false;
const U = 2 ** -24;
const gamma = (L: number) => (L * U) / (1 - L * U);

/** Buffers on the fast arena with float64 twins (the same values) and absolute twins (for M). */
class Case {
  readonly A = new WasmArena(1 << 24, "native-fast");
  readonly bad: string[] = [];
  constructor(readonly r: Rng) {}
  buf(len: number, zeros = 0.1): { f: Float32Array; d: Float64Array } {
    const f = this.A.alloc(len);
    for (let i = 0; i < len; i++) f[i] = this.r.uniform() < zeros ? 0 : this.r.normal();
    return { f, d: Float64Array.from(f) };
  }
  /** fast (float32, on the arena) against ref (float64) within γ_L · M, element by element. */
  check(what: string, fast: ArrayLike<number>, ref: ArrayLike<number>, M: ArrayLike<number>, L: number): void {
    const g = gamma(L);
    for (let i = 0; i < ref.length; i++) {
      const err = Math.abs(fast[i] - ref[i]);
      // (+ the smallest normal float32 for the odd underflow of a product)
      if (!(err <= g * M[i] + 2 ** -126)) { this.bad.push(`${what} [${i}]: fast ${fast[i]} ref ${ref[i]} |err| ${err} > γ_${L}·M = ${g * M[i]}`); return; }
    }
  }
}
const abs = (b: { d: Float64Array }) => b.d.map(Math.abs);
const copy = (b: { d: Float64Array }) => Float64Array.from(b.d);

function kernelCases(n: number, m: number, seed: number): string[] {
  const C = new Case(new Rng(seed)), k = C.A.kernels, J = jsKernels;
  const W = C.buf(n * m), V = C.buf(n * m), x = C.buf(m), w = C.buf(m), a = C.buf(n), b = C.buf(n), c = C.buf(n), d = C.buf(n), bias = C.buf(n);
  const out = (len: number) => C.A.alloc(len), f64 = (len: number) => new Float64Array(len);
  // matVec: a dot of m terms plus the bias (L = m + 1).
  for (const bb of [null, bias]) {
    const o = out(n), r = f64(n), M = f64(n);
    k.matVec(o, W.f, x.f, n, m, bb && bb.f);
    J.matVec(r, W.d, x.d, n, m, bb && bb.d);
    J.matVec(M, abs(W), abs(x), n, m, bb && abs(bb));
    C.check(`matVec bias=${bb !== null} ${n}×${m}`, o, r, M, m + 1);
    // matVec2: A x + B w (+ b), 2m terms (+ 1).
    const o2 = out(n), r2 = f64(n), M2 = f64(n);
    k.matVec2(o2, W.f, x.f, V.f, w.f, n, m, bb && bb.f);
    J.matVec(r2, W.d, x.d, n, m, bb && bb.d); const t = f64(n); J.matVec(t, V.d, w.d, n, m, null); for (let i = 0; i < n; i++) r2[i] += t[i];
    J.matVec(M2, abs(W), abs(x), n, m, bb && abs(bb)); J.matVec(t, abs(V), abs(w), n, m, null); for (let i = 0; i < n; i++) M2[i] += t[i];
    C.check(`matVec2 bias=${bb !== null} ${n}×${m}`, o2, r2, M2, 2 * m + 1);
  }
  // matTVec, matTVec2: n terms (L = n).
  {
    const o = out(m), o2 = out(m), r = f64(m), r2 = f64(m), M = f64(m), M2 = f64(m);
    k.matTVec2(o, o2, W.f, a.f, b.f, n, m);
    J.matTVec(r, W.d, a.d, n, m); J.matTVec(r2, W.d, b.d, n, m); J.matTVec(M, abs(W), abs(a), n, m); J.matTVec(M2, abs(W), abs(b), n, m);
    C.check(`matTVec2 A ${n}×${m}`, o, r, M, n); C.check(`matTVec2 B ${n}×${m}`, o2, r2, M2, n);
    const o3 = out(m);
    k.matTVec(o3, W.f, a.f, n, m);
    C.check(`matTVec ${n}×${m}`, o3, r, M, n);
    // matTVec2x2: Wᵀa + Vᵀc and Wᵀb + Vᵀd, 2n terms.
    const p = out(m), q = out(m), t = f64(m);
    k.matTVec2x2(p, q, W.f, a.f, b.f, V.f, c.f, d.f, n, m);
    const rp = f64(m), rq = f64(m), Mp = f64(m), Mq = f64(m);
    J.matTVec(rp, W.d, a.d, n, m); J.matTVec(t, V.d, c.d, n, m); for (let j = 0; j < m; j++) rp[j] += t[j];
    J.matTVec(rq, W.d, b.d, n, m); J.matTVec(t, V.d, d.d, n, m); for (let j = 0; j < m; j++) rq[j] += t[j];
    J.matTVec(Mp, abs(W), abs(a), n, m); J.matTVec(t, abs(V), abs(c), n, m); for (let j = 0; j < m; j++) Mp[j] += t[j];
    J.matTVec(Mq, abs(W), abs(b), n, m); J.matTVec(t, abs(V), abs(d), n, m); for (let j = 0; j < m; j++) Mq[j] += t[j];
    C.check(`matTVec2x2 A ${n}×${m}`, p, rp, Mp, 2 * n); C.check(`matTVec2x2 B ${n}×${m}`, q, rq, Mq, 2 * n);
  }
  // matVecs / matTVecs over T = 3 rows: each row a matVec / matTVec.
  {
    const Tn = 3, X = C.buf(Tn * m), Aa = C.buf(Tn * n), o = out(Tn * n), o2 = out(Tn * m);
    k.matVecs(o, W.f, X.f, Tn, n, m); k.matTVecs(o2, W.f, Aa.f, Tn, n, m);
    const r = f64(Tn * n), M = f64(Tn * n), r2 = f64(Tn * m), M2 = f64(Tn * m);
    J.matVecs(r, W.d, X.d, Tn, n, m); J.matVecs(M, abs(W), abs(X), Tn, n, m);
    J.matTVecs(r2, W.d, Aa.d, Tn, n, m); J.matTVecs(M2, abs(W), abs(Aa), Tn, n, m);
    C.check(`matVecs ${n}×${m}`, o, r, M, m + 1); C.check(`matTVecs ${n}×${m}`, o2, r2, M2, n);
  }
  // addOuters: W + Σ_k s_k u_k v_kᵀ, K ≤ 5: s·u, ·v, K + 1 additions (L = K + 3). addOutersT: K·T terms (L = K·T + 3).
  const us = [a, b, c, d, bias], vs = [x, w, C.buf(m), C.buf(m), C.buf(m)], sc = [0.3, -1.25, 0.007, 2.5, -0.01];
  for (let K = 1; K <= 5; K++) {
    const Wf = C.A.alloc(n * m); Wf.set(W.f);
    const r = copy(W), M = abs(W);
    k.addOuters(Wf, sc.slice(0, K), us.slice(0, K).map((u) => u.f), vs.slice(0, K).map((v) => v.f), K, n, m);
    J.addOuters(r, sc.slice(0, K), us.slice(0, K).map((u) => u.d), vs.slice(0, K).map((v) => v.d), K, n, m);
    J.addOuters(M, sc.slice(0, K).map(Math.abs), us.slice(0, K).map(abs), vs.slice(0, K).map(abs), K, n, m);
    C.check(`addOuters K=${K} ${n}×${m}`, Wf, r, M, K + 3);
  }
  for (const Tn of [2, 5]) {
    const uT = [C.buf(Tn * n), C.buf(Tn * n)], vT = [C.buf(Tn * m), C.buf(Tn * m)], s2 = [0.1, -0.02];
    const Wf = C.A.alloc(n * m); Wf.set(W.f);
    const r = copy(W), M = abs(W);
    k.addOutersT(Wf, s2, uT.map((u) => u.f), vT.map((v) => v.f), 2, Tn, n, m);
    J.addOutersT(r, s2, uT.map((u) => u.d), vT.map((v) => v.d), 2, Tn, n, m);
    J.addOutersT(M, s2.map(Math.abs), uT.map(abs), vT.map(abs), 2, Tn, n, m);
    C.check(`addOutersT T=${Tn} ${n}×${m}`, Wf, r, M, 2 * Tn + 3);
  }
  // backUpdate: g = Wᵀe (n terms), then g ⊙= d (L = n + 1); Wout = W + Σ s u vᵀ (K = 2, L = 5).
  {
    const g = out(m), bte = out(m), Wf = C.A.alloc(n * m), dd = C.buf(m);
    Wf.set(W.f);
    assert.ok(k.fused!.backUpdate(g, Wf, Wf, a.f, n, m, [0.05, -0.3], [b.f, c.f], [x.f, w.f], 2, dd.f, bte), "backUpdate declined");
    const r = f64(m), M = f64(m);
    J.matTVec(r, W.d, a.d, n, m); J.matTVec(M, abs(W), abs(a), n, m);
    C.check(`backUpdate bte ${n}×${m}`, bte, r, M, n);
    C.check(`backUpdate g ${n}×${m}`, g, r.map((v, j) => v * dd.d[j]), M.map((v, j) => v * Math.abs(dd.d[j])), n + 1);
    const rW = copy(W), MW = abs(W);
    J.addOuters(rW, [0.05, -0.3], [b.d, c.d], [x.d, w.d], 2, n, m); J.addOuters(MW, [0.05, 0.3], [abs(b), abs(c)], [abs(x), abs(w)], 2, n, m);
    C.check(`backUpdate W ${n}×${m}`, Wf, rW, MW, 5);
  }
  // The first layer transposed: WT (m, stride); matVecT (cnt terms + the bias), inputSweep (below).
  const stride = (n + 3) & ~3;
  const WT = C.buf(m * stride), xi = C.buf(m, 0.5), y = C.buf(n), Ai = C.buf(n), Bi = C.buf(n);
  const ib = C.A.alloc(m), idx = new Int32Array(ib.buffer, ib.byteOffset, m), cnt = k.fused!.input.nonzeros(idx, xi.f, m);
  {
    const o = out(n), r = f64(n), M = f64(n);
    k.fused!.input.matVecT(o, WT.f, stride, xi.f, idx, cnt, n, bias.f);
    jsInputKernels.matVecT(r, WT.d, stride, xi.d, idx, cnt, n, bias.d);
    jsInputKernels.matVecT(M, abs(WT), stride, abs(xi), idx, cnt, n, abs(bias));
    C.check(`matVecT ${n}×${m}`, o, r, M, cnt + 1);
  }
  // inputSweep: uⱼ = WTⱼ·y (n terms); WTⱼ += xⱼA + (xⱼ − uⱼ)B (uⱼ's error times |B|, and 4 roundings: L = n + 5);
  // a tangent: duⱼ = dWTⱼ·y + WTⱼ·dy (2n terms), dWTⱼ += xⱼA' + (xⱼ − uⱼ)B' − duⱼC' (L = 2n + 6).
  for (const P of [0, 1]) {
    const dWT = C.buf(m * stride), dy = C.buf(n), tA = C.buf(n), tB = C.buf(n), tC = C.buf(n);
    const WTf = C.A.alloc(m * stride), dWTf = C.A.alloc(m * stride), u = C.A.alloc(m), du = C.A.alloc(m);
    WTf.set(WT.f); dWTf.set(dWT.f);
    const ts: InputTangent[] = P ? [{ dWT: dWTf, dy: dy.f, A: tA.f, B: tB.f, C: tC.f, du }] : [];
    k.fused!.input.inputSweep(WTf, stride, m, n, xi.f, y.f, Ai.f, Bi.f, u, idx, cnt, ts);
    const rWT = copy(WT), rdWT = copy(dWT), ru = f64(m), rdu = f64(m);
    const td: InputTangent[] = P ? [{ dWT: rdWT, dy: dy.d, A: tA.d, B: tB.d, C: tC.d, du: rdu }] : [];
    jsInputKernels.inputSweep(rWT, stride, m, n, xi.d, y.d, Ai.d, Bi.d, ru, idx, cnt, td);
    // M by hand: the formulas above on absolute values, x − u as |x| + |u|.
    const MWT = abs(WT), MdWT = abs(dWT), Mu = f64(m), Mdu = f64(m);
    for (let j = 0; j < m; j++) {
      const r0 = j * stride, xj = Math.abs(xi.d[j]);
      let s = 0, sd = 0;
      for (let i = 0; i < n; i++) { s += Math.abs(WT.d[r0 + i] * y.d[i]); sd += Math.abs(dWT.d[r0 + i] * y.d[i]) + Math.abs(WT.d[r0 + i] * dy.d[i]); }
      Mu[j] = s; Mdu[j] = sd;
      for (let i = 0; i < n; i++) {
        if (P) MdWT[r0 + i] += xj * Math.abs(tA.d[i]) + (xj + s) * Math.abs(tB.d[i]) + sd * Math.abs(tC.d[i]);
        MWT[r0 + i] += xj * Math.abs(Ai.d[i]) + (xj + s) * Math.abs(Bi.d[i]);
      }
    }
    C.check(`inputSweep P=${P} u ${n}×${m}`, u, ru, Mu, n);
    C.check(`inputSweep P=${P} WT ${n}×${m}`, WTf, rWT, MWT, n + 5);
    if (P) { C.check(`inputSweep du ${n}×${m}`, du, rdu, Mdu, 2 * n); C.check(`inputSweep dWT ${n}×${m}`, dWTf, rdWT, MdWT, 2 * n + 6); }
  }
  // rnnBack (N = n, T = 4): per step δ = g ⊙ σ' (1 rounding) and gₜ₋₁ = Jᵀδ (n terms), so T·(n + 3) along the recursion.
  for (const leak of [1, 0.7]) {
    const Tn = 4, J0 = C.buf(n * n), G = C.buf((Tn + 1) * n), S = C.buf(Tn * n), D = C.buf((Tn + 1) * n), H = C.buf((Tn + 1) * n), UJ = C.buf(Tn * n);
    const Gf = C.A.alloc(G.f.length), Df = C.A.alloc(D.f.length), UJf = C.A.alloc(UJ.f.length);
    Gf.set(G.f); Df.set(D.f); UJf.set(UJ.f);
    assert.ok(k.fused!.rnnBack!(Gf, S.f, Df, H.f, UJf, J0.f, J0.f, n, Tn, leak, true, true, true), "rnnBack declined");
    const run = (g: Float64Array, dl: Float64Array, uj: Float64Array, s: Float64Array, h: Float64Array, Jm: Float64Array, lk: number) => {
      const row = (bf: Float64Array, t: number) => bf.subarray(t * n, (t + 1) * n);
      for (let t = Tn; t >= 1; t--) {
        const delta = row(dl, t), gt = row(g, t), st = row(s, t - 1);
        for (let i = 0; i < n; i++) delta[i] = gt[i] * st[i] * lk;
        J.matTVec(row(g, t - 1), Jm, delta, n, n); J.matTVec(row(uj, t - 1), Jm, row(h, t), n, n);
        if (leak !== 1) for (let i = 0; i < n; i++) g[(t - 1) * n + i] += (1 - leak) * gt[i];
      }
    };
    const rG = copy(G), rD = copy(D), rU = copy(UJ), MG = abs(G), MD = abs(D), MU = abs(UJ);
    run(rG, rD, rU, S.d, H.d, J0.d, leak); run(MG, MD, MU, abs(S), abs(H), abs(J0), leak);
    const L = Tn * (n + 3);
    C.check(`rnnBack leak=${leak} G ${n}`, Gf, rG, MG, L); C.check(`rnnBack leak=${leak} D ${n}`, Df, rD, MD, L); C.check(`rnnBack leak=${leak} uJ ${n}`, UJf, rU, MU, n);
  }
  // rnnFwd's tanh, FMA-contracted in native-fast (T = 1: aₜ is A's row as given, then rₜ = tanh aₜ, σ' = 1 − rₜ²; N a multiple of
  // four, the rest declined): rₜ within 16 f32 ulps of float64 tanh, relative (tanh|z| = −m / (2 + m) has no cancellation), σ' within
  // 40·2⁻²⁴ (its rounding plus 2|r|·δr); every seventh argument ×40, past the clamp at |a| > 43.5.
  if (n % 4 === 0) {
    const A1 = C.buf(n), H1 = C.A.alloc(2 * n), S1 = C.A.alloc(n), J1 = C.buf(n * n);
    for (let i = 0; i < n; i += 7) A1.f[i] *= 40;
    assert.ok(k.fused!.rnnFwd!(A1.f, H1, H1.subarray(n), S1, J1.f, n, 1, 1, 1), "rnnFwd declined");
    for (let i = 0; i < n; i++) {
      const t = Math.tanh(A1.f[i]);
      if (!(Math.abs(H1[n + i] - t) <= 16 * 2 ** -24 * Math.abs(t))) C.bad.push(`rnnFwd tanh ${n}: a ${A1.f[i]} r ${H1[n + i]} vs ${t}`);
      if (!(Math.abs(S1[i] - (1 - t * t)) <= 40 * 2 ** -24)) C.bad.push(`rnnFwd σ' ${n}: a ${A1.f[i]} ${S1[i]} vs ${1 - t * t}`);
    }
  }
  return C.bad;
}

const SHAPES: [number, number][] = [[1, 1], [3, 5], [4, 4], [7, 13], [8, 8], [9, 17], [16, 16], [17, 33], [33, 70], [70, 100], [100, 130], [170, 784], [61, 47]];

test(`native-fast kernels stay within γ_L·M of the float64 reference, every kernel and tail (${fastIsa ?? "absent"})`, { skip }, () => {
  const bad: string[] = [];
  SHAPES.forEach(([n, m], i) => bad.push(...kernelCases(n, m, 2000 + i)));
  assert.deepEqual(bad, []);
});

test("native-fast is not the exact path: some kernel's floats differ from wasm's (else it would be pointless)", { skip }, () => {
  const n = 70, m = 784, r = new Rng(5), A = new WasmArena(1 << 22), F = new WasmArena(1 << 22, "native-fast");
  const W = [A.alloc(n * m), F.alloc(n * m)], x = [A.alloc(m), F.alloc(m)], o = [A.alloc(n), F.alloc(n)];
  for (let i = 0; i < n * m; i++) { const v = r.normal(); W[0][i] = v; W[1][i] = v; }
  for (let i = 0; i < m; i++) { const v = r.normal(); x[0][i] = v; x[1][i] = v; }
  A.kernels.matVec(o[0], W[0], x[0], n, m); F.kernels.matVec(o[1], W[1], x[1], n, m);
  assert.notDeepEqual(Array.from(o[1]), Array.from(o[0]));
});

// A whole task: online learning amplifies float32 differences step by step, so the tasks are held to the wasm run by accuracy,
// not bytes. Tolerance: the mean query accuracy over 12 tasks within 0.03 of wasm's, and the mean loss within 5 %.
const small: RunConfig = { ...DEFAULT_CONFIG, shots: 20, query: 10, theta: { bp: 0.0068, oja: 0.0053 } };
for (const [name, over] of [["paper net bp + Oja", {}], ["RNN BPTT + Oja, delay 5", { net: "rnn", hidden: [40], delay: 5, theta: { bp: 0.003, oja: 0.002 } }]] as const) {
  test(`a whole task on native-fast within the stated accuracy tolerance of wasm: ${name}`, { skip }, () => {
    const cfg = { ...small, ...over } as RunConfig;
    const ds = cachedDataset(cfg);
    const runs = (backend: RunConfig["backend"]) => Array.from({ length: 12 }, (_, t) => runTask({ ...cfg, backend }, ds, t));
    const a = runs("wasm"), b = runs("native-fast");
    const mean = (rs: typeof a, f: (r: (typeof a)[0]) => number) => rs.reduce((s, r) => s + f(r), 0) / rs.length;
    assert.ok(b.every((r) => !r.diverged));
    assert.ok(Math.abs(mean(b, (r) => r.acc) - mean(a, (r) => r.acc)) <= 0.03, `acc ${mean(b, (r) => r.acc)} vs ${mean(a, (r) => r.acc)}`);
    assert.ok(Math.abs(mean(b, (r) => r.loss) / mean(a, (r) => r.loss) - 1) <= 0.05, `loss ${mean(b, (r) => r.loss)} vs ${mean(a, (r) => r.loss)}`);
  });
}

test("a meta-gradient episode on native-fast: the gradient within 1 % (relative, in norm) of wasm's", { skip }, () => {
  const cfg: RunConfig = { ...small, hidden: [37, 21, 10], split: "train" };
  const ds = cachedDataset(cfg), layout = metaLayout(["bp", "oja"], 4, false);
  const e = (backend: RunConfig["backend"]) => runEpisode({ ...cfg, backend }, ds, 2, layout, [0.004, 0.004], {});
  const a = e("wasm"), b = e("native-fast");
  const norm = (g: ArrayLike<number>) => Math.hypot(...Array.from(g));
  const diff = Array.from(b.grad, (v, i) => v - a.grad[i]);
  assert.ok(norm(diff) <= 0.01 * norm(a.grad), `|Δgrad| ${norm(diff)} vs |grad| ${norm(a.grad)}`);
});

test("the CLI: --backend native-fast names itself in one line and in the result file; auto never picks it", { skip }, () => {
  const args = ["train", "--tasks", "1", "--hidden", "12", "--shots", "3", "--query", "2", "--workers", "1", "--json"];
  const r = cli([...args, "--backend", "native-fast"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, `neuroplastic: kernels native-fast (${fastIsa}; FMA and wide sums, not the same bytes as wasm)\n`);
  assert.equal(JSON.parse(r.out.split("\n")[0]).config.backend, "native-fast");
  const auto = cli([...args, "--backend", "auto"]);
  assert.equal(JSON.parse(auto.out.split("\n")[0]).config.backend, "native");
});

test("without the addon (NEUROPLASTIC_NATIVE=0), --backend native-fast is a one-line error", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), "train", "--tasks", "1", "--hidden", "8", "--shots", "2",
    "--query", "1", "--workers", "1", "--backend", "native-fast"], { cwd: root, encoding: "utf8", env: { ...process.env, NEUROPLASTIC_NATIVE: "0" } });
  assert.equal(r.status, 2);
  // native is unavailable too, so wasm is the one backend left to suggest.
  assert.equal(r.stderr, "neuroplastic: --backend native-fast: the native kernels are disabled (NEUROPLASTIC_NATIVE=0); use --backend wasm\n");
});

test("with NEUROPLASTIC_NATIVE_ISA=portable (no AVX2 + FMA path), native-fast is absent and refused in one line that names the variable", { skip: nativeIsa() === null ? skip : false }, () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), "train", "--tasks", "1", "--hidden", "8", "--shots", "2",
    "--query", "1", "--workers", "1", "--backend", "native-fast"], { cwd: root, encoding: "utf8", env: { ...process.env, NEUROPLASTIC_NATIVE_ISA: "portable" } });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "neuroplastic: --backend native-fast: NEUROPLASTIC_NATIVE_ISA=portable turns its kernels off; use --backend native or wasm\n");
});

test("native-fast names itself and its path in every result file of train, meta and reproduce; the exact backends' files carry neither", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "np-fast-files-"));
  try {
    const small = ["--hidden", "8", "--shots", "3", "--query", "2", "--workers", "1"];
    for (const b of ["native-fast", "native"]) {
      const t = cli(["train", "--tasks", "2", ...small, "--backend", b, "--curve", "3", "--tensorboard", join(dir, `tb-${b}`), "--out", join(dir, `${b}.json`)]);
      assert.equal(t.code, 0, t.err);
      const m = cli(["meta", "--episodes", "2", ...small, "--bracket", "1", "--eval-tasks", "1", "--no-figures", "--backend", b, "--out", join(dir, `m-${b}`)]);
      assert.equal(m.code, 0, m.err);
      const r = cli(["reproduce", "--quick", "--scenarios", "a", "--tasks", "2", "--diag-tasks", "1", "--workers", "1", "--json", "--backend", b,
        "--out", join(dir, `rep-${b}`)]);
      assert.equal(r.code, 0, r.err);
    }
    const files = (b: string) => [
      `${b}.json`, `${b}.tasks.jsonl`, `${b}-curve.csv`, `m-${b}/meta.jsonl`, `m-${b}/bracket.json`, `m-${b}/summary.json`, `m-${b}/checkpoint.json`,
      `rep-${b}/results.csv`, `rep-${b}/diagnostics.csv`, `rep-${b}/verdicts.json`, `rep-${b}/results.json`,
    ].map((f) => [f, readFileSync(join(dir, f), "utf8")] as const);
    for (const [f, text] of files("native-fast")) assert.ok(text.includes("native-fast") && text.includes(fastIsa!), `${f} names neither native-fast nor ${fastIsa}`);
    // meta.jsonl: on every line.
    for (const l of readFileSync(join(dir, "m-native-fast/meta.jsonl"), "utf8").trim().split("\n")) assert.deepEqual(
      [JSON.parse(l).backend, JSON.parse(l).kernels], ["native-fast", fastIsa]);
    for (const [f, text] of files("native")) assert.ok(!text.includes("native-fast") && !text.includes("kernels"), `${f} carries native-fast's fields`);
    const events = (b: string) => readdirSync(join(dir, `tb-${b}`)).flatMap((run) => readEvents(join(dir, `tb-${b}`, run, "events.out.tfevents.neuroplastic")));
    assert.ok(events("native-fast").some((e) => e.scalars.some(([t]) => t === `backend/native-fast (${fastIsa})`)));
    assert.ok(!events("native").some((e) => e.scalars.some(([t]) => t.startsWith("backend/"))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a run of one native-fast path is not resumed on the other (they give different bytes)", { skip: skip || (fastIsa !== "avx512+fma" ? "one native-fast path here" : false) }, () => {
  const dir = mkdtempSync(join(tmpdir(), "np-fast-resume-"));
  try {
    const out = join(dir, "r.json"), args = ["train", "--tasks", "3", "--hidden", "8", "--shots", "3", "--query", "2", "--workers", "1", "--backend", "native-fast"];
    const a = spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), ...args, "--out", out],
      { cwd: root, encoding: "utf8", env: { ...process.env, NEUROPLASTIC_NATIVE_ISA: "avx2" } });
    assert.equal(a.status, 0, a.stderr);
    // An interrupted run: the header and the first task only.
    const tasks = join(dir, "r.tasks.jsonl");
    writeFileSync(tasks, readFileSync(tasks, "utf8").split("\n").slice(0, 2).join("\n") + "\n");
    rmSync(out);
    const b = cli([...args, "--out", out, "--resume"]);
    assert.equal(b.code, 2);
    assert.match(b.err, /was written by a different configuration \(fields that differ: kernels\)/);
    assert.equal(existsSync(out), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a native-fast result's config (with its path, config.kernels) is accepted back by --config on that path", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "np-fast-config-"));
  try {
    const a = cli(["train", "--tasks", "1", "--backend", "native-fast", "--print-config"]);
    assert.equal(a.code, 0, a.err);
    assert.equal(JSON.parse(a.out).kernels, fastIsa);
    writeFileSync(join(dir, "c.json"), a.out);
    const b = cli(["train", "--config", join(dir, "c.json"), "--print-config"]);
    assert.equal(b.code, 0, b.err);
    assert.deepEqual(JSON.parse(b.out), JSON.parse(a.out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
