/**
 * neuroplastic's side of gradcheck.py (issue 28, item 10): on MNIST test-split tasks with the paper
 * network, symmetric feedback (B = W), the exact meta-gradient dL/dθ of the forward-mode tangent
 * (src/learn/tangent.ts; B = W is the same array, so its tangent is W's) against central finite
 * differences of the query loss, both in float64 on the plain reference kernels. Prints one JSON
 * object on stdout. scripts/authors-parity.py runs it.
 *
 *   node --import tsx scripts/authors-fdcheck.ts [--tasks 3] [--h 1e-7]
 */
import { DEFAULT_CONFIG, type RunConfig } from "../src/experiments/task.js";
import { runEpisode } from "../src/experiments/episode.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { metaLayout } from "../src/learn/tangent.js";

const arg = (k: string, d: string) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const tasks = Number(arg("--tasks", "3")), h = Number(arg("--h", "1e-7"));
if (!(Number.isInteger(tasks) && tasks > 0) || !(h > 0)) { console.error("authors-fdcheck: --tasks must be a positive integer and --h positive"); process.exit(2); }

// The paper's configuration (DEFAULT_CONFIG: 784-170-130-100-70-10, softplus β = 10, Xavier, 5-way 50-shot, Q = 10,
// whole label set), test split as gradcheck.py, symmetric feedback; float64 runs on the js backend.
const cfg: RunConfig = { ...DEFAULT_CONFIG, split: "test", feedback: "sym", backend: "js", seed: 1 };
const ds = cachedDataset(cfg);
const layout = metaLayout(["bp", "oja"], cfg.hidden.length + 1, false);
const rows = [];
for (let t = 0; t < tasks; t++) {
  for (const theta of [[0.001, 0], [0.0068, 0.0053]]) {
    const r = runEpisode(cfg, ds, t, layout, theta, {}, "f64");
    // Central differences of the query loss (eq. of the meta-objective: mean cross-entropy on the query set after the online loop).
    const fd = theta.map((_, k) => {
      const p = [...theta], m = [...theta];
      p[k] += h; m[k] -= h;
      const lp = runEpisode(cfg, ds, t, layout, p, {}, "f64", { gradient: false }).loss;
      const lm = runEpisode(cfg, ds, t, layout, m, {}, "f64", { gradient: false }).loss;
      return (lp - lm) / (2 * h);
    });
    const rel = r.grad.map((g, k) => Math.abs(g - fd[k]) / Math.abs(fd[k]));
    rows.push({ task: t, theta: { bp: theta[0], oja: theta[1] }, loss: r.loss, exact: { bp: r.grad[0], oja: r.grad[1] }, fd: { bp: fd[0], oja: fd[1] }, rel_err: { bp: rel[0], oja: rel[1] } });
    console.error(`task ${t} theta (${theta}): loss ${r.loss.toFixed(6)}  exact (${r.grad.map((g) => g.toFixed(4))})  fd (${fd.map((g) => g.toFixed(4))})`);
  }
}
process.stdout.write(JSON.stringify({ h, config: "paper net, MNIST test split, 5-way 50-shot, Q 10, sym feedback, seed 1, float64 js backend", rows }) + "\n");
