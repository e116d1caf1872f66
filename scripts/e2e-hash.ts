/**
 * node --import tsx scripts/e2e-hash.ts [repeats] [backend]
 *
 * The end-to-end online rate (runTask over 200 tasks of the paper network,
 * bp + Oja, one thread: sampling, initialization, steps, scoring, Σ‖W‖) and
 * a SHA-256 of every task's accuracy, loss, Σ‖W‖ and divergence flag. Run it
 * in two checkouts, alternating (this machine drifts), to compare speed and
 * show that a change left the results bit for bit as they were; with
 * backend native (or js), the same on those kernels (native must print the
 * wasm hash: its kernels give the same bytes).
 */
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { backendRefusal } from "../src/core/native.js";
import { loadDataset } from "../src/data/dataset.js";
import { DEFAULT_CONFIG, runTask, type RunConfig } from "../src/experiments/task.js";

const backend = (process.argv[3] ?? "wasm") as RunConfig["backend"];
const fail = (msg: string): never => { process.stderr.write(`e2e-hash: ${msg} (usage: e2e-hash.ts [repeats] [wasm|native|native-fast|js])\n`); process.exit(2); };
if (process.argv.slice(2).some((a) => a === "--help" || a === "-h")) { console.log("usage: node --import tsx scripts/e2e-hash.ts [repeats] [wasm|native|native-fast|js]"); process.exit(0); }
if (!["wasm", "native", "native-fast", "js"].includes(backend)) fail(`unknown backend '${backend}'`);
const refused = backendRefusal(backend);
if (refused !== null) fail(refused);
if (process.argv[2] !== undefined && !(Number.isInteger(Number(process.argv[2])) && Number(process.argv[2]) >= 1)) fail(`repeats must be a whole number ≥ 1, got '${process.argv[2]}'`);
const cfg: RunConfig = { ...DEFAULT_CONFIG, theta: { bp: 0.0068, oja: 0.0053 }, backend };
const ds = loadDataset("mnist", "test");
for (let t = 0; t < 10; t++) runTask(cfg, ds, t); // warm-up: JIT, wasm tier-up, arena sizing
const repeats = Math.max(1, Number(process.argv[2] ?? 3));
const rates: number[] = [];
let hash = "";
for (let r = 0; r < repeats; r++) {
  const h = createHash("sha256"), t0 = performance.now();
  for (let t = 0; t < 200; t++) {
    const x = runTask(cfg, ds, t);
    h.update(`${x.acc} ${x.loss} ${x.weightNorm} ${x.diverged}\n`);
  }
  rates.push((200 * 250) / ((performance.now() - t0) / 1000));
  hash = h.digest("hex").slice(0, 16);
}
rates.sort((a, b) => a - b);
console.log(`median ${rates[rates.length >> 1].toFixed(0)} steps/s end to end (runs: ${rates.map((x) => x.toFixed(0)).join(", ")}); results hash ${hash} (${backend})`);
