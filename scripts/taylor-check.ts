/**
 * node --import tsx scripts/taylor-check.ts [--shots K] [--probes n]
 *
 * The per-layer Taylor family at the paper's size (issue 27, item 2): on
 * 784-170-130-100-70-10 (softplus β = 10, batch 1, MNIST train split), the
 * exact meta-gradient of the query loss in all 5 × 27 coefficients
 * (bp and t_abc = preᵃ postᵇ Wᶜ at each layer, float64, the js backend),
 * checked against central finite differences on a spread of coefficients
 * (rank-1 and elementwise terms, every layer), and its time per episode
 * against the shared family's and bp + Oja's. Pin it: taskset -c 1.
 */
import { loadavg } from "node:os";
import { runEpisode } from "../src/experiments/episode.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { DEFAULT_CONFIG, type RunConfig } from "../src/experiments/task.js";
import { metaLayout } from "../src/learn/tangent.js";
import { registerTaylor } from "../src/rules/expr/family.js";

const argv = process.argv.slice(2);
const arg = (k: string, d: number) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const K = arg("--shots", 5), probes = arg("--probes", 8);
if (!(Number.isInteger(K) && K > 0 && Number.isInteger(probes) && probes > 0)) { process.stderr.write("taylor-check: --shots and --probes must be positive integers\n"); process.exit(2); }
const cfg: RunConfig = { ...DEFAULT_CONFIG, shots: K, query: 2, split: "train", backend: "js", tasks: 1 };
const ds = cachedDataset(cfg);
const terms = registerTaylor(), L = 5;
const layout = metaLayout(terms, L, true);
// θ: the published bp, and small Taylor coefficients (a mix of signs), so every term's tangent is exercised.
const theta = layout.map((p, k) => (p.term === "bp" ? 0.0068 : 2e-4 * Math.sin(1 + 7 * k)));
const load0 = loadavg()[0];
const time = (f: () => void) => { const t0 = performance.now(); f(); return (performance.now() - t0) / 1000; };
let exact!: ReturnType<typeof runEpisode>;
const tPer = time(() => { exact = runEpisode(cfg, ds, 0, layout, theta, {}, "f64"); });
const shared = metaLayout(terms, L, false), sTheta = shared.map((p) => (p.term === "bp" ? 0.0068 : 1e-4));
const tShared = time(() => runEpisode(cfg, ds, 0, shared, sTheta, {}, "f64"));
const tOja = time(() => runEpisode(cfg, ds, 0, metaLayout(["bp", "oja"], L, false), [0.0068, 0.0053], {}, "f64"));
// Probes: coefficients spread over terms and layers (every 17th: both rank-1 and elementwise terms, all layers).
const pick = Array.from({ length: probes }, (_, i) => (i * 17 + 3) % layout.length);
const rows = pick.map((k) => {
  const h = Math.max(1e-7, 1e-3 * Math.abs(theta[k]));
  const p = [...theta], m = [...theta];
  p[k] += h; m[k] -= h;
  const fd = (runEpisode(cfg, ds, 0, layout, p, {}, "f64", { gradient: false }).loss - runEpisode(cfg, ds, 0, layout, m, {}, "f64", { gradient: false }).loss) / (2 * h);
  return { coef: `${layout[k].term}@${layout[k].layers[0]}`, exact: exact.grad[k], fd, rel: Math.abs(exact.grad[k] - fd) / Math.max(Math.abs(fd), 1e-12) };
});
const scale = Math.max(...rows.map((r) => Math.abs(r.fd)));
const worst = Math.max(...rows.map((r) => Math.abs(r.exact - r.fd) / Math.max(Math.abs(r.fd), 1e-3 * scale)));
console.log(JSON.stringify({ K, steps: 5 * K, P: layout.length, loss: exact.loss, seconds: { per_layer: tPer, shared: tShared, bp_oja: tOja }, worst, rows, loadavg: [load0, loadavg()[0]] }));
console.log(`per-layer Taylor, paper network, K = ${K} (${5 * K} steps), ${layout.length} coefficients: episode ${tPer.toFixed(1)} s ` +
  `(shared family, 27: ${tShared.toFixed(1)} s; bp + Oja: ${tOja.toFixed(2)} s); exact vs central differences on ${rows.length} coefficients: ` +
  `worst relative error ${worst.toExponential(2)}; load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`);
for (const r of rows) console.log(`  ${r.coef.padEnd(10)} exact ${r.exact.toExponential(6)}  fd ${r.fd.toExponential(6)}  rel ${r.rel.toExponential(1)}`);
