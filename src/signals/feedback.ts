import type { Arena, Buf, Kernels } from "../core/kernels.js";
import type { Rng } from "../core/rng.js";
import { initWeights, type InitName } from "../nn/init.js";

export type FeedbackName = "sym" | "random" | "dfa" | "sign" | "sign-random";
export const FEEDBACKS: readonly FeedbackName[] = ["sym", "random", "dfa", "sign", "sign-random"];

/** One line per pathway, for --feedback's help and the app. */
export const FEEDBACK_HELP: Record<FeedbackName, string> = {
  sym: "backprop (B = W)",
  random: "feedback alignment (fixed random B)",
  dfa: "direct feedback alignment (eₗ = (Bₗ e_L) ⊙ σ', fixed random Bₗ)",
  sign: "sign symmetry, uniform magnitude (B = sign(W) · scale)",
  "sign-random": "sign symmetry, fixed random magnitude (B = sign(W) ⊙ |R|)",
};

/**
 * How the error reaches a plastic matrix (PAPER.md, "Error signals"):
 *   eₗ = (Bₗ₊₁ᵀ eₗ₊₁) ⊙ σ'(zₗ)
 * with, per pathway (`name`):
 * - "sym": B = W, backprop;
 * - "random": a fixed random B, feedback alignment (Lillicrap et al. 2016),
 *   drawn from the same distribution as W (same init, same gain) but
 *   independently, and never updated;
 * - "sign": B = sign(W) · sₗ, sign symmetry with uniform magnitude (Liao,
 *   Leibo & Poggio 2016; BioTorch's "usf"), recomputed from the current W
 *   before every backward pass; sₗ is the standard deviation of site l's
 *   initializer (gain · √(2 / (fan_in + fan_out)) for Xavier), so ‖B‖_F is
 *   what ‖W₀‖_F is and the error's scale matches the other pathways';
 * - "sign-random": B = sign(W) ⊙ |R|, R fixed and drawn like feedback
 *   alignment's B (Moskovitz et al. 2018; BioTorch's "frsf");
 * - "dfa": direct feedback alignment (Nøkland 2016), eₗ = (Dₗ e_L) ⊙ σ'(zₗ)
 *   for every hidden layer, Dₗ (nₗ × n_L) fixed, drawn like a W of that
 *   shape (the init of a layer from n_L to nₗ units, same gain), so Dₗ e_L
 *   has the scale feedback alignment's Bₗ₊₁ᵀ eₗ₊₁ has at the top layer. B[l]
 *   holds Dₗ (l = 1 … L − 1, nₗ × n_L) and B[0] D₀ (n₀ × n_L, the error
 *   reaching the input, for terms that read it); the output layer takes e_L.
 *
 * sign(W) is piecewise constant: its derivative is 0 wherever W ≠ 0, so a
 * forward-mode tangent treats B as fixed within the step (dB = 0), as for
 * "random"; at W = 0 exactly (measure zero, never at a random init) sign is
 * 0 and its derivative is taken as 0 too (test/credit.test.ts checks the
 * tangent against a finite difference away from W = 0).
 * The same holds through time for the RNN (B_W and B_J in place of Wᵀ and
 * Jᵀ); DFA through time is refused there (src/nets/rnn/module.ts). Each
 * network applies B in its own error pathway (src/nets).
 */
export interface Feedback {
  readonly name: FeedbackName;
  /**
   * B[i], shaped like site i's W (index 0 unused), except for "dfa" (see
   * above); for "sym" these are the network's own W views; for the sign
   * pathways they are rewritten from W by `refreshSign` before each use.
   */
  readonly B: readonly Buf[];
  /** The sign pathways' magnitudes per site: a number ("sign") or the fixed |R| ("sign-random"); absent otherwise. */
  readonly mag?: readonly (number | Buf)[];
}

/** What drawing B needs of a network: its sites' shapes and weights, and where buffers live. */
export interface FeedbackTarget {
  readonly sites: readonly { readonly n: number; readonly m: number; readonly W: Buf }[];
  readonly arena: Arena;
}

/** The standard deviation of `init`'s draws for a matrix (nOut, nIn) at `gain` (the "sign" pathway's magnitude). */
export function initScale(init: InitName, nOut: number, nIn: number, gain: number): number {
  switch (init) {
    case "xavier": case "xavier-normal": return gain * Math.sqrt(2 / (nIn + nOut));
    case "he": return gain * Math.sqrt(2 / nIn);
    // Orthonormal rows (or columns): every entry has mean square 1 / max(nOut, nIn).
    case "orthogonal": return gain / Math.sqrt(Math.max(nOut, nIn));
  }
}

