import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic } from "../core/files.js";
import { Rng } from "../core/rng.js";
import type { LayerDiagnostics } from "../diagnostics/probe.js";
import { metaTrain, specOf } from "./meta-train.js";
import type { ThetaSpec } from "../rules/rule.js";
import { cachedDataset, DEFAULT_CONFIG, type Backend, type DiagnosticsAt, type DiagnosticsPlan, type RunConfig, type TaskResult } from "./task.js";
import { train } from "./train.js";

/**
 * `neuroplastic reproduce`: the paper's comparisons (PAPER.md "Claims") as a
 * grid of cells — a configuration and a rule each — run with per-layer
 * diagnostics, kept one file per cell so an interrupted run resumes.
 */
export type ScenarioId = "a" | "b" | "c" | "d" | "e" | "f";
export const SCENARIOS: readonly ScenarioId[] = ["a", "b", "c", "d", "e", "f"];

/** The recurrent network of scenario f: N = 100, the coefficients where a grid of fixed ones did well at D = 0 and 20. */
export const RNN_THETA = { bp: 0.003, oja: 0.002 };

export interface ReproduceOptions {
  out: string;
  quick: boolean;
  workers: number;
  seed: number;
  /** Tasks per cell. */
  tasks: number;
  /** Tasks per cell whose layers are measured on the probe set. */
  diagTasks: number;
  /** Probe set size (fixed examples of the split, the same for every cell). */
  probe: number;
  /** Fixed coefficients (used as is, or as the start of meta-learning). */
  theta: { bp: number; oja: number };
  /** The same for the recurrent network of scenario f (default RNN_THETA). */
  rnnTheta?: { bp: number; oja: number };
  /** > 0: meta-learn θ for every online configuration and rule with this many episodes (train split). */
  metaEpisodes: number;
  dataset: string;
  backend: Backend;
}

export interface Cell {
  id: string;
  scenario: ScenarioId;
  /** The swept value (batch, depth, gain, baseline name, feedback). */
  x: string;
  rule: "bp" | "bp+oja";
  cfg: RunConfig;
  /** Scale applied to θ (mini-batches: per-example step kept equal). */
  thetaScale: number;
  /** Fixed coefficients for this cell (e.g. Adam's learning rate), overriding the run's θ. */
  theta?: ThetaSpec;
}

export interface CellResult {
  id: string;
  /** The settings the cell was computed with (resume reuses only exact matches). */
  key: string;
  scenario: ScenarioId;
  x: string;
  rule: string;
  theta: ThetaSpec;
  thetaSource: "fixed" | "meta-learned";
  acc: number;
  /** Half-width of the 95% confidence interval of the mean accuracy over tasks. */
  acc_ci95: number;
  loss: number;
  diverged: number;
  weight_norm: number;
  tasks: { acc: number; loss: number; diverged: boolean }[];
  /** Mean over measured tasks, per step and layer (and the RNN's own, through time). */
  diagnostics: DiagnosticsAt[];
  seconds: number;
}


