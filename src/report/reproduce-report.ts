import { join } from "node:path";
import { writeAtomic } from "../core/files.js";
import { RNN_THETA, SCENARIOS, type CellResult, type ReproduceOptions, type ScenarioId } from "../experiments/reproduce.js";
import { toSvg, svgToPng, type VlSpec } from "./plot.js";

/** A claim of PAPER.md, tested on the cells of one scenario. */
export interface Verdict {
  scenario: string;
  claim: string;
  holds: boolean | null;
  evidence: string;
}

/** Mean and 95% CI half-width of per-task differences a − b (same task streams, so paired). */
export function pairedDiff(a: CellResult, b: CellResult): { mean: number; ci95: number } {
  const n = Math.min(a.tasks.length, b.tasks.length);
  const d = Array.from({ length: n }, (_, i) => a.tasks[i].acc - b.tasks[i].acc);
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, n - 1));
  return { mean, ci95: (1.96 * sd) / Math.sqrt(n) };
}

const pct = (x: number) => (100 * x).toFixed(1);
const fmtDiff = (d: { mean: number; ci95: number }) => `${d.mean >= 0 ? "+" : ""}${pct(d.mean)} ± ${pct(d.ci95)} points`;
const better = (d: { mean: number; ci95: number }) => d.mean - d.ci95 > 0;

/** Several cells pooled task by task (same task streams in each), for verdicts over a range of settings. */
function cell(rule: string, cs: CellResult[]): CellResult {
  const tasks = cs.flatMap((c) => c.tasks);
  const acc = tasks.reduce((s, t) => s + t.acc, 0) / tasks.length;
  return { ...cs[0], rule, acc, tasks };
}

function find(rs: CellResult[], scenario: string, x: string, rule: string): CellResult | undefined {
  return rs.find((r) => r.scenario === scenario && r.x === x && r.rule === rule);
}

/** Mean over hidden layers of a diagnostic at the last measured step. */
function finalMean(r: CellResult, f: (l: CellResult["diagnostics"][0]["layers"][0]) => number): number {
  const d = r.diagnostics[r.diagnostics.length - 1];
  if (!d) return NaN;
  const hidden = d.layers.slice(0, -1);
  return hidden.reduce((s, l) => s + f(l), 0) / Math.max(1, hidden.length);
}

