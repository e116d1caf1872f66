import { join } from "node:path";
import { writeAtomic } from "../core/files.js";
import { TERM_NAMES } from "../rules/registry.js";
import { csv, fmtPoints, MISSING, noResidue, pct3, ruleName, sig3, thetaText } from "../report/format.js";
import { toSvg, svgToPng, type VlSpec } from "../report/plot.js";
import { Lookup } from "./scenario.js";
import { SCENARIO_IDS, SCENARIOS } from "./scenarios.js";
import { type Outcome, type Verdict, VERDICT_RULE } from "./stats.js";
import { POOL_L1, type CellResult, type ReproduceOptions, type ScenarioId, type SeedRun } from "./types.js";
import { verdicts } from "./verdicts.js";

export { pairedDiff, verdicts, type Verdict } from "./verdicts.js";

/** index.html's style sheet (two lines, as the page has always had it). */
const CSS = [
  "body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}",
  "table{border-collapse:collapse;margin:.6em 0;font-size:13px}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}\n",
  ".holds{color:#176b2c;font-weight:600}.refuted{color:#a4161a;font-weight:600}.inconclusive{color:#8a6d00;font-weight:600}",
  "figure{margin:1em 0}code{background:#f3f3f3;padding:0 .2em}",
].join("");
const PROVENANCE = "Every number on this page comes from that run (results.json, results.csv, diagnostics.csv beside this file).";

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
  const head = [
    "configuration",
    "rule",
    "θ",
    "query accuracy ± 95% CI",
    ...(transfer ? [`${transfer} (transfer)`] : []),
    "mean loss",
    "median loss",
    "diverged",
    "exploded",
    ...(grid ? ["best grid θ (accuracy)", "meta − grid"] : []),
  ];
  const rows = cs.map((r) => {
    const seeds = r.runs.length > 1;
    const theta =
      r.runs.map((x) => thetaText(x.theta)).join("; ") + (r.thetaSource === "meta-learned" ? ` (meta-learned${seeds ? `, ${r.runs.length} seeds` : ""})` : "");
    const range = seeds ? ` (seeds ${r.runs.map((x) => pct3(x.acc)).join(", ")})` : "";
    const g = r.grid;
    const tr = r.transfer ? `${pct3(r.transfer.reduce((sm, x) => sm + x.acc, 0) / r.transfer.length)}%` : "";
    return [
      r.x,
      ruleName(r.rule),
      theta,
      `${pct3(r.acc)}% ± ${sig3(100 * noResidue(r.acc_ci95, r.acc))}${range}`,
      ...(transfer ? [tr] : []),
      sig3(r.loss),
      sig3(r.loss_median),
      failures(r, (x) => x.diverged),
      failures(r, (x) => x.exploded),
      ...(grid
        ? g
          ? [`${thetaText(g.best.theta)} (${pct3(g.best.acc)}%)`, `${g.vsMeta.map(fmtPoints).join("; ")}${g.worse ? " — **meta-learning did worse**" : ""}`]
          : ["", ""]
        : []),
    ];
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
  return `Grid check: beside each meta-learned cell, fixed coefficients on a log grid (×¼ … ×4 of the starting θ, ${points}, chosen on train-split tasks) ` +
    `— meta-learning did no worse than the best grid point (scored on the cell's tasks, paired) in ${cs.length - worse.length} of ${cs.length} ` +
    `cells${worse.length ? `; it did worse in ${worse.map((r) => `${r.x}, ${ruleName(r.rule)}`).join("; ")}` : ""}.`;
}

/** Write summary.md, index.html, results.json, results.csv, diagnostics.csv and figures/ into o.out. */
export async function writeReport(
  o: ReproduceOptions,
  rs: CellResult[],
  meta: { command: string; seconds: number; config?: Record<string, unknown>; provenance?: object },
): Promise<Verdict[]> {
  const cs = new Lookup(rs),
    vs = verdicts(rs);
  const present = SCENARIO_IDS.filter((s) => cs.has(s));
  const figs: [string, ScenarioId, VlSpec, boolean][] = present.flatMap((s) =>
    SCENARIOS[s].figures(cs).map((f): [string, ScenarioId, VlSpec, boolean] => [f.name, s, f.spec, f.mechanism ?? false]),
  );
  const figsOf = (s: ScenarioId) => figs.filter((f) => f[1] === s && !f[3]);
  const svgs = new Map<string, string>();
  for (const [name, , spec] of figs) {
    const svg = await toSvg(spec);
    svgs.set(name, svg);
    writeAtomic(join(o.out, "figures", `${name}.svg`), svg);
    writeAtomic(join(o.out, "figures", `${name}.png`), svgToPng(svg));
  }
  // Everything but timing.json is a function of the options and the seed: the same run gives the same bytes.
  writeAtomic(
    join(o.out, "results.json"),
    JSON.stringify(
      {
        ...(meta.provenance ? { provenance: meta.provenance } : {}),
        options: o,
        ...(meta.config ? { config: meta.config } : {}),
        verdicts: vs,
        cells: rs.map(({ key: _k, seconds: _s, at: _a, ...r }) => r),
      },
      null,
      1,
    ) + "\n",
  );
  writeAtomic(
    join(o.out, "timing.json"),
    JSON.stringify({ seconds: meta.seconds, cells: Object.fromEntries(rs.map((r) => [r.id, r.seconds])) }, null, 1) + "\n",
  );
  writeAtomic(
    join(o.out, "results.csv"),
    csv(
      rs.flatMap((r) =>
        r.runs.map((run, i) => ({
          scenario: r.scenario,
          x: r.x,
          rule: ruleName(r.rule),
          meta_seed: run.metaSeed ?? "",
          theta: JSON.stringify(run.theta),
          theta_source: r.thetaSource,
          acc: run.acc,
          acc_ci95: run.acc_ci95,
          loss: run.loss,
          loss_median: run.loss_median,
          diverged: run.diverged,
          exploded: run.exploded,
          tasks: run.tasks.length,
          weight_norm: run.weight_norm,
          grid_best_theta: i === 0 && r.grid ? JSON.stringify(r.grid.best.theta) : "",
          grid_best_acc: i === 0 && r.grid ? r.grid.best.acc : "",
          meta_minus_grid: r.grid ? (r.grid.vsMeta[i]?.mean ?? "") : "",
          meta_minus_grid_ci95: r.grid ? (r.grid.vsMeta[i]?.ci95 ?? "") : "",
        })),
      ),
    ),
  );
  writeAtomic(
    join(o.out, "diagnostics.csv"),
    csv(
      rs.flatMap((r) =>
        r.diagnostics.flatMap((d) =>
          d.layers.map((l) => ({
            scenario: r.scenario,
            x: r.x,
            rule: ruleName(r.rule),
            step: d.step,
            layer: l.l,
            participation_ratio: l.pr,
            act_norm: l.actNorm,
            err_norm: l.errNorm,
            weight_norm: l.weightNorm,
            ortho_err: l.orthoErr,
            fa_angle_deg: l.faAngle,
            spectral_radius_J: d.rnn?.specRadius ?? "",
          })),
        ),
      ),
    ),
  );

  const outer = o.outer ?? "robust",
    seeds = o.metaSeeds ?? 1;
  const verdictLine = (v: Verdict) => `**Claim ${v.claim}** — **${OUTCOME_TEXT[v.outcome]}** in this run: ${v.evidence}`;
  const md = [
    "# neuroplastic reproduce — report",
    "",
    `Command: \`${meta.command}\` (${o.quick ? "quick" : "full"} run, ${o.tasks} tasks per cell, diagnostics on ${o.diagTasks} of them with a fixed probe ` +
      `set of ${o.probe} examples, seed ${o.seed}; compute time in timing.json).`,
    `Tasks: 5-way 50-shot, 10 query examples per class, ${o.dataset} test split; online learning (one pass, batch 1) unless stated; network ` +
      `784-170-130-100-70-10 with softplus β = 10 unless stated.`,
    ...present
      .filter((s) => SCENARIOS[s].note)
      .sort((p, q) => SCENARIOS[p].note!.rank - SCENARIOS[q].note!.rank)
      .map((s) => SCENARIOS[s].note!.text(o, cs)),
    o.metaEpisodes > 0
      ? `Coefficients: meta-learned for every online configuration and rule (${o.metaEpisodes} episodes on the train split with the ${outer} outer ` +
        `loop${outer === "robust" ? ", docs/meta-learning.md; the learned θ is the mean of the last 10% of episodes'" : ", its final iterate"}; ${seeds} ` +
        `meta-learning seed${seeds > 1 ? "s" : ""} per cell, each scored on the cell's tasks), starting from bp = ${o.theta.bp}, oja = ${o.theta.oja}; ` +
        `always on one pass over each task, the published protocol, also for cells that then train for several passes. Mini-batch cells start from θ × batch ` +
        `size (the same step per example); the Adam and normalization baselines use fixed coefficients.`
      : `Coefficients: fixed, bp = ${o.theta.bp}, oja = ${o.theta.oja}; mini-batch cells use θ × batch size (the same step per example).`,
    "Every rule sees the same tasks and initial weights (paired comparisons). Numbers have three significant digits; a task whose weights became " +
      "non-finite is *diverged* (scored at chance: accuracy 1/N, loss ln N), one whose weights stayed finite but whose query loss exceeds 10 · ln N is " +
      "*exploded* (counted in the mean loss as it is; the median is beside it).",
    "",
    `**How verdicts are decided.** ${VERDICT_RULE}`,
    "",
    ...present.flatMap((s) => [
      `## ${SCENARIOS[s].title}`,
      "",
      ...vs
        .filter((v) => v.scenario === s)
        .map(verdictLine)
        .flatMap((l) => [l, ""]),
      table(rs, s),
      "",
      ...(gridLine(rs, s) ? [gridLine(rs, s)!, ""] : []),
      ...figsOf(s).map((f) => `![${f[0]}](figures/${f[0]}.png)`),
      "",
    ]),
    "## Diagnostics",
    "",
    "Per layer, on the probe set, at six evenly spaced points of training (before the first step to after the last): participation ratio of the activation " +
      "covariance, mean activation and error norms, ‖W‖_F, ‖WWᵀ − I‖_F/√n, and for feedback alignment the angle between its update and the true gradient " +
      "(diagnostics.csv); for the recurrent network also the spectral radius of J and the hidden state and error through time.",
    "",
    ...figs.filter((f) => f[3]).map((f) => `![${f[0]}](figures/${f[0]}.png)`),
    "",
  ].join("\n");
  writeAtomic(join(o.out, "summary.md"), md.replace(/\bNaN\b/g, MISSING));

  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const mdInline = (s: string) => esc(s).replace(/\*\*(.+?)\*\*/g, "<b>$1</b>");
  const htmlTable = (s: ScenarioId) => {
    const lines = table(rs, s)
      .split("\n")
      .filter((l) => !/^\|---/.test(l))
      .map((l) => l.split(" | ").map((c) => c.replace(/^\| ?| ?\|$/g, "").trim()));
    return `<table><thead><tr>${lines[0].map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>${lines
      .slice(1)
      .map((r) => `<tr>${r.map((c) => `<td>${mdInline(c)}</td>`).join("")}</tr>`)
      .join("")}</tbody></table>`;
  };
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>neuroplastic reproduce</title>
<style>${CSS}</style></head><body>
<h1>neuroplastic reproduce</h1>
<p>Command: <code>${esc(meta.command)}</code> — ${o.quick ? "quick" : "full"} run, ${o.tasks} tasks per cell, seed ${o.seed}. ${PROVENANCE}</p>
<p>${mdInline(`How verdicts are decided. ${VERDICT_RULE}`)}</p>
${present
  .map(
    (s) => `<h2>${esc(SCENARIOS[s].title)}</h2>
${vs
  .filter((v) => v.scenario === s)
  .map((v) => `<p><b>Claim ${esc(v.claim)}</b> — <span class="${v.outcome}">${OUTCOME_TEXT[v.outcome]}</span>: ${esc(v.evidence)}</p>`)
  .join("\n")}
${htmlTable(s)}
${gridLine(rs, s) ? `<p>${esc(gridLine(rs, s)!)}</p>` : ""}
${figs
  .filter((f) => f[1] === s)
  .map((f) => `<figure>${svgs.get(f[0]) ?? ""}</figure>`)
  .join("\n")}`,
  )
  .join("\n")}
</body></html>
`;
  writeAtomic(join(o.out, "index.html"), html.replace(/\bNaN\b/g, MISSING));
  return vs;
}