/** The grid of cells. */
export function cells(o: ReproduceOptions): Cell[] {
  const base: RunConfig = { ...DEFAULT_CONFIG, dataset: o.dataset, split: "test", seed: o.seed, tasks: o.tasks, backend: o.backend };
  const out: Cell[] = [];
  const add = (scenario: ScenarioId, x: string, rules: ("bp" | "bp+oja")[], over: Partial<RunConfig>, thetaScale = 1, theta?: ThetaSpec) => {
    for (const rule of rules) out.push({ id: `${scenario}-${x}-${rule}`.replace(/[^a-zA-Z0-9.+-]/g, "_"), scenario, x, rule, cfg: { ...base, ...over }, thetaScale, theta });
  };
  const both: ("bp" | "bp+oja")[] = ["bp", "bp+oja"];
  for (const b of o.quick ? [1, 10] : [1, 10, 50]) add("a", `batch ${b}`, both, { batch: b }, b);
  for (const d of o.quick ? [2, 8, 16] : [2, 4, 8, 12, 16]) add("b", `${d} layers`, both, { hidden: new Array(d).fill(100) });
  for (const g of o.quick ? [0.25, 1, 3] : [0.1, 0.25, 0.5, 1, 2, 4]) add("c", `gain ${g}`, both, { gain: g });
  add("c", "orthogonal", both, { init: "orthogonal" });
  // The tricks available here, each with pure backprop, against online bp+Oja with none of them.
  add("d", "online, Xavier (no tricks)", ["bp+oja"], {});
  add("d", "mini-batch 10", ["bp"], { batch: 10 }, 10);
  if (!o.quick) add("d", "mini-batch 50", ["bp"], { batch: 50 }, 50);
  add("d", "careful init: orthogonal", ["bp"], { init: "orthogonal" });
  add("d", "careful init: He", ["bp"], { init: "he" });
  add("d", "Adam (lr 1e-3)", ["bp"], { optimizer: "adam" }, 1, { bp: 1e-3 });
  add("d", "layer normalization", ["bp"], { norm: "layer" });
  add("d", "batch normalization, mini-batch 10", ["bp"], { norm: "batch", batch: 10 }, 10);
  // Weight growth under feedback alignment builds up over many updates: several passes over each task.
  const ep = o.quick ? 4 : 10;
  add("e", "feedback alignment", both, { feedback: "random", epochs: ep });
  add("e", `backprop, ${ep} passes`, both, { epochs: ep });
  // Claim 7: short-term memory of a recurrent network, images presented row by row then D steps of zero input.
  const rnn: Partial<RunConfig> = { net: "rnn", hidden: [100] };
  for (const d of o.quick ? [0, 20] : [0, 5, 10, 20, 40]) add("f", `BPTT, delay ${d}`, both, { ...rnn, delay: d });
  for (const d of o.quick ? [20] : [0, 20]) add("f", `FA, delay ${d}`, both, { ...rnn, delay: d, feedback: "random" });
  return out;
}


/** Six evenly spaced measurement points over a cell's training (0 … all steps). */
function stepsFor(cfg: RunConfig): number[] {
  const total = cfg.way * cfg.shots * (cfg.epochs ?? 1);
  return Array.from({ length: 6 }, (_, k) => Math.round((k * total) / 5 / cfg.batch) * cfg.batch).map((s, k) => (k === 5 ? total : s));
}

/** The fixed probe set (the measurement steps are set per cell). */
function probePlan(o: ReproduceOptions): DiagnosticsPlan {
  const ds = cachedDataset({ dataset: o.dataset, split: "test", transpose: false });
  const r = new Rng(o.seed).child(0x9e37);
  const probeIdx = r.sample(Array.from({ length: ds.n }, (_, i) => i), o.probe);
  return { at: [], probeIdx, probeLabels: probeIdx.map((i) => ds.labels[i]) };
}

function meanDiagnostics(rs: TaskResult[]): CellResult["diagnostics"] {
  const withD = rs.filter((r) => r.diagnostics && !r.diverged);
  if (withD.length === 0) return [];
  const meanOf = (f: (r: TaskResult) => number) => withD.reduce((s, r) => s + f(r), 0) / withD.length;
  return withD[0].diagnostics!.map((d0, k) => ({
    ...(d0.rnn ? {
      rnn: {
        specRadius: meanOf((r) => r.diagnostics![k].rnn!.specRadius), orthoErrJ: meanOf((r) => r.diagnostics![k].rnn!.orthoErrJ),
        hNorm: d0.rnn.hNorm.map((_, t) => meanOf((r) => r.diagnostics![k].rnn!.hNorm[t])),
        pr: d0.rnn.pr.map((_, t) => meanOf((r) => r.diagnostics![k].rnn!.pr[t])),
        deltaNorm: d0.rnn.deltaNorm.map((_, t) => meanOf((r) => r.diagnostics![k].rnn!.deltaNorm[t])),
      },
    } : {}),
    step: d0.step,
    layers: d0.layers.map((l0, li) => {
      const pick = (f: (l: LayerDiagnostics) => number) => withD.reduce((s, r) => s + f(r.diagnostics![k].layers[li]), 0) / withD.length;
      return {
        l: l0.l, pr: pick((l) => l.pr), actNorm: pick((l) => l.actNorm), errNorm: pick((l) => l.errNorm),
        weightNorm: pick((l) => l.weightNorm), orthoErr: pick((l) => l.orthoErr),
        faAngle: l0.faAngle === null ? null : pick((l) => l.faAngle ?? NaN),
      };
    }),
  }));
}

