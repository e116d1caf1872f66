import { join } from "node:path";
import { writeAtomic } from "../core/files.js";
import { POOL_L1, RNN_THETA, SCENARIOS, type CellResult, type SeedRun, type ReproduceOptions, type ScenarioId } from "../experiments/reproduce.js";
import { TERM_NAMES } from "../rules/registry.js";
import { csv, fmtPoints, MISSING, noResidue, pct3, ruleName, sig3, thetaText } from "./format.js";
import { toSvg, svgToPng, type VlSpec } from "./plot.js";
import { curveChart } from "./curves.js";
import { VERDICT_RULE, verdicts, type Outcome, type Verdict } from "./verdicts.js";

export { pairedDiff, verdicts, type Verdict } from "./verdicts.js";

const SCENARIO_TITLES: Record<ScenarioId, string> = {
  a: "a. Online vs mini-batch", b: "b. Depth", c: "c. Initialization", d: "d. Engineering tricks as baselines", e: "e. Feedback alignment",
  f: "f. Recurrent networks: memory over a delay",
  g: "g. Scarce data: meta-learned coefficients and rule pools",
};

/** Axis labels wrapped at spaces into lines of at most `width` characters ('|' separates lines for labelExpr). */
function wrapLabel(s: string, width = 16): string {
  const lines: string[] = [];
  for (const w of s.split(" ")) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 1 + w.length <= width) lines[lines.length - 1] = `${last} ${w}`;
    else lines.push(w);
  }
  return lines.join("|");
}

/** A horizontal line at chance level (1/N), labelled, for accuracy charts. */
function chance(way: number): VlSpec[] {
  return [{ mark: { type: "rule", strokeDash: [4, 3], color: "#666" }, encoding: { y: { datum: 1 / way } } },
    { mark: { type: "text", align: "left", dx: 4, dy: -6, color: "#666", fontSize: 10 }, encoding: { y: { datum: 1 / way }, text: { value: `chance (1/${way})` }, x: { value: 0 } } }];
}

function accChart(rs: CellResult[], scenario: ScenarioId, title: string, xTitle: string): VlSpec {
  const rows = rs.filter((r) => r.scenario === scenario).map((r) => ({ x: wrapLabel(r.x), rule: ruleName(r.rule), acc: r.acc, lo: r.acc - r.acc_ci95, hi: r.acc + r.acc_ci95 }));
  const order = [...new Set(rows.map((r) => r.x))];
  // Side by side only where a setting has both rules; full labels, wrapped over lines instead of cut.
  const paired = order.some((x) => rows.filter((r) => r.x === x).length > 1);
  return {
    title, width: Math.max(420, 70 * order.length), height: 240, data: { values: rows },
    encoding: {
      x: { field: "x", type: "nominal", sort: order, title: xTitle, axis: { labelAngle: 0, labelLimit: 0, labelExpr: "split(datum.label, '|')" } },
      color: { field: "rule", type: "nominal", title: "rule", sort: ["bp", "bp + Oja"] },
      ...(paired ? { xOffset: { field: "rule", sort: ["bp", "bp + Oja"] } } : {}),
    },
    layer: [
      { mark: { type: "bar", opacity: 0.85 }, encoding: { y: { field: "acc", type: "quantitative", title: "query accuracy (95% CI)", scale: { domain: [0, 1] } } } },
      { mark: { type: "rule", color: "black" }, encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } } },
      ...chance(5),
    ],
  };
}

function diagChart(rs: CellResult[], pick: (r: CellResult) => boolean, field: "pr" | "orthoErr" | "actNorm" | "errNorm", title: string, yTitle: string, log = false): VlSpec {
  const rows = rs.filter(pick).flatMap((r) => {
    const d = r.diagnostics[r.diagnostics.length - 1];
    return d ? d.layers.map((l) => ({ layer: l.l, value: l[field], series: `${r.x}, ${ruleName(r.rule)}` })) : [];
  });
  return {
    title, width: 420, height: 220, data: { values: rows }, mark: { type: "line", point: true },
    encoding: {
      x: { field: "layer", type: "ordinal", title: "layer l" },
      y: { field: "value", type: "quantitative", title: yTitle, scale: log ? { type: "log" } : { zero: false } },
      color: { field: "series", type: "nominal", title: null },
    },
  };
}

