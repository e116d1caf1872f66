/**
 * The evidence behind the robust outer loop (src/meta/outer.ts): from poor
 * starts, meta-learn θ = (bp, oja) with the published Adam loop and with the
 * robust one, then score each learned θ on test-split tasks; and the exact
 * meta-gradient's sign across the batch-10 region, where it fails. Writes
 * docs/meta-learning.md and docs/meta-learning.json.
 *
 *   npx tsx scripts/meta_robust.ts [--episodes 100] [--tasks 200] [--workers 2]
 */
import { writeAtomic } from "../src/core/files.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaTrain, specOf, type MetaConfig } from "../src/experiments/meta-train.js";
import { closePools } from "../src/experiments/pool.js";
import { DEFAULT_CONFIG, type RunConfig } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { train } from "../src/experiments/train.js";
import { metaLayout } from "../src/learn/tangent.js";
import { formatThetaSpec } from "../src/rules/rule.js";

const arg = (k: string, d: number) => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const episodes = arg("--episodes", 100), tasks = arg("--tasks", 200), workers = arg("--workers", 2);
const starts: [string, Partial<RunConfig>][] = [
  ["published start (bp 0.001, oja 0)", { theta: { bp: 0.001, oja: 0 } }],
  ["mini-batch 10, start θ × 10", { batch: 10, theta: { bp: 0.068, oja: 0.053 } }],
  ["mini-batch 50, start θ × 50", { batch: 50, theta: { bp: 0.34, oja: 0.265 } }],
  ["θ_oja ten times too large", { theta: { bp: 0.0068, oja: 0.053 } }],
  ["Xavier gain 2", { gain: 2, theta: { bp: 0.0068, oja: 0.0053 } }],
  ["RNN N = 100, delay 20", { net: "rnn", hidden: [100], delay: 20, theta: { bp: 0.003, oja: 0.002 } }],
];
const rows: Record<string, unknown>[] = [];
for (const [name, over] of starts) {
  for (const outer of ["adam", "robust"] as const) {
    const run: RunConfig = { ...DEFAULT_CONFIG, split: "train", tasks: 1, ...over };
    const cfg: MetaConfig = { run, learn: ["bp", "oja"], perLayer: false, episodes, metaBatch: 1, metaLr: 1e-3, outer, l1: 0, checkpointEvery: episodes };
    const m = await metaTrain(cfg, 1, null);
    const theta = specOf(cfg, m.learned);
    const ev = await train({ ...run, split: "test", tasks, theta }, workers);
    const row = { start: name, outer, start_theta: formatThetaSpec(run.theta), learned: formatThetaSpec(theta), skipped: m.state.skipped, acc: ev.acc, acc_se: ev.acc_se, diverged: ev.diverged };
    rows.push(row);
    console.log(`${name.padEnd(36)} ${outer.padEnd(6)} → ${row.learned.padEnd(30)} skipped ${String(m.state.skipped).padStart(3)}  test ${ev.acc.toFixed(3)} ± ${ev.acc_se.toFixed(3)}  diverged ${ev.diverged}/${tasks}`);
  }
}
// Why the exact gradient alone fails at batch 10: its sign across θ_oja, and the loss it should follow.
const run: RunConfig = { ...DEFAULT_CONFIG, split: "train", tasks: 1, batch: 10 };
const ds = cachedDataset(run), lay = metaLayout(["bp", "oja"], 5, false), probe = 40;
const signs: Record<string, number>[] = [];
for (const oja of [0.005, 0.01, 0.02, 0.035, 0.047]) {
  let pos = 0, n = 0, div = 0, loss = 0;
  for (let t = 0; t < probe; t++) {
    const r = runEpisode(run, ds, t, lay, [0.062, oja], {});
    if (!Number.isFinite(r.grad[1])) { div++; continue; }
    n++; loss += r.loss; if (r.grad[1] < 0) pos++;
  }
  signs.push({ oja, descent_raises_oja: pos / n, mean_loss: loss / n, diverged: div });
  console.log(`batch 10, bp 0.062, oja ${oja}: descent raises oja on ${(100 * pos / n).toFixed(0)}% of finite episodes; mean query loss ${(loss / n).toFixed(3)}; ${div}/${probe} diverged`);
}
await closePools();
const f3 = (x: number) => x.toFixed(3);
writeAtomic(new URL("../docs/meta-learning.json", import.meta.url).pathname, JSON.stringify({ episodes, tasks, rows, signs }, null, 1) + "\n");
writeAtomic(new URL("../docs/meta-learning.md", import.meta.url).pathname, [
  "# Meta-learning θ from any start",
  "",
  `Measured by \`npx tsx scripts/meta_robust.ts --episodes ${episodes} --tasks ${tasks}\`: θ = (bp, oja) meta-learned for ${episodes} episodes on the train split`,
  `(paper network 784-170-130-100-70-10 unless stated, one task per episode), then scored on ${tasks} test-split tasks. "adam" is the published`,
  "outer loop (Adam, learning rate 1e-3, on the exact meta-gradient); \"robust\" is neuroplastic's default (`--outer robust`, src/meta/outer.ts), here without bracketing the start (`--bracket 0`; see the end of this page).",
  "The learned θ is the mean of the last 10% of episodes' θ.",
  "",
  "| start | outer loop | start θ | learned θ | episodes skipped | test accuracy ± se | diverged |",
  "|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.start} | ${r.outer} | ${r.start_theta} | ${r.learned} | ${r.skipped} | ${f3(r.acc as number)} ± ${f3(r.acc_se as number)} | ${r.diverged}/${tasks} |`),
  "",
  "## Why the exact gradient alone is not enough",
  "",
  `Near the edge of stability each task's query loss is a step-like function of θ: the task trains, or past a threshold of its own it blows up.`,
  `The exact (pathwise) gradient of that loss sees the smooth part only, so it is blind to the cliff. At batch 10, bp = 0.062, over ${probe} tasks:`,
  "",
  "| θ_oja | descent would raise θ_oja on | mean query loss (finite episodes) | diverged |",
  "|---|---|---|---|",
  ...signs.map((s) => `| ${s.oja} | ${(100 * (s.descent_raises_oja as number)).toFixed(0)}% of episodes | ${f3(s.mean_loss as number)} | ${s.diverged}/${probe} |`),
  "",
  "The expected loss rises steeply past θ_oja ≈ 0.02, yet the exact gradient points either way at random there (or up):",
  "steps on it alone, however safeguarded, wander in the unstable region. Clipping or normalizing the gradient",
  "bounds the step but cannot supply the missing direction.",
  "",
  "## The robust outer loop",
  "",
  "1. **A smoothed objective, two estimators.** J(θ) = E_ε L(θ + σ s ⊙ ε), with sₖ = max(|θₖ|, floor) and ε ~ N(0, I) (σ = 0.1, floor = 3e-3).",
  "   Per task, on the same sampled task and initial weights, neuroplastic computes the exact gradient at θ⁺ = θ + σ s ⊙ ε (forward mode,",
  "   unbiased for ∇J) and the antithetic difference (L(θ⁺) − L(θ⁻)) ε / (2σ s) (evolution strategies; a run that blows up counts as",
  "   10 × ln N, so the cliff is visible). They are combined per coordinate by inverse variance, w = var_ES / (var_exact + var_ES), with",
  "   variances tracked over episodes — the remedy of Metz et al. 2019, *Understanding and correcting pathologies in the training of learned",
  "   optimizers* (ICML). The exact gradient's value is never altered, only weighted; meta.jsonl logs it and its weight (`wExact`).",
  "2. **Adam on the direction.** Adam sees g/‖g‖, so a meta-gradient of 10⁹ after a near-divergent episode cannot inflate its second moment",
  "   and freeze every later step.",
  "3. **A relative trust region.** Δθₖ = η · sₖ · clip(−m̂ₖ/(√v̂ₖ + ε), −1, 1), with η decaying linearly from 0.1 at the first episode to",
  "   0.01 at the last: θ moves by at most 10% of itself per episode (linear steps below the floor, so coefficients starting at 0 move and",
  "   may cross zero), reaching a region a few factors away in tens of episodes without leaping from a stable point into divergence, and",
  "   settling at the end instead of wandering on a noisy objective. (A constant η = 0.05 was tried first: it random-walked on the",
  "   recurrent network and grew θ_oja too slowly from 0.)",
  "",
  "Both loops back off from an episode whose every run diverged: θ moves halfway toward the last θ with a finite episode, or is halved",
  "when there was none (the θ_oja × 10 start diverges from the first episode). The robust loop costs one extra forward-only run per task",
  "(the loss at θ⁻). `--outer adam` keeps the published loop, so older results can be reproduced exactly.",
  "",
  "**Bracketing the start** (the default of `meta` and `reproduce` with the robust loop, `--bracket 16`; `--bracket 0` turns it off).",
  "From a start on a plateau, where every task ends at chance (θ × 50 at batch 50, or the published θ at gain 0.1), both estimates vanish:",
  "the exact gradient is small and noisy, and the antithetic pair at σ = 10% returns two equal losses, so the trust region random-walks.",
  "In the report's first full run, two of three meta seeds at batch 50 ended below the fixed-θ grid's best point, and no seed at gain 0.1 left chance.",
  "So, before the first episode, neuroplastic tries the start θ × ¼, ½, 2 and 4: first all coefficients together, then each nonzero one alone, greedily.",
  "Each candidate runs the same K train-split tasks (K = 16 by default; a diverged or exploded task counts as 10 · ln N), and the gradient phase starts from the best.",
  "Coefficients at 0 are left to the gradient phase.",
  "This is a coarse line search on log θ before the gradient phase; it changes neither the gradient nor the step.",
  "Over three meta seeds, from the plateaus and from good starts: [docs/meta-bracket.md](meta-bracket.md) (`npx tsx scripts/meta_bracket.ts`).",
  "",
].join("\n"));
console.log("wrote docs/meta-learning.md");
