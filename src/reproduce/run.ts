import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic } from "../core/files.js";
import { Rng } from "../core/rng.js";
import { nativeFastIsa } from "../core/wasm.js";
import type { LayerDiagnostics } from "../nets/mlp/probe.js";
import { metaTrain, specOf, type MetaConfig } from "../experiments/meta-train.js";
import type { ThetaSpec } from "../rules/rule.js";
import { DEFAULT_CONFIG, type CurveSummary, type DiagnosticsPlan, type RunConfig, type TaskResult } from "../experiments/task.js";
import { cachedDataset } from "../experiments/datasets.js";
import { TERM_NAMES } from "../rules/registry.js";
import { optimizerOf } from "../learn/optimizers.js";
import { train } from "../experiments/train.js";
import { DEFAULT_SCENARIOS, SCENARIO_IDS, SCENARIOS } from "./scenarios.js";
import { DISCOVERY_L1, DISCOVERY_LEARN } from "./scenarios/discovery.js";
import type { OuterLoop } from "../meta/outer.js";
import {
  GRID_FACTORS,
  GRID_STREAM,
  GRID_WIDEN,
  META_STREAM,
  POOL_L1,
  PROTOCOL,
  type Cell,
  type CellResult,
  type CellRule,
  type GridCheck,
  type LayerValues,
  type ReproduceOptions,
  type SeedRun,
} from "./types.js";

/**
 * `neuroplastic reproduce`: the paper's comparisons (PAPER.md "Claims") as a
 * grid of cells — a configuration and a rule each — run with per-layer
 * diagnostics, kept one file per cell so an interrupted run resumes.
 */
export { GRID_FACTORS, GRID_STREAM, GRID_WIDEN, META_STREAM, POOL_L1, RNN_THETA } from "./types.js";
export type { Cell, CellResult, ReproduceOptions, ScenarioId, SeedRun } from "./types.js";

/** The grid of cells: every scenario's, in the table's order. */
export function cells(o: ReproduceOptions): Cell[] {
  const base: RunConfig = {
    ...DEFAULT_CONFIG, dataset: o.dataset, split: "test", seed: o.seed, tasks: o.tasks, backend: o.backend,
    // native-fast's two paths give different bytes: the cells (and their keys) say which ran.
    ...(o.backend === "native-fast" ? { kernels: o.kernels ?? nativeFastIsa() ?? undefined } : {}),
  };
  const chosen = o.scenarios ?? DEFAULT_SCENARIOS;
  return SCENARIO_IDS.filter((s) => chosen.includes(s)).flatMap((s) => SCENARIOS[s].cells(o, base));
}

/** The θ a cell starts from: its scenario's (the recurrent network's), else the run's. */
function startOf(c: Cell, o: ReproduceOptions): { bp: number; oja: number } {
  return SCENARIOS[c.scenario].start?.(o) ?? o.theta;
}

/** Results computed or saved without coordinates get their cell's, looked up by id in the plan of `o`. */
export function withCoordinates(rs: readonly Omit<CellResult, "at">[], o: ReproduceOptions): CellResult[] {
  const at = new Map(cells(o).map((c) => [c.id, c.at]));
  return rs.map((r) => ({ ...r, at: (r as CellResult).at ?? at.get(r.id) ?? {} }) as CellResult);
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
  const probeIdx = r.sample(
    Array.from({ length: ds.n }, (_, i) => i),
    o.probe,
  );
  return { at: [], probeIdx, probeLabels: probeIdx.map((i) => ds.labels[i]) };
}

