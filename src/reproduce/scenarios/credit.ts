import { pct3, ruleName, sig3 } from "../../report/format.js";
import type { VlSpec } from "../../report/plot.js";
import type { FeedbackName } from "../../signals/feedback.js";
import { accChart, DASH_LEGEND } from "../charts.js";
import { BOTH, cellMaker, type Lookup, type Scenario } from "../scenario.js";
import { compared, atChance, claim, growth, scoredAcc, type Comparison } from "../stats.js";
import type { At, Cell, CellResult } from "../types.js";

/**
 * Claim 5 generalized (issue 25): does Oja's rule help each credit-assignment pathway the field compares — backprop,
 * feedback alignment, direct feedback alignment and sign symmetry — with and without Dale's law, over one pass and
 * over ten?
 */
export const CREDIT_ID = "h" as const;

/** The pathways compared, as cell coordinates (`pathway`) and the --feedback each runs. */
export const CREDIT_PATHWAYS: readonly { pathway: string; feedback: FeedbackName; label: string }[] = [
  { pathway: "bp", feedback: "sym", label: "backprop" },
  { pathway: "fa", feedback: "random", label: "FA" },
  { pathway: "dfa", feedback: "dfa", label: "DFA" },
  { pathway: "sign", feedback: "sign", label: "sign symmetry" },
];
/** Dale's law's excitatory fraction in the constrained cells (Cornford et al. 2021's 80 : 20). */
export const CREDIT_DALE = 0.8;

const label = (at: At) => {
  const p = CREDIT_PATHWAYS.find((x) => x.pathway === at.pathway)?.label ?? String(at.pathway);
  return `${p}${at.dale ? `, Dale ${at.dale}` : ""}, ${at.passes} pass${at.passes === 1 ? "" : "es"}`;
};

/**
 * (h) The credit-assignment grid: every pathway × {no constraint, Dale's law} × {1 pass, 10 passes}, each as pure
 * bp and bp + Oja. Coordinates {pathway, dale (0 = off), passes}; each cell is meta-learned (where the run
 * meta-learns) under its own configuration, so each rule is tuned for the pathway and constraint it is scored on.
 */
