import { Rng } from "../core/rng.js";
import { adamUpdate, type AdamState } from "./adam.js";

/**
 * The outer loop on θ (PAPER.md "Meta-learning"), as pure functions of the
 * exact meta-gradient and of query losses (optax-shaped: the state is plain
 * data, checkpointed). docs/meta-learning.md gives the measurements behind it.
 *
 * "adam" — the published protocol: one Adam step (learning rate `lr`) on the
 *   exact gradient of the query loss. Near the edge of stability the per-task
 *   loss is a step-like function of θ (a task trains, or blows up past a
 *   threshold of its own), so the exact gradient is blind to the cliff, and
 *   its magnitude swings over 10⁴–10⁹: started in an unstable region, θ
 *   never leaves it (docs/meta-learning.md).
 *
 * "robust" (default for new runs) — the same exact gradient, used where it is
 *   informative:
 *   1. The objective is the loss smoothed over relative perturbations of θ,
 *      J(θ) = E_ε L(θ + σ s ⊙ ε), sₖ = max(|θₖ|, floor), ε ~ N(0, I). Its
 *      gradient is estimated twice per task, on the same task and initial
 *      weights: the exact gradient at θ⁺ = θ + σ s ⊙ ε (reparameterization, unbiased for
 *      ∇J) and the antithetic difference (L(θ⁺) − L(θ⁻)) ε / (2σ s) (evolution
 *      strategies, which sees the cliff because a run that blows up has a
 *      large loss). The two are combined per coordinate by inverse variance
 *      (Metz et al. 2019, "Understanding and correcting pathologies in the
 *      training of learned optimizers"); variances are running estimates over
 *      episodes. The exact gradient's value is never altered, only weighted.
 *   2. Adam sees the combined gradient's direction g/‖g‖, so no single
 *      episode's magnitude freezes later steps.
 *   3. Steps are relative, Δθₖ = η · sₖ · uₖ with uₖ = −m̂ₖ/(√v̂ₖ + ε) clipped to
 *      [−1, 1]: a trust region of a fraction η per episode, steps in log θ
 *      above `floor` and linear ones near zero (a coefficient may cross zero);
 *      η decays linearly over the run (to a tenth by default).
 * Both loops back off from a diverged episode: θ halfway toward the last θ
 * whose episode was finite, or halved when none was yet.
 */
export type OuterLoop = "robust" | "adam";
export const OUTER_LOOPS: readonly OuterLoop[] = ["robust", "adam"];

export interface OuterOptions {
  outer: OuterLoop;
  /** "adam": Adam's learning rate on θ. */
  lr: number;
  /** "robust": the largest relative change of a coefficient per episode, η. */
  step: number;
  /** "robust": below this magnitude steps and perturbations are linear (η·floor, σ·floor). */
  floor: number;
  /** "robust": σ, the relative scale of the smoothing perturbations. */
  sigma: number;
  /** "robust": the step's final value as a fraction of `step` (linear decay over the episodes; 1 = constant). */
  decay?: number;
}

/** Running mean and mean square per coordinate (β = 0.9), for the estimators' variances. */
export interface Moments { m: number[]; s: number[]; n: number }
const BETA = 0.9;

export function momentsInit(P: number): Moments {
  return { m: new Array(P).fill(0), s: new Array(P).fill(0), n: 0 };
}

function observe(mo: Moments, g: readonly number[]): Moments {
  return { m: mo.m.map((x, k) => BETA * x + (1 - BETA) * g[k]), s: mo.s.map((x, k) => BETA * x + (1 - BETA) * g[k] * g[k]), n: mo.n + 1 };
}

/** Bias-corrected variance of coordinate k (Infinity before two observations). */
function variance(mo: Moments, k: number): number {
  if (mo.n < 2) return Infinity;
  const c = 1 - BETA ** mo.n, mean = mo.m[k] / c;
  return Math.max(mo.s[k] / c - mean * mean, 0);
}

/** ε for episode e, task b of a meta-batch: standard normal, from the run's seed (resumable, same on any worker). */
export function perturbation(seed: number, episode: number, b: number, P: number): number[] {
  const r = new Rng(seed).child(0x5e5).child(episode).child(b);
  return Array.from({ length: P }, () => r.normal());
}

