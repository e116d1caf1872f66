import { heapArena, softmax, type Arena, type Buf, type DType, type Kernels } from "../../core/kernels.js";
import type { Rng } from "../../core/rng.js";
import { initWeights, type InitName } from "../../nn/init.js";
import { logitSum, outputError } from "../../nn/loss.js";
import type { LayerSignals } from "../../rules/types.js";
import { isSign, refreshSign, type Feedback } from "../../signals/feedback.js";
import type { SignalNeeds, Site, TangentNetwork } from "../../learn/network.js";
import { RnnTangentPass } from "./tangent.js";
import { foldInit, unitSigns, type DaleSigns } from "../../learn/dale.js";

export interface RNNOptions {
  /** Input width per time step (the image's columns: 28 for MNIST). */
  nIn: number;
  /** Time steps carrying input (the image's rows: 28 for MNIST). */
  rows: number;
  /** D: time steps of zero input between the last row and the read-out (PAPER.md: the delay). */
  delay?: number;
  /** N: recurrent units. */
  N: number;
  /** C: output width (classes). */
  nOut: number;
  /** Leak α ∈ (0, 1] (default 1: no leak). */
  leak?: number;
  dtype?: DType;
  /** Where buffers live (and so which kernels run); default: the JS heap with the plain kernels. */
  arena?: Arena;
}

/** Site indices of the RNN, for per-site coefficients (oja=U:J:W). */
export const SITE_U = 1, SITE_J = 2, SITE_W = 3;

/**
 * A rate RNN with tanh units, no biases and a linear read-out, as PAPER.md
 * ("Recurrent networks (claim 7) — our specification") fixes it:
 *   h₀ = 0;  hₜ = (1 − α) hₜ₋₁ + α tanh(J hₜ₋₁ + U xₜ),  t = 1 … T
 *   z = W h_T;  p = softmax(z);  loss = cross-entropy at the last step.
 * The image is presented as its rows (xₜ ∈ ℝ^cols, t ≤ rows), then D steps
 * of zero input: T = rows + D. Errors by backprop through time, or feedback
 * alignment through time with fixed B_W and B_J in place of W and J:
 *   g_T = B_Wᵀ e,  δₜ = α gₜ ⊙ (1 − rₜ²),  gₜ₋₁ = (1 − α) gₜ + B_Jᵀ δₜ
 * (gₜ = ∂L/∂hₜ, δₜ = ∂L/∂aₜ, rₜ = tanh aₜ; with α = 1, δₜ = (Jᵀδₜ₊₁) ⊙ (1 − hₜ²)).
 * Sites U (N, nIn), J (N, N) and W (C, N): every term reads pre = xₜ or
 * hₜ₋₁, post = hₜ and e = δₜ, summed over t (T rows per signal).
 */
export class RNN implements TangentNetwork {
  readonly kind = "rnn";
  readonly nIn: number;
  readonly rows: number;
  readonly delay: number;
  /** Time steps T = rows + delay. */
  readonly T: number;
  readonly N: number;
  readonly nOut: number;
  readonly leak: number;
  readonly S = 3;
  readonly dtype: DType;
  readonly arena: Arena;
  readonly k: Kernels;
  readonly params: Buf;
  /** U (N, nIn), J (N, N), W (C, N): views into params. */
  readonly U: Buf;
  readonly J: Buf;
  readonly W: Buf;
  readonly sites: readonly Site[];
  feedback: Feedback;
  /** Dale's law: the N units' signs on the columns of J and W (U's inputs are pixels, unconstrained); null: off. */
  dale: DaleSigns | null = null;
  /** The sequence's inputs (T, nIn); rows past `rows` stay zero. */
  readonly xs: Buf;
  /** The input buffer: the image (rows × nIn), the first rows of xs. */
  readonly x: Buf;
  /** Hidden states (T + 1, N): row t is hₜ, row 0 is h₀ = 0. */
  readonly H: Buf;
  /** Pre-activations aₜ (T, N) (row t − 1 is aₜ). */
  readonly A: Buf;
  /** rₜ = tanh aₜ (T, N); the same buffer as H's rows 1 … T when α = 1. */
  readonly R: Buf;
  /** σ'(aₜ) = 1 − rₜ² (T, N). */
  readonly dsig: Buf;
  /** gₜ = ∂L/∂hₜ (T + 1, N): row t; row 0 is g₀, the error reaching h₀ (only when a term reads it). */
  readonly G: Buf;
  /** δₜ (T + 1, N) in rows 1 … T; row 0 holds g₀ (the pre-synaptic error of J at t = 1, like e₀ of an MLP's input). */
  readonly D: Buf;
  /** u of J: Jᵀhₜ (T, N); u of U: Uᵀhₜ (T, nIn); u of W: Wᵀp (N). */
  readonly uJ: Buf;
  readonly uU: Buf;
  readonly uW: Buf;
  /** The error reaching the input, B_Uᵀδₜ (T, nIn) (only when a term reads it). */
  readonly eX: Buf;
  /** Wᵀe through each site's own weights (Oja's form on errors): Uᵀδₜ (T, nIn), Jᵀδₜ (T, N), Wᵀe (N). */
  readonly ueU: Buf;
  readonly ueJ: Buf;
  readonly ueW: Buf;
  readonly z: Buf;
  readonly p: Buf;
  readonly e: Buf;
  /** h₁ … h_T and δ₁ … δ_T as (T, N) matrices (views of H and D), for the kernels that take every t at once. */
  readonly Hpost: Buf;
  readonly Dpost: Buf;
  /** Row views (index t = 0 … T) of the buffers above, made once so the loop never allocates. */
  readonly rowsOf: { h: Buf[]; a: Buf[]; r: Buf[]; d: Buf[]; g: Buf[]; delta: Buf[]; uJ: Buf[]; uU: Buf[]; x: Buf[]; eX: Buf[]; ueU: Buf[]; ueJ: Buf[] };

