/**
 * Plain typed-array kernels: the reference every fast path is held equal to.
 * Matrices are row-major flat buffers; shapes are given in comments as
 * (rows, cols). Kernels know nothing of networks and never allocate.
 */
import type { Rng } from "./rng.js";

export type Buf = Float32Array | Float64Array;
export type DType = "f32" | "f64";

export function alloc(dtype: DType, n: number): Buf {
  return dtype === "f32" ? new Float32Array(n) : new Float64Array(n);
}

/**
 * The kernels a network's hot loop calls. `jsKernels` (this file) is the
 * plain reference; a fast implementation (src/core/wasm.ts) must equal it
 * within a stated tolerance, and may require its buffers to come from its
 * own Arena.
 */
export interface Kernels {
  matVec(out: Buf, W: Buf, x: Buf, n: number, m: number, b?: Buf | null): void;
  matTVec(out: Buf, W: Buf, a: Buf, n: number, m: number): void;
  matTVec2(outA: Buf, outB: Buf, W: Buf, a: Buf, b: Buf, n: number, m: number): void;
  addOuter(W: Buf, s: number, u: Buf, v: Buf, n: number, m: number): void;
  addOuters(W: Buf, s: ArrayLike<number>, u: readonly Buf[], v: readonly Buf[], K: number, n: number, m: number): void;
  /** W(n, m) += Σ_k s_k Σ_t u_k[t](n) v_k[t](m)ᵀ: rank-T terms (T rows of each u_k (T, n) and v_k (T, m)). */
  addOutersT(W: Buf, s: ArrayLike<number>, u: readonly Buf[], v: readonly Buf[], K: number, T: number, n: number, m: number): void;
  matVec2(out: Buf, A: Buf, x: Buf, B: Buf, w: Buf, n: number, m: number, b?: Buf | null): void;
  matTVec2x2(outA: Buf, outB: Buf, W: Buf, a: Buf, b: Buf, V: Buf, c: Buf, d: Buf, n: number, m: number): void;
  /**
   * OUT(T, n) = X(T, m) Wᵀ: T matVecs of one W in one call (the RNN's input projection U xₜ for
   * every t, PAPER.md "Recurrent networks"), row t the floats of matVec(OUT[t], W, X[t]).
   */
  matVecs(out: Buf, W: Buf, X: Buf, T: number, n: number, m: number): void;
  /** OUT(T, m) = A(T, n) W: T matTVecs of one W in one call (Oja's uₜ = Uᵀhₜ for every t), row t the floats of matTVec. */
  matTVecs(out: Buf, W: Buf, A: Buf, T: number, n: number, m: number): void;
  /** out(n) = a ⊙ b. */
  mul(out: Buf, a: Buf, b: Buf, n: number): void;
  /** out(n) = a − b. */
  sub(out: Buf, a: Buf, b: Buf, n: number): void;
  /** out(n) = [out +] sa·a + sb·b (acc: accumulate). */
  lin2(out: Buf, sa: number, a: Buf, sb: number, b: Buf, n: number, acc: boolean): void;
  /** de(m) = g ⊙ d + bte ⊙ d2 ⊙ dz (the tangent of an error signal). */
  tanErr(de: Buf, g: Buf, d: Buf, bte: Buf, d2: Buf, dz: Buf, m: number): void;
  /** y(n) = tanh z, d(n) = 1 − y² (the RNN's units). */
  tanh(y: Buf, d: Buf, z: Buf, n: number): void;
  /**
   * A family of monomial terms in one sweep (src/rules/expr: k · preᵃ postᵇ Wᶜ, a, b, c ≤ 2):
   * out(n, m) += Σ_t Σ_abc C[9a + 3b + c] · pre_tjᵃ post_tiᵇ W_ijᶜ, pre (T, m), post (T, n).
   */
  monoUpdate(out: Buf, W: Buf, pre: Buf, post: Buf, C: Float64Array, T: number, n: number, m: number): void;
  /**
   * monoUpdate's forward-mode tangent in one sweep: out(n, m) += Σ_t Σ_abc [C · d(preᵃ postᵇ Wᶜ) + dC · preᵃ postᵇ Wᶜ],
   * d(·) by the product rule along dpre (T, m), dpost (T, n) and dW (n, m).
   */
  monoTangent(out: Buf, W: Buf, dW: Buf, pre: Buf, dpre: Buf, post: Buf, dpost: Buf, C: Float64Array, dC: Float64Array, T: number, n: number, m: number): void;
  /** Fused forms of the online step, where a backend has them (see FusedKernels). */
  readonly fused?: FusedKernels;
  /**
   * matVec, bit for bit, for a finite W and an x that is mostly +0 (an image
   * being scored): the groups of x that are +0 throughout are skipped. Returns
   * false, having done nothing, where the backend has no such form.
   */
  matVecSparse?(out: Buf, W: Buf, x: Buf, n: number, m: number, b?: Buf | null): boolean;
  /** Whether every value of a is finite. */
  finite?(a: Buf): boolean;
  /** Σ a[i]² in float64, summed in order (the same double as the plain loop). */
  sumSq?(a: Buf): number;
  /**
   * W[i] = (2·rng.uniform() − 1)·a for i < n, the same bytes and the same
   * stream position as that loop (the xavier initializer); false, having
   * drawn nothing, where the backend has no such form.
   */
  uniformFill?(W: Buf, n: number, a: number, rng: Rng): boolean;
  /**
   * y(n) = softplus_β(z) in f32 (y only), the same bytes as the plain loop
   * (softplusAt per unit). Returns how many units took the plain formula
   * (those the fast form could not vouch for), or −1, having done nothing,
   * where the backend has no such form.
   */
  softplus?(y: Buf, z: Buf, n: number, beta: number): number;
  /**
   * out(n) = (first ? 0 : out) + s·u with s a double: the floats of the
   * plain loop `out[i] += s * u[i]` (after out.fill(0) when first); false,
   * having done nothing, where the backend has no such form.
   */
  addScaled?(out: Buf, s: number, u: Buf, n: number, first: boolean): boolean;
  /**
   * Sign symmetry (src/signals/feedback.ts): B(n) = sign(W)·s, or sign(W)·M
   * (M ≥ 0) when M is given, 0 where W is ±0 or NaN: the floats of the plain
   * loop; false, having done nothing, where the backend has no such form.
   */
  signOf?(B: Buf, W: Buf, s: number, M: Buf | null, n: number): boolean;
  /**
   * Dale's projection (src/learn/dale.ts): W(n × m) keeps w where w·sg_j > 0,
   * else +0 (sg(m) = ±1 per column, as floats): the plain loop's floats;
   * false, having done nothing, where the backend has no such form.
   */
  daleProject?(W: Buf, sg: Buf, n: number, m: number): boolean;
}

