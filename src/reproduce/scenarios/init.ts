import { pct3 } from "../../report/format.js";
import { accChart } from "../charts.js";
import { BOTH, cellMaker, type Scenario } from "../scenario.js";
import { accs, diffsText, seedDiffs, superiority, type Verdict } from "../stats.js";
import type { Cell } from "../types.js";

/** (c) Claim 3: careless initialization, too small (3a) and too large (3b), each a verdict of its own. */
export const init: Scenario = {
  id: "c",
  title: "c. Initialization",
  cells(o, base) {
    const out: Cell[] = [], add = cellMaker("c", base, out);
    for (const g of o.quick ? [0.25, 1, 3] : [0.1, 0.25, 0.5, 1, 2, 4]) add(`gain ${g}`, { gain: g }, BOTH, { gain: g });
    add("orthogonal", { init: "orthogonal" }, BOTH, { init: "orthogonal" });
    return out;
  },
  verdicts(cs) {
    const gains = cs.coords("c", (at) => typeof at.gain === "number");
    const out: Verdict[] = [];
    for (const [label, side] of [
      ["too small", gains.filter((at) => (at.gain as number) < 1)],
      ["too large", gains.filter((at) => (at.gain as number) > 1)],
    ] as const) {
      if (side.length === 0) continue;
      const B = side.map((at) => cs.find("c", "bp", at)!),
        O = side.map((at) => cs.find("c", "bp+oja", at)!),
        ds = seedDiffs(O, B);
      out.push({
        scenario: "c",
        claim: `3${label === "too small" ? "a" : "b"}. Initial weights ${label}: pure backprop fails, backprop + Oja recovers.`,
        outcome: superiority(ds),
        evidence: `${B.map((c) => c.x).join(", ")} pooled: bp ${pct3(accs(B))}%, bp + Oja ${pct3(accs(O))}% (${diffsText(ds)}). Per gain: ` +
          `${B.map((c, i) => `${c.x} ${diffsText(seedDiffs([O[i]], [c]))}`).join("; ")}.`,
      });
    }
    return out;
  },
  figures: (cs) => [{ name: "c-accuracy", spec: accChart(cs.of("c"), "Initialization (Xavier gain, or orthogonal)", "initialization") }],
};
