/**
 * The app's probe cost model (web/src/estimate.ts) against the probe's time:
 * `npm run bench:probe` (add --large for the 2048- and 4096-wide networks,
 * minutes each). For each network, the probe on PROBE_MIN and on PROBE_FULL
 * images of the MNIST test split, after one online step; prints the model's
 * multiply-adds, the measured seconds, the rate they imply (the model's
 * PROBE_RATE should sit near the slowest) and the plan the app makes.
 */
import { cachedDataset, DEFAULT_CONFIG, networkOf, taskSteps, type RunConfig } from "../src/index.js";
import { PROBE_FULL, PROBE_MIN, PROBE_RATE, probePlan, probeWork } from "../web/src/estimate.js";

const large = process.argv.includes("--large");
const nets: Partial<RunConfig>[] = [
  { hidden: [170, 130, 100, 70] },
  { hidden: [170, 130, 100, 70], feedback: "random" },
  { hidden: [100, 100, 100, 100, 100, 100, 100, 100] },
  { hidden: [512, 512] },
  { hidden: [1024, 1024] },
  { net: "rnn", hidden: [100], delay: 20 } as Partial<RunConfig>,
  { net: "rnn", hidden: [300], delay: 20 } as Partial<RunConfig>,
  ...(large ? [{ hidden: [2048, 2048] }, { hidden: [4096, 4096, 4096] }] : []),
];

for (const o of nets) {
  const cfg: RunConfig = { ...DEFAULT_CONFIG, tasks: 1, shots: 1, ...o };
  const ds = cachedDataset(cfg);
  const net = (taskSteps(cfg, ds, 0, undefined, 0, false, 1).next().value as { net: import("../src/index.js").PlasticNetwork }).net;
  const probe = networkOf(cfg.net).probe!;
  const w = probeWork(cfg, ds), times: number[] = [];
  for (const P of [PROBE_MIN, PROBE_FULL]) {
    const idx = Array.from({ length: P }, (_, i) => i), labels = idx.map((i) => ds.labels[i]);
    // The best of two (the first call of a shape also compiles its loops), one for the large networks.
    let best = Infinity;
    for (let k = 0; k < (large && w.fixed > 1e10 ? 1 : 2); k++) {
      const t0 = performance.now();
      probe(net, ds.images, ds.dim, idx, labels);
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    times.push(best);
  }
  const work = [PROBE_MIN, PROBE_FULL].map((P) => w.fixed + P * w.perExample);
  const rate = work.map((x, i) => x / times[i]);
  const plan = probePlan(cfg, ds);
  console.log(
    `${cfg.net ?? "mlp"} ${cfg.hidden.join("-")} ${cfg.feedback}: ` +
      [PROBE_MIN, PROBE_FULL].map((P, i) => `P=${P} ${times[i].toFixed(3)} s (model ${(work[i] / PROBE_RATE).toFixed(3)} s, ${rate[i].toExponential(2)} MAC/s)`).join(", ") +
      ` → plan: ${plan.count} images, ≈ ${plan.seconds.toFixed(2)} s${plan.note ? ` (${plan.note})` : ""}`,
  );
}
