/**
 * npm run bench [-- --out FILE] [--doc] [--quick]
 *
 * Speed of the online step, meta-gradient episodes and worker threads on the
 * paper network (784-170-130-100-70-10, softplus β = 10, batch 1), and, in
 * the same run, the PyTorch anchor when Debian's python3-torch is installed.
 * Medians over repeats; this machine is noisy, so ratios are only quoted
 * within one run. Writes a JSON result file (default runs/bench.json) and,
 * with --doc, docs/benchmarks.md.
 */
import { cpus } from "node:os";
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { writeAtomic } from "../src/core/files.js";
import { nativeIsa, wasmAvailable } from "../src/core/wasm.js";
import "../src/core/native.js";
import { DEFAULT_CONFIG, freshStep, type Backend, type RunConfig } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { train } from "../src/experiments/train.js";
import { closePools } from "../src/experiments/pool.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaLayout } from "../src/learn/tangent.js";
import { loadPixels } from "../src/data/pixels.js";
import type { ThetaSpec } from "../src/rules/rule.js";
import { anchorAvailable, jaxAvailable, runAnchor, runRnnAnchor } from "./anchor.js";
import { profile } from "./profile.js";
import { browserStepRate, CHROMIUM } from "./browser-rate.js";
import { benchExpressionOja } from "./bench-expr.js";
import { scriptFlags } from "./args.js";

const flags = scriptFlags("bench", "npm run bench [-- --out FILE] [--doc] [--quick]", { out: "string", doc: "boolean", quick: "boolean" });
const quick = flags.has("quick");
const outFile = flags.str("out", "runs/bench.json");
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const BP: ThetaSpec = { bp: 0.0068 }, BPOJA: ThetaSpec = { bp: 0.0068, oja: 0.0053 };
const base: RunConfig = { ...DEFAULT_CONFIG, tasks: 1 };
const ds = cachedDataset(base);