function meanDiagnostics(rs: TaskResult[]): CellResult["diagnostics"] {
  const withD = rs.filter((r) => r.diagnostics && !r.diverged);
  if (withD.length === 0) return [];
  const meanOf = (f: (r: TaskResult) => number) => withD.reduce((s, r) => s + f(r), 0) / withD.length;
  return withD[0].diagnostics!.map((d0, k) => ({
    ...(d0.rnn
      ? {
          rnn: {
            specRadius: meanOf((r) => r.diagnostics![k].rnn!.specRadius),
            orthoErrJ: meanOf((r) => r.diagnostics![k].rnn!.orthoErrJ),
            hNorm: d0.rnn.hNorm.map((_, t) => meanOf((r) => r.diagnostics![k].rnn!.hNorm[t])),
            pr: d0.rnn.pr.map((_, t) => meanOf((r) => r.diagnostics![k].rnn!.pr[t])),
            deltaNorm: d0.rnn.deltaNorm.map((_, t) => meanOf((r) => r.diagnostics![k].rnn!.deltaNorm[t])),
          },
        }
      : {}),
    step: d0.step,
    layers: d0.layers.map((l0, li) => {
      const pick = (f: (l: LayerDiagnostics) => number) => withD.reduce((s, r) => s + f(r.diagnostics![k].layers[li]), 0) / withD.length;
      return {
        l: l0.l,
        pr: pick((l) => l.pr),
        actNorm: pick((l) => l.actNorm),
        errNorm: pick((l) => l.errNorm),
        weightNorm: pick((l) => l.weightNorm),
        orthoErr: pick((l) => l.orthoErr),
        faAngle: l0.faAngle === null ? null : pick((l) => l.faAngle ?? NaN),
        // Dale's law's fraction of constrained weights at zero (only where the cells ran under it).
        ...(l0.daleBoundary !== undefined && l0.daleBoundary !== null ? { daleBoundary: pick((l) => l.daleBoundary ?? NaN) } : {}),
      };
    }),
  }));
}

/** One θ's results on a cell's tasks. */
function seedRun(theta: ThetaSpec, rs: TaskResult[], way: number): Omit<SeedRun, "metaSeed"> {
  const n = rs.length,
    acc = rs.reduce((s, r) => s + r.acc, 0) / n;
  const sd = Math.sqrt(rs.reduce((s, r) => s + (r.acc - acc) ** 2, 0) / Math.max(1, n - 1));
  const losses = rs.map((r) => r.loss).sort((a, b) => a - b);
  const ok = rs.filter((r) => !r.diverged);
  return {
    theta,
    acc,
    acc_ci95: (1.96 * sd) / Math.sqrt(n),
    loss: losses.reduce((s, x) => s + x, 0) / n,
    loss_median: n % 2 ? losses[(n - 1) / 2] : (losses[n / 2 - 1] + losses[n / 2]) / 2,
    diverged: n - ok.length,
    exploded: ok.filter((r) => r.loss > 10 * Math.log(way)).length,
    weight_norm: ok.length ? ok.reduce((s, r) => s + r.weightNorm, 0) / ok.length : NaN,
    tasks: rs.map((r) => ({ acc: r.acc, loss: r.loss, diverged: r.diverged })),
  };
}

/** One coefficient's axis of the grid: its factors (sorted) around its start. */
interface Axis {
  term: "bp" | "oja";
  base: number;
  factors: number[];
}

/**
 * The log grid of a cell: θ_bp (× θ_oja where the cell has one) over GRID_FACTORS around the start, each point scored
 * on gridTasks train-split tasks under the cell's own protocol (passes, batch, network, data). While the best point
 * lies on an edge, the grid widens by one ×2 step beyond it (GRID_WIDEN times at most per side, the remaining edge is
 * reported). Points are scored once and kept.
 */
