import type { RunConfig } from "../experiments/task.js";
import type { VlSpec } from "../report/plot.js";
import type { ThetaSpec } from "../rules/rule.js";
import type { Verdict } from "./stats.js";
import type { At, Cell, CellResult, CellRule, ReproduceOptions, ScenarioId } from "./types.js";

/** A figure of the report: its file name, and whether it belongs to the Diagnostics section of summary.md. */
export interface Figure {
  name: string;
  spec: VlSpec;
  mechanism?: boolean;
}

/**
 * One of the paper's comparisons as a module: its cells (with typed
 * coordinates), its verdicts and its figures. `src/reproduce/scenarios.ts`
 * lists them in one table; the runner, the verdicts and the report ask them.
 */
export interface Scenario {
  readonly id: ScenarioId;
  readonly title: string;
  /** The θ its cells start from (fixed, or meta-learning's start); absent: the run's --bp and --oja. */
  start?(o: ReproduceOptions): { bp: number; oja: number };
  cells(o: ReproduceOptions, base: RunConfig): Cell[];
  verdicts(cells: Lookup, opts: { passes?: number }): Verdict[];
  figures(cells: Lookup): Figure[];
  /** A sentence on its protocol for the report's header, placed by rank. */
  note?: { rank: number; text(o: ReproduceOptions, cells: Lookup): string };
}

/**
 * Cells of one scenario, joined on their coordinates. A control cell (coordinate `control`: a matched step size, the
 * published protocol, an ablation) is found only by asking for its control; `of` and `coords` list the main cells.
 */
export class Lookup {
  constructor(readonly all: readonly CellResult[]) {}
  /** The scenario's main cells in run order. */
  of(s: ScenarioId): CellResult[] {
    return this.all.filter((r) => r.scenario === s && r.at.control === undefined);
  }
  /** The scenario's control cells in run order. */
  controls(s: ScenarioId): CellResult[] {
    return this.all.filter((r) => r.scenario === s && r.at.control !== undefined);
  }
  /** The first cell of scenario s and rule whose coordinates include `at` (a control cell only if `at` names its control). */
  find(s: ScenarioId, rule: string, at: At): CellResult | undefined {
    return this.all.find(
      (r) =>
        r.scenario === s && r.rule === rule && (r.at.control === undefined || at.control !== undefined) && Object.entries(at).every(([k, v]) => r.at[k] === v),
    );
  }
  /** The distinct coordinates of a scenario's main cells, in run order, that satisfy `pick`. */
  coords(s: ScenarioId, pick: (at: At) => boolean = () => true): At[] {
    const seen = new Set<string>(),
      out: At[] = [];
    for (const r of this.of(s)) {
      const k = JSON.stringify(r.at);
      if (!seen.has(k) && pick(r.at)) {
        seen.add(k);
        out.push(r.at);
      }
    }
    return out;
  }
  has(s: ScenarioId): boolean {
    return this.all.some((r) => r.scenario === s);
  }
}

/** A scenario's cell builder: one cell per rule at label x and coordinates `at`, its configuration `base` with `over`. */
export function cellMaker(scenario: ScenarioId, base: RunConfig, out: Cell[]) {
  return (
    x: string,
    at: At,
    rules: readonly CellRule[],
    over: Partial<RunConfig>,
    thetaScale = 1,
    theta?: ThetaSpec | ((rule: CellRule) => ThetaSpec),
    scarcity?: Cell["scarcity"],
    extra: Partial<Pick<Cell, "tune" | "published">> | ((rule: CellRule) => Partial<Pick<Cell, "tune" | "published">>) = {},
  ) => {
    for (const rule of rules) {
      out.push({
        id: `${scenario}-${x}-${rule}`.replace(/[^a-zA-Z0-9.+-]/g, "_"),
        scenario,
        x,
        rule,
        cfg: { ...base, ...over },
        thetaScale,
        theta: typeof theta === "function" ? theta(rule) : theta,
        ...(scarcity ? { scarcity } : {}),
        ...(typeof extra === "function" ? extra(rule) : extra),
        at,
      });
    }
  };
}

export const BOTH: readonly CellRule[] = ["bp", "bp+oja"];

/** Episodes of the published outer loop (Adam on the exact gradient, lr 1e-3), as the paper ran it. */
export const PUBLISHED_EPISODES = 600;

/**
 * The published protocol beside ours for a headline cell (issue 28, item 6): Adam on the exact meta-gradient, lr 1e-3,
 * 600 episodes (fewer in a --quick run: its meta-episodes, or 2), from θ_bp = 1e-3 and every other coefficient 0.
 */
export function publishedControl(o: ReproduceOptions) {
  const episodes = o.quick ? Math.max(2, Math.min(o.metaEpisodes, 20)) : PUBLISHED_EPISODES;
  return (rule: CellRule) => ({ published: { episodes, start: rule === "bp" ? { bp: 1e-3 } : { bp: 1e-3, oja: 0 } } });
}

/** Whether a run adds the published-protocol controls: only when it meta-learns at all. */
export const withPublished = (o: ReproduceOptions) => o.metaEpisodes > 0;
