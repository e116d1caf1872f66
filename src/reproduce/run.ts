import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic } from "../core/files.js";
import { Rng } from "../core/rng.js";
import type { LayerDiagnostics } from "../nets/mlp/probe.js";
import { metaTrain, specOf, type MetaConfig } from "../experiments/meta-train.js";
import type { ThetaSpec } from "../rules/rule.js";
import { DEFAULT_CONFIG, type CurveSummary, type DiagnosticsPlan, type RunConfig, type TaskResult } from "../experiments/task.js";
import { cachedDataset } from "../experiments/datasets.js";
import { TERM_NAMES } from "../rules/registry.js";
import { optimizerOf } from "../learn/optimizers.js";
import { train } from "../experiments/train.js";
import { SCENARIO_IDS, SCENARIOS } from "./scenarios.js";
import { POOL_L1, type Cell, type CellResult, type GridCheck, type ReproduceOptions, type SeedRun } from "./types.js";

/**
 * `neuroplastic reproduce`: the paper's comparisons (PAPER.md "Claims") as a
 * grid of cells — a configuration and a rule each — run with per-layer
 * diagnostics, kept one file per cell so an interrupted run resumes.
 */
export { POOL_L1, RNN_THETA, type Cell, type CellResult, type ReproduceOptions, type ScenarioId, type SeedRun } from "./types.js";

/** The grid of cells: every scenario's, in the table's order. */
export function cells(o: ReproduceOptions): Cell[] {
  const base: RunConfig = { ...DEFAULT_CONFIG, dataset: o.dataset, split: "test", seed: o.seed, tasks: o.tasks, backend: o.backend };
  return SCENARIO_IDS.flatMap((s) => SCENARIOS[s].cells(o, base));
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
  const points: ThetaSpec[] = GRID_FACTORS.flatMap((fb) =>
    oja0 === undefined ? [{ bp: bp0 * fb }] : GRID_FACTORS.map((fo) => ({ bp: bp0 * fb, oja: oja0 * fo })),
  );
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
    const saved = savedCell(file, cellKey(c, o), c);
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
  return JSON.stringify({
    cfg: c.cfg,
    scale: c.thetaScale,
    cellTheta: c.theta,
    theta: startOf(c, o),
    meta: o.metaEpisodes,
    metaPasses: (c.cfg.epochs ?? 1) > 1 ? 1 : undefined,
    diagTasks: o.diagTasks,
    probe: o.probe,
    outer: o.outer ?? "robust",
    seeds: o.metaSeeds ?? 1,
    grid: o.gridTasks ?? 0,
    ...(bracketOf(o) > 0 ? { bracket: bracketOf(o) } : {}),
    ...(c.scarcity ? { scarcity: c.scarcity, episodes, l1, transferTo } : {}),
  });
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
export function savedCell(file: string, key: string, c?: Cell): CellResult | null {
  if (!existsSync(file)) return null;
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as CellResult;
    // Cells saved before coordinates existed take their plan's.
    return saved.key === key ? pooled(c && saved.at === undefined ? { ...saved, at: c.at } : saved) : null;
  } catch { return null; }
}

/** Compute one cell: meta-learn θ (per seed) where it applies, train its tasks, the grid check and transfer. */
export async function computeCell(c: Cell, o: ReproduceOptions): Promise<CellResult> {
  const plan = probePlan(o), key = cellKey(c, o);
  const { episodes, l1, transferTo } = cellSettings(c, o);
  const t0 = performance.now();
  const th = startOf(c, o);
  const start: ThetaSpec = scaled(c.theta ?? (c.rule === "bp" ? { bp: th.bp } : c.rule === "bp+oja" ? { bp: th.bp, oja: th.oja }
    : Object.fromEntries(TERM_NAMES.map((t) => [t, t === "bp" ? th.bp : t === "oja" ? th.oja : 0]))), c.thetaScale);
  // Meta-learning runs through online and mini-batch plasticity; not through Adam or normalization layers.
  const metaOk = episodes > 0 && c.cfg.norm === "none" && optimizerOf(c.cfg.optimizer).differentiable && c.theta === undefined;
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
      const mcfg: MetaConfig = {
        run: { ...c.cfg, split: "train", theta: start, tasks: 1, epochs: 1, seed: c.cfg.seed + 1000 * sIdx },
        learn,
        perLayer: false,
        episodes,
        metaBatch: 1,
        metaLr: 1e-3,
        l1,
        checkpointEvery: episodes,
        ...(outer === "robust" ? { outer } : {}),
        ...(bracketOf(o) > 0 ? { bracket: bracketOf(o) } : {}),
      };
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
    id: c.id,
    at: c.at,
    key,
    scenario: c.scenario,
    x: c.x,
    rule: c.rule,
    theta: first.theta,
    thetaSource: metaOk ? "meta-learned" : "fixed",
    acc: mean((r) => r.acc),
    acc_ci95: runs.length === 1 ? first.acc_ci95 : (1.96 * sd) / Math.sqrt(n),
    loss: mean((r) => r.loss),
    loss_median: first.loss_median,
    diverged: first.diverged,
    exploded: first.exploded,
    weight_norm: first.weight_norm,
    tasks: first.tasks,
    runs,
    ...(gridCheck ? { grid: gridCheck } : {}),
    ...(transfer.length ? { transfer, transferDataset: transferTo } : {}),
    ...(curve ? { curve } : {}),
    diagnostics,
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
