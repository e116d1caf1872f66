import { test } from "node:test";
import assert from "node:assert/strict";
import { logSumExp } from "../src/core/kernels.js";
import { WasmArena } from "../src/core/wasm.js";
import { Rng } from "../src/core/rng.js";
import type { ActivationName } from "../src/nn/activations.js";
import { forward, MLP, Trace } from "../src/nets/mlp/mlp.js";
import { makeFeedback } from "../src/signals/feedback.js";
import { backward } from "../src/nets/mlp/mlp.js";
import { makeRule } from "../src/rules/rule.js";
import { assertClose, stepFor } from "./helpers.js";

function ce(net: MLP, tr: Trace, label: number): number {
  forward(net, tr);
  const L = net.L;
  return logSumExp(tr.z[L], net.dims[L]) - tr.z[L][label];
}

/**
 * With symmetric feedback, eₗ yₗ₋₁ᵀ is ∂CE/∂Wₗ and eₗ is ∂CE/∂bₗ (PAPER.md):
 * checked against central differences in float64 for every activation.
 */
const cases: [ActivationName, boolean, "none" | "layer"][] = [];
for (const activation of ["softplus", "tanh", "linear", "relu"] as ActivationName[]) for (const bias of [false, true]) cases.push([activation, bias, "none"]);
cases.push(["softplus", false, "layer"], ["tanh", true, "layer"]);
for (const [activation, bias, norm] of cases) {
  {
    test(`backprop errors equal central finite differences (${activation}, bias ${bias}, norm ${norm})`, () => {
      const rng = new Rng(42);
      const net = new MLP({ dims: [7, 6, 5, 4, 3], activation, bias, norm, dtype: "f64" }).init("xavier", 1.3, rng);
      if (bias) for (let l = 1; l <= net.L; l++) for (let i = 0; i < net.b[l].length; i++) net.b[l][i] = 0.3 * rng.normal();
      const tr = new Trace(net);
      for (let j = 0; j < 7; j++) tr.y[0][j] = rng.uniform();
      const label = 2;
      forward(net, tr);
      const L = net.L;
      for (let i = 0; i < net.dims[L]; i++) tr.e[L][i] = tr.y[L][i] - (i === label ? 1 : 0);
      backward(net, makeFeedback("sym", net, "xavier", 1, rng), tr, { needU: new Array(L + 1).fill(false), needE0: true });
      const h = 1e-6;
      for (let l = 1; l <= L; l++) {
        const n = net.dims[l], m = net.dims[l - 1];
        const analytic: number[] = [], numeric: number[] = [];
        const e = Float64Array.from(tr.e[l]), y = Float64Array.from(tr.y[l - 1]);
        const probe = new Trace(net);
        probe.y[0].set(tr.y[0]);
        const targets: [Float64Array | Float32Array, number, number][] = [];
        for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) targets.push([net.W[l], i * m + j, e[i] * y[j]]);
        if (bias) for (let i = 0; i < n; i++) targets.push([net.b[l], i, e[i]]);
        for (const [buf, k, g] of targets) {
          const w0 = buf[k];
          buf[k] = w0 + h; const fp = ce(net, probe, label);
          buf[k] = w0 - h; const fm = ce(net, probe, label);
          buf[k] = w0;
          analytic.push(g); numeric.push((fp - fm) / (2 * h));
        }
        assertClose(analytic, numeric, 1e-5, 1e-8, `dCE/dW${l}`);
      }
      // e₀ = W₁ᵀ e₁ is the gradient with respect to the (linear) input.
      const gx: number[] = [];
      for (let j = 0; j < 7; j++) {
        const x0 = tr.y[0][j];
        const probe = new Trace(net);
        probe.y[0].set(tr.y[0]); probe.y[0][j] = x0 + h; const fp = ce(net, probe, label);
        probe.y[0][j] = x0 - h; const fm = ce(net, probe, label);
        gx.push((fp - fm) / (2 * h));
      }
      assertClose(tr.e[0], gx, 1e-5, 1e-8, "dCE/dx");
      assert.ok(Math.max(...gx.map(Math.abs)) > 1e-4, "the check is not vacuous");
      // The other backend: the same weights in float32 on the WebAssembly kernels give the same errors eₗ
      // (the finite-difference-checked float64 ones above) to float32's precision.
      const w32 = new MLP({ dims: [7, 6, 5, 4, 3], activation, bias, norm, arena: new WasmArena(1 << 20) });
      for (let l = 1; l <= L; l++) { w32.W[l].set(net.W[l]); if (bias) w32.b[l].set(net.b[l]); }
      const t32 = new Trace(w32);
      t32.y[0].set(tr.y[0]);
      forward(w32, t32);
      for (let i = 0; i < w32.dims[L]; i++) t32.e[L][i] = t32.y[L][i] - (i === label ? 1 : 0);
      backward(w32, makeFeedback("sym", w32, "xavier", 1, new Rng(0)), t32, { needU: new Array(L + 1).fill(false), needE0: true });
      for (let l = 0; l <= L; l++) assertClose(t32.e[l], tr.e[l], 1e-4, 1e-6, `wasm f32 e${l}`);
    });
  }
}