  constructor(o: RNNOptions) {
    for (const [k, v] of [["nIn", o.nIn], ["rows", o.rows], ["N", o.N], ["nOut", o.nOut]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`RNN ${k} must be a positive integer, got ${v}`);
    }
    const delay = o.delay ?? 0, leak = o.leak ?? 1;
    if (!Number.isInteger(delay) || delay < 0) throw new RangeError(`the delay must be a non-negative integer, got ${delay}`);
    if (!(leak > 0 && leak <= 1)) throw new RangeError(`the leak α must be in (0, 1], got ${leak}`);
    this.nIn = o.nIn; this.rows = o.rows; this.delay = delay; this.T = o.rows + delay;
    this.N = o.N; this.nOut = o.nOut; this.leak = leak;
    this.arena = o.arena ?? heapArena(o.dtype ?? "f32");
    if (o.dtype !== undefined && o.dtype !== this.arena.dtype) throw new Error(`dtype ${o.dtype} does not match the arena's ${this.arena.dtype}`);
    this.dtype = this.arena.dtype;
    this.k = this.arena.kernels;
    const { N, nIn, T, nOut: C } = this, a = this.arena;
    this.params = a.alloc(N * nIn + N * N + C * N);
    this.U = this.params.subarray(0, N * nIn);
    this.J = this.params.subarray(N * nIn, N * nIn + N * N);
    this.W = this.params.subarray(N * nIn + N * N);
    this.xs = a.alloc(T * nIn);
    this.x = this.xs.subarray(0, o.rows * nIn);
    this.H = a.alloc((T + 1) * N);
    this.A = a.alloc(T * N);
    this.R = leak === 1 ? this.H.subarray(N) : a.alloc(T * N);
    this.dsig = a.alloc(T * N);
    this.G = a.alloc((T + 1) * N);
    this.D = a.alloc((T + 1) * N);
    this.uJ = a.alloc(T * N);
    this.uU = a.alloc(T * nIn);
    this.uW = a.alloc(N);
    this.eX = a.alloc(T * nIn);
    this.ueU = a.alloc(T * nIn); this.ueJ = a.alloc(T * N); this.ueW = a.alloc(N);
    this.z = a.alloc(C); this.p = a.alloc(C); this.e = a.alloc(C);
    const rowsOf = (b: Buf, w: number, n: number, first = 0) => Array.from({ length: n }, (_, t) => b.subarray((t - first) * w, (t - first + 1) * w));
    // Index t everywhere: h[t] = hₜ (t = 0 … T), a[t] = aₜ, r[t], d[t], uJ[t], uU[t], x[t], eX[t] for t = 1 … T (index 0 unused).
    const shifted = (b: Buf, w: number) => [b.subarray(0, 0), ...rowsOf(b, w, T)];
    this.rowsOf = {
      h: rowsOf(this.H, N, T + 1), g: rowsOf(this.G, N, T + 1), delta: rowsOf(this.D, N, T + 1),
      a: shifted(this.A, N), r: shifted(this.R, N), d: shifted(this.dsig, N), uJ: shifted(this.uJ, N), uU: shifted(this.uU, nIn),
      x: shifted(this.xs, nIn), eX: shifted(this.eX, nIn), ueU: shifted(this.ueU, nIn), ueJ: shifted(this.ueJ, N),
    };
    const Hpre = this.H.subarray(0, T * N), Hpost = this.H.subarray(N), Dpost = this.D.subarray(N), Dpre = this.D.subarray(0, T * N);
    this.Hpost = Hpost; this.Dpost = Dpost;
    const sig = (l: number, n: number, m: number, Tr: number, s: Omit<LayerSignals, "l" | "L" | "n" | "m" | "T" | "b">): LayerSignals => ({
      l,
      L: 3,
      n,
      m,
      T: Tr,
      b: null,
      ...s,
    });
    const empty = this.params.subarray(0, 0);
    this.sites = [
      { name: "input", n: 0, m: 0, T: 1, W: empty, b: null, sig: sig(0, 0, 0, 1, { pre: empty, post: empty, e: empty, ePre: empty, u: empty, ue: empty }) },
      {
        name: "U",
        n: N,
        m: nIn,
        T,
        W: this.U,
        b: null,
        sig: sig(SITE_U, N, nIn, T, { pre: this.xs, post: Hpost, e: Dpost, ePre: this.eX, u: this.uU, ue: this.ueU }),
      },
      { name: "J", n: N, m: N, T, W: this.J, b: null, sig: sig(SITE_J, N, N, T, { pre: Hpre, post: Hpost, e: Dpost, ePre: Dpre, u: this.uJ, ue: this.ueJ }) },
      {
        name: "W",
        n: C,
        m: N,
        T: 1,
        W: this.W,
        b: null,
        sig: sig(SITE_W, C, N, 1, { pre: this.rowsOf.h[T], post: this.p, e: this.e, ePre: this.rowsOf.delta[T], u: this.uW, ue: this.ueW }),
      },
    ];
    this.feedback = { name: "sym", B: this.sites.map((s) => s.W) };
  }