/** sₖ = max(|θₖ|, floor): the scale of coefficient k's steps and perturbations. */
export function scales(theta: readonly number[], floor: number): number[] {
  return theta.map((x) => Math.max(Math.abs(x), floor));
}

/** θ ± σ s ⊙ ε. */
export function perturbed(theta: readonly number[], eps: readonly number[], sign: 1 | -1, o: OuterOptions): number[] {
  const s = scales(theta, o.floor);
  return theta.map((x, k) => x + sign * o.sigma * s[k] * eps[k]);
}

/** The loss a run counts with in the smoothed objective: capped at `cap` (a run that blew up counts as the cap). */
export function cappedLoss(loss: number, cap: number): number {
  return Number.isFinite(loss) ? Math.min(loss, cap) : cap;
}

/** The antithetic evolution-strategies estimate of ∇J from the pair's losses. */
export function esGradient(lossPlus: number, lossMinus: number, eps: readonly number[], theta: readonly number[], o: OuterOptions): number[] {
  const s = scales(theta, o.floor);
  return eps.map((e, k) => ((lossPlus - lossMinus) / (2 * o.sigma * s[k])) * e);
}

export interface RobustState { rp: Moments; es: Moments }

export function robustInit(P: number): RobustState {
  return { rp: momentsInit(P), es: momentsInit(P) };
}

/**
 * Combine the reparameterization (exact) and evolution-strategies estimates
 * per coordinate by inverse variance: w = var_ES / (var_RP + var_ES). Either
 * may be missing (null): an exact gradient that was not finite, for one.
 */
export function combine(rp: readonly number[] | null, es: readonly number[], st: RobustState): { g: number[]; st: RobustState; wRp: number[] } {
  const next: RobustState = { rp: rp === null ? st.rp : observe(st.rp, rp), es: observe(st.es, es) };
  const wRp = es.map((_, k) => {
    if (rp === null) return 0;
    const vr = variance(next.rp, k), ve = variance(next.es, k);
    if (!Number.isFinite(vr) || !Number.isFinite(ve)) return 0.5;
    return vr + ve > 0 ? ve / (vr + ve) : 0.5;
  });
  return { g: es.map((e, k) => (rp === null ? e : wRp[k] * rp[k] + (1 - wRp[k]) * e)), st: next, wRp };
}

/** The next θ and Adam state for gradient g (already including any penalty's subgradient). */
export function outerStep(
  theta: readonly number[],
  g: readonly number[],
  adam: AdamState,
  o: OuterOptions,
  progress = 0,
): { theta: number[]; adam: AdamState } {
  if (o.outer === "adam") {
    const [d, next] = adamUpdate(g, adam, { lr: o.lr });
    return { theta: theta.map((x, k) => x + d[k]), adam: next };
  }
  const norm = Math.hypot(...g);
  const dir = norm > 0 ? g.map((x) => x / norm) : g.map(() => 0);
  const [u, next] = adamUpdate(dir, adam, { lr: 1 });
  const s = scales(theta, o.floor),
    eta = o.step * (1 - (1 - (o.decay ?? 1)) * progress);
  return { theta: theta.map((x, k) => x + eta * s[k] * Math.max(-1, Math.min(1, u[k]))), adam: next };
}

/** θ after a diverged episode: halfway toward the last θ whose episode was finite, or halved when there was none. */
export function backOff(theta: readonly number[], good: readonly number[] | null): number[] {
  return good === null ? theta.map((x) => x / 2) : theta.map((x, k) => (x + good[k]) / 2);
}

/**
 * The learned θ of a run: the mean of the last `tail` finite episodes' θ
 * (Polyak averaging of the tail). With a fixed relative step the iterate
 * keeps moving by up to η around the optimum; the tail's mean is its best
 * estimate. Falls back to `final` when no episode was finite.
 */
export function tailMean(history: readonly (readonly number[])[], tail: number, final: readonly number[]): number[] {
  const xs = history.slice(-Math.max(1, tail));
  if (xs.length === 0) return [...final];
  return final.map((_, k) => xs.reduce((s, x) => s + x[k], 0) / xs.length);
}
