import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CONFIG, type RunConfig } from "../src/experiments/task.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaLayout } from "../src/learn/tangent.js";
import type { TermName } from "../src/rules/registry.js";
import { tinyData } from "./helpers.js";
import { TERM_NAMES } from "../src/rules/registry.js";

const POOL = TERM_NAMES;

const ds = tinyData();
const base: RunConfig = { ...DEFAULT_CONFIG, hidden: [6, 5], way: 3, shots: 4, query: 3, seed: 5 };

interface Case { name: string; cfg: Partial<RunConfig>; learn: TermName[]; perLayer: boolean; theta: number[] }
const cases: Case[] = [
  { name: "backprop, bp+oja shared, softplus", cfg: {}, learn: ["bp", "oja"], perLayer: false, theta: [0.5, 0.2] },
  { name: "feedback alignment, all terms per layer, tanh", cfg: { feedback: "random", activation: "tanh" }, learn: ["bp", "oja", "hebb", "ehebb"], perLayer: true,
    theta: [0.4, 0.3, 0.5, 0.1, 0.2, 0.05, 0.02, -0.03, 0.01, 0.1, -0.1, 0.05] },
  { name: "backprop with biases, all terms shared", cfg: { bias: true }, learn: ["bp", "oja", "hebb", "ehebb"], perLayer: false, theta: [0.5, 0.2, 0.03, 0.1] },
  { name: "feedback alignment with biases, no Oja at the output, per layer", cfg: { feedback: "random", bias: true, ojaOutput: false }, learn: ["bp", "oja"], perLayer: true,
    theta: [0.3, 0.4, 0.5, 0.1, 0.2, 0.3] },
  { name: "backprop, gain 3, only oja learned (bp fixed)", cfg: { gain: 3 }, learn: ["oja"], perLayer: false, theta: [0.1] },
  { name: "three passes over the task (epochs), feedback alignment", cfg: { epochs: 3, feedback: "random" }, learn: ["bp", "oja"], perLayer: false, theta: [0.4, 0.2] },
  { name: "mini-batches of 5 (a trailing partial batch of 2), bp+oja shared", cfg: { batch: 5, shots: 4, way: 3 }, learn: ["bp", "oja"], perLayer: false, theta: [1.5, 0.6] },
  { name: "mini-batches of 4 with biases, feedback alignment, per layer", cfg: { batch: 4, bias: true, feedback: "random" }, learn: ["bp", "oja"], perLayer: true, theta: [1, 1.2, 0.8, 0.2, 0.3, 0.1] },
  // The whole pool: seven active terms at every layer (the meta-gradient's buffers are sized from the rule, not for four).
  { name: "the whole pool per layer, feedback alignment, tanh, biases", cfg: { feedback: "random", activation: "tanh", bias: true }, learn: [...POOL], perLayer: true,
    theta: POOL.flatMap((t, i) => [0.3, 0.2, 0.1].map((v) => (t === "decay" ? 0.01 * (i + 1) : v * (i % 2 ? 0.5 : 1) * (t === "hebb" ? 0.1 : 1)))) },
  { name: "the whole pool shared, backprop, biases, mini-batches of 3", cfg: { bias: true, batch: 3 }, learn: [...POOL], perLayer: false, theta: [0.5, 0.2, 0.03, 0.1, 0.05, 0.08, 0.02] },
];

/** Agreement of the float32 WebAssembly meta-gradient with the float64 one, relative to the largest component. */
const F32_RTOL = 1e-4;

for (const c of cases) {
  test(`exact meta-gradient equals central finite differences in float64, and the wasm float32 backend agrees: ${c.name}`, () => {
    const cfg = { ...base, ...c.cfg };
    const layout = metaLayout(c.learn, cfg.hidden.length + 1, c.perLayer);
    assert.equal(layout.length, c.theta.length);
    const fixed = c.learn.includes("bp") ? {} : { bp: 0.3 };
    for (const t of [0, 1]) {
      const r = runEpisode(cfg, ds, t, layout, c.theta, fixed, "f64");
      const h = 1e-5;
      const fd = c.theta.map((_, k) => {
        const p = [...c.theta], m = [...c.theta];
        p[k] += h; m[k] -= h;
        return (runEpisode(cfg, ds, t, layout, p, fixed, "f64").loss - runEpisode(cfg, ds, t, layout, m, fixed, "f64").loss) / (2 * h);
      });
      const scale = Math.max(...fd.map(Math.abs));
      assert.ok(scale > 1e-3, "the check is not vacuous");
      for (let k = 0; k < fd.length; k++) {
        const rel = Math.abs(r.grad[k] - fd[k]) / Math.max(Math.abs(fd[k]), 1e-3 * scale);
        assert.ok(rel < 1e-5, `${layout[k].term}@${layout[k].layers}: exact ${r.grad[k]} vs fd ${fd[k]} (rel ${rel.toExponential(2)})`);
      }
      // The other backend: the WebAssembly kernels (float32, the fast steps where they apply) give the same gradient
      // to float32's precision over the unrolled loop (the float64 one above is the finite-difference-checked reference).
      const r32 = runEpisode({ ...cfg, backend: "wasm" }, ds, t, layout, c.theta, fixed, "f32");
      for (let k = 0; k < fd.length; k++) {
        const rel = Math.abs(r32.grad[k] - r.grad[k]) / scale;
        assert.ok(rel < F32_RTOL, `wasm f32 ${layout[k].term}@${layout[k].layers}: ${r32.grad[k]} vs f64 ${r.grad[k]} (rel to the largest ${rel.toExponential(2)})`);
      }
    }
  });
}
