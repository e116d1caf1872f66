import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic } from "../core/files.js";
import { Rng } from "../core/rng.js";
import type { LayerDiagnostics } from "../diagnostics/probe.js";
import { metaTrain, specOf, type MetaConfig } from "./meta-train.js";
import type { OuterLoop } from "../meta/outer.js";
import type { ThetaSpec } from "../rules/rule.js";
import { DEFAULT_CONFIG, type Backend, type CurveSummary, type DiagnosticsAt, type DiagnosticsPlan, type RunConfig, type TaskResult } from "./task.js";
import { cachedDataset } from "./datasets.js";
import { TERM_NAMES } from "../rules/registry.js";
import { train } from "./train.js";

/**
 * `neuroplastic reproduce`: the paper's comparisons (PAPER.md "Claims") as a
 * grid of cells — a configuration and a rule each — run with per-layer
 * diagnostics, kept one file per cell so an interrupted run resumes.
 */
export type ScenarioId = "a" | "b" | "c" | "d" | "e" | "f" | "g";
export const SCENARIOS: readonly ScenarioId[] = ["a", "b", "c", "d", "e", "f", "g"];

/** Scenario g's rule pool: every built-in term, meta-learned with this L1 penalty (λ Σ|θ|). */
export const POOL_L1 = 1;
export type CellRule = "bp" | "bp+oja" | "pool";

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
  /** The outer loop (src/meta/outer.ts); "adam" with one seed and no grid reproduces reports made before the robust loop. Default "robust". */
  outer?: OuterLoop;
  /** Meta-learning runs per cell, each from its own task streams (default 1); verdicts must hold for each. */
  metaSeeds?: number;
  /** Tasks per point of the fixed-θ grid beside each meta-learned cell, chosen on the train split (0: no grid; default 0). */
  gridTasks?: number;
  /** Robust loop: bracket each meta-learning start on this many train-split tasks per candidate (src/experiments/meta-train.ts bracketStart; 0 or absent: off). */
  bracket?: number;
  /** Scenario g (data scarcity) always meta-learns: its episodes (default: metaEpisodes, or 30 when that is 0). */
  scarcityEpisodes?: number;
  /** Scenario g: λ of the pool's L1 penalty (default POOL_L1). */
  poolL1?: number;
  /** Scenario g: the dataset the MNIST-learned θ is also tested on (default "fashion"; "none" to skip). */
  transfer?: string;
  dataset: string;
  backend: Backend;
}

export interface Cell {
  id: string;
  scenario: ScenarioId;
  /** The swept value (batch, depth, gain, baseline name, feedback). */
  x: string;
  rule: CellRule;
  cfg: RunConfig;
  /** Scale applied to θ (mini-batches: per-example step kept equal). */
  thetaScale: number;
  /** Fixed coefficients for this cell (e.g. Adam's learning rate), overriding the run's θ. */
  theta?: ThetaSpec;
  /** Scenario g: meta-learned whatever metaEpisodes says, with a learning curve every `curve` steps. */
  scarcity?: { curve: number };
}

/** One θ of a cell evaluated on the cell's tasks (the same tasks for every θ: comparisons are paired). */
export interface SeedRun {
  /** The meta-learning seed, or null for fixed coefficients. */
  metaSeed: number | null;
  theta: ThetaSpec;
  /** Meta-learning's final iterate (the learned θ is the mean of the last episodes'), and its skipped episodes. */
  final?: ThetaSpec;
  skipped?: number;
  acc: number;
  /** Half-width of the 95% confidence interval of the mean accuracy over tasks. */
  acc_ci95: number;
  loss: number;
  loss_median: number;
  diverged: number;
  /** Tasks whose weights stayed finite but whose query loss exceeds 10 · ln N: exploded, counted apart from diverged. */
  exploded: number;
  weight_norm: number;
  tasks: { acc: number; loss: number; diverged: boolean }[];
}

