/**
 * node --import tsx scripts/bench-meta-cli.ts [--episodes E] [--rounds R] [--backend B] [--outer adam|robust] [--workers W] [--out FILE]
 *
 * The CLI's `meta` against the same episodes run in-process (issue 22, item 4). Each round, in
 * alternating order, three fresh processes on the same core (taskset -c 0 where present):
 *  - cli:     `neuroplastic meta --outer O --bracket 0 --eval-tasks 0 --no-figures --workers W …`,
 *             its own loop time (stdout's `seconds`: metaTrain's episodes, no start-up or files after);
 *  - loop:    this script's child running metaTrain (src/experiments/meta-train.ts) on the same
 *             configuration in-process, without the CLI around it;
 *  - bare:    this script's child running runEpisode over the CLI's own θ trajectory (meta.jsonl),
 *             each episode's loss checked equal to the CLI's, bit for bit: the same episodes (robust: the
 *             two runs per episode, the gradient at θ⁺ and the loss alone at θ⁻, src/meta/outer.ts).
 * Every side is a cold process (JIT, arenas, dataset), so no side has a warm-up the other lacks.
 * The sides rotate their order from round to round. Two measures per side: its loop's wall time, and
 * the CPU time of the whole process (every thread: process.cpuUsage at exit, read by a preloaded
 * module) per episode, (cpu(E) − cpu(2)) / (E − 2), which cancels start-up and is far less disturbed
 * by other jobs on the machine than wall time. Ratios are per round, cli ÷ bare and loop ÷ bare;
 * median (min–max).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { writeAtomic } from "../src/core/files.js";

const argv = process.argv.slice(2);
const opt = (k: string, d: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
const E = Number(opt("--episodes", "30")), rounds = Number(opt("--rounds", "3")), backend = opt("--backend", "native");
const outer = opt("--outer", "adam") as "adam" | "robust", workers = opt("--workers", "1");
const root = new URL("..", import.meta.url).pathname;
const THETA = "bp=0.0068,oja=0.0053";

/** Child modes: in-process episodes; print one JSON line. */
async function child(mode: string): Promise<void> {
  await import("../src/core/native.js");
  const { DEFAULT_CONFIG } = await import("../src/experiments/task.js");
  const { cachedDataset } = await import("../src/experiments/datasets.js");
  const { metaTrain, layoutOf, vecOf } = await import("../src/experiments/meta-train.js");
  const { runEpisode } = await import("../src/experiments/episode.js");
  const { closePools } = await import("../src/experiments/pool.js");
  const { outerOptions } = await import("../src/experiments/meta-train.js");
  const { perturbation, perturbed } = await import("../src/meta/outer.js");
  const run = { ...DEFAULT_CONFIG, split: "train" as const, tasks: 1, theta: { bp: 0.0068, oja: 0.0053 }, backend: backend as typeof DEFAULT_CONFIG.backend };
  const cfg = { run, learn: ["bp", "oja"] as ("bp" | "oja")[], perLayer: false, episodes: E, metaBatch: 1, metaLr: 1e-3, l1: 0, checkpointEvery: 10, outer };
  const ds = cachedDataset(run);
  if (mode === "loop") {
    const r = await metaTrain(cfg, Number(workers), null);
    process.stdout.write(JSON.stringify({ seconds: r.seconds, losses: r.log.map((l) => l.loss) }) + "\n");
  } else {
    // The CLI's θ before each episode: θ₀, then each line's θ after its step.
    const lines = readFileSync(opt("--log", ""), "utf8").trim().split("\n").map((s) => JSON.parse(s));
    const layout = layoutOf(cfg);
    const thetas = [vecOf(layout, run.theta), ...lines.slice(0, -1).map((l: { theta: never }) => vecOf(layout, l.theta))];
    const t0 = performance.now(), losses: number[] = [];
    const oo = outerOptions(cfg);
    for (let e = 0; e < E; e++) {
      if (outer === "adam") { losses.push(runEpisode(run, ds, e, layout, thetas[e], {}).loss); continue; }
      // The CLI's line: the mean loss of the finite ones of the pair (θ⁺ with the gradient, θ⁻ the loss alone).
      const eps = perturbation(run.seed, e, 0, layout.length);
      const p = runEpisode(run, ds, e, layout, perturbed(thetas[e], eps, 1, oo), {}).loss;
      const m = runEpisode(run, ds, e, layout, perturbed(thetas[e], eps, -1, oo), {}, "f32", { gradient: false }).loss;
      const fin = [p, m].filter(Number.isFinite);
      losses.push(fin.length ? fin.reduce((a, b) => a + b, 0) / fin.length : NaN);
    }
    const seconds = (performance.now() - t0) / 1000;
    const same = losses.every((l, e) => l === lines[e].loss || (Number.isNaN(l) && lines[e].loss === null));
    process.stdout.write(JSON.stringify({ seconds, same }) + "\n");
  }
  await closePools();
}

if (argv.includes("--child")) {
  await child(opt("--child", "bare"));
  process.exit(0);
}

