import type { Arena, Buf, Kernels } from "../core/kernels.js";
import type { LayerSignals } from "../rules/types.js";
import type { Feedback } from "../signals/feedback.js";
import type { DaleSigns } from "./dale.js";

/**
 * The interface between networks and the plasticity engine (README "Design").
 *
 * A network owns its parameters (one flat buffer, a view per plastic matrix)
 * and its activity. It supplies the forward pass, its error pathway (backprop
 * or feedback alignment) and, for every plastic matrix — a *site* — the
 * signals that plasticity terms read (pre, post, error, u = Wᵀ·post). The
 * engine (src/learn) turns signals into ΔW with the rule's terms and decides
 * when ΔW lands; it never asks what kind of network it is driving. A network
 * type is a module (src/nets/mlp, src/nets/rnn), not a branch of the loop.
 */

/** One plastic matrix W (n, m), row-major, and the signals its terms read. */
export interface Site {
  /** "W1" … "WL" for an MLP; "U", "J", "W" for the RNN. */
  readonly name: string;
  readonly n: number;
  readonly m: number;
  /** Rows of the signals: time steps whose terms are summed (1 for a feedforward layer). */
  readonly T: number;
  readonly W: Buf;
  readonly b: Buf | null;
  /** Filled by `propagate`; views into the network's activity. */
  readonly sig: LayerSignals;
}

/** What a step needs the error pathway to compute besides the errors themselves. */
export interface SignalNeeds {
  /** needU[i]: uᵢ = Wᵢᵀ·post at site i (a term with needsU is active there). Index 0 unused. */
  readonly needU: readonly boolean[];
  /** needEPre[i]: the error of site i's pre-synaptic units (a term with needsEPre is active there). */
  readonly needEPre: readonly boolean[];
  /** needUE[i]: Wᵢᵀeᵢ through W itself (a term with needsUE is active there); absent means none. */
  readonly needUE?: readonly boolean[];
}

/** What a scorer's caller reads of each pass. */
export interface ScorerOptions {
  /**
   * Only the logits (evaluation): the pass may leave p and every layer's σ'
   * unwritten. Default false (the meta-gradient's query pass reads both).
   */
  logitsOnly?: boolean;
}

export interface PlasticNetwork {
  /** "mlp" or "rnn": for reports and errors only; the engine never branches on it. */
  readonly kind: string;
  /** Plastic sites, numbered 1 … S as the rule's per-layer coefficients are (index 0 unused). */
  readonly sites: readonly Site[];
  /** Number of plastic sites S (the rule's L). */
  readonly S: number;
  /** Every parameter, one buffer; site W and b are views into it. */
  readonly params: Buf;
  readonly arena: Arena;
  /** The kernels for this network's buffers. */
  readonly k: Kernels;
  /** The error pathway (its B matrices are never plastic). */
  readonly feedback: Feedback;
  /** Dale's law (src/learn/dale.ts): the sign of every constrained site's columns; absent or null: unconstrained. */
  readonly dale?: DaleSigns | null;
  /** The input buffer: write one example here (pixels scaled to [0, 1]) before propagate. */
  readonly x: Buf;
  /** Output width (classes). */
  readonly nOut: number;
  /**
   * Forward pass on x and the error pathway for `label`, filling every site's
   * signals from the current (old) weights. Returns the logits' sum, which is
   * non-finite exactly when the network has diverged.
   */
  propagate(label: number, needs: SignalNeeds): number;
  /** The forward pass alone, for scoring: the logits of x (a view, valid until the next pass). */
  logits(): Buf;
  /**
   * For scoring many examples while the weights stay as they are: a function
   * that gives logits() of the current x, the same values, by a faster path
   * where the network has one (read once, at this call, what it may assume
   * of the weights). Absent: use logits().
   */
  scorer?(opts?: ScorerOptions): () => Buf;
  /** The softmax output p of the last pass (a view). */
  readonly p: Buf;
  /** The part of a params-shaped buffer `buf` holding the same parameter as the view `v` of params. */
  paramView<T extends Buf>(buf: T, v: Buf): T;
}

/**
 * A network the forward-mode meta-gradient can run through: it carries, for
 * each meta-parameter direction k, the tangent of every activity along
 * dθ_k given the tangent of its parameters (a params-shaped buffer).
 */
export interface TangentNetwork extends PlasticNetwork {
  /** Tangent activity for `P` directions; dParams[k] is laid out like params. */
  tangents(dParams: readonly Buf[]): TangentPass;
}

export interface TangentPass {
  /** tangentSig[k][i]: the tangents of site i's signals along direction k (same layout as sites[i].sig). */
  readonly sig: readonly (readonly LayerSignals[])[];
  /** Second derivatives of the last forward pass, shared by all directions (after propagate or logits). */
  prepare(): void;
  /** Direction k: tangent forward pass and tangent error pathway of the last propagate, into sig[k]. */
  propagate(k: number, needs: SignalNeeds): void;
  /** Direction k: the tangent of the logits of the last forward pass (after logits()). */
  logits(k: number): Buf;
  /** A tangent buffer of direction k known to be identically zero (the input's), or null: pieces on it are dropped. */
  zeroOf(k: number): Buf | null;
}

/** One array of a trained network, copied out of the arena: C order, `shape` as NumPy reads it. */
export interface SavedTensor {
  name: string;
  shape: number[];
  data: Float32Array | Float64Array;
}