/**
 * softplus_β(z) = log1p(exp(βz)) / β as max(t, 0) + log1p(exp(−|t|)), t = βz,
 * over β (never overflows): the plain activation's formula
 * (src/nn/activations.ts) and the reference the fast kernel answers to.
 */
export function softplusAt(z: number, beta: number): number {
  const t = beta * z;
  return (Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)))) / beta;
}

/**
 * backUpdate's plain twin, the reference the WebAssembly kernel is held to
 * (test/kernel-twins.test.ts) and what runs where the kernel declines:
 * g = Wᵀe from W before its update (eq. of the backward pass, eₗ₋₁ before σ'),
 * then Wout += Σ_k s_k u_k v_kᵀ, then bte = g and g ⊙= d (eₗ₋₁ = (Wₗᵀeₗ) ⊙ σ'(zₗ₋₁)).
 */
export function backUpdatePlain(k: Kernels, g: Buf | null, W: Buf, Wout: Buf, e: Buf, n: number, m: number,
  s: ArrayLike<number>, u: readonly Buf[], v: readonly Buf[], K: number, d: Buf | null = null, bte: Buf | null = null): void {
  if (g !== null) k.matTVec(g, W, e, n, m);
  k.addOuters(Wout, s, u, v, K, n, m);
  if (g !== null && d !== null && bte !== null) for (let j = 0; j < m; j++) { bte[j] = g[j]; g[j] *= d[j]; }
}

/** Activation codes shared with the WebAssembly kernels. */
export const ACT_CODE = { softplus: 0, relu: 1, tanh: 2, linear: 3 } as const;

