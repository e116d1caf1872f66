import type { Backend, CurveSummary, DiagnosticsAt, RunConfig } from "../experiments/task.js";
import type { OuterLoop } from "../meta/outer.js";
import type { ThetaSpec } from "../rules/rule.js";

/** Per-layer diagnostics of one task at one step: participation ratio, ‖yₗ‖, ‖WₗWₗᵀ − I‖_F/√n, ‖Wₗ‖_F. */
export interface LayerValues { pr: number[]; actNorm: number[]; orthoErr: number[]; weightNorm: number[] }

/**
 * `neuroplastic reproduce`: the paper's comparisons (PAPER.md "Claims") as a
 * grid of cells — a configuration and a rule each — run with per-layer
 * diagnostics, kept one file per cell so an interrupted run resumes.
 */
export type ScenarioId = "a" | "b" | "c" | "d" | "e" | "f" | "g" | "h" | "i";

/** Scenario g's rule pool: every built-in term, meta-learned with this L1 penalty (λ Σ|θ|). */
export const POOL_L1 = 1;
/**
 * A cell's rule: bp alone, bp + Oja, the whole pool, and claim 8's ablations — the pool without `decay`, and bp with
 * `decay` alone (both meta-learned like the pool, with its L1 penalty); and scenario i's local Taylor family.
 */
export type CellRule = "bp" | "bp+oja" | "pool" | "pool-decay" | "bp+decay" | "taylor";

/** The recurrent network of scenario f: N = 100, the coefficients where a grid of fixed ones did well at D = 0 and 20. */
export const RNN_THETA = { bp: 0.003, oja: 0.002 };

/**
 * A cell's typed coordinates within its scenario (batch, depth, gain, trick, pathway and passes, delay, K):
 * verdicts and figures join cells on these, never on their display label `x`.
 */
export type At = Readonly<Record<string, number | string>>;

export interface ReproduceOptions {
  out: string;
  /** The scenarios to run (default: every scenario but the opt-in ones, OPT_IN in scenarios.ts). */
  scenarios?: ScenarioId[];
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
  /**
   * Robust loop: bracket each meta-learning start on this many train-split tasks per candidate
   * (src/experiments/meta-train.ts bracketStart; 0 or absent: off).
   */
  bracket?: number;
  /** Scenario g (data scarcity) always meta-learns: its episodes (default: metaEpisodes, or 30 when that is 0). */
  scarcityEpisodes?: number;
  /** Scenario g: λ of the pool's L1 penalty (default POOL_L1). */
  poolL1?: number;
  /** Scenario g: the dataset the MNIST-learned θ is also tested on (default "fashion"; "none" to skip). */
  transfer?: string;
  dataset: string;
  backend: Backend;
  /**
   * With native-fast: its path ("avx512+fma" or "avx2+fma"), fixed when the run (or plan) is made, so that a
   * sweep's cells and its collect on another node key on the path that ran, not on the node's own.
   */
  kernels?: string;
}

export interface Cell {
  id: string;
  scenario: ScenarioId;
  /** The swept value as a display label (batch, depth, gain, baseline name, feedback). */
  x: string;
  rule: CellRule;
  /** The swept value as typed coordinates (what verdicts join on). */
  at: At;
  cfg: RunConfig;
  /** Scale applied to θ (mini-batches: per-example step kept equal). */
  thetaScale: number;
  /** Fixed coefficients for this cell (e.g. Adam's learning rate), overriding the run's θ. */
  theta?: ThetaSpec;
  /** Scenario g: meta-learned whatever metaEpisodes says, with a learning curve every `curve` steps. */
  scarcity?: { curve: number };
  /**
   * How θ is tuned (default: meta-learned and grid-checked where meta-learning runs through the cell's optimizer, else
   * grid only): "grid" tunes a fixed-θ baseline (Adam's learning rate, a normalized network's step) on the log grid;
   * "none" keeps `theta` as given (the matched-step-size controls).
   */
  tune?: "meta" | "grid" | "none";
  /** The published protocol beside ours (issue 28): Adam on the exact gradient, lr 1e-3, this many episodes, from `start`, one seed, no grid. */
  published?: { episodes: number; start: ThetaSpec };
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
  /** Each point's mean accuracy on the train-split tasks the grid is chosen on (and the finite tasks' mean Σ‖W‖ after training). */
  points: { theta: ThetaSpec; acc: number; diverged: number; tasks?: number; weight_norm?: number }[];
  /** Coefficients whose best point is still on the grid's edge after widening ("bp high", "oja low"): the grid could not bracket them. */
  edge?: string[];
  /** Each meta seed's θ on the grid's train-split tasks (what the choice between it and the grid's best is made on). */
  metaTrain?: number[];
  /** Per meta seed, the θ the cell is scored by: the meta-learned one, or the grid's best where that did better on train tasks. */
  use?: ("meta" | "grid")[];
  /** The best point, scored on the cell's own tasks. */
  best: SeedRun;
  /** Per meta seed: meta-learned minus best grid point, paired over the cell's tasks (mean and 95% CI half-width). */
  vsMeta: { mean: number; ci95: number }[];
  /** Meta-learning did worse than the best grid point (some seed's whole interval below zero). */
  worse: boolean;
}