/** Whether the pathway's B is recomputed from W (sign symmetry). */
export function isSign(fb: Feedback): boolean { return fb.name === "sign" || fb.name === "sign-random"; }

/**
 * The error pathway `name` for a network: "sym" uses its W; the others draw
 * their fixed matrices (site order 1 … S, one stream) with `init` and `gain`
 * (a number, or one per site). `dfa` needs the sites' hidden widths in order
 * (an MLP's layers: site l's n is nₗ, its m is nₗ₋₁, the last site's n is n_L).
 */
export function makeFeedback(name: FeedbackName, net: FeedbackTarget, init: InitName, gain: number | ((site: number) => number), rng: Rng): Feedback {
  const g = (i: number) => (typeof gain === "number" ? gain : gain(i));
  if (name === "sym") return { name, B: net.sites.map((s) => s.W) };
  if (!FEEDBACKS.includes(name)) throw new Error(`unknown feedback '${name}' (expected ${FEEDBACKS.join(", ")})`);
  const S = net.sites.length - 1;
  if (name === "dfa") {
    // Dₗ (nₗ × n_L) for l = 0 … L − 1, where nₗ is site l+1's m and n_L the last site's n; drawn for l = 1 … L − 1, then D₀.
    const nL = net.sites[S].n, widths = net.sites.map((s, i) => (i === 0 ? net.sites[1].m : net.sites[i].n));
    const B = net.sites.map((_, l) => (l === S ? net.arena.alloc(0) : net.arena.alloc(widths[l] * nL)));
    for (let l = 1; l < S; l++) initWeights(B[l], widths[l], nL, init, g(l + 1), rng, net.arena.kernels);
    initWeights(B[0], widths[0], nL, init, g(1), rng, net.arena.kernels);
    return { name, B };
  }
  if (name === "random") {
    const B = net.sites.map((s, i) => {
      const m = net.arena.alloc(s.W.length); // same arena (so the fast kernels apply), own storage
      if (i > 0) initWeights(m, s.n, s.m, init, g(i), rng, net.arena.kernels);
      return m;
    });
    return { name, B };
  }
  const B = net.sites.map((s) => net.arena.alloc(s.W.length));
  if (name === "sign") {
    const mag = net.sites.map((s, i) => (i === 0 ? 0 : initScale(init, s.n, s.m, g(i))));
    const fb = { name, B, mag };
    for (let i = 1; i <= S; i++) refreshSign(fb, i, net.sites[i].W, net.arena.kernels);
    return fb;
  }
  // sign-random: |R|, R drawn as feedback alignment's B is.
  const mag = net.sites.map((s) => net.arena.alloc(s.W.length));
  for (let i = 1; i <= S; i++) {
    initWeights(mag[i], net.sites[i].n, net.sites[i].m, init, g(i), rng, net.arena.kernels);
    const r = mag[i];
    for (let j = 0; j < r.length; j++) r[j] = Math.abs(r[j]);
  }
  const fb = { name, B, mag };
  for (let i = 1; i <= S; i++) refreshSign(fb, i, net.sites[i].W, net.arena.kernels);
  return fb;
}

/**
 * Sign symmetry: B[i] ← sign(W) · magnitude, from the current W (a no-op for the other pathways), by the
 * backend's kernel where it has one (the same floats; test/credit.test.ts).
 */
export function refreshSign(fb: Feedback, i: number, W: Buf, k?: Kernels): void {
  const mag = fb.mag;
  if (mag === undefined) return;
  const B = fb.B[i], s = mag[i], n = B.length;
  if (k?.signOf?.(B, W, typeof s === "number" ? s : 0, typeof s === "number" ? null : s, n)) return;
  // Without branches (a weight's sign is a coin flip: a branch would mispredict half the time; measured twice as fast as Math.sign).
  if (typeof s === "number") for (let j = 0; j < n; j++) { const w = W[j]; B[j] = (+(w > 0) - +(w < 0)) * s; }
  else for (let j = 0; j < n; j++) { const w = W[j]; B[j] = (+(w > 0) - +(w < 0)) * s[j]; }
}

/** A float64 copy of a pathway for a float64 copy of the network (diagnostics), its B re-derived from `W` where it is a function of W. */
export function copyFeedback(fb: Feedback, W: readonly Buf[]): Feedback {
  if (fb.name === "sym") return { name: "sym", B: W };
  const B = fb.B.map((b) => Float64Array.from(b));
  const mag = fb.mag?.map((m) => (typeof m === "number" ? m : Float64Array.from(m)));
  return mag === undefined ? { name: fb.name, B } : { name: fb.name, B, mag };
}