/**
 * Composite kernels of the online step's fast path. Their meaning is the
 * plain step's, which test/wasm.test.ts holds them to.
 */
export interface FusedKernels {
  /** z = W x [+ b], y = σ(z), d = σ'(z) and, when u is given, u = Wᵀy (one call, activations included). */
  forwardHidden(z: Buf, y: Buf, d: Buf, u: Buf | null, W: Buf, x: Buf, b: Buf | null, n: number, m: number, act: number, beta: number): boolean;
  /**
   * g = Wᵀe (when g is given) and Wout += Σ_k s_k u_k v_kᵀ (K ≤ 3): one sweep
   * of W; then, with d and bte, bte = g and g ⊙= d (the next error signal).
   */
  backUpdate(
    g: Buf | null,
    W: Buf,
    Wout: Buf,
    e: Buf,
    n: number,
    m: number,
    s: ArrayLike<number>,
    u: readonly Buf[],
    v: readonly Buf[],
    K: number,
    d?: Buf | null,
    bte?: Buf | null,
  ): boolean;
  /** y(n) = σ(z), d(n) = σ'(z) (activation codes of ACT_CODE). */
  activate(y: Buf, d: Buf, z: Buf, n: number, act: number, beta: number): boolean;
  /** The first layer stored transposed (see InputLayer): plain references below, same names. */
  readonly input: InputKernels;
  /**
   * The same InputKernels on a packed layout of WT (native AVX-512 arenas: native/kern.c's k_packT says how the
   * floats sit), the same floats; for an online step without tangents and m a multiple of four (SweepStep).
   * transpose packs and unpacks; inputSweep takes no tangents. Every buffer must be on the arena.
   */
  readonly packedInput?: InputKernels;
  /**
   * The RNN's BPTT recursion, t = T … 1, in one call (src/nets/rnn/rnn.ts has the per-step loop it
   * replaces, the same kernels in the same order: the same floats). G, D, H: (T + 1) rows of N; S
   * (σ'), UJ: T rows. False, having done nothing, when a buffer is foreign; then the loop runs.
   */
  rnnBack?(G: Buf, S: Buf, D: Buf, H: Buf, UJ: Buf, J: Buf, BJ: Buf, N: number, T: number, leak: number,
    needG0: boolean, needUJ: boolean, sym: boolean): boolean;
  /**
   * The RNN's forward recursion, t = 1 … T, in one call after the input projection (src/nets/rnn/rnn.ts
   * has the per-step loop it replaces, the same kernels in the same order: the same floats). A, R, S (σ'):
   * T rows of N; H: T + 1 rows. False, having done nothing, when a buffer is foreign; then the loop runs.
   */
  rnnFwd?(A: Buf, H: Buf, R: Buf, S: Buf, J: Buf, N: number, T: number, rows: number, leak: number): boolean;
}

/**
 * The first layer kept transposed, WT (m, stride) with stride ≥ n: one row per
 * input pixel. Then z₁ = W₁x reads only the rows of nonzero pixels, and
 * uⱼ = (W₁ᵀy₁)ⱼ, which Oja's rule needs before it may write row j, is a dot
 * product within row j: the update is one sweep (PAPER.md Oja term).
 */
export interface InputKernels {
  /** WT = Wᵀ (back = false) or W = WTᵀ (back = true). */
  transpose(WT: Buf, W: Buf, n: number, m: number, stride: number, back: boolean): void;
  /** Indices of the nonzero x_j into idx; returns their number (idx past that number may be overwritten). */
  nonzeros(idx: Int32Array, x: Buf, m: number): number;
  /** z(n) = Σ_t x[idx_t] WT[idx_t, :] (+ b): z = W x over the nonzero inputs. */
  matVecT(z: Buf, WT: Buf, stride: number, x: Buf, idx: Int32Array, cnt: number, n: number, b: Buf | null): void;
  /**
   * For each row j: uⱼ = WTⱼ·y (when B is given, stored in u); for each
   * tangent, duⱼ = dWTⱼ·y + WTⱼ·dy and dWTⱼ += xⱼ A' + (xⱼ − uⱼ) B' − duⱼ C';
   * then WTⱼ += xⱼ A + (xⱼ − uⱼ) B. Null vectors are dropped; C' needs B.
   */
  inputSweep(
    WT: Buf,
    stride: number,
    m: number,
    n: number,
    x: Buf,
    y: Buf,
    A: Buf | null,
    B: Buf | null,
    u: Buf,
    idx: Int32Array,
    cnt: number,
    tangents: readonly InputTangent[],
  ): void;
}

