import { ruleName } from "../../report/format.js";
import { pct3 } from "../../report/format.js";
import type { VlSpec } from "../../report/plot.js";
import { chance } from "../charts.js";
import { BOTH, cellMaker, type Scenario } from "../scenario.js";
import { accPairs, compared, atChance, claim, scoredAcc, type Comparison } from "../stats.js";
import { RNN_THETA, type Cell, type CellResult } from "../types.js";

/** (f) Claim 7: short-term memory of a recurrent network, images presented row by row then D steps of zero input. */
export const recurrent: Scenario = {
  id: "f",
  title: "f. Recurrent networks: memory over a delay",
  start: (o) => o.rnnTheta ?? RNN_THETA,
  cells(o, base) {
    const out: Cell[] = [],
      add = cellMaker("f", base, out);
    const rnn = { net: "rnn", hidden: [100] };
    for (const d of o.quick ? [0, 20] : [0, 5, 10, 20, 40]) add(`BPTT, delay ${d}`, { pathway: "bptt", delay: d }, BOTH, { ...rnn, delay: d });
    for (const d of o.quick ? [20] : [0, 20]) add(`FA, delay ${d}`, { pathway: "fa", delay: d }, BOTH, { ...rnn, delay: d, feedback: "random" });
    return out;
  },
  verdicts(cs) {
    const bptt = cs.coords("f", (at) => at.pathway === "bptt").sort((p, q) => (p.delay as number) - (q.delay as number));
    const long = bptt.filter((at) => (at.delay as number) >= 10);
    if (!long.length) return [];
    const pair = (at: (typeof bptt)[0]) => ({ at, b: cs.find("f", "bp", at)!, o: cs.find("f", "bp+oja", at)! });
    const all = bptt.map(pair),
      best = all.reduce((x, p) => (scoredAcc(p.b) > scoredAcc(x.b) ? p : x));
    const comps: Comparison[] = long.map(pair).map(({ at, b, o }) => ({
      name: `delay ${at.delay}`,
      ...compared(o, b),
      premise: { text: `BPTT at delay ${best.at.delay}, its best, minus BPTT here`, pairs: accPairs(best.b, b) },
      ...(atChance(b) && atChance(o) ? { note: "both at chance" } : {}),
    }));
    const fa = cs
      .coords("f", (at) => at.pathway === "fa")
      .map((at) => {
        const b = cs.find("f", "bp", at)!,
          o = cs.find("f", "bp+oja", at)!;
        return { name: `FA through time, delay ${at.delay}`, ...compared(o, b), context: true } satisfies Comparison;
      });
    const per = all.map(({ at, b, o }) => `delay ${at.delay}: BPTT ${pct3(scoredAcc(b))}%, BPTT + Oja ${pct3(scoredAcc(o))}%`).join("; ");
    return [
      claim(
        {
          scenario: "f",
          claim: "7. Recurrent networks: Oja's rule improves short-term memory (accuracy after a delay of zero input, delays ≥ 10).",
          rule: "superiority",
          covers:
            `delays ${long.map((at) => at.delay).join(", ")} of zero input after the image (BPTT; delay ${best.at.delay} is BPTT's best, the reference); ` +
            "feedback alignment through time beside it",
        },
        [...comps, ...fa],
        `Accuracies: ${per}.`,
      ),
    ];
  },
  figures(cs) {
    const rc = rnnCharts(cs.of("f"));
    return [
      { name: "f-accuracy", spec: delayChart(cs.of("f")) },
      { name: "f-delta", spec: rc.delta },
      { name: "f-radius", spec: rc.radius },
    ];
  },
  note: {
    rank: 2,
    text: (o) =>
      `Scenario f: the rate RNN of PAPER.md (our convention: N = 100 tanh units, no leak, no biases, Xavier init), each image presented as its 28 rows ` +
      `then D steps of zero input, read out at the last step; coefficients ${o.metaEpisodes > 0 ? "meta-learned from" : "fixed at"} bp = ` +
      `${(o.rnnTheta ?? RNN_THETA).bp}, oja = ${(o.rnnTheta ?? RNN_THETA).oja}.`,
  },
};

const pathwayOf = (r: CellResult) => (r.at.pathway === "fa" ? "FA" : "BPTT");

/** Scenario f: accuracy against the delay; colour for the rule, dashes for the error pathway. */
function delayChart(cs: readonly CellResult[]): VlSpec {
  const rows = cs.map((r) => ({
    delay: r.at.delay as number,
    rule: ruleName(r.rule),
    pathway: pathwayOf(r),
    acc: r.acc,
    lo: r.acc - r.acc_ci95,
    hi: r.acc + r.acc_ci95,
  }));
  return {
    title: "Recurrent network: query accuracy after D steps of zero input",
    width: 420,
    height: 240,
    data: { values: rows },
    encoding: { x: { field: "delay", type: "quantitative", title: "delay D (time steps)" }, color: { field: "rule", type: "nominal", title: "rule" } },
    layer: [
      {
        mark: { type: "line", point: true },
        encoding: {
          y: { field: "acc", type: "quantitative", title: "query accuracy (95% CI)", scale: { domain: [0, 1] } },
          strokeDash: { field: "pathway", type: "nominal", title: "errors" },
        },
      },
      { mark: { type: "rule" }, encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } } },
      ...chance(5),
    ],
  };
}

/** Scenario f at delay 20 (or the longest): ‖δₜ‖ over t after training, and ρ(J) over training. */
function rnnCharts(all: readonly CellResult[]): { delta: VlSpec; radius: VlSpec } {
  const bptt = [...new Set(all.filter((r) => r.at.pathway === "bptt").map((r) => r.at.delay as number))];
  const delay = bptt.find((d) => d === 20) ?? bptt[bptt.length - 1];
  const cs = all.filter((r) => r.at.delay === delay),
    x = `delay ${delay ?? ""}`;
  const delta = cs.flatMap((r) => {
    const d = r.diagnostics[r.diagnostics.length - 1]?.rnn;
    return d ? d.deltaNorm.map((v, t) => ({ t: t + 1, value: v, rule: ruleName(r.rule), pathway: pathwayOf(r) })) : [];
  });
  const radius = cs.flatMap((r) =>
    r.diagnostics.filter((d) => d.rnn).map((d) => ({ step: d.step, value: d.rnn!.specRadius, rule: ruleName(r.rule), pathway: pathwayOf(r) })),
  );
  const enc = { color: { field: "rule", type: "nominal", title: "rule" }, strokeDash: { field: "pathway", type: "nominal", title: "errors" } };
  return {
    delta: {
      title: `‖δₜ‖ through time after training (${x}): vanishing or exploding errors`,
      width: 420,
      height: 220,
      data: { values: delta },
      mark: { type: "line" },
      encoding: {
        x: { field: "t", type: "quantitative", title: "time step t" },
        y: { field: "value", type: "quantitative", title: "mean ‖δₜ‖", scale: { type: "log" } },
        ...enc,
      },
    },
    radius: {
      title: `Spectral radius of J during training (${x})`,
      width: 420,
      height: 220,
      data: { values: radius },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "step", type: "quantitative", title: "online step (sequences)" },
        y: { field: "value", type: "quantitative", title: "ρ(J)", scale: { zero: false } },
        ...enc,
      },
    },
  };
}
