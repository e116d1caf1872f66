import { pct3, sig3 } from "../../report/format.js";
import { accChart, diagChart } from "../charts.js";
import { BOTH, cellMaker, type Scenario } from "../scenario.js";
import { diffsText, finalMean, seedDiffs, superiority } from "../stats.js";
import type { Cell } from "../types.js";

/** (a) Claim 1, online against mini-batches, and claim 6, the mechanism, from the online cells' diagnostics. */
export const online: Scenario = {
  id: "a",
  title: "a. Online vs mini-batch",
  cells(o, base) {
    const out: Cell[] = [], add = cellMaker("a", base, out);
    for (const b of o.quick ? [1, 10] : [1, 10, 50]) add(`batch ${b}`, { batch: b }, BOTH, { batch: b }, b);
    return out;
  },
  verdicts(cs) {
    const a1 = cs.find("a", "bp", { batch: 1 }), a2 = cs.find("a", "bp+oja", { batch: 1 });
    if (!a1 || !a2) return [];
    const ds = seedDiffs([a2], [a1]);
    const out = [
      {
        scenario: "a" as const,
        claim: "1. Online learning (batch 1): backprop + Oja beats pure backprop.",
        outcome: superiority(ds),
        evidence: `bp ${pct3(a1.acc)}%, bp + Oja ${pct3(a2.acc)}%; paired difference ${diffsText(ds)}.`,
      },
    ];
    if (a1.diagnostics.length && a2.diagnostics.length) {
      const pr1 = finalMean(a1, (l) => l.pr), pr2 = finalMean(a2, (l) => l.pr);
      const o1 = finalMean(a1, (l) => l.orthoErr), o2 = finalMean(a2, (l) => l.orthoErr);
      const fav = [pr2 > pr1, o2 < o1];
      out.push({
        scenario: "a",
        claim: "6. Mechanism: Oja keeps activations high-dimensional and drives the rows of W toward orthonormality.",
        outcome: fav.every(Boolean) ? "holds" : fav.some(Boolean) ? "inconclusive" : "refuted",
        evidence: `after training, mean over hidden layers: participation ratio bp ${sig3(pr1)} vs bp + Oja ${sig3(pr2)}; ‖WWᵀ−I‖_F/√n bp ${sig3(o1)} vs ` +
          `bp + Oja ${sig3(o2)}.`,
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
