/**
 * npm run bench:jax [-- --rounds N] [--tasks N] [--warmup N] [--shape-tasks N] [--out FILE] [--quick] [--no-shapes] [--doc] | [-- --render FILE]
 *
 * neuroplastic's backends (native, wasm) against the strongest JAX anchor
 * (../shared/anchors/jax_reference.py: v @ W, factored Oja, the dataset on the
 * device, one jit per task, jax.jvp per coefficient or reverse mode for the
 * meta-gradient) and the JAX RNN written for this comparison (scripts/jax_rnn.py:
 * lax.scan over time, the time sums as matrix products), all on one core:
 * run it as `taskset -c 0 npm run bench:jax` (JAX is pinned to core 0 by
 * scripts/anchor.ts, single-threaded XLA). The sides alternate within each
 * round (ours, then JAX), and every ratio is the median of the per-round
 * ratios (min–max beside it), because this machine's speed drifts and other
 * jobs share it: the load average is recorded before and after.
 * Measures: online end to end (sampling, init, 250 steps, scoring; ours is
 * `train` with one worker), meta-training episodes/s (ours: forward mode with
 * two tangents; JAX: the better of fwd2 and rev in each round), the RNN
 * (N = 100, delay 20), the bare step, and widths / depths as ratios (one round).
 * JAX's compile time and its whole-process wall time are recorded beside its
 * step rate. Writes runs/bench-jax.json.
 *
 * Both sides are timed past a process's first seconds, which ran slower here: ours, in a fresh process, 23,776 and
 * 24,899 steps/s over its first two runs of 200 online tasks, then 26,023–27,029 (`taskset -c 0 npm run bench:ramp`,
 * docs/bench-ramp-xeon-2026-12-04.json; an earlier run 24,408, 25,460, then 26,190–27,535); JAX's fresh process
 * 26,016 over 40 tasks against 26,705–26,789 over 200–1,600 in that run, 25,119 / 24,781 over 40 against 26,947 /
 * 27,067 over 400 in direct runs of the anchor before it, and 26,235 over 40 against 26,295–26,940 in an earlier
 * bench:ramp run. So ours runs
 * --warmup tasks (400) of each backend before the rounds, and JAX's rates are over the tasks past its first few
 * (jaxPast: two processes and the difference of their timed loops, since the anchor has no warm-up of its own).
 */
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import "../src/core/native.js";
import { nativeFastIsa, nativeIsa } from "../src/core/wasm.js";
import { writeAtomic } from "../src/core/files.js";
import { DEFAULT_CONFIG, freshStep, type Backend, type RunConfig } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { train } from "../src/experiments/train.js";
import { closePools } from "../src/experiments/pool.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaLayout } from "../src/learn/tangent.js";
import { loadPixels } from "../src/data/pixels.js";
import { gitState, jaxAvailable, jaxRnnAvailable, runJax, runJaxRnn } from "./anchor.js";
// @ts-expect-error: a plain .mjs helper without types
import { probeStep } from "./probe-step.mjs";
import { scriptFlags } from "./args.js";

const flags = scriptFlags(
  "bench:jax",
  "npm run bench:jax [-- --rounds N] [--tasks N] [--warmup N] [--shape-tasks N] [--out FILE] [--quick] [--no-shapes] [--doc] | [-- --render FILE]",
  { rounds: "string", tasks: "string", warmup: "string", "shape-tasks": "string", out: "string", quick: "boolean", "no-shapes": "boolean", doc: "boolean",
    render: "string" },
);
const quick = flags.has("quick");
const rounds = flags.int("rounds", quick ? 1 : 3);
const tasks = flags.int("tasks", quick ? 10 : 200);
// Widths and depths, one round: 160 tasks of the 100-wide nets (past JAX's first ~40, which run slower), fewer as the
// step's cost grows with the width squared (the 2000-wide net's: 3 tasks, 5 s).
const shapeTasks = flags.int("shape-tasks", quick ? 10 : 160);
// Ours, untimed, before the rounds: online tasks of each backend (a process's first seconds run slower; the header).
const warmupTasks = flags.int("warmup", quick ? 3 : 400, 0);
const outFile = flags.str("out", "runs/bench-jax.json");
/**
 * The docs/benchmarks.md section of a result file (between the bench:jax markers, kept by
 * `npm run bench -- --doc`): `npm run bench:jax -- --doc` after a run, or `-- --render FILE` for an earlier one.
 */
