import { pct3 } from "../../report/format.js";
import { accChart, diagChart } from "../charts.js";
import { BOTH, cellMaker, publishedControl, withPublished, type Scenario } from "../scenario.js";
import { accPairs, compared, atChance, claim, scoredAcc, type Comparison } from "../stats.js";
import type { Cell } from "../types.js";
import { PUBLISHED, publishedText } from "./online.js";

/** (b) Claim 2: depth, hidden layers of width 100. */
export const depth: Scenario = {
  id: "b",
  title: "b. Depth",
  cells(o, base) {
    const out: Cell[] = [],
      add = cellMaker("b", base, out);
    for (const d of o.quick ? [2, 8, 16] : [2, 4, 8, 12, 16]) add(`${d} layers`, { depth: d }, BOTH, { hidden: new Array(d).fill(100) });
    if (withPublished(o))
      add(`8 layers, ${PUBLISHED}`, { depth: 8, control: PUBLISHED }, BOTH, { hidden: new Array(8).fill(100) }, 1, undefined, undefined, publishedControl(o));
    return out;
  },
  verdicts(cs) {
    // Shallowest first whatever order the cells came in: the first is the reference, the rest are the conditions.
    const depths = cs.coords("b").sort((p, q) => (p.depth as number) - (q.depth as number));
    if (depths.length < 2) return [];
    const pairs = depths.map((at) => ({ at, b: cs.find("b", "bp", at), o: cs.find("b", "bp+oja", at) }));
    if (!pairs.every((p) => p.b && p.o)) return [];
    // Pure backprop's own best depth is the reference its premise is checked against.
    const best = pairs.reduce((x, p) => (scoredAcc(p.b!) > scoredAcc(x.b!) ? p : x));
    const [, ...deep] = pairs;
    const comps: Comparison[] = deep.map(({ at, b, o }) => ({
      name: `${at.depth} layers`,
      ...compared(o!, b!),
      premise: { text: `bp at ${best.at.depth} layers, its best, minus bp here`, pairs: accPairs(best.b!, b!) },
      ...(atChance(b!) && atChance(o!) ? { note: "both at chance" } : {}),
    }));
    const per = pairs.map(({ at, b, o }) => `${at.depth} layers: bp ${pct3(scoredAcc(b!))}%, bp + Oja ${pct3(scoredAcc(o!))}%`).join("; ");
    return [
      claim(
        {
          scenario: "b",
          claim: "2. Deep networks: pure backprop degrades with depth, backprop + Oja much less.",
          rule: "superiority",
          covers:
            `${deep.map((p) => p.at.depth).join(", ")} hidden layers of width 100 each (the paper's network is 784-170-130-100-70-10; ${pairs[0].at.depth} ` +
            "layers is the shallow reference)",
        },
        comps,
        `Accuracies: ${per}. ${publishedText(cs, "b", { depth: 8 })}`.trim(),
      ),
    ];
  },
  figures(cs) {
    const deepest = cs.coords("b").at(-1),
      last = cs.of("b").filter((r) => deepest !== undefined && r.at.depth === deepest.depth);
    return [
      { name: "b-accuracy", spec: accChart(cs.of("b"), "Depth (hidden layers of width 100)", "hidden layers") },
      { name: "mech-depth-act", mechanism: true, spec: diagChart(last, "actNorm", "Deepest network: activation norm per layer", "mean ‖yₗ‖", true) },
      { name: "mech-depth-err", mechanism: true, spec: diagChart(last, "errNorm", "Deepest network: error norm per layer", "mean ‖eₗ‖", true) },
    ];
  },
};
