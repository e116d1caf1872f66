import { pct3, sig3 } from "../../report/format.js";
import { accChart } from "../charts.js";
import { BOTH, cellMaker, publishedControl, withPublished, type Scenario } from "../scenario.js";
import { accPairs, compared, atChance, claim, scoredAcc, scoredRuns, type Comparison, type Verdict } from "../stats.js";
import type { Cell, CellResult } from "../types.js";
import { PUBLISHED, publishedText } from "./online.js";

/**
 * Oja's rule at a large gain: diverged tasks, the grid's figures, and the stability bound they imply. The decay
 * part of Oja's subspace rule, W ← (I − θ_oja y yᵀ) W, multiplies W along y by 1 − θ_oja‖y‖², which stays in
 * (−1, 1) only while θ_oja‖y‖² < 2: with ‖yₗ‖ at initialization (the probe set, before the first step), the bound on
 * θ_oja is 2 / maxₗ‖yₗ‖² over the hidden layers.
 */
function divergence(side: readonly { at: Cell["at"]; b?: CellResult; o?: CellResult }[]): string {
  return side
    .map(({ at, b, o }) => {
      const runs = scoredRuns(o!),
        div = runs.reduce((s, r) => s + r.diverged, 0),
        n = runs.reduce((s, r) => s + r.tasks.length, 0);
      const pts = o!.grid?.points ?? [],
        bad = pts.filter((p) => p.diverged > 0),
        every = pts.filter((p) => p.tasks !== undefined && p.diverged === p.tasks).length;
      const range = bad.length ? `${Math.min(...bad.map((p) => p.diverged))}–${Math.max(...bad.map((p) => p.diverged))}` : "0";
      const y0 = b!.diagnostics[0]?.layers.slice(0, -1).map((l) => l.actNorm) ?? [];
      const ymax = y0.length ? Math.max(...y0) : NaN,
        bound = 2 / ymax ** 2;
      const ojas = pts.map((p) => p.theta.oja as number).filter((x) => x > 0);
      return (
        `At gain ${at.gain}, bp + Oja diverged on ${div} of ${n} tasks${
          pts.length
            ? `; ${bad.length} of its ${pts.length} grid points had diverged train-split tasks (${range} ` +
              `per point${pts[0].tasks !== undefined ? ` of ${pts[0].tasks}; ${every} diverged on every one` : ""})`
            : ""
        }; max‖yₗ‖ at initialization ${sig3(ymax)}, so θ_oja‖y‖² < 2 needs θ_oja < ${sig3(bound)}` +
        (ojas.length ? ` (the grid's smallest θ_oja: ${sig3(Math.min(...ojas))})` : "") +
        "."
      );
    })
    .join(" ");
}

/** (c) Claim 3: careless initialization, too small (3a) and too large (3b), each a verdict of its own. */
export const init: Scenario = {
  id: "c",
  title: "c. Initialization",
  cells(o, base) {
    const out: Cell[] = [],
      add = cellMaker("c", base, out);
    for (const g of o.quick ? [0.25, 1, 3] : [0.1, 0.25, 0.5, 1, 2, 4]) add(`gain ${g}`, { gain: g }, BOTH, { gain: g });
    add("orthogonal", { init: "orthogonal" }, BOTH, { init: "orthogonal" });
    if (withPublished(o))
      add(`gain 0.25, ${PUBLISHED}`, { gain: 0.25, control: PUBLISHED }, BOTH, { gain: 0.25 }, 1, undefined, undefined, publishedControl(o));
    return out;
  },
  verdicts(cs) {
    const gains = cs.coords("c", (at) => typeof at.gain === "number").sort((p, q) => (p.gain as number) - (q.gain as number));
    const pairs = gains.map((at) => ({ at, g: at.gain as number, b: cs.find("c", "bp", at), o: cs.find("c", "bp+oja", at) })).filter((p) => p.b && p.o);
    if (!pairs.length) return [];
    // Pure backprop's own best gain is the reference of every premise ("bp fails at this gain").
    const best = pairs.reduce((x, p) => (scoredAcc(p.b!) > scoredAcc(x.b!) ? p : x));
    const out: Verdict[] = [];
    for (const [label, side] of [
      ["too small", pairs.filter((p) => p.g < 1)],
      ["too large", pairs.filter((p) => p.g > 1)],
    ] as const) {
      if (side.length === 0) continue;
      const comps: Comparison[] = side.map(({ at, b, o }) => ({
        name: `gain ${at.gain}`,
        ...compared(o!, b!),
        // At bp's own best gain the premise compares bp with itself (a difference of exactly 0): say so, not just "+0".
        premise: {
          text: at.gain === best.g ? `bp's best gain is this one, so bp does not fail here` : `bp at gain ${best.g}, its best, minus bp here`,
          pairs: accPairs(best.b!, b!),
        },
        ...(atChance(b!) && atChance(o!) ? { note: "both at chance" } : {}),
      }));
      const per = side.map(({ at, b, o }) => `gain ${at.gain}: bp ${pct3(scoredAcc(b!))}%, bp + Oja ${pct3(scoredAcc(o!))}%`).join("; ");
      const extra = [`Accuracies: ${per}.`, label === "too large" ? divergence(side) : publishedText(cs, "c", { gain: 0.25 })].filter(Boolean).join(" ");
      out.push(
        claim(
          {
            scenario: "c",
            claim: `3${label === "too small" ? "a" : "b"}. Initial weights ${label}: pure backprop fails, backprop + Oja recovers.`,
            rule: "superiority",
            covers: `Xavier gains ${side.map((p) => p.g).join(", ")} (gain 1 is Xavier's own scale), the paper's network`,
          },
          comps,
          extra,
        ),
      );
    }
    return out;
  },
  figures: (cs) => [{ name: "c-accuracy", spec: accChart(cs.of("c"), "Initialization (Xavier gain, or orthogonal)", "initialization") }],
};