/** A dash legend drawn as dashed strokes: with `point: true` Vega-Lite draws every entry as the same filled dot. */
const DASH_LEGEND = { symbolType: "stroke", symbolSize: 300, encode: { symbols: { update: { stroke: { value: "#333" }, strokeWidth: { value: 2 }, fill: { value: "transparent" } } } } };

function normChart(rs: CellResult[]): VlSpec {
  const pathway = (r: CellResult) => (r.x.startsWith("feedback") ? "FA" : "BP");
  const rows = rs.filter((r) => r.scenario === "e").flatMap((r) => r.diagnostics.map((d) => ({ step: d.step, value: d.layers.reduce((s, l) => s + l.weightNorm, 0), pathway: pathway(r), rule: ruleName(r.rule) })));
  const ang = rs.filter((r) => r.scenario === "e" && r.x.startsWith("feedback")).flatMap((r) => r.diagnostics.filter((d) => d.step > 0).flatMap((d) => d.layers.slice(0, -1).map((l) => ({ step: d.step, value: l.faAngle, layer: `layer ${l.l}`, rule: r.rule === "bp" ? "FA" : "FA + Oja" }))));
  return {
    resolve: { scale: { color: "independent", strokeDash: "independent" } },
    hconcat: [
      { title: "Σ‖Wₗ‖_F during training (several passes; log scale)", width: 300, height: 220, data: { values: rows }, mark: { type: "line", point: true },
        encoding: { x: { field: "step", type: "quantitative", title: "online step" }, y: { field: "value", type: "quantitative", title: "Σ‖W‖_F", scale: { type: "log" } },
          color: { field: "rule", type: "nominal", title: "rule" }, strokeDash: { field: "pathway", type: "nominal", title: "errors", legend: DASH_LEGEND } } },
      { title: "Angle between the FA update and the true gradient", width: 300, height: 220, data: { values: ang }, mark: { type: "line", point: true },
        encoding: { x: { field: "step", type: "quantitative", title: "online step" }, y: { field: "value", type: "quantitative", title: "degrees" },
          color: { field: "layer", type: "nominal", title: null }, strokeDash: { field: "rule", type: "nominal", title: null, legend: DASH_LEGEND } } },
    ],
  };
}

const pathwayOf = (r: CellResult) => (r.x.startsWith("FA") ? "FA" : "BPTT");

/** Scenario f: accuracy against the delay; colour for the rule, dashes for the error pathway. */
function delayChart(rs: CellResult[]): VlSpec {
  const rows = rs.filter((r) => r.scenario === "f").map((r) => ({ delay: Number(r.x.replace(/^.*delay /, "")), rule: ruleName(r.rule), pathway: pathwayOf(r), acc: r.acc, lo: r.acc - r.acc_ci95, hi: r.acc + r.acc_ci95 }));
  return {
    title: "Recurrent network: query accuracy after D steps of zero input", width: 420, height: 240, data: { values: rows },
    encoding: { x: { field: "delay", type: "quantitative", title: "delay D (time steps)" }, color: { field: "rule", type: "nominal", title: "rule" } },
    layer: [
      { mark: { type: "line", point: true }, encoding: { y: { field: "acc", type: "quantitative", title: "query accuracy (95% CI)", scale: { domain: [0, 1] } }, strokeDash: { field: "pathway", type: "nominal", title: "errors" } } },
      { mark: { type: "rule" }, encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } } },
      ...chance(5),
    ],
  };
}