const log = (s: string) => process.stderr.write(s + "\n");
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
function renderDoc(res: Record<string, any>, file: string): void {
  const f0 = (x: number) => Math.round(x).toLocaleString("en-US"), f2 = (x: number) => x.toFixed(2);
  const rr = (x: { median: number; min: number; max: number } | null) => (x === null ? "–" : `**${f2(x.median)}** (${f2(x.min)}–${f2(x.max)})`);
  const m = res.medians, ours = res.native_isa ? "native" : "wasm", r0 = res.per_round[0];
  const busy = Math.max(res.loadavg_start[0], res.loadavg_end[0], ...res.per_round.map((x: any) => x.loadavg)) > 1.5;
  const rows = [
    ["online bp + Oja, paper net, end to end (sampling, init, 250 steps, scoring), steps/s", f0(m[`online_${ours}`]), m.online_wasm && ours !== "wasm" ? f0(m.online_wasm) : "",
      `${f0(m.online_jax)} (compile ${f2(r0.online_jax_compile_s)} s, process ${f2(r0.online_jax_process_s)} s)`, rr(res.ratios.online)],
    ["meta-training (θ_bp, θ_oja), episodes/s", f2(m[`meta_${ours}`]), m.meta_wasm && ours !== "wasm" ? f2(m.meta_wasm) : "",
      `fwd2 ${f2(m.meta_jax_fwd2)}, rev ${f2(m.meta_jax_rev)} (compile ${f2(r0.meta_jax_compile_s.fwd2)} / ${f2(r0.meta_jax_compile_s.rev)} s, process ` +
      `${f2(r0.meta_jax_process_s.fwd2)} / ${f2(r0.meta_jax_process_s.rev)} s)`, rr(res.ratios.meta)],
    ["RNN N = 100, delay 20, end to end, sequences/s", f0(m[`rnn_${ours}`]), m.rnn_wasm && ours !== "wasm" ? f0(m.rnn_wasm) : "",
      m.rnn_jax ? `${f0(m.rnn_jax)} (compile ${f2(r0.rnn_jax_compile_s)} s, process ${f2(r0.rnn_jax_process_s)} s)` : "–", rr(res.ratios.rnn)],
    ["bare online step, steps/s (C probe: the native limit)", f0(m[`bare_${ours}`]), m.bare_wasm && ours !== "wasm" ? f0(m.bare_wasm) : "",
      m.bare_c_probe ? `C probe ${f0(m.bare_c_probe)}` : "–", res.ratios.bare_vs_c_probe ? `probe ÷ ours ${rr(res.ratios.bare_vs_c_probe)}` : "–"],
  ];
  const fastShapes = (res.shapes ?? []).some((x: any) => x.fast !== undefined);
  const shapes = (res.shapes ?? []).map((x: any) => `| ${x.hidden.split(",").length} × ${x.hidden.split(",")[0]} | ${f0(x.ours)} | ${f0(x.jax)} (compile ` +
    `${f2(x.jax_compile_s)} s) | ${f2(x.ratio)} |${fastShapes ? ` ${x.fast === undefined ? "–" : `${f0(x.fast)} (${f2(x.fast_ratio)})`} |` : ""}`);
  const block = [
    "<!-- bench:jax -->",
    "## Against the strongest JAX (`npm run bench:jax`)",
    "",
    `Measured by \`taskset -c 0 npm run bench:jax -- --rounds ${res.rounds} --tasks ${res.tasks}\` on ${res.cpu} (${res.cores} cores; the native kernels' ${res.native_isa ?? "none: not built"} path), Node ${res.node}, ` +
      `${res.date.slice(0, 10)}; JAX ${r0.jax_version} (one core, single-threaded XLA, \`taskset -c 0\`). Ours: the ${ours} backend` +
      `${res.native_isa ? ` (${res.native_isa} path; the same bytes as wasm)` : ""}, wasm beside it. The sides alternate within each round; ratios are ours ÷ JAX, ` +
      "the median of the per-round ratios (min–max). JAX's rates exclude its compile time, given beside them with the whole process's wall time." +
      (res.warmup_tasks ? ` Online: ${res.tasks} tasks a round on both sides, ours after ${res.warmup_tasks} tasks of each backend` +
        (r0.jax_past_tasks ? `, JAX's rates over the tasks past its process's first ${r0.jax_past_tasks.online} (online; meta ${r0.jax_past_tasks.meta}, ` +
          `RNN ${r0.jax_past_tasks.rnn}: two processes, the difference of their timed loops)` : "") +
        " (a process's first seconds run slower here: scripts/bench-jax.ts's header has the measurements)." : ""),
    "",
    // The run itself keeps one core busy (load ≈ 1); more than that is other work sharing the machine.
    `${busy ? "**This machine was shared with other jobs during the run**" : "The machine was quiet during the run"} (load average ${f2(res.loadavg_start[0])} at the start, ` +
      `${f2(res.loadavg_end[0])} at the end, ${res.per_round.map((x: any) => f2(x.loadavg)).join(" / ")} at the rounds' starts, on ${res.cores} cores)` +
      (busy ? ": absolute rates are depressed against an idle machine and the ratios are noisy; read them as this run's, not as constants." : "."),
    "",
    `| workload | ours (${ours}) | wasm | strongest JAX | ours ÷ JAX |`,
    "|---|---|---|---|---|",
    ...rows.map((x) => `| ${x.join(" | ")} |`),
    "",
    ...(res.ratios.probe_over_jax_online ? [
      `A reference point for the online target: the C probe's bare step (the same arithmetic compiled with -O3 -ffast-math, without the ` +
        `task's sampling, init and scoring) ÷ JAX end to end is ${rr(res.ratios.probe_over_jax_online)}. It is not a bound (a tuned step can ` +
        "match or pass the probe), but an end-to-end ratio well above it would take a step doing less arithmetic or moving fewer bytes.", ""] : []),
    ...(res.ratios.fast ? [
      `native-fast (${res.native_fast_isa}: FMA, wide sums; not the same bytes as wasm, opt-in), ours ÷ JAX, median (min–max): online ${rr(res.ratios.fast.online)}, ` +
        `meta ${rr(res.ratios.fast.meta)}, RNN ${rr(res.ratios.fast.rnn)}; C probe ÷ its bare step ${rr(res.ratios.fast.bare_vs_c_probe)} ` +
        `(rates: online ${f0(m["online_native-fast"])}, meta ${f2(m["meta_native-fast"])}, RNN ${f0(m["rnn_native-fast"])}, bare ${f0(m["bare_native-fast"])}).`, ""] : []),
    ...(shapes.length ? ["Widths and depths (one round, online end to end, ours ÷ JAX):", "",
      `| hidden | ours, steps/s | JAX, steps/s | ratio |${fastShapes ? " native-fast, steps/s (÷ JAX) |" : ""}`, `|---|---|---|---|${fastShapes ? "---|" : ""}`, ...shapes, ""] : []),
    `Raw numbers: \`${file}\`.`,
    "<!-- /bench:jax -->",
    "",
  ].join("\n");
  const docFile = new URL("../docs/benchmarks.md", import.meta.url).pathname;
  const old = existsSync(docFile) ? readFileSync(docFile, "utf8") : "# Benchmarks\n";
  const re = /<!-- bench:jax -->[\s\S]*?<!-- \/bench:jax -->\n/;
  const doc = re.test(old) ? old.replace(re, block) : old.replace(/^# Benchmarks\n\n?/, `# Benchmarks\n\n${block}\n`);
  writeAtomic(docFile, doc);
  log("wrote docs/benchmarks.md (the bench:jax section)");
}

/** Medians over rounds and the per-round ratios' medians (min–max), from res.per_round (a partial run's too). */
function summarize(res: Record<string, any>): void {
  const rr = res.per_round as Record<string, any>[], ours = res.native_isa ? "native" : "wasm", both = res.native_isa !== null;
  const ratio = (a: string, b: string) => {
    const xs = rr.map((r) => r[a] / r[b]).filter(Number.isFinite);
    return xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) } : null;
  };
  res.ratios = {
    online: ratio(`online_${ours}`, "online_jax"),
    meta: ratio(`meta_${ours}`, "meta_jax_best"),
    rnn: ratio(`rnn_${ours}`, "rnn_jax"),
    bare_vs_c_probe: ratio("bare_c_probe", `bare_${ours}`),
    // A reference point for the online target: the C probe's bare step (no sampling, init or scoring; FMA and any
    // reduction order) against JAX end to end. Not a bound (native-fast's bare step matched the probe on the Xeon),
    // but what a plain native step of this arithmetic reaches before any per-task work.
    probe_over_jax_online: ratio("bare_c_probe", "online_jax"),
    native_over_wasm_online: both ? ratio("online_native", "online_wasm") : null,
    native_over_wasm_bare: both ? ratio("bare_native", "bare_wasm") : null,
    native_over_wasm_meta: both ? ratio("meta_native", "meta_wasm") : null,
    native_over_wasm_rnn: both ? ratio("rnn_native", "rnn_wasm") : null,
  };
  if (rr[0]["online_native-fast"] !== undefined) {
    res.ratios.fast = {
      online: ratio("online_native-fast", "online_jax"), meta: ratio("meta_native-fast", "meta_jax_best"), rnn: ratio("rnn_native-fast", "rnn_jax"),
      bare_vs_c_probe: ratio("bare_c_probe", "bare_native-fast"),
      over_native_online: ratio("online_native-fast", "online_native"), over_native_meta: ratio("meta_native-fast", "meta_native"),
      over_native_rnn: ratio("rnn_native-fast", "rnn_native"), over_native_bare: ratio("bare_native-fast", "bare_native"),
    };
  }
  res.medians = Object.fromEntries(Object.keys(rr[0]).filter((k) => typeof rr[0][k] === "number").map((k) => [k, median(rr.map((r) => r[k]))]));
}

