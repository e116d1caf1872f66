import type { Arena, Buf } from "../core/kernels.js";
import type { Rng } from "../core/rng.js";
import { initWeights, type InitName } from "../nn/init.js";

export type FeedbackName = "sym" | "random";
export const FEEDBACKS: readonly FeedbackName[] = ["sym", "random"];

/**
 * How the error reaches a plastic matrix (PAPER.md, "Error signals"):
 *   eₗ = (Bₗ₊₁ᵀ eₗ₊₁) ⊙ σ'(zₗ)
 * with B = W for backprop ("sym"), or a fixed random B for feedback
 * alignment (Lillicrap et al. 2016), drawn from the same distribution as W
 * (same init, same gain) but independently, and never updated. The same
 * holds through time for the RNN (B_W and B_J in place of Wᵀ and Jᵀ). Each
 * network applies B in its own error pathway (src/nets).
 */
export interface Feedback {
  readonly name: FeedbackName;
  /** B[i], shaped like site i's W (index 0 unused); for "sym" these are the network's own W views. */
  readonly B: readonly Buf[];
}

/** What drawing B needs of a network: its sites' shapes and weights, and where buffers live. */
export interface FeedbackTarget {
  readonly sites: readonly { readonly n: number; readonly m: number; readonly W: Buf }[];
  readonly arena: Arena;
}

/**
 * The error pathway `name` for a network: "sym" uses its W; "random" draws
 * every B (site order 1 … S, one stream) like W with `init` and `gain`
 * (a number, or one per site).
 */
export function makeFeedback(name: FeedbackName, net: FeedbackTarget, init: InitName, gain: number | ((site: number) => number), rng: Rng): Feedback {
  if (name === "sym") return { name, B: net.sites.map((s) => s.W) };
  if (name !== "random") throw new Error(`unknown feedback '${name}' (expected sym or random)`);
  const B = net.sites.map((s, i) => {
    const m = net.arena.alloc(s.W.length); // same arena (so the fast kernels apply), own storage
    if (i > 0) initWeights(m, s.n, s.m, init, typeof gain === "number" ? gain : gain(i), rng, net.arena.kernels);
    return m;
  });
  return { name, B };
}
