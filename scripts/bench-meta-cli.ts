/**
 * node --import tsx scripts/bench-meta-cli.ts [--episodes E] [--rounds R] [--backend B] [--out FILE]
 *
 * The CLI's `meta` against the same episodes run in-process (issue 22, item 4). Each round, in
 * alternating order, three fresh processes on the same core (taskset -c 0 where present):
 *  - cli:     `neuroplastic meta --outer adam --bracket 0 --eval-tasks 0 --no-figures --workers 1 …`,
 *             its own loop time (stdout's `seconds`: metaTrain's episodes, no start-up or files after);
 *  - loop:    this script's child running metaTrain (src/experiments/meta-train.ts) on the same
 *             configuration in-process, without the CLI around it;
 *  - bare:    this script's child running runEpisode over the CLI's own θ trajectory (meta.jsonl),
 *             each episode's loss checked equal to the CLI's, bit for bit: the same episodes.
 * Every side is a cold process (JIT, arenas, dataset), so no side has a warm-up the other lacks.
 * Ratios are per round, cli ÷ bare and loop ÷ bare seconds per episode; median (min–max).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { writeAtomic } from "../src/core/files.js";

const argv = process.argv.slice(2);
const opt = (k: string, d: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
const E = Number(opt("--episodes", "30")), rounds = Number(opt("--rounds", "3")), backend = opt("--backend", "native");
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
  const run = { ...DEFAULT_CONFIG, split: "train" as const, tasks: 1, theta: { bp: 0.0068, oja: 0.0053 }, backend: backend as typeof DEFAULT_CONFIG.backend };
  const cfg = { run, learn: ["bp", "oja"] as ("bp" | "oja")[], perLayer: false, episodes: E, metaBatch: 1, metaLr: 1e-3, l1: 0, checkpointEvery: 10, outer: "adam" as const };
  const ds = cachedDataset(run);
  if (mode === "loop") {
    const r = await metaTrain(cfg, 1, null);
    process.stdout.write(JSON.stringify({ seconds: r.seconds, losses: r.log.map((l) => l.loss) }) + "\n");
  } else {
    // The CLI's θ before each episode: θ₀, then each line's θ after its step.
    const lines = readFileSync(opt("--log", ""), "utf8").trim().split("\n").map((s) => JSON.parse(s));
    const layout = layoutOf(cfg);
    const thetas = [vecOf(layout, run.theta), ...lines.slice(0, -1).map((l: { theta: never }) => vecOf(layout, l.theta))];
    const t0 = performance.now(), losses: number[] = [];
    for (let e = 0; e < E; e++) losses.push(runEpisode(run, ds, e, layout, thetas[e], {}).loss);
    const seconds = (performance.now() - t0) / 1000;
    const same = losses.every((l, e) => l === lines[e].loss);
    process.stdout.write(JSON.stringify({ seconds, same }) + "\n");
  }
  await closePools();
}

if (argv.includes("--child")) {
  await child(opt("--child", "bare"));
  process.exit(0);
}

const taskset = ["/usr/bin/taskset", "/bin/taskset"].find(existsSync);
const spawn = (args: string[]) => {
  const t0 = performance.now();
  const cmd = [process.execPath, "--import", "tsx", ...args];
  const r = taskset ? spawnSync(taskset, ["-c", "0", ...cmd], { cwd: root, encoding: "utf8" }) : spawnSync(cmd[0], cmd.slice(1), { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return { out: JSON.parse(r.stdout.trim().split("\n").pop()!), process_s: (performance.now() - t0) / 1000 };
};
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const dir = mkdtempSync(join(tmpdir(), "np-meta-cli-"));
const per: Record<string, number | boolean>[] = [];
try {
  for (let k = 0; k < rounds; k++) {
    const R: Record<string, number | boolean> = { loadavg: loadavg()[0] };
    const out = join(dir, `r${k}`);
    const sides = ["cli", "loop"];
    for (const side of k % 2 === 0 ? sides : [...sides].reverse()) {
      if (side === "cli") {
        const c = spawn(["src/cli/main.ts", "meta", "--learn", "bp,oja", "--init", THETA, "--outer", "adam", "--bracket", "0", "--episodes", String(E),
          "--workers", "1", "--eval-tasks", "0", "--no-figures", "--backend", backend, "--json", "--out", out, "--force"]);
        R.cli_s = c.out.seconds; R.cli_process_s = c.process_s;
      } else {
        const l = spawn(["scripts/bench-meta-cli.ts", "--child", "loop", "--episodes", String(E), "--backend", backend]);
        R.loop_s = l.out.seconds; R.loop_process_s = l.process_s;
      }
    }
    const b = spawn(["scripts/bench-meta-cli.ts", "--child", "bare", "--episodes", String(E), "--backend", backend, "--log", join(out, "meta.jsonl")]);
    R.bare_s = b.out.seconds; R.same_episodes = b.out.same;
    R.cli_over_bare = (R.cli_s as number) / (R.bare_s as number); R.loop_over_bare = (R.loop_s as number) / (R.bare_s as number);
    process.stderr.write(`round ${k + 1}: cli ${(R.cli_s as number).toFixed(2)} s, loop ${(R.loop_s as number).toFixed(2)} s, bare ${(R.bare_s as number).toFixed(2)} s ` +
      `(${E} episodes; same episodes: ${R.same_episodes})\n`);
    per.push(R);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const stat = (k: string) => { const xs = per.map((r) => r[k] as number); return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }; };
const res = { date: new Date().toISOString(), cpu: cpus()[0]?.model, node: process.version, backend, episodes: E, rounds, per_round: per,
  cli_over_bare: stat("cli_over_bare"), loop_over_bare: stat("loop_over_bare"), loadavg_end: loadavg()[0] };
const f = (x: { median: number; min: number; max: number }) => `${x.median.toFixed(3)} (${x.min.toFixed(3)}–${x.max.toFixed(3)})`;
console.log(`meta via the CLI ÷ the same episodes in-process: ${f(res.cli_over_bare)}; metaTrain in-process ÷ bare episodes: ${f(res.loop_over_bare)}`);
if (argv.includes("--out")) writeAtomic(opt("--out", ""), JSON.stringify(res, null, 1) + "\n");