/** Log-spaced factors around the starting coefficients: ¼, ½, 1, 2, 4 (the grid before widening). */
export const GRID_FACTORS = [0.25, 0.5, 1, 2, 4];
/**
 * Widening steps per side: the grid grows by ×2 beyond an edge at most this often (to ×1/1024 … ×1024). Eight, not
 * four: at Xavier gain 4 bp + Oja's best point was still at the low θ_oja edge after four (×1/64, θ_oja 8·10⁻⁵,
 * accuracy rising as θ_oja fell), above the stability bound θ_oja‖y‖² < 2 of about 3·10⁻⁵ there.
 */
export const GRID_WIDEN = 8;

/**
 * The task streams tuning draws from, apart from the scoring tasks' (seed s) so that no θ is chosen on the initial
 * weights or classes it is scored on: the grid and the meta-vs-grid choice use seed s + GRID_STREAM, meta seed k
 * trains on seed s + META_STREAM·(k + 1).
 */
export const GRID_STREAM = 500,
  META_STREAM = 1000;

/**
 * The tuning protocol a cell was computed under. 3: as 2, with tuning on task streams of its own (no θ chosen on a
 * scoring task's initial weights or classes), the grid widened up to eight times, the grid's best replacing a seed's θ
 * only for rules the grid spans (bp, bp + Oja), and claim 8's ablations tuned as the cells they ablate. 2 (issue 28)
 * tunes every cell under the protocol it is scored on, widens the grid and scores the better θ per seed. Cells
 * without the field are protocol 1: θ meta-learned on one pass for every cell, a fixed ×¼ … ×4 grid, the
 * meta-learned θ always scored.
 */
export const PROTOCOL = 3;

export interface CellResult {
  id: string;
  /** The tuning protocol (PROTOCOL) it was computed under; absent: protocol 1. */
  protocol?: number;
  /** The id of the cell whose computation this one is (the same key: the same settings in another scenario). */
  sameAs?: string;
  /** The cell's coordinates (from its plan; kept out of results.json, whose cells are looked up by id). */
  at: At;
  /** The settings the cell was computed with (resume reuses only exact matches). */
  key: string;
  scenario: ScenarioId;
  x: string;
  rule: string;
  /** The first run's θ (every run's in `runs`). */
  theta: ThetaSpec;
  thetaSource: "fixed" | "meta-learned" | "grid";
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
  /** The scored runs: one per meta seed (its θ, or the grid's best where that did better on train tasks), or the fixed one. */
  runs: SeedRun[];
  /** The meta-learned runs, kept when some seed is scored by the grid's best instead. */
  metaRuns?: SeedRun[];
  grid?: GridCheck;
  /** Scenario g: each run's θ tested on another dataset at the same K (transfer). */
  transfer?: SeedRun[];
  transferDataset?: string;
  /** Scenario g: the first run's learning curve. */
  curve?: CurveSummary[];
  /** Mean over measured tasks, per step and layer (and the RNN's own, through time). */
  diagnostics: DiagnosticsAt[];
  /**
   * Per measured task (the first diagTasks of the first run), per layer: the diagnostics before training (`first`) and
   * after it (`last`); null for a diverged task. Mechanism verdicts pair these across cells (the same tasks).
   */
  layerTasks?: ({ first: LayerValues; last: LayerValues } | null)[];
  /** The published protocol's meta-learning (issue 28): its θ trajectory every 20 episodes. */
  trajectory?: { episode: number; theta: ThetaSpec }[];
  seconds: number;
}


