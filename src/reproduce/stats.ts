import type { CellResult, ScenarioId, SeedRun } from "./types.js";
import { fmtPoints } from "../report/format.js";

export type Outcome = "holds" | "refuted" | "inconclusive";

/** A claim of PAPER.md, tested on the cells of one scenario. */
export interface Verdict {
  scenario: ScenarioId;
  claim: string;
  outcome: Outcome;
  evidence: string;
}

/** The smallest improvement (accuracy, absolute) a superiority claim needs; an interval wholly below it refutes the claim. */
export const MIN_EFFECT = 0.01;
/** Claim 4's non-inferiority margin: online bp + Oja may trail a trick by less than this. */
export const MARGIN = 0.02;

/** The rule every verdict follows, stated in summary.md. */
export const VERDICT_RULE = [
  "Each comparison is paired: both sides ran the same tasks from the same initial weights. Where θ was meta-learned, each meta-learning",
  "seed is a separate comparison (seed i of one cell against seed i of the other, or against the single run of a cell with fixed θ), so",
  "a verdict accounts for both the task-to-task and the meta-learning variance. A superiority claim **holds** when, for every seed, the",
  `95% confidence interval of the accuracy difference lies above zero; it is **refuted** when, for every seed, the interval lies below`,
  `+${100 * MIN_EFFECT} point (the smallest effect the claim needs); otherwise it is **inconclusive** (an interval too wide for that effect,`,
  `or seeds that disagree). Claim 4 is a non-inferiority claim with a margin of ${100 * MARGIN} points: it holds when every interval lies above`,
  `−${100 * MARGIN} points against every trick, is refuted when some trick's intervals all lie below −${100 * MARGIN} points, and is inconclusive otherwise.`,
  "Claims with a second condition (2, 5, 6) hold only if it holds too; claim 5 is never refuted from fewer than 10 passes (a --quick run).",
].join(" ");

export interface Diff { mean: number; ci95: number }

/** Mean and 95% CI half-width of per-task differences a − b (the same task streams, so paired). */
export function pairedDiff(a: readonly { acc: number }[], b: readonly { acc: number }[]): Diff {
  const n = Math.min(a.length, b.length);
  const d = Array.from({ length: n }, (_, i) => a[i].acc - b[i].acc);
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, n - 1));
  return { mean, ci95: (1.96 * sd) / Math.sqrt(n) };
}

/** Per-seed paired differences of cell groups a − b (each group pooled task by task over its cells). */
export function seedDiffs(a: readonly CellResult[], b: readonly CellResult[]): Diff[] {
  const seeds = Math.max(...a.map((c) => c.runs.length), ...b.map((c) => c.runs.length));
  const pick = (c: CellResult, s: number): SeedRun => c.runs[Math.min(s, c.runs.length - 1)];
  return Array.from({ length: seeds }, (_, s) => pairedDiff(a.flatMap((c) => pick(c, s).tasks), b.flatMap((c) => pick(c, s).tasks)));
}

export function superiority(ds: readonly Diff[]): Outcome {
  if (ds.every((d) => d.mean - d.ci95 > 0)) return "holds";
  if (ds.every((d) => d.mean + d.ci95 < MIN_EFFECT)) return "refuted";
  return "inconclusive";
}

export function nonInferiority(ds: readonly Diff[]): Outcome {
  if (ds.every((d) => d.mean - d.ci95 > -MARGIN)) return "holds";
  if (ds.every((d) => d.mean + d.ci95 < -MARGIN)) return "refuted";
  return "inconclusive";
}

/** Combine sub-outcomes: all hold → holds; any refuted → refuted; else inconclusive. With `extra` false, holds becomes inconclusive. */
export function all(os: readonly Outcome[], extra = true): Outcome {
  if (os.some((o) => o === "refuted")) return "refuted";
  if (os.every((o) => o === "holds")) return extra ? "holds" : "inconclusive";
  return "inconclusive";
}

export const diffsText = (ds: readonly Diff[]) => (ds.length === 1 ? fmtPoints(ds[0]) : `per seed ${ds.map(fmtPoints).join("; ")}`);
export const accs = (cs: readonly CellResult[]) => cs.reduce((s, c) => s + c.acc, 0) / cs.length;

/** Mean over hidden layers (all but the output site) of a diagnostic at the last measured step. */
export function finalMean(r: CellResult, f: (l: CellResult["diagnostics"][0]["layers"][0]) => number): number {
  const d = r.diagnostics[r.diagnostics.length - 1];
  if (!d) return NaN;
  const hidden = d.layers.slice(0, -1);
  return hidden.reduce((s, l) => s + f(l), 0) / Math.max(1, hidden.length);
}

/** Σ‖W‖ at the end of training over its value before (from the diagnostics). */
export function growth(r: CellResult): number {
  const ds = r.diagnostics;
  return ds.length ? ds[ds.length - 1].layers.reduce((s, l) => s + l.weightNorm, 0) / ds[0].layers.reduce((s, l) => s + l.weightNorm, 0) : NaN;
}

/** Mean accuracy over a cell's runs (transfer runs, say). */
export const meanAcc = (runs: readonly SeedRun[]) => runs.reduce((s, r) => s + r.acc, 0) / runs.length;
