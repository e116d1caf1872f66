import { pct3, sig3, thetaText } from "../../report/format.js";
import { accChart, diagChart } from "../charts.js";
import { BOTH, cellMaker, publishedControl, withPublished, type Lookup, type Scenario } from "../scenario.js";
import { compared, atChance, claim, finalMean, scoredAcc, scoredRuns, type Comparison, type Verdict } from "../stats.js";
import type { Cell, CellResult, LayerValues } from "../types.js";

/** The matched-step-size control of claim 6: both rules at the run's θ_bp (and bp + Oja at its θ_oja), not tuned. */
export const MATCHED = "matched step";
export const PUBLISHED = "published protocol";
const MECHANISM = "6. Mechanism: Oja keeps activations high-dimensional and drives the rows of W toward orthonormality.";

/** (a) Claim 1, online against mini-batches, and claim 6, the mechanism, from the online cells' per-task diagnostics. */
export const online: Scenario = {
  id: "a",
  title: "a. Online vs mini-batch",
  cells(o, base) {
    const out: Cell[] = [],
      add = cellMaker("a", base, out);
    for (const b of o.quick ? [1, 10] : [1, 10, 50]) add(`batch ${b}`, { batch: b }, BOTH, { batch: b }, b);
    // Claim 6's control: the same θ_bp for both rules, so the step size cannot explain the signatures.
    add(
      `batch 1, ${MATCHED}`,
      { batch: 1, control: MATCHED },
      BOTH,
      { batch: 1 },
      1,
      (rule) => (rule === "bp" ? { bp: o.theta.bp } : { bp: o.theta.bp, oja: o.theta.oja }),
      undefined,
      { tune: "none" },
    );
    if (withPublished(o)) add(`batch 1, ${PUBLISHED}`, { batch: 1, control: PUBLISHED }, BOTH, { batch: 1 }, 1, undefined, undefined, publishedControl(o));
    return out;
  },
  verdicts(cs) {
    const a1 = cs.find("a", "bp", { batch: 1 }),
      a2 = cs.find("a", "bp+oja", { batch: 1 });
    if (!a1 || !a2) return [];
    const out: Verdict[] = [
      claim(
        {
          scenario: "a",
          claim: "1. Online learning (batch 1): backprop + Oja beats pure backprop.",
          rule: "superiority",
          covers: "online learning, batch 1, the paper's network",
        },
        [{ name: "batch 1", ...compared(a2, a1) }],
        [bySize(a1, a2), publishedText(cs, "a", { batch: 1 })].filter(Boolean).join(" "),
      ),
    ];
    const m1 = cs.find("a", "bp", { batch: 1, control: MATCHED }),
      m2 = cs.find("a", "bp+oja", { batch: 1, control: MATCHED });
    if (a1.layerTasks && a2.layerTasks)
      out.push(
        mechanism(cs, [
          ["at each rule's best θ", a1, a2],
          ...(m1?.layerTasks && m2?.layerTasks ? [[`both at θ_bp = ${sig3(m1.theta.bp as number)}`, m1, m2] as const] : []),
        ]),
      );
    else if (a1.diagnostics.length && a2.diagnostics.length) {
      // Cells without per-task diagnostics (protocol 1) allow no paired test: the means are shown, the verdict stays open.
      const v = claim({ scenario: "a", claim: MECHANISM, rule: "direction", covers: "each hidden layer of the online paper network after training" }, []);
      out.push({
        ...v,
        evidence:
          `No paired test: these cells kept no per-task diagnostics. Means over hidden layers after training: participation ratio bp ` +
          `${sig3(finalMean(a1, (l) => l.pr))} vs bp + Oja ${sig3(finalMean(a2, (l) => l.pr))}; ‖WWᵀ−I‖_F/√n bp ` +
          `${sig3(finalMean(a1, (l) => l.orthoErr))} vs bp + Oja ${sig3(finalMean(a2, (l) => l.orthoErr))}; the rules ran at different θ_bp ` +
          `(${thetaText(a1.theta)} vs ${thetaText(a2.theta)}), so the step size is not controlled.`,
      });
    }
    return out;
  },
  figures(cs) {
    const online1 = cs.of("a").filter((r) => r.at.batch === 1);
    return [
      { name: "a-accuracy", spec: accChart(cs.of("a"), "Online vs mini-batch", "batch size (θ scaled by the batch size)") },
      {
        name: "mech-pr",
        mechanism: true,
        spec: diagChart(online1, "pr", "Effective dimensionality after training (paper net, online)", "participation ratio"),
      },
      { name: "mech-ortho", mechanism: true, spec: diagChart(online1, "orthoErr", "Distance from orthonormal rows after training", "‖WWᵀ − I‖_F / √n", true) },
    ];
  },
};