export async function tuneGrid(c: Cell, start: ThetaSpec, o: ReproduceOptions): Promise<Pick<GridCheck, "points" | "edge">> {
  const axes: Axis[] = [{ term: "bp", base: start.bp as number, factors: [...GRID_FACTORS] }];
  if (typeof start.oja === "number" && start.oja > 0) axes.push({ term: "oja", base: start.oja, factors: [...GRID_FACTORS] });
  const scored = new Map<string, GridCheck["points"][0]>();
  const pointOf = (fs: number[]): ThetaSpec => ({ ...start, ...Object.fromEntries(axes.map((a, i) => [a.term, a.base * fs[i]])) });
  const combos = (): number[][] => axes.reduce<number[][]>((acc, a) => acc.flatMap((p) => a.factors.map((f) => [...p, f])), [[]]);
  let best: { fs: number[]; acc: number } | null = null;
  const edge: string[] = [];
  for (let round = 0; ; round++) {
    for (const fs of combos()) {
      const key = JSON.stringify(fs);
      if (scored.has(key)) continue;
      const theta = pointOf(fs);
      const out = await train({ ...tuningConfig(c), tasks: o.gridTasks!, theta }, o.workers);
      const ok = out.results.filter((r) => !r.diverged);
      scored.set(key, {
        theta,
        acc: out.acc,
        diverged: out.diverged,
        tasks: out.results.length,
        weight_norm: ok.length ? ok.reduce((sm, r) => sm + r.weightNorm, 0) / ok.length : NaN,
      });
    }
    // The best point, ties to the first in grid order (smaller coefficients first).
    best = null;
    for (const fs of combos()) {
      const p = scored.get(JSON.stringify(fs))!;
      if (!best || p.acc > best.acc) best = { fs, acc: p.acc };
    }
    edge.length = 0;
    let grew = false;
    axes.forEach((a, i) => {
      const lo = a.factors[0],
        hi = a.factors[a.factors.length - 1],
        f = best!.fs[i];
      if (f === hi) {
        if (round < GRID_WIDEN) {
          a.factors.push(hi * 2);
          grew = true;
        } else edge.push(`${a.term} high`);
      } else if (f === lo) {
        if (round < GRID_WIDEN) {
          a.factors.unshift(lo / 2);
          grew = true;
        } else edge.push(`${a.term} low`);
      }
    });
    if (!grew) break;
  }
  // Points in grid order (each axis ascending), whatever order they were scored in.
  return { points: combos().map((fs) => scored.get(JSON.stringify(fs))!), ...(edge.length ? { edge: [...edge] } : {}) };
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
  const grid = cells(o),
    results: CellResult[] = [];
  // Cells of different scenarios can be the same computation (a-batch_1 is c-gain_1 and d-online; scenario e's cells
  // are scenario h's at 10 passes): the key says everything a result depends on, so a key computed once is reused.
  const byKey = new Map<string, CellResult>();
  for (const [i, c] of grid.entries()) {
    const file = join(dir, `${c.id}.json`),
      key = cellKey(c, o);
    // A cell is reused only if it was computed with the same settings.
    const saved = savedCell(file, key, c);
    if (saved) {
      results.push(saved);
      if (!byKey.has(key)) byKey.set(key, saved);
      onCell?.(i + 1, grid.length, c.id, saved);
      continue;
    }
    const twin = byKey.get(key);
    const res: CellResult = twin
      ? { ...twin, id: c.id, at: c.at, scenario: c.scenario, x: c.x, rule: c.rule, seconds: 0, sameAs: twin.sameAs ?? twin.id }
      : await computeCell(c, o);
    if (!twin) byKey.set(key, res);
    writeAtomic(file, JSON.stringify(res) + "\n");
    results.push(res);
    onCell?.(i + 1, grid.length, c.id, res);
  }
  return results;
}

/** Everything a cell's result depends on: a cached cell is reused only when its key is the same. */
export function cellKey(c: Cell, o: ReproduceOptions): string {
  const { episodes, l1, transferTo } = cellSettings(c, o);
  return JSON.stringify({
    // native and wasm give the same bytes (test/native.test.ts), so a cell either computed serves both.
    cfg: c.cfg.backend === "native" ? { ...c.cfg, backend: "wasm" } : c.cfg,
    scale: c.thetaScale,
    cellTheta: c.theta,
    theta: startOf(c, o),
    meta: o.metaEpisodes,
    // Issue 28: tuned under the scoring protocol (passes and batch), the widened grid, the better θ per seed.
    protocol: PROTOCOL,
    tune: tuneOf(c, o),
    ...(c.published ? { published: c.published } : {}),
    diagTasks: o.diagTasks,
    probe: o.probe,
    outer: o.outer ?? "robust",
    seeds: o.metaSeeds ?? 1,
    grid: o.gridTasks ?? 0,
    ...(bracketOf(o) > 0 ? { bracket: bracketOf(o) } : {}),
    rule: c.rule,
    episodes,
    l1,
    transferTo,
    ...(c.scarcity ? { scarcity: c.scarcity } : {}),
  });
}

