/**
 * npm run bench:ramp [-- --backend native|native-fast|wasm] [--runs 6] [--tasks 200] [--jax 40,200,400,1600] [--out FILE]
 *
 * A process's first seconds: online end to end (bp + Oja, the paper's net) in consecutive runs of `--tasks` tasks
 * in one fresh process of ours, and JAX's anchor (../shared/anchors/jax_reference.py, a fresh process each) at each
 * task count of `--jax`. On the Xeon both ran slower at first (ours its first ~400 tasks, JAX its first ~40), which
 * is why scripts/bench-jax.ts measures 200 tasks a round on both sides, ours after 400 tasks of each backend.
 * Run it pinned (`taskset -c 0 npm run bench:ramp`, as bench:jax runs; JAX is pinned to core 0 by scripts/anchor.ts).
 * Writes runs/bench-ramp.json (or --out).
 */
import { cpus, loadavg } from "node:os";
import { backendRefusal } from "../src/core/native.js";
import { writeAtomic } from "../src/core/files.js";
import { DEFAULT_CONFIG, type Backend, type RunConfig } from "../src/experiments/task.js";
import { train } from "../src/experiments/train.js";
import { closePools } from "../src/experiments/pool.js";
import { gitState, jaxAvailable, runJax } from "./anchor.js";
import { scriptFlags } from "./args.js";

const flags = scriptFlags("bench:ramp", "npm run bench:ramp [-- --backend native|native-fast|wasm|js] [--runs 6] [--tasks 200] [--jax 40,200,400,1600] [--out FILE]",
  { backend: "string", runs: "string", tasks: "string", jax: "string", out: "string" });
const BACKENDS = ["native", "native-fast", "wasm", "js"];
if (!BACKENDS.includes(flags.str("backend", "native"))) flags.fail(`--backend takes one of ${BACKENDS.join(", ")}`);
const backend = flags.str("backend", "native") as Backend, runs = flags.int("runs", 6), tasks = flags.int("tasks", 200);
const jaxTasks = flags.str("jax", "40,200,400,1600").split(",").filter(Boolean).map(Number);
if (!jaxTasks.every((n) => Number.isInteger(n) && n > 0)) flags.fail("--jax takes positive whole numbers, comma-separated");
const refused = backendRefusal(backend);
if (refused !== null) flags.fail(refused);

const cfg: RunConfig = { ...DEFAULT_CONFIG, theta: { bp: 0.0068, oja: 0.0053 }, backend };
const load0 = loadavg();
const ours: number[] = [];
for (let r = 0; r < runs; r++) {
  const res = await train({ ...cfg, tasks }, 1);
  ours.push((tasks * cfg.way * cfg.shots) / res.seconds);
}
await closePools();
console.log(`ours (${backend}), one fresh process, ${runs} consecutive runs of ${tasks} tasks, steps/s: ${ours.map((x) => x.toFixed(0)).join(" ")}`);
const jax: { tasks: number; steps_per_s: number }[] = [];
if (!jaxAvailable()) console.log("JAX: no venv (NEUROPLASTIC_JAX_VENV or .venv-jax), not measured");
else {
  for (const n of jaxTasks) jax.push({ tasks: n, steps_per_s: Number(runJax(["--tasks", String(n), "--seed", "1"]).steps_per_s) });
  console.log(`JAX, a fresh process each, steps/s (compile excluded): ${jax.map((j) => `${j.tasks} tasks ${j.steps_per_s.toFixed(0)}`).join(", ")}`);
}
const out = flags.str("out", new URL("../runs/bench-ramp.json", import.meta.url).pathname);
writeAtomic(out, JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, node: process.version, ...gitState(),
  loadavg_start: load0, loadavg_end: loadavg(), backend, tasks, ours_steps_per_s: ours, jax }, null, 1) + "\n");
console.log(`wrote ${out}`);
