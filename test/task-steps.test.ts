/**
 * taskSteps, the generator the app drives (watching, pausing and abandoning
 * a task between two steps), against runTask: the same result to the bit,
 * however often it yields and however its network is read while it waits
 * (the app reads the weights and runs a forward pass at a yield).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CONFIG, runTask, taskSteps, type RunConfig, type TaskResult } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { loadPixels } from "../src/data/pixels.js";
import { networkOf } from "../src/nets/registry.js";

const CONFIGS: [string, RunConfig][] = [
  ["MLP bp + Oja, wasm", { ...DEFAULT_CONFIG, split: "test", hidden: [40, 30], theta: { bp: 0.01, oja: 0.005 }, shots: 12, query: 4, backend: "wasm" }],
  ["MLP feedback alignment, 2 passes, js", { ...DEFAULT_CONFIG, split: "test", hidden: [30], theta: { bp: 0.02, oja: 0.004 }, feedback: "random", shots: 8, query: 3, epochs: 2, backend: "js" }],
  ["RNN BPTT + Oja, wasm", { ...DEFAULT_CONFIG, split: "test", net: "rnn", hidden: [20], delay: 3, theta: { bp: 0.01, oja: 0.004 }, way: 4, shots: 5, query: 3, backend: "wasm" }],
];

const plain = (r: TaskResult) => ({ ...r, saved: undefined });

for (const [name, cfg] of CONFIGS) {
  test(`taskSteps equals runTask, bit for bit, yielding every step or every 7th and read at each yield: ${name}`, () => {
    const ds = cachedDataset(cfg);
    const probeIdx = [0, 1, 2, 3, 4, 5, 6, 7], probeLabels = probeIdx.map((i) => ds.labels[i]);
    for (let t = 0; t < 3; t++) {
      const plan = { at: [cfg.way * cfg.shots * (cfg.epochs ?? 1)], probeIdx, probeLabels };
      const want = runTask(cfg, ds, t, plan, 5, true);
      for (const every of [1, 7]) {
        const g = taskSteps(cfg, ds, t, plan, 5, true, every);
        let r = g.next(), yields = 0, last = 0;
        while (!r.done) {
          const p = r.value;
          yields++;
          assert.ok(p.done > last && p.done <= p.total && p.done % every === 0);
          last = p.done;
          // What the page does at a yield: read the weights, score the example just learned.
          void p.net.params;
          const score = p.net.scorer?.({}) ?? (() => p.net.logits());
          loadPixels(p.net.x, ds.images, p.index, ds.dim);
          score();
          r = g.next();
        }
        assert.equal(yields, Math.floor((cfg.way * cfg.shots * (cfg.epochs ?? 1)) / every));
        assert.deepEqual(plain(r.value), plain(want), `task ${t}, a yield every ${every}`);
        assert.deepEqual(r.value.saved?.tensors.map((x) => Array.from(x.data)), want.saved?.tensors.map((x) => Array.from(x.data)));
      }
    }
  });
}

// The app measures a task's end itself, after the generator returns, so that the diagnostics are timed apart from
// training (web/src/worker.ts): the probe on the network it last yielded, and the receptive fields read from its sites,
// must be what a plan { at: [end] } measures and what train --save-weights keeps.
const FA_SIGN: [string, RunConfig] = ["MLP sign symmetry, wasm", { ...DEFAULT_CONFIG, split: "test", hidden: [30, 20], theta: { bp: 0.02, oja: 0.004 }, feedback: "sign", shots: 8, query: 3, backend: "wasm" }];
for (const [name, cfg] of [...CONFIGS, FA_SIGN]) {
  test(`the end of a task measured after taskSteps returns equals its plan's measurement and its saved weights: ${name}`, () => {
    const ds = cachedDataset(cfg);
    const probeIdx = [0, 1, 2, 3, 4, 5, 6, 7], probeLabels = probeIdx.map((i) => ds.labels[i]);
    const end = cfg.way * cfg.shots * (cfg.epochs ?? 1), probeOf = networkOf(cfg.net).probe!;
    for (let t = 0; t < 2; t++) {
      const want = runTask(cfg, ds, t, { at: [end], probeIdx, probeLabels }, 0, true);
      const g = taskSteps(cfg, ds, t, undefined, 0, false, 1);
      let r = g.next(), net = null;
      while (!r.done) { net = r.value.net; r = g.next(); }
      assert.ok(net && !r.value.diverged);
      const { diagnostics: _d, ...rest } = plain(want);
      assert.deepEqual(plain(r.value), rest);
      void net.params;
      assert.deepEqual([{ step: end, ...probeOf(net, ds.images, ds.dim, probeIdx, probeLabels) }], want.diagnostics, `task ${t}`);
      for (const s of net.sites.slice(1)) assert.deepEqual(Float32Array.from(s.W), want.saved!.tensors.find((x) => x.name === s.name)!.data, `${s.name}, task ${t}`);
    }
  });
}
