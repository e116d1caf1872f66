import type { Buf } from "../core/kernels.js";

/**
 * What a plasticity term at one plastic matrix W (n, m) may read, all from
 * one forward/backward pass and the weights *before* this step's update
 * (PAPER.md: every ΔW is computed from the same pass, then applied together).
 * The matrix is a site of any network (src/learn/network.ts): layer l of an
 * MLP (n = nₗ, m = nₗ₋₁, one row), or U, J or W of the RNN, whose terms are
 * summed over the T time steps of a sequence (PAPER.md "Recurrent networks"):
 * every vector below then holds T rows, row t being time step t, and
 * ΔW = Σ_t post_t ⊗ pre_t. Terms loop over T·m (or T·n) values and never
 * care which network they serve.
 *
 * Where a backend forms a term's pre factor itself (`inputPre`, for the MLP's
 * transposed first layer and the SIMD subtraction), it calls `factors` with
 * m = 0: the term must then still set sign, post and preBias.
 */
export interface LayerSignals {
  /** The site's index 1 … L (per-layer coefficients are indexed by it). */
  readonly l: number;
  /** Number of sites. */
  readonly L: number;
  readonly n: number;
  readonly m: number;
  /** Rows: 1 for a feedforward layer, T time steps for a recurrent site. */
  readonly T: number;
  /** Pre-synaptic activity yₗ₋₁ (T × m): hₜ₋₁ at J, xₜ at U. */
  readonly pre: Buf;
  /** Post-synaptic activity yₗ (T × n); the softmax output p at the output site (as published). */
  readonly post: Buf;
  /** Error eₗ (T × n): δₜ at a recurrent site. */
  readonly e: Buf;
  /** Error of the pre-synaptic units, eₗ₋₁ (T × m); at the input, e₀ = B₁ᵀe₁ (the input is linear). */
  readonly ePre: Buf;
  /** uₗ = Wₗᵀ post (T × m), valid when the term declares needsU. */
  readonly u: Buf;
  /** Wₗᵀ eₗ (T × m) through W itself (not the feedback matrix), valid when the term declares needsUE. */
  readonly ue: Buf;
  /** Bias bₗ (n) or null: a bias is a weight from a constant input 1 (only where T = 1). */
  readonly b: Buf | null;
}

/** A rank-1 update sign · post ⊗ pre (rank T: Σ_t post_t ⊗ pre_t over the rows); preBias is the pre factor of the constant bias input. */
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
  /** Reads ue = Wₗᵀeₗ (Oja's form on errors). */
  readonly needsUE?: boolean;
  /**
   * A term that scales W rather than adding a rank-1 update: ΔW = θ · sign · W
   * (learned weight decay, sign −1), applied once per update. Its `factors`
   * gives only the sign (post and pre unused) and its tangent is
   * d(θ·sign·W) = dθ·sign·W + θ·sign·dW, formed by the engine.
   */
  readonly scalesW?: boolean;
  /**
   * At layer 1 (a hidden layer, post = y₁), the pre factor as a function of
   * one input pixel: xⱼ ("x": bp, hebb) or xⱼ − uⱼ ("x-u": Oja). Terms that
   * declare it can update the transposed first layer row by row
   * (InputKernels.inputSweep); others take the row-major path.
   */
  readonly inputPre?: "x" | "x-u";
  /**
   * Its factors (and tangent) may write a post factor into the last T·n
   * values of `scratch`: the engine then sizes scratch T·m + T·n.
   */
  readonly postScratch?: boolean;
  /**
   * A term that is not rank-1 (it reads W elementwise or does not factor):
   * ΔWᵢⱼ = θ · Σ_t F(…), applied by the engine from the same old W as every
   * term, in one sweep over W. Its `factors` gives sign 0 (unused).
   */
  readonly elementwise?: ElementwiseTerm;
  /** Writes the rank-1 factors of ΔWₗ / θ into `out` (no allocation); `scratch` (T × m) may hold the pre factor. */
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

/** An elementwise term's two sweeps over W (n, m); b and outB are the bias column or null. */
export interface ElementwiseTerm {
  /** outW += c · Σ_t F(s, W), outB likewise (the bias is a weight from a constant input 1). */
  accumulate(s: LayerSignals, W: Buf, b: Buf | null, c: number, outW: Buf, outB: Buf | null): void;
  /** outW += c · Σ_t dF + dc · Σ_t F, dF along the signals' tangents ds and the weights' tangent dW (db for the bias). */
  tangent(s: LayerSignals, ds: LayerSignals, W: Buf, dW: Buf, b: Buf | null, db: Buf | null, c: number, dc: number, outW: Buf, outB: Buf | null): void;
  /**
   * F = k · preᵃ postᵇ Wᶜ (exponents 0 … 2), when the formula is such a monomial: the engine then sums
   * every such term of a site in one sweep (Kernels.monoUpdate, monoTangent) instead of one sweep each.
   */
  readonly monomial?: Monomial;
}

/** A monomial k · preᵃ postᵇ Wᶜ, each exponent 0 … 2 (the Taylor family's, src/rules/expr/family.ts). */
export interface Monomial { k: number; a: number; b: number; c: number }
