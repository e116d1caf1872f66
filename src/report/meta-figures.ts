import { join } from "node:path";
import { writeFigure } from "./plot.js";
import type { MetaLogLine } from "../experiments/meta-train.js";

/** Running mean over the last `w` values. */
function smooth(xs: number[], w: number): number[] {
  let s = 0;
  return xs.map((x, i) => { s += x; if (i >= w) s -= xs[i - w]; return s / Math.min(i + 1, w); });
}

/** Meta-accuracy, meta-loss and θ trajectories, as SVG and PNG in `dir`. */
export async function metaFigures(dir: string, log: readonly MetaLogLine[]): Promise<string[]> {
  const w = Math.max(1, Math.min(20, Math.floor(log.length / 5)));
  const acc = smooth(log.map((l) => l.acc), w), loss = smooth(log.map((l) => (Number.isFinite(l.loss) ? l.loss : NaN)), w);
  const rows = log.flatMap((l, i) => [
    { episode: l.episode + 1, metric: "accuracy", series: "per episode", value: l.acc },
    { episode: l.episode + 1, metric: "accuracy", series: `mean of last ${w}`, value: acc[i] },
    { episode: l.episode + 1, metric: "loss", series: "per episode", value: l.loss },
    { episode: l.episode + 1, metric: "loss", series: `mean of last ${w}`, value: loss[i] },
  ]).filter((r) => Number.isFinite(r.value));
  const theta = log.flatMap((l) =>
    Object.entries(l.theta).flatMap(([term, v]) =>
      Array.isArray(v)
        ? v.map((x, k) => ({ episode: l.episode + 1, coefficient: `${term} (layer ${k + 1})`, value: x }))
        : [{ episode: l.episode + 1, coefficient: term, value: v as number }],
    ),
  );
  // Per-episode values faint, their running mean bold: one layer each, so no legend is needed.
  const line = (metric: string, title: string) => ({
    title: { text: title, subtitle: `faint: per episode; bold: mean of the last ${w} episodes` }, width: 480, height: 220,
    data: { values: rows.filter((r) => r.metric === metric) },
    encoding: {
      x: { field: "episode", type: "quantitative", title: "meta-training episode" },
      y: { field: "value", type: "quantitative", title: `query ${metric}`, scale: { zero: false } },
    },
    layer: [
      { transform: [{ filter: "datum.series === 'per episode'" }], mark: { type: "line", color: "#b8c9e0", strokeWidth: 1 } },
      { transform: [{ filter: "datum.series !== 'per episode'" }], mark: { type: "line", color: "#1f5aa6", strokeWidth: 2.5 } },
    ],
  });
  const out = [
    (await writeFigure(join(dir, "meta-accuracy"), line("accuracy", "Meta-training: query accuracy after the online loop"))).png,
    (await writeFigure(join(dir, "meta-loss"), line("loss", "Meta-training: query cross-entropy (the meta-loss)"))).png,
    (await writeFigure(join(dir, "meta-theta"), {
      title: "Plasticity coefficients θ during meta-training", width: 480, height: 220,
      data: { values: theta }, mark: "line",
      encoding: {
        x: { field: "episode", type: "quantitative", title: "meta-training episode" },
        y: { field: "value", type: "quantitative", title: "coefficient" },
        color: { field: "coefficient", type: "nominal" },
      },
    })).png,
  ];
  return out;
}