export function verdicts(rs: CellResult[]): Verdict[] {
  const out: Verdict[] = [];
  const xs = (s: string) => [...new Set(rs.filter((r) => r.scenario === s).map((r) => r.x))];
  // (a) Claim 1: online learning.
  const a1 = find(rs, "a", "batch 1", "bp"), a2 = find(rs, "a", "batch 1", "bp+oja");
  if (a1 && a2) {
    const d = pairedDiff(a2, a1);
    out.push({ scenario: "a", claim: "1. Online learning (batch 1): backprop + Oja beats pure backprop.", holds: better(d), evidence: `bp ${pct(a1.acc)}%, bp+Oja ${pct(a2.acc)}%; paired difference ${fmtDiff(d)}.` });
  }
  // (b) Claim 2: depth. Deep = every setting beyond the shallowest, pooled task by task.
  const depths = xs("b");
  if (depths.length >= 2) {
    const sh = depths[0], deep = depths.slice(1);
    const bs = find(rs, "b", sh, "bp"), os = find(rs, "b", sh, "bp+oja");
    const bd = deep.map((x) => find(rs, "b", x, "bp")), od = deep.map((x) => find(rs, "b", x, "bp+oja"));
    if (bs && os && bd.every(Boolean) && od.every(Boolean)) {
      const pool = (cs: (CellResult | undefined)[], name: string) => cell(name, cs as CellResult[]);
      const B = pool(bd, "bp"), O = pool(od, "bp+oja"), d = pairedDiff(O, B);
      const dropBp = bs.acc - B.acc, dropOja = os.acc - O.acc;
      out.push({
        scenario: "b", claim: "2. Deep networks: pure backprop degrades with depth, backprop + Oja much less.", holds: better(d) && dropBp > dropOja,
        evidence: `from ${sh} to the deeper settings (${deep.join(", ")}, pooled): bp ${pct(bs.acc)}% → ${pct(B.acc)}% (drop ${pct(dropBp)}), bp+Oja ${pct(os.acc)}% → ${pct(O.acc)}% (drop ${pct(dropOja)}); paired difference when deep ${fmtDiff(d)}. Per depth: ${deep.map((x, i) => `${x} ${fmtDiff(pairedDiff(od[i]!, bd[i]!))}`).join("; ")}.`,
      });
    }
  }
  // (c) Claim 3: careless initialization: gains below 1 (too small) and above 1 (too large), each pooled.
  const gains = xs("c").filter((x) => x.startsWith("gain")).map((x) => ({ x, g: Number(x.slice(5)) }));
  const small = gains.filter((g) => g.g < 1), large = gains.filter((g) => g.g > 1);
  if (small.length && large.length) {
    const side = (gs: typeof gains, label: string) => {
      const B = cell(label, gs.map((g) => find(rs, "c", g.x, "bp")!)), O = cell(label, gs.map((g) => find(rs, "c", g.x, "bp+oja")!));
      return { label, gs, B, O, d: pairedDiff(O, B) };
    };
    const parts = [side(small, "too small"), side(large, "too large")];
    out.push({
      scenario: "c", claim: "3. Sub-optimal initialization (weights too small or too large): pure backprop fails, backprop + Oja recovers.",
      holds: parts.every((p) => better(p.d)),
      evidence: parts.map((p) => `${p.label} (${p.gs.map((g) => g.x).join(", ")}): bp ${pct(p.B.acc)}%, bp+Oja ${pct(p.O.acc)}% (${fmtDiff(p.d)})`).join("; ") + ".",
    });
  }
  // (d) Claim 4: the engineering tricks as baselines.
  const ref = find(rs, "d", "online, Xavier (no tricks)", "bp+oja");
  if (ref) {
    const tricks = rs.filter((r) => r.scenario === "d" && r !== ref);
    const ds = tricks.map((t) => ({ t, d: pairedDiff(ref, t) }));
    out.push({
      scenario: "d", claim: "4. The engineering tricks (mini-batches, careful init, Adam, normalization) are the baselines: online bp+Oja with none of them does at least as well as pure backprop with each.",
      holds: ds.every((x) => x.d.mean + x.d.ci95 >= 0),
      evidence: ds.map((x) => `vs ${x.t.x}: ${pct(x.t.acc)}% (${fmtDiff(x.d)} for bp+Oja)`).join("; ") + ".",
    });
  }
  // (e) Claim 5: feedback alignment, over several passes.
  const fx = xs("e").find((x) => x.startsWith("feedback")) ?? "";
  const e1 = find(rs, "e", fx, "bp"), e2 = find(rs, "e", fx, "bp+oja");
  if (e1 && e2) {
    const d = pairedDiff(e2, e1);
    const growth = (r: CellResult) => { const ds = r.diagnostics; return ds.length ? ds[ds.length - 1].layers.reduce((s, l) => s + l.weightNorm, 0) / ds[0].layers.reduce((s, l) => s + l.weightNorm, 0) : NaN; };
    out.push({
      scenario: "e", claim: "5. Random feedback alignment alone is unstable (weights grow); + Oja stabilizes it.", holds: better(d) && growth(e2) < growth(e1) && e2.diverged <= e1.diverged,
      evidence: `${fx}: FA ${pct(e1.acc)}% (Σ‖W‖ ×${growth(e1).toFixed(3)} over training), FA+Oja ${pct(e2.acc)}% (×${growth(e2).toFixed(3)}); paired difference ${fmtDiff(d)}; diverged tasks ${e1.diverged} vs ${e2.diverged}.`,
    });
  }
  // (f) Claim 7: short-term memory of a recurrent network over a delay.
  const delayOf = (x: string) => Number(x.replace(/^.*delay /, ""));
  const bptt = xs("f").filter((x) => x.startsWith("BPTT")).sort((a, b) => delayOf(a) - delayOf(b));
  const long = bptt.filter((x) => delayOf(x) >= 10);
  if (long.length) {
    const B = cell("bp", long.map((x) => find(rs, "f", x, "bp")!)), O = cell("bp+oja", long.map((x) => find(rs, "f", x, "bp+oja")!)), d = pairedDiff(O, B);
    const per = bptt.map((x) => { const b = find(rs, "f", x, "bp")!, o = find(rs, "f", x, "bp+oja")!; return `${x.replace("BPTT, ", "")}: bp ${pct(b.acc)}%, bp+Oja ${pct(o.acc)}% (${fmtDiff(pairedDiff(o, b))})`; });
    const fa = xs("f").filter((x) => x.startsWith("FA")).map((x) => { const b = find(rs, "f", x, "bp")!, o = find(rs, "f", x, "bp+oja")!; return `${x}: FA ${pct(b.acc)}%, FA+Oja ${pct(o.acc)}% (${fmtDiff(pairedDiff(o, b))})`; });
    out.push({
      scenario: "f", claim: "7. Recurrent networks: Oja's rule improves short-term memory (accuracy after a delay of zero input).", holds: better(d),
      evidence: `pooled over delays ${long.map(delayOf).join(", ")}: bp ${pct(B.acc)}%, bp+Oja ${pct(O.acc)}% (${fmtDiff(d)}). Per delay: ${per.join("; ")}.${fa.length ? ` Feedback alignment through time: ${fa.join("; ")}.` : ""}`,
    });
  }
  // Claim 6: mechanism, from the online paper-net cells and the deepest network.
  if (a1 && a2 && a1.diagnostics.length && a2.diagnostics.length) {
    const pr1 = finalMean(a1, (l) => l.pr), pr2 = finalMean(a2, (l) => l.pr);
    const o1 = finalMean(a1, (l) => l.orthoErr), o2 = finalMean(a2, (l) => l.orthoErr);
    out.push({
      scenario: "a", claim: "6. Mechanism: Oja keeps activations high-dimensional and drives the rows of W toward orthonormality.", holds: pr2 > pr1 && o2 < o1,
      evidence: `after training, mean over hidden layers: participation ratio bp ${pr1.toFixed(2)} vs bp+Oja ${pr2.toFixed(2)}; ‖WWᵀ−I‖_F/√n bp ${o1.toFixed(3)} vs bp+Oja ${o2.toFixed(3)}.`,
    });
  }
  return out;
}