/** One tangent direction of the first layer, for inputSweep. */
export interface InputTangent {
  dWT: Buf;
  dy: Buf;
  A: Buf | null;
  B: Buf | null;
  C: Buf | null;
  /** Where duⱼ goes, or null. */
  du: Buf | null;
}

/** Plain references of InputKernels. */
export const jsInputKernels: InputKernels = {
  transpose(WT, W, n, m, stride, back) {
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
      if (back) W[i * m + j] = WT[j * stride + i];
      else WT[j * stride + i] = W[i * m + j];
    }
  },
  nonzeros(idx, x, m) {
    let c = 0;
    for (let j = 0; j < m; j++) if (x[j] !== 0) idx[c++] = j;
    return c;
  },
  matVecT(z, WT, stride, x, idx, cnt, n, b) {
    for (let i = 0; i < n; i++) z[i] = b === null ? 0 : b[i];
    for (let t = 0; t < cnt; t++) {
      const j = idx[t], xj = x[j], r = j * stride;
      for (let i = 0; i < n; i++) z[i] += xj * WT[r + i];
    }
  },
  inputSweep(WT, stride, m, n, x, y, A, B, u, _idx, _cnt, tangents) {
    for (let j = 0; j < m; j++) {
      const r = j * stride, xj = x[j];
      let uj = 0;
      if (B !== null) { for (let i = 0; i < n; i++) uj += WT[r + i] * y[i]; u[j] = uj; }
      for (const t of tangents) {
        let du = 0;
        if (t.C !== null) {
          for (let i = 0; i < n; i++) du += t.dWT[r + i] * y[i] + WT[r + i] * t.dy[i];
          if (t.du !== null) t.du[j] = du;
        }
        for (let i = 0; i < n; i++) {
          t.dWT[r + i] += (t.A === null ? 0 : xj * t.A[i]) + (t.B === null ? 0 : (xj - uj) * t.B[i]) - (t.C === null ? 0 : du * t.C[i]);
        }
      }
      for (let i = 0; i < n; i++) WT[r + i] += (A === null ? 0 : xj * A[i]) + (B === null ? 0 : (xj - uj) * B[i]);
    }
  },
};

/** Where a network's buffers live, and the kernels that work on them. */
export interface Arena {
  readonly dtype: DType;
  readonly kernels: Kernels;
  alloc(n: number): Buf;
}

/**
 * Hands out heap buffers and counts the bytes a WebAssembly arena would need
 * for the same allocations (16-byte aligned), while showing planners the
 * kernels of that arena: building a network and its steps on it once gives
 * the exact size, where a hand formula would have to track every allocation.
 */
export class CountingArena implements Arena {
  readonly dtype = "f32" as const;
  bytes = 0;
  constructor(readonly kernels: Kernels) {}
  alloc(n: number): Float32Array {
    this.bytes = ((this.bytes + 15) & ~15) + 4 * n;
    return new Float32Array(n);
  }
}

/** Buffers on the JS heap, plain kernels: the reference backend (and the only one for float64). */
export function heapArena(dtype: DType): Arena {
  return { dtype, kernels: jsKernels, alloc: (n) => alloc(dtype, n) };
}

/** out(n) = W(n, m) · x(m) [+ b(n)] */
export function matVec(out: Buf, W: Buf, x: Buf, n: number, m: number, b: Buf | null = null): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const r = i * m;
    for (let j = 0; j < m; j++) s += W[r + j] * x[j];
    out[i] = b === null ? s : s + b[i];
  }
}

/** out(m) = W(n, m)ᵀ · a(n) */
export function matTVec(out: Buf, W: Buf, a: Buf, n: number, m: number): void {
  out.fill(0, 0, m);
  for (let i = 0; i < n; i++) {
    const ai = a[i];
    if (ai === 0) continue;
    const r = i * m;
    for (let j = 0; j < m; j++) out[j] += ai * W[r + j];
  }
}