/** The bracketing of meta-learning starts a run uses: only with the robust loop (the published loop stays as published). */
function bracketOf(o: ReproduceOptions): number {
  return (o.outer ?? "robust") === "robust" ? (o.bracket ?? 0) : 0;
}

function cellSettings(c: Cell, o: ReproduceOptions): { episodes: number; l1: number; transferTo: string } {
  // Scenario g's cells, its ablations included (each meta-learned with the episodes of the cell it ablates), always
  // meta-learn; only the main cells keep a learning curve and test transfer.
  const scarce = c.scarcity !== undefined || c.scenario === "g";
  const episodes = scarce ? (o.scarcityEpisodes ?? (o.metaEpisodes > 0 ? o.metaEpisodes : 30)) : o.metaEpisodes;
  // The pool and the pool without decay carry the pool's L1 penalty (they differ in one term only); bp + decay is
  // compared with bp, which has none, so it has none either (an L1 on θ_bp would shrink the step it is compared at).
  const pooledRule = c.rule === "pool" || c.rule === "pool-decay";
  return {
    episodes,
    l1: c.rule === "taylor" ? DISCOVERY_L1 : pooledRule ? (o.poolL1 ?? POOL_L1) : 0,
    transferTo: c.scarcity ? (o.transfer ?? "fashion") : "none",
  };
}

/**
 * Whether the grid spans every term a rule learns (θ_bp, and θ_oja where the start has one): only then may its best
 * point replace a seed's meta-learned θ. For the pool, its ablations and the Taylor family the grid is a check only —
 * its points hold the other terms at 0, so scoring one would score a different rule.
 */
export function gridCovers(learn: readonly string[], start: ThetaSpec): boolean {
  const axes = new Set(["bp", ...(typeof start.oja === "number" && start.oja > 0 ? ["oja"] : [])]);
  return learn.every((t) => axes.has(t));
}

/** The cached result in `file` when it was computed with `key`, else null (absent, unreadable or stale). */
export function savedCell(file: string, key: string, c?: Cell): CellResult | null {
  if (!existsSync(file)) return null;
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as CellResult;
    // Cells saved before coordinates existed take their plan's.
    return saved.key === key ? pooled(c && saved.at === undefined ? { ...saved, at: c.at } : saved) : null;
  } catch {
    return null;
  }
}

/** The terms a cell's rule learns (and starts from the run's θ for bp and oja, 0 for the others). */
export function learnedTerms(rule: CellRule): string[] {
  switch (rule) {
    case "bp":
      return ["bp"];
    case "bp+oja":
      return ["bp", "oja"];
    case "pool":
      return [...TERM_NAMES];
    case "pool-decay":
      return TERM_NAMES.filter((t) => t !== "decay");
    case "bp+decay":
      return ["bp", "decay"];
    case "taylor":
      // Registers the family's expression terms in this thread (workers register them from the rule).
      return DISCOVERY_LEARN.taylor();
  }
}

/** How a cell is tuned (Cell.tune, or what its optimizer allows). */
export function tuneOf(c: Cell, o: ReproduceOptions): "meta" | "grid" | "none" {
  if (c.tune) return c.tune;
  if (c.published) return "meta";
  const { episodes } = cellSettings(c, o);
  const metaOk = episodes > 0 && c.cfg.norm === "none" && optimizerOf(c.cfg.optimizer).differentiable && c.theta === undefined;
  if (metaOk) return "meta";
  // A baseline meta-learning cannot differentiate through (Adam, normalization) is tuned on the grid, when there is one.
  return (o.gridTasks ?? 0) > 0 && o.metaEpisodes > 0 ? "grid" : "none";
}

