import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadPixels } from "../src/data/pixels.js";
import { metaLayout } from "../src/learn/tangent.js";
import { MLP } from "../src/nets/mlp/mlp.js";
import { RNN } from "../src/nets/rnn/rnn.js";
import { planTangentStep } from "../src/nets/plan.js";
import type { TermName } from "../src/rules/registry.js";
import { makeRule } from "../src/rules/rule.js";
import type { Feedback } from "../src/signals/feedback.js";

/**
 * The exact meta-gradient against PyTorch autograd through the same unrolled
 * loop, same weights, same data (float64). Fixture: scripts/golden_meta.py.
 */
interface Case {
  name: string; dims: number[]; feedback: "sym" | "random"; perLayer: boolean; ojaOutput: boolean;
  theta: Record<TermName, number>; W: number[][]; B: number[][] | null;
  trainPixels: number[]; trainLabels: number[]; queryPixels: number[]; queryLabels: number[];
  loss: number; acc: number; grad: Record<TermName, number | number[]>;
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/meta_golden.json", import.meta.url), "utf8")) as { cases: Case[] };

for (const c of fixture.cases) {
  test(`meta-gradient matches PyTorch autograd: ${c.name}`, () => {
    const net = new MLP({ dims: c.dims, dtype: "f64" });
    c.W.forEach((w, i) => net.W[i + 1].set(w));
    const fb: Feedback = c.B === null ? { name: "sym", B: net.W } : { name: "random", B: [new Float64Array(0), ...c.B.map((b) => Float64Array.from(b))] };
    const L = net.L, terms = Object.keys(c.theta) as TermName[];
    const rule = makeRule(c.theta, L, { ojaOutput: c.ojaOutput });
    const layout = metaLayout(terms, L, c.perLayer).map((p) => (p.term === "oja" && !c.ojaOutput ? { ...p, layers: p.layers.filter((l) => l !== L) } : p));
    net.feedback = fb;
    const tl = planTangentStep(net, rule, { always: terms }, layout);
    const d = c.dims[0];
    const train = Uint8Array.from(c.trainPixels), query = Uint8Array.from(c.queryPixels);
    for (let i = 0; i < c.trainLabels.length; i++) {
      loadPixels(tl.primal.x, train, i, d);
      tl.step(c.trainLabels[i]);
    }
    const r = tl.queryGrad(query, d, c.queryLabels.map((_, i) => i), c.queryLabels);
    // torch's softplus returns z itself where βz > 20 (an error of ≤ log1p(e⁻²⁰)/β ≈ 2e-10); ours is exact.
    assert.ok(Math.abs(r.loss - c.loss) <= 1e-8 * Math.abs(c.loss), `loss ${r.loss} vs torch ${c.loss}`);
    assert.equal(r.acc, c.acc);
    const want = layout.map((p) => {
      const g = c.grad[p.term];
      if (p.layers.length === 0) return 0;
      return Array.isArray(g) ? g[p.layers[0] - 1] : g;
    });
    const scale = Math.max(...want.map(Math.abs));
    layout.forEach((p, k) => {
      const rel = Math.abs(r.grad[k] - want[k]) / Math.max(Math.abs(want[k]), 1e-6 * scale);
      assert.ok(rel < 1e-6, `${p.term}@${p.layers}: ours ${r.grad[k]} vs torch ${want[k]} (rel ${rel.toExponential(2)})`);
    });
  });
}

/** The RNN's exact meta-gradient against PyTorch autograd (fixture: scripts/golden_rnn.py). */
interface RnnCase {
  name: string; nIn: number; rows: number; delay: number; N: number; nOut: number; leak: number; feedback: "sym" | "random";
  perSite: boolean; ojaOutput: boolean; theta: Record<TermName, number>; U: number[]; J: number[]; W: number[]; B: number[][] | null;
  trainPixels: number[]; trainLabels: number[]; queryPixels: number[]; queryLabels: number[];
  loss: number; acc: number; grad: Record<TermName, number | number[]>;
}
const rnnFixture = JSON.parse(readFileSync(new URL("./fixtures/rnn_golden.json", import.meta.url), "utf8")) as { cases: RnnCase[] };

for (const c of rnnFixture.cases) {
  test(`RNN meta-gradient matches PyTorch autograd: ${c.name}`, () => {
    const net = new RNN({ nIn: c.nIn, rows: c.rows, delay: c.delay, N: c.N, nOut: c.nOut, leak: c.leak, dtype: "f64" });
    net.U.set(c.U); net.J.set(c.J); net.W.set(c.W);
    if (c.B !== null) net.feedback = { name: "random", B: [new Float64Array(0), ...c.B.map((b) => Float64Array.from(b))] };
    const terms = Object.keys(c.theta) as TermName[];
    const rule = makeRule(c.theta, 3, { ojaOutput: c.ojaOutput });
    const layout = metaLayout(terms, 3, c.perSite).map((p) => (p.term === "oja" && !c.ojaOutput ? { ...p, layers: p.layers.filter((l) => l !== 3) } : p));
    const tl = planTangentStep(net, rule, { always: terms }, layout);
    const d = c.rows * c.nIn, train = Uint8Array.from(c.trainPixels), query = Uint8Array.from(c.queryPixels);
    for (let i = 0; i < c.trainLabels.length; i++) {
      loadPixels(tl.primal.x, train, i, d);
      tl.step(c.trainLabels[i]);
    }
    tl.finish();
    const r = tl.queryGrad(query, d, c.queryLabels.map((_, i) => i), c.queryLabels);
    assert.ok(Math.abs(r.loss - c.loss) <= 1e-10 * Math.abs(c.loss), `loss ${r.loss} vs torch ${c.loss}`);
    assert.equal(r.acc, c.acc);
    const want = layout.map((p) => {
      const g = c.grad[p.term];
      if (p.layers.length === 0) return 0;
      return Array.isArray(g) ? g[p.layers[0] - 1] : g;
    });
    const scale = Math.max(...want.map(Math.abs));
    layout.forEach((p, k) => {
      const rel = Math.abs(r.grad[k] - want[k]) / Math.max(Math.abs(want[k]), 1e-6 * scale);
      assert.ok(rel < 1e-8, `${p.term}@${p.layers}: ours ${r.grad[k]} vs torch ${want[k]} (rel ${rel.toExponential(2)})`);
    });
  });
}
