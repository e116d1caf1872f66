import { pct3, ruleName, sig3 } from "../../report/format.js";
import type { VlSpec } from "../../report/plot.js";
import { accChart, DASH_LEGEND } from "../charts.js";
import { BOTH, cellMaker, type Scenario } from "../scenario.js";
import { accPairs, compared, claim, growth, layerGrowth, scoredRuns, type Comparison } from "../stats.js";
import type { Cell, CellResult } from "../types.js";
import { PUBLISHED, publishedText } from "./online.js";
import { publishedControl, withPublished } from "../scenario.js";

/** Where the weight growth sits: Σ‖W‖ and each layer's ‖Wₗ‖ after training over before, and the diverged tasks. */
function growthText(e1: CellResult, e2: CellResult): string {
  const per = (c: CellResult) =>
    layerGrowth(c)
      .map((g, l) => `W${l + 1} ×${sig3(g)}`)
      .join(", ");
  const last = (c: CellResult) => c.diagnostics.at(-1)?.layers.map((l) => l.weightNorm) ?? [];
  const share = (c: CellResult) => {
    const w = last(c),
      s = w.reduce((a, x) => a + x, 0);
    return w.length ? `${sig3((100 * w[w.length - 1]) / s)}%` : "—";
  };
  const div = (c: CellResult) => scoredRuns(c).reduce((s, r) => s + r.diverged, 0);
  return (
    `Weight growth over training (the scored θ, measured tasks): FA Σ‖W‖ ×${sig3(growth(e1))} (${per(e1)}; the output layer holds ${share(e1)} of ` +
    `Σ‖W‖ at the end), FA + Oja ×${sig3(growth(e2))} (${per(e2)}); diverged tasks ${div(e1)} vs ${div(e2)}.`
  );
}

/** How FA's weight growth depends on θ_bp: the grid's points (train split, finite tasks), Σ‖W‖ after training against θ_bp. */
function thetaGrowthText(e1: CellResult): string {
  const w0 = e1.diagnostics[0]?.layers.reduce((s, l) => s + l.weightNorm, 0);
  const pts = (e1.grid?.points ?? []).filter((p) => p.weight_norm !== undefined);
  if (!pts.length || !w0) return "";
  return (
    `FA alone, Σ‖W‖ after training against θ_bp (grid, train split; ${sig3(w0)} before): ` +
    pts
      .map((p) => `${sig3(p.theta.bp as number)}: ${Number.isFinite(p.weight_norm) ? `×${sig3(p.weight_norm! / w0)}` : "diverged"} (${pct3(p.acc)}%)`)
      .join(", ") +
    "."
  );
}

/** (e) Claim 5: feedback alignment over several passes (weight growth builds up over many updates), against backprop. */
export const feedback: Scenario = {
  id: "e",
  title: "e. Feedback alignment",
  cells(o, base) {
    const out: Cell[] = [],
      add = cellMaker("e", base, out);
    const ep = o.quick ? 4 : 10;
    add("feedback alignment", { pathway: "fa", passes: ep }, BOTH, { feedback: "random", epochs: ep });
    add(`backprop, ${ep} passes`, { pathway: "bp", passes: ep }, BOTH, { epochs: ep });
    if (withPublished(o))
      add(
        `feedback alignment, ${PUBLISHED}`,
        { pathway: "fa", passes: ep, control: PUBLISHED },
        BOTH,
        { feedback: "random", epochs: ep },
        1,
        undefined,
        undefined,
        publishedControl(o),
      );
    return out;
  },
  verdicts(cs, opts) {
    const fa = cs.coords("e", (at) => at.pathway === "fa")[0],
      bpAt = cs.coords("e", (at) => at.pathway === "bp")[0];
    const e1 = fa && cs.find("e", "bp", fa),
      e2 = fa && cs.find("e", "bp+oja", fa);
    if (!e1 || !e2) return [];
    const b1 = bpAt && cs.find("e", "bp", bpAt),
      b2 = bpAt && cs.find("e", "bp+oja", bpAt);
    const passes = opts.passes ?? (fa.passes as number);
    const comps: Comparison[] = [
      {
        name: `FA, ${passes} passes`,
        ...compared(e2, e1),
        ...(b1 ? { premise: { text: `backprop minus FA alone, ${passes} passes each`, pairs: accPairs(b1, e1) } } : {}),
      },
      ...(b1 && b2 ? [{ name: `backprop, ${passes} passes`, ...compared(b2, b1), context: true }] : []),
    ];
    return [
      claim(
        {
          scenario: "e",
          claim: "5. Random feedback alignment alone is unstable (weights grow); + Oja stabilizes it.",
          rule: "superiority",
          covers:
            `random feedback alignment on the paper's network over ${passes} passes per task (tuned on ${(e1.protocol ?? 1) >= 2 ? passes : 1} ` +
            `pass${(e1.protocol ?? 1) >= 2 && passes > 1 ? "es" : ""}); backprop over as many passes beside it`,
        },
        comps,
        [
          growthText(e1, e2),
          thetaGrowthText(e1),
          publishedText(cs, "e", fa),
          passes < 10 ? `Only ${passes} passes (a --quick run): weight growth builds up over many passes.` : "",
        ]
          .filter(Boolean)
          .join(" "),
      ),
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
