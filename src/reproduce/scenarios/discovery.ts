import { pct3 } from "../../report/format.js";
import type { VlSpec } from "../../report/plot.js";
import { BUILTIN_FORMULAS, registerTaylor, taylorDefinitions } from "../../rules/expr/family.js";
import type { ThetaSpec } from "../../rules/rule.js";
import { TERM_NAMES } from "../../rules/registry.js";
import { accChart } from "../charts.js";
import { cellMaker, type Lookup, type Scenario } from "../scenario.js";
import { compared, claim, MARGIN, scoredAcc, type Comparison, type Verdict } from "../stats.js";
import { POOL_L1, type Cell, type CellResult, type CellRule } from "../types.js";

/**
 * Rule discovery (issue 27, item 4): the local Taylor family of
 * MetaLearnPlasticity (Mehta, Tyulmankov et al. 2024),
 *   Δwᵢⱼ = θ_bp·(−eᵢ preⱼ) + Σ_abc θ_abc preⱼᵃ postᵢᵇ wᵢⱼᶜ,  a, b, c ∈ {0, 1, 2},
 * meta-learned on the task objective (the query loss, exact forward-mode
 * meta-gradient) at K = 5 and K = 50 shots per class, beside bp alone,
 * bp + Oja and the 7-term pool meta-learned at the same K. Every term of the
 * family is local to its synapse, so Oja's subspace rule (which reads
 * uⱼ = Σₖ Wₖⱼ yₖ) is not in it: the question is whether a local rule found by
 * meta-learning does as well as the hand-designed non-local one.
 *
 * Opt-in (`reproduce --scenarios …,i`): a shared Taylor episode is 25 (K = 5)
 * to 80 (K = 50) times a bp + Oja one, even with the fused monomial sweeps
 * (docs/write-your-own-rule.md), so the default run leaves it out.
 */
export const DISCOVERY_ID = "i" as const;
/** The rules of the scenario's cells. */
export const DISCOVERY_RULES: readonly CellRule[] = ["bp", "bp+oja", "pool", "taylor"];
/** The shots per class the family is meta-learned at. */
export const DISCOVERY_K = [5, 50] as const;
/** The L1 penalty of the Taylor family (as the pool's, so their sparsity is comparable). */
export const DISCOVERY_L1 = POOL_L1;
/** The learned terms of each rule of the scenario (registering the Taylor family's expression terms in this thread). */
export const DISCOVERY_LEARN: Record<string, () => string[]> = {
  bp: () => ["bp"],
  "bp+oja": () => ["bp", "oja"],
  pool: () => [...TERM_NAMES],
  taylor: registerTaylor,
};
/** A term survives the penalty when some layer's |θ| is at least this fraction of the largest (as `meta` reports it). */
export const SURVIVES = 0.02;

const FORMULAS: Record<string, string> = {
  ...BUILTIN_FORMULAS,
  ...Object.fromEntries(taylorDefinitions().map((d) => d.split(" = ") as [string, string])),
};

const mag = (v: number | number[] | undefined) => (v === undefined ? 0 : Math.max(...(Array.isArray(v) ? v : [v]).map(Math.abs)));

/** The terms of θ that survive the L1 penalty, largest first. */
export function survivors(theta: ThetaSpec): string[] {
  const top = Math.max(0, ...Object.values(theta).map(mag));
  return Object.keys(theta)
    .filter((t) => top > 0 && mag(theta[t]) >= SURVIVES * top)
    .sort((a, b) => mag(theta[b]) - mag(theta[a]));
}

/** The learned rule as one formula over its surviving terms (per-layer θ as a:b:c). */
export function discoveredRule(theta: ThetaSpec): string {
  const parts = survivors(theta).map((t, k) => {
    const v = theta[t]!,
      vals = Array.isArray(v) ? v : [v],
      neg = vals.every((x) => x <= 0);
    const c = vals.map((x) => String(Number((neg ? -x : x).toPrecision(3)))).join(":");
    return `${k === 0 ? (neg ? "−" : "") : neg ? " − " : " + "}${c} · (${FORMULAS[t] ?? t})`;
  });
  return parts.length === 0 ? "ΔW = 0" : `ΔW = ${parts.join("")}`;
}

