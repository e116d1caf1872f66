import { pct3, ruleName, sig3 } from "../../report/format.js";
import type { VlSpec } from "../../report/plot.js";
import { accChart, DASH_LEGEND } from "../charts.js";
import { BOTH, cellMaker, type Scenario } from "../scenario.js";
import { all, diffsText, growth, seedDiffs, superiority } from "../stats.js";
import type { Cell, CellResult } from "../types.js";

/** (e) Claim 5: feedback alignment over several passes (weight growth builds up over many updates), against backprop. */
export const feedback: Scenario = {
  id: "e",
  title: "e. Feedback alignment",
  cells(o, base) {
    const out: Cell[] = [], add = cellMaker("e", base, out);
    const ep = o.quick ? 4 : 10;
    add("feedback alignment", { pathway: "fa", passes: ep }, BOTH, { feedback: "random", epochs: ep });
    add(`backprop, ${ep} passes`, { pathway: "bp", passes: ep }, BOTH, { epochs: ep });
    return out;
  },
  verdicts(cs, opts) {
    const fa = cs.coords("e", (at) => at.pathway === "fa")[0];
    const e1 = fa && cs.find("e", "bp", fa), e2 = fa && cs.find("e", "bp+oja", fa);
    if (!e1 || !e2) return [];
    const ds = seedDiffs([e2], [e1]), g1 = growth(e1), g2 = growth(e2);
    let outcome = all([superiority(ds)], g2 < g1 && e2.diverged <= e1.diverged);
    const passes = opts.passes ?? (fa.passes as number), few = passes < 10;
    if (few && outcome === "refuted") outcome = "inconclusive";
    return [
      {
        scenario: "e",
        claim: "5. Random feedback alignment alone is unstable (weights grow); + Oja stabilizes it.",
        outcome,
        evidence: `${e1.x}: FA ${pct3(e1.acc)}% (Σ‖W‖ ×${sig3(g1)} over training), FA + Oja ${pct3(e2.acc)}% (×${sig3(g2)}); paired difference ` +
          `${diffsText(ds)}; diverged tasks ${e1.diverged} vs ${e2.diverged}.${few ? ` Only ${passes} passes: too few to refute.` : ""}`,
      },
    ];
  },
  figures: (cs) => [
    { name: "e-norms", spec: normChart(cs.of("e")) },
    { name: "e-accuracy", spec: accChart(cs.of("e"), "Several passes: feedback alignment and backprop, with and without Oja", "error pathway") },
  ],
};

function normChart(cs: readonly CellResult[]): VlSpec {
  const pathway = (r: CellResult) => (r.at.pathway === "fa" ? "FA" : "BP");
  const rows = cs.flatMap((r) =>
    r.diagnostics.map((d) => ({ step: d.step, value: d.layers.reduce((s, l) => s + l.weightNorm, 0), pathway: pathway(r), rule: ruleName(r.rule) })),
  );
  const ang = cs
    .filter((r) => r.at.pathway === "fa")
    .flatMap((r) =>
      r.diagnostics
        .filter((d) => d.step > 0)
        .flatMap((d) =>
          d.layers.slice(0, -1).map((l) => ({ step: d.step, value: l.faAngle, layer: `layer ${l.l}`, rule: r.rule === "bp" ? "FA" : "FA + Oja" })),
        ),
    );
  return {
    resolve: { scale: { color: "independent", strokeDash: "independent" } },
    hconcat: [
      {
        title: "Σ‖Wₗ‖_F during training (several passes; log scale)",
        width: 300,
        height: 220,
        data: { values: rows },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "step", type: "quantitative", title: "online step" },
          y: { field: "value", type: "quantitative", title: "Σ‖W‖_F", scale: { type: "log" } },
          color: { field: "rule", type: "nominal", title: "rule" },
          strokeDash: { field: "pathway", type: "nominal", title: "errors", legend: DASH_LEGEND },
        },
      },
      {
        title: "Angle between the FA update and the true gradient",
        width: 300,
        height: 220,
        data: { values: ang },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "step", type: "quantitative", title: "online step" },
          y: { field: "value", type: "quantitative", title: "degrees" },
          color: { field: "layer", type: "nominal", title: null },
          strokeDash: { field: "rule", type: "nominal", title: null, legend: DASH_LEGEND },
        },
      },
    ],
  };
}
