import { curveChart } from "../../report/curves.js";
import { pct3, ruleName } from "../../report/format.js";
import type { VlSpec } from "../../report/plot.js";
import { TERM_NAMES } from "../../rules/registry.js";
import { chance } from "../charts.js";
import { cellMaker, type Lookup, type Scenario } from "../scenario.js";
import { compared, claim, meanAcc, scoredAcc, type Comparison, type Verdict } from "../stats.js";
import { POOL_L1, type Cell, type CellResult } from "../types.js";

/** Data-scarce: K ≤ 5 shots per class. */
export const SCARCE_K = 5;
const NO_DECAY = "pool without decay",
  DECAY_ONLY = "bp + decay only",
  GAIN_14 = "bp at Xavier gain 1.4";

/** Transfer accuracies with their failures: a transfer column never hides diverged or exploded tasks. */
function transferText(cs: Lookup, ks: readonly Cell["at"][]): string {
  const transferTo = cs.all.find((r) => r.transferDataset)?.transferDataset ?? "another dataset";
  const one = (c: CellResult | undefined) => {
    if (!c?.transfer) return "";
    const div = c.transfer.reduce((s, r) => s + r.diverged, 0),
      ex = c.transfer.reduce((s, r) => s + r.exploded, 0),
      n = c.transfer.reduce((s, r) => s + r.tasks.length, 0);
    return `${pct3(meanAcc(c.transfer))}%${div || ex ? ` (diverged ${div}/${n}, exploded ${ex}/${n})` : ""}`;
  };
  const rows = ks
    .map((at) => ({ at, b: one(cs.find("g", "bp", at)), o: one(cs.find("g", "bp+oja", at)), p: one(cs.find("g", "pool", at)) }))
    .filter((r) => r.b && r.o && r.p)
    .map((r) => `K = ${r.at.K}: bp ${r.b}, bp + Oja ${r.o}, pool ${r.p}`);
  return rows.length ? ` Transfer, θ learned on MNIST tested on ${transferTo}: ${rows.join("; ")}.` : "";
}

/**
 * Claim 8's mechanism: which part of the pool carries its effect. Per K, paired against the cell each ablates: the
 * pool minus the pool without `decay` (does the pool need decay?), bp + decay minus bp (does decay alone do it?),
 * bp at Xavier gain 1.4 minus bp (does the larger weight scale alone do it?).
 */
function ablation(cs: Lookup, ks: readonly Cell["at"][]): Verdict | null {
  const comps: Comparison[] = [];
  for (const at of ks) {
    const b = cs.find("g", "bp", at),
      p = cs.find("g", "pool", at);
    const nd = cs.find("g", "pool-decay", { ...at, control: NO_DECAY }),
      d = cs.find("g", "bp+decay", { ...at, control: DECAY_ONLY });
    const g = cs.find("g", "bp", { ...at, control: GAIN_14 });
    // As claim 8: the scarce K are counted, K > 5 is context.
    const ctx = (at.K as number) > SCARCE_K ? { context: true } : {};
    if (p && nd) comps.push({ name: `K = ${at.K} (pool − pool without decay)`, ...compared(p, nd), ...ctx });
    if (b && d) comps.push({ name: `K = ${at.K} (bp + decay − bp)`, ...compared(d, b), ...ctx });
    if (b && g) comps.push({ name: `K = ${at.K} (bp at gain 1.4 − bp)`, ...compared(g, b), ...ctx });
  }
  if (!comps.length) return null;
  const v = claim(
    {
      scenario: "g",
      claim:
        "8m. Mechanism of claim 8: the pool's effect is carried by a weight scale — it needs its `decay` term, `decay` alone with bp beats bp, " +
        "and so does a larger initial weight scale alone.",
      rule: "superiority",
      covers:
        `K = ${ks.filter((at) => (at.K as number) <= SCARCE_K).map((at) => at.K).join(", ")} (K > ${SCARCE_K} shown, not counted): the pool against the pool ` +
        "without decay (same L1 penalty), bp + decay alone against bp (neither penalized), and bp at Xavier gain 1.4 (the weight scale the pool " +
        "reaches) against bp, each meta-learned with the episodes of the cell it ablates",
    },
    comps,
  );
  const by = (part: string) => v.conditions.filter((c) => c.name.includes(part) && c.verdict === "holds").map((c) => c.name.split(" (")[0]);
  const carries = [
    by("pool − pool without decay").length ? `removing decay costs the pool more than the minimum effect at ${by("pool − pool without decay").join(", ")}` : "",
    by("bp + decay − bp").length ? `decay alone beats bp at ${by("bp + decay − bp").join(", ")}` : "",
    by("gain 1.4").length ? `the larger initial scale alone beats bp at ${by("gain 1.4").join(", ")}` : "",
  ].filter(Boolean);
  return {
    ...v,
    evidence: `${v.evidence} What carries the effect: ${carries.length ? carries.join("; ") : "no ablation beats its reference by the minimum effect"}.`,
  };
}