/** The check that meta-learning worked: fixed coefficients on a log grid around the published ones. */
export interface GridCheck {
  /** Each point's mean accuracy on the train-split tasks the grid is chosen on. */
  points: { theta: ThetaSpec; acc: number; diverged: number }[];
  /** The best point, scored on the cell's own tasks. */
  best: SeedRun;
  /** Per meta seed: meta-learned minus best grid point, paired over the cell's tasks (mean and 95% CI half-width). */
  vsMeta: { mean: number; ci95: number }[];
  /** Meta-learning did worse than the best grid point (some seed's whole interval below zero). */
  worse: boolean;
}

export interface CellResult {
  id: string;
  /** The settings the cell was computed with (resume reuses only exact matches). */
  key: string;
  scenario: ScenarioId;
  x: string;
  rule: string;
  /** The first run's θ (every run's in `runs`). */
  theta: ThetaSpec;
  thetaSource: "fixed" | "meta-learned";
  /** Mean accuracy over runs (meta seeds). */
  acc: number;
  /** Half-width of the 95% confidence interval over tasks of the run-averaged accuracy. */
  acc_ci95: number;
  /** Over every task of every run (meta seed): mean and median query loss, diverged and exploded tasks out of tasks × runs, mean Σ‖W‖ of the finite ones. */
  loss: number;
  loss_median: number;
  diverged: number;
  exploded: number;
  weight_norm: number;
  /** The first run's per-task results. */
  tasks: { acc: number; loss: number; diverged: boolean }[];
  /** Every θ evaluated: one per meta seed, or the fixed one. */
  runs: SeedRun[];
  grid?: GridCheck;
  /** Scenario g: each run's θ tested on another dataset at the same K (transfer). */
  transfer?: SeedRun[];
  transferDataset?: string;
  /** Scenario g: the first run's learning curve. */
  curve?: CurveSummary[];
  /** Mean over measured tasks, per step and layer (and the RNN's own, through time). */
  diagnostics: DiagnosticsAt[];
  seconds: number;
}