const renderFile = flags.maybe("render");
if (renderFile !== undefined) {
  const file = renderFile;
  let res;
  try { res = JSON.parse(readFileSync(file, "utf8")); } catch (e) { flags.fail(`--render ${file}: ${(e as Error).message.split("\n")[0]}`); }
  if (!Array.isArray(res?.per_round) || res.per_round.length === 0) flags.fail(`--render ${file}: not a bench:jax result file (no per_round)`);
  summarize(res);
  res.loadavg_end ??= res.per_round[res.per_round.length - 1].loadavg;
  renderDoc(res, file);
  process.exit(0);
}


const BPOJA = { bp: 0.0068, oja: 0.0053 };
const base: RunConfig = { ...DEFAULT_CONFIG, tasks: 1, theta: BPOJA };
const RNN: RunConfig = { ...base, net: "rnn", hidden: [100], delay: 20, theta: { bp: 0.003, oja: 0.002 } };
if (!jaxAvailable()) { log("bench:jax: no JAX venv (python3 -m venv .venv-jax && .venv-jax/bin/pip install jax, or NEUROPLASTIC_JAX_VENV)"); process.exit(1); }
// native-fast (FMA, wide sums; not the same bytes) beside them where the CPU has AVX2 + FMA: opt-in for users, measured here.
const backends: Backend[] = nativeIsa() !== null ? ["native", ...(nativeFastIsa() !== null ? ["native-fast" as const] : []), "wasm"] : ["wasm"];
if (nativeIsa() === null) log("bench:jax: the native kernels are not built; measuring wasm only");