/** Scenario f at delay 20 (or the longest): ‖δₜ‖ over t after training, and ρ(J) over training. */
function rnnCharts(rs: CellResult[]): { delta: VlSpec; radius: VlSpec } {
  const xsF = [...new Set(rs.filter((r) => r.scenario === "f" && r.x.startsWith("BPTT")).map((r) => r.x))];
  const x = xsF.find((v) => v.endsWith("delay 20")) ?? xsF[xsF.length - 1] ?? "";
  const cs = rs.filter((r) => r.scenario === "f" && (r.x === x || r.x === x.replace("BPTT", "FA")));
  const delta = cs.flatMap((r) => { const d = r.diagnostics[r.diagnostics.length - 1]?.rnn; return d ? d.deltaNorm.map((v, t) => ({ t: t + 1, value: v, rule: ruleName(r.rule), pathway: pathwayOf(r) })) : []; });
  const radius = cs.flatMap((r) => r.diagnostics.filter((d) => d.rnn).map((d) => ({ step: d.step, value: d.rnn!.specRadius, rule: ruleName(r.rule), pathway: pathwayOf(r) })));
  const enc = { color: { field: "rule", type: "nominal", title: "rule" }, strokeDash: { field: "pathway", type: "nominal", title: "errors" } };
  return {
    delta: {
      title: `‖δₜ‖ through time after training (${x.replace("BPTT, ", "")}): vanishing or exploding errors`, width: 420, height: 220, data: { values: delta }, mark: { type: "line" },
      encoding: { x: { field: "t", type: "quantitative", title: "time step t" }, y: { field: "value", type: "quantitative", title: "mean ‖δₜ‖", scale: { type: "log" } }, ...enc },
    },
    radius: {
      title: `Spectral radius of J during training (${x.replace("BPTT, ", "")})`, width: 420, height: 220, data: { values: radius }, mark: { type: "line", point: true },
      encoding: { x: { field: "step", type: "quantitative", title: "online step (sequences)" }, y: { field: "value", type: "quantitative", title: "ρ(J)", scale: { zero: false } }, ...enc },
    },
  };
}

/** Scenario g: accuracy against K per rule (solid: MNIST; dashed: the transfer dataset). */
function scarcityChart(rs: CellResult[]): VlSpec {
  const kOf = (x: string) => Number(x.replace(/^K = /, ""));
  const rows = rs.filter((r) => r.scenario === "g").flatMap((r) => [
    { K: kOf(r.x), rule: ruleName(r.rule), data: "MNIST (meta-learned here)", acc: r.acc },
    ...(r.transfer ? [{ K: kOf(r.x), rule: ruleName(r.rule), data: `${r.transferDataset} (transfer)`, acc: r.transfer.reduce((s, x) => s + x.acc, 0) / r.transfer.length }] : []),
  ]);
  return {
    title: "Scarce data: query accuracy against shots per class, θ meta-learned at each K", width: 420, height: 240, data: { values: rows },
    layer: [
      { mark: { type: "line", point: true }, encoding: { x: { field: "K", type: "quantitative", scale: { type: "log" }, title: "K (training examples per class)" }, y: { field: "acc", type: "quantitative", title: "query accuracy", scale: { domain: [0, 1] } },
        color: { field: "rule", type: "nominal", title: "rule" }, strokeDash: { field: "data", type: "nominal", title: "tested on" } } },
      ...chance(5),
    ],
  };
}

/** Scenario g: the pool's meta-learned coefficients per K (first seed), on a symmetric log scale. */
function poolThetaChart(rs: CellResult[]): VlSpec {
  const kOf = (x: string) => Number(x.replace(/^K = /, ""));
  const rows = rs.filter((r) => r.scenario === "g" && r.rule === "pool").flatMap((r) => Object.entries(r.runs[0].theta).map(([term, v]) => ({ K: kOf(r.x), term, value: v as number })));
  return {
    title: "The rule pool's meta-learned coefficients (L1-penalized) against K", width: 420, height: 240, data: { values: rows }, mark: { type: "line", point: true },
    encoding: { x: { field: "K", type: "quantitative", scale: { type: "log" }, title: "K (training examples per class)" }, y: { field: "value", type: "quantitative", title: "θ (symmetric log scale)", scale: { type: "symlog", constant: 1e-4 } },
      color: { field: "term", type: "nominal", title: "term" }, strokeDash: { field: "term", type: "nominal", title: "term" } },
  };
}