/** Steps/s of the bare online step (no sampling, init or evaluation): median of `reps` runs of `steps` steps. */
function stepRate(theta: ThetaSpec, backend: Backend, reps: number, steps: number, over: RunConfig = base): number {
  const cfg = { ...over, theta, backend };
  const rates: number[] = [];
  for (let r = -1; r < reps; r++) { // r = −1 warms up the JIT and the wasm tier-up
    const { step, task } = freshStep(cfg, cachedDataset(cfg), r + 1);
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      const k = i % task.trainIdx.length;
      loadPixels(step.x, ds.images, task.trainIdx[k], ds.dim);
      step.step(task.trainLabels[k]);
    }
    if (r >= 0) rates.push(steps / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

/** Meta-training episodes/s (5-way 50-shot: 250 steps with one tangent per coefficient, plus the query gradient). */
function episodeRate(backend: Backend, reps: number, over: RunConfig = base): number {
  const cfg = { ...over, split: "train" as const, backend };
  const layout = metaLayout(["bp", "oja"], over.net === "rnn" ? 3 : 5, false);
  const times: number[] = [];
  for (let r = -1; r < reps; r++) {
    const t0 = performance.now();
    runEpisode(cfg, cachedDataset(cfg), r + 1, layout, over.net === "rnn" ? [0.003, 0.002] : [0.0068, 0.0053], {});
    if (r >= 0) times.push((performance.now() - t0) / 1000);
  }
  return 1 / median(times);
}

const log = (s: string) => process.stderr.write(s + "\n");
if (!wasmAvailable()) log("bench: WebAssembly SIMD is not available here; only the js backend is measured");
const R = quick ? 3 : 7;
const res: Record<string, any> = { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, quick };

log("online steps (single thread)…");
res.online = {
  wasm_bp: stepRate(BP, "wasm", R, 2000),
  wasm_bp_oja: stepRate(BPOJA, "wasm", R, 2000),
  ...(nativeIsa() !== null ? { native_bp: stepRate(BP, "native", R, 2000), native_bp_oja: stepRate(BPOJA, "native", R, 2000) } : {}),
  js_bp: stepRate(BP, "js", Math.max(3, R - 4), 500),
  js_bp_oja: stepRate(BPOJA, "js", Math.max(3, R - 4), 500),
};
if (CHROMIUM) {
  // The same bare-step loop in a Web Worker of headless Chromium, alternating with Node's (this machine drifts).
  log("online steps in headless Chromium (a Web Worker)…");
  const rounds = quick ? 1 : 3, node: number[] = [], browser: number[] = [], ratio: number[] = [];
  let userAgent = "";
  for (let k = 0; k < rounds; k++) {
    const nr = stepRate(BPOJA, "wasm", R, 2000);
    const br = await browserStepRate(BPOJA as Record<string, number>, R, 2000);
    node.push(nr); browser.push(br.rate); ratio.push(br.rate / nr); userAgent = br.userAgent;
  }
  res.browser = { rounds, node_bp_oja: median(node), chromium_bp_oja: median(browser), ratio: median(ratio), userAgent, per_round: { node, browser, ratio } };
} else log("bench: no chromium; skipping the browser row (apt-get install -y chromium)");
log("recurrent network, N = 100, delay 20, bp + Oja (single thread)…");
const RNN: RunConfig = { ...base, net: "rnn", hidden: [100], delay: 20, theta: { bp: 0.003, oja: 0.002 } };
res.rnn = {
  wasm_seq_per_s: stepRate(RNN.theta, "wasm", R, 750, RNN),
  js_seq_per_s: stepRate(RNN.theta, "js", 3, 100, RNN),
  wasm_episodes_per_s: episodeRate("wasm", R, RNN),
  ...(nativeIsa() !== null ? { native_seq_per_s: stepRate(RNN.theta, "native", R, 750, RNN), native_episodes_per_s: episodeRate("native", R, RNN) } : {}),
  train_seq_per_s_1: 0,
};
{
  const n = quick ? 20 : 60;
  await train({ ...RNN, tasks: 2 }, 1);
  const times: number[] = [];
  for (let r = 0; r < (quick ? 1 : 3); r++) times.push((await train({ ...RNN, tasks: n }, 1)).seconds);
  res.rnn.train_seq_per_s_1 = (n * 250) / median(times);
}
log("meta-gradient episodes (single thread)…");
res.meta = {
  wasm_bp_oja_episodes_per_s: episodeRate("wasm", R), js_bp_oja_episodes_per_s: episodeRate("js", 2),
  ...(nativeIsa() !== null ? { native_bp_oja_episodes_per_s: episodeRate("native", R) } : {}),
};
log("Oja's rule as a formula against the built-in, alternating rounds (single thread)…");
res.expr = benchExpressionOja(quick ? 3 : 7);
log("end-to-end train and worker threads…");
const tasks = quick ? 60 : 200;
const e2e: Record<string, number[]> = { w1: [], w2: [] };
await train({ ...base, theta: BPOJA, tasks: 4 }, 2); // start the pool's threads (and their dataset) before timing
for (let r = 0; r < (quick ? 1 : 3); r++) {
  for (const w of [1, 2]) e2e[`w${w}`].push((await train({ ...base, theta: BPOJA, tasks }, w)).seconds);
}
res.workers = {
  tasks, seconds_1: median(e2e.w1), seconds_2: median(e2e.w2), speedup_2: median(e2e.w1) / median(e2e.w2),
  train_steps_per_s_1: (tasks * 250) / median(e2e.w1),
};

if (anchorAvailable()) {
  log("PyTorch anchor (1 thread)…");
  const n = quick ? "5" : "20";
  const common = ["--tasks", n, "--threads", "1", "--seed", "1", "--theta0", "0.0068"];
  const bp = runAnchor([...common]);
  const bpoja = runAnchor([...common, "--oja", "0.0053"]);
  const meta = runAnchor(["--mode", "meta", "--tasks", quick ? "2" : "5", "--threads", "1", "--theta0", "0.0068", "--oja", "0.0053", "--split", "train"]);
  log("PyTorch RNN (scripts/torch_rnn.py, 1 thread)…");
  const rnnOnline = runRnnAnchor(["--tasks", quick ? "2" : "6", "--threads", "1", "--delay", "20", "--bp", "0.003", "--oja", "0.002"]);
  // Our episodes all run at θ = (0.003, 0.002) (episodeRate): so must the anchor's, or near it. At its default --meta-lr 1e-3,
  // Adam moves θ by about 1e-3 an episode (θ_oja reached 7e-6 after two, and the third task diverged to a NaN gradient);
  // at 1e-6 θ stays within 0.1% of its start over the episodes timed, and the work per episode is the same.
  const rnnMeta = runRnnAnchor(["--mode", "meta", "--tasks", quick ? "1" : "3", "--threads", "1", "--delay", "20", "--bp", "0.003", "--oja", "0.002",
    "--split", "train", "--meta-lr", "1e-6"]);
  res.torch = {
    bp_steps_per_s: bp.steps_per_s, bp_oja_steps_per_s: bpoja.steps_per_s, meta_episodes_per_s: meta.tasks_per_s, version: "python3-torch (Debian)",
    rnn_seq_per_s: rnnOnline.steps_per_s, rnn_meta_episodes_per_s: rnnMeta.tasks_per_s,
  };
  res.ratios = {
    online_bp_vs_torch: res.online.wasm_bp / bp.steps_per_s,
    online_bp_oja_vs_torch: res.online.wasm_bp_oja / bpoja.steps_per_s,
    meta_vs_torch: res.meta.wasm_bp_oja_episodes_per_s / meta.tasks_per_s,
    // Like for like: the anchor's steps/s is end to end (sampling, init, evaluation), as is this one.
    train_end_to_end_vs_torch: res.workers.train_steps_per_s_1 / bpoja.steps_per_s,
    rnn_online_vs_torch: res.rnn.train_seq_per_s_1 / res.torch.rnn_seq_per_s,
    rnn_meta_vs_torch: res.rnn.wasm_episodes_per_s / res.torch.rnn_meta_episodes_per_s,
  };
} else log("bench: python3-torch not found; skipping the PyTorch anchor (apt-get install -y python3-torch)");
// The strongest JAX (../shared/anchors/jax_reference.py in its fast form, v @ W, the better of fwd2 and rev for
// meta-gradients, and scripts/jax_rnn.py with lax.scan) in the same invocation: scripts/bench-jax.ts as a child
// process pinned to core 0 with JAX, so both sides share one core; its rounds alternate ours and JAX's, and its
// ratios are medians of per-round ratios. --doc passes on, so its section of docs/benchmarks.md is this run's.
const best: Backend = nativeIsa() !== null ? "native" : "wasm";
const jaxFile = outFile.replace(/(\.json)?$/, "-jax.json");
if (jaxAvailable()) {
  log("the strongest JAX, one core, alternating rounds (scripts/bench-jax.ts)…");
  const taskset = ["/usr/bin/taskset", "/bin/taskset"].find(existsSync);
  const args = ["--import", "tsx", new URL("./bench-jax.ts", import.meta.url).pathname, "--out", jaxFile,
    ...(quick ? ["--quick"] : []), ...(flags.has("doc") ? ["--doc"] : [])];
  const r = taskset ? spawnSync(taskset, ["-c", "0", process.execPath, ...args], { stdio: ["ignore", "inherit", "inherit"] })
    : spawnSync(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`bench: scripts/bench-jax.ts failed (exit ${r.status}); its output is above`);
  const j = JSON.parse(readFileSync(jaxFile, "utf8"));
  res.jax = { file: jaxFile, rounds: j.rounds, tasks: j.tasks, native_isa: j.native_isa, jax_version: j.per_round[0]?.jax_version, ratios: j.ratios, medians: j.medians,
    loadavg_start: j.loadavg_start, loadavg_end: j.loadavg_end };
} else log("bench: no JAX venv; skipping the JAX anchor (python3 -m venv .venv-jax && .venv-jax/bin/pip install jax)");
log("profile: where an end-to-end task's time goes…");
const prof = profile(quick ? 40 : 200);
res.profile = { online_ms: prof.online_ms, meta_ms: prof.meta_ms, once: prof.once };
res.peak_rss_mb = process.resourceUsage().maxRSS / 1024;

const f0 = (x: number) => Math.round(x).toLocaleString("en-US");
const f2 = (x: number) => x.toFixed(2);
const rows: [string, string, string][] = [
  ["online bp, steps/s (wasm SIMD)", f0(res.online.wasm_bp), res.torch ? `${f0(res.torch.bp_steps_per_s)} (${f2(res.ratios.online_bp_vs_torch)}×)` : "–"],
  ["online bp+oja, steps/s (wasm SIMD)", f0(res.online.wasm_bp_oja), res.torch ? `${f0(res.torch.bp_oja_steps_per_s)} (${f2(res.ratios.online_bp_oja_vs_torch)}×)` : "–"],
  ...(res.browser ? [["online bp+oja, steps/s, headless Chromium (wasm SIMD, a Web Worker)", `${f0(res.browser.chromium_bp_oja)} (${f2(res.browser.ratio)}× Node's ${f0(res.browser.node_bp_oja)} in the same rounds)`, ""] as [string, string, string]] : []),
  ...(res.online.native_bp !== undefined ? [
    [`online bp, steps/s (native C, ${nativeIsa()}; the same bytes as wasm)`, f0(res.online.native_bp), ""],
    [`online bp+oja, steps/s (native C, ${nativeIsa()})`, f0(res.online.native_bp_oja), ""],
    [`meta-training bp+oja, episodes/s (native C)`, f2(res.meta.native_bp_oja_episodes_per_s), ""],
    [`RNN: sequences/s, bare step (native C)`, f0(res.rnn.native_seq_per_s), ""],
    [`RNN: meta-training episodes/s (native C)`, f2(res.rnn.native_episodes_per_s), ""],
  ] as [string, string, string][] : []),
  ["online bp, steps/s (plain JS reference)", f0(res.online.js_bp), ""],
  ["online bp+oja, steps/s (plain JS reference)", f0(res.online.js_bp_oja), ""],
  ["meta-training bp+oja, episodes/s (wasm SIMD)", f2(res.meta.wasm_bp_oja_episodes_per_s), res.torch ? `${f2(res.torch.meta_episodes_per_s)} (${f2(res.ratios.meta_vs_torch)}×)` : "–"],
  ["meta-training bp+oja, episodes/s (plain JS)", f2(res.meta.js_bp_oja_episodes_per_s), ""],
  [`train ${tasks} tasks bp+oja end to end (sampling, init, evaluation), 1 worker, steps/s`, f0(res.workers.train_steps_per_s_1), res.torch ? `${f0(res.torch.bp_oja_steps_per_s)} (${f2(res.ratios.train_end_to_end_vs_torch)}×)` : "–"],
  [`train ${tasks} tasks, 2 workers vs 1, speedup`, `${f2(res.workers.speedup_2)}×`, ""],
  ["RNN N = 100, delay 20, bp+oja: sequences/s, bare step (wasm SIMD)", f0(res.rnn.wasm_seq_per_s), ""],
  ["RNN: sequences/s, bare step (plain JS)", f0(res.rnn.js_seq_per_s), ""],
  ["RNN: train 60 tasks end to end, 1 worker, sequences/s", f0(res.rnn.train_seq_per_s_1), res.torch ? `${f0(res.torch.rnn_seq_per_s)} (${f2(res.ratios.rnn_online_vs_torch)}×)` : "–"],
  ["RNN: meta-training episodes/s (forward mode vs autograd)", f2(res.rnn.wasm_episodes_per_s), res.torch ? `${f2(res.torch.rnn_meta_episodes_per_s)} (${f2(res.ratios.rnn_meta_vs_torch)}×)` : "–"],
  [`online bp+oja with Oja as a formula (post * (pre - u)), time per step / built-in oja's (median of ${res.expr.rounds} alternating rounds)`,
    `${f2(res.expr.step_time_ratio)}× (${f0(res.expr.formula_steps_per_s)} vs ${f0(res.expr.builtin_steps_per_s)} steps/s)`, ""],
  ["meta-training bp+oja with Oja as a formula, time per episode / built-in's (same rounds)",
    `${f2(res.expr.episode_time_ratio)}× (${f2(res.expr.formula_episodes_per_s)} vs ${f2(res.expr.builtin_episodes_per_s)} episodes/s)`, ""],
  ["peak RSS (MB)", f0(res.peak_rss_mb), ""],
];
const table = ["| measure | neuroplastic | PyTorch anchor (ratio) |", "|---|---|---|", ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
type Ratio = { median: number; min: number; max: number } | null;
const rr = (x: Ratio) => (x ? `${f2(x.median)}× (${f2(x.min)}–${f2(x.max)})` : "–");
const jr = res.jax?.ratios as Record<string, Ratio> | undefined, jm = res.jax?.medians as Record<string, number> | undefined;
const jaxRows: [string, string, string, string][] = jr && jm ? [
  [`online bp+oja, paper net, end to end (ours: ${best}, train, 1 worker), steps/s`, f0(jm[`online_${best}`]), `${f0(jm.online_jax)} (v @ W, jit + lax.scan)`, rr(jr.online)],
  [`meta-training (θ_bp, θ_oja), episodes/s (ours: ${best}, forward mode)`, f2(jm[`meta_${best}`]), `fwd2 ${f2(jm.meta_jax_fwd2)}, rev ${f2(jm.meta_jax_rev)} (the better per round)`, rr(jr.meta)],
  [`RNN N = 100, delay 20, end to end, sequences/s (ours: ${best})`, f0(jm[`rnn_${best}`]), jm.rnn_jax ? `${f0(jm.rnn_jax)} (lax.scan, time sums as matrix products)` : "–", rr(jr.rnn)],
  [`bare online step, steps/s (ours: ${best}) against a plain C probe of it`, f0(jm[`bare_${best}`]), jm.bare_c_probe ? `C probe ${f0(jm.bare_c_probe)}` : "–", jr.bare_vs_c_probe ? `probe ÷ ours ${rr(jr.bare_vs_c_probe)}` : "–"],
] : [];
const jaxTable = jaxRows.length ? ["| measure | neuroplastic | strongest JAX, one core | ours ÷ JAX, median of rounds (min–max) |", "|---|---|---|---|", ...jaxRows.map((r) => `| ${r.join(" | ")} |`)].join("\n") : "";
if (jaxTable) console.log(jaxTable);
console.log(table);
// The targets of the speed issue, checked against this run's numbers.
const met = (ok: boolean | undefined) => (ok === undefined ? "no anchor" : ok ? "met" : "**not met**");
res.targets = {
  online_bp_oja_8000: res.online.wasm_bp_oja >= 8000,
  online_7x_torch_end_to_end: res.ratios ? res.ratios.train_end_to_end_vs_torch >= 7 : undefined,
  meta_7_episodes_per_s: res.meta.wasm_bp_oja_episodes_per_s >= 7,
  workers_2_speedup_1_8: res.workers.speedup_2 >= 1.8,
  rnn_online_5x_torch: res.ratios ? res.ratios.rnn_online_vs_torch >= 5 : undefined,
  rnn_meta_10x_torch: res.ratios ? res.ratios.rnn_meta_vs_torch >= 10 : undefined,
  // Issue 22's targets against the strongest JAX: medians of per-round ratios.
  online_1_5x_jax: jr?.online ? jr.online.median >= 1.5 : undefined,
  meta_1_5x_jax: jr?.meta ? jr.meta.median >= 1.5 : undefined,
  rnn_1_5x_jax: jr?.rnn ? jr.rnn.median >= 1.5 : undefined,
  bare_step_within_1_5x_c_probe: jr?.bare_vs_c_probe ? jr.bare_vs_c_probe.median <= 1.5 : undefined,
  browser_80pct_of_node: res.browser ? res.browser.ratio >= 0.8 : undefined,
  expression_oja_1_5x: res.expr.step_time_ratio <= 1.5,
};
const targets = [
  "| target (single thread unless stated) | this run | |",
  "|---|---|---|",
  `| online bp+oja ≥ 8,000 steps/s | ${f0(res.online.wasm_bp_oja)} | ${met(res.targets.online_bp_oja_8000)} |`,
  `| online bp+oja ≥ 7× PyTorch (end to end, like for like) | ${res.ratios ? f2(res.ratios.train_end_to_end_vs_torch) + "×" : "–"} | ${met(res.targets.online_7x_torch_end_to_end)} |`,
  `| meta-training bp+oja ≥ 7 episodes/s | ${f2(res.meta.wasm_bp_oja_episodes_per_s)} | ${met(res.targets.meta_7_episodes_per_s)} |`,
  `| 2 workers ≥ 1.8× one | ${f2(res.workers.speedup_2)}× | ${met(res.targets.workers_2_speedup_1_8)} |`,
  `| RNN online ≥ 5× PyTorch (end to end) | ${res.ratios ? f2(res.ratios.rnn_online_vs_torch) + "×" : "–"} | ${met(res.targets.rnn_online_5x_torch)} |`,
  `| RNN meta-training ≥ 10× PyTorch autograd | ${res.ratios ? f2(res.ratios.rnn_meta_vs_torch) + "×" : "–"} | ${met(res.targets.rnn_meta_10x_torch)} |`,
  `| online bp+oja end to end ≥ 1.5× the strongest JAX (one core) | ${rr(jr?.online ?? null)} | ${met(res.targets.online_1_5x_jax)} |`,
  `| meta-training ≥ 1.5× JAX's better of fwd2 and rev | ${rr(jr?.meta ?? null)} | ${met(res.targets.meta_1_5x_jax)} |`,
  `| RNN N = 100, delay 20 ≥ 1.5× JAX's lax.scan RNN | ${rr(jr?.rnn ?? null)} | ${met(res.targets.rnn_1_5x_jax)} |`,
  `| bare step within 1.5× of the plain C probe (probe ÷ ours ≤ 1.5) | ${rr(jr?.bare_vs_c_probe ?? null)} | ${met(res.targets.bare_step_within_1_5x_c_probe)} |`,
  `| Oja as a formula ≤ 1.5× the built-in oja's time per step (issue 27) | ${f2(res.expr.step_time_ratio)}× | ${met(res.targets.expression_oja_1_5x)} |`,
  `| browser (headless Chromium) ≥ 80% of Node's online step rate | ${res.browser ? Math.round(100 * res.browser.ratio) + "%" : "–"} | ${res.browser ? met(res.targets.browser_80pct_of_node) : "no browser"} |`,
].join("\n");
console.log(targets);
writeAtomic(outFile, JSON.stringify(res, null, 1) + "\n");
log(`wrote ${outFile}`);
await closePools();
if (flags.has("doc")) {
  // The section written by `npm run bench:jax -- --doc` (between its markers) is kept as it is.
  const docFile = new URL("../docs/benchmarks.md", import.meta.url).pathname;
  const jaxBlock = existsSync(docFile) ? (readFileSync(docFile, "utf8").match(/<!-- bench:jax -->[\s\S]*?<!-- \/bench:jax -->\n/)?.[0] ?? "") : "";
  // So is the app's, written by `npm run bench:web -- --doc`.
  const webBlock = existsSync(docFile) ? (readFileSync(docFile, "utf8").match(/<!-- bench:web -->[\s\S]*?<!-- \/bench:web -->\n/)?.[0] ?? "") : "";
  writeAtomic(docFile, [
    "# Benchmarks",
    "",
    ...(jaxBlock ? [jaxBlock] : []),
    `Measured by \`npm run bench -- --doc\` on ${res.cpu} (${res.cores} cores), Node ${res.node}, ${res.date.slice(0, 10)}; all figures from that one run.`,
    "Paper network 784-170-130-100-70-10, softplus β = 10, batch 1, MNIST. Online rates are medians over repeats of the bare step (no task sampling, init or evaluation);",
    "meta episodes are 5-way 50-shot (250 steps, one forward-mode tangent per learned coefficient, then the query gradient). The PyTorch anchor",
    "(`../shared/anchors/torch_reference.py`, Debian's python3-torch, 1 thread) ran in the same invocation; its meta episodes use autograd through the unrolled loop.",
    "The anchor reports end-to-end rates (task sampling, initialization and evaluation included), so the like-for-like online comparison is the end-to-end row; the bare-step rows compare our step alone with the anchor's end-to-end rate.",
    "",
    table,
    "",
    ...(jaxTable ? [
      `The strongest JAX, in the same invocation (\`scripts/bench-jax.ts\`, its section above has the details and the widths and depths): ${res.jax.rounds} rounds, ` +
        `both sides on core 0, ours then JAX's in each round; ratios are medians of the per-round ratios, JAX's compile time excluded (raw: \`${res.jax.file}\`).`,
      "",
      jaxTable,
      "",
    ] : []),
    "Against the targets of the speed issue, in the same run:",
    "",
    targets,
    "",
    "Where the speed comes from: WebAssembly SIMD kernels (`asm/kernels.ts`, f32x4, compiled at install) against the plain",
    "TypeScript reference (`src/core/kernels.ts`), which tests hold them to. The first layer is kept transposed while a task trains",
    "(`src/nets/mlp/input-layer.ts`): the forward pass reads only the rows of nonzero pixels, and Oja's decay, which needs",
    "uⱼ = (W₁ᵀy₁)ⱼ before row j changes, is row-local, so the layer's update — and its meta-gradient tangents — is one sweep.",
    "Deeper layers do their backward pass and update in one sweep of W; the tangent passes read W and dW together",
    "(`matVec2`, `matTVec2x2`); activations and elementwise work run in wasm too. The kernels are bound by instruction",
    "throughput on this machine (no FMA in Node 20's wasm), so what pays is fewer passes and fewer loads per multiply-add;",
    "layer 1's sweep loads each weight twice (its row's dot product uⱼ, then the update that needs it) and stores it once.",
    "Around the steps, nothing changes a float either: the xavier initializer draws the same stream in wasm, scoring a",
    "query set skips the blank four-pixel groups of an image when W₁ is finite (the products it skips are ±0), its softplus",
    "runs in wasm float64 and keeps a unit's f32 only when ŷ·(1 ± 2⁻³³) rounds to one f32 (units within 2⁻³³ of an f32",
    "rounding boundary take the plain formula), pixels are scaled and the nonzero ones listed in wasm, and Σ‖W‖ is summed in the same order in wasm",
    "(test/exact.test.ts holds all of it to the bytes of the code before).",
    "",
    "Where the time goes (`npm run profile`, in this run: the phases of runTask and runEpisode timed in one thread, medians per task):",
    "",
    prof.text,
    "",
    `Raw numbers: \`${outFile}\` (regenerated by each run).`,
    "",
    ...(webBlock ? [webBlock] : []),
  ].join("\n"));
  log("wrote docs/benchmarks.md");
}