const taskset = ["/usr/bin/taskset", "/bin/taskset"].find(existsSync);
const dir = mkdtempSync(join(tmpdir(), "np-meta-cli-"));
// Every thread's CPU time at exit (getrusage of the process), on stderr's last line.
const preload = join(dir, "cpu-at-exit.mjs");
writeFileSync(preload, "process.on('exit', () => process.stderr.write('\\ncpu-usage ' + JSON.stringify(process.cpuUsage()) + '\\n'));\n");
const spawn = (args: string[]) => {
  const t0 = performance.now();
  const cmd = [process.execPath, "--import", "tsx", "--import", preload, ...args];
  const r = taskset ? spawnSync(taskset, ["-c", "0", ...cmd], { cwd: root, encoding: "utf8" }) : spawnSync(cmd[0], cmd.slice(1), { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  const cpu = JSON.parse(r.stderr.match(/cpu-usage (\{.*\})\s*$/)![1]);
  return { out: JSON.parse(r.stdout.trim().split("\n").pop()!), process_s: (performance.now() - t0) / 1000, cpu_s: (cpu.user + cpu.system) / 1e6 };
};
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const E0 = 2;
const per: Record<string, number | boolean>[] = [];
/** One side at `episodes`: its loop's seconds, the process's CPU seconds, and (bare) whether its losses were the CLI's. */
function side(name: string, episodes: number, out: string, log0: string): { loop_s: number; cpu_s: number; process_s: number; same?: boolean } {
  if (name === "cli") {
    const c = spawn(["src/cli/main.ts", "meta", "--learn", "bp,oja", "--init", THETA, "--outer", outer, "--bracket", "0", "--episodes", String(episodes),
      "--workers", workers, "--eval-tasks", "0", "--no-figures", "--backend", backend, "--json", "--out", out, "--force"]);
    return { loop_s: c.out.seconds, cpu_s: c.cpu_s, process_s: c.process_s };
  }
  const extra = name === "bare" ? ["--log", log0] : [];
  const c = spawn(["scripts/bench-meta-cli.ts", "--child", name, "--episodes", String(episodes), "--backend", backend, "--outer", outer, "--workers", workers, ...extra]);
  return { loop_s: c.out.seconds, cpu_s: c.cpu_s, process_s: c.process_s, ...(name === "bare" ? { same: c.out.same } : {}) };
}
try {
  for (let k = 0; k < rounds; k++) {
    const R: Record<string, number | boolean> = { loadavg: loadavg()[0] };
    // The θ trajectory is the same every round (same seed), so the bare side reads round 0's meta.jsonl: the three sides
    // rotate their order from round to round (round 0 starts with the CLI, whose log the bare side needs).
    const out = join(dir, `r${k}`), log0 = join(dir, "r0", "meta.jsonl");
    const sides = ["cli", "loop", "bare"];
    for (const name of [...sides.slice(k % 3), ...sides.slice(0, k % 3)]) {
      const a = side(name, E, out, log0), b = side(name, E0, join(dir, `s${k}`), log0);
      R[`${name}_s`] = a.loop_s; R[`${name}_process_s`] = a.process_s;
      R[`${name}_cpu_per_episode_s`] = (a.cpu_s - b.cpu_s) / (E - E0);
      if (a.same !== undefined) R.same_episodes = a.same && b.same!;
    }
    R.cli_over_bare = (R.cli_s as number) / (R.bare_s as number); R.loop_over_bare = (R.loop_s as number) / (R.bare_s as number);
    R.cli_over_bare_cpu = (R.cli_cpu_per_episode_s as number) / (R.bare_cpu_per_episode_s as number);
    R.loop_over_bare_cpu = (R.loop_cpu_per_episode_s as number) / (R.bare_cpu_per_episode_s as number);
    process.stderr.write(`round ${k + 1}: wall cli ${(R.cli_s as number).toFixed(2)} s, loop ${(R.loop_s as number).toFixed(2)} s, bare ${(R.bare_s as number).toFixed(2)} s; ` +
      `CPU per episode cli ${(1000 * (R.cli_cpu_per_episode_s as number)).toFixed(1)} ms, loop ${(1000 * (R.loop_cpu_per_episode_s as number)).toFixed(1)} ms, ` +
      `bare ${(1000 * (R.bare_cpu_per_episode_s as number)).toFixed(1)} ms (${E} episodes; same episodes: ${R.same_episodes})\n`);
    per.push(R);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const stat = (k: string) => { const xs = per.map((r) => r[k] as number); return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }; };
const res = { date: new Date().toISOString(), cpu: cpus()[0]?.model, node: process.version, backend, outer, workers: Number(workers), episodes: E, rounds, per_round: per,
  cli_over_bare: stat("cli_over_bare"), loop_over_bare: stat("loop_over_bare"), cli_over_bare_cpu: stat("cli_over_bare_cpu"),
  loop_over_bare_cpu: stat("loop_over_bare_cpu"), loadavg_end: loadavg()[0] };
const f = (x: { median: number; min: number; max: number }) => `${x.median.toFixed(3)} (${x.min.toFixed(3)}–${x.max.toFixed(3)})`;
console.log(`meta via the CLI ÷ the same episodes in-process: wall ${f(res.cli_over_bare)}, CPU per episode ${f(res.cli_over_bare_cpu)}`);
console.log(`metaTrain in-process ÷ the same episodes: wall ${f(res.loop_over_bare)}, CPU per episode ${f(res.loop_over_bare_cpu)}`);
if (argv.includes("--out")) writeAtomic(opt("--out", ""), JSON.stringify(res, null, 1) + "\n");