export const discovery: Scenario = {
  id: DISCOVERY_ID,
  title: "i. Rule discovery: the local Taylor family, meta-learned",
  cells(o, base) {
    const out: Cell[] = [],
      add = cellMaker(DISCOVERY_ID, base, out);
    // Always meta-learned (as scenario g's cells), with a learning curve every tenth of the 5K training examples.
    for (const K of DISCOVERY_K) add(`K = ${K}`, { K }, DISCOVERY_RULES, { shots: K }, 1, undefined, { curve: Math.max(1, Math.round((5 * K) / 10)) });
    return out;
  },
  verdicts(cs) {
    // One non-inferiority claim, one condition per K and reference (Taylor − bp + Oja, Taylor − pool), each with its own
    // verdict (src/reproduce/stats.ts); Taylor − bp is shown beside them, not counted.
    const full = cs
      .coords(DISCOVERY_ID)
      .sort((p, q) => (p.K as number) - (q.K as number))
      .map((at) => {
        const of = (rule: string) => cs.find(DISCOVERY_ID, rule, at);
        return { at, b: of("bp"), o: of("bp+oja"), p: of("pool"), t: of("taylor") };
      })
      .filter((x) => x.b && x.o && x.p && x.t);
    if (!full.length) return [];
    const comps: Comparison[] = full.flatMap(({ at, b, o, p, t }) => [
      { name: `K = ${at.K} (Taylor − bp + Oja)`, ...compared(t!, o!) },
      { name: `K = ${at.K} (Taylor − pool)`, ...compared(t!, p!) },
      { name: `K = ${at.K} (Taylor − bp)`, ...compared(t!, b!), context: true },
    ]);
    const per = full
      .map(({ at, b, o, p, t }) => {
        const rules = t!.runs.map((r) => discoveredRule(r.theta));
        return (
          `K = ${at.K}: Taylor ${pct3(scoredAcc(t!))}%, bp ${pct3(scoredAcc(b!))}%, bp + Oja ${pct3(scoredAcc(o!))}%, pool ${pct3(scoredAcc(p!))}%; ` +
          `learned ${rules.length === 1 ? rules[0] : rules.map((r, s) => `seed ${s + 1}: ${r}`).join("; ")}`
        );
      })
      .join(". ");
    const out: Verdict = claim(
      {
        scenario: DISCOVERY_ID,
        claim:
          "9. Rule discovery: the local Taylor family, meta-learned on the task objective, does no worse than the hand-designed bp + Oja and " +
          `the 7-term pool (${100 * MARGIN}-point margin).`,
        rule: "non-inferiority",
        covers:
          `K = ${full.map((x) => x.at.K).join(", ")} training examples per class; at each, the Taylor family against bp + Oja and against the pool, ` +
          "all meta-learned at that K (Taylor against bp alone shown beside them)",
      },
      comps,
      `${per}. Learned: the terms surviving the L1 penalty (|θ| ≥ ${100 * SURVIVES}% of the largest) as one formula.`,
    );
    return [out];
  },
  figures(cs) {
    const h = cs.of(DISCOVERY_ID);
    return h.length
      ? [
          { name: "i-accuracy", spec: accChart(h, "Rule discovery: meta-learned rules at K = 5 and 50", "shots per class K (θ meta-learned at each K)") },
          { name: "i-theta", spec: taylorThetaChart(h) },
        ]
      : [];
  },
  note: {
    rank: 2,
    text: (o, cs: Lookup) =>
      `Scenario i: at K = ${cs
        .coords(DISCOVERY_ID)
        .map((at) => at.K)
        .join(", ")} shots per class, θ is meta-learned on train-split tasks ` +
      `(${o.scarcityEpisodes ?? (o.metaEpisodes > 0 ? o.metaEpisodes : 30)} episodes) for bp alone, bp + Oja, the 7-term pool ` +
      `(L1 λ = ${o.poolL1 ?? POOL_L1}) and the local Taylor family bp + Σ θ_abc preᵃ postᵇ Wᶜ, a, b, c ∈ {0, 1, 2} ` +
      `(26 terms, L1 λ = ${DISCOVERY_L1}), each scored on the test split at the same K.`,
  },
};

/** The Taylor family's learned coefficients per K (first seed): the surviving terms only, on a symmetric log scale. */
function taylorThetaChart(cs: readonly CellResult[]): VlSpec {
  const rows = cs
    .filter((r) => r.rule === "taylor")
    .flatMap((r) => {
      const th = r.runs[0].theta;
      // Per-layer θ: the first layer's value (the chart is of shared θ, as the runner learns it).
      return survivors(th).map((term) => ({ K: r.at.K as number, term: `${term} = ${FORMULAS[term] ?? term}`, value: [th[term]!].flat()[0] }));
    });
  return {
    title: "The Taylor family's meta-learned coefficients that survive the L1 penalty, against K",
    width: 420,
    height: 240,
    data: { values: rows },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "K", type: "quantitative", scale: { type: "log" }, title: `K (training examples per class)` },
      y: { field: "value", type: "quantitative", title: "θ (symmetric log scale)", scale: { type: "symlog", constant: 1e-4 } },
      color: { field: "term", type: "nominal", title: "term" },
    },
  };
}