function scaled(theta: ThetaSpec, k: number): ThetaSpec {
  return Object.fromEntries(Object.entries(theta).map(([t, v]) => [t, typeof v === "number" ? v * k : (v as number[]).map((x) => x * k)]));
}

/** Run (or reuse) every cell; `onCell` reports progress. */
export async function reproduce(o: ReproduceOptions, onCell?: (done: number, total: number, id: string) => void): Promise<CellResult[]> {
  const dir = join(o.out, "cells");
  mkdirSync(dir, { recursive: true });
  const grid = cells(o), plan = probePlan(o), results: CellResult[] = [];
  for (const [i, c] of grid.entries()) {
    const file = join(dir, `${c.id}.json`);
    // A cell is reused only if it was computed with the same settings.
    const key = JSON.stringify({ cfg: c.cfg, scale: c.thetaScale, cellTheta: c.theta, theta: c.cfg.net === "rnn" ? o.rnnTheta ?? RNN_THETA : o.theta, meta: o.metaEpisodes, metaPasses: (c.cfg.epochs ?? 1) > 1 ? 1 : undefined, diagTasks: o.diagTasks, probe: o.probe });
    if (existsSync(file)) {
      try {
        const saved = JSON.parse(readFileSync(file, "utf8")) as CellResult;
        if (saved.key === key) { results.push(saved); onCell?.(i + 1, grid.length, c.id); continue; }
      } catch { /* unreadable: recompute */ }
    }
    const t0 = performance.now();
    const th = c.cfg.net === "rnn" ? o.rnnTheta ?? RNN_THETA : o.theta;
    let theta: ThetaSpec = c.theta ?? (c.rule === "bp" ? { bp: th.bp } : { bp: th.bp, oja: th.oja });
    let source: CellResult["thetaSource"] = "fixed";
    // Meta-learning runs through online and mini-batch plasticity; not through Adam or normalization layers.
    const metaOk = c.cfg.norm === "none" && c.cfg.optimizer === "sgd" && c.theta === undefined;
    if (o.metaEpisodes > 0 && metaOk) {
      theta = scaled(theta, c.thetaScale);
      const learn = c.rule === "bp" ? ["bp" as const] : ["bp" as const, "oja" as const];
      // θ is meta-learned on the published protocol, one pass, even for cells that train for several:
      // meta-gradients through thousands of unrolled steps are ill-conditioned (θ wanders, tasks diverge).
      const mcfg = { run: { ...c.cfg, split: "train" as const, theta, tasks: 1, epochs: 1 }, learn, perLayer: false, episodes: o.metaEpisodes, metaBatch: 1, metaLr: 1e-3, l1: 0, checkpointEvery: o.metaEpisodes };
      const m = await metaTrain(mcfg, 1, null);
      theta = specOf(mcfg, m.state.theta);
      source = "meta-learned";
    } else theta = scaled(theta, c.thetaScale);
    const out = await train({ ...c.cfg, theta }, o.workers, undefined, { plan: { ...plan, at: stepsFor(c.cfg) }, tasks: o.diagTasks });
    const n = out.results.length;
    const sd = Math.sqrt(out.results.reduce((s, r) => s + (r.acc - out.acc) ** 2, 0) / Math.max(1, n - 1));
    const res: CellResult = {
      id: c.id, key, scenario: c.scenario, x: c.x, rule: c.rule, theta, thetaSource: source,
      acc: out.acc, acc_ci95: (1.96 * sd) / Math.sqrt(n), loss: out.loss, diverged: out.diverged, weight_norm: out.weight_norm,
      tasks: out.results.map((r) => ({ acc: r.acc, loss: r.loss, diverged: r.diverged })),
      diagnostics: meanDiagnostics(out.results), seconds: (performance.now() - t0) / 1000,
    };
    writeAtomic(file, JSON.stringify(res) + "\n");
    results.push(res);
    onCell?.(i + 1, grid.length, c.id);
  }
  return results;
}
