import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { writeAtomic } from "../core/files.js";
import { runJobs } from "./pool.js";
import { checkConfig, fastTag, sitesOf, type RunConfig } from "./task.js";
import { cachedDataset } from "./datasets.js";
import type { TermName } from "../rules/registry.js";
import type { ThetaSpec } from "../rules/rule.js";
import { adamInit, type AdamState } from "../meta/adam.js";
import {
  backOff,
  cappedLoss,
  combine,
  esGradient,
  outerStep,
  perturbation,
  perturbed,
  robustInit,
  tailMean,
  type OuterLoop,
  type RobustState,
} from "../meta/outer.js";
import { metaLayout, type MetaParam } from "../learn/tangent.js";
import { thetaSpec } from "../meta/theta.js";
import type { EpisodeResult } from "./episode.js";

export interface MetaConfig {
  /** The task distribution and network, as for `train` (cfg.theta holds the initial θ). */
  run: RunConfig;
  /** Terms whose coefficients are learned; the others stay at their initial values. */
  learn: TermName[];
  perLayer: boolean;
  episodes: number;
  /** Tasks per meta-step; their gradients are averaged. */
  metaBatch: number;
  /** Adam's learning rate on θ (outer "adam"). */
  metaLr: number;
  /** The outer loop's step (src/meta/outer.ts); absent means "adam", the published protocol and what older runs used. */
  outer?: OuterLoop;
  /** "robust": the largest relative change of a coefficient per episode at the first episode (default 0.1). */
  metaStep?: number;
  /** "robust": the magnitude below which steps are linear (default 3e-3). */
  thetaFloor?: number;
  /** "robust": σ, the relative scale of the smoothing perturbations (default 0.1). */
  sigma?: number;
  /** "robust": the step at the last episode as a fraction of metaStep (linear decay; default 0.1). */
  stepDecay?: number;
  /** Episodes averaged into the learned θ (default: the last 10%, at least 1). */
  tail?: number;
  /** Bracket the start before the first episode, scoring each candidate on this many train-split tasks (absent or 0: off; see bracketStart). */
  bracket?: number;
  /** λ of the L1 penalty λ Σ|θ| on the learned coefficients. */
  l1: number;
  /** Write a checkpoint every this many episodes. */
  checkpointEvery: number;
}

/**
 * One line of meta.jsonl: episode e's tasks were run with the θ the previous
 * line ended with (θ₀ for e = 0); `loss`, `acc` and `grad` are theirs; `theta`
 * is θ after this episode's step.
 */
export interface MetaLogLine {
  episode: number;
  loss: number;
  acc: number;
  theta: ThetaSpec;
  grad: number[];
  /** The meta-gradient was not finite: no step; θ backed off (halfway toward the last θ that gave a finite one, or halved). */
  skipped: boolean;
  /** "robust": the weight of the exact gradient in the combined estimate, per meta-parameter (the rest is the ES estimate). */
  wExact?: number[];
  /** With --backend native-fast only (its bytes are not wasm's): the backend and its path (fastTag). */
  backend?: "native-fast";
  kernels?: string;
}

export interface MetaState {
  episode: number;
  theta: number[];
  adam: AdamState;
  skipped: number;
  /** The θ of the last episode whose meta-gradient was finite (θ₀ until one is for "adam"; null for "robust"). */
  good: number[] | null;
  /** "robust": running moments of the two gradient estimators. */
  robust?: RobustState;
}

const CheckpointSchema = z.object({
  version: z.literal(1),
  config: z.record(z.string(), z.unknown()),
  state: z.object({
    episode: z.number().int().nonnegative(),
    theta: z.array(z.number()),
    adam: z.object({ t: z.number(), m: z.array(z.number()), v: z.array(z.number()) }),
    skipped: z.number().int().nonnegative(),
    good: z.array(z.number()).nullable().optional(),
    robust: z
      .object({
        rp: z.object({ m: z.array(z.number()), s: z.array(z.number()), n: z.number() }),
        es: z.object({ m: z.array(z.number()), s: z.array(z.number()), n: z.number() }),
      })
      .optional(),
  }),
});

export function layoutOf(cfg: MetaConfig): MetaParam[] {
  return metaLayout(cfg.learn, sitesOf(cfg.run), cfg.perLayer);
}

/** θ₀ from the initial rule: each meta-parameter starts at its term's coefficient (first of its layers). */
export function initialTheta(cfg: MetaConfig): number[] {
  return layoutOf(cfg).map((p) => {
    const v = cfg.run.theta[p.term];
    return v === undefined ? 0 : Array.isArray(v) ? v[p.layers[0] - 1] : v;
  });
}