/**
 * What a cell's tuning runs under: the cell's own configuration on the train split — the same passes, batch,
 * network and data regime as the cell that scores it (issue 28: the 10-pass cells are tuned on 10 passes) — from task
 * streams of its own (GRID_STREAM), so tuning never sees a scoring task's initial weights or classes.
 */
export function tuningConfig(c: Cell): RunConfig {
  return { ...c.cfg, split: "train", seed: c.cfg.seed + GRID_STREAM };
}

/** Per measured task: the first and last diagnostics of every layer (null where the task diverged). */
function layerTasksOf(rs: TaskResult[]): CellResult["layerTasks"] {
  const vals = (d: NonNullable<TaskResult["diagnostics"]>[0]): LayerValues => ({
    pr: d.layers.map((l) => l.pr),
    actNorm: d.layers.map((l) => l.actNorm),
    orthoErr: d.layers.map((l) => l.orthoErr),
    weightNorm: d.layers.map((l) => l.weightNorm),
  });
  const measured = rs.filter((r) => r.diagnostics && r.diagnostics.length);
  return measured.length
    ? measured.map((r) => (r.diverged ? null : { first: vals(r.diagnostics![0]), last: vals(r.diagnostics![r.diagnostics!.length - 1]) }))
    : undefined;
}

/**
 * Compute one cell: tune θ under the cell's own protocol (meta-learn per seed, and the widened grid), choose per
 * seed the better of the two on train-split tasks, score it on the cell's tasks, and test transfer.
 */