/** The grid of cells. */
export function cells(o: ReproduceOptions): Cell[] {
  const base: RunConfig = { ...DEFAULT_CONFIG, dataset: o.dataset, split: "test", seed: o.seed, tasks: o.tasks, backend: o.backend };
  const out: Cell[] = [];
  const add = (scenario: ScenarioId, x: string, rules: CellRule[], over: Partial<RunConfig>, thetaScale = 1, theta?: ThetaSpec, scarcity?: Cell["scarcity"]) => {
    for (const rule of rules) out.push({ id: `${scenario}-${x}-${rule}`.replace(/[^a-zA-Z0-9.+-]/g, "_"), scenario, x, rule, cfg: { ...base, ...over }, thetaScale, theta, ...(scarcity ? { scarcity } : {}) });
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
  // Claim 8: scarce data. K shots per class; θ meta-learned at that K: bp alone, bp + Oja, the pool with L1.
  for (const K of o.quick ? [1, 5, 50] : [1, 2, 5, 10, 20, 50]) add("g", `K = ${K}`, ["bp", "bp+oja", "pool"], { shots: K }, 1, undefined, { curve: Math.max(1, Math.round((5 * K) / 10)) });
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

/** One θ's results on a cell's tasks. */
function seedRun(theta: ThetaSpec, rs: TaskResult[], way: number): Omit<SeedRun, "metaSeed"> {
  const n = rs.length, acc = rs.reduce((s, r) => s + r.acc, 0) / n;
  const sd = Math.sqrt(rs.reduce((s, r) => s + (r.acc - acc) ** 2, 0) / Math.max(1, n - 1));
  const losses = rs.map((r) => r.loss).sort((a, b) => a - b);
  const ok = rs.filter((r) => !r.diverged);
  return {
    theta, acc, acc_ci95: (1.96 * sd) / Math.sqrt(n), loss: losses.reduce((s, x) => s + x, 0) / n,
    loss_median: n % 2 ? losses[(n - 1) / 2] : (losses[n / 2 - 1] + losses[n / 2]) / 2,
    diverged: n - ok.length, exploded: ok.filter((r) => r.loss > 10 * Math.log(way)).length,
    weight_norm: ok.length ? ok.reduce((s, r) => s + r.weightNorm, 0) / ok.length : NaN,
    tasks: rs.map((r) => ({ acc: r.acc, loss: r.loss, diverged: r.diverged })),
  };
}

/** Log-spaced factors around the published coefficients: ¼, ½, 1, 2, 4. */
export const GRID_FACTORS = [0.25, 0.5, 1, 2, 4];

/**
 * The grid beside a meta-learned cell: θ_bp (× θ_oja for bp + Oja) over
 * GRID_FACTORS around the cell's starting coefficients, each point scored on
 * gridTasks train-split tasks; the best point is then scored on the cell's
 * own tasks and compared, paired, with each meta seed's θ.
 */
async function gridFor(c: Cell, start: ThetaSpec, runs: SeedRun[], o: ReproduceOptions): Promise<GridCheck> {
  const bp0 = start.bp as number, oja0 = start.oja as number | undefined;
  const points: ThetaSpec[] = GRID_FACTORS.flatMap((fb) => (oja0 === undefined ? [{ bp: bp0 * fb }] : GRID_FACTORS.map((fo) => ({ bp: bp0 * fb, oja: oja0 * fo }))));
  const scored: GridCheck["points"] = [];
  for (const theta of points) {
    const out = await train({ ...c.cfg, split: "train", tasks: o.gridTasks!, theta }, o.workers);
    scored.push({ theta, acc: out.acc, diverged: out.diverged });
  }
  const bestPoint = scored.reduce((b, p) => (p.acc > b.acc ? p : b));
  const out = await train({ ...c.cfg, theta: bestPoint.theta }, o.workers);
  const best: SeedRun = { metaSeed: null, ...seedRun(bestPoint.theta, out.results, c.cfg.way) };
  const vsMeta = runs.map((r) => paired(r.tasks, best.tasks));
  return { points: scored, best, vsMeta, worse: vsMeta.some((d) => d.mean + d.ci95 < 0) };
}

/** Mean and 95% CI half-width of per-task differences a − b (the same tasks, so paired). */
export function paired(a: readonly { acc: number }[], b: readonly { acc: number }[]): { mean: number; ci95: number } {
  const n = Math.min(a.length, b.length);
  const d = Array.from({ length: n }, (_, i) => a[i].acc - b[i].acc);
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, n - 1));
  return { mean, ci95: (1.96 * sd) / Math.sqrt(n) };
}

function scaled(theta: ThetaSpec, k: number): ThetaSpec {
  return Object.fromEntries(Object.entries(theta).map(([t, v]) => [t, typeof v === "number" ? v * k : (v as number[]).map((x) => x * k)]));
}

/** Run (or reuse) every cell; `onCell` reports progress. */
export async function reproduce(o: ReproduceOptions, onCell?: (done: number, total: number, id: string, result: CellResult) => void): Promise<CellResult[]> {
  const dir = join(o.out, "cells");
  mkdirSync(dir, { recursive: true });
  const grid = cells(o), results: CellResult[] = [];
  for (const [i, c] of grid.entries()) {
    const file = join(dir, `${c.id}.json`);
    // A cell is reused only if it was computed with the same settings.
    const saved = savedCell(file, cellKey(c, o));
    if (saved) { results.push(saved); onCell?.(i + 1, grid.length, c.id, saved); continue; }
    const res = await computeCell(c, o);
    writeAtomic(file, JSON.stringify(res) + "\n");
    results.push(res);
    onCell?.(i + 1, grid.length, c.id, res);
  }
  return results;
}

