/**
 * Browser check (run by scripts/browser-check.mjs in headless Chromium): in a
 * Web Worker, the WebAssembly SIMD kernels against the plain ones, and a small
 * online-learning run on both backends. Posts one JSON result.
 */
import { heapArena, jsKernels } from "../../src/core/kernels.js";
import { Rng } from "../../src/core/rng.js";
import { WasmArena } from "../../src/core/wasm.js";
import { MLP } from "../../src/nets/mlp/mlp.js";
import { planStep } from "../../src/nets/plan.js";
import { makeRule } from "../../src/rules/rule.js";
import { makeFeedback } from "../../src/signals/feedback.js";

function run(): Record<string, unknown> {
  const r = new Rng(1), n = 37, m = 53;
  const w = new WasmArena(1 << 20);
  const W = w.alloc(n * m), x = w.alloc(m), o1 = w.alloc(n);
  for (const v of [W, x]) for (let i = 0; i < v.length; i++) v[i] = r.normal();
  const o2 = new Float32Array(n);
  w.kernels.matVec(o1, W, x, n, m); jsKernels.matVec(o2, Float32Array.from(W), Float32Array.from(x), n, m);
  let kernelErr = 0;
  for (let i = 0; i < n; i++) kernelErr = Math.max(kernelErr, Math.abs(o1[i] - o2[i]));
  // 200 online steps of bp + Oja on a fixed random stream, on both backends.
  const dims = [64, 32, 16, 4];
  const learn = (arena: ReturnType<typeof heapArena> | WasmArena) => {
    const net = new MLP({ dims, arena }).init("xavier", 1, new Rng(2));
    net.feedback = makeFeedback("sym", net, "xavier", 1, new Rng(3));
    const l = planStep(net, makeRule({ bp: 0.05, oja: 0.02 }, 3));
    const s = new Rng(4);
    const t0 = performance.now();
    for (let k = 0; k < 200; k++) { for (let j = 0; j < 64; j++) l.x[j] = s.uniform(); l.step(s.int(4)); }
    l.finish();
    return { params: Float32Array.from(net.params), ms: performance.now() - t0, plan: l.name };
  };
  const a = learn(new WasmArena(1 << 20)), b = learn(heapArena("f32"));
  let stepErr = 0, scale = 0;
  for (let i = 0; i < a.params.length; i++) { stepErr = Math.max(stepErr, Math.abs(a.params[i] - b.params[i])); scale = Math.max(scale, Math.abs(b.params[i])); }
  return { ok: kernelErr < 1e-4 && stepErr < 1e-4 * scale, kernelErr, stepErr, scale, wasmMs: a.ms, jsMs: b.ms, plan: a.plan, userAgent: navigator.userAgent };
}

try { postMessage(run()); } catch (e) { postMessage({ ok: false, error: String(e) }); }