export async function computeCell(c: Cell, o: ReproduceOptions): Promise<CellResult> {
  const plan = probePlan(o),
    key = cellKey(c, o);
  const { episodes, l1, transferTo } = cellSettings(c, o);
  const t0 = performance.now();
  const th = startOf(c, o);
  const learn = learnedTerms(c.rule);
  const start: ThetaSpec = c.published
    ? c.published.start
    : scaled(c.theta ?? Object.fromEntries(learn.map((t) => [t, t === "bp" ? th.bp : t === "oja" ? th.oja : 0])), c.thetaScale);
  const tune = tuneOf(c, o);
  let curve: CurveSummary[] | undefined;
  const outer: OuterLoop = c.published ? "adam" : (o.outer ?? "robust");
  const seeds = tune === "meta" && !c.published ? (o.metaSeeds ?? 1) : 1;
  const diag = { plan: { ...plan, at: stepsFor(c.cfg) }, tasks: o.diagTasks };
  // 1. Meta-learning, per seed, under the cell's own protocol (passes and batch included); seed s draws its training
  // tasks from streams of its own.
  const learned: { theta: ThetaSpec; meta: Partial<SeedRun> }[] = [];
  let trajectory: CellResult["trajectory"];
  // The seeds are independent (each its own task streams and its own outer state), so they run at once, their
  // episodes' jobs sharing the worker threads: every job is a pure function of its inputs, so the bytes are those
  // of seeds run one after another in one thread (test/reproduce-trajectory.test.ts holds the frozen cells to it).
  const metaSeed = async (sIdx: number) => {
    const mcfg: MetaConfig = {
      run: { ...tuningConfig(c), theta: start, tasks: 1, seed: c.cfg.seed + META_STREAM * (sIdx + 1) },
      learn: learn as MetaConfig["learn"],
      perLayer: false,
      episodes: c.published?.episodes ?? episodes,
      metaBatch: 1,
      metaLr: 1e-3,
      l1,
      checkpointEvery: c.published?.episodes ?? episodes,
      ...(outer === "robust" ? { outer } : {}),
      ...(!c.published && bracketOf(o) > 0 ? { bracket: bracketOf(o) } : {}),
    };
    const traj: { episode: number; theta: ThetaSpec }[] = [];
    const m = await metaTrain(
      mcfg,
      o.workers,
      null,
      c.published
        ? {
            onEpisode: (l) => {
              if (l.episode % 20 === 0) traj.push({ episode: l.episode, theta: l.theta });
            },
          }
        : {},
    );
    // The published loop's cells use its final iterate; the robust loop's learned θ is the mean of its last episodes.
    return {
      traj,
      theta: specOf(mcfg, outer === "robust" ? m.learned : m.state.theta),
      meta: { metaSeed: sIdx, final: specOf(mcfg, m.state.theta), skipped: m.state.skipped },
    };
  };
  if (tune !== "meta") for (let sIdx = 0; sIdx < seeds; sIdx++) learned.push({ theta: start, meta: {} });
  else {
    const outs = await Promise.all(Array.from({ length: seeds }, (_, sIdx) => metaSeed(sIdx)));
    for (const r of outs) learned.push({ theta: r.theta, meta: r.meta });
    if (c.published) trajectory = outs[outs.length - 1].traj;
  }
  // 2. The grid (meta-learned cells and fixed-θ baselines), and per seed the better θ on the grid's train tasks.
  let grid: Pick<GridCheck, "points" | "edge"> | undefined, metaTrain_: number[] | undefined, use: ("meta" | "grid")[] | undefined;
  if ((tune === "meta" || tune === "grid") && !c.published && (o.gridTasks ?? 0) > 0) {
    grid = await tuneGrid(c, start, o);
    const bestPoint = grid.points.reduce((b, p) => (p.acc > b.acc ? p : b));
    if (tune === "meta" && !gridCovers(learn, start)) use = learned.map(() => "meta");
    else if (tune === "meta") {
      metaTrain_ = [];
      for (const l of learned) metaTrain_.push((await train({ ...tuningConfig(c), tasks: o.gridTasks!, theta: l.theta }, o.workers)).acc);
      use = metaTrain_.map((a) => (bestPoint.acc > a ? "grid" : "meta"));
    } else use = ["grid"];
  }
  const bestTheta = grid ? grid.points.reduce((b, p) => (p.acc > b.acc ? p : b)).theta : undefined;
  // 3. Scoring on the cell's tasks: each seed's θ, and the grid's best; diagnostics of the θ seed 0 is scored by.
  const diagFor = (which: "meta" | "grid") => ((use?.[0] ?? "meta") === which ? diag : undefined);
  const runs: SeedRun[] = [],
    transfer: SeedRun[] = [];
  let diagnostics: CellResult["diagnostics"] = [],
    layerTasks: CellResult["layerTasks"];
  const keepDiag = (rs: TaskResult[]) => {
    diagnostics = meanDiagnostics(rs);
    layerTasks = layerTasksOf(rs);
  };
  if (tune !== "grid") {
    for (const [sIdx, l] of learned.entries()) {
      const d = sIdx === 0 ? diagFor("meta") : undefined;
      const out = await train({ ...c.cfg, theta: l.theta }, o.workers, undefined, d, { curve: sIdx === 0 ? c.scarcity?.curve : undefined });
      if (d) {
        keepDiag(out.results);
        curve = out.curve;
      }
      runs.push({ metaSeed: null, ...l.meta, ...seedRun(l.theta, out.results, c.cfg.way) });
    }
  }
  let gridCheck: GridCheck | undefined;
  if (grid && bestTheta) {
    const d = diagFor("grid");
    const out = await train({ ...c.cfg, theta: bestTheta }, o.workers, undefined, d, { curve: d ? c.scarcity?.curve : undefined });
    if (d) {
      keepDiag(out.results);
      curve = out.curve;
    }
    const best: SeedRun = { metaSeed: null, ...seedRun(bestTheta, out.results, c.cfg.way) };
    if (tune === "grid") runs.push(best);
    const vsMeta = runs.map((r) => paired(r.tasks, best.tasks));
    gridCheck = {
      ...grid,
      best,
      vsMeta,
      worse: tune === "meta" && vsMeta.some((dd) => dd.mean + dd.ci95 < 0),
      ...(metaTrain_ ? { metaTrain: metaTrain_ } : {}),
      use: use!,
    };
  }
  // A seed whose grid point did better on the train tasks is scored by it: `runs` are the scored runs (what every
  // table, chart and verdict reads), the meta-learned ones are kept beside them.
  let metaRuns: SeedRun[] | undefined;
  if (tune === "meta" && gridCheck && gridCheck.use!.includes("grid")) {
    metaRuns = runs.slice();
    const best = gridCheck.best;
    runs.splice(0, runs.length, ...metaRuns.map((r, s) => (gridCheck!.use![s] === "grid" ? { ...best, metaSeed: r.metaSeed } : r)));
  }
  // 4. Transfer: each seed's scored θ, learned on this dataset, tested at the same K on another one's test split.
  if (transferTo !== "none") {
    for (const [sIdx, r] of runs.entries()) {
      const theta = r.theta;
      const tout = await train({ ...c.cfg, dataset: transferTo, theta }, o.workers);
      transfer.push({ metaSeed: r.metaSeed ?? null, ...seedRun(theta, tout.results, c.cfg.way) });
    }
  }
  const first = runs[0],
    n = first.tasks.length;
  const taskMean = first.tasks.map((_, q) => runs.reduce((sm, r) => sm + r.tasks[q].acc, 0) / runs.length);
  const accAll = taskMean.reduce((sm, a) => sm + a, 0) / n;
  const sd = Math.sqrt(taskMean.reduce((sm, a) => sm + (a - accAll) ** 2, 0) / Math.max(1, n - 1));
  const mean = (f: (r: SeedRun) => number) => runs.reduce((sm, r) => sm + f(r), 0) / runs.length;
  const res: CellResult = {
    id: c.id,
    protocol: PROTOCOL,
    at: c.at,
    key,
    scenario: c.scenario,
    x: c.x,
    rule: c.rule,
    theta: first.theta,
    thetaSource: tune === "meta" ? "meta-learned" : tune === "grid" ? "grid" : "fixed",
    acc: mean((r) => r.acc),
    acc_ci95: runs.length === 1 ? first.acc_ci95 : (1.96 * sd) / Math.sqrt(n),
    loss: mean((r) => r.loss),
    loss_median: first.loss_median,
    diverged: first.diverged,
    exploded: first.exploded,
    weight_norm: first.weight_norm,
    tasks: first.tasks,
    runs,
    ...(metaRuns ? { metaRuns } : {}),
    ...(gridCheck ? { grid: gridCheck } : {}),
    ...(transfer.length ? { transfer, transferDataset: transferTo } : {}),
    ...(curve ? { curve } : {}),
    diagnostics,
    ...(layerTasks ? { layerTasks } : {}),
    ...(trajectory ? { trajectory } : {}),
    seconds: (performance.now() - t0) / 1000,
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
  const all = r.runs.flatMap((x) => x.tasks),
    n = all.length;
  if (n === 0) return r;
  const losses = all.map((t) => t.loss).sort((a, b) => a - b);
  const finite = r.runs.filter((x) => Number.isFinite(x.weight_norm));
  const w = finite.reduce((s, x) => s + x.weight_norm * (x.tasks.length - x.diverged), 0),
    k = finite.reduce((s, x) => s + x.tasks.length - x.diverged, 0);
  return {
    ...r,
    loss: losses.reduce((s, x) => s + x, 0) / n,
    loss_median: n % 2 ? losses[(n - 1) / 2] : (losses[n / 2 - 1] + losses[n / 2]) / 2,
    diverged: r.runs.reduce((s, x) => s + x.diverged, 0),
    exploded: r.runs.reduce((s, x) => s + x.exploded, 0),
    weight_norm: k > 0 ? w / k : NaN,
  };
}
