/**
 * npm run profile [-- --tasks N] [--backend wasm|native|native-fast] [--json FILE]
 *
 * Where the time of an end-to-end run goes, in one thread, phase by phase:
 * for online learning (runTask's phases: task sampling, building the network
 * — arena, initialization, feedback, the planned step — the online steps,
 * finish, and scoring the query set) and for a meta-gradient episode
 * (sampling, building the tangent step, the steps with tangents, the query
 * loss and gradient), plus what a run pays once per worker thread (loading
 * the dataset, compiling the kernels). The same code paths as runTask and
 * runEpisode, timed with performance.now() between phases; medians over tasks.
 */
import { performance } from "node:perf_hooks";
import { writeAtomic } from "../src/core/files.js";
import { loadPixels } from "../src/data/pixels.js";
import { sampleTask } from "../src/data/tasks.js";
import { evaluate } from "../src/learn/evaluate.js";
import { planStep, planTangentStep } from "../src/nets/plan.js";
import { makeRule } from "../src/rules/rule.js";
import { metaLayout } from "../src/learn/tangent.js";
import { buildNetwork, DEFAULT_CONFIG, onTaskArena, shapeKey, taskStreams, type RunConfig } from "../src/experiments/task.js";
import { loadDataset } from "../src/data/dataset.js";
import { scriptFlags } from "./args.js";

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

export interface Profile { tasks: number; online_ms: Record<string, number>; meta_ms: Record<string, number>; once: { load_datasets_ms: number }; text: string }

/** Phase times of `N` online tasks and N/20 (at least 5) meta episodes, in this thread. */
export function profile(N: number, backend: RunConfig["backend"] = DEFAULT_CONFIG.backend): Profile {
let t = performance.now();
const lap = () => { const n = performance.now(), d = n - t; t = n; return d; };

lap();
const ds = loadDataset("mnist", "test");
const dsTrain = loadDataset("mnist", "train");
const once = { load_datasets_ms: lap() };

const cfg: RunConfig = { ...DEFAULT_CONFIG, backend, theta: { bp: 0.0068, oja: 0.0053 } };
const phases = { sample: [] as number[], build: [] as number[], steps: [] as number[], finish: [] as number[], evaluate: [] as number[] };
for (let k = -3; k < N; k++) { // three warm-up tasks (JIT, wasm tier-up, arena sizing)
  const tk = Math.max(k, 0);
  lap();
  const task = sampleTask(ds, cfg, taskStreams(cfg.seed, tk).sample);
  const a = lap();
  const step = onTaskArena(cfg.backend, "f32", shapeKey(cfg, "f32"), (arena) => {
    const net = buildNetwork(cfg, ds, tk, arena);
    return planStep(net, makeRule(cfg.theta, net.S, { ojaOutput: cfg.ojaOutput }), { batch: cfg.batch, optimizer: cfg.optimizer });
  });
  const b = lap();
  for (let i = 0; i < task.trainIdx.length; i++) { loadPixels(step.x, ds.images, task.trainIdx[i], ds.dim); step.step(task.trainLabels[i]); }
  const c = lap();
  step.finish();
  const d = lap();
  evaluate(step.net, ds.images, ds.dim, task.queryIdx, task.queryLabels);
  const e = lap();
  if (k >= 0) { phases.sample.push(a); phases.build.push(b); phases.steps.push(c); phases.finish.push(d); phases.evaluate.push(e); }
}

const mcfg: RunConfig = { ...cfg, split: "train" };
const layout = metaLayout(["bp", "oja"], 5, false);
const meta = { sample: [] as number[], build: [] as number[], steps: [] as number[], query: [] as number[] };
const M = Math.max(5, Math.round(N / 20));
for (let k = -1; k < M; k++) {
  const tk = Math.max(k, 0);
  lap();
  const task = sampleTask(dsTrain, mcfg, taskStreams(mcfg.seed, tk).sample);
  const a = lap();
  const tl = onTaskArena(mcfg.backend, "f32", shapeKey(mcfg, { dtype: "f32", layout, withGrad: true }), (arena) => {
    const net = buildNetwork(mcfg, dsTrain, tk, arena);
    return planTangentStep(net, makeRule(mcfg.theta, net.S, { ojaOutput: true }), { always: ["bp", "oja"], batch: 1, optimizer: "sgd" }, layout);
  });
  const b = lap();
  for (let i = 0; i < task.trainIdx.length; i++) { loadPixels(tl.primal.x, dsTrain.images, task.trainIdx[i], dsTrain.dim); tl.step(task.trainLabels[i]); }
  tl.finish();
  const c = lap();
  tl.queryGrad(dsTrain.images, dsTrain.dim, task.queryIdx, task.queryLabels);
  const d = lap();
  if (k >= 0) { meta.sample.push(a); meta.build.push(b); meta.steps.push(c); meta.query.push(d); }
}

const ms = (xs: number[]) => median(xs);
const online = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, ms(v)]));
const onlineTotal = Object.values(online).reduce((s, x) => s + x, 0);
const metaM = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, ms(v)]));
const metaTotal = Object.values(metaM).reduce((s, x) => s + x, 0);
const steps = 250;
const rows = (o: Record<string, number>, total: number) => Object.entries(o).map(([k, v]) => `| ${k} | ${v.toFixed(3)} | ${((100 * v) / total).toFixed(1)}% |`).join("\n");
const text = [`online task (5-way 50-shot, paper net, bp + Oja), median ms per task over ${N} tasks:\n\n| phase | ms | share |\n|---|---|---|\n${rows(online, onlineTotal)}\n| total | ${onlineTotal.toFixed(3)} | ${(steps / (onlineTotal / 1000)).toFixed(0)} steps/s end to end; ${(steps / (online.steps / 1000)).toFixed(0)} in the steps alone |`,
  `\nmeta-gradient episode (bp, oja learned), median ms over ${M} episodes:\n\n| phase | ms | share |\n|---|---|---|\n${rows(metaM, metaTotal)}\n| total | ${metaTotal.toFixed(3)} | ${(1000 / metaTotal).toFixed(2)} episodes/s |`,
  `\nonce per thread: loading MNIST (both splits) ${once.load_datasets_ms.toFixed(0)} ms`].join("\n");
return { tasks: N, online_ms: online, meta_ms: metaM, once, text };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const flags = scriptFlags("profile", "npm run profile [-- --tasks N] [--backend wasm|native|native-fast|js] [--json FILE]",
    { tasks: "string", json: "string", backend: "string" });
  const N = flags.int("tasks", 200);
  const out = flags.maybe("json") ?? null;
  const backend = flags.str("backend", DEFAULT_CONFIG.backend) as RunConfig["backend"];
  if (!["wasm", "native", "native-fast", "js"].includes(backend)) flags.fail(`--backend takes one of wasm, native, native-fast, js, got '${backend}'`);
  if (backend === "native" || backend === "native-fast") {
    const refused = (await import("../src/core/native.js")).backendRefusal(backend);
    if (refused !== null) flags.fail(refused);
  }
  const p = profile(N, backend);
  console.log(p.text);
  if (out) { const { text: _t, ...rest } = p; writeAtomic(out, JSON.stringify(rest, null, 1) + "\n"); }
}
