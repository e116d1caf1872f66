/**
 * node --import tsx scripts/bench-taylor.ts [--reps n] [--backend wasm|native|js] [--no-unfused] [--json]
 *
 * The Taylor family's meta episodes on the paper network (issue 27, item 3): 784-170-130-100-70-10,
 * MNIST train split, online, wasm f32 by default, one episode = K shots × 5 classes of online steps
 * carried forward with one tangent per coefficient, then the query loss and its exact gradient.
 * Rows: the shared family (bp + 26 t_abc: 27 coefficients) and the per-layer family (135) at K = 5 and
 * K = 50 with the monomial terms fused (Kernels.monoUpdate / monoTangent, the default), the same with
 * fusion off (setMonomialFusion(false): one sweep per term; at K = 5 only, it is slow), and bp + Oja
 * (2 coefficients) for scale. Each fused row is the median of --reps episodes (default 3) after one
 * warm-up episode; an unfused row is --unfused-reps episodes (default 1: each takes minutes, and the JIT's
 * warm-up is lost in them). The CPU and the load average are printed, since this machine is shared.
 * Pin it: taskset -c 1.
 */
import { cpus, loadavg } from "node:os";
import { runEpisode } from "../src/experiments/episode.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { DEFAULT_CONFIG, type Backend, type RunConfig } from "../src/experiments/task.js";
import { metaLayout, type MetaParam } from "../src/learn/tangent.js";
import { setMonomialFusion } from "../src/learn/plasticity.js";
import { registerTaylor } from "../src/rules/expr/family.js";
import "../src/core/native.js";

const argv = process.argv.slice(2);
const opt = (k: string, d: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
const reps = Number(opt("--reps", "3")), unfusedReps = Number(opt("--unfused-reps", "1")), backend = opt("--backend", "wasm") as Backend;
if (!(Number.isInteger(reps) && reps > 0 && Number.isInteger(unfusedReps) && unfusedReps > 0)) { process.stderr.write("bench-taylor: --reps and --unfused-reps must be positive integers\n"); process.exit(2); }
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

const L = 5, taylor = registerTaylor();
// θ: the published bp and small Taylor coefficients of mixed signs (every term's sweep and tangent does work; none diverges in 250 steps).
const thetaOf = (layout: readonly MetaParam[]) => layout.map((p, k) => (p.term === "bp" ? 0.0068 : p.term === "oja" ? 0.0053 : 1e-5 * Math.sin(1 + 7 * k)));

interface Row { name: string; K: number; P: number; fused: boolean; seconds: number; per_step_ms: number; runs: number[]; loss: number }
function row(name: string, K: number, terms: readonly string[], perLayer: boolean, fused: boolean): Row {
  const cfg: RunConfig = { ...DEFAULT_CONFIG, shots: K, query: 10, split: "train", backend, tasks: 1 };
  const ds = cachedDataset(cfg), layout = metaLayout(terms, L, perLayer), theta = thetaOf(layout);
  const was = setMonomialFusion(fused);
  const runs: number[] = [], n = fused ? reps : unfusedReps;
  let loss = NaN;
  try {
    for (let r = fused ? -1 : 0; r < n; r++) {
      const t0 = performance.now();
      loss = runEpisode(cfg, ds, r + 1, layout, theta, {}).loss;
      if (r >= 0) runs.push((performance.now() - t0) / 1000);
    }
  } finally { setMonomialFusion(was); }
  const s = median(runs);
  const out = { name, K, P: layout.length, fused, seconds: s, per_step_ms: (1000 * s) / (cfg.way * K), runs, loss };
  if (!argv.includes("--json")) {
    console.log(`${name.padEnd(22)} K = ${String(K).padStart(2)}  P = ${String(layout.length).padStart(3)}  ${fused ? "fused  " : "unfused"}  ` +
      `episode ${s.toFixed(3)} s (median of ${n}; ${runs.map((x) => x.toFixed(2)).join(", ")})  ${out.per_step_ms.toFixed(2)} ms/step  loss ${loss.toFixed(4)}`);
  }
  return out;
}

const load0 = loadavg()[0], cpu = cpus()[0]?.model ?? "unknown";
if (!argv.includes("--json")) console.log(`CPU ${cpu} (${cpus().length} logical), backend ${backend}, load average ${load0.toFixed(2)}`);
const rows: Row[] = [];
for (const K of [5, 50]) {
  rows.push(row("bp + Oja", K, ["bp", "oja"], false, true));
  rows.push(row("Taylor shared", K, taylor, false, true));
  if (K === 5 && !argv.includes("--no-unfused")) rows.push(row("Taylor shared", K, taylor, false, false));
  rows.push(row("Taylor per layer", K, taylor, true, true));
  if (K === 5 && !argv.includes("--no-unfused")) rows.push(row("Taylor per layer", K, taylor, true, false));
}
const load1 = loadavg()[0];
if (argv.includes("--json")) console.log(JSON.stringify({ cpu, backend, reps, loadavg: [load0, load1], rows }));
else console.log(`load average ${load0.toFixed(2)} → ${load1.toFixed(2)}`);