/** (g) Claim 8: scarce data. K shots per class; θ meta-learned at that K: bp alone, bp + Oja, the pool with L1. */
export const scarcity: Scenario = {
  id: "g",
  title: "g. Scarce data: meta-learned coefficients and rule pools",
  cells(o, base) {
    const out: Cell[] = [],
      add = cellMaker("g", base, out);
    for (const K of o.quick ? [1, 5, 50] : [1, 2, 5, 10, 20, 50])
      add(`K = ${K}`, { K }, ["bp", "bp+oja", "pool"], { shots: K }, 1, undefined, { curve: Math.max(1, Math.round((5 * K) / 10)) });
    // Claim 8's ablations (what carries the pool's effect): the pool without `decay`, bp with `decay` alone, and bp at
    // the larger weight scale the pool reaches (Xavier gain 1.4), each meta-learned like the cell it ablates.
    for (const K of o.quick ? [5] : [1, 2, 5, 10, 20, 50]) {
      add(`K = ${K}, ${NO_DECAY}`, { K, control: NO_DECAY }, ["pool-decay"], { shots: K });
      add(`K = ${K}, ${DECAY_ONLY}`, { K, control: DECAY_ONLY }, ["bp+decay"], { shots: K });
      add(`K = ${K}, ${GAIN_14}`, { K, control: GAIN_14 }, ["bp"], { shots: K, gain: 1.4 });
    }
    return out;
  },
  verdicts(cs) {
    const ks = cs.coords("g").sort((p, q) => (p.K as number) - (q.K as number));
    const trio = (at: (typeof ks)[0]) => ({ at, b: cs.find("g", "bp", at), o: cs.find("g", "bp+oja", at), p: cs.find("g", "pool", at) });
    const full = ks.map(trio).filter((t) => t.b && t.o && t.p);
    if (!full.some((t) => (t.at.K as number) <= SCARCE_K)) return [];
    // PAPER.md's claim 8 says "bp + Oja *or* the pool": two claims, 8a and 8b, one per rule, each at half the
    // familywise level (so "either holds at K" is a statement at 95% over both). Scarce conditions are counted;
    // K > 5 is shown beside them (not scarce, not part of the claim).
    const scarceKs = full.filter((t) => (t.at.K as number) <= SCARCE_K).map((t) => t.at.K);
    const per = full
      .map(({ at, b, o, p }) => `K = ${at.K}: bp ${pct3(scoredAcc(b!))}%, bp + Oja ${pct3(scoredAcc(o!))}%, pool ${pct3(scoredAcc(p!))}%`)
      .join("; ");
    const covers =
      `K = ${scarceKs.join(", ")} training examples per class (data-scarce: K ≤ ${SCARCE_K}); K > 5 shown beside them, not counted; ` +
      "meta-training and test tasks share MNIST's classes (different images); with 8a and 8b at half the familywise level each, " +
      "claim 8 (either rule) holds at a K where 8a or 8b holds";
    const one = (id: "8a" | "8b", side: "o" | "p", what: string, extra: string) =>
      claim(
        {
          scenario: "g",
          claim: `${id}. ${what} beat${side === "o" ? "" : "s"} plain backprop with a meta-learned learning rate when data is scarce (K ≤ ${SCARCE_K}).`,
          rule: "superiority",
          covers,
          family: 2,
        },
        full.map((t) => ({ name: `K = ${t.at.K}`, ...compared(t[side]!, t.b!), ...((t.at.K as number) > SCARCE_K ? { context: true } : {}) })),
        extra,
      );
    const out: Verdict[] = [
      one("8a", "o", "Meta-learned coefficients (bp + Oja)", `Accuracies: ${per}.`),
      one("8b", "p", "A meta-learned rule pool", `Accuracies: ${per}.${transferText(cs, full.map((t) => t.at))}`),
    ];
    const abl = ablation(
      cs,
      full.map((t) => t.at),
    );
    if (abl) out.push(abl);
    return out;
  },
  figures(cs) {
    const g = cs.of("g"),
      k5 = g.filter((r) => r.at.K === 5 && r.curve);
    return [
      { name: "g-accuracy", spec: scarcityChart(g) },
      { name: "g-theta", spec: poolThetaChart(g) },
      ...(k5.length
        ? [
            {
              name: "g-curves",
              spec: curveChart(
                k5.map((r) => ({ rule: ruleName(r.rule), curve: r.curve! })),
                5,
                "Learning curves at K = 5 (first meta seed's θ)",
              ),
            },
          ]
        : []),
    ];
  },
  note: {
    rank: 1,
    text: (o, cs: Lookup) => {
      const ks = cs
          .coords("g")
          .map((at) => at.K)
          .join(", "),
        episodes = o.scarcityEpisodes ?? (o.metaEpisodes > 0 ? o.metaEpisodes : 30);
      return (
        `Scenario g: 5-way K-shot MNIST tasks for K = ${ks}, 10 query examples per class; at each K, θ is meta-learned on train-split tasks ` +
        `at that K (${episodes} episodes, the ${o.outer ?? "robust"} outer loop): bp alone (a learning rate tuned for K), bp + Oja, and the whole ` +
        `rule pool (${TERM_NAMES.join(", ")}) with an L1 penalty λ = ${o.poolL1 ?? POOL_L1}, all starting from bp = ${o.theta.bp}, oja = ${o.theta.oja} ` +
        `(the pool's other terms at 0); each learned θ is scored on the MNIST test split and, unchanged, on the ${o.transfer ?? "fashion"} test ` +
        "split at the same K."
      );
    },
  },
};

