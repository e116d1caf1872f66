import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic } from "../../core/files.js";
import { reproduce, type ReproduceOptions } from "../../reproduce/run.js";
import { writeReport } from "../../reproduce/report.js";
import { csv, MISSING, noResidue, pct3, sig3 } from "../../report/format.js";
import { writeFigure, type VlSpec } from "../../report/plot.js";
import { verdicts } from "../../reproduce/verdicts.js";
import { provenance } from "../provenance.js";
import { reproduceFlatConfig } from "../reproduce.js";
import { axesText, ranges, readCell, readManifest, SweepError, type ManifestLine } from "./plan.js";
import type { CellRun } from "./run.js";

interface Collected { index: number; axes: Record<string, unknown>; config: unknown; runs: CellRun[]; meta?: unknown; seconds?: number }

/**
 * Merge the cells of DIR: results.json and results.csv, and a report — the
 * reproduce report for a reproduce plan; otherwise summary.md with a table
 * and a figure per axis (query accuracy ± 95% CI, the tasks of every cell
 * with that axis value pooled). An incomplete sweep is refused, naming the
 * missing cells, unless allowPartial.
 */
export async function collectSweep(dir: string, opts: { allowPartial?: boolean; log?: (s: string) => void } = {}): Promise<string[]> {
  const log = opts.log ?? ((s: string) => process.stdout.write(s + "\n"));
  const { lines, hash } = readManifest(dir);
  const have = lines.map((l) => readCell(dir, l, hash));
  const missing = lines.filter((_, i) => have[i] === null).map((l) => l.index);
  if (missing.length > 0 && !opts.allowPartial)
    throw new SweepError(
      `the sweep is incomplete: ${missing.length} of ${lines.length} cells missing (${ranges(missing)}); run them (sweep run, or sweep slurm --missing ` +
        `--submit), or pass --allow-partial`,
    );
  if (missing.length > 0) log(`collecting ${lines.length - missing.length} of ${lines.length} cells (--allow-partial; missing ${ranges(missing)})`);
  if (lines[0].command === "reproduce") {
    if (missing.length > 0) throw new SweepError("a reproduce report needs every cell (--allow-partial applies to train and meta sweeps)");
    const o = lines[0].config as ReproduceOptions;
    const rs = await reproduce({ ...o, out: dir, workers: 1 });
    for (const v of verdicts(rs)) log(`${v.outcome.toUpperCase().padEnd(12)}  claim ${v.claim}`);
    await writeReport({ ...o, out: dir }, rs, {
      command: `neuroplastic sweep collect ${dir}`,
      seconds: rs.reduce((s, r) => s + r.seconds, 0),
      config: reproduceFlatConfig({ ...o, out: dir }),
      provenance: provenance(),
    });
    return [join(dir, "index.html"), join(dir, "summary.md"), join(dir, "results.json"), join(dir, "results.csv")];
  }
  const cells: Collected[] = lines.flatMap((l, i) => (have[i] ? [have[i] as unknown as Collected] : []));
  return writeGridReport(dir, lines, cells, hash, missing);
}