/** Coefficients that are not learned: the initial rule minus the learned terms. */
export function fixedTheta(cfg: MetaConfig): ThetaSpec {
  const f: ThetaSpec = {};
  for (const [k, v] of Object.entries(cfg.run.theta)) if (!cfg.learn.includes(k as TermName)) f[k as TermName] = v;
  return f;
}

export function specOf(cfg: MetaConfig, theta: readonly number[]): ThetaSpec {
  return thetaSpec(layoutOf(cfg), theta, fixedTheta(cfg), sitesOf(cfg.run));
}

export interface MetaPaths {
  dir: string;
  log: string;
  checkpoint: string;
  rule: string;
  /** With --bracket: the candidates tried for θ₀ and the one chosen. */ bracket: string;
}
export function metaPaths(dir: string): MetaPaths {
  return { dir, log: join(dir, "meta.jsonl"), checkpoint: join(dir, "checkpoint.json"), rule: join(dir, "theta.json"), bracket: join(dir, "bracket.json") };
}

/** A checkpoint that cannot be used: unreadable, not a checkpoint, or another configuration's. */
export class CheckpointError extends Error {}

/** The checkpoint in `dir`, if any, after checking it belongs to this configuration. */
export function readCheckpoint(paths: MetaPaths, cfg: MetaConfig): MetaState | null {
  if (!existsSync(paths.checkpoint)) return null;
  let json: unknown;
  try { json = JSON.parse(readFileSync(paths.checkpoint, "utf8")); } catch { throw new CheckpointError(`checkpoint ${paths.checkpoint} is not valid JSON`); }
  const r = CheckpointSchema.safeParse(json);
  if (!r.success) throw new CheckpointError(`checkpoint ${paths.checkpoint} is not a neuroplastic meta checkpoint`);
  const { episodes: _e, checkpointEvery: _c, ...same } = cfg;
  const { episodes: _e2, checkpointEvery: _c2, ...saved } = r.data.config as unknown as MetaConfig;
  if (JSON.stringify(saved) !== JSON.stringify(same))
    throw new CheckpointError(
      `checkpoint ${paths.checkpoint} was written by a different configuration (${diffFields(saved, same).join(", ")} differ); use another --out or drop ` +
        `--resume`,
    );
  const was = (r.data.config as unknown as MetaConfig).episodes;
  // The robust loop's step at episode e is metaStep scaled by the decay at e / episodes (src/meta/outer.ts): with another
  // total, the episodes already run would not be the ones this run makes, so a resume could not match an unbroken run.
  if ((cfg.outer ?? "adam") === "robust" && was !== cfg.episodes) {
    throw new CheckpointError(
      `checkpoint ${paths.checkpoint} is of a run of ${was} episodes: the robust outer loop's step size decays over the whole run, so it cannot be ` +
        `continued to ${cfg.episodes} exactly; resume with --episodes ${was}, start over (--force or another --out), or use --outer adam (whose steps do not ` +
        `depend on the total)`,
    );
  }
  const st = r.data.state, P = layoutOf(cfg).length;
  // The right shapes, and a θ a run can continue from (a hand-edited or damaged file is refused, not half-used).
  const vectors: [string, readonly number[] | null | undefined][] = [["theta", st.theta], ["adam.m", st.adam.m], ["adam.v", st.adam.v], ["good", st.good],
    ["robust.rp.m", st.robust?.rp.m], ["robust.rp.s", st.robust?.rp.s], ["robust.es.m", st.robust?.es.m], ["robust.es.s", st.robust?.es.s]];
  for (const [name, v] of vectors) {
    if (v === undefined || v === null) continue;
    if (v.length !== P)
      throw new CheckpointError(`checkpoint ${paths.checkpoint}: ${name} has ${v.length} entries, the configuration learns ${P} coefficients`);
  }
  if (!st.theta.every(Number.isFinite)) throw new CheckpointError(`checkpoint ${paths.checkpoint}: θ is not finite`);
  if ((cfg.outer ?? "adam") === "robust" && st.robust === undefined)
    throw new CheckpointError(`checkpoint ${paths.checkpoint} lacks the robust outer loop's state`);
  return { ...st, good: st.good === undefined ? st.theta : st.good };
}

function writeCheckpoint(paths: MetaPaths, cfg: MetaConfig, state: MetaState): void {
  writeAtomic(paths.checkpoint, JSON.stringify({ version: 1, config: cfg, state }) + "\n");
}

