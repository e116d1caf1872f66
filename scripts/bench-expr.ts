/**
 * node --import tsx scripts/bench-expr.ts [--rounds n]   (also a row of npm run bench)
 *
 * Oja's rule written as a formula, `xoja = post * (pre - u)`, against the
 * built-in `oja` (issue 27, item 1: at most 1.5× its time per step): the bare
 * online step bp + Oja on the paper network (wasm SIMD, one thread), and a
 * meta-training episode learning (bp, oja) against (bp, xoja). This machine's
 * speed drifts over minutes, so the two alternate in rounds (built-in, then
 * formula, under the same conditions) and the ratio quoted is the median of
 * the per-round ratios of time per step (formula / built-in). Pin it to one
 * core: taskset -c 1 node --import tsx scripts/bench-expr.ts.
 */
import { loadavg } from "node:os";
import { pathToFileURL } from "node:url";
import { DEFAULT_CONFIG, freshStep, type RunConfig } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaLayout } from "../src/learn/tangent.js";
import { loadPixels } from "../src/data/pixels.js";
import { registerExpressionTerm } from "../src/rules/expr/compile.js";
import type { ThetaSpec } from "../src/rules/rule.js";

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

export interface ExprBench {
  rounds: number;
  builtin_steps_per_s: number;
  formula_steps_per_s: number;
  /** Median over rounds of (formula's time per step) / (built-in's). */
  step_time_ratio: number;
  builtin_episodes_per_s: number;
  formula_episodes_per_s: number;
  episode_time_ratio: number;
  /** The 1-minute load average before and after (the CPU is shared). */
  loadavg: [number, number];
  per_round: { step: number[]; episode: number[] };
}

/** Alternating rounds of the built-in and the formula, `steps` bare steps × `reps` and `episodes` episodes each. */
export function benchExpressionOja(rounds = 7, reps = 3, steps = 2000, episodes = 3): ExprBench {
  registerExpressionTerm("xoja = post * (pre - u)", undefined, { replace: true });
  const base: RunConfig = { ...DEFAULT_CONFIG, tasks: 1, backend: "wasm" };
  const ds = cachedDataset(base);
  const stepTime = (theta: ThetaSpec): number => {
    const times: number[] = [];
    for (let r = -1; r < reps; r++) { // r = −1 warms up the JIT and the wasm tier-up
      const { step, task } = freshStep({ ...base, theta }, ds, r + 1);
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) {
        const k = i % task.trainIdx.length;
        loadPixels(step.x, ds.images, task.trainIdx[k], ds.dim);
        step.step(task.trainLabels[k]);
      }
      if (r >= 0) times.push((performance.now() - t0) / 1000 / steps);
    }
    return median(times);
  };
  const episodeTime = (oja: string): number => {
    const layout = metaLayout(["bp", oja], 5, false), times: number[] = [];
    for (let r = -1; r < episodes; r++) {
      const t0 = performance.now();
      runEpisode({ ...base, split: "train" }, ds, r + 1, layout, [0.0068, 0.0053], {});
      if (r >= 0) times.push((performance.now() - t0) / 1000);
    }
    return median(times);
  };
  const load0 = loadavg()[0];
  const st = { b: [] as number[], f: [] as number[] }, ep = { b: [] as number[], f: [] as number[] };
  for (let k = 0; k < rounds; k++) {
    st.b.push(stepTime({ bp: 0.0068, oja: 0.0053 }));
    st.f.push(stepTime({ bp: 0.0068, xoja: 0.0053 }));
    ep.b.push(episodeTime("oja"));
    ep.f.push(episodeTime("xoja"));
  }
  const ratio = (x: { b: number[]; f: number[] }) => x.f.map((f, k) => f / x.b[k]);
  return {
    rounds,
    builtin_steps_per_s: 1 / median(st.b),
    formula_steps_per_s: 1 / median(st.f),
    step_time_ratio: median(ratio(st)),
    builtin_episodes_per_s: 1 / median(ep.b),
    formula_episodes_per_s: 1 / median(ep.f),
    episode_time_ratio: median(ratio(ep)),
    loadavg: [load0, loadavg()[0]],
    per_round: { step: ratio(st), episode: ratio(ep) },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const rounds = argv.includes("--rounds") ? Number(argv[argv.indexOf("--rounds") + 1]) : 7;
  if (!(Number.isInteger(rounds) && rounds > 0)) { process.stderr.write(`bench-expr: --rounds must be a positive integer\n`); process.exit(2); }
  const r = benchExpressionOja(rounds);
  console.log(JSON.stringify(r));
  console.log(
    `expression Oja vs built-in oja, bp + Oja, paper network, wasm, 1 thread, ${r.rounds} alternating rounds: ` +
      `step ${Math.round(r.builtin_steps_per_s)} vs ${Math.round(r.formula_steps_per_s)} steps/s, time ratio ${r.step_time_ratio.toFixed(3)}× (median); ` +
      `meta episode ${r.builtin_episodes_per_s.toFixed(2)} vs ${r.formula_episodes_per_s.toFixed(2)} episodes/s, ${r.episode_time_ratio.toFixed(3)}×; ` +
      `load average ${r.loadavg[0].toFixed(2)} → ${r.loadavg[1].toFixed(2)}`,
  );
}