  /** Xavier-uniform weights (PAPER.md), J with its own gain; one stream, in the order U, J, W. */
  init(name: InitName, gain: number, gainRec: number, rng: Rng): this {
    initWeights(this.U, this.N, this.nIn, name, gain, rng, this.k);
    initWeights(this.J, this.N, this.N, name, gainRec, rng, this.k);
    initWeights(this.W, this.nOut, this.N, name, gain, rng, this.k);
    return this;
  }

  /** Dale's law with excitatory fraction f (src/learn/dale.ts): one sign per recurrent unit, on what it sends (J's and W's columns). */
  applyDale(fraction: number): this {
    const s = unitSigns(this.N, fraction);
    foldInit(this.J, this.N, this.N, s, fraction);
    foldInit(this.W, this.nOut, this.N, s, fraction);
    this.dale = { fraction, colSign: [null, null, s, s] };
    return this;
  }

  paramView<T extends Buf>(buf: T, v: Buf): T {
    const o = v.byteOffset / v.BYTES_PER_ELEMENT - this.params.byteOffset / this.params.BYTES_PER_ELEMENT;
    return buf.subarray(o, o + v.length) as T;
  }

  /** hₜ for t = 1 … T and the read-out z, p of the current input (xs). */
  forward(): void {
    const { N, nIn, T, rows, k, leak } = this, R = this.rowsOf;
    // The input projection U xₜ of every row of the image in one call (PAPER.md: aₜ = U xₜ + J hₜ₋₁), row t − 1 of A.
    k.matVecs(this.A, this.U, this.xs, rows, N, nIn);
    // t = 1 … T in one kernel call where the backend has it (the same kernels in the same order: the same floats).
    const fusedFwd = k.fused?.rnnFwd?.(this.A, this.H, this.R, this.dsig, this.J, N, T, rows, leak) ?? false;
    for (let t = fusedFwd ? T + 1 : 1; t <= T; t++) {
      const a = R.a[t];
      // aₜ = U xₜ + J hₜ₋₁ (xₜ = 0 past the image's rows; h₀ = 0).
      if (t > rows) a.fill(0);
      if (t > 1) k.matVec(a, this.J, R.h[t - 1], N, N, a);
      k.tanh(R.r[t], R.d[t], a, N);
      if (leak !== 1) k.lin2(R.h[t], 1 - leak, R.h[t - 1], leak, R.r[t], N, false);
    }
    k.matVec(this.z, this.W, R.h[T], this.nOut, N, null);
    softmax(this.p, this.z, this.nOut);
  }