/** Everything a cell's result depends on: a cached cell is reused only when its key is the same. */
export function cellKey(c: Cell, o: ReproduceOptions): string {
  const { episodes, l1, transferTo } = cellSettings(c, o);
  return JSON.stringify({ cfg: c.cfg, scale: c.thetaScale, cellTheta: c.theta, theta: c.cfg.net === "rnn" ? o.rnnTheta ?? RNN_THETA : o.theta, meta: o.metaEpisodes, metaPasses: (c.cfg.epochs ?? 1) > 1 ? 1 : undefined, diagTasks: o.diagTasks, probe: o.probe, outer: o.outer ?? "robust", seeds: o.metaSeeds ?? 1, grid: o.gridTasks ?? 0,
    ...(bracketOf(o) > 0 ? { bracket: bracketOf(o) } : {}), ...(c.scarcity ? { scarcity: c.scarcity, episodes, l1, transferTo } : {}) });
}

/** The bracketing of meta-learning starts a run uses: only with the robust loop (the published loop stays as published). */
function bracketOf(o: ReproduceOptions): number {
  return (o.outer ?? "robust") === "robust" ? o.bracket ?? 0 : 0;
}

function cellSettings(c: Cell, o: ReproduceOptions): { episodes: number; l1: number; transferTo: string } {
  const episodes = c.scarcity ? o.scarcityEpisodes ?? (o.metaEpisodes > 0 ? o.metaEpisodes : 30) : o.metaEpisodes;
  return { episodes, l1: c.rule === "pool" ? o.poolL1 ?? POOL_L1 : 0, transferTo: c.scarcity ? o.transfer ?? "fashion" : "none" };
}

/** The cached result in `file` when it was computed with `key`, else null (absent, unreadable or stale). */
export function savedCell(file: string, key: string): CellResult | null {
  if (!existsSync(file)) return null;
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as CellResult;
    return saved.key === key ? pooled(saved) : null;
  } catch { return null; }
}