/**
 * outA(m) = W(n, m)ᵀ · a(n) and outB(m) = W(n, m)ᵀ · b(n) in one pass over W:
 * the backward pass needs Wᵀe (error) and Wᵀy (Oja) from the same matrix.
 */
export function matTVec2(outA: Buf, outB: Buf, W: Buf, a: Buf, b: Buf, n: number, m: number): void {
  outA.fill(0, 0, m);
  outB.fill(0, 0, m);
  for (let i = 0; i < n; i++) {
    const ai = a[i], bi = b[i];
    const r = i * m;
    for (let j = 0; j < m; j++) {
      const w = W[r + j];
      outA[j] += ai * w;
      outB[j] += bi * w;
    }
  }
}

/** W(n, m) += s · u(n) v(m)ᵀ */
export function addOuter(W: Buf, s: number, u: Buf, v: Buf, n: number, m: number): void {
  for (let i = 0; i < n; i++) {
    const c = s * u[i];
    if (c === 0) continue;
    const r = i * m;
    for (let j = 0; j < m; j++) W[r + j] += c * v[j];
  }
}

/**
 * W(n, m) += Σ_k s_k · u_k(n) v_k(m)ᵀ in one pass over W: every plasticity
 * term is rank-1, so a whole rule is applied while each row is in cache.
 */
export function addOuters(W: Buf, s: ArrayLike<number>, u: readonly Buf[], v: readonly Buf[], K: number, n: number, m: number): void {
  if (K === 0) return;
  if (K === 1) return addOuter(W, s[0], u[0], v[0], n, m);
  if (K === 2) {
    const u0 = u[0], u1 = u[1], v0 = v[0], v1 = v[1];
    for (let i = 0; i < n; i++) {
      const c0 = s[0] * u0[i], c1 = s[1] * u1[i];
      const r = i * m;
      for (let j = 0; j < m; j++) W[r + j] += c0 * v0[j] + c1 * v1[j];
    }
    return;
  }
  for (let k = 0; k < K; k++) addOuter(W, s[k], u[k], v[k], n, m);
}

/**
 * W(n, m) += Σ_k s_k · u_k(T, n)ᵀ v_k(T, m): a rule's terms summed over the T
 * time steps of a sequence (PAPER.md "Recurrent networks"), one pass over W
 * per pair of terms and time steps.
 */
export function addOutersT(W: Buf, s: ArrayLike<number>, u: readonly Buf[], v: readonly Buf[], K: number, T: number, n: number, m: number): void {
  for (let k = 0; k < K; k++) {
    const uk = u[k], vk = v[k], sk = s[k];
    for (let t = 0; t < T; t++) {
      const uo = t * n, vo = t * m;
      for (let i = 0; i < n; i++) {
        const c = sk * uk[uo + i];
        if (c === 0) continue;
        const r = i * m;
        for (let j = 0; j < m; j++) W[r + j] += c * vk[vo + j];
      }
    }
  }
}

/** out(n) = A(n, m) x + B(n, m) w [+ b]: the tangent forward pass dz = dW y + W dy. */
export function matVec2(out: Buf, A: Buf, x: Buf, B: Buf, w: Buf, n: number, m: number, b: Buf | null = null): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const r = i * m;
    for (let j = 0; j < m; j++) s += A[r + j] * x[j] + B[r + j] * w[j];
    out[i] = b === null ? s : s + b[i];
  }
}

/** outA(m) = Wᵀa + Vᵀc, outB(m) = Wᵀb + Vᵀd (W, V: (n, m)): the tangent backward pass. */
export function matTVec2x2(outA: Buf, outB: Buf, W: Buf, a: Buf, b: Buf, V: Buf, c: Buf, d: Buf, n: number, m: number): void {
  outA.fill(0, 0, m);
  outB.fill(0, 0, m);
  for (let i = 0; i < n; i++) {
    const ai = a[i], bi = b[i], ci = c[i], di = d[i], r = i * m;
    for (let j = 0; j < m; j++) {
      const w = W[r + j], v = V[r + j];
      outA[j] += ai * w + ci * v;
      outB[j] += bi * w + di * v;
    }
  }
}

