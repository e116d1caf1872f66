import { pct3 } from "../../report/format.js";
import { accChart, diagChart } from "../charts.js";
import { BOTH, cellMaker, type Scenario } from "../scenario.js";
import { accs, all, diffsText, seedDiffs, superiority } from "../stats.js";
import type { Cell, CellResult } from "../types.js";

/** (b) Claim 2: depth, hidden layers of width 100. */
export const depth: Scenario = {
  id: "b",
  title: "b. Depth",
  cells(o, base) {
    const out: Cell[] = [], add = cellMaker("b", base, out);
    for (const d of o.quick ? [2, 8, 16] : [2, 4, 8, 12, 16]) add(`${d} layers`, { depth: d }, BOTH, { hidden: new Array(d).fill(100) });
    return out;
  },
  verdicts(cs) {
    // Deep = every setting beyond the shallowest, pooled task by task.
    const depths = cs.coords("b");
    if (depths.length < 2) return [];
    const [sh, ...deep] = depths;
    const bs = cs.find("b", "bp", sh), os = cs.find("b", "bp+oja", sh);
    const bd = deep.map((at) => cs.find("b", "bp", at)), od = deep.map((at) => cs.find("b", "bp+oja", at));
    if (!bs || !os || !bd.every(Boolean) || !od.every(Boolean)) return [];
    const B = bd as CellResult[], O = od as CellResult[], ds = seedDiffs(O, B);
    const dropBp = bs.acc - accs(B), dropOja = os.acc - accs(O);
    return [
      {
        scenario: "b",
        claim: "2. Deep networks: pure backprop degrades with depth, backprop + Oja much less.",
        outcome: all([superiority(ds)], dropBp > dropOja),
        evidence: `from ${bs.x} to the deeper settings (${B.map((c) => c.x).join(", ")}, pooled): bp ${pct3(bs.acc)}% → ${pct3(accs(B))}% (drop ` +
          `${pct3(dropBp)} points), bp + Oja ${pct3(os.acc)}% → ${pct3(accs(O))}% (drop ${pct3(dropOja)}); paired difference when deep ${diffsText(ds)}. Per ` +
          `depth: ${B.map((c, i) => `${c.x} ${diffsText(seedDiffs([O[i]], [c]))}`).join("; ")}.`,
      },
    ];
  },
  figures(cs) {
    const deepest = cs.coords("b").at(-1), last = cs.of("b").filter((r) => deepest !== undefined && r.at.depth === deepest.depth);
    return [
      { name: "b-accuracy", spec: accChart(cs.of("b"), "Depth (hidden layers of width 100)", "hidden layers") },
      { name: "mech-depth-act", mechanism: true, spec: diagChart(last, "actNorm", "Deepest network: activation norm per layer", "mean ‖yₗ‖", true) },
      { name: "mech-depth-err", mechanism: true, spec: diagChart(last, "errNorm", "Deepest network: error norm per layer", "mean ‖eₗ‖", true) },
    ];
  },
};
