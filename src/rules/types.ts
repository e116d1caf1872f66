import type { Buf } from "../core/kernels.js";

/**
 * What a plasticity term at layer l may read, all from one forward/backward
 * pass and the weights *before* this step's update (PAPER.md: every layer's
 * ΔW is computed from the same pass, then applied together). Shapes: n = nₗ,
 * m = nₗ₋₁.
 */
export interface LayerSignals {
  readonly l: number;
  readonly L: number;
  readonly n: number;
  readonly m: number;
  /** Pre-synaptic activity yₗ₋₁ (m). */
  readonly pre: Buf;
  /** Post-synaptic activity yₗ (n); the softmax output p at l = L (as published). */
  readonly post: Buf;
  /** Error eₗ (n). */
  readonly e: Buf;
  /** Error one layer down, eₗ₋₁ (m); at l = 1, e₀ = B₁ᵀe₁. */
  readonly ePre: Buf;
  /** uₗ = Wₗᵀ post (m), valid when the term declares needsU. */
  readonly u: Buf;
  /** Bias bₗ (n) or null: a bias is a weight from a constant input 1. */
  readonly b: Buf | null;
}

/** A rank-1 update sign · post ⊗ pre; preBias is the pre factor of the constant bias input. */
export interface RankOne {
  sign: number;
  post: Buf;
  pre: Buf;
  preBias: number;
}

/**
 * One plasticity term: ΔWₗ = θ · sign · post ⊗ pre. Every term in the pool is
 * rank-1, so a whole rule is applied in one pass over W and no nₗ × nₗ₋₁
 * temporary is ever formed.
 */
export interface PlasticityTerm {
  readonly name: string;
  /** The equation, for help texts and reports. */
  readonly equation: string;
  /** Needs uₗ = Wₗᵀ yₗ from the backward pass. */
  readonly needsU: boolean;
  /** Reads eₗ₋₁ (so e₀ must be computed at l = 1). */
  readonly needsEPre: boolean;
  /**
   * At layer 1 (a hidden layer, post = y₁), the pre factor as a function of
   * one input pixel: xⱼ ("x": bp, hebb) or xⱼ − uⱼ ("x-u": Oja). Terms that
   * declare it can update the transposed first layer row by row
   * (InputKernels.inputSweep); others take the row-major path.
   */
  readonly inputPre?: "x" | "x-u";
  /** Writes the rank-1 factors of ΔWₗ / θ into `out` (no allocation); `scratch` (m) may hold the pre factor. */
  factors(s: LayerSignals, scratch: Buf, out: RankOne): void;
  /**
   * Forward-mode tangent: given the signals `s` and their tangents `ds` (same
   * layout: ds.pre = dyₗ₋₁, ds.u = duₗ, ds.b = dbₗ, …), writes the tangents of
   * the factors, d(post) into out.post and d(pre) into out.pre (out.sign is the
   * term's sign), so that d(post ⊗ pre) = d(post) ⊗ pre + post ⊗ d(pre).
   */
  tangent(s: LayerSignals, ds: LayerSignals, scratch: Buf, out: RankOne): void;
  /** The term's equation evaluated literally as an (n, m) matrix, in float64: the test reference. */
  naive(s: LayerSignals, W: Buf): Float64Array;
}