/** OUT(T, n): row t = W(n, m) · X[t] (T matVecs). */
export function matVecs(out: Buf, W: Buf, X: Buf, T: number, n: number, m: number): void {
  for (let t = 0; t < T; t++) matVec(out.subarray(t * n, (t + 1) * n), W, X.subarray(t * m, (t + 1) * m), n, m);
}

/** OUT(T, m): row t = W(n, m)ᵀ · A[t] (T matTVecs). */
export function matTVecs(out: Buf, W: Buf, A: Buf, T: number, n: number, m: number): void {
  for (let t = 0; t < T; t++) matTVec(out.subarray(t * m, (t + 1) * m), W, A.subarray(t * n, (t + 1) * n), n, m);
}

export function mul(out: Buf, a: Buf, b: Buf, n: number): void { for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; }
export function sub(out: Buf, a: Buf, b: Buf, n: number): void { for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; }
export function lin2(out: Buf, sa: number, a: Buf, sb: number, b: Buf, n: number, acc: boolean): void {
  for (let i = 0; i < n; i++) { const t = sa * a[i] + sb * b[i]; out[i] = acc ? out[i] + t : t; }
}
export function tanErr(de: Buf, g: Buf, d: Buf, bte: Buf, d2: Buf, dz: Buf, m: number): void {
  for (let j = 0; j < m; j++) de[j] = g[j] * d[j] + bte[j] * d2[j] * dz[j];
}

export function tanh(y: Buf, d: Buf, z: Buf, n: number): void {
  for (let i = 0; i < n; i++) { const t = Math.tanh(z[i]); y[i] = t; d[i] = 1 - t * t; }
}

/**
 * monoUpdate, plain: for each row i and time row t, the post side is contracted first,
 * α_ac = Σ_b C_abc qᵇ (q = post_ti, by Horner), so that each weight costs
 * Φ = M₀ + w (M₁ + w M₂), M_c = α_0c + p (α_1c + p α_2c) (p = pre_tj, w = W_ij): one sweep
 * for the whole family, where the terms one by one take one sweep each. In float64; out
 * rounds once per (i, j, t). The wasm twin (asm/kernels.ts) does the same operations in the
 * same order, so the two give the same floats.
 */
export function monoUpdate(out: Buf, W: Buf, pre: Buf, post: Buf, C: Float64Array, T: number, n: number, m: number): void {
  for (let i = 0; i < n; i++) {
    const r = i * m;
    for (let t = 0; t < T; t++) {
      const q = post[t * n + i], pj = t * m;
      const a00 = C[0] + q * (C[3] + q * C[6]), a01 = C[1] + q * (C[4] + q * C[7]), a02 = C[2] + q * (C[5] + q * C[8]);
      const a10 = C[9] + q * (C[12] + q * C[15]), a11 = C[10] + q * (C[13] + q * C[16]), a12 = C[11] + q * (C[14] + q * C[17]);
      const a20 = C[18] + q * (C[21] + q * C[24]), a21 = C[19] + q * (C[22] + q * C[25]), a22 = C[20] + q * (C[23] + q * C[26]);
      for (let j = 0; j < m; j++) {
        const p = pre[pj + j], w = W[r + j];
        const M0 = a00 + p * (a10 + p * a20), M1 = a01 + p * (a11 + p * a21), M2 = a02 + p * (a12 + p * a22);
        out[r + j] += M0 + w * (M1 + w * M2);
      }
    }
  }
}

/**
 * monoTangent, plain. With α_ac as in monoUpdate and, per row, γ_ac = dq (C_a1c + 2q C_a2c) + Σ_b dC_abc qᵇ
 * (the post side's tangent and the coefficients' own), the tangent of Φ at each weight is
 *   dΦ = N₀ + w (N₁ + w N₂) + dw (M₁ + 2w M₂),  N_c = dp (α_1c + 2p α_2c) + γ_0c + p (γ_1c + p γ_2c),
 * the product rule ∂Φ/∂p dp + ∂Φ/∂q dq + ∂Φ/∂w dw plus Φ at dC. Float64, one rounding per (i, j, t), as the wasm twin.
 */