/** Compute one cell: meta-learn θ (per seed) where it applies, train its tasks, the grid check and transfer. */
export async function computeCell(c: Cell, o: ReproduceOptions): Promise<CellResult> {
  const plan = probePlan(o), key = cellKey(c, o);
  const { episodes, l1, transferTo } = cellSettings(c, o);
  const t0 = performance.now();
  const th = c.cfg.net === "rnn" ? o.rnnTheta ?? RNN_THETA : o.theta;
  const start: ThetaSpec = scaled(c.theta ?? (c.rule === "bp" ? { bp: th.bp } : c.rule === "bp+oja" ? { bp: th.bp, oja: th.oja }
    : Object.fromEntries(TERM_NAMES.map((t) => [t, t === "bp" ? th.bp : t === "oja" ? th.oja : 0]))), c.thetaScale);
  // Meta-learning runs through online and mini-batch plasticity; not through Adam or normalization layers.
  const metaOk = episodes > 0 && c.cfg.norm === "none" && c.cfg.optimizer === "sgd" && c.theta === undefined;
  const transfer: SeedRun[] = [];
  let curve: CurveSummary[] | undefined;
  const outer = o.outer ?? "robust", seeds = metaOk ? o.metaSeeds ?? 1 : 1, diag = { plan: { ...plan, at: stepsFor(c.cfg) }, tasks: o.diagTasks };
  const runs: SeedRun[] = [];
  let diagnostics: CellResult["diagnostics"] = [];
  for (let sIdx = 0; sIdx < seeds; sIdx++) {
    let theta = start, meta: Partial<SeedRun> = {};
    if (metaOk) {
      const learn = c.rule === "bp" ? ["bp"] : c.rule === "bp+oja" ? ["bp", "oja"] : [...TERM_NAMES];
      // θ is meta-learned on the published protocol, one pass, even for cells that train for several:
      // meta-gradients through thousands of unrolled steps are ill-conditioned (θ wanders, tasks diverge).
      // Meta seed s draws its training tasks from streams of its own; every seed is scored on the cell's tasks.
      const mcfg: MetaConfig = { run: { ...c.cfg, split: "train", theta: start, tasks: 1, epochs: 1, seed: c.cfg.seed + 1000 * sIdx }, learn, perLayer: false, episodes, metaBatch: 1, metaLr: 1e-3, l1, checkpointEvery: episodes, ...(outer === "robust" ? { outer } : {}), ...(bracketOf(o) > 0 ? { bracket: bracketOf(o) } : {}) };
      const m = await metaTrain(mcfg, 1, null);
      // The published loop's cells used its final iterate; the robust loop's learned θ is the mean of its last episodes.
      theta = specOf(mcfg, outer === "robust" ? m.learned : m.state.theta);
      meta = { metaSeed: sIdx, final: specOf(mcfg, m.state.theta), skipped: m.state.skipped };
    }
    const out = await train({ ...c.cfg, theta }, o.workers, undefined, sIdx === 0 ? diag : undefined, { curve: sIdx === 0 ? c.scarcity?.curve : undefined });
    if (sIdx === 0) { diagnostics = meanDiagnostics(out.results); curve = out.curve; }
    runs.push({ metaSeed: null, ...meta, ...seedRun(theta, out.results, c.cfg.way) });
    if (transferTo !== "none") {
      // Transfer: the θ learned on this dataset, tested at the same K on another one's test split.
      const tout = await train({ ...c.cfg, dataset: transferTo, theta }, o.workers);
      transfer.push({ metaSeed: meta.metaSeed ?? null, ...seedRun(theta, tout.results, c.cfg.way) });
    }
  }
  const gridCheck = metaOk && (o.gridTasks ?? 0) > 0 ? await gridFor(c, start, runs, o) : undefined;
  const first = runs[0], n = first.tasks.length;
  const taskMean = first.tasks.map((_, q) => runs.reduce((sm, r) => sm + r.tasks[q].acc, 0) / runs.length);
  const accAll = taskMean.reduce((sm, a) => sm + a, 0) / n;
  const sd = Math.sqrt(taskMean.reduce((sm, a) => sm + (a - accAll) ** 2, 0) / Math.max(1, n - 1));
  const mean = (f: (r: SeedRun) => number) => runs.reduce((sm, r) => sm + f(r), 0) / runs.length;
  const res: CellResult = {
    id: c.id, key, scenario: c.scenario, x: c.x, rule: c.rule, theta: first.theta, thetaSource: metaOk ? "meta-learned" : "fixed",
    acc: mean((r) => r.acc), acc_ci95: runs.length === 1 ? first.acc_ci95 : (1.96 * sd) / Math.sqrt(n), loss: mean((r) => r.loss), loss_median: first.loss_median,
    diverged: first.diverged, exploded: first.exploded, weight_norm: first.weight_norm,
    tasks: first.tasks, runs, ...(gridCheck ? { grid: gridCheck } : {}), ...(transfer.length ? { transfer, transferDataset: transferTo } : {}), ...(curve ? { curve } : {}),
    diagnostics, seconds: (performance.now() - t0) / 1000,
  };
  return pooled(res);
}

/**
 * A cell's loss, failure and weight-norm summary over every task of every run
 * (the runs of a meta-learned cell are its meta seeds, on the same tasks), so
 * that a table never shows one seed's failures beside all seeds' mean loss.
 * Cells saved before this summary (first seed only) are brought up to it on load.
 */
export function pooled(r: CellResult): CellResult {
  const all = r.runs.flatMap((x) => x.tasks), n = all.length;
  if (n === 0) return r;
  const losses = all.map((t) => t.loss).sort((a, b) => a - b);
  const finite = r.runs.filter((x) => Number.isFinite(x.weight_norm));
  const w = finite.reduce((s, x) => s + x.weight_norm * (x.tasks.length - x.diverged), 0), k = finite.reduce((s, x) => s + x.tasks.length - x.diverged, 0);
  return {
    ...r,
    loss: losses.reduce((s, x) => s + x, 0) / n,
    loss_median: n % 2 ? losses[(n - 1) / 2] : (losses[n / 2 - 1] + losses[n / 2]) / 2,
    diverged: r.runs.reduce((s, x) => s + x.diverged, 0),
    exploded: r.runs.reduce((s, x) => s + x.exploded, 0),
    weight_norm: k > 0 ? w / k : NaN,
  };
}
