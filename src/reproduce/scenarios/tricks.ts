import { pct3 } from "../../report/format.js";
import { accChart } from "../charts.js";
import { cellMaker, type Scenario } from "../scenario.js";
import { compared, claim, MARGIN, scoredAcc } from "../stats.js";
import type { Cell } from "../types.js";

/** (d) Claim 4: the tricks available here, each with pure backprop, against online bp + Oja with none of them (non-inferiority). */
export const tricks: Scenario = {
  id: "d",
  title: "d. Engineering tricks as baselines",
  cells(o, base) {
    const out: Cell[] = [],
      add = cellMaker("d", base, out);
    add("online, Xavier (no tricks)", { trick: "none" }, ["bp+oja"], {});
    add("mini-batch 10", { trick: "mini-batch", batch: 10 }, ["bp"], { batch: 10 }, 10);
    if (!o.quick) add("mini-batch 50", { trick: "mini-batch", batch: 50 }, ["bp"], { batch: 50 }, 50);
    add("careful init: orthogonal", { trick: "orthogonal init" }, ["bp"], { init: "orthogonal" });
    add("careful init: He", { trick: "He init" }, ["bp"], { init: "he" });
    // Adam starts from its usual learning rate, 1e-3, and is tuned on the grid like the other fixed-θ baselines.
    add("Adam", { trick: "Adam" }, ["bp"], { optimizer: "adam" }, 1, { bp: 1e-3 });
    add("layer normalization", { trick: "layer norm" }, ["bp"], { norm: "layer" });
    add("batch normalization, mini-batch 10", { trick: "batch norm", batch: 10 }, ["bp"], { norm: "batch", batch: 10 }, 10);
    return out;
  },
  verdicts(cs) {
    const ref = cs.find("d", "bp+oja", { trick: "none" });
    if (!ref) return [];
    const ts = cs.of("d").filter((r) => r !== ref);
    return [
      claim(
        {
          scenario: "d",
          claim:
            `4. The engineering tricks (mini-batches, careful init, Adam, normalization) are the baselines: online bp + Oja with none of them does at ` +
            `least as well as pure backprop with each (within ${100 * MARGIN} points).`,
          rule: "non-inferiority",
          covers: `online bp + Oja against pure backprop with each of: ${ts.map((t) => t.x).join("; ")} (each trick's step tuned under its own protocol)`,
        },
        ts.map((t) => ({ name: t.x, ...compared(ref, t) })),
        `Accuracies: online bp + Oja ${pct3(scoredAcc(ref))}%; ${ts.map((t) => `${t.x} ${pct3(scoredAcc(t))}%`).join("; ")}.`,
      ),
    ];
  },
  figures: (cs) => [{ name: "d-accuracy", spec: accChart(cs.of("d"), "Engineering tricks (pure bp) vs online bp + Oja", "configuration") }],
};
