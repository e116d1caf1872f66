import type { CellResult, ScenarioId, SeedRun } from "../experiments/reproduce.js";
import { fmtPoints, pct3, sig3 } from "./format.js";

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
function all(os: readonly Outcome[], extra = true): Outcome {
  if (os.some((o) => o === "refuted")) return "refuted";
  if (os.every((o) => o === "holds")) return extra ? "holds" : "inconclusive";
  return "inconclusive";
}

const diffsText = (ds: readonly Diff[]) => (ds.length === 1 ? fmtPoints(ds[0]) : `per seed ${ds.map(fmtPoints).join("; ")}`);
const accs = (cs: readonly CellResult[]) => cs.reduce((s, c) => s + c.acc, 0) / cs.length;

function find(rs: readonly CellResult[], scenario: ScenarioId, x: string, rule: string): CellResult | undefined {
  return rs.find((r) => r.scenario === scenario && r.x === x && r.rule === rule);
}

/** Mean over hidden layers (all but the output site) of a diagnostic at the last measured step. */
function finalMean(r: CellResult, f: (l: CellResult["diagnostics"][0]["layers"][0]) => number): number {
  const d = r.diagnostics[r.diagnostics.length - 1];
  if (!d) return NaN;
  const hidden = d.layers.slice(0, -1);
  return hidden.reduce((s, l) => s + f(l), 0) / Math.max(1, hidden.length);
}

/** Σ‖W‖ at the end of training over its value before (from the diagnostics). */
function growth(r: CellResult): number {
  const ds = r.diagnostics;
  return ds.length ? ds[ds.length - 1].layers.reduce((s, l) => s + l.weightNorm, 0) / ds[0].layers.reduce((s, l) => s + l.weightNorm, 0) : NaN;
}

