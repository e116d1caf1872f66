/**
 * npm run bench:ramp [-- --backend native|native-fast|wasm] [--runs 6] [--tasks 200] [--jax 40,200,400,1600]
 *
 * A process's first seconds: online end to end (bp + Oja, the paper's net) in consecutive runs of `--tasks` tasks
 * in one fresh process of ours, and JAX's anchor (../shared/anchors/jax_reference.py, a fresh process each) at each
 * task count of `--jax`. On the Xeon both ran slower at first (ours its first ~400 tasks, JAX its first ~40), which
 * is why scripts/bench-jax.ts measures 200 tasks a round on both sides, ours after 400 tasks of each backend.
 * Run it pinned (`taskset -c 1 npm run bench:ramp`; JAX is pinned to core 0 by scripts/anchor.ts).
 */
import "../src/core/native.js";
import { DEFAULT_CONFIG, type Backend, type RunConfig } from "../src/experiments/task.js";
import { train } from "../src/experiments/train.js";
import { closePools } from "../src/experiments/pool.js";
import { jaxAvailable, runJax } from "./anchor.js";

const argv = process.argv.slice(2);
const opt = (k: string, d: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
const backend = opt("--backend", "native") as Backend, runs = Number(opt("--runs", "6")), tasks = Number(opt("--tasks", "200"));
const jaxTasks = opt("--jax", "40,200,400,1600").split(",").filter(Boolean).map(Number);
if (![runs, tasks, ...jaxTasks].every((n) => Number.isInteger(n) && n > 0)) {
  console.error("bench:ramp: --runs, --tasks and --jax take positive whole numbers");
  process.exit(2);
}

const cfg: RunConfig = { ...DEFAULT_CONFIG, theta: { bp: 0.0068, oja: 0.0053 }, backend };
const ours: number[] = [];
for (let r = 0; r < runs; r++) {
  const res = await train({ ...cfg, tasks }, 1);
  ours.push((tasks * cfg.way * cfg.shots) / res.seconds);
}
await closePools();
console.log(`ours (${backend}), one fresh process, ${runs} consecutive runs of ${tasks} tasks, steps/s: ${ours.map((x) => x.toFixed(0)).join(" ")}`);
if (!jaxAvailable()) console.log("JAX: no venv (NEUROPLASTIC_JAX_VENV or .venv-jax), not measured");
else {
  const j = jaxTasks.map((n) => `${n} tasks ${Number(runJax(["--tasks", String(n), "--seed", "1"]).steps_per_s).toFixed(0)}`);
  console.log(`JAX, a fresh process each, steps/s (compile excluded): ${j.join(", ")}`);
}