/** Mean cross-entropy of a batch, hidden layers batch-normalized with the batch's own statistics. */
function batchLoss(net: MLP, xs: Float64Array[], labels: number[]): number {
  const L = net.L, d = net.dims;
  let ys = xs.map((x) => Float64Array.from(x));
  for (let l = 1; l <= L; l++) {
    const zs = ys.map((y) => {
      const z = new Float64Array(d[l]);
      for (let i = 0; i < d[l]; i++) { let s = net.bias ? net.b[l][i] : 0; for (let j = 0; j < d[l - 1]; j++) s += net.W[l][i * d[l - 1] + j] * y[j]; z[i] = s; }
      return z;
    });
    if (l === L) {
      return zs.reduce((s, z, q) => { const mx = Math.max(...z); const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0)); return s + lse - z[labels[q]]; }, 0) / xs.length;
    }
    for (let i = 0; i < d[l]; i++) {
      const mean = zs.reduce((s, z) => s + z[i], 0) / zs.length;
      const v = zs.reduce((s, z) => s + (z[i] - mean) ** 2, 0) / zs.length;
      for (const z of zs) z[i] = (z[i] - mean) / Math.sqrt(v + 1e-5);
    }
    ys = zs.map((z) => { const y = new Float64Array(z.length); net.act.f(y, z, z.length); return y; });
  }
  return NaN;
}

test("batch normalization: the averaged bp update is minus the gradient of the batch loss (central finite differences)", () => {
  const rng = new Rng(3);
  for (const P of [4, 3]) {
    const net = new MLP({ dims: [6, 5, 4, 3], norm: "batch", bias: true, dtype: "f64" }).init("xavier", 1, rng);
    const xs = Array.from({ length: P }, () => Float64Array.from({ length: 6 }, () => rng.uniform()));
    const labels = Array.from({ length: P }, (_, q) => q % 3);
    const before = net.clone();
    const learner = stepFor(net, makeFeedback("sym", net, "xavier", 1, new Rng(0)), makeRule({ bp: 1 }, 3), { batch: 4 });
    for (let q = 0; q < P; q++) { learner.x.set(xs[q]); learner.step(labels[q]); }
    learner.finish(); // P = 3: a trailing partial batch, averaged over its size
    const h = 1e-6, analytic: number[] = [], numeric: number[] = [];
    for (let i = 0; i < before.params.length; i++) {
      const w0 = before.params[i];
      before.params[i] = w0 + h; const fp = batchLoss(before, xs, labels);
      before.params[i] = w0 - h; const fm = batchLoss(before, xs, labels);
      before.params[i] = w0;
      numeric.push((fp - fm) / (2 * h));
      analytic.push(-(net.params[i] - before.params[i]));
    }
    assertClose(analytic, numeric, 1e-5, 1e-8, `batch-norm gradient (P = ${P})`);
    // Running statistics moved from (0, 1) toward the batch's.
    assert.ok(net.bnMean[1].some((v) => v !== 0));
  }
});