export const credit: Scenario = {
  id: CREDIT_ID,
  title: "h. Credit assignment: FA, DFA, sign symmetry and Dale's law, with and without Oja",
  cells(o, base) {
    const out: Cell[] = [],
      add = cellMaker(CREDIT_ID, base, out);
    // A --quick run keeps one pass (the ten-pass cells are the expensive ones).
    for (const passes of o.quick ? [1] : [1, 10])
      for (const dale of [0, CREDIT_DALE])
        for (const p of CREDIT_PATHWAYS) {
          const at = { pathway: p.pathway, dale, passes };
          add(label(at), at, BOTH, { feedback: p.feedback, epochs: passes, ...(dale ? { dale } : {}) });
        }
    return out;
  },
  verdicts(cs) {
    // One claim per pathway; its conditions are {no constraint, Dale's law} × {1 pass, many}: + Oja against the pure rule, paired.
    return CREDIT_PATHWAYS.flatMap((p, k) => {
      const ats = cs.coords(CREDIT_ID, (at) => at.pathway === p.pathway);
      const pairs = ats.map((at) => ({ at, pure: cs.find(CREDIT_ID, "bp", at), oja: cs.find(CREDIT_ID, "bp+oja", at) })).filter((x) => x.pure && x.oja);
      if (!pairs.length) return [];
      const comps: Comparison[] = pairs.map(({ at, pure, oja }) => ({
        name: conditionName(at),
        ...compared(oja!, pure!),
        ...(atChance(pure!) && atChance(oja!) ? { note: "both at chance" } : {}),
      }));
      const norms = pairs
        .map(({ at, pure, oja }) => {
          const g1 = growth(pure!),
            g2 = growth(oja!);
          return `${conditionName(at)}: ${pct3(scoredAcc(pure!))}% → ${pct3(scoredAcc(oja!))}%${
            Number.isFinite(g1) && Number.isFinite(g2) ? `, Σ‖W‖ ×${sig3(g1)} vs ×${sig3(g2)} over training` : ""
          }`;
        })
        .join("; ");
      return [
        claim(
          {
            scenario: CREDIT_ID,
            claim: `5${"bcde"[k]}. ${p.label === "backprop" ? "Backprop" : p.label}: + Oja beats the pure rule (claim 5 generalized to the pathway).`,
            rule: "superiority",
            covers:
              `${p.label} on the paper's network, without and with Dale's law (${CREDIT_DALE} excitatory), over ` +
              `${[...new Set(pairs.map((x) => x.at.passes))].join(" and ")} ` +
              "pass(es) per task, each rule tuned under that protocol",
          },
          comps,
          `Accuracies (pure → + Oja): ${norms}.`,
        ),
      ];
    });
  },
  figures: (cs) => [
    { name: "h-accuracy", spec: accChart(cs.of(CREDIT_ID), "Credit assignment: each pathway with and without Oja (and under Dale's law)", "condition") },
    {
      name: "h-norms",
      mechanism: true,
      spec: lineChart(cs.of(CREDIT_ID), "Σ‖Wₗ‖_F during training (log scale)", "Σ‖W‖_F", (l) => l.weightNorm, true, false),
    },
    {
      name: "h-angles",
      spec: lineChart(
        cs.of(CREDIT_ID).filter((r) => r.at.pathway !== "bp"),
        "Angle between each pathway's update and the true gradient, per layer",
        "degrees",
        (l) => l.faAngle,
        false,
        true,
      ),
      mechanism: true,
    },
    {
      name: "h-dale",
      spec: lineChart(
        cs.of(CREDIT_ID).filter((r) => Number(r.at.dale) > 0),
        "Dale's law: fraction of weights at the sign boundary, per layer",
        "fraction",
        (l) => l.daleBoundary ?? null,
        false,
        true,
      ),
      mechanism: true,
    },
  ],
};

/** A condition's name within its pathway's claim: "Dale 0.8, 10 passes". */
const conditionName = (at: At) => `${at.dale ? `Dale ${at.dale}` : "no constraint"}, ${at.passes} pass${at.passes === 1 ? "" : "es"}`;

type Layer = CellResult["diagnostics"][number]["layers"][number] & { daleBoundary?: number | null };

/** A per-layer diagnostic over training, one panel per condition label (colour: layer; dash: rule), or summed over layers. */
function lineChart(cs: readonly CellResult[], title: string, yTitle: string, f: (l: Layer) => number | null, log: boolean, perLayer: boolean): VlSpec {
  const rows = cs.flatMap((r) =>
    r.diagnostics.flatMap((d) => {
      const ls = d.layers as Layer[];
      const rule = ruleName(r.rule),
        cond = label(r.at);
      if (!perLayer) return [{ step: d.step, value: ls.reduce((s, l) => s + (f(l) ?? 0), 0), layer: "Σ over layers", rule, cond }];
      return ls.flatMap((l) => {
        const v = f(l);
        return v === null || !Number.isFinite(v) ? [] : [{ step: d.step, value: v, layer: `layer ${l.l}`, rule, cond }];
      });
    }),
  );
  return {
    title,
    data: { values: rows },
    facet: { field: "cond", type: "nominal", title: null },
    columns: 4,
    spec: {
      width: 160,
      height: 120,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "step", type: "quantitative", title: "online step" },
        y: { field: "value", type: "quantitative", title: yTitle, ...(log ? { scale: { type: "log" } } : {}) },
        color: { field: "layer", type: "nominal", title: null },
        strokeDash: { field: "rule", type: "nominal", title: null, legend: DASH_LEGEND },
      },
    },
  };
}

/** The lookup type this module joins on (re-exported for tests that build one from synthetic cells). */
export type { Lookup };