export function monoTangent(
  out: Buf, W: Buf, dW: Buf, pre: Buf, dpre: Buf, post: Buf, dpost: Buf, C: Float64Array, dC: Float64Array, T: number, n: number, m: number,
): void {
  for (let i = 0; i < n; i++) {
    const r = i * m;
    for (let t = 0; t < T; t++) {
      const q = post[t * n + i], dq = dpost[t * n + i], q2 = 2 * q, pj = t * m;
      const a00 = C[0] + q * (C[3] + q * C[6]), a01 = C[1] + q * (C[4] + q * C[7]), a02 = C[2] + q * (C[5] + q * C[8]);
      const a10 = C[9] + q * (C[12] + q * C[15]), a11 = C[10] + q * (C[13] + q * C[16]), a12 = C[11] + q * (C[14] + q * C[17]);
      const a20 = C[18] + q * (C[21] + q * C[24]), a21 = C[19] + q * (C[22] + q * C[25]), a22 = C[20] + q * (C[23] + q * C[26]);
      const g00 = dq * (C[3] + q2 * C[6]) + (dC[0] + q * (dC[3] + q * dC[6]));
      const g01 = dq * (C[4] + q2 * C[7]) + (dC[1] + q * (dC[4] + q * dC[7]));
      const g02 = dq * (C[5] + q2 * C[8]) + (dC[2] + q * (dC[5] + q * dC[8]));
      const g10 = dq * (C[12] + q2 * C[15]) + (dC[9] + q * (dC[12] + q * dC[15]));
      const g11 = dq * (C[13] + q2 * C[16]) + (dC[10] + q * (dC[13] + q * dC[16]));
      const g12 = dq * (C[14] + q2 * C[17]) + (dC[11] + q * (dC[14] + q * dC[17]));
      const g20 = dq * (C[21] + q2 * C[24]) + (dC[18] + q * (dC[21] + q * dC[24]));
      const g21 = dq * (C[22] + q2 * C[25]) + (dC[19] + q * (dC[22] + q * dC[25]));
      const g22 = dq * (C[23] + q2 * C[26]) + (dC[20] + q * (dC[23] + q * dC[26]));
      for (let j = 0; j < m; j++) {
        const p = pre[pj + j], dp = dpre[pj + j], w = W[r + j], dw = dW[r + j], p2 = 2 * p;
        const M1 = a01 + p * (a11 + p * a21), M2 = a02 + p * (a12 + p * a22);
        const N0 = dp * (a10 + p2 * a20) + (g00 + p * (g10 + p * g20));
        const N1 = dp * (a11 + p2 * a21) + (g01 + p * (g11 + p * g21));
        const N2 = dp * (a12 + p2 * a22) + (g02 + p * (g12 + p * g22));
        out[r + j] += N0 + w * (N1 + w * N2) + dw * (M1 + 2 * w * M2);
      }
    }
  }
}

export const jsKernels: Kernels = {
  matVec, matTVec, matTVec2, addOuter, addOuters, addOutersT, matVec2, matTVec2x2, matVecs, matTVecs, mul, sub, lin2, tanErr, tanh,
  monoUpdate, monoTangent,
};

/** Numerically stable softmax of z(n) into p(n). */
export function softmax(p: Buf, z: Buf, n: number): void {
  let mx = -Infinity;
  for (let i = 0; i < n; i++) if (z[i] > mx) mx = z[i];
  let s = 0;
  for (let i = 0; i < n; i++) { const t = Math.exp(z[i] - mx); p[i] = t; s += t; }
  const inv = 1 / s;
  for (let i = 0; i < n; i++) p[i] *= inv;
}

/** log Σ exp z(n), stable. */
export function logSumExp(z: Buf, n: number): number {
  let mx = -Infinity;
  for (let i = 0; i < n; i++) if (z[i] > mx) mx = z[i];
  if (!Number.isFinite(mx)) return mx;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(z[i] - mx);
  return mx + Math.log(s);
}

export function argmax(z: Buf, n: number): number {
  let k = 0;
  for (let i = 1; i < n; i++) if (z[i] > z[k]) k = i;
  return k;
}

export function allFinite(a: Buf): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