function accChart(rs: CellResult[], scenario: string, title: string, xTitle: string): VlSpec {
  const rows = rs.filter((r) => r.scenario === scenario).map((r) => ({ x: r.x, rule: r.rule, acc: r.acc, lo: r.acc - r.acc_ci95, hi: r.acc + r.acc_ci95 }));
  const order = [...new Set(rows.map((r) => r.x))];
  // Side by side only where a setting has both rules; long labels are slanted so they never overlap.
  const paired = order.some((x) => rows.filter((r) => r.x === x).length > 1);
  const long = order.some((x) => x.length > 12);
  return {
    title, width: 420, height: 240, data: { values: rows },
    encoding: {
      x: { field: "x", type: "nominal", sort: order, title: xTitle, axis: { labelAngle: long ? -30 : 0, labelLimit: 220 } },
      color: { field: "rule", type: "nominal", title: "rule" },
      ...(paired ? { xOffset: { field: "rule" } } : {}),
    },
    layer: [
      { mark: { type: "bar", opacity: 0.85 }, encoding: { y: { field: "acc", type: "quantitative", title: "query accuracy (95% CI)", scale: { domain: [0, 1] } } } },
      { mark: { type: "rule", color: "black" }, encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } } },
    ],
  };
}

function diagChart(rs: CellResult[], pick: (r: CellResult) => boolean, field: "pr" | "orthoErr" | "actNorm" | "errNorm", title: string, yTitle: string, log = false): VlSpec {
  const rows = rs.filter(pick).flatMap((r) => {
    const d = r.diagnostics[r.diagnostics.length - 1];
    return d ? d.layers.map((l) => ({ layer: l.l, value: l[field], series: `${r.x}, ${r.rule}` })) : [];
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

function normChart(rs: CellResult[]): VlSpec {
  const rows = rs.filter((r) => r.scenario === "e").flatMap((r) => r.diagnostics.map((d) => ({ step: d.step, value: d.layers.reduce((s, l) => s + l.weightNorm, 0), rule: `${r.x.startsWith("feedback") ? "FA" : "BP"}${r.rule === "bp" ? "" : " + Oja"}` })));
  const ang = rs.filter((r) => r.scenario === "e" && r.x.startsWith("feedback")).flatMap((r) => r.diagnostics.filter((d) => d.step > 0).flatMap((d) => d.layers.slice(0, -1).map((l) => ({ step: d.step, value: l.faAngle, series: `${r.rule === "bp" ? "FA" : "FA + Oja"}, layer ${l.l}` }))));
  return {
    resolve: { scale: { color: "independent" } },
    hconcat: [
      { title: "Σ‖Wₗ‖_F during training (several passes)", width: 300, height: 220, data: { values: rows }, mark: { type: "line", point: true },
        encoding: { x: { field: "step", type: "quantitative", title: "online step" }, y: { field: "value", type: "quantitative", title: "Σ‖W‖_F", scale: { zero: false } }, color: { field: "rule", type: "nominal", title: null } } },
      { title: "Angle between the FA update and the true gradient", width: 300, height: 220, data: { values: ang }, mark: { type: "line", point: true },
        encoding: { x: { field: "step", type: "quantitative", title: "online step" }, y: { field: "value", type: "quantitative", title: "degrees" }, color: { field: "series", type: "nominal", title: null } } },
    ],
  };
}

/** Scenario f: accuracy against the delay, one line per rule and error pathway. */
function delayChart(rs: CellResult[]): VlSpec {
  const rows = rs.filter((r) => r.scenario === "f").map((r) => ({ delay: Number(r.x.replace(/^.*delay /, "")), series: `${r.x.startsWith("FA") ? "FA" : "BPTT"}${r.rule === "bp" ? "" : " + Oja"}`, acc: r.acc, lo: r.acc - r.acc_ci95, hi: r.acc + r.acc_ci95 }));
  return {
    title: "Recurrent network: query accuracy after D steps of zero input", width: 420, height: 240, data: { values: rows },
    encoding: { x: { field: "delay", type: "quantitative", title: "delay D (time steps)" }, color: { field: "series", type: "nominal", title: null } },
    layer: [
      { mark: { type: "line", point: true }, encoding: { y: { field: "acc", type: "quantitative", title: "query accuracy (95% CI)", scale: { domain: [0, 1] } } } },
      { mark: { type: "rule" }, encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } } },
    ],
  };
}

/** Scenario f at the longest shared BPTT delay of ≥ 10: ‖δₜ‖ over t after training, and ρ(J) over training. */
function rnnCharts(rs: CellResult[]): { delta: VlSpec; radius: VlSpec; x: string } {
  const xsF = [...new Set(rs.filter((r) => r.scenario === "f" && r.x.startsWith("BPTT")).map((r) => r.x))];
  const x = xsF.find((v) => v.endsWith("delay 20")) ?? xsF[xsF.length - 1] ?? "";
  const cs = rs.filter((r) => r.scenario === "f" && (r.x === x || r.x === x.replace("BPTT", "FA")));
  const name = (r: CellResult) => `${r.x.startsWith("FA") ? "FA" : "BPTT"}${r.rule === "bp" ? "" : " + Oja"}`;
  const delta = cs.flatMap((r) => { const d = r.diagnostics[r.diagnostics.length - 1]?.rnn; return d ? d.deltaNorm.map((v, t) => ({ t: t + 1, value: v, series: name(r) })) : []; });
  const radius = cs.flatMap((r) => r.diagnostics.filter((d) => d.rnn).map((d) => ({ step: d.step, value: d.rnn!.specRadius, series: name(r) })));
  return {
    x,
    delta: {
      title: `‖δₜ‖ through time after training (${x}): vanishing or exploding errors`, width: 420, height: 220, data: { values: delta }, mark: { type: "line", point: false },
      encoding: { x: { field: "t", type: "quantitative", title: "time step t" }, y: { field: "value", type: "quantitative", title: "mean ‖δₜ‖", scale: { type: "log" } }, color: { field: "series", type: "nominal", title: null } },
    },
    radius: {
      title: `Spectral radius of J during training (${x})`, width: 420, height: 220, data: { values: radius }, mark: { type: "line", point: true },
      encoding: { x: { field: "step", type: "quantitative", title: "online step (sequences)" }, y: { field: "value", type: "quantitative", title: "ρ(J)", scale: { zero: false } }, color: { field: "series", type: "nominal", title: null } },
    },
  };
}

function csv(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return "";
  const head = Object.keys(rows[0]);
  const esc = (v: unknown) => { const s = v === null || v === undefined ? "" : String(v); return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; };
  return [head.join(","), ...rows.map((r) => head.map((h) => esc(r[h])).join(","))].join("\n") + "\n";
}

const SCENARIO_TITLES: Record<ScenarioId, string> = {
  a: "a. Online vs mini-batch", b: "b. Depth", c: "c. Initialization", d: "d. Engineering tricks as baselines", e: "e. Feedback alignment",
  f: "f. Recurrent networks: memory over a delay",
};

/** Write summary.md, index.html, results.json, results.csv, diagnostics.csv and figures/ into o.out. */
export async function writeReport(o: ReproduceOptions, rs: CellResult[], meta: { command: string; seconds: number }): Promise<Verdict[]> {
  const vs = verdicts(rs);
  const figs: [string, string, VlSpec][] = [
    ["a-accuracy", "a", accChart(rs, "a", "Online vs mini-batch", "batch size (θ scaled by the batch size)")],
    ["b-accuracy", "b", accChart(rs, "b", "Depth (hidden layers of width 100)", "hidden layers")],
    ["c-accuracy", "c", accChart(rs, "c", "Initialization (Xavier gain, or orthogonal)", "initialization")],
    ["d-accuracy", "d", accChart(rs, "d", "Engineering tricks (pure bp) vs online bp + Oja", "configuration")],
    ["e-norms", "e", normChart(rs)],
    ["e-accuracy", "e", accChart(rs, "e", "Several passes: feedback alignment and backprop, with and without Oja", "error pathway")],
    ["mech-pr", "a", diagChart(rs, (r) => r.scenario === "a" && r.x === "batch 1", "pr", "Effective dimensionality after training (paper net, online)", "participation ratio")],
    ["mech-ortho", "a", diagChart(rs, (r) => r.scenario === "a" && r.x === "batch 1", "orthoErr", "Distance from orthonormal rows after training", "‖WWᵀ − I‖_F / √n", true)],
    ["mech-depth-act", "b", diagChart(rs, (r) => r.scenario === "b" && r.x === [...new Set(rs.filter((q) => q.scenario === "b").map((q) => q.x))].pop(), "actNorm", "Deepest network: activation norm per layer", "mean ‖yₗ‖", true)],
    ["mech-depth-err", "b", diagChart(rs, (r) => r.scenario === "b" && r.x === [...new Set(rs.filter((q) => q.scenario === "b").map((q) => q.x))].pop(), "errNorm", "Deepest network: error norm per layer", "mean ‖eₗ‖", true)],
  ];
  if (rs.some((r) => r.scenario === "f")) {
    const rc = rnnCharts(rs);
    figs.push(["f-accuracy", "f", delayChart(rs)], ["f-delta", "f", rc.delta], ["f-radius", "f", rc.radius]);
  }
  const present = SCENARIOS.filter((s) => rs.some((r) => r.scenario === s));
  const svgs = new Map<string, string>();
  for (const [name, , spec] of figs) {
    const svg = await toSvg(spec);
    svgs.set(name, svg);
    writeAtomic(join(o.out, "figures", `${name}.svg`), svg);
    writeAtomic(join(o.out, "figures", `${name}.png`), svgToPng(svg));
  }
  // Everything but timing.json is a function of the options and the seed: the same run gives the same bytes.
  writeAtomic(join(o.out, "results.json"), JSON.stringify({ options: o, verdicts: vs, cells: rs.map(({ key: _k, seconds: _s, ...r }) => r) }, null, 1) + "\n");
  writeAtomic(join(o.out, "timing.json"), JSON.stringify({ seconds: meta.seconds, cells: Object.fromEntries(rs.map((r) => [r.id, r.seconds])) }, null, 1) + "\n");
  writeAtomic(join(o.out, "results.csv"), csv(rs.map((r) => ({ scenario: r.scenario, x: r.x, rule: r.rule, theta: JSON.stringify(r.theta), theta_source: r.thetaSource, acc: r.acc, acc_ci95: r.acc_ci95, loss: r.loss, diverged: r.diverged, tasks: r.tasks.length, weight_norm: r.weight_norm }))));
  writeAtomic(join(o.out, "diagnostics.csv"), csv(rs.flatMap((r) => r.diagnostics.flatMap((d) => d.layers.map((l) => ({ scenario: r.scenario, x: r.x, rule: r.rule, step: d.step, layer: l.l, participation_ratio: l.pr, act_norm: l.actNorm, err_norm: l.errNorm, weight_norm: l.weightNorm, ortho_err: l.orthoErr, fa_angle_deg: l.faAngle }))))));

  const table = (s: string) => {
    const cs = rs.filter((r) => r.scenario === s);
    return ["| configuration | rule | θ | query accuracy ± 95% CI | loss | diverged |", "|---|---|---|---|---|---|",
      ...cs.map((r) => `| ${r.x} | ${r.rule} | ${Object.entries(r.theta).map(([k, v]) => `${k}=${Number((v as number).toPrecision(4))}`).join(", ")}${r.thetaSource === "meta-learned" ? " (meta-learned)" : ""} | ${pct(r.acc)}% ± ${pct(r.acc_ci95)} | ${r.loss.toFixed(3)} | ${r.diverged}/${r.tasks.length} |`)].join("\n");
  };
  const verdictLine = (v: Verdict) => `**Claim ${v.claim}** — ${v.holds === null ? "not tested" : v.holds ? "**holds**" : "**does not hold**"} in this run: ${v.evidence}`;
  const md = [
    "# neuroplastic reproduce — report",
    "",
    `Command: \`${meta.command}\` (${o.quick ? "quick" : "full"} run, ${o.tasks} tasks per cell, diagnostics on ${o.diagTasks} of them with a fixed probe set of ${o.probe} examples, seed ${o.seed}; compute time in timing.json).`,
    `Tasks: 5-way 50-shot, 10 query examples per class, ${o.dataset} test split; online learning (one pass, batch 1) unless stated; network 784-170-130-100-70-10 with softplus β = 10 unless stated.`,
    ...(present.includes("f") ? [`Scenario f: the rate RNN of PAPER.md (our convention: N = 100 tanh units, no leak, no biases, Xavier init), each image presented as its 28 rows then D steps of zero input, read out at the last step; coefficients ${o.metaEpisodes > 0 ? "meta-learned from" : "fixed at"} bp = ${(o.rnnTheta ?? RNN_THETA).bp}, oja = ${(o.rnnTheta ?? RNN_THETA).oja}.`] : []),
    `Coefficients: ${o.metaEpisodes > 0 ? `meta-learned for every online configuration and rule (${o.metaEpisodes} episodes on the train split, starting from` : "fixed,"} bp = ${o.theta.bp}, oja = ${o.theta.oja}${o.metaEpisodes > 0 ? "; always on one pass over each task, the published protocol, also for cells that then train for several passes)" : ""}; mini-batch cells use θ × batch size (the same step per example). Every rule sees the same tasks and initial weights (paired comparisons).`,
    "A claim holds when the paired 95% confidence interval of the accuracy difference excludes zero in its favour (and, where stated, the extra condition holds).",
    "",
    ...present.flatMap((s) => [`## ${SCENARIO_TITLES[s]}`, "", ...vs.filter((v) => v.scenario === s).map(verdictLine).flatMap((l) => [l, ""]), table(s), "", ...figs.filter((f) => f[1] === s && !f[0].startsWith("mech")).map((f) => `![${f[0]}](figures/${f[0]}.png)`), ""]),
    "## Diagnostics",
    "",
    "Per layer, on the probe set, at six evenly spaced points of training (before the first step to after the last): participation ratio of the activation covariance, mean activation and error norms, ‖W‖_F, ‖WWᵀ − I‖_F/√n, and for feedback alignment the angle between its update and the true gradient (diagnostics.csv).",
    "",
    ...figs.filter((f) => f[0].startsWith("mech")).map((f) => `![${f[0]}](figures/${f[0]}.png)`),
    "",
  ].join("\n");
  writeAtomic(join(o.out, "summary.md"), md);

  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const mdTable = (s: string) => {
    const lines = table(s).split("\n").filter((l) => !/^\|---/.test(l)).map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
    return `<table><thead><tr>${lines[0].map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>${lines.slice(1).map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
  };
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>neuroplastic reproduce</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
.holds{color:#176b2c;font-weight:600}.fails{color:#a4161a;font-weight:600}figure{margin:1em 0}code{background:#f3f3f3;padding:0 .2em}</style></head><body>
<h1>neuroplastic reproduce</h1>
<p>Command: <code>${esc(meta.command)}</code> — ${o.quick ? "quick" : "full"} run, ${o.tasks} tasks per cell, seed ${o.seed}. Every number on this page comes from that run (results.json, results.csv, diagnostics.csv beside this file).</p>
${present.map((s) => `<h2>${esc(SCENARIO_TITLES[s])}</h2>
${vs.filter((v) => v.scenario === s).map((v) => `<p><b>Claim ${esc(v.claim)}</b> — <span class="${v.holds ? "holds" : "fails"}">${v.holds === null ? "not tested" : v.holds ? "holds" : "does not hold"}</span>: ${esc(v.evidence)}</p>`).join("\n")}
${mdTable(s)}
${figs.filter((f) => f[1] === s).map((f) => `<figure>${svgs.get(f[0])}</figure>`).join("\n")}`).join("\n")}
</body></html>
`;
  writeAtomic(join(o.out, "index.html"), html);
  return vs;
}