async function writeGridReport(dir: string, lines: ManifestLine[], cells: Collected[], hash: string, missing: number[]): Promise<string[]> {
  const axes = Object.keys(lines[0].axes);
  // results.json: everything but timing and hosts, so the same sweep gives the same bytes wherever its cells ran.
  const results = {
    command: lines[0].command,
    manifest: hash,
    axes,
    cells: cells.map((c) => ({ index: c.index, axes: c.axes, config: c.config, ...(c.meta ? { meta: c.meta } : {}), runs: c.runs })),
    missing,
  };
  writeAtomic(join(dir, "results.json"), JSON.stringify(results, null, 1) + "\n");
  writeAtomic(
    join(dir, "timing.json"),
    JSON.stringify(
      { seconds: cells.reduce((s, c) => s + (c.seconds ?? 0), 0), cells: Object.fromEntries(cells.map((c) => [c.index, c.seconds ?? null])) },
      null,
      1,
    ) + "\n",
  );
  // A sweep with native-fast cells (not wasm's bytes) names every row's backend and path; one without keeps its columns.
  // (A train cell's config is one per rule, all on the same backend; a meta cell's is one.)
  const cfgOf = (c: (typeof cells)[number]) => {
    const x = c.config as { backend?: string; kernels?: string } | { backend?: string; kernels?: string }[] | undefined;
    return Array.isArray(x) ? x[0] : x;
  };
  const anyFast = cells.some((c) => cfgOf(c)?.backend === "native-fast");
  const rows = cells.flatMap((c) => c.runs.map((r) => ({
    index: c.index, ...Object.fromEntries(axes.map((a) => [a, value(c.axes[a])])), rule: r.rule,
    acc: r.acc, acc_ci95: meanCi(r.tasks).ci95, loss: r.loss, diverged: r.diverged, tasks: r.tasks.length,
    ...(anyFast ? { backend: cfgOf(c)?.backend ?? "", kernels: cfgOf(c)?.kernels ?? "" } : {}),
  })));
  writeAtomic(join(dir, "results.csv"), csv(rows));
  // Per axis: each value's tasks pooled over the other axes, one series per rule (unless the rule is the axis).
  mkdirSync(join(dir, "figures"), { recursive: true });
  const way = wayOf(cells);
  const md: string[] = [
    `# Sweep ${dir}`,
    "",
    `${cells.length} of ${lines.length} cells, ${lines[0].command}; manifest ${hash.slice(0, 12)}. Query accuracy ± 95% CI over tasks, pooled over the ` +
      `other axes.`,
    "",
  ];
  if (missing.length) md.push(`**Partial:** cells ${ranges(missing)} are missing.`, "");
  for (const a of axes) {
    const values = [...new Map(lines.map((l) => [JSON.stringify(l.axes[a]), l.axes[a]])).values()];
    const ruleAxis = a === "rule" || a === "theta" || lines[0].command === "meta";
    const series = ruleAxis ? ["all"] : [...new Set(cells.flatMap((c) => c.runs.map((r) => r.rule)))];
    const points = values.flatMap((v) => series.map((s) => {
      const tasks = cells
        .filter((c) => JSON.stringify(c.axes[a]) === JSON.stringify(v))
        .flatMap((c) => c.runs.filter((r) => ruleAxis || r.rule === s).flatMap((r) => r.tasks));
      return { value: value(v), series: s, ...meanCi(tasks), tasks: tasks.length };
    }));
    md.push(
      `## ${a}`,
      "",
      `| ${a} | ${series.map((s) => (s === "all" ? "query accuracy, %" : `${s}: query accuracy, %`)).join(" | ")} |`,
      `|---|${series.map(() => "---").join("|")}|`,
    );
    for (const v of values)
      md.push(
        `| ${value(v)} | ${series
          .map((s) => {
            const p = points.find((q) => q.value === value(v) && q.series === s)!;
            return Number.isFinite(p.acc)
              ? `${pct3(p.acc)} ± ${Number.isFinite(p.ci95) ? sig3(100 * noResidue(p.ci95, p.acc)) : "–"} (${p.tasks} tasks)`
              : MISSING;
          })
          .join(" | ")} |`,
      );
    const fig = await writeFigure(join(dir, "figures", safe(a)), axisChart(a, values.map(value), points.filter((p) => Number.isFinite(p.acc)), way));
    md.push("", `![${a}](figures/${safe(a)}.png)`, "");
    void fig;
  }
  md.push("## Cells", "", "| index | axes | rule | query accuracy, % ± 95% CI | diverged tasks |", "|---|---|---|---|---|");
  for (const c of cells)
    for (const r of c.runs) {
      const m = meanCi(r.tasks);
      md.push(
        `| ${c.index} | ${axesText(c.axes)} | ${r.rule} | ${pct3(m.acc)} ± ${Number.isFinite(m.ci95) ? sig3(100 * noResidue(m.ci95, m.acc)) : "–"} | ` +
          `${r.diverged} |`,
      );
    }
  writeAtomic(join(dir, "summary.md"), md.join("\n") + "\n");
  return [join(dir, "results.json"), join(dir, "results.csv"), join(dir, "summary.md"), join(dir, "figures")];
}

/** Mean accuracy over tasks and its 95% confidence half-width (1.96 · sample sd / √n; NaN for fewer than 2 tasks). */
function meanCi(tasks: readonly { acc: number }[]): { acc: number; ci95: number } {
  const n = tasks.length, acc = n ? tasks.reduce((x, t) => x + t.acc, 0) / n : NaN;
  const sd = n > 1 ? Math.sqrt(tasks.reduce((x, t) => x + (t.acc - acc) ** 2, 0) / (n - 1)) : NaN;
  return { acc, ci95: n > 1 ? (1.96 * sd) / Math.sqrt(n) : NaN };
}

/** An axis value as a table cell and a figure category. */
function value(v: unknown): string {
  return Array.isArray(v) ? v.join(",") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");

function wayOf(cells: Collected[]): number | null {
  const ways = new Set(cells.map((c) => { const cfg = (Array.isArray(c.config) ? c.config[0] : c.config) as { way?: number }; return cfg?.way; }));
  return ways.size === 1 ? [...ways][0] ?? null : null;
}

/** Accuracy ± 95% CI against one axis, one colour per series, a chance line when every cell has the same N. */
function axisChart(axis: string, order: string[], points: { value: string; series: string; acc: number; ci95: number }[], way: number | null): VlSpec {
  const rows = points.map((p) => ({ ...p, lo: p.acc - (Number.isFinite(p.ci95) ? p.ci95 : 0), hi: p.acc + (Number.isFinite(p.ci95) ? p.ci95 : 0) }));
  const x = { field: "value", type: "ordinal", title: axis, sort: order, axis: { labelAngle: 0, labelLimit: 0 } };
  const color = { field: "series", type: "nominal", title: "rule", legend: { labelLimit: 0 } };
  const dash = new Set(points.map((p) => p.series)).size > 4 ? { strokeDash: { field: "series", type: "nominal", title: null } } : {};
  return {
    title: `Query accuracy by ${axis} (± 95% CI)`,
    width: Math.max(240, 70 * order.length),
    height: 240,
    data: { values: rows },
    layer: [
      {
        mark: { type: "errorbar", thickness: 2 },
        encoding: {
          x,
          xOffset: { field: "series" },
          y: { field: "lo", type: "quantitative", title: "query accuracy", scale: { domain: [0, 1] } },
          y2: { field: "hi" },
          color,
        },
      },
      {
        mark: { type: "point", filled: true, size: 50 },
        encoding: {
          x,
          xOffset: { field: "series" },
          y: { field: "acc", type: "quantitative" },
          color,
          ...(dash.strokeDash ? { shape: { field: "series", type: "nominal", title: null } } : {}),
        },
      },
      ...(way ? [{ mark: { type: "rule", strokeDash: [4, 3], color: "#666" }, encoding: { y: { datum: 1 / way } } }] : []),
    ],
  };
}