export function verdicts(rs: readonly CellResult[], opts: { passes?: number } = {}): Verdict[] {
  const out: Verdict[] = [];
  const xs = (s: ScenarioId) => [...new Set(rs.filter((r) => r.scenario === s).map((r) => r.x))];
  // (a) Claim 1: online learning.
  const a1 = find(rs, "a", "batch 1", "bp"), a2 = find(rs, "a", "batch 1", "bp+oja");
  if (a1 && a2) {
    const ds = seedDiffs([a2], [a1]);
    out.push({ scenario: "a", claim: "1. Online learning (batch 1): backprop + Oja beats pure backprop.", outcome: superiority(ds), evidence: `bp ${pct3(a1.acc)}%, bp + Oja ${pct3(a2.acc)}%; paired difference ${diffsText(ds)}.` });
  }
  // (b) Claim 2: depth. Deep = every setting beyond the shallowest, pooled task by task.
  const depths = xs("b");
  if (depths.length >= 2) {
    const sh = depths[0], deep = depths.slice(1);
    const bs = find(rs, "b", sh, "bp"), os = find(rs, "b", sh, "bp+oja");
    const bd = deep.map((x) => find(rs, "b", x, "bp")), od = deep.map((x) => find(rs, "b", x, "bp+oja"));
    if (bs && os && bd.every(Boolean) && od.every(Boolean)) {
      const B = bd as CellResult[], O = od as CellResult[], ds = seedDiffs(O, B);
      const dropBp = bs.acc - accs(B), dropOja = os.acc - accs(O);
      out.push({
        scenario: "b", claim: "2. Deep networks: pure backprop degrades with depth, backprop + Oja much less.", outcome: all([superiority(ds)], dropBp > dropOja),
        evidence: `from ${sh} to the deeper settings (${deep.join(", ")}, pooled): bp ${pct3(bs.acc)}% → ${pct3(accs(B))}% (drop ${pct3(dropBp)} points), bp + Oja ${pct3(os.acc)}% → ${pct3(accs(O))}% (drop ${pct3(dropOja)}); paired difference when deep ${diffsText(ds)}. Per depth: ${deep.map((x, i) => `${x} ${diffsText(seedDiffs([O[i]], [B[i]]))}`).join("; ")}.`,
      });
    }
  }
  // (c) Claim 3: careless initialization, each side a verdict of its own.
  const gains = xs("c").filter((x) => x.startsWith("gain")).map((x) => ({ x, g: Number(x.slice(5)) }));
  for (const [label, side] of [["too small", gains.filter((g) => g.g < 1)], ["too large", gains.filter((g) => g.g > 1)]] as const) {
    if (side.length === 0) continue;
    const B = side.map((g) => find(rs, "c", g.x, "bp")!), O = side.map((g) => find(rs, "c", g.x, "bp+oja")!), ds = seedDiffs(O, B);
    out.push({
      scenario: "c", claim: `3${label === "too small" ? "a" : "b"}. Initial weights ${label}: pure backprop fails, backprop + Oja recovers.`, outcome: superiority(ds),
      evidence: `${side.map((g) => g.x).join(", ")} pooled: bp ${pct3(accs(B))}%, bp + Oja ${pct3(accs(O))}% (${diffsText(ds)}). Per gain: ${side.map((g, i) => `${g.x} ${diffsText(seedDiffs([O[i]], [B[i]]))}`).join("; ")}.`,
    });
  }
  // (d) Claim 4: the engineering tricks as baselines (non-inferiority).
  const ref = find(rs, "d", "online, Xavier (no tricks)", "bp+oja");
  if (ref) {
    const tricks = rs.filter((r) => r.scenario === "d" && r !== ref).map((t) => ({ t, ds: seedDiffs([ref], [t]) }));
    out.push({
      scenario: "d", claim: `4. The engineering tricks (mini-batches, careful init, Adam, normalization) are the baselines: online bp + Oja with none of them does at least as well as pure backprop with each (within ${100 * MARGIN} points).`,
      outcome: all(tricks.map((x) => nonInferiority(x.ds))),
      evidence: tricks.map((x) => `vs ${x.t.x}: ${pct3(x.t.acc)}% (${diffsText(x.ds)} for bp + Oja; ${nonInferiority(x.ds)})`).join("; ") + ".",
    });
  }
  // (e) Claim 5: feedback alignment, over several passes.
  const fx = xs("e").find((x) => x.startsWith("feedback")) ?? "";
  const e1 = find(rs, "e", fx, "bp"), e2 = find(rs, "e", fx, "bp+oja");
  if (e1 && e2) {
    const ds = seedDiffs([e2], [e1]), g1 = growth(e1), g2 = growth(e2);
    let outcome = all([superiority(ds)], g2 < g1 && e2.diverged <= e1.diverged);
    const few = (opts.passes ?? 10) < 10;
    if (few && outcome === "refuted") outcome = "inconclusive";
    out.push({
      scenario: "e", claim: "5. Random feedback alignment alone is unstable (weights grow); + Oja stabilizes it.", outcome,
      evidence: `${fx}: FA ${pct3(e1.acc)}% (Σ‖W‖ ×${sig3(g1)} over training), FA + Oja ${pct3(e2.acc)}% (×${sig3(g2)}); paired difference ${diffsText(ds)}; diverged tasks ${e1.diverged} vs ${e2.diverged}.${few ? ` Only ${opts.passes} passes: too few to refute.` : ""}`,
    });
  }
  // (a) Claim 6: mechanism, from the online paper-net cells' diagnostics.
  if (a1 && a2 && a1.diagnostics.length && a2.diagnostics.length) {
    const pr1 = finalMean(a1, (l) => l.pr), pr2 = finalMean(a2, (l) => l.pr);
    const o1 = finalMean(a1, (l) => l.orthoErr), o2 = finalMean(a2, (l) => l.orthoErr);
    const fav = [pr2 > pr1, o2 < o1];
    out.push({
      scenario: "a", claim: "6. Mechanism: Oja keeps activations high-dimensional and drives the rows of W toward orthonormality.",
      outcome: fav.every(Boolean) ? "holds" : fav.some(Boolean) ? "inconclusive" : "refuted",
      evidence: `after training, mean over hidden layers: participation ratio bp ${sig3(pr1)} vs bp + Oja ${sig3(pr2)}; ‖WWᵀ−I‖_F/√n bp ${sig3(o1)} vs bp + Oja ${sig3(o2)}.`,
    });
  }
  // (f) Claim 7: short-term memory of a recurrent network over a delay.
  const delayOf = (x: string) => Number(x.replace(/^.*delay /, ""));
  const bptt = xs("f").filter((x) => x.startsWith("BPTT")).sort((p, q) => delayOf(p) - delayOf(q));
  const long = bptt.filter((x) => delayOf(x) >= 10);
  if (long.length) {
    const B = long.map((x) => find(rs, "f", x, "bp")!), O = long.map((x) => find(rs, "f", x, "bp+oja")!), ds = seedDiffs(O, B);
    const per = bptt.map((x) => { const b = find(rs, "f", x, "bp")!, o = find(rs, "f", x, "bp+oja")!; return `${x.replace("BPTT, ", "")}: BPTT ${pct3(b.acc)}%, BPTT + Oja ${pct3(o.acc)}% (${diffsText(seedDiffs([o], [b]))})`; });
    const fa = xs("f").filter((x) => x.startsWith("FA")).map((x) => { const b = find(rs, "f", x, "bp")!, o = find(rs, "f", x, "bp+oja")!; return `${x}: FA ${pct3(b.acc)}%, FA + Oja ${pct3(o.acc)}% (${diffsText(seedDiffs([o], [b]))})`; });
    out.push({
      scenario: "f", claim: "7. Recurrent networks: Oja's rule improves short-term memory (accuracy after a delay of zero input, delays ≥ 10).", outcome: superiority(ds),
      evidence: `pooled over delays ${long.map(delayOf).join(", ")}: BPTT ${pct3(accs(B))}%, BPTT + Oja ${pct3(accs(O))}% (${diffsText(ds)}). Per delay: ${per.join("; ")}.${fa.length ? ` Feedback alignment through time: ${fa.join("; ")}.` : ""}`,
    });
  }
  // (g) Claim 8: scarce data; the claim holds where bp + Oja or the pool, meta-learned, beats bp alone at small K.
  const kOf = (x: string) => Number(x.replace(/^K = /, ""));
  const ks = xs("g").sort((p, q) => kOf(p) - kOf(q)), smallK = ks.filter((x) => kOf(x) <= 5);
  if (smallK.length && smallK.every((x) => find(rs, "g", x, "bp") && find(rs, "g", x, "bp+oja") && find(rs, "g", x, "pool"))) {
    const B = smallK.map((x) => find(rs, "g", x, "bp")!), side = (rule: string) => smallK.map((x) => find(rs, "g", x, rule)!);
    const dO = seedDiffs(side("bp+oja"), B), dP = seedDiffs(side("pool"), B), oO = superiority(dO), oP = superiority(dP);
    const per = ks.map((x) => { const b = find(rs, "g", x, "bp"), o = find(rs, "g", x, "bp+oja"), p = find(rs, "g", x, "pool"); return b && o && p ? `${x}: bp ${pct3(b.acc)}%, bp + Oja ${pct3(o.acc)}% (${diffsText(seedDiffs([o], [b]))}), pool ${pct3(p.acc)}% (${diffsText(seedDiffs([p], [b]))})` : ""; }).filter(Boolean);
    const tr = ks.map((x) => { const b = find(rs, "g", x, "bp"), o = find(rs, "g", x, "bp+oja"), p = find(rs, "g", x, "pool"); return b?.transfer && o?.transfer && p?.transfer ? `${x}: bp ${pct3(mean(b.transfer))}%, bp + Oja ${pct3(mean(o.transfer))}%, pool ${pct3(mean(p.transfer))}%` : ""; }).filter(Boolean);
    out.push({
      scenario: "g", claim: "8. Meta-learned coefficients (bp + Oja) or a meta-learned rule pool beat plain backprop with a meta-learned learning rate when data is scarce (K ≤ 5).",
      outcome: oO === "holds" || oP === "holds" ? "holds" : oO === "refuted" && oP === "refuted" ? "refuted" : "inconclusive",
      evidence: `pooled over K = ${smallK.map(kOf).join(", ")}: bp + Oja vs bp ${diffsText(dO)} (${oO}); pool vs bp ${diffsText(dP)} (${oP}). Per K: ${per.join("; ")}.${tr.length ? ` Transfer, θ learned on MNIST tested on ${rs.find((r) => r.transferDataset)?.transferDataset ?? "another dataset"}: ${tr.join("; ")}.` : ""}`,
    });
  }
  return out;
}

const mean = (runs: readonly SeedRun[]) => runs.reduce((s, r) => s + r.acc, 0) / runs.length;
