import type { CellResult, ScenarioId, SeedRun } from "./types.js";
import { fmtPoints, sig3 } from "../report/format.js";

/**
 * A verdict's outcome. `premise-fails`: the claim says "X fails, Oja recovers" and X did not fail here (by more than
 * the minimum effect against X's own best condition), so there is nothing to recover from.
 */
export type Outcome = "holds" | "refuted" | "inconclusive" | "premise-fails";
export const OUTCOMES: readonly Outcome[] = ["holds", "refuted", "inconclusive", "premise-fails"];

/**
 * How a condition's interval is read: `superiority` against +MIN_EFFECT (accuracy), `non-inferiority` against −MARGIN,
 * `direction` against 0 (a mechanism's signature: a sign, not a size).
 */
export type RuleKind = "superiority" | "non-inferiority" | "direction";

/** The smallest improvement (accuracy, absolute) a superiority claim needs. */
export const MIN_EFFECT = 0.01;
/** Claim 4's non-inferiority margin: online bp + Oja may trail a trick by less than this. */
export const MARGIN = 0.02;
/** Familywise error rate of each claim's intervals (two-sided, Bonferroni over the claim's conditions). */
export const ALPHA = 0.05;

/** The threshold a rule reads an interval against. */
export function thresholdOf(rule: RuleKind): number {
  return rule === "superiority" ? MIN_EFFECT : rule === "non-inferiority" ? -MARGIN : 0;
}

/**
 * The one decision rule: an interval [lo, hi] of a difference (the claimed side minus the other) **holds** when
 * lo > t, is **refuted** when hi < t, and is **inconclusive** otherwise (it contains t). No interval can both hold
 * and refute.
 */
export function decide(lo: number, hi: number, t: number): "holds" | "refuted" | "inconclusive" {
  if (!(lo <= hi)) return "inconclusive";
  if (lo > t) return "holds";
  if (hi < t) return "refuted";
  return "inconclusive";
}

/** The rule every verdict follows, stated in summary.md. */
export const VERDICT_RULE = [
  "Each comparison is paired: both sides ran the same tasks from the same initial weights, each with its own coefficients (how they were",
  "tuned is stated above). A claim covers named conditions (depths, gains, K values, delays, pathways); **every condition gets its own",
  "verdict**, and effects are never pooled across conditions. For a difference d (claimed side minus the other) with interval [lo, hi]:",
  `a superiority condition **holds** when lo > +${100 * MIN_EFFECT} point (the smallest effect the claim needs), is **refuted** when hi <`,
  `+${100 * MIN_EFFECT} point, and is **inconclusive** otherwise; claim 4 is non-inferiority with a margin of ${100 * MARGIN} points (holds when`,
  `lo > −${100 * MARGIN}, refuted when hi < −${100 * MARGIN}); a mechanism's signature (claim 6) is read against 0. No interval can both hold and`,
  "refute. Intervals are Student-t intervals of the mean per-task difference at a familywise level of 95% per claim: Bonferroni over the",
  "claim's conditions (a claim with m conditions uses two-sided level 0.05/m for each). Where θ was meta-learned with several seeds, each",
  "seed is its own comparison and the condition's interval is the hull of the seeds' intervals (it holds only if every seed holds, is",
  "refuted only if every seed is). The seeds capture the variance of meta-learning's task streams and of its result; they do not capture",
  'the choice of start, outer loop, episode count or grid (those are fixed by the run, and stated). A claim of the form "X fails, Oja',
  'recovers" first checks its premise per condition: X must be worse than at its own best condition by more than the minimum effect',
  "(lower bound of that paired difference above +1 point); where it is not, the condition's verdict is **premise fails**. A claim **holds**",
  "when every condition holds, is **refuted** when none holds and at least one is refuted (the rest premise fails), has **premise fails**",
  "when every premise fails, and is **inconclusive** otherwise; its sentence names the conditions where it holds.",
].join(" ");

/** Mean and 95% CI half-width of a paired difference, with the standard error and count it came from. */
export interface Diff {
  mean: number;
  ci95: number;
  se: number;
  n: number;
}

/** The inverse of the standard normal CDF (Acklam's rational approximation, relative error below 1.2e-9). */
export function probit(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p <= 0 || p >= 1) return p <= 0 ? -Infinity : Infinity;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -probit(1 - p);
  const q = p - 0.5,
    r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * The Student-t quantile with ν degrees of freedom, from the normal one by the Cornish–Fisher expansion
 * (Abramowitz & Stegun 26.7.5): within 0.1% of SciPy's stats.t.ppf for ν ≥ 4 up to p = 0.999 (test/verdicts.test.ts).
 */