export interface MetaOutcome {
  state: MetaState;
  /** The learned θ: the mean of the last `tail` finite episodes' θ (src/meta/outer.ts); state.theta is the final iterate. */
  learned: number[];
  log: MetaLogLine[];
  seconds: number;
  /** Episodes run in this invocation, per second. */
  episodes_per_s: number;
  /** The bracketing of the start, when cfg.bracket > 0 and the run started fresh. */
  bracket?: BracketResult;
}

/**
 * The outer loop (PAPER.md "Meta-learning"): each episode samples metaBatch
 * tasks from fresh weights, takes the exact gradient of the query loss
 * through the online loop, adds the L1 subgradient λ·sign(θ), and takes one
 * step of the outer loop (src/meta/outer.ts: "robust" or the published
 * "adam"). A non-finite meta-gradient (a diverged task) skips the step and
 * moves θ halfway back toward the last θ whose episode was finite: θ is never
 * poisoned, and a step into divergence is undone rather than kept.
 * Episode e uses tasks e·B … e·B + B − 1 of the seed's task streams, so a
 * resumed run repeats exactly what an uninterrupted one would have done.
 */
export async function metaTrain(cfg: MetaConfig, workers: number, out: MetaPaths | null, opts: {
  resume?: boolean; onEpisode?: (l: MetaLogLine, s: MetaState) => void;
  /** Register work to do if the process is interrupted (the CLI's SIGINT/SIGTERM); returns how to unregister it. */
  whenInterrupted?: (f: () => void) => () => void;
} = {}): Promise<MetaOutcome> {
  const ds = cachedDataset(cfg.run);
  checkConfig({ ...cfg.run, tasks: 1 }, ds);
  const layout = layoutOf(cfg), fixed = fixedTheta(cfg);
  const theta0 = initialTheta(cfg);
  const oo = outerOptions(cfg), robust = oo.outer === "robust", P = layout.length;
  let state: MetaState = {
    episode: 0,
    theta: theta0,
    adam: adamInit(P),
    skipped: 0,
    good: robust ? null : theta0,
    ...(robust ? { robust: robustInit(P) } : {}),
  };
  const log: MetaLogLine[] = [];
  if (out) {
    const ck = opts.resume ? readCheckpoint(out, cfg) : null;
    if (ck) state = ck;
    // Keep exactly the log lines the checkpoint covers: a kill after the last checkpoint leaves extra lines.
    const kept = ck && existsSync(out.log) ? readFileSync(out.log, "utf8").split("\n").filter((s) => s.trim() !== "").slice(0, ck.episode) : [];
    for (const s of kept) log.push(JSON.parse(s));
    writeAtomic(out.log, kept.map((s) => s + "\n").join(""));
  }
  // A fresh run (no checkpoint: episode 0) brackets its start first; a resumed one already holds the bracketed θ.
  let bracket: BracketResult | undefined;
  if ((cfg.bracket ?? 0) > 0 && state.episode === 0) {
    bracket = await bracketStart(cfg, layout, fixed, state.theta, workers);
    state = { ...state, theta: bracket.theta, ...(robust ? {} : { good: bracket.theta }) };
    if (out)
      writeAtomic(
        out.bracket,
        JSON.stringify(
          {
            tasks: cfg.bracket,
            candidates: bracket.candidates.map((c) => ({ theta: thetaSpec(layout, c.theta, fixed, sitesOf(cfg.run)), loss: c.loss })),
            chosen: thetaSpec(layout, bracket.theta, fixed, sitesOf(cfg.run)),
            ...fastTag(cfg.run.backend, cfg.run.kernels),
          },
          null,
          1,
        ) + "\n",
      );
  }
  const t0 = performance.now(), start = state.episode;
  // Interrupted: a final checkpoint of the last finished episode (its log line is already on disk).
  const unhook = out && opts.whenInterrupted ? opts.whenInterrupted(() => writeCheckpoint(out, cfg, state)) : () => {};
  const cap = failedLoss(cfg.run.way);
  while (state.episode < cfg.episodes) {
    const e = state.episode;
    const tasks = Array.from({ length: cfg.metaBatch }, (_, b) => e * cfg.metaBatch + b);
    const job = (t: number, theta: number[], gradient = true) => ({ kind: "episode" as const, cfg: cfg.run, task: t, layout, theta, fixed, gradient });
    let grad: number[], loss: number, acc: number, g: number[] | null, wExact: number[] | undefined, robustState = state.robust;
    if (!robust) {
      const rs = await runJobs<EpisodeResult>(tasks.map((t) => job(t, state.theta)), workers);
      const n = rs.length;
      grad = layout.map((_, k) => rs.reduce((s, r) => s + r.grad[k], 0) / n);
      loss = rs.reduce((s, r) => s + r.loss, 0) / n; acc = rs.reduce((s, r) => s + r.acc, 0) / n;
      g = grad.every(Number.isFinite) ? grad : null;
    } else {
      // Each task: the exact gradient at θ⁺ = θ + σsε and the loss at θ⁻ = θ − σsε, same task and initial weights.
      const eps = tasks.map((_, b) => perturbation(cfg.run.seed, e, b, P));
      const jobs = tasks.flatMap((t, b) => [job(t, perturbed(state.theta, eps[b], 1, oo)), job(t, perturbed(state.theta, eps[b], -1, oo), false)]);
      const rs = await runJobs<EpisodeResult>(jobs, workers);
      const n = tasks.length, plus = rs.filter((_, i) => i % 2 === 0), minus = rs.filter((_, i) => i % 2 === 1);
      const finite = rs.filter((r) => Number.isFinite(r.loss));
      grad = layout.map((_, k) => plus.reduce((s, r) => s + r.grad[k], 0) / n);
      loss = finite.length ? finite.reduce((s, r) => s + r.loss, 0) / finite.length : NaN;
      acc = rs.reduce((s, r) => s + r.acc, 0) / rs.length;
      if (finite.length === 0) g = null;
      else {
        const es = layout.map(
          (_, k) => eps.reduce((s, ep, b) => s + esGradient(cappedLoss(plus[b].loss, cap), cappedLoss(minus[b].loss, cap), ep, state.theta, oo)[k], 0) / n,
        );
        const exact = plus.filter((r) => r.grad.every(Number.isFinite));
        const rp = exact.length ? layout.map((_, k) => exact.reduce((s, r) => s + r.grad[k], 0) / exact.length) : null;
        const c = combine(rp, es, state.robust!);
        g = c.g; robustState = c.st; wExact = c.wRp;
      }
    }
    // A diverged episode is no gradient, but it is a warning: θ backs off (halfway toward the last θ
    // whose episode was finite, or halved), so a step into a region where tasks diverge is undone
    // instead of leaving θ stuck there (where every later episode would be skipped too).
    const skip = (): MetaState => ({ ...state, skipped: state.skipped + 1, theta: backOff(state.theta, state.good) });
    let next: MetaState;
    if (g !== null) {
      const gl = g.map((gi, k) => gi + cfg.l1 * Math.sign(state.theta[k]));
      const { theta, adam } = outerStep(state.theta, gl, state.adam, oo, e / cfg.episodes);
      next = theta.every(Number.isFinite) ? { ...state, theta, adam, good: state.theta, ...(robust ? { robust: robustState } : {}) } : skip();
    } else next = skip();
    next = { ...next, episode: e + 1 };
    const line: MetaLogLine = {
      episode: e,
      loss,
      acc,
      theta: thetaSpec(layout, next.theta, fixed, sitesOf(cfg.run)),
      grad,
      skipped: next.skipped > state.skipped,
      ...(wExact ? { wExact } : {}),
      ...fastTag(cfg.run.backend, cfg.run.kernels),
    };
    state = next;
    log.push(line);
    if (out) {
      appendFileSync(out.log, JSON.stringify(line) + "\n");
      if (state.episode % cfg.checkpointEvery === 0 || state.episode === cfg.episodes) writeCheckpoint(out, cfg, state);
    }
    opts.onEpisode?.(line, state);
  }
  unhook();
  const seconds = (performance.now() - t0) / 1000;
  const history = log.filter((l) => !l.skipped).map((l) => vecOf(layout, l.theta));
  const learned = tailMean(history, cfg.tail ?? Math.max(1, Math.round(cfg.episodes / 10)), state.theta);
  return { state, learned, log, seconds, episodes_per_s: (state.episode - start) / Math.max(seconds, 1e-9), ...(bracket ? { bracket } : {}) };
}