function scarcityChart(cs: readonly CellResult[]): VlSpec {
  const kOf = (r: CellResult) => r.at.K as number;
  const rows = cs.flatMap((r) => [
    { K: kOf(r), rule: ruleName(r.rule), data: "MNIST (meta-learned here)", acc: r.acc },
    ...(r.transfer
      ? [{ K: kOf(r), rule: ruleName(r.rule), data: `${r.transferDataset} (transfer)`, acc: r.transfer.reduce((s, x) => s + x.acc, 0) / r.transfer.length }]
      : []),
  ]);
  return {
    title: "Scarce data: query accuracy against shots per class, θ meta-learned at each K",
    width: 420,
    height: 240,
    data: { values: rows },
    layer: [
      {
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "K", type: "quantitative", scale: { type: "log" }, title: "K (training examples per class)" },
          y: { field: "acc", type: "quantitative", title: "query accuracy", scale: { domain: [0, 1] } },
          color: { field: "rule", type: "nominal", title: "rule" },
          strokeDash: { field: "data", type: "nominal", title: "tested on" },
        },
      },
      ...chance(5),
    ],
  };
}

/** Scenario g: the pool's meta-learned coefficients per K (first seed), on a symmetric log scale. */
function poolThetaChart(cs: readonly CellResult[]): VlSpec {
  const rows = cs
    .filter((r) => r.rule === "pool")
    .flatMap((r) => Object.entries(r.runs[0].theta).map(([term, v]) => ({ K: r.at.K as number, term, value: v as number })));
  return {
    title: "The rule pool's meta-learned coefficients (L1-penalized) against K",
    width: 420,
    height: 240,
    data: { values: rows },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "K", type: "quantitative", scale: { type: "log" }, title: "K (training examples per class)" },
      y: { field: "value", type: "quantitative", title: "θ (symmetric log scale)", scale: { type: "symlog", constant: 1e-4 } },
      color: { field: "term", type: "nominal", title: "term" },
      strokeDash: { field: "term", type: "nominal", title: "term" },
    },
  };
}