export function tQuantile(p: number, nu: number): number {
  const z = probit(p);
  if (!Number.isFinite(nu) || nu > 1e6) return z;
  const z3 = z ** 3,
    z5 = z ** 5,
    z7 = z ** 7,
    z9 = z ** 9;
  return (
    z +
    (z3 + z) / (4 * nu) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * nu ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * nu ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * nu ** 4)
  );
}

/** Mean, standard error and 95% (normal) CI half-width of the paired differences a − b over the pairs where both are finite. */
export function pairedOf(a: readonly number[], b: readonly number[]): Diff {
  const d: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) d.push(a[i] - b[i]);
  const n = d.length;
  if (n === 0) return { mean: NaN, ci95: NaN, se: NaN, n: 0 };
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const se = n > 1 ? Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) / n) : NaN;
  return { mean, ci95: 1.96 * se, se, n };
}

/** Mean and 95% CI half-width of per-task differences a − b (the same task streams, so paired). */
export function pairedDiff(a: readonly { acc: number }[], b: readonly { acc: number }[]): Diff {
  return pairedOf(
    a.map((t) => t.acc),
    b.map((t) => t.acc),
  );
}

/**
 * The runs a cell is scored by, one per meta seed: the meta-learned θ, or the grid's best point where that did
 * better on the grid's train-split tasks (the choice is made on train tasks, never on the tasks it is scored on).
 */
export function scoredRuns(c: CellResult): SeedRun[] {
  // Cells that keep their meta-learned runs apart already hold the scored ones in `runs`.
  const use = c.metaRuns ? undefined : c.grid?.use;
  return c.runs.map((r, s) => (use?.[s] === "grid" ? { ...c.grid!.best, metaSeed: r.metaSeed } : r));
}

/** A cell's scored accuracy: the mean over its scored runs. */
export const scoredAcc = (c: CellResult) => meanAcc(scoredRuns(c));

/** Per-seed paired accuracy vectors of two cells a − b (seed s of each; a single fixed run serves every seed). */
export function accPairs(a: CellResult, b: CellResult): [number[], number[]][] {
  const ra = scoredRuns(a),
    rb = scoredRuns(b),
    seeds = Math.max(ra.length, rb.length);
  const pick = (r: SeedRun[], s: number) => r[Math.min(s, r.length - 1)].tasks.map((t) => t.acc);
  return Array.from({ length: seeds }, (_, s) => [pick(ra, s), pick(rb, s)]);
}

/** Whether some seed of a cell is scored by its grid's best point while that point lies on the grid's unbracketed edge. */
export function untunedEdge(c: CellResult): boolean {
  return !!c.grid?.edge?.length && (c.thetaSource === "grid" || (c.grid.use ?? []).includes("grid"));
}

/** A comparison's samples of a (the claimed side) against b, with whether either side is untuned (see Comparison). */
export function compared(a: CellResult, b: CellResult): Pick<Comparison, "pairs" | "untuned"> {
  const ua = untunedEdge(a),
    ub = untunedEdge(b);
  return { pairs: accPairs(a, b), ...(ua || ub ? { untuned: { claimed: ua, other: ub } } : {}) };
}

/** Per-seed paired differences a − b of two cells' scored runs. */
export function seedDiffs(a: CellResult, b: CellResult): Diff[] {
  return accPairs(a, b).map(([x, y]) => pairedOf(x, y));
}

/** One condition of a claim, before its interval is set: what is compared, and the premise it needs. */
export interface Comparison {
  name: string;
  /** Per seed, the paired samples of the claimed side and the other (a − b is the claimed difference). */
  pairs: [number[], number[]][];
  /** "X fails": per seed, X at its best condition and X here (best − here must exceed MIN_EFFECT). */
  premise?: { text: string; pairs: [number[], number[]][] };
  /** Shown with the claim's conditions, not counted in its verdict (nor in its Bonferroni count). */
  context?: boolean;
  /** A fact beside the numbers ("both at chance"). */
  note?: string;
  /** The unit of the difference in text: accuracy points (default) or a plain number (a diagnostic). */
  unit?: "points" | "value";
  /**
   * A side scored by a grid point the grid could not bracket (its best on an edge after widening): that side was not
   * shown to be at its best, so the claimed side's being untuned bars "refuted" and the other side's bars "holds".
   */
  untuned?: { claimed: boolean; other: boolean };
}