/** The scored θ of each rule, so a reader sees the step sizes being compared. */
function bySize(a1: CellResult, a2: CellResult): string {
  const th = (c: CellResult) =>
    scoredRuns(c)
      .map((r) => thetaText(r.theta))
      .join("; ");
  return `Scored θ: bp ${th(a1)}; bp + Oja ${th(a2)}; accuracies ${pct3(scoredAcc(a1))}% and ${pct3(scoredAcc(a2))}%.`;
}

/** The published outer loop's θ and accuracy beside ours, for a headline cell (issue 28, item 6). */
export function publishedText(cs: Lookup, s: Cell["scenario"], at: Cell["at"]): string {
  const rows = (["bp", "bp+oja"] as const).flatMap((rule) => {
    const p = cs.find(s, rule, { ...at, control: PUBLISHED }),
      ours = cs.find(s, rule, at);
    return p && ours ? [`${rule === "bp" ? "bp" : "bp + Oja"} ${thetaText(p.theta)} → ${pct3(p.acc)}% (ours: ${pct3(scoredAcc(ours))}%)`] : [];
  });
  return rows.length ? `Published protocol (Adam on the exact gradient, lr 1e-3, from θ_bp = 1e-3, others 0): ${rows.join("; ")}.` : "";
}

/** The last diagnostics of each measured task, per layer, for one signature. */
const lastOf = (c: CellResult, f: keyof LayerValues, l: number) => (c.layerTasks ?? []).map((t) => (t ? t.last[f][l] : NaN));

/**
 * Claim 6 with paired intervals per layer: participation ratio (bp + Oja − bp, claimed > 0) and distance from
 * orthonormal rows (bp − bp + Oja, claimed > 0), each at the rules' best θ and at a matched θ_bp; the output layer's
 * (whose Oja "post" is p) shown apart and not counted. At the deepest network of scenario b, whether the signatures
 * are present while learning fails.
 */
function mechanism(cs: Lookup, pairsOf: readonly (readonly [string, CellResult, CellResult])[]): Verdict {
  const comps: Comparison[] = [];
  for (const [label, b, o] of pairsOf) {
    const L = b.layerTasks!.find(Boolean)?.last.pr.length ?? 0;
    for (let l = 0; l < L; l++) {
      const output = l === L - 1,
        name = (sig: string) => `${output ? "output layer" : `layer ${l + 1}`} ${sig} (${label})`;
      comps.push({ name: name("participation ratio"), pairs: [[lastOf(o, "pr", l), lastOf(b, "pr", l)]], unit: "value", ...(output ? { context: true } : {}) });
      comps.push({
        name: name("‖WWᵀ − I‖ reduction (bp − bp + Oja)"),
        pairs: [[lastOf(b, "orthoErr", l), lastOf(o, "orthoErr", l)]],
        unit: "value",
        ...(output ? { context: true } : {}),
      });
    }
  }
  return claim(
    {
      scenario: "a",
      claim: MECHANISM,
      rule: "direction",
      covers: "each hidden layer of the online paper network after training, at each rule's best θ and at a matched θ_bp (the output layer shown apart)",
    },
    comps,
    deepText(cs),
  );
}

/** At the deepest network of scenario b: the signatures and the accuracy, so a reader sees whether they suffice. */
function deepText(cs: Lookup): string {
  const deepest = cs.coords("b").at(-1);
  if (!deepest) return "";
  const b = cs.find("b", "bp", deepest),
    o = cs.find("b", "bp+oja", deepest);
  if (!b?.layerTasks || !o?.layerTasks) return "";
  const mean = (c: CellResult, f: keyof LayerValues) => {
    const vs = (c.layerTasks ?? []).flatMap((t) => (t ? t.last[f].slice(0, -1) : []));
    return vs.reduce((s, x) => s + x, 0) / Math.max(1, vs.length);
  };
  const present = mean(o, "pr") > mean(b, "pr") && mean(o, "orthoErr") < mean(b, "orthoErr");
  const fails = atChance(o);
  return (
    `At ${deepest.depth} layers (scenario b), mean over hidden layers: participation ratio bp ${sig3(mean(b, "pr"))} vs bp + Oja ${sig3(mean(o, "pr"))}, ` +
    `‖WWᵀ − I‖ ${sig3(mean(b, "orthoErr"))} vs ${sig3(mean(o, "orthoErr"))}, accuracy ${pct3(scoredAcc(b))}% vs ${pct3(scoredAcc(o))}%` +
    (present && fails ? ": the signatures are present while learning fails, so they are not sufficient for it." : ".")
  );
}
