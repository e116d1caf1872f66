import { writeAtomic } from "../core/files.js";
import type { CurveSummary } from "../experiments/task.js";
import { csv } from "./format.js";
import { writeFigure, type VlSpec } from "./plot.js";

/** A learning-curve figure: query accuracy (± se band) and loss against examples seen, one line per series. */
export function curveChart(series: readonly { rule: string; curve: readonly CurveSummary[] }[], way: number, title: string): VlSpec {
  const rows = series.flatMap((s) =>
    s.curve.map((p) => ({ rule: s.rule, step: p.step, acc: p.acc, lo: p.acc - p.acc_se, hi: p.acc + p.acc_se, loss: p.loss })),
  );
  const dash = series.length > 4 ? { strokeDash: { field: "rule", type: "nominal", title: null } } : {};
  return {
    title,
    data: { values: rows },
    hconcat: [
      {
        width: 320,
        height: 220,
        layer: [
          {
            mark: { type: "area", opacity: 0.2 },
            encoding: {
              x: { field: "step", type: "quantitative", title: "examples seen (online steps)" },
              y: { field: "lo", type: "quantitative", title: "query accuracy (± se)", scale: { domain: [0, 1] } },
              y2: { field: "hi" },
              color: { field: "rule", type: "nominal", title: "rule", legend: { labelLimit: 0 } },
            },
          },
          {
            mark: { type: "line", point: true },
            encoding: {
              x: { field: "step", type: "quantitative" },
              y: { field: "acc", type: "quantitative" },
              color: { field: "rule", type: "nominal" },
              ...dash,
            },
          },
          { mark: { type: "rule", strokeDash: [4, 3], color: "#666" }, encoding: { y: { datum: 1 / way } } },
        ],
      },
      {
        width: 320,
        height: 220,
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "step", type: "quantitative", title: "examples seen (online steps)" },
          y: { field: "loss", type: "quantitative", title: "query loss" },
          color: { field: "rule", type: "nominal" },
          ...dash,
        },
      },
    ],
  };
}

/** `${base}-curve.csv` and `${base}-curve.svg/.png`; returns the paths written. */
export async function writeCurves(
  base: string, series: readonly { rule: string; curve: readonly CurveSummary[] }[], way: number, tag: Record<string, string> = {},
): Promise<string[]> {
  // tag: fastTag's columns (native-fast and its path), appended to every row; none on the exact backends.
  writeAtomic(
    `${base}-curve.csv`,
    csv(series.flatMap((s) => s.curve.map((p) => ({ rule: s.rule, step: p.step, acc: p.acc, acc_se: p.acc_se, loss: p.loss, loss_se: p.loss_se, ...tag })))),
  );
  const f = await writeFigure(`${base}-curve`, curveChart(series, way, "Learning curve: query accuracy and loss while each task trains"));
  return [`${base}-curve.csv`, f.svg, f.png];
}