/** A condition's interval: the hull of its seeds' intervals (lo the lowest, hi the highest), and the mean difference. */
export interface Interval {
  diff: number;
  lo: number;
  hi: number;
}

export interface Condition extends Interval {
  name: string;
  verdict: Outcome;
  /** Paired samples per seed (tasks). */
  n: number;
  seeds: Interval[];
  premise?: Interval & { text: string; shown: boolean };
  context?: boolean;
  note?: string;
  unit?: "points" | "value";
}

/** A claim of PAPER.md, tested on the cells of one scenario, one verdict per condition. */
export interface Verdict {
  scenario: ScenarioId;
  claim: string;
  outcome: Outcome;
  rule: RuleKind;
  /** The threshold the intervals are read against (accuracy; 0 for a direction). */
  minEffect: number;
  /** Two-sided level of each condition's interval (ALPHA over the counted conditions). */
  level: number;
  /** The conditions the claim covers, in words. */
  covers: string;
  conditions: Condition[];
  evidence: string;
}

/** The interval of paired samples at two-sided level `level` (Student t, n − 1 degrees of freedom). */
export function intervalOf(a: readonly number[], b: readonly number[], level: number): Interval & { n: number } {
  const d = pairedOf(a, b);
  if (d.n < 2 || !Number.isFinite(d.se)) return { diff: d.mean, lo: NaN, hi: NaN, n: d.n };
  const q = tQuantile(1 - level / 2, d.n - 1),
    half = q * d.se;
  return { diff: d.mean, lo: d.mean - half, hi: d.mean + half, n: d.n };
}

function hull(seeds: readonly Interval[]): Interval {
  const ok = seeds.filter((s) => Number.isFinite(s.lo) && Number.isFinite(s.hi));
  if (ok.length < seeds.length || ok.length === 0) return { diff: seeds.reduce((s, x) => s + x.diff, 0) / seeds.length, lo: NaN, hi: NaN };
  return { diff: ok.reduce((s, x) => s + x.diff, 0) / ok.length, lo: Math.min(...ok.map((s) => s.lo)), hi: Math.max(...ok.map((s) => s.hi)) };
}

/** A condition's verdict from its comparison at a level: the premise first, then the interval against the rule's threshold. */
export function conditionOf(c: Comparison, rule: RuleKind, level: number): Condition {
  const seeds = c.pairs.map(([a, b]) => intervalOf(a, b, level));
  const h = hull(seeds),
    n = Math.min(...seeds.map((s) => s.n));
  let premise: Condition["premise"];
  if (c.premise) {
    const p = hull(c.premise.pairs.map(([a, b]) => intervalOf(a, b, level)));
    premise = { ...p, text: c.premise.text, shown: p.lo > MIN_EFFECT };
  }
  const decided = decide(h.lo, h.hi, thresholdOf(rule));
  // An untuned side cannot lose (or the claim win against it): the verdict waits for a grid that brackets it.
  const barred = (decided === "refuted" && c.untuned?.claimed) || (decided === "holds" && c.untuned?.other);
  const verdict: Outcome = premise && !premise.shown ? "premise-fails" : barred ? "inconclusive" : decided;
  const side = decided === "refuted" ? "claimed side" : "other side";
  const untunedNote = barred ? `${decided} by its interval, but the ${side} sat on its grid's unbracketed edge` : "";
  return {
    name: c.name,
    verdict,
    ...h,
    n,
    seeds: seeds.map(({ diff, lo, hi }) => ({ diff, lo, hi })),
    ...(premise ? { premise } : {}),
    ...(c.context ? { context: true } : {}),
    ...(c.note || untunedNote ? { note: [c.note, untunedNote].filter(Boolean).join("; ") } : {}),
    ...(c.unit ? { unit: c.unit } : {}),
  };
}

/** The claim's outcome from its counted conditions (see VERDICT_RULE). */
export function claimOutcome(cs: readonly Condition[]): Outcome {
  const counted = cs.filter((c) => !c.context).map((c) => c.verdict);
  if (counted.length === 0) return "inconclusive";
  if (counted.every((v) => v === "holds")) return "holds";
  if (counted.every((v) => v === "premise-fails")) return "premise-fails";
  if (counted.every((v) => v === "refuted" || v === "premise-fails")) return "refuted";
  return "inconclusive";
}