/** `train` with one worker (in this thread), end to end: examples per second. */
async function trainRate(cfg: RunConfig, n: number): Promise<number> {
  const r = await train({ ...cfg, tasks: n }, 1);
  return (n * cfg.way * cfg.shots) / r.seconds;
}

/** Median episodes/s of forward-mode meta-gradient episodes (two tangents: θ = (bp, oja)). */
function episodeRate(cfg: RunConfig, reps: number): number {
  const c = { ...cfg, split: "train" as const };
  const S = c.net === "rnn" ? 3 : c.hidden.length + 1;
  const layout = metaLayout(["bp", "oja"], S, false), th = c.net === "rnn" ? [0.003, 0.002] : [0.0068, 0.0053];
  const ds = cachedDataset(c), t: number[] = [];
  for (let r = -1; r < reps; r++) {
    const t0 = performance.now();
    runEpisode(c, ds, r + 1, layout, th, {});
    if (r >= 0) t.push((performance.now() - t0) / 1000);
  }
  return 1 / median(t);
}

/** The bare online step (no sampling, init or scoring): median steps/s of `reps` runs. */
function stepRate(cfg: RunConfig, reps: number, steps: number): number {
  const ds = cachedDataset(cfg), rates: number[] = [];
  for (let r = -1; r < reps; r++) {
    const { step, task } = freshStep(cfg, ds, r + 1);
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

/** A JAX run with its whole-process wall time. */
function jax(args: string[], rnn = false): Record<string, any> {
  const t0 = performance.now();
  const r = rnn ? runJaxRnn(args) : runJax(args);
  return { ...r, process_s: (performance.now() - t0) / 1000 };
}

/**
 * JAX's rate past its process's first `n0` tasks, as ours is timed past a warm-up: the anchor times its loop from
 * the first task with no warm-up of its own (and ../shared's script is not ours to change), so two fresh processes
 * run the same seed's first n0 and first n0 + n tasks, and the rate is n over the difference of their timed loops.
 * `fresh_*` keep the longer process's own rate over all its tasks; n0 = 0 is one process (--quick).
 */
function jaxPast(args: string[], n: number, n0: number, rnn = false): Record<string, any> {
  const b = jax([...args, "--tasks", String(n0 + n)], rnn);
  if (n0 === 0) return { ...b, fresh_steps_per_s: b.steps_per_s, fresh_tasks_per_s: b.tasks_per_s, past_tasks: 0 };
  const a = jax([...args, "--tasks", String(n0)], rnn), dt = b.seconds - a.seconds, perTask = (b.steps_per_s * b.seconds) / (n0 + n);
  // The timed loops are rounded to milliseconds; a difference under a tenth of the longer loop would be noise.
  if (!(dt > 0.1 * b.seconds)) throw new Error(`bench:jax: JAX's ${n0 + n}-task loop (${b.seconds} s) is not clearly longer than its ${n0}-task loop (${a.seconds} s)`);
  return { ...b, steps_per_s: (n * perTask) / dt, tasks_per_s: n / dt, fresh_steps_per_s: b.steps_per_s, fresh_tasks_per_s: b.tasks_per_s,
    past_tasks: n0, process_s: b.process_s, short_process_s: a.process_s };
}

const res: Record<string, any> = {
  date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, native_isa: nativeIsa(), native_fast_isa: nativeFastIsa(),
  rounds, tasks, warmup_tasks: warmupTasks, shape_tasks: shapeTasks, ...gitState(), loadavg_start: loadavg(), per_round: [] as any[],
};
// Warm-up: JIT, wasm tier-up, arenas, the dataset.
// The RNN is warmed up too: its first tasks in a process pay its own JIT and arena sizing, which a round of a few tasks would count.
// Online, 400 tasks of each (a few seconds): a process's first seconds run slower (the header says how much).
for (const b of backends) { await trainRate({ ...base, backend: b }, res.warmup_tasks); episodeRate({ ...base, backend: b }, 0); await trainRate({ ...RNN, backend: b }, 2); }
const jaxRnn = jaxRnnAvailable();
for (let k = 0; k < rounds; k++) {
  log(`round ${k + 1} of ${rounds} (load average ${loadavg()[0].toFixed(1)})…`);
  const R: Record<string, any> = { loadavg: loadavg()[0] };
  // Our backends in alternating order from round to round (the first in a round has no edge).
  const bs = k % 2 === 0 ? backends : [...backends].reverse();
  for (const b of bs) R[`online_${b}`] = await trainRate({ ...base, backend: b }, tasks);
  const jo = jaxPast(["--seed", "1"], tasks, quick ? 0 : 40);
  R.online_jax = jo.steps_per_s; R.online_jax_compile_s = jo.compile_s; R.online_jax_process_s = jo.process_s; R.jax_version = jo.jax;
  R.online_jax_fresh = jo.fresh_steps_per_s; R.jax_past_tasks = { online: jo.past_tasks };
  for (const b of bs) R[`meta_${b}`] = episodeRate({ ...base, backend: b }, quick ? 2 : 5);
  const metaTasks = quick ? "2" : "6";
  const jf = jaxPast(["--mode", "meta", "--grad", "fwd2", "--split", "train"], Number(metaTasks), quick ? 0 : 2);
  const jr = jaxPast(["--mode", "meta", "--grad", "rev", "--split", "train"], Number(metaTasks), quick ? 0 : 2);
  R.meta_jax_fwd2 = jf.tasks_per_s; R.meta_jax_rev = jr.tasks_per_s; R.meta_jax_best = Math.max(jf.tasks_per_s, jr.tasks_per_s);
  R.meta_jax_compile_s = { fwd2: jf.compile_s, rev: jr.compile_s }; R.meta_jax_process_s = { fwd2: jf.process_s, rev: jr.process_s };
  R.meta_jax_fresh = { fwd2: jf.fresh_tasks_per_s, rev: jr.fresh_tasks_per_s }; R.jax_past_tasks.meta = jf.past_tasks;
  // Half the online task count, at most 20 (a tenth of a second per task): a quarter of 40 left one task's noise in every ratio.
  const rnnTasks = Math.max(4, Math.min(20, tasks >> 1));
  for (const b of bs) R[`rnn_${b}`] = await trainRate({ ...RNN, backend: b }, rnnTasks);
  if (jaxRnn) {
    const jn = jaxPast(["--hidden", "100", "--delay", "20"], rnnTasks, quick ? 0 : 4, true);
    R.rnn_jax = jn.steps_per_s; R.rnn_jax_compile_s = jn.compile_s; R.rnn_jax_process_s = jn.process_s;
    R.rnn_jax_fresh = jn.fresh_steps_per_s; R.jax_past_tasks.rnn = jn.past_tasks;
  }
  for (const b of bs) R[`bare_${b}`] = stepRate({ ...base, backend: b }, 3, 2000);
  const probe = probeStep(quick ? 4000 : 10000);
  if (probe !== null) R.bare_c_probe = probe.steps_per_s;
  res.per_round.push(R);
  writeAtomic(outFile, JSON.stringify(res, null, 1) + "\n"); // what is done so far, in case the run is cut short
}
summarize(res);
const ours = backends[0];

if (!flags.has("no-shapes")) {
  // Widths and depths, one round each (ours, then JAX), end to end online: ratios ours ÷ JAX.
  res.shapes = [] as any[];
  const shapes: string[] = [...[100, 500, 1000, 2000].map((w) => `${w},${w},${w},${w}`), ...[2, 4, 8, 16].map((d) => Array(d).fill(100).join(","))];
  for (const h of quick ? shapes.slice(0, 2) : shapes) {
    const hidden = h.split(",").map(Number), n = Math.max(3, Math.round(shapeTasks / Math.max(1, (hidden[0] / 250) ** 2)));
    log(`shape ${h} (${n} tasks)…`);
    // A new shape runs slower at first too (the 100 × 4 net, first after the rounds: 31.5k steps/s, and 37.8k when
    // measured again later in the same run, 2026-12-04): a quarter of its tasks first, untimed, on each backend.
    await trainRate({ ...base, hidden, backend: ours }, Math.max(2, n >> 2));
    const o = await trainRate({ ...base, hidden, backend: ours }, n);
    if (backends.includes("native-fast")) await trainRate({ ...base, hidden, backend: "native-fast" }, Math.max(2, n >> 2));
    const of = backends.includes("native-fast") ? await trainRate({ ...base, hidden, backend: "native-fast" }, n) : null;
    const j = jaxPast(["--seed", "1", "--hidden", h], n, quick ? 0 : Math.max(1, n >> 2));
    res.shapes.push({ hidden: h, tasks: n, ours: o, jax: j.steps_per_s, ratio: o / j.steps_per_s, jax_compile_s: j.compile_s, jax_process_s: j.process_s,
      jax_fresh: j.fresh_steps_per_s, jax_past_tasks: j.past_tasks, warmup_tasks: Math.max(2, n >> 2),
      ...(of !== null ? { fast: of, fast_ratio: of / j.steps_per_s } : {}) });
    writeAtomic(outFile, JSON.stringify(res, null, 1) + "\n");
  }
}
res.loadavg_end = loadavg();
await closePools();
writeAtomic(outFile, JSON.stringify(res, null, 1) + "\n");
const f = (x: { median: number; min: number; max: number } | null) => (x === null ? "–" : `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`);
console.log(`ours = ${ours}${nativeIsa() ? ` (${nativeIsa()})` : ""}; ${rounds} rounds, load average ${res.loadavg_start[0].toFixed(1)} → ${res.loadavg_end[0].toFixed(1)}`);
console.log(`online end to end ÷ JAX: ${f(res.ratios.online)}; meta ÷ JAX best of fwd2/rev: ${f(res.ratios.meta)}; RNN ÷ JAX: ${f(res.ratios.rnn)}`);
console.log(`C probe (the bare step's native limit) ÷ our bare step: ${f(res.ratios.bare_vs_c_probe)}`);
console.log(`C probe's bare step ÷ JAX online end to end (a reference point for the online target, not a bound): ${f(res.ratios.probe_over_jax_online)}`);
if (backends.length > 1) console.log(`native ÷ wasm: online ${f(res.ratios.native_over_wasm_online)}, bare step ${f(res.ratios.native_over_wasm_bare)}, meta ${f(res.ratios.native_over_wasm_meta)}`);
const F = res.ratios.fast;
if (F) {
  console.log(`native-fast (${res.native_fast_isa}) ÷ JAX: online ${f(F.online)}; meta ${f(F.meta)}; RNN ${f(F.rnn)}; C probe ÷ its bare step ${f(F.bare_vs_c_probe)}`);
  console.log(`native-fast ÷ native: online ${f(F.over_native_online)}, meta ${f(F.over_native_meta)}, RNN ${f(F.over_native_rnn)}, bare ${f(F.over_native_bare)}`);
}
for (const s of res.shapes ?? []) {
  console.log(`hidden ${s.hidden}: ours ${s.ours.toFixed(0)} steps/s, JAX ${s.jax.toFixed(0)} (${s.ratio.toFixed(2)}×)` +
    (s.fast !== undefined ? `; native-fast ${s.fast.toFixed(0)} (${s.fast_ratio.toFixed(2)}×)` : ""));
}
console.log(`wrote ${outFile}`);
if (flags.has("doc")) renderDoc(res, outFile);