  logits(): Buf {
    this.forward();
    return this.z;
  }

  propagate(label: number, needs: SignalNeeds): number {
    this.forward();
    outputError(this.e, this.p, label, this.nOut);
    this.backward(needs);
    return logitSum(this.z, this.nOut);
  }

  /** Backprop (or feedback alignment) through time from e = p − onehot, with Oja's u of every site where needed. */
  backward(needs: SignalNeeds): void {
    const { N, nIn, T, nOut: C, k, leak } = this, R = this.rowsOf, B = this.feedback.B, sym = this.feedback.name === "sym";
    const needUJ = needs.needU[SITE_J], needUU = needs.needU[SITE_U], needG0 = needs.needEPre[SITE_J], needEX = needs.needEPre[SITE_U];
    if (isSign(this.feedback)) {
      // Sign symmetry: B = sign(·)·s of the current weights, once per sequence (src/signals/feedback.ts).
      refreshSign(this.feedback, SITE_W, this.W, k);
      refreshSign(this.feedback, SITE_J, this.J, k);
      if (needEX) refreshSign(this.feedback, SITE_U, this.U, k);
    }
    // g_T = B_Wᵀ e (with B_W = W one pass also gives Oja's Wᵀp).
    if (needs.needU[SITE_W] && sym) k.matTVec2(R.g[T], this.uW, this.W, this.e, this.p, C, N);
    else {
      k.matTVec(R.g[T], B[SITE_W], this.e, C, N);
      if (needs.needU[SITE_W]) k.matTVec(this.uW, this.W, this.p, C, N);
    }
    // t = T … 1 in one kernel call where the backend has it (the same kernels in the same order: the same floats).
    const fusedBack = k.fused?.rnnBack?.(this.G, this.dsig, this.D, this.H, this.uJ, this.J, B[SITE_J], N, T, leak, needG0, needUJ, sym) ?? false;
    for (let t = fusedBack ? 0 : T; t >= 1; t--) {
      const delta = R.delta[t];
      k.mul(delta, R.g[t], R.d[t], N);
      if (leak !== 1) k.lin2(delta, leak, delta, 0, delta, N, false);
      const wantG = t > 1 || needG0, wantU = needUJ;
      // gₜ₋₁ = (1 − α) gₜ + B_Jᵀ δₜ; with B_J = J one pass also gives uₜ = Jᵀhₜ.
      if (wantG && wantU && sym) k.matTVec2(R.g[t - 1], R.uJ[t], this.J, delta, R.h[t], N, N);
      else {
        if (wantG) k.matTVec(R.g[t - 1], B[SITE_J], delta, N, N);
        if (wantU) k.matTVec(R.uJ[t], this.J, R.h[t], N, N);
      }
      if (wantG && leak !== 1) k.lin2(R.g[t - 1], 1, R.g[t - 1], 1 - leak, R.g[t], N, false);
    }
    // Every t at once (each row the floats of its own matTVec): U's Oja uₜ = Uᵀhₜ and the error reaching the input B_Uᵀδₜ.
    if (needUU) k.matTVecs(this.uU, this.U, this.Hpost, T, N, nIn);
    if (needEX) k.matTVecs(this.eX, B[SITE_U], this.Dpost, T, N, nIn);
    // J's pre-synaptic error at t = 1 is the error reaching h₀ (the initial state is not a tanh unit).
    if (needG0) R.delta[0].set(R.g[0]);
    // Oja's form on errors reads Wᵀe through each site's own weights, whatever the feedback.
    const ue = needs.needUE;
    if (ue?.[SITE_W]) k.matTVec(this.ueW, this.W, this.e, C, N);
    if (ue?.[SITE_J]) k.matTVecs(this.ueJ, this.J, this.Dpost, T, N, N);
    if (ue?.[SITE_U]) k.matTVecs(this.ueU, this.U, this.Dpost, T, N, nIn);
  }

  tangents(dParams: readonly Buf[]): RnnTangentPass { return new RnnTangentPass(this, dParams); }
}