const VERB: Record<Outcome, string> = { holds: "holds", refuted: "refuted", inconclusive: "inconclusive", "premise-fails": "premise fails" };

/** "holds at 8 and 12 layers; refuted at 4; premise fails at 16": where each outcome occurs, in condition order. */
export function whereText(cs: readonly Condition[], unit = ""): string {
  const counted = cs.filter((c) => !c.context);
  const order: Outcome[] = ["holds", "refuted", "inconclusive", "premise-fails"];
  const parts = order
    .map((o) => [o, counted.filter((c) => c.verdict === o).map((c) => c.name)] as const)
    .filter(([, ns]) => ns.length)
    .map(([o, ns]) => `${VERB[o]} ${ns.length === counted.length && counted.length > 1 ? "at every condition" : `at ${andList(ns)}${unit}`}`);
  return parts.join("; ");
}

function andList(xs: readonly string[]): string {
  return xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;
}

/** An interval in text: "+4.30 [+2.10, +6.50] points", or plain values for a diagnostic. */
export function intervalText(i: Interval, unit: "points" | "value" = "points"): string {
  const f = (x: number) => (unit === "points" ? `${x >= 0 ? "+" : ""}${sig3(100 * x)}` : `${x >= 0 ? "+" : ""}${sig3(x)}`);
  return `${f(i.diff)} [${f(i.lo)}, ${f(i.hi)}]${unit === "points" ? " points" : ""}`;
}

/** A condition in one line: name, verdict, interval (per seed when several), premise. */
export function conditionText(c: Condition): string {
  const iv = c.seeds.length > 1 ? `${intervalText(c)}, per seed ${c.seeds.map((s) => intervalText(s, c.unit)).join("; ")}` : intervalText(c, c.unit);
  const premise = c.premise ? `; premise (${c.premise.text}) ${c.premise.shown ? "shown" : "not shown"}: ${intervalText(c.premise)}` : "";
  return `${c.name}: ${c.context ? "context" : VERB[c.verdict]}, ${iv}${premise}${c.note ? ` (${c.note})` : ""}`;
}

/** A claim's verdict from its comparisons: one condition each, Bonferroni over the counted ones, then the claim. */
export function claim(
  v: { scenario: ScenarioId; claim: string; rule: RuleKind; covers: string; unit?: string; family?: number },
  comparisons: readonly Comparison[],
  extra = "",
): Verdict {
  // `family`: claims that together test one statement of the paper (claim 8's "or") share its familywise level.
  const m = Math.max(1, comparisons.filter((c) => !c.context).length),
    level = ALPHA / (m * (v.family ?? 1));
  const conditions = comparisons.map((c) => conditionOf(c, v.rule, level));
  const outcome = claimOutcome(conditions);
  const where = whereText(conditions, v.unit ?? "");
  return {
    scenario: v.scenario,
    claim: v.claim,
    outcome,
    rule: v.rule,
    minEffect: thresholdOf(v.rule),
    level,
    covers: v.covers,
    conditions,
    evidence: `${where ? `${capital(where)}. ` : ""}Per condition (${v.rule === "direction" ? "difference" : "paired difference"}, ${fmtLevel(
      level,
    )} interval): ${conditions.map(conditionText).join("; ")}.${extra ? ` ${extra}` : ""}`,
  };
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const fmtLevel = (level: number) => `${sig3(100 * (1 - level)).replace(/\.0+$/, "")}%`;

export const diffsText = (ds: readonly Diff[]) => (ds.length === 1 ? fmtPoints(ds[0]) : `per seed ${ds.map(fmtPoints).join("; ")}`);
export const accs = (cs: readonly CellResult[]) => cs.reduce((s, c) => s + scoredAcc(c), 0) / cs.length;

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

/** ‖Wₗ‖ at the end of training over its value before, per layer (from the diagnostics). */
export function layerGrowth(r: CellResult): number[] {
  const ds = r.diagnostics;
  return ds.length ? ds[ds.length - 1].layers.map((l, i) => l.weightNorm / ds[0].layers[i].weightNorm) : [];
}

/** Mean accuracy over a cell's runs (transfer runs, say). */
export const meanAcc = (runs: readonly SeedRun[]) => runs.reduce((s, r) => s + r.acc, 0) / runs.length;

/** The chance accuracy of N-way tasks, and whether a cell is at it (within the minimum effect). */
export const atChance = (c: CellResult, way = 5) => scoredAcc(c) < 1 / way + MIN_EFFECT;