/** The loss a run that blew up counts as, in the smoothed objective and in bracketing: ten times chance level, 10 · ln N. */
export const failedLoss = (way: number): number => 10 * Math.log(way);

/** Task ids of the bracketing tasks: far above any episode's (e · metaBatch + b), so the two never share a task. */
const BRACKET_TASK0 = 2 ** 31;
/**
 * Tasks per candidate when bracketing the start, the CLI's default for the robust loop: enough that a factor
 * of 2 beats task-to-task noise on a plateau (docs/meta-learning.md).
 */
export const BRACKET_DEFAULT = 16;
/** The factors a coefficient is tried at: a factor-of-2 grid in log θ, two steps each way. */
export const BRACKET_FACTORS = [0.25, 0.5, 2, 4];

export interface BracketResult {
  /** θ₀ of the gradient phase: the best candidate. */
  theta: number[];
  /** Every candidate tried, in order, with its mean capped query loss (the start first). */
  candidates: { theta: number[]; loss: number }[];
}

/**
 * Bracketing the start (opt-in: cfg.bracket = K tasks per candidate). Before
 * the first episode, the start θ is scaled by ¼, ½, 2 and 4 — all learned
 * coefficients together, then each nonzero one alone, greedily from the best
 * so far — and the candidate with the lowest mean query loss on K train-split
 * tasks becomes θ₀ (every candidate runs the same tasks from the same initial
 * weights; a diverged or exploded task counts as 10 · ln N, as in the robust
 * loop's objective). Why: from a start on a plateau, where every task ends
 * at chance (a step far too large for mini-batches, weights too small to
 * learn), neither the exact gradient nor the ES difference at σ = 10% carries
 * a signal, and the trust region random-walks (docs/meta-learning.md); a
 * factor-of-2 grid in log θ reaches past the plateau's edge. Coefficients at
 * 0 (pool terms not yet in use) are left to the gradient phase.
 */