const OUTCOME_TEXT: Record<Outcome, string> = { holds: "holds", refuted: "refuted", inconclusive: "inconclusive" };

/** Failed tasks over every run of a cell, with each meta seed's count when there are several and any failed. */
function failures(r: CellResult, f: (x: SeedRun) => number): string {
  const total = r.runs.reduce((s, x) => s + f(x), 0), n = r.runs.reduce((s, x) => s + x.tasks.length, 0);
  return `${total}/${n}${r.runs.length > 1 && total > 0 ? ` (seeds ${r.runs.map(f).join(", ")})` : ""}`;
}

/** The cells of a scenario as a markdown table: θ per meta seed, accuracy, losses, failures, and the grid check. */
function table(rs: CellResult[], s: ScenarioId): string {
  const cs = rs.filter((r) => r.scenario === s);
  const grid = cs.some((r) => r.grid), transfer = cs.find((r) => r.transfer)?.transferDataset;
  const head = ["configuration", "rule", "θ", "query accuracy ± 95% CI", ...(transfer ? [`${transfer} (transfer)`] : []), "mean loss", "median loss", "diverged", "exploded", ...(grid ? ["best grid θ (accuracy)", "meta − grid"] : [])];
  const rows = cs.map((r) => {
    const seeds = r.runs.length > 1;
    const theta = r.runs.map((x) => thetaText(x.theta)).join("; ") + (r.thetaSource === "meta-learned" ? ` (meta-learned${seeds ? `, ${r.runs.length} seeds` : ""})` : "");
    const range = seeds ? ` (seeds ${r.runs.map((x) => pct3(x.acc)).join(", ")})` : "";
    const g = r.grid;
    const tr = r.transfer ? `${pct3(r.transfer.reduce((sm, x) => sm + x.acc, 0) / r.transfer.length)}%` : "";
    return [r.x, ruleName(r.rule), theta, `${pct3(r.acc)}% ± ${sig3(100 * noResidue(r.acc_ci95, r.acc))}${range}`, ...(transfer ? [tr] : []), sig3(r.loss), sig3(r.loss_median),
      failures(r, (x) => x.diverged), failures(r, (x) => x.exploded),
      ...(grid ? (g ? [`${thetaText(g.best.theta)} (${pct3(g.best.acc)}%)`, `${g.vsMeta.map(fmtPoints).join("; ")}${g.worse ? " — **meta-learning did worse**" : ""}`] : ["", ""]) : [])];
  });
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/** One sentence on the grid check of a scenario's meta-learned cells. */
function gridLine(rs: CellResult[], s: ScenarioId): string | null {
  const cs = rs.filter((r) => r.scenario === s && r.grid);
  if (cs.length === 0) return null;
  const worse = cs.filter((r) => r.grid!.worse);
  // A bp cell's grid is θ_bp alone (5 points); a bp + Oja cell's is θ_bp × θ_oja (5 × 5).
  const sizes = [...new Set(cs.map((r) => r.grid!.points.length))].sort((a, b) => a - b);
  const points = sizes.map((n) => (n === 5 ? "5 points for bp alone" : n === 25 ? "5 × 5 for bp + Oja" : `${n} points`)).join(", ");
  return `Grid check: beside each meta-learned cell, fixed coefficients on a log grid (×¼ … ×4 of the starting θ, ${points}, chosen on train-split tasks) — meta-learning did no worse than the best grid point (scored on the cell's tasks, paired) in ${cs.length - worse.length} of ${cs.length} cells${worse.length ? `; it did worse in ${worse.map((r) => `${r.x}, ${ruleName(r.rule)}`).join("; ")}` : ""}.`;
}

/** Write summary.md, index.html, results.json, results.csv, diagnostics.csv and figures/ into o.out. */
export async function writeReport(o: ReproduceOptions, rs: CellResult[], meta: { command: string; seconds: number; config?: Record<string, unknown>; provenance?: object }): Promise<Verdict[]> {
  const passes = rs.find((r) => r.scenario === "e")?.x.match(/(\d+) passes/)?.[1];
  const vs = verdicts(rs, { passes: passes ? Number(passes) : undefined });
  const deepest = [...new Set(rs.filter((q) => q.scenario === "b").map((q) => q.x))].pop();
  const figs: [string, ScenarioId, VlSpec][] = [
    ["a-accuracy", "a", accChart(rs, "a", "Online vs mini-batch", "batch size (θ scaled by the batch size)")],
    ["b-accuracy", "b", accChart(rs, "b", "Depth (hidden layers of width 100)", "hidden layers")],
    ["c-accuracy", "c", accChart(rs, "c", "Initialization (Xavier gain, or orthogonal)", "initialization")],
    ["d-accuracy", "d", accChart(rs, "d", "Engineering tricks (pure bp) vs online bp + Oja", "configuration")],
    ["e-norms", "e", normChart(rs)],
    ["e-accuracy", "e", accChart(rs, "e", "Several passes: feedback alignment and backprop, with and without Oja", "error pathway")],
    ["mech-pr", "a", diagChart(rs, (r) => r.scenario === "a" && r.x === "batch 1", "pr", "Effective dimensionality after training (paper net, online)", "participation ratio")],
    ["mech-ortho", "a", diagChart(rs, (r) => r.scenario === "a" && r.x === "batch 1", "orthoErr", "Distance from orthonormal rows after training", "‖WWᵀ − I‖_F / √n", true)],
    ["mech-depth-act", "b", diagChart(rs, (r) => r.scenario === "b" && r.x === deepest, "actNorm", "Deepest network: activation norm per layer", "mean ‖yₗ‖", true)],
    ["mech-depth-err", "b", diagChart(rs, (r) => r.scenario === "b" && r.x === deepest, "errNorm", "Deepest network: error norm per layer", "mean ‖eₗ‖", true)],
  ];
  if (rs.some((r) => r.scenario === "g")) {
    const k5 = rs.filter((r) => r.scenario === "g" && r.x === "K = 5" && r.curve);
    figs.push(["g-accuracy", "g", scarcityChart(rs)], ["g-theta", "g", poolThetaChart(rs)]);
    if (k5.length) figs.push(["g-curves", "g", curveChart(k5.map((r) => ({ rule: ruleName(r.rule), curve: r.curve! })), 5, "Learning curves at K = 5 (first meta seed's θ)")]);
  }
  if (rs.some((r) => r.scenario === "f")) {
    const rc = rnnCharts(rs);
    figs.push(["f-accuracy", "f", delayChart(rs)], ["f-delta", "f", rc.delta], ["f-radius", "f", rc.radius]);
  }
  const present = SCENARIOS.filter((s) => rs.some((r) => r.scenario === s));
  const figsOf = (s: ScenarioId) => figs.filter((f) => f[1] === s && present.includes(f[1]) && !f[0].startsWith("mech"));
  const svgs = new Map<string, string>();
  for (const [name, s, spec] of figs) {
    if (!present.includes(s)) continue;
    const svg = await toSvg(spec);
    svgs.set(name, svg);
    writeAtomic(join(o.out, "figures", `${name}.svg`), svg);
    writeAtomic(join(o.out, "figures", `${name}.png`), svgToPng(svg));
  }
  // Everything but timing.json is a function of the options and the seed: the same run gives the same bytes.
  writeAtomic(join(o.out, "results.json"), JSON.stringify({ ...(meta.provenance ? { provenance: meta.provenance } : {}), options: o, ...(meta.config ? { config: meta.config } : {}), verdicts: vs, cells: rs.map(({ key: _k, seconds: _s, ...r }) => r) }, null, 1) + "\n");
  writeAtomic(join(o.out, "timing.json"), JSON.stringify({ seconds: meta.seconds, cells: Object.fromEntries(rs.map((r) => [r.id, r.seconds])) }, null, 1) + "\n");
  writeAtomic(join(o.out, "results.csv"), csv(rs.flatMap((r) => r.runs.map((run, i) => ({
    scenario: r.scenario, x: r.x, rule: ruleName(r.rule), meta_seed: run.metaSeed ?? "", theta: JSON.stringify(run.theta), theta_source: r.thetaSource,
    acc: run.acc, acc_ci95: run.acc_ci95, loss: run.loss, loss_median: run.loss_median, diverged: run.diverged, exploded: run.exploded, tasks: run.tasks.length, weight_norm: run.weight_norm,
    grid_best_theta: i === 0 && r.grid ? JSON.stringify(r.grid.best.theta) : "", grid_best_acc: i === 0 && r.grid ? r.grid.best.acc : "",
    meta_minus_grid: r.grid ? r.grid.vsMeta[i]?.mean ?? "" : "", meta_minus_grid_ci95: r.grid ? r.grid.vsMeta[i]?.ci95 ?? "" : "",
  })))));
  writeAtomic(join(o.out, "diagnostics.csv"), csv(rs.flatMap((r) => r.diagnostics.flatMap((d) => d.layers.map((l) => ({ scenario: r.scenario, x: r.x, rule: ruleName(r.rule), step: d.step, layer: l.l, participation_ratio: l.pr, act_norm: l.actNorm, err_norm: l.errNorm, weight_norm: l.weightNorm, ortho_err: l.orthoErr, fa_angle_deg: l.faAngle, spectral_radius_J: d.rnn?.specRadius ?? "" }))))));

  const outer = o.outer ?? "robust", seeds = o.metaSeeds ?? 1;
  const verdictLine = (v: Verdict) => `**Claim ${v.claim}** — **${OUTCOME_TEXT[v.outcome]}** in this run: ${v.evidence}`;
  const md = [
    "# neuroplastic reproduce — report",
    "",
    `Command: \`${meta.command}\` (${o.quick ? "quick" : "full"} run, ${o.tasks} tasks per cell, diagnostics on ${o.diagTasks} of them with a fixed probe set of ${o.probe} examples, seed ${o.seed}; compute time in timing.json).`,
    `Tasks: 5-way 50-shot, 10 query examples per class, ${o.dataset} test split; online learning (one pass, batch 1) unless stated; network 784-170-130-100-70-10 with softplus β = 10 unless stated.`,
    ...(present.includes("g") ? [`Scenario g: 5-way K-shot MNIST tasks for K = ${[...new Set(rs.filter((r) => r.scenario === "g").map((r) => r.x.replace("K = ", "")))].join(", ")}, 10 query examples per class; at each K, θ is meta-learned on train-split tasks at that K (${o.scarcityEpisodes ?? (o.metaEpisodes > 0 ? o.metaEpisodes : 30)} episodes, the ${o.outer ?? "robust"} outer loop): bp alone (a learning rate tuned for K), bp + Oja, and the whole rule pool (${TERM_NAMES.join(", ")}) with an L1 penalty λ = ${o.poolL1 ?? POOL_L1}, all starting from the published coefficients (the pool's other terms at 0); each learned θ is scored on the MNIST test split and, unchanged, on the ${o.transfer ?? "fashion"} test split at the same K.`] : []),
    ...(present.includes("f") ? [`Scenario f: the rate RNN of PAPER.md (our convention: N = 100 tanh units, no leak, no biases, Xavier init), each image presented as its 28 rows then D steps of zero input, read out at the last step; coefficients ${o.metaEpisodes > 0 ? "meta-learned from" : "fixed at"} bp = ${(o.rnnTheta ?? RNN_THETA).bp}, oja = ${(o.rnnTheta ?? RNN_THETA).oja}.`] : []),
    o.metaEpisodes > 0
      ? `Coefficients: meta-learned for every online configuration and rule (${o.metaEpisodes} episodes on the train split with the ${outer} outer loop${outer === "robust" ? ", docs/meta-learning.md; the learned θ is the mean of the last 10% of episodes'" : ", its final iterate"}; ${seeds} meta-learning seed${seeds > 1 ? "s" : ""} per cell, each scored on the cell's tasks), starting from bp = ${o.theta.bp}, oja = ${o.theta.oja}; always on one pass over each task, the published protocol, also for cells that then train for several passes. Mini-batch cells start from θ × batch size (the same step per example); the Adam and normalization baselines use fixed coefficients.`
      : `Coefficients: fixed, bp = ${o.theta.bp}, oja = ${o.theta.oja}; mini-batch cells use θ × batch size (the same step per example).`,
    "Every rule sees the same tasks and initial weights (paired comparisons). Numbers have three significant digits; a task whose weights became non-finite is *diverged* (scored at chance: accuracy 1/N, loss ln N), one whose weights stayed finite but whose query loss exceeds 10 · ln N is *exploded* (counted in the mean loss as it is; the median is beside it).",
    "",
    `**How verdicts are decided.** ${VERDICT_RULE}`,
    "",
    ...present.flatMap((s) => [`## ${SCENARIO_TITLES[s]}`, "", ...vs.filter((v) => v.scenario === s).map(verdictLine).flatMap((l) => [l, ""]), table(rs, s), "",
      ...(gridLine(rs, s) ? [gridLine(rs, s)!, ""] : []), ...figsOf(s).map((f) => `![${f[0]}](figures/${f[0]}.png)`), ""]),
    "## Diagnostics",
    "",
    "Per layer, on the probe set, at six evenly spaced points of training (before the first step to after the last): participation ratio of the activation covariance, mean activation and error norms, ‖W‖_F, ‖WWᵀ − I‖_F/√n, and for feedback alignment the angle between its update and the true gradient (diagnostics.csv); for the recurrent network also the spectral radius of J and the hidden state and error through time.",
    "",
    ...figs.filter((f) => f[0].startsWith("mech") && present.includes(f[1])).map((f) => `![${f[0]}](figures/${f[0]}.png)`),
    "",
  ].join("\n");
  writeAtomic(join(o.out, "summary.md"), md.replace(/\bNaN\b/g, MISSING));

  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const mdInline = (s: string) => esc(s).replace(/\*\*(.+?)\*\*/g, "<b>$1</b>");
  const htmlTable = (s: ScenarioId) => {
    const lines = table(rs, s).split("\n").filter((l) => !/^\|---/.test(l)).map((l) => l.split(" | ").map((c) => c.replace(/^\| ?| ?\|$/g, "").trim()));
    return `<table><thead><tr>${lines[0].map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>${lines.slice(1).map((r) => `<tr>${r.map((c) => `<td>${mdInline(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
  };
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>neuroplastic reproduce</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:.6em 0;font-size:13px}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
.holds{color:#176b2c;font-weight:600}.refuted{color:#a4161a;font-weight:600}.inconclusive{color:#8a6d00;font-weight:600}figure{margin:1em 0}code{background:#f3f3f3;padding:0 .2em}</style></head><body>
<h1>neuroplastic reproduce</h1>
<p>Command: <code>${esc(meta.command)}</code> — ${o.quick ? "quick" : "full"} run, ${o.tasks} tasks per cell, seed ${o.seed}. Every number on this page comes from that run (results.json, results.csv, diagnostics.csv beside this file).</p>
<p>${mdInline(`How verdicts are decided. ${VERDICT_RULE}`)}</p>
${present.map((s) => `<h2>${esc(SCENARIO_TITLES[s])}</h2>
${vs.filter((v) => v.scenario === s).map((v) => `<p><b>Claim ${esc(v.claim)}</b> — <span class="${v.outcome}">${OUTCOME_TEXT[v.outcome]}</span>: ${esc(v.evidence)}</p>`).join("\n")}
${htmlTable(s)}
${gridLine(rs, s) ? `<p>${esc(gridLine(rs, s)!)}</p>` : ""}
${figs.filter((f) => f[1] === s).map((f) => `<figure>${svgs.get(f[0]) ?? ""}</figure>`).join("\n")}`).join("\n")}
</body></html>
`;
  writeAtomic(join(o.out, "index.html"), html.replace(/\bNaN\b/g, MISSING));
  return vs;
}
