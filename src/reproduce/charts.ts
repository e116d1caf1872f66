import { ruleName } from "../report/format.js";
import type { VlSpec } from "../report/plot.js";
import type { CellResult } from "./types.js";

/** A dash legend drawn as dashed strokes: with `point: true` Vega-Lite draws every entry as the same filled dot. */
export const DASH_LEGEND = {
  symbolType: "stroke",
  symbolSize: 300,
  encode: { symbols: { update: { stroke: { value: "#333" }, strokeWidth: { value: 2 }, fill: { value: "transparent" } } } },
};

/** Axis labels wrapped at spaces into lines of at most `width` characters ('|' separates lines for labelExpr). */
export function wrapLabel(s: string, width = 16): string {
  const lines: string[] = [];
  for (const w of s.split(" ")) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 1 + w.length <= width) lines[lines.length - 1] = `${last} ${w}`;
    else lines.push(w);
  }
  return lines.join("|");
}

/** A horizontal line at chance level (1/N), labelled, for accuracy charts. */
export function chance(way: number): VlSpec[] {
  return [
    { mark: { type: "rule", strokeDash: [4, 3], color: "#666" }, encoding: { y: { datum: 1 / way } } },
    {
      mark: { type: "text", align: "left", dx: 4, dy: -6, color: "#666", fontSize: 10 },
      encoding: { y: { datum: 1 / way }, text: { value: `chance (1/${way})` }, x: { value: 0 } },
    },
  ];
}

export function accChart(cs: readonly CellResult[], title: string, xTitle: string): VlSpec {
  const rows = cs.map((r) => ({ x: wrapLabel(r.x), rule: ruleName(r.rule), acc: r.acc, lo: r.acc - r.acc_ci95, hi: r.acc + r.acc_ci95 }));
  const order = [...new Set(rows.map((r) => r.x))];
  // Side by side only where a setting has both rules; full labels, wrapped over lines instead of cut.
  const paired = order.some((x) => rows.filter((r) => r.x === x).length > 1);
  return {
    title,
    width: Math.max(420, 70 * order.length),
    height: 240,
    data: { values: rows },
    encoding: {
      x: { field: "x", type: "nominal", sort: order, title: xTitle, axis: { labelAngle: 0, labelLimit: 0, labelExpr: "split(datum.label, '|')" } },
      color: { field: "rule", type: "nominal", title: "rule", sort: ["bp", "bp + Oja"] },
      ...(paired ? { xOffset: { field: "rule", sort: ["bp", "bp + Oja"] } } : {}),
    },
    layer: [
      {
        mark: { type: "bar", opacity: 0.85 },
        encoding: { y: { field: "acc", type: "quantitative", title: "query accuracy (95% CI)", scale: { domain: [0, 1] } } },
      },
      { mark: { type: "rule", color: "black" }, encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } } },
      ...chance(5),
    ],
  };
}

export function diagChart(cs: readonly CellResult[], field: "pr" | "orthoErr" | "actNorm" | "errNorm", title: string, yTitle: string, log = false): VlSpec {
  const rows = cs.flatMap((r) => {
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

