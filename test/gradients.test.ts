import { test } from "node:test";
import assert from "node:assert/strict";
import { logSumExp } from "../src/core/kernels.js";
import { Rng } from "../src/core/rng.js";
import type { ActivationName } from "../src/nn/activations.js";
import { forward, MLP, Trace } from "../src/nn/mlp.js";
import { backward, makeFeedback } from "../src/signals/feedback.js";
import { assertClose } from "./helpers.js";

function ce(net: MLP, tr: Trace, label: number): number {
  forward(net, tr);
  const L = net.L;
  return logSumExp(tr.z[L], net.dims[L]) - tr.z[L][label];
}

/**
 * With symmetric feedback, eₗ yₗ₋₁ᵀ is ∂CE/∂Wₗ and eₗ is ∂CE/∂bₗ (PAPER.md):
 * checked against central differences in float64 for every activation.
 */
for (const activation of ["softplus", "tanh", "linear", "relu"] as ActivationName[]) {
  for (const bias of [false, true]) {
    test(`backprop errors equal central finite differences (${activation}, bias ${bias})`, () => {
      const rng = new Rng(42);
      const net = new MLP({ dims: [7, 6, 5, 4, 3], activation, bias, dtype: "f64" }).init("xavier", 1.3, rng);
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
    });
  }
}
