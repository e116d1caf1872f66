/**
 * Behaviour frozen across refactors: SHA-256 of the parameters after a few
 * dozen plasticity steps, of meta-gradients and of whole reproduce cells, for
 * every mode of the MLP engine, on both backends and in float32 and float64.
 * The fixture (test/fixtures/trajectory.json) was written by the code at
 * commit 420d2fe, before the engine was redesigned around networks and
 * plastic sites; the redesign must reproduce it bit for bit.
 *   UPDATE_TRAJECTORY=1 npx tsx --test test/trajectory.test.ts   rewrites it (only when a change is meant to alter results)
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DType } from "../src/core/kernels.js";
import { closePools } from "../src/experiments/pool.js";
import { DEFAULT_CONFIG, taskStreams, type RunConfig } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { reproduce } from "../src/reproduce/run.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaLayout } from "../src/learn/tangent.js";
import { loadPixels } from "../src/data/pixels.js";
import type { TermName } from "../src/rules/registry.js";
import { sampleTask } from "../src/data/tasks.js";
import { freshPlasticStep } from "./trajectory-helpers.js";
import { tinyData } from "./helpers.js";

after(closePools);

const FIXTURE = new URL("./fixtures/trajectory.json", import.meta.url);
const update = process.env.UPDATE_TRAJECTORY === "1";
const expected: Record<string, string> = !update && existsSync(FIXTURE) ? JSON.parse(readFileSync(FIXTURE, "utf8")) : {};
const got: Record<string, string> = {};
after(() => { if (update) writeFileSync(FIXTURE, JSON.stringify(got, null, 1) + "\n"); });

function sha(...parts: (ArrayBufferView | string)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(typeof p === "string" ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  return h.digest("hex");
}

function check(name: string, hash: string): void {
  got[name] = hash;
  if (update) return;
  assert.ok(name in expected, `no frozen hash for ${name}`);
  assert.equal(hash, expected[name], `${name}: results changed`);
}

const base: RunConfig = { ...DEFAULT_CONFIG, hidden: [40, 30], tasks: 1, seed: 7 };
const modes: [string, Partial<RunConfig>][] = [
  ["online bp+oja", {}],
  ["online bp", { theta: { bp: 0.0068 } }],
  ["batch 10", { batch: 10, theta: { bp: 0.068, oja: 0.053 } }],
  ["batch norm 4", { batch: 4, norm: "batch", theta: { bp: 0.02 } }],
  ["adam", { optimizer: "adam", theta: { bp: 0.001, oja: 0.0053 } }],
  ["adam batch 3", { optimizer: "adam", batch: 3, theta: { bp: 0.001 } }],
  ["layer norm", { norm: "layer" }],
  ["feedback alignment", { feedback: "random" }],
  ["feedback alignment, all terms", { feedback: "random", theta: { bp: 0.0068, oja: 0.0053, hebb: 1e-4, ehebb: 1e-3 } }],
  ["bias", { bias: true }],
  ["all terms", { theta: { bp: 0.0068, oja: 0.0053, hebb: 1e-4, ehebb: 1e-3 } }],
  ["bp+oja+hebb, bias", { bias: true, theta: { bp: 0.0068, oja: 0.0053, hebb: 1e-4 } }],
  ["no oja output", { ojaOutput: false }],
  ["per layer θ", { theta: { bp: [0.01, 0.005, 0.002], oja: [0.004, 0, 0.006] } }],
  ["16 layers", { hidden: new Array(16).fill(8), gain: 1.5 }],
  ["tanh, gain 0.25", { activation: "tanh", gain: 0.25 }],
  ["batch 5, feedback alignment, bias", { batch: 5, feedback: "random", bias: true }],
];
const backends: [string, RunConfig["backend"], DType][] = [["js f32", "js", "f32"], ["js f64", "js", "f64"], ["wasm", "wasm", "f32"]];

for (const [mode, over] of modes) {
  for (const [bname, backend, dtype] of backends) {
    test(`frozen trajectory: ${mode}, ${bname}`, () => {
      const cfg = { ...base, ...over, backend };
      const ds = cachedDataset(cfg);
      const parts: Float64Array[] = [];
      for (const t of [0, 1]) {
        const { step, task, params } = freshPlasticStep(cfg, ds, t, dtype);
        for (let i = 0; i < 33; i++) step(task.trainIdx[i], task.trainLabels[i]);
        parts.push(Float64Array.from(params()));
      }
      check(`train ${mode} ${bname}`, sha(...parts));
    });
  }
}

// Meta-gradients: every case of test/meta.test.ts (float64, plain kernels) and the wasm cases of test/wasm.test.ts.
const tiny = tinyData();
const tinyBase: RunConfig = { ...DEFAULT_CONFIG, hidden: [6, 5], way: 3, shots: 4, query: 3, seed: 5 };
const metaCases: [string, Partial<RunConfig>, TermName[], boolean, number[]][] = [
  ["bp+oja shared", {}, ["bp", "oja"], false, [0.5, 0.2]],
  ["FA all terms per layer tanh", { feedback: "random", activation: "tanh" }, ["bp", "oja", "hebb", "ehebb"], true, [0.4, 0.3, 0.5, 0.1, 0.2, 0.05, 0.02, -0.03, 0.01, 0.1, -0.1, 0.05]],
  ["bias all terms shared", { bias: true }, ["bp", "oja", "hebb", "ehebb"], false, [0.5, 0.2, 0.03, 0.1]],
  ["FA bias no oja output per layer", { feedback: "random", bias: true, ojaOutput: false }, ["bp", "oja"], true, [0.3, 0.4, 0.5, 0.1, 0.2, 0.3]],
  ["gain 3 only oja", { gain: 3 }, ["oja"], false, [0.1]],
  ["epochs 3 FA", { epochs: 3, feedback: "random" }, ["bp", "oja"], false, [0.4, 0.2]],
  ["batch 5", { batch: 5 }, ["bp", "oja"], false, [1.5, 0.6]],
  ["batch 4 bias FA per layer", { batch: 4, bias: true, feedback: "random" }, ["bp", "oja"], true, [1, 1.2, 0.8, 0.2, 0.3, 0.1]],
];
for (const [name, over, learn, perLayer, theta] of metaCases) {
  for (const dtype of ["f64", "f32"] as DType[]) {
    test(`frozen meta-gradient: ${name}, js ${dtype}`, () => {
      const cfg = { ...tinyBase, ...over, backend: "js" as const };
      const layout = metaLayout(learn, cfg.hidden.length + 1, perLayer);
      const fixed = learn.includes("bp") ? {} : { bp: 0.3 };
      const r = [0, 1].map((t) => runEpisode(cfg, tiny, t, layout, theta, fixed, dtype));
      check(`meta ${name} js ${dtype}`, sha(Float64Array.from(r.flatMap((x) => [x.loss, x.acc, ...x.grad]))));
    });
  }
}
const mnistMeta: [string, Partial<RunConfig>, TermName[], boolean][] = [
  ["bp+oja shared", {}, ["bp", "oja"], false],
  ["per layer, biases, FA", { bias: true, feedback: "random", way: 3, shots: 10 }, ["bp", "oja"], true],
  ["bp+oja+hebb shared, biases", { bias: true, way: 3, shots: 10 }, ["bp", "oja", "hebb"], false],
  ["batch 10", { batch: 10, shots: 20 }, ["bp", "oja"], false],
  ["FA all terms", { feedback: "random", shots: 10 }, ["bp", "oja", "hebb", "ehebb"], false],
];
for (const [name, over, terms, perLayer] of mnistMeta) {
  for (const backend of ["wasm", "js"] as const) {
    test(`frozen meta-gradient on MNIST: ${name}, ${backend}`, () => {
      const c = { ...DEFAULT_CONFIG, tasks: 1, split: "train" as const, ...over, backend }, ds = cachedDataset(c);
      const layout = metaLayout(terms, 5, perLayer);
      const start: Record<string, number> = { bp: 0.005, oja: 0.003, hebb: 1e-4, ehebb: 1e-3 };
      const r = runEpisode(c, ds, 3, layout, layout.map((p) => start[p.term]), {});
      check(`meta mnist ${name} ${backend}`, sha(Float64Array.from([r.loss, r.acc, ...r.grad])));
    });
  }
}

test("frozen reproduce cells (quick grid, 2 tasks, 2 meta-episodes, diagnostics)", async () => {
  const out = mkdtempSync(join(tmpdir(), "np-frozen-"));
  // The published outer loop, one meta seed, no grid: what reports were made with before the robust loop.
  const rs = await reproduce({ out, quick: true, workers: 1, seed: 1, tasks: 2, diagTasks: 1, probe: 10, theta: { bp: 0.0068, oja: 0.0053 }, metaEpisodes: 2, dataset: "mnist", backend: "wasm", outer: "adam", metaSeeds: 1, gridTasks: 0, transfer: "none" });
  // Scenarios a–e are the MLP's (frozen before the redesign); later scenarios are new. Issue 28 re-froze scenario e
  // (its cells are now meta-learned over their own 4 passes, not one), added the control cells (matched step,
  // published protocol) and renamed Adam's cell; every other cell kept its hash. Protocol 3 re-froze every
  // meta-learned cell: meta seed k now trains on streams seed + 1000·(k + 1), never the scoring tasks' (fixed-θ cells kept theirs).
  for (const r of rs.filter((c) => "abcde".includes(c.scenario))) {
    // The fields cells had then, in their order (later fields — runs, grid, median loss, exploded — are new).
    const kept = { id: r.id, scenario: r.scenario, x: r.x, rule: r.rule, theta: r.theta, thetaSource: r.thetaSource, acc: r.acc, acc_ci95: r.acc_ci95, loss: r.loss, diverged: r.diverged, weight_norm: r.weight_norm, tasks: r.tasks, diagnostics: r.diagnostics };
    check(`reproduce ${r.id}`, sha(JSON.stringify(kept)));
  }
});

// The sampler and the pixel loader are shared by every path above; keep them in the frozen set too.
test("frozen task sampling and pixels", () => {
  const ds = cachedDataset(base);
  const task = sampleTask(ds, base, taskStreams(3, 4).sample);
  const x = new Float64Array(ds.dim);
  loadPixels(x, ds.images, task.trainIdx[0], ds.dim);
  check("sampling", sha(task.trainIdx, task.trainLabels, task.queryIdx, x));
});