export async function bracketStart(
  cfg: MetaConfig,
  layout: readonly MetaParam[],
  fixed: ThetaSpec,
  theta0: readonly number[],
  workers: number,
): Promise<BracketResult> {
  const K = cfg.bracket ?? 0,
    cap = failedLoss(cfg.run.way);
  const score = async (theta: number[]): Promise<number> => {
    const jobs = Array.from({ length: K }, (_, i) => ({
      kind: "episode" as const,
      cfg: cfg.run,
      task: BRACKET_TASK0 + i,
      layout: [...layout],
      theta,
      fixed,
      gradient: false,
    }));
    const rs = await runJobs<EpisodeResult>(jobs, workers);
    return rs.reduce((s, r) => s + cappedLoss(r.loss, cap), 0) / K;
  };
  const candidates: BracketResult["candidates"] = [];
  let best = [...theta0],
    bestLoss = await score(best);
  candidates.push({ theta: best, loss: bestLoss });
  const tryAll = async (make: (f: number) => number[]) => {
    for (const f of BRACKET_FACTORS) {
      const theta = make(f),
        loss = await score(theta);
      candidates.push({ theta, loss });
      if (loss < bestLoss) {
        best = theta;
        bestLoss = loss;
      }
    }
  };
  if (theta0.some((v) => v !== 0)) await tryAll((f) => theta0.map((v) => v * f));
  const nonzero = layout.map((_, k) => k).filter((k) => theta0[k] !== 0);
  if (nonzero.length > 1)
    for (const k of nonzero) {
      const from = best;
      await tryAll((f) => from.map((v, j) => (j === k ? v * f : v)));
    }
  return { theta: best, candidates };
}

/** The outer loop's options of a configuration, defaults filled in. */
export function outerOptions(cfg: MetaConfig) {
  return {
    outer: cfg.outer ?? "adam",
    lr: cfg.metaLr,
    step: cfg.metaStep ?? 0.1,
    floor: cfg.thetaFloor ?? 3e-3,
    sigma: cfg.sigma ?? 0.1,
    decay: cfg.stepDecay ?? 0.1,
  } as const;
}

/** θ as the flat vector of `layout` (the inverse of thetaSpec for the learned terms). */
export function vecOf(layout: readonly MetaParam[], spec: ThetaSpec): number[] {
  return layout.map((p) => { const v = spec[p.term]; return v === undefined ? 0 : Array.isArray(v) ? v[p.layers[0] - 1] : v; });
}


/** Dotted paths of the fields that differ between two JSON values (for refusals that say what differs). */
export function diffFields(a: unknown, b: unknown, at = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const obj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  if (!obj(a) || !obj(b)) return [at || "(the whole value)"];
  // A key from a damaged file may hold any character: quote one that is not a plain name, so the message stays on one line.
  const name = (k: string) => (/^[\w-]+$/.test(k) ? k : JSON.stringify(k));
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => diffFields(a[k], b[k], at ? `${at}.${name(k)}` : name(k)));
}
