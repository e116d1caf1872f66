// WebAssembly SIMD (f32x4) kernels, compiled by AssemblyScript at build time
// (npm run build:wasm). Each mirrors a plain kernel in src/core/kernels.ts and
// is held equal to it by test/wasm.test.ts. Arguments are byte offsets into
// the module's memory; matrices are row-major f32, shapes as (rows, cols).
// On this machine the kernels are bound by instruction throughput (2 loads, 1
// store and a few f32x4 operations per cycle; Node 20's wasm has no FMA), so
// what pays is fewer passes over W and fewer loads per multiply-add: each
// kernel reads a matrix row once, works two or four rows at a time so a load
// of a short vector serves them all, and unrolls where it measured faster.

// @ts-nocheck — AssemblyScript, not TypeScript.

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** out(n) = W(n, m) · x(m) [+ b(n) when b ≠ 0] */
export function matVec(out: usize, W: usize, x: usize, n: i32, m: i32, b: usize): void {
  matVecRows(out, W, x, n, m, b, 0, <usize>(m & ~3) << 2, 16, false);
}

/**
 * matVec's rows over the four-float groups of x at byte offsets q0, q0 + dq,
 * … < q1 (sparse: the offsets are read from a list there; see matVecNZ), then
 * the scalar tail j ≥ m & ~3 and the bias. Each lane accumulator sums its
 * groups in order.
 */
@inline function matVecRows(out: usize, W: usize, x: usize, n: i32, m: i32, b: usize, q0: usize, q1: usize, dq: usize, sparse: bool): void {
  const m4 = m & ~3;
  const stride = <usize>m << 2;
  let i = 0;
  // Four rows at a time: each load of x serves four rows.
  for (; i + 4 <= n; i += 4) {
    const r0 = W + <usize>i * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let q = q0; q < q1; q += dq) {
      const o = sparse ? <usize>load<u32>(q) : q;
      const xv = v128.load(x + o);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(r0 + o), xv));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(r1 + o), xv));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(r2 + o), xv));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(r3 + o), xv));
    }
    let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    for (let j = m4; j < m; j++) {
      const o = <usize>j << 2;
      const xj = load<f32>(x + o);
      s0 += load<f32>(r0 + o) * xj;
      s1 += load<f32>(r1 + o) * xj;
      s2 += load<f32>(r2 + o) * xj;
      s3 += load<f32>(r3 + o) * xj;
    }
    const io = <usize>i << 2;
    if (b != 0) { s0 += load<f32>(b + io); s1 += load<f32>(b + io + 4); s2 += load<f32>(b + io + 8); s3 += load<f32>(b + io + 12); }
    store<f32>(out + io, s0);
    store<f32>(out + io + 4, s1);
    store<f32>(out + io + 8, s2);
    store<f32>(out + io + 12, s3);
  }
  for (; i < n; i++) {
    const r0 = W + <usize>i * stride;
    let a0 = f32x4.splat(0);
    for (let q = q0; q < q1; q += dq) {
      const o = sparse ? <usize>load<u32>(q) : q;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(r0 + o), v128.load(x + o)));
    }
    let s0 = hsum(a0);
    for (let j = m4; j < m; j++) s0 += load<f32>(r0 + (<usize>j << 2)) * load<f32>(x + (<usize>j << 2));
    if (b != 0) s0 += load<f32>(b + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), s0);
  }
}

/**
 * matVec for a sparse x (an image scored on a query set), equal to matVec
 * bit for bit when W is finite: matVec's lane accumulators a_r (lane l sums
 * the j ≡ l mod 4 in order of j), hsum and tail, but the four-float groups
 * where x is +0 in every lane are skipped. Their products are ±0 for finite
 * W, and adding ±0 leaves an accumulator that starts at +0 unchanged (it is
 * never −0: x + (−x) rounds to +0). With a non-finite W, 0·∞ would be NaN:
 * the caller checks finite() first. GIDX: scratch for the byte offsets of
 * the groups kept, room for `groups` of them; returns 0 (nothing done) when
 * x has more groups than that.
 */
export function matVecNZ(out: usize, W: usize, x: usize, n: i32, m: i32, b: usize, GIDX: usize, groups: i32): i32 {
  const m4 = m & ~3;
  if ((m4 >> 2) > groups) return 0;
  let G = 0;
  for (let j = 0; j < m4; j += 4) {
    const o = <u32>j << 2;
    if (v128.any_true(v128.load(x + o))) { store<u32>(GIDX + (<usize>G << 2), o); G++; }
  }
  matVecRows(out, W, x, n, m, b, GIDX, GIDX + (<usize>G << 2), 4, true);
  return 1;
}

/** 1 when all n floats at p are finite, else 0. */
export function finite(p: usize, n: i32): i32 {
  const n4 = n & ~3;
  // x − x is 0 for finite x and NaN for ±∞ and NaN: OR the NaN tests of every vector.
  let bad = v128.splat<i32>(0);
  for (let i = 0; i < n4; i += 4) {
    const v = v128.load(p + (<usize>i << 2)), d = f32x4.sub(v, v);
    bad = v128.or(bad, f32x4.ne(d, d));
  }
  if (v128.any_true(bad)) return 0;
  for (let i = n4; i < n; i++) { const v = load<f32>(p + (<usize>i << 2)); if (v - v != 0) return 0; }
  return 1;
}

/**
 * Σ p[i]² over n floats in float64, in order: the same double as the
 * TypeScript loop `s += W[i] * W[i]` (each square is exact in float64; the
 * sum rounds at every step, so the order is kept), for runTask's Σ‖W‖.
 */
export function sumSq(p: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) { const v = <f64>load<f32>(p + (<usize>i << 2)); s += v * v; }
  return s;
}

// The state of src/core/rng.ts's xoshiro128** (s0 … s3), handed in and out by uniformFill.
const RNG_STATE = memory.data(16, 16);
export function rngState(): usize { return RNG_STATE; }

/**
 * W[i] = (2u − 1)·a for n draws u = Rng.uniform() (53 bits from two
 * xoshiro128** outputs): the xavier initializer (src/nn/init.ts) with the
 * same integer steps and the same float64 arithmetic, rounded to f32 as a
 * Float32Array store rounds, so the same bytes as the TypeScript loop.
 */
export function uniformFill(W: usize, n: i32, a: f64): void {
  let s0 = load<u32>(RNG_STATE), s1 = load<u32>(RNG_STATE, 4), s2 = load<u32>(RNG_STATE, 8), s3 = load<u32>(RNG_STATE, 12);
  for (let i = 0; i < n; i++) {
    let r = rotl<u32>(s1 * 5, 7) * 9;
    let t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl<u32>(s3, 11);
    const hi = r >>> 5;
    r = rotl<u32>(s1 * 5, 7) * 9;
    t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl<u32>(s3, 11);
    const lo = r >>> 6;
    // × 2⁻⁵³ rather than ÷ 2⁵³: the same double (a power of two scales exactly), without a division.
    const u = (<f64>hi * 67108864.0 + <f64>lo) * 1.1102230246251565e-16;
    store<f32>(W + (<usize>i << 2), <f32>((2.0 * u - 1.0) * a));
  }
  store<u32>(RNG_STATE, s0); store<u32>(RNG_STATE, s1, 4); store<u32>(RNG_STATE, s2, 8); store<u32>(RNG_STATE, s3, 12);
}

/** out(len) += s0·r0 + s1·r1 + s2·r2 + s3·r3: four rows into one vector, which is read and written once. */
@inline function accRows4(out: usize, r0: usize, r1: usize, r2: usize, r3: usize, s0: f32, s1: f32, s2: f32, s3: f32, len: i32): void {
  const n4 = len & ~3;
  const c0 = f32x4.splat(s0), c1 = f32x4.splat(s1), c2 = f32x4.splat(s2), c3 = f32x4.splat(s3);
  for (let j = 0; j < n4; j += 4) {
    const o = <usize>j << 2;
    const t = f32x4.add(f32x4.add(f32x4.mul(c0, v128.load(r0 + o)), f32x4.mul(c1, v128.load(r1 + o))),
                        f32x4.add(f32x4.mul(c2, v128.load(r2 + o)), f32x4.mul(c3, v128.load(r3 + o))));
    v128.store(out + o, f32x4.add(v128.load(out + o), t));
  }
  for (let j = n4; j < len; j++) {
    const o = <usize>j << 2;
    store<f32>(out + o, load<f32>(out + o) + s0 * load<f32>(r0 + o) + s1 * load<f32>(r1 + o) + s2 * load<f32>(r2 + o) + s3 * load<f32>(r3 + o));
  }
}

/** out(len) += s0·r0. */
@inline function accRow1(out: usize, r0: usize, s0: f32, len: i32): void {
  const n4 = len & ~3, c0 = f32x4.splat(s0);
  for (let j = 0; j < n4; j += 4) {
    const o = <usize>j << 2;
    v128.store(out + o, f32x4.add(v128.load(out + o), f32x4.mul(c0, v128.load(r0 + o))));
  }
  for (let j = n4; j < len; j++) {
    const o = <usize>j << 2;
    store<f32>(out + o, load<f32>(out + o) + s0 * load<f32>(r0 + o));
  }
}

/**
 * OUT(T, n): row t = W(n, m) · X[t], T matVecs in one call (the RNN's input projection U xₜ over a
 * sequence): each row the floats of matVec, without a call from JavaScript per time step.
 */
export function matVecs(out: usize, W: usize, X: usize, T: i32, n: i32, m: i32): void {
  for (let t = 0; t < T; t++) matVecRows(out + (<usize>(t * n) << 2), W, X + (<usize>(t * m) << 2), n, m, 0, 0, <usize>(m & ~3) << 2, 16, false);
}

/** OUT(T, m): row t = W(n, m)ᵀ · A[t], T matTVecs in one call (Oja's uₜ = Uᵀhₜ over a sequence). */
export function matTVecs(out: usize, W: usize, A: usize, T: i32, n: i32, m: i32): void {
  for (let t = 0; t < T; t++) matTVec(out + (<usize>(t * m) << 2), W, A + (<usize>(t * n) << 2), n, m);
}

/** out(m) = W(n, m)ᵀ · a(n) */
export function matTVec(out: usize, W: usize, a: usize, n: i32, m: i32): void {
  memory.fill(out, 0, <usize>m << 2);
  const stride = <usize>m << 2;
  let i = 0;
  // Four rows per sweep of out: out is read and written once per four rows of W.
  for (; i + 4 <= n; i += 4) {
    const r0 = W + <usize>i * stride, io = <usize>i << 2;
    accRows4(out, r0, r0 + stride, r0 + 2 * stride, r0 + 3 * stride, load<f32>(a + io), load<f32>(a + io + 4), load<f32>(a + io + 8), load<f32>(a + io + 12),
      m);
  }
  for (; i < n; i++) accRow1(out, W + <usize>i * stride, load<f32>(a + (<usize>i << 2)), m);
}

/** outA(m) = Wᵀa and outB(m) = Wᵀb in one pass over W(n, m). */
export function matTVec2(outA: usize, outB: usize, W: usize, a: usize, b: usize, n: i32, m: i32): void {
  memory.fill(outA, 0, <usize>m << 2);
  memory.fill(outB, 0, <usize>m << 2);
  const m4 = m & ~3;
  const stride = <usize>m << 2;
  let i = 0;
  // Two rows per sweep of outA and outB.
  for (; i + 2 <= n; i += 2) {
    const r0 = W + <usize>i * stride, r1 = r0 + stride;
    const io = <usize>i << 2;
    const sa0 = load<f32>(a + io), sa1 = load<f32>(a + io + 4), sb0 = load<f32>(b + io), sb1 = load<f32>(b + io + 4);
    const ca0 = f32x4.splat(sa0), ca1 = f32x4.splat(sa1), cb0 = f32x4.splat(sb0), cb1 = f32x4.splat(sb1);
    for (let j = 0; j < m4; j += 4) {
      const o = <usize>j << 2;
      const w0 = v128.load(r0 + o), w1 = v128.load(r1 + o);
      v128.store(outA + o, f32x4.add(v128.load(outA + o), f32x4.add(f32x4.mul(ca0, w0), f32x4.mul(ca1, w1))));
      v128.store(outB + o, f32x4.add(v128.load(outB + o), f32x4.add(f32x4.mul(cb0, w0), f32x4.mul(cb1, w1))));
    }
    for (let j = m4; j < m; j++) {
      const o = <usize>j << 2;
      const w0 = load<f32>(r0 + o), w1 = load<f32>(r1 + o);
      store<f32>(outA + o, load<f32>(outA + o) + sa0 * w0 + sa1 * w1);
      store<f32>(outB + o, load<f32>(outB + o) + sb0 * w0 + sb1 * w1);
    }
  }
  for (; i < n; i++) {
    const r0 = W + <usize>i * stride;
    const sa = load<f32>(a + (<usize>i << 2)), sb = load<f32>(b + (<usize>i << 2));
    const ca = f32x4.splat(sa), cb = f32x4.splat(sb);
    for (let j = 0; j < m4; j += 4) {
      const o = <usize>j << 2;
      const w = v128.load(r0 + o);
      v128.store(outA + o, f32x4.add(v128.load(outA + o), f32x4.mul(ca, w)));
      v128.store(outB + o, f32x4.add(v128.load(outB + o), f32x4.mul(cb, w)));
    }
    for (let j = m4; j < m; j++) {
      const o = <usize>j << 2;
      const w = load<f32>(r0 + o);
      store<f32>(outA + o, load<f32>(outA + o) + sa * w);
      store<f32>(outB + o, load<f32>(outB + o) + sb * w);
    }
  }
}

/**
 * W(n, m) += Σ_k s_k · u_k(n) v_k(m)ᵀ for K rank-1 terms in one pass over W
 * per four terms. desc holds K records of (f32 s, u32 u, u32 v): 12 bytes
 * each. Two rows at a time, so each load of a v_k serves both rows.
 */
export function addOuters(W: usize, n: i32, m: i32, K: i32, desc: usize): void {
  for (let k = 0; k < K; k += 4) {
    const left = K - k < 4 ? K - k : 4;
    if (left == 1) outerChunk(W, n, m, desc + <usize>k * 12, 1);
    else if (left == 2) outerChunk(W, n, m, desc + <usize>k * 12, 2);
    else if (left == 3) outerChunk(W, n, m, desc + <usize>k * 12, 3);
    else outerChunk(W, n, m, desc + <usize>k * 12, 4);
  }
}

/** Four columns of two rows of outerChunk: w_r += Σ_k q_kr v_k. */
@inline function outerCol(w0: usize, w1: usize, pa: usize, pb: usize, pc: usize, pd: usize,
  q00: v128, q01: v128, q10: v128, q11: v128, q20: v128, q21: v128, q30: v128, q31: v128, K: i32): void {
  const p = v128.load(pa);
  let t0 = f32x4.mul(q00, p), t1 = f32x4.mul(q01, p);
  if (K > 1) { const q = v128.load(pb); t0 = f32x4.add(t0, f32x4.mul(q10, q)); t1 = f32x4.add(t1, f32x4.mul(q11, q)); }
  if (K > 2) { const q = v128.load(pc); t0 = f32x4.add(t0, f32x4.mul(q20, q)); t1 = f32x4.add(t1, f32x4.mul(q21, q)); }
  if (K > 3) { const q = v128.load(pd); t0 = f32x4.add(t0, f32x4.mul(q30, q)); t1 = f32x4.add(t1, f32x4.mul(q31, q)); }
  v128.store(w0, f32x4.add(v128.load(w0), t0));
  v128.store(w1, f32x4.add(v128.load(w1), t1));
}

/** One pass of addOuters for K ≤ 4 terms (K a constant after inlining: no dead work in the loops). */
@inline function outerChunk(W: usize, n: i32, m: i32, d0: usize, K: i32): void {
  const m4 = m & ~3;
  const stride = <usize>m << 2;
  const s0 = load<f32>(d0), u0 = <usize>load<u32>(d0 + 4), v0 = <usize>load<u32>(d0 + 8);
  const s1 = K > 1 ? load<f32>(d0 + 12) : <f32>0, u1 = K > 1 ? <usize>load<u32>(d0 + 16) : u0, v1 = K > 1 ? <usize>load<u32>(d0 + 20) : v0;
  const s2 = K > 2 ? load<f32>(d0 + 24) : <f32>0, u2 = K > 2 ? <usize>load<u32>(d0 + 28) : u0, v2 = K > 2 ? <usize>load<u32>(d0 + 32) : v0;
  const s3 = K > 3 ? load<f32>(d0 + 36) : <f32>0, u3 = K > 3 ? <usize>load<u32>(d0 + 40) : u0, v3 = K > 3 ? <usize>load<u32>(d0 + 44) : v0;
  let i = 0;
  for (; i < n; i += 2) {
    // An odd last row pairs with itself under zero coefficients.
    const two = i + 1 < n;
    const r0 = W + <usize>i * stride, r1 = two ? r0 + stride : r0;
    const io = <usize>i << 2, io1 = two ? io + 4 : io;
    const c00 = s0 * load<f32>(u0 + io), c10 = s1 * load<f32>(u1 + io), c20 = s2 * load<f32>(u2 + io), c30 = s3 * load<f32>(u3 + io);
    const z: f32 = two ? 1 : 0;
    const c01 = z * s0 * load<f32>(u0 + io1), c11 = z * s1 * load<f32>(u1 + io1), c21 = z * s2 * load<f32>(u2 + io1), c31 = z * s3 * load<f32>(u3 + io1);
    if (!two) {
      // Single row: plain loop (the paired loop would write the row twice).
      for (let j = 0; j < m; j++) {
        const o = <usize>j << 2;
        let t = c00 * load<f32>(v0 + o);
        if (K > 1) t += c10 * load<f32>(v1 + o);
        if (K > 2) t += c20 * load<f32>(v2 + o);
        if (K > 3) t += c30 * load<f32>(v3 + o);
        store<f32>(r0 + o, load<f32>(r0 + o) + t);
      }
      break;
    }
    const q00 = f32x4.splat(c00), q10 = f32x4.splat(c10), q20 = f32x4.splat(c20), q30 = f32x4.splat(c30);
    const q01 = f32x4.splat(c01), q11 = f32x4.splat(c11), q21 = f32x4.splat(c21), q31 = f32x4.splat(c31);
    let j = 0;
    for (; j < m4; j += 4) {
      const o = <usize>j << 2;
      outerCol(r0 + o, r1 + o, v0 + o, v1 + o, v2 + o, v3 + o, q00, q01, q10, q11, q20, q21, q30, q31, K);
    }
    for (; j < m; j++) {
      const o = <usize>j << 2;
      const a = load<f32>(v0 + o), b = load<f32>(v1 + o), c = load<f32>(v2 + o), d = load<f32>(v3 + o);
      store<f32>(r0 + o, load<f32>(r0 + o) + c00 * a + c10 * b + c20 * c + c30 * d);
      store<f32>(r1 + o, load<f32>(r1 + o) + c01 * a + c11 * b + c21 * c + c31 * d);
    }
  }
}

// ---- The online step's fast path (src/learn/learner.ts) ----
// Activation codes: 0 softplus(β), 1 relu, 2 tanh, 3 linear. Single-precision
// maths (Mathf): the outputs are stored in f32 anyway.

@inline function act(t: f32, code: i32, beta: f32, dp: usize): f32 {
  if (code == 0) {
    // q = exp(−|βz|): y = (max(βz, 0) + log1p(q)) / β, σ'(z) = sigmoid(βz).
    const bz = beta * t;
    const q = Mathf.exp(-Mathf.abs(bz));
    store<f32>(dp, (bz >= 0 ? <f32>1 : q) / (<f32>1 + q));
    return (Mathf.max(bz, 0) + Mathf.log1p(q)) / beta;
  } else if (code == 1) {
    store<f32>(dp, t > 0 ? <f32>1 : <f32>0);
    return t > 0 ? t : <f32>0;
  } else if (code == 2) {
    const y = Mathf.tanh(t);
    store<f32>(dp, <f32>1 - y * y);
    return y;
  }
  store<f32>(dp, 1);
  return t;
}

/**
 * exp(x) for x ≤ 0, four lanes: x = k ln2 + r with |r| ≤ ln2/2 (Cody–Waite
 * split of ln2), exp(r) by its Taylor polynomial to r⁶ (truncation < 1.5e-7
 * relative), 2ᵏ by building the exponent bits. x is clamped at −87 so 2ᵏ
 * stays a normal float (exp(−87) ≈ 1.6e-38 where the true value is smaller).
 */
@inline function vexpNeg(x0: v128): v128 {
  const x = f32x4.max(x0, f32x4.splat(-87));
  const k = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.4426950408889634)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(k, f32x4.splat(0.693145751953125))), f32x4.mul(k, f32x4.splat(1.428606765330187e-6)));
  let p = f32x4.splat(1.0 / 720);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 120));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 24));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 6));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

/**
 * log1p(q) for 0 ≤ q ≤ 1, four lanes: log1p(q) = 2 atanh(s) with
 * s = q / (2 + q) ≤ 1/3 (no cancellation for small q), the odd series to s¹³
 * (truncation < 2e-8 relative).
 */
@inline function vlog1p01(q: v128): v128 {
  const s = f32x4.div(q, f32x4.add(q, f32x4.splat(2)));
  const s2 = f32x4.mul(s, s);
  let p = f32x4.splat(1.0 / 13);
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(1.0 / 11));
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(1.0 / 9));
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(1.0 / 7));
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(1.0 / 5));
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(1.0 / 3));
  p = f32x4.add(f32x4.mul(p, s2), f32x4.splat(1));
  return f32x4.mul(f32x4.add(s, s), p);
}

/** y(n) = σ(z), d(n) = σ'(z). Softplus runs four or eight units at a time (the scalar act() per unit costs two libm calls). */
export function activate(y: usize, d: usize, z: usize, n: i32, code: i32, beta: f32): void {
  let i = 0;
  if (code == 0) {
    const b = f32x4.splat(beta), one = f32x4.splat(1), zero = f32x4.splat(0);
    // Eight units per pass, as two independent chains (each unit's floats are the same as four at a time).
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const bz0 = f32x4.mul(b, v128.load(z + o)), bz1 = f32x4.mul(b, v128.load(z + o + 16));
      const q0 = vexpNeg(f32x4.neg(f32x4.abs(bz0))), q1 = vexpNeg(f32x4.neg(f32x4.abs(bz1)));
      v128.store(y + o, f32x4.div(f32x4.add(f32x4.max(bz0, zero), vlog1p01(q0)), b));
      v128.store(y + o + 16, f32x4.div(f32x4.add(f32x4.max(bz1, zero), vlog1p01(q1)), b));
      v128.store(d + o, f32x4.div(v128.bitselect(one, q0, f32x4.ge(bz0, zero)), f32x4.add(one, q0)));
      v128.store(d + o + 16, f32x4.div(v128.bitselect(one, q1, f32x4.ge(bz1, zero)), f32x4.add(one, q1)));
    }
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      // As act(): q = exp(−|βz|), y = (max(βz, 0) + log1p(q)) / β, σ' = (βz ≥ 0 ? 1 : q) / (1 + q).
      const bz = f32x4.mul(b, v128.load(z + o));
      const q = vexpNeg(f32x4.neg(f32x4.abs(bz)));
      v128.store(y + o, f32x4.div(f32x4.add(f32x4.max(bz, zero), vlog1p01(q)), b));
      v128.store(d + o, f32x4.div(v128.bitselect(one, q, f32x4.ge(bz, zero)), f32x4.add(one, q)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, act(load<f32>(z + o), code, beta, d + o));
  }
}

// ---- Scoring's softplus, the same f32 bytes as the plain loop (src/nn/activations.ts) ----
// The plain loop rounds y = (max(t, 0) + log1p(exp(−|t|))) / β, t = βz, to f32
// from doubles made by the runtime's exp and log1p (each within 1 ulp). Here
// the same double is approximated to a relative error below 3.1e-11 (bounds
// at each function), and a unit's f32 is taken only when the whole interval
// ŷ·(1 ± 2⁻³³) rounds to one f32: then the runtime's double, which lies in
// it, rounds to that f32 too (rounding is monotone). The rest (about 0.3% of
// units, those within 2⁻³³ of an f32 rounding boundary, |t| > 700, NaN, and
// the last n mod 4) are listed for the caller to compute with the plain loop.

const SP_E: f64 = 1.1641532182693481e-10; // 2⁻³³

/**
 * exp(−a) for 0 ≤ a ≤ 700, two f64 lanes: a = k ln2 − x with k = nearest(a/ln2),
 * |x| ≤ ln2/2 + 1.2e-16 (ln2 split so that k·ln2hi is exact), exp(x) by its
 * Taylor polynomial to x⁹ (truncation ≤ |x|¹⁰/10! · e^{2|x|} < 1.4e-11
 * relative), 2⁻ᵏ from the exponent bits (a normal double for k ≤ 1010).
 */
@inline function vexpNeg64(a: v128): v128 {
  const k = f64x2.nearest(f64x2.mul(a, f64x2.splat(1.4426950408889634)));
  const x = f64x2.add(f64x2.sub(f64x2.mul(k, f64x2.splat(6.93147180369123816490e-01)), a), f64x2.mul(k, f64x2.splat(1.90821492927058770002e-10)));
  // Estrin's scheme (pairs, then x², x⁴, x⁸): a third of Horner's dependent chain; the rounding stays near 1e-15.
  const x2 = f64x2.mul(x, x), x4 = f64x2.mul(x2, x2), x8 = f64x2.mul(x4, x4);
  const p01 = f64x2.add(f64x2.splat(1), x), p23 = f64x2.add(f64x2.splat(0.5), f64x2.mul(x, f64x2.splat(1.0 / 6)));
  const p45 = f64x2.add(f64x2.splat(1.0 / 24), f64x2.mul(x, f64x2.splat(1.0 / 120)));
  const p67 = f64x2.add(f64x2.splat(1.0 / 720), f64x2.mul(x, f64x2.splat(1.0 / 5040)));
  const p89 = f64x2.add(f64x2.splat(1.0 / 40320), f64x2.mul(x, f64x2.splat(1.0 / 362880)));
  const p03 = f64x2.add(p01, f64x2.mul(x2, p23)), p47 = f64x2.add(p45, f64x2.mul(x2, p67));
  const p = f64x2.add(f64x2.add(p03, f64x2.mul(x4, p47)), f64x2.mul(x8, p89));
  const e = i64x2.shl(i64x2.sub(i64x2.splat(1023), i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k))), 52);
  return f64x2.mul(p, e);
}

/**
 * log1p(q) for 0 < q ≤ 1, two f64 lanes: 2 atanh(s) with s = q / (2 + q) ≤ 1/3,
 * the odd series to s¹⁹ (truncation ≤ s²⁰/(21(1 − s²)) < 1.6e-11 relative;
 * log1p's condition number is below 1 here, so exp's error passes through
 * no larger). Estrin's scheme in w = s².
 */
@inline function vlog1p64(q: v128): v128 {
  const s = f64x2.div(q, f64x2.add(q, f64x2.splat(2)));
  const w = f64x2.mul(s, s), w2 = f64x2.mul(w, w), w4 = f64x2.mul(w2, w2), w8 = f64x2.mul(w4, w4);
  const p01 = f64x2.add(f64x2.splat(1), f64x2.mul(w, f64x2.splat(1.0 / 3)));
  const p23 = f64x2.add(f64x2.splat(1.0 / 5), f64x2.mul(w, f64x2.splat(1.0 / 7)));
  const p45 = f64x2.add(f64x2.splat(1.0 / 9), f64x2.mul(w, f64x2.splat(1.0 / 11)));
  const p67 = f64x2.add(f64x2.splat(1.0 / 13), f64x2.mul(w, f64x2.splat(1.0 / 15)));
  const p89 = f64x2.add(f64x2.splat(1.0 / 17), f64x2.mul(w, f64x2.splat(1.0 / 19)));
  const p03 = f64x2.add(p01, f64x2.mul(w2, p23)), p47 = f64x2.add(p45, f64x2.mul(w2, p67));
  const p = f64x2.add(f64x2.add(p03, f64x2.mul(w4, p47)), f64x2.mul(w8, p89));
  return f64x2.mul(f64x2.add(s, s), p);
}

/** ŷ for two lanes of t = βz: (max(t, 0) + log1p(exp(−|t|))) / β (lanes outside the range are flagged by the caller). */
@inline function softplusHalf(t: v128, rb: v128): v128 {
  const a = f64x2.min(f64x2.abs(t), f64x2.splat(700));
  return f64x2.mul(f64x2.add(f64x2.max(t, f64x2.splat(0)), vlog1p64(vexpNeg64(a))), rb);
}

/** Lanes of two f64x2 where ŷ is in range (|t| ≤ 700, ŷ a normal double) and ŷ·(1 ± 2⁻³³) round to one f32: an i32x4 mask. */
@inline function softplusOk(t: v128, yh: v128): v128 {
  const rng = v128.and(f64x2.le(f64x2.abs(t), f64x2.splat(700)), f64x2.ge(yh, f64x2.splat(1e-300)));
  const lo = v128.demote_zero<f64>(f64x2.mul(yh, f64x2.splat(1 - SP_E)));
  const hi = v128.demote_zero<f64>(f64x2.mul(yh, f64x2.splat(1 + SP_E)));
  // 64-bit range lanes to 32 (their low halves), beside the two f32 comparisons.
  return v128.and(i32x4.eq(lo, hi), i8x16.shuffle(rng, rng, 0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11));
}

/**
 * y(n) = softplus_β(z) in f32 as the plain loop makes it, for the units it
 * can vouch for; returns how many it could not, their indices written to
 * bad (i32), for the caller to compute with the plain loop.
 */
export function softplusF(y: usize, z: usize, n: i32, beta: f64, bad: usize): i32 {
  // × (1/β) for ÷ β: one more rounding (2⁻⁵³), well inside the margin.
  const n4 = n & ~3, b = f64x2.splat(beta), rb = f64x2.splat(1 / beta);
  let c = 0;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2, zv = v128.load(z + o);
    const zh = i8x16.shuffle(zv, zv, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    const z0: v128 = v128.promote_low<f32>(zv), z1: v128 = v128.promote_low<f32>(zh);
    const t0 = f64x2.mul(b, z0), t1 = f64x2.mul(b, z1);
    const y0 = softplusHalf(t0, rb), y1 = softplusHalf(t1, rb);
    const r0 = v128.demote_zero<f64>(y0), r1 = v128.demote_zero<f64>(y1);
    v128.store(y + o, i8x16.shuffle(r0, r1, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
    const k0 = softplusOk(t0, y0), k1 = softplusOk(t1, y1);
    const ok = i8x16.shuffle(k0, k1, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    if (!i32x4.all_true(ok)) {
      const mask = i32x4.bitmask(ok);
      for (let q = 0; q < 4; q++) if (((mask >> q) & 1) == 0) { store<i32>(bad + (<usize>c << 2), i + q); c++; }
    }
  }
  for (let i = n4; i < n; i++) { store<i32>(bad + (<usize>c << 2), i); c++; }
  return c;
}

/**
 * The backward pass and the update of one layer in a single sweep of its
 * rows: g(m) = Wᵀe (when g ≠ 0; the old W, read before the row is written),
 * then Wout += Σ_k s_k u_k v_kᵀ (Wout = W online, the mini-batch accumulator
 * otherwise). desc: K records of (f32 s, u32 u, u32 v), K ≤ 3.
 */
export function backUpdate(g: usize, W: usize, Wout: usize, e: usize, n: i32, m: i32, K: i32, desc: usize, d: usize, bte: usize): void {
  backUpdateSweep(g, W, Wout, e, n, m, K, desc);
  // eₗ₋₁ = (Wₗᵀeₗ) ⊙ σ'(zₗ₋₁), keeping Wₗᵀeₗ in bte (the meta-gradient's tangent reads it).
  if (g != 0 && d != 0) {
    const m4 = m & ~3;
    for (let j = 0; j < m4; j += 4) {
      const o = <usize>j << 2, t = v128.load(g + o);
      v128.store(bte + o, t);
      v128.store(g + o, f32x4.mul(t, v128.load(d + o)));
    }
    for (let j = m4; j < m; j++) {
      const o = <usize>j << 2, t = load<f32>(g + o);
      store<f32>(bte + o, t);
      store<f32>(g + o, t * load<f32>(d + o));
    }
  }
}

/** out(m) = a − b (Oja's pre factor yₗ₋₁ − uₗ). */
export function sub(out: usize, a: usize, b: usize, m: i32): void {
  const m4 = m & ~3;
  for (let j = 0; j < m4; j += 4) { const o = <usize>j << 2; v128.store(out + o, f32x4.sub(v128.load(a + o), v128.load(b + o))); }
  for (let j = m4; j < m; j++) { const o = <usize>j << 2; store<f32>(out + o, load<f32>(a + o) - load<f32>(b + o)); }
}

@inline function backUpdateSweep(g: usize, W: usize, Wout: usize, e: usize, n: i32, m: i32, K: i32, desc: usize): void {
  if (g != 0) memory.fill(g, 0, <usize>m << 2);
  // One specialised sweep per (K, g, in place) so the inner loops carry no dead work.
  const inPlace = W == Wout;
  if (g != 0) {
    if (inPlace) {
      if (K == 0) sweep(g, W, Wout, e, n, m, desc, 0, true, true);
      else if (K == 1) sweep(g, W, Wout, e, n, m, desc, 1, true, true);
      else if (K == 2) sweep(g, W, Wout, e, n, m, desc, 2, true, true);
      else sweep(g, W, Wout, e, n, m, desc, 3, true, true);
    } else {
      if (K == 0) sweep(g, W, Wout, e, n, m, desc, 0, true, false);
      else if (K == 1) sweep(g, W, Wout, e, n, m, desc, 1, true, false);
      else if (K == 2) sweep(g, W, Wout, e, n, m, desc, 2, true, false);
      else sweep(g, W, Wout, e, n, m, desc, 3, true, false);
    }
  } else if (inPlace) {
    if (K == 1) sweep(0, W, Wout, e, n, m, desc, 1, false, true);
    else if (K == 2) sweep(0, W, Wout, e, n, m, desc, 2, false, true);
    else if (K == 3) sweep(0, W, Wout, e, n, m, desc, 3, false, true);
  } else {
    if (K == 1) sweep(0, W, Wout, e, n, m, desc, 1, false, false);
    else if (K == 2) sweep(0, W, Wout, e, n, m, desc, 2, false, false);
    else if (K == 3) sweep(0, W, Wout, e, n, m, desc, 3, false, false);
  }
}

/** Four columns of two rows of the sweep below: g += Wᵀe over them and the rows' update. */
@inline function sweepCol(p0: usize, p1: usize, o0: usize, o1: usize, gp: usize, pa: usize, pb: usize, pc: usize,
  ce0: v128, ce1: v128, q00: v128, q01: v128, q10: v128, q11: v128, q20: v128, q21: v128, K: i32, G: bool, inPlace: bool): void {
  const a0 = G || inPlace ? v128.load(p0) : f32x4.splat(0), a1 = G || inPlace ? v128.load(p1) : f32x4.splat(0);
  if (G) v128.store(gp, f32x4.add(v128.load(gp), f32x4.add(f32x4.mul(ce0, a0), f32x4.mul(ce1, a1))));
  if (K > 0) {
    const p = v128.load(pa);
    let t0 = f32x4.mul(q00, p), t1 = f32x4.mul(q01, p);
    if (K > 1) { const q = v128.load(pb); t0 = f32x4.add(t0, f32x4.mul(q10, q)); t1 = f32x4.add(t1, f32x4.mul(q11, q)); }
    if (K > 2) { const q = v128.load(pc); t0 = f32x4.add(t0, f32x4.mul(q20, q)); t1 = f32x4.add(t1, f32x4.mul(q21, q)); }
    v128.store(o0, f32x4.add(inPlace ? a0 : v128.load(o0), t0));
    v128.store(o1, f32x4.add(inPlace ? a1 : v128.load(o1), t1));
  }
}

@inline function sweep(g: usize, W: usize, Wout: usize, e: usize, n: i32, m: i32, desc: usize, K: i32, G: bool, inPlace: bool): void {
  const m4 = m & ~3;
  const stride = <usize>m << 2;
  const s0 = K > 0 ? load<f32>(desc) : <f32>0, u0 = K > 0 ? <usize>load<u32>(desc + 4) : e, v0 = K > 0 ? <usize>load<u32>(desc + 8) : e;
  const s1 = K > 1 ? load<f32>(desc + 12) : <f32>0, u1 = K > 1 ? <usize>load<u32>(desc + 16) : u0, v1 = K > 1 ? <usize>load<u32>(desc + 20) : v0;
  const s2 = K > 2 ? load<f32>(desc + 24) : <f32>0, u2 = K > 2 ? <usize>load<u32>(desc + 28) : u0, v2 = K > 2 ? <usize>load<u32>(desc + 32) : v0;
  let i = 0;
  // Two rows per sweep of g and of the v_k.
  for (; i + 2 <= n; i += 2) {
    const r0 = W + <usize>i * stride, r1 = r0 + stride, w0 = Wout + <usize>i * stride, w1 = w0 + stride;
    const io = <usize>i << 2;
    const e0 = G ? load<f32>(e + io) : <f32>0, e1 = G ? load<f32>(e + io + 4) : <f32>0;
    const ce0 = f32x4.splat(e0), ce1 = f32x4.splat(e1);
    const c00 = s0 * load<f32>(u0 + io), c10 = s1 * load<f32>(u1 + io), c20 = s2 * load<f32>(u2 + io);
    const c01 = s0 * load<f32>(u0 + io + 4), c11 = s1 * load<f32>(u1 + io + 4), c21 = s2 * load<f32>(u2 + io + 4);
    const q00 = f32x4.splat(c00), q10 = f32x4.splat(c10), q20 = f32x4.splat(c20);
    const q01 = f32x4.splat(c01), q11 = f32x4.splat(c11), q21 = f32x4.splat(c21);
    for (let j = 0; j < m4; j += 4) {
      const o = <usize>j << 2;
      sweepCol(r0 + o, r1 + o, w0 + o, w1 + o, g + o, v0 + o, v1 + o, v2 + o, ce0, ce1, q00, q01, q10, q11, q20, q21, K, G, inPlace);
    }
    for (let j = m4; j < m; j++) {
      const o = <usize>j << 2;
      const a0 = load<f32>(r0 + o), a1 = load<f32>(r1 + o);
      if (G) store<f32>(g + o, load<f32>(g + o) + e0 * a0 + e1 * a1);
      if (K > 0) {
        const p = load<f32>(v0 + o), q = load<f32>(v1 + o), t = load<f32>(v2 + o);
        store<f32>(w0 + o, (inPlace ? a0 : load<f32>(w0 + o)) + c00 * p + c10 * q + c20 * t);
        store<f32>(w1 + o, (inPlace ? a1 : load<f32>(w1 + o)) + c01 * p + c11 * q + c21 * t);
      }
    }
  }
  for (; i < n; i++) {
    const r0 = W + <usize>i * stride, w0 = Wout + <usize>i * stride;
    const io = <usize>i << 2;
    const e0 = G ? load<f32>(e + io) : <f32>0;
    const c0 = s0 * load<f32>(u0 + io), c1 = s1 * load<f32>(u1 + io), c2 = s2 * load<f32>(u2 + io);
    for (let j = 0; j < m; j++) {
      const o = <usize>j << 2;
      const a0 = load<f32>(r0 + o);
      if (G) store<f32>(g + o, load<f32>(g + o) + e0 * a0);
      if (K > 0) store<f32>(w0 + o, (inPlace ? a0 : load<f32>(w0 + o)) + c0 * load<f32>(v0 + o) + c1 * load<f32>(v1 + o) + c2 * load<f32>(v2 + o));
    }
  }
}

/** First free byte after the module's static data (Mathf's tables live below it). */
export function heapBase(): usize {
  return __heap_base;
}

// ---- The first layer, stored transposed (src/learn/input-layer.ts) ----
// W₁ᵀ is kept as m rows (one per input pixel) of `stride` ≥ n floats, so that
// (a) the forward pass z₁ = W₁x only reads the rows of the nonzero pixels
// (about a fifth of an MNIST image), and (b) every piece of the update that
// needs uⱼ = (W₁ᵀy₁)ⱼ — Oja's decay and its tangent — is local to row j, so
// the layer's update is one sweep of its rows (each row read for its dot
// products, then updated while it is in L1).

// For each 4-bit mask of nonzero lanes, those lanes in order (padded with 0): nonzeros' compaction table.
const NZ_LANES = memory.data<i32>([
  0, 0, 0, 0,
  0, 0, 0, 0,
  1, 0, 0, 0,
  0, 1, 0, 0,
  2, 0, 0, 0,
  0, 2, 0, 0,
  1, 2, 0, 0,
  0, 1, 2, 0,
  3, 0, 0, 0,
  0, 3, 0, 0,
  1, 3, 0, 0,
  0, 1, 3, 0,
  2, 3, 0, 0,
  0, 2, 3, 0,
  1, 2, 3, 0,
  0, 1, 2, 3,
], 16);

/**
 * Writes the indices j with x_j ≠ 0 to idx (i32, ascending) and returns
 * their number. Branch-free, four at a time: the group's mask of nonzero
 * lanes picks its lanes from a table, all four slots are stored at idx[c]
 * and c advances by the mask's popcount (slots past the count are
 * scratch, overwritten by the next group; c ≤ j, so they stay below m).
 */
export function nonzeros(idx: usize, x: usize, m: i32): i32 {
  let c = 0, j = 0;
  const zero = f32x4.splat(0);
  for (; j + 4 <= m; j += 4) {
    // f32x4.ne: −0 counts as zero, as the scalar test does.
    const mask = i32x4.bitmask(f32x4.ne(v128.load(x + (<usize>j << 2)), zero));
    v128.store(idx + (<usize>c << 2), i32x4.add(v128.load(NZ_LANES + (<usize>mask << 4)), i32x4.splat(j)));
    c += popcnt<i32>(mask);
  }
  for (; j < m; j++) {
    if (load<f32>(x + (<usize>j << 2)) != 0) { store<i32>(idx + (<usize>c << 2), j); c++; }
  }
  return c;
}

/** out(n) = Σ_t x[idx_t] · WT[idx_t, :] (+ b when b ≠ 0): z = W x over the nonzero inputs only. */
export function matVecT(out: usize, WT: usize, stride: i32, x: usize, idx: usize, cnt: i32, n: i32, b: usize): void {
  if (b != 0) memory.copy(out, b, <usize>n << 2);
  else memory.fill(out, 0, <usize>n << 2);
  const sb = <usize>stride << 2;
  let t = 0;
  // Four input rows per sweep of out.
  for (; t + 4 <= cnt; t += 4) {
    const to = idx + (<usize>t << 2);
    const j0 = load<i32>(to), j1 = load<i32>(to + 4), j2 = load<i32>(to + 8), j3 = load<i32>(to + 12);
    accRows4(out, WT + <usize>j0 * sb, WT + <usize>j1 * sb, WT + <usize>j2 * sb, WT + <usize>j3 * sb,
      load<f32>(x + (<usize>j0 << 2)), load<f32>(x + (<usize>j1 << 2)), load<f32>(x + (<usize>j2 << 2)), load<f32>(x + (<usize>j3 << 2)), n);
  }
  for (; t < cnt; t++) {
    const j0 = load<i32>(idx + (<usize>t << 2));
    accRow1(out, WT + <usize>j0 * sb, load<f32>(x + (<usize>j0 << 2)), n);
  }
}

@inline function dot(a: usize, b: usize, n: i32): f32 {
  // Two accumulators: one would chain every add on the last (latency-bound).
  const n8 = n & ~7, n4 = n & ~3;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let i = 0;
  for (; i < n8; i += 8) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(a + o + 16), v128.load(b + o + 16)));
  }
  if (i < n4) { const o = <usize>i << 2; a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), v128.load(b + o))); }
  let s = hsum(f32x4.add(a0, a1));
  for (let i = n4; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/** a·b + c·d over n floats. */
@inline function dot2(a: usize, b: usize, c: usize, d: usize, n: i32): f32 {
  const n8 = n & ~7, n4 = n & ~3;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let i = 0;
  for (; i < n8; i += 8) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.add(f32x4.mul(v128.load(a + o), v128.load(b + o)), f32x4.mul(v128.load(c + o), v128.load(d + o))));
    a1 = f32x4.add(a1, f32x4.add(f32x4.mul(v128.load(a + o + 16), v128.load(b + o + 16)), f32x4.mul(v128.load(c + o + 16), v128.load(d + o + 16))));
  }
  if (i < n4) { const o = <usize>i << 2; a0 = f32x4.add(a0,
    f32x4.add(f32x4.mul(v128.load(a + o), v128.load(b + o)), f32x4.mul(v128.load(c + o), v128.load(d + o)))); }
  let s = hsum(f32x4.add(a0, a1));
  for (let i = n4; i < n; i++) { const o = <usize>i << 2; s += load<f32>(a + o) * load<f32>(b + o) + load<f32>(c + o) * load<f32>(d + o); }
  return s;
}

/**
 * r(n) += c0 v0 [+ c1 v1 [+ c2 v2]] (K terms). Pointer-stepped and unrolled
 * to 8 floats per iteration with immediate offsets: with short rows (n = 170)
 * the address arithmetic of an indexed loop costs as much as the maths.
 */
@inline function axpy(r: usize, n: i32, K: i32, c0: f32, v0: usize, c1: f32, v1: usize, c2: f32, v2: usize): void {
  const q0 = f32x4.splat(c0), q1 = f32x4.splat(c1), q2 = f32x4.splat(c2);
  const end8 = r + (<usize>(n & ~7) << 2);
  let p = r, a = v0, b = v1, c = v2;
  while (p < end8) {
    let t = f32x4.mul(q0, v128.load(a)), t2 = f32x4.mul(q0, v128.load(a, 16));
    if (K > 1) { t = f32x4.add(t, f32x4.mul(q1, v128.load(b))); t2 = f32x4.add(t2, f32x4.mul(q1, v128.load(b, 16))); }
    if (K > 2) { t = f32x4.add(t, f32x4.mul(q2, v128.load(c))); t2 = f32x4.add(t2, f32x4.mul(q2, v128.load(c, 16))); }
    v128.store(p, f32x4.add(v128.load(p), t));
    v128.store(p, f32x4.add(v128.load(p, 16), t2), 16);
    p += 32; a += 32; b += 32; c += 32;
  }
  if (n & 4) {
    let t = f32x4.mul(q0, v128.load(a));
    if (K > 1) t = f32x4.add(t, f32x4.mul(q1, v128.load(b)));
    if (K > 2) t = f32x4.add(t, f32x4.mul(q2, v128.load(c)));
    v128.store(p, f32x4.add(v128.load(p), t));
    p += 16; a += 16; b += 16; c += 16;
  }
  const end = r + (<usize>n << 2);
  while (p < end) {
    let t = c0 * load<f32>(a);
    if (K > 1) t += c1 * load<f32>(b);
    if (K > 2) t += c2 * load<f32>(c);
    store<f32>(p, load<f32>(p) + t);
    p += 4; a += 4; b += 4; c += 4;
  }
}

// Four dot products of rows r0…r3 with v (shared loads of v, four independent chains); results to SCR[0…3].
const SCR = memory.data(128, 16);

@inline function dot4(r0: usize, r1: usize, r2: usize, r3: usize, v: usize, n: i32, so: usize = 0): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const end4 = v + (<usize>(n & ~3) << 2);
  let p = v, o0 = r0, o1 = r1, o2 = r2, o3 = r3;
  while (p < end4) {
    const w = v128.load(p);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(o0), w));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(o1), w));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(o2), w));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(o3), w));
    p += 16; o0 += 16; o1 += 16; o2 += 16; o3 += 16;
  }
  let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
  const end = v + (<usize>n << 2);
  while (p < end) {
    const w = load<f32>(p);
    s0 += load<f32>(o0) * w; s1 += load<f32>(o1) * w; s2 += load<f32>(o2) * w; s3 += load<f32>(o3) * w;
    p += 4; o0 += 4; o1 += 4; o2 += 4; o3 += 4;
  }
  store<f32>(SCR + so, s0); store<f32>(SCR + so + 4, s1); store<f32>(SCR + so + 8, s2); store<f32>(SCR + so + 12, s3);
}

/**
 * dot4's four sums as one vector [s0, s1, s2, s3], the same floats: the
 * lane accumulators are transposed so that lane r of ((t0 + t1) + t2) + t3
 * is hsum(a_r) in hsum's order, and the tail adds r_r[k]·v[k] lane-wise in
 * order of k, as dot4's scalar tail does (rows r + q·sb).
 */
@inline function dot4v(r: usize, sb: usize, v: usize, n: i32): v128 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const end4 = v + (<usize>(n & ~3) << 2);
  const s2 = sb << 1, s3 = s2 + sb;
  let p = v, o = r;
  while (p < end4) {
    const w = v128.load(p);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(o), w));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(o + sb), w));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(o + s2), w));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(o + s3), w));
    p += 16; o += 16;
  }
  const b0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), b1 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
  const b2 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), b3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
  // t_l = [a0.l, a1.l, a2.l, a3.l]
  const t0 = v128.shuffle<f32>(b0, b2, 0, 1, 4, 5), t1 = v128.shuffle<f32>(b0, b2, 2, 3, 6, 7);
  const t2 = v128.shuffle<f32>(b1, b3, 0, 1, 4, 5), t3 = v128.shuffle<f32>(b1, b3, 2, 3, 6, 7);
  let sv = f32x4.add(f32x4.add(f32x4.add(t0, t1), t2), t3);
  const end = v + (<usize>n << 2);
  while (p < end) {
    let col = f32x4.splat(load<f32>(o));
    col = f32x4.replace_lane(col, 1, load<f32>(o + sb));
    col = f32x4.replace_lane(col, 2, load<f32>(o + s2));
    col = f32x4.replace_lane(col, 3, load<f32>(o + s3));
    sv = f32x4.add(sv, f32x4.mul(col, f32x4.splat(load<f32>(p))));
    p += 4; o += 4;
  }
  return sv;
}

/** SCR[r] = a_r·v + b_r·w for four row pairs (a_r = a0 + r·sb, b_r = b0 + r·sb). */
@inline function dot2x4(a0p: usize, b0p: usize, sb: usize, v: usize, w: usize, n: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const end4 = v + (<usize>(n & ~3) << 2);
  let p = v, q = w, a = a0p, b = b0p;
  const s2 = sb << 1, s3 = s2 + sb;
  while (p < end4) {
    const vv = v128.load(p), ww = v128.load(q);
    c0 = f32x4.add(c0, f32x4.add(f32x4.mul(v128.load(a), vv), f32x4.mul(v128.load(b), ww)));
    c1 = f32x4.add(c1, f32x4.add(f32x4.mul(v128.load(a + sb), vv), f32x4.mul(v128.load(b + sb), ww)));
    c2 = f32x4.add(c2, f32x4.add(f32x4.mul(v128.load(a + s2), vv), f32x4.mul(v128.load(b + s2), ww)));
    c3 = f32x4.add(c3, f32x4.add(f32x4.mul(v128.load(a + s3), vv), f32x4.mul(v128.load(b + s3), ww)));
    p += 16; q += 16; a += 16; b += 16;
  }
  let t0 = hsum(c0), t1 = hsum(c1), t2 = hsum(c2), t3 = hsum(c3);
  const end = v + (<usize>n << 2);
  while (p < end) {
    const vs = load<f32>(p), ws = load<f32>(q);
    t0 += load<f32>(a) * vs + load<f32>(b) * ws;
    t1 += load<f32>(a + sb) * vs + load<f32>(b + sb) * ws;
    t2 += load<f32>(a + s2) * vs + load<f32>(b + s2) * ws;
    t3 += load<f32>(a + s3) * vs + load<f32>(b + s3) * ws;
    p += 4; q += 4; a += 4; b += 4;
  }
  store<f32>(SCR + 16, t0); store<f32>(SCR + 20, t1); store<f32>(SCR + 24, t2); store<f32>(SCR + 28, t3);
}

/**
 * Four rows (r, r + sb, r + 2sb, r + 3sb) += a_q·A [+ b_q·B] (K = 1 or 2), the
 * coefficients at SCR + ca and SCR + cb: each load of A and B serves four rows.
 */
@inline function upd4(r: usize, sb: usize, n: i32, K: i32, A: usize, B: usize, ca: usize, cb: usize): void {
  const a0 = f32x4.splat(load<f32>(SCR + ca)), a1 = f32x4.splat(load<f32>(SCR + ca + 4)), a2 = f32x4.splat(load<f32>(SCR + ca + 8)),
    a3 = f32x4.splat(load<f32>(SCR + ca + 12));
  const b0 = f32x4.splat(K > 1 ? load<f32>(SCR + cb) : 0), b1 = f32x4.splat(K > 1 ? load<f32>(SCR + cb + 4) : 0),
    b2 = f32x4.splat(K > 1 ? load<f32>(SCR + cb + 8) : 0), b3 = f32x4.splat(K > 1 ? load<f32>(SCR + cb + 12) : 0);
  const s2 = sb << 1, s3 = s2 + sb;
  let p = r, pa = A, pb = B;
  // Eight columns per iteration, the second four by immediate offsets (measured ~15% faster than four).
  const end8 = A + (<usize>(n & ~7) << 2);
  while (pa < end8) {
    const p1 = p + sb, p2 = p + s2, p3 = p + s3;
    const va = v128.load(pa), va2 = v128.load(pa, 16);
    if (K > 1) {
      const vb = v128.load(pb), vb2 = v128.load(pb, 16);
      v128.store(p, f32x4.add(v128.load(p), f32x4.add(f32x4.mul(a0, va), f32x4.mul(b0, vb))));
      v128.store(p1, f32x4.add(v128.load(p1), f32x4.add(f32x4.mul(a1, va), f32x4.mul(b1, vb))));
      v128.store(p2, f32x4.add(v128.load(p2), f32x4.add(f32x4.mul(a2, va), f32x4.mul(b2, vb))));
      v128.store(p3, f32x4.add(v128.load(p3), f32x4.add(f32x4.mul(a3, va), f32x4.mul(b3, vb))));
      v128.store(p, f32x4.add(v128.load(p, 16), f32x4.add(f32x4.mul(a0, va2), f32x4.mul(b0, vb2))), 16);
      v128.store(p1, f32x4.add(v128.load(p1, 16), f32x4.add(f32x4.mul(a1, va2), f32x4.mul(b1, vb2))), 16);
      v128.store(p2, f32x4.add(v128.load(p2, 16), f32x4.add(f32x4.mul(a2, va2), f32x4.mul(b2, vb2))), 16);
      v128.store(p3, f32x4.add(v128.load(p3, 16), f32x4.add(f32x4.mul(a3, va2), f32x4.mul(b3, vb2))), 16);
    } else {
      v128.store(p, f32x4.add(v128.load(p), f32x4.mul(a0, va)));
      v128.store(p1, f32x4.add(v128.load(p1), f32x4.mul(a1, va)));
      v128.store(p2, f32x4.add(v128.load(p2), f32x4.mul(a2, va)));
      v128.store(p3, f32x4.add(v128.load(p3), f32x4.mul(a3, va)));
      v128.store(p, f32x4.add(v128.load(p, 16), f32x4.mul(a0, va2)), 16);
      v128.store(p1, f32x4.add(v128.load(p1, 16), f32x4.mul(a1, va2)), 16);
      v128.store(p2, f32x4.add(v128.load(p2, 16), f32x4.mul(a2, va2)), 16);
      v128.store(p3, f32x4.add(v128.load(p3, 16), f32x4.mul(a3, va2)), 16);
    }
    p += 32; pa += 32; pb += 32;
  }
  if (n & 4) {
    const p1 = p + sb, p2 = p + s2, p3 = p + s3;
    const va = v128.load(pa), vb = K > 1 ? v128.load(pb) : f32x4.splat(0);
    v128.store(p, f32x4.add(v128.load(p), f32x4.add(f32x4.mul(a0, va), f32x4.mul(b0, vb))));
    v128.store(p1, f32x4.add(v128.load(p1), f32x4.add(f32x4.mul(a1, va), f32x4.mul(b1, vb))));
    v128.store(p2, f32x4.add(v128.load(p2), f32x4.add(f32x4.mul(a2, va), f32x4.mul(b2, vb))));
    v128.store(p3, f32x4.add(v128.load(p3), f32x4.add(f32x4.mul(a3, va), f32x4.mul(b3, vb))));
    p += 16; pa += 16; pb += 16;
  }
  const endS = A + (<usize>n << 2);
  const s0 = load<f32>(SCR + ca), s1 = load<f32>(SCR + ca + 4), t2s = load<f32>(SCR + ca + 8), s3s = load<f32>(SCR + ca + 12);
  const t0: f32 = K > 1 ? load<f32>(SCR + cb) : 0, t1: f32 = K > 1 ? load<f32>(SCR + cb + 4) : 0, u2: f32 = K > 1 ? load<f32>(SCR + cb + 8) : 0,
    u3: f32 = K > 1 ? load<f32>(SCR + cb + 12) : 0;
  while (pa < endS) {
    const va = load<f32>(pa), vb: f32 = K > 1 ? load<f32>(pb) : 0;
    store<f32>(p, load<f32>(p) + (s0 * va + t0 * vb));
    store<f32>(p + sb, load<f32>(p + sb) + (s1 * va + t1 * vb));
    store<f32>(p + s2, load<f32>(p + s2) + (t2s * va + u2 * vb));
    store<f32>(p + s3, load<f32>(p + s3) + (s3s * va + u3 * vb));
    p += 4; pa += 4; pb += 4;
  }
}

/** Row r += a·A + b·B, dropping a term whose vector is absent or whose coefficient is an exact 0 (most pixels). */
@inline function rowUpdate2(r: usize, n: i32, a: f32, A: usize, b: f32, B: usize): void {
  if (A != 0 && a != 0) {
    if (B != 0) axpy(r, n, 2, a, A, b, B, 0, A);
    else axpy(r, n, 1, a, A, 0, A, 0, A);
  } else if (B != 0) axpy(r, n, 1, b, B, 0, B, 0, B);
}

/** Row r += a·A + b·B + c·C (tangent update), with the same dropping. */
@inline function rowUpdate3(r: usize, n: i32, a: f32, A: usize, b: f32, B: usize, c: f32, C: usize): void {
  if (C == 0) { rowUpdate2(r, n, a, A, b, B); return; }
  if (A != 0 && a != 0) {
    if (B != 0) axpy(r, n, 3, a, A, b, B, c, C);
    else axpy(r, n, 2, a, A, c, C, 0, A);
  } else if (B != 0) axpy(r, n, 2, b, B, c, C, 0, B);
  else axpy(r, n, 1, c, C, 0, C, 0, C);
}

/**
 * The first layer's update (and its tangents') in one sweep of its rows.
 * With uⱼ = WTⱼ·y (written to u when B ≠ 0), every rank-1 term of the rule
 * at layer 1 has pre factor xⱼ (bp, hebb: summed into A) or xⱼ − uⱼ (Oja:
 * summed into B), so row j gets WTⱼ += xⱼ A + (xⱼ − uⱼ) B, after the P
 * tangents, which read the old row: for tangent k (records of 6 u32 at tdesc:
 * dWT, dy, A', B', C', du), duⱼ = dWTⱼ·y + WTⱼ·dy and
 * dWTⱼ += xⱼ A' + (xⱼ − uⱼ) B' − duⱼ C' (a zero pointer drops a vector; C' ≠ 0
 * needs B ≠ 0). With B = 0 and P = 0, only the rows of the nonzero inputs
 * (idx, cnt) change. Rows go four at a time so the dot products share loads
 * and run as independent chains.
 */
export function inputSweep(WT: usize, stride: i32, m: i32, n: i32, x: usize, y: usize, A: usize, B: usize, u: usize, idx: usize, cnt: i32, P: i32,
  tdesc: usize): void {
  const sb = <usize>stride << 2;
  if (B == 0 && P == 0) {
    if (A == 0) return;
    for (let t = 0; t < cnt; t++) {
      const j = load<i32>(idx + (<usize>t << 2));
      axpy(WT + <usize>j * sb, n, 1, load<f32>(x + (<usize>j << 2)), A, 0, A, 0, A);
    }
    return;
  }
  let j = 0;
  if (P == 0 && B != 0) {
    // The online step (no tangents, Oja's term present), four rows at a time: the block's uⱼ and
    // xⱼ − uⱼ as vectors, the same floats as the general loop below, which takes the last m mod 4 rows.
    const zero = f32x4.splat(0);
    for (; j + 4 <= m; j += 4) {
      const row = WT + <usize>j * sb, jo = <usize>j << 2;
      const uv = dot4v(row, sb, y, n);
      v128.store(u + jo, uv);
      const xv = v128.load(x + jo);
      v128.store(SCR + 32, f32x4.sub(xv, uv));
      if (A == 0 || !v128.any_true(f32x4.ne(xv, zero))) { upd4(row, sb, n, 1, B, B, 32, 32); continue; }
      for (let q = 0; q < 4; q++) {
        const qo = <usize>q << 2;
        rowUpdate2(row + <usize>q * sb, n, load<f32>(x + jo + qo), A, load<f32>(SCR + 32 + qo), B);
      }
    }
  }
  for (; j < m; j += 4) {
    const R = m - j < 4 ? m - j : 4;
    const row = WT + <usize>j * sb;
    // Rows past the end (R < 4) repeat the last row for the dot products; their results are unused.
    const r1 = R > 1 ? row + sb : row, r2 = R > 2 ? row + 2 * sb : row, r3 = R > 3 ? row + 3 * sb : row;
    if (B != 0) dot4(row, r1, r2, r3, y, n);
    else memory.fill(SCR, 0, 16);
    for (let q = 0; q < R; q++) if (B != 0) store<f32>(u + (<usize>(j + q) << 2), load<f32>(SCR + (<usize>q << 2)));
    let blank = true;
    for (let q = 0; q < R; q++) if (load<f32>(x + (<usize>(j + q) << 2)) != 0) blank = false;
    for (let k = 0; k < P; k++) {
      const d = tdesc + <usize>k * 24;
      const dWT = <usize>load<u32>(d), dy = <usize>load<u32>(d + 4), Ak = <usize>load<u32>(d + 8), Bk = <usize>load<u32>(d + 12),
        Ck = <usize>load<u32>(d + 16), duk = <usize>load<u32>(d + 20);
      const r = dWT + <usize>j * sb;
      if (Ck != 0) {
        if (R == 4) dot2x4(r, row, sb, y, dy, n);
        else for (let q = 0; q < R; q++) store<f32>(SCR + 16 + (<usize>q << 2), dot2(r + <usize>q * sb, y, row + <usize>q * sb, dy, n));
      }
      // Four blank pixels (most blocks): (x − u) B' − du C' on all four rows at once.
      if (R == 4 && Bk != 0 && Ck != 0 && (Ak == 0 || blank)) {
        for (let q = 0; q < 4; q++) {
          const qo = <usize>q << 2, du = load<f32>(SCR + 16 + qo);
          store<f32>(SCR + 32 + qo, load<f32>(x + (<usize>(j + q) << 2)) - load<f32>(SCR + qo));
          store<f32>(SCR + 48 + qo, -du);
          if (duk != 0) store<f32>(duk + (<usize>(j + q) << 2), du);
        }
        upd4(r, sb, n, 2, Bk, Ck, 32, 48);
        continue;
      }
      for (let q = 0; q < R; q++) {
        const xj = load<f32>(x + (<usize>(j + q) << 2)), uj = load<f32>(SCR + (<usize>q << 2));
        const du: f32 = Ck != 0 ? load<f32>(SCR + 16 + (<usize>q << 2)) : 0;
        if (Ck != 0 && duk != 0) store<f32>(duk + (<usize>(j + q) << 2), du);
        rowUpdate3(r + <usize>q * sb, n, xj, Ak, xj - uj, Bk, -du, Ck);
      }
    }
    if (R == 4 && B != 0 && (A == 0 || blank)) {
      for (let q = 0; q < 4; q++) { const qo = <usize>q << 2; store<f32>(SCR + 32 + qo, load<f32>(x + (<usize>(j + q) << 2)) - load<f32>(SCR + qo)); }
      upd4(row, sb, n, 1, B, B, 32, 32);
      continue;
    }
    for (let q = 0; q < R; q++) {
      const xj = load<f32>(x + (<usize>(j + q) << 2)), uj = load<f32>(SCR + (<usize>q << 2));
      rowUpdate2(row + <usize>q * sb, n, xj, A, xj - uj, B);
    }
  }
}

/**
 * WT(m, stride) = W(n, m)ᵀ and back (toW = 1): the first layer between its
 * two layouts. A copy, so any order gives the same bytes: 4 × 4 blocks
 * through registers (four loads, eight shuffles, four stores), the ragged
 * edges one float at a time.
 */
export function transpose(WT: usize, W: usize, n: i32, m: i32, stride: i32, toW: i32): void {
  const sb = <usize>stride << 2, mb = <usize>m << 2;
  // Source S (rows of sr bytes) to destination D (rows of dr bytes): D[c][r] = S[r][c], S having R rows and C columns.
  const S = toW ? WT : W, D = toW ? W : WT, sr = toW ? sb : mb, dr = toW ? mb : sb, R = toW ? m : n, C = toW ? n : m;
  const R4 = R & ~3, C4 = C & ~3;
  for (let r = 0; r < R4; r += 4) {
    const s0 = S + <usize>r * sr, s1 = s0 + sr, s2 = s1 + sr, s3 = s2 + sr;
    for (let c = 0; c < C4; c += 4) {
      const o = <usize>c << 2;
      const a = v128.load(s0 + o), b = v128.load(s1 + o), e = v128.load(s2 + o), f = v128.load(s3 + o);
      const ab0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ab1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
      const ef0 = v128.shuffle<f32>(e, f, 0, 4, 1, 5), ef1 = v128.shuffle<f32>(e, f, 2, 6, 3, 7);
      const d0 = D + <usize>c * dr + (<usize>r << 2);
      v128.store(d0, v128.shuffle<f32>(ab0, ef0, 0, 1, 4, 5));
      v128.store(d0 + dr, v128.shuffle<f32>(ab0, ef0, 2, 3, 6, 7));
      v128.store(d0 + 2 * dr, v128.shuffle<f32>(ab1, ef1, 0, 1, 4, 5));
      v128.store(d0 + 3 * dr, v128.shuffle<f32>(ab1, ef1, 2, 3, 6, 7));
    }
    for (let c = C4; c < C; c++) for (let q = 0; q < 4; q++) store<f32>(D + <usize>c * dr + (<usize>(r + q) << 2),
      load<f32>(S + <usize>(r + q) * sr + (<usize>c << 2)));
  }
  for (let r = R4; r < R; r++) for (let c = 0; c < C; c++) store<f32>(D + <usize>c * dr + (<usize>r << 2), load<f32>(S + <usize>r * sr + (<usize>c << 2)));
}

// ---- Tangent passes of the meta-gradient (src/meta/tangent.ts), layers ≥ 2 ----

/** out(n) = A(n, m) x + B(n, m) w [+ b]: dz = dW y + W dy in one pass, four rows at a time. */
export function matVec2(out: usize, A: usize, x: usize, B: usize, w: usize, n: i32, m: i32, b: usize): void {
  const m4 = m & ~3;
  const stride = <usize>m << 2;
  let i = 0;
  for (; i < n; i += 4) {
    const R = n - i < 4 ? n - i : 4;
    // Rows past the end repeat row i (results unused).
    const a0 = A + <usize>i * stride, a1 = R > 1 ? a0 + stride : a0, a2 = R > 2 ? a0 + 2 * stride : a0, a3 = R > 3 ? a0 + 3 * stride : a0;
    const b0 = B + <usize>i * stride, b1 = R > 1 ? b0 + stride : b0, b2 = R > 2 ? b0 + 2 * stride : b0, b3 = R > 3 ? b0 + 3 * stride : b0;
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    for (let j = 0; j < m4; j += 4) {
      const o = <usize>j << 2;
      const xv = v128.load(x + o), wv = v128.load(w + o);
      c0 = f32x4.add(c0, f32x4.add(f32x4.mul(v128.load(a0 + o), xv), f32x4.mul(v128.load(b0 + o), wv)));
      c1 = f32x4.add(c1, f32x4.add(f32x4.mul(v128.load(a1 + o), xv), f32x4.mul(v128.load(b1 + o), wv)));
      c2 = f32x4.add(c2, f32x4.add(f32x4.mul(v128.load(a2 + o), xv), f32x4.mul(v128.load(b2 + o), wv)));
      c3 = f32x4.add(c3, f32x4.add(f32x4.mul(v128.load(a3 + o), xv), f32x4.mul(v128.load(b3 + o), wv)));
    }
    let s0 = hsum(c0), s1 = hsum(c1), s2 = hsum(c2), s3 = hsum(c3);
    for (let j = m4; j < m; j++) {
      const o = <usize>j << 2, xs = load<f32>(x + o), ws = load<f32>(w + o);
      s0 += load<f32>(a0 + o) * xs + load<f32>(b0 + o) * ws;
      s1 += load<f32>(a1 + o) * xs + load<f32>(b1 + o) * ws;
      s2 += load<f32>(a2 + o) * xs + load<f32>(b2 + o) * ws;
      s3 += load<f32>(a3 + o) * xs + load<f32>(b3 + o) * ws;
    }
    const io = <usize>i << 2;
    if (b != 0) {
      s0 += load<f32>(b + io); if (R > 1) s1 += load<f32>(b + io + 4);
      if (R > 2) s2 += load<f32>(b + io + 8); if (R > 3) s3 += load<f32>(b + io + 12);
    }
    store<f32>(out + io, s0);
    if (R > 1) store<f32>(out + io + 4, s1);
    if (R > 2) store<f32>(out + io + 8, s2);
    if (R > 3) store<f32>(out + io + 12, s3);
  }
}

/**
 * outA(m) = Wᵀa + Vᵀc and outB(m) = Wᵀb + Vᵀd in one pass over W and V (n, m):
 * the tangent backward pass d(Wᵀe) = Wᵀde + dWᵀe, duₗ = Wᵀdy + dWᵀy. Two rows
 * per sweep of the outputs.
 */
export function matTVec2x2(outA: usize, outB: usize, W: usize, a: usize, b: usize, V: usize, c: usize, d: usize, n: i32, m: i32): void {
  memory.fill(outA, 0, <usize>m << 2);
  memory.fill(outB, 0, <usize>m << 2);
  const m4 = m & ~3;
  const stride = <usize>m << 2;
  for (let i = 0; i < n; i += 2) {
    const two = i + 1 < n;
    const w0 = W + <usize>i * stride, w1 = two ? w0 + stride : w0, v0 = V + <usize>i * stride, v1 = two ? v0 + stride : v0;
    const io = <usize>i << 2, z: f32 = two ? 1 : 0;
    const sa0 = load<f32>(a + io), sb0 = load<f32>(b + io), sc0 = load<f32>(c + io), sd0 = load<f32>(d + io);
    const sa1 = two ? load<f32>(a + io + 4) : 0, sb1 = two ? load<f32>(b + io + 4) : 0, sc1 = two ? load<f32>(c + io + 4) : 0,
      sd1 = two ? load<f32>(d + io + 4) : 0;
    const qa0 = f32x4.splat(sa0), qb0 = f32x4.splat(sb0), qc0 = f32x4.splat(sc0), qd0 = f32x4.splat(sd0);
    const qa1 = f32x4.splat(sa1 * z), qb1 = f32x4.splat(sb1 * z), qc1 = f32x4.splat(sc1 * z), qd1 = f32x4.splat(sd1 * z);
    for (let j = 0; j < m4; j += 4) {
      const o = <usize>j << 2;
      const x0 = v128.load(w0 + o), x1 = v128.load(w1 + o), y0 = v128.load(v0 + o), y1 = v128.load(v1 + o);
      v128.store(outA + o, f32x4.add(v128.load(outA + o),
        f32x4.add(f32x4.add(f32x4.mul(qa0, x0), f32x4.mul(qa1, x1)), f32x4.add(f32x4.mul(qc0, y0), f32x4.mul(qc1, y1)))));
      v128.store(outB + o, f32x4.add(v128.load(outB + o),
        f32x4.add(f32x4.add(f32x4.mul(qb0, x0), f32x4.mul(qb1, x1)), f32x4.add(f32x4.mul(qd0, y0), f32x4.mul(qd1, y1)))));
    }
    for (let j = m4; j < m; j++) {
      const o = <usize>j << 2;
      const x0 = load<f32>(w0 + o), x1 = load<f32>(w1 + o), y0 = load<f32>(v0 + o), y1 = load<f32>(v1 + o);
      store<f32>(outA + o, load<f32>(outA + o) + ((sa0 * x0 + z * sa1 * x1) + (sc0 * y0 + z * sc1 * y1)));
      store<f32>(outB + o, load<f32>(outB + o) + ((sb0 * x0 + z * sb1 * x1) + (sd0 * y0 + z * sd1 * y1)));
    }
  }
}

// ---- Elementwise helpers of the tangent passes (plain references in src/core/kernels.ts) ----

/** out(n) = a ⊙ b. */
export function mulv(out: usize, a: usize, b: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) { const o = <usize>i << 2; v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o))); }
  for (let i = n4; i < n; i++) { const o = <usize>i << 2; store<f32>(out + o, load<f32>(a + o) * load<f32>(b + o)); }
}

/** out(n) = [out +] sa·a + sb·b. */
export function lin2(out: usize, sa: f32, a: usize, sb: f32, b: usize, n: i32, acc: i32): void {
  const n4 = n & ~3, qa = f32x4.splat(sa), qb = f32x4.splat(sb);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const t = f32x4.add(f32x4.mul(qa, v128.load(a + o)), f32x4.mul(qb, v128.load(b + o)));
    v128.store(out + o, acc ? f32x4.add(v128.load(out + o), t) : t);
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2, t = sa * load<f32>(a + o) + sb * load<f32>(b + o);
    store<f32>(out + o, acc ? load<f32>(out + o) + t : t);
  }
}

/** de(m) = g ⊙ d + bte ⊙ d2 ⊙ dz: the tangent of eₗ₋₁ = (Bᵀe) ⊙ σ'(z) (σ'' carries dz). */
export function tanErr(de: usize, g: usize, d: usize, bte: usize, d2: usize, dz: usize, m: i32): void {
  const m4 = m & ~3;
  for (let j = 0; j < m4; j += 4) {
    const o = <usize>j << 2;
    v128.store(de + o, f32x4.add(f32x4.mul(v128.load(g + o), v128.load(d + o)),
      f32x4.mul(f32x4.mul(v128.load(bte + o), v128.load(d2 + o)), v128.load(dz + o))));
  }
  for (let j = m4; j < m; j++) {
    const o = <usize>j << 2;
    store<f32>(de + o, load<f32>(g + o) * load<f32>(d + o) + load<f32>(bte + o) * load<f32>(d2 + o) * load<f32>(dz + o));
  }
}

// ---- The recurrent network (src/nets/rnn): sums over the time steps of a sequence ----

/**
 * W(n, m) += Σ_k s_k Σ_t u_k[t](n) v_k[t](m)ᵀ: K terms of T rows each (a
 * rank-KT update, a small matrix product). desc: K records of (f32 s, u32 u,
 * u32 v) as for addOuters; u_k is (T, n), v_k (T, m). Blocks of four rows by
 * eight columns stay in registers while every (k, t) pair is added, so W is
 * read and written once; cbuf (4·K·T floats of scratch) holds the block's
 * coefficients s_k u_k[t][i … i+3].
 */
export function addOutersT(W: usize, n: i32, m: i32, K: i32, T: i32, desc: usize, cbuf: usize): void {
  const stride = <usize>m << 2, m8 = m & ~7, m4 = m & ~3;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const io = <usize>i << 2;
    // Coefficients of this block: c[(k, t)] = s_k · u_k[t][i … i+3].
    let q = 0;
    for (let k = 0; k < K; k++) {
      const d = desc + <usize>k * 12, s = f32x4.splat(load<f32>(d)), u = <usize>load<u32>(d + 4);
      for (let t = 0; t < T; t++, q++) v128.store(cbuf + (<usize>q << 4), f32x4.mul(s, v128.load(u + <usize>t * (<usize>n << 2) + io)));
    }
    const r0 = W + <usize>i * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
    let j = 0;
    for (; j < m8; j += 8) {
      const o = <usize>j << 2;
      let a0 = v128.load(r0 + o), b0 = v128.load(r0 + o + 16), a1 = v128.load(r1 + o), b1 = v128.load(r1 + o + 16);
      let a2 = v128.load(r2 + o), b2 = v128.load(r2 + o + 16), a3 = v128.load(r3 + o), b3 = v128.load(r3 + o + 16);
      q = 0;
      for (let k = 0; k < K; k++) {
        const v = <usize>load<u32>(desc + <usize>k * 12 + 8) + o;
        for (let t = 0; t < T; t++, q++) {
          const c = v128.load(cbuf + (<usize>q << 4)), vp = v + <usize>t * stride;
          const x0 = v128.load(vp), x1 = v128.load(vp + 16);
          const c0 = v128.shuffle<f32>(c, c, 0, 0, 0, 0), c1 = v128.shuffle<f32>(c, c, 1, 1, 1, 1);
          const c2 = v128.shuffle<f32>(c, c, 2, 2, 2, 2), c3 = v128.shuffle<f32>(c, c, 3, 3, 3, 3);
          a0 = f32x4.add(a0, f32x4.mul(c0, x0)); b0 = f32x4.add(b0, f32x4.mul(c0, x1));
          a1 = f32x4.add(a1, f32x4.mul(c1, x0)); b1 = f32x4.add(b1, f32x4.mul(c1, x1));
          a2 = f32x4.add(a2, f32x4.mul(c2, x0)); b2 = f32x4.add(b2, f32x4.mul(c2, x1));
          a3 = f32x4.add(a3, f32x4.mul(c3, x0)); b3 = f32x4.add(b3, f32x4.mul(c3, x1));
        }
      }
      v128.store(r0 + o, a0); v128.store(r0 + o + 16, b0); v128.store(r1 + o, a1); v128.store(r1 + o + 16, b1);
      v128.store(r2 + o, a2); v128.store(r2 + o + 16, b2); v128.store(r3 + o, a3); v128.store(r3 + o + 16, b3);
    }
    for (; j < m4; j += 4) {
      const o = <usize>j << 2;
      let a0 = v128.load(r0 + o), a1 = v128.load(r1 + o), a2 = v128.load(r2 + o), a3 = v128.load(r3 + o);
      q = 0;
      for (let k = 0; k < K; k++) {
        const v = <usize>load<u32>(desc + <usize>k * 12 + 8) + o;
        for (let t = 0; t < T; t++, q++) {
          const c = v128.load(cbuf + (<usize>q << 4)), x0 = v128.load(v + <usize>t * stride);
          a0 = f32x4.add(a0, f32x4.mul(v128.shuffle<f32>(c, c, 0, 0, 0, 0), x0));
          a1 = f32x4.add(a1, f32x4.mul(v128.shuffle<f32>(c, c, 1, 1, 1, 1), x0));
          a2 = f32x4.add(a2, f32x4.mul(v128.shuffle<f32>(c, c, 2, 2, 2, 2), x0));
          a3 = f32x4.add(a3, f32x4.mul(v128.shuffle<f32>(c, c, 3, 3, 3, 3), x0));
        }
      }
      v128.store(r0 + o, a0); v128.store(r1 + o, a1); v128.store(r2 + o, a2); v128.store(r3 + o, a3);
    }
    for (; j < m; j++) {
      const o = <usize>j << 2;
      let a0 = load<f32>(r0 + o), a1 = load<f32>(r1 + o), a2 = load<f32>(r2 + o), a3 = load<f32>(r3 + o);
      q = 0;
      for (let k = 0; k < K; k++) {
        const v = <usize>load<u32>(desc + <usize>k * 12 + 8) + o;
        for (let t = 0; t < T; t++, q++) {
          const cp = cbuf + (<usize>q << 4), x = load<f32>(v + <usize>t * stride);
          a0 += load<f32>(cp) * x; a1 += load<f32>(cp + 4) * x; a2 += load<f32>(cp + 8) * x; a3 += load<f32>(cp + 12) * x;
        }
      }
      store<f32>(r0 + o, a0); store<f32>(r1 + o, a1); store<f32>(r2 + o, a2); store<f32>(r3 + o, a3);
    }
  }
  // Remaining rows one at a time.
  for (; i < n; i++) {
    const r0 = W + <usize>i * stride, io = <usize>i << 2;
    for (let k = 0; k < K; k++) {
      const d = desc + <usize>k * 12, s = load<f32>(d), u = <usize>load<u32>(d + 4), v = <usize>load<u32>(d + 8);
      for (let t = 0; t < T; t++) {
        const c = s * load<f32>(u + <usize>t * (<usize>n << 2) + io);
        if (c == 0) continue;
        accRow1(r0, v + <usize>t * stride, c, m);
      }
    }
  }
}

/**
 * expm1(x) for x ≤ 0, four lanes, without cancellation near 0: x = k ln2 + r
 * (|r| ≤ ln2/2), q(r) = expm1(r) by its Taylor series to r⁷, then
 * expm1(x) = 2ᵏ q + (2ᵏ − 1), exact in the second part (k = 0 gives q itself).
 */
@inline function vexpm1Neg(x0: v128): v128 {
  const x = f32x4.max(x0, f32x4.splat(-87));
  const k = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.4426950408889634)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(k, f32x4.splat(0.693145751953125))), f32x4.mul(k, f32x4.splat(1.428606765330187e-6)));
  let p = f32x4.splat(1.0 / 5040);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 720));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 120));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 24));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 6));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  const q = f32x4.mul(p, r);
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
  return f32x4.add(f32x4.mul(e, q), f32x4.sub(e, f32x4.splat(1)));
}

/**
 * y(n) = tanh z, d(n) = 1 − y² (the RNN's units, PAPER.md), four lanes:
 * tanh|z| = −m / (2 + m) with m = expm1(−2|z|), sign restored; error a few
 * f32 ulps, no cancellation for small |z|.
 */
export function tanhv(y: usize, d: usize, z: usize, n: i32): void {
  const one = f32x4.splat(1), two = f32x4.splat(2), sign = i32x4.splat(0x80000000);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2, zv = v128.load(z + o);
    const m = vexpm1Neg(f32x4.mul(f32x4.abs(zv), f32x4.splat(-2)));
    const t = v128.or(f32x4.div(f32x4.neg(m), f32x4.add(two, m)), v128.and(zv, sign));
    v128.store(y + o, t);
    v128.store(d + o, f32x4.sub(one, f32x4.mul(t, t)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2, t = Mathf.tanh(load<f32>(z + o));
    store<f32>(y + o, t);
    store<f32>(d + o, <f32>1 - t * t);
  }
}

/**
 * out(n) = (first ? 0 : out) + s·u in f64, each element rounded to f32 once:
 * the plain loop `out[i] += s * u[i]` on a Float32Array (s a double), as
 * layer 1's A and B vectors are summed (src/nets/mlp/sweep.ts).
 */
export function addScaled64(out: usize, s: f64, u: usize, n: i32, first: i32): void {
  const n4 = n & ~3, sv = f64x2.splat(s), zero = f64x2.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2, uv = v128.load(u + o), ov = v128.load(out + o);
    const uh = i8x16.shuffle(uv, uv, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    const oh = i8x16.shuffle(ov, ov, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    const u0: v128 = v128.promote_low<f32>(uv), u1: v128 = v128.promote_low<f32>(uh);
    const o0: v128 = first ? zero : v128.promote_low<f32>(ov), o1: v128 = first ? zero : v128.promote_low<f32>(oh);
    const r0: v128 = v128.demote_zero<f64>(f64x2.add(o0, f64x2.mul(sv, u0)));
    const r1: v128 = v128.demote_zero<f64>(f64x2.add(o1, f64x2.mul(sv, u1)));
    v128.store(out + o, i8x16.shuffle(r0, r1, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, <f32>((first ? 0.0 : <f64>load<f32>(out + o)) + s * <f64>load<f32>(u + o)));
  }
}

/**
 * x(m) = bytes / 255 in f32, sixteen pixels at a time: f32 division of the
 * integer rounds each of the 256 byte values to the same float as the
 * double v/255 rounded to f32 (src/data/pixels.ts; checked for all 256).
 */
export function pixels(x: usize, bytes: usize, m: i32): void {
  const m16 = m & ~15, d = f32x4.splat(255);
  for (let i = 0; i < m16; i += 16) {
    const v = v128.load(bytes + <usize>i), o = x + (<usize>i << 2);
    const lo = i16x8.extend_low_i8x16_u(v), hi = i16x8.extend_high_i8x16_u(v);
    v128.store(o, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(lo)), d));
    v128.store(o + 16, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(lo)), d));
    v128.store(o + 32, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(hi)), d));
    v128.store(o + 48, f32x4.div(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(hi)), d));
  }
  for (let i = m16; i < m; i++) store<f32>(x + (<usize>i << 2), <f32>load<u8>(bytes + <usize>i) / <f32>255);
}


/**
 * Sign symmetry's B(n) = sign(W) · s, or sign(W) · M when M ≠ 0 (M ≥ 0, the
 * fixed magnitudes), 0 where W is ±0 or NaN: W's sign bit joined to the
 * magnitude's bits, the floats of the plain loop (src/signals/feedback.ts).
 */
export function signOf(B: usize, W: usize, s: f32, M: usize, n: i32): void {
  const n4 = n & ~3, sb = f32x4.splat(s), sgn = i32x4.splat(0x80000000), zero = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2, w = v128.load(W + o);
    const nz = v128.or(f32x4.gt(w, zero), f32x4.lt(w, zero));
    const mag = M != 0 ? v128.load(M + o) : sb;
    v128.store(B + o, v128.and(v128.or(v128.and(w, sgn), mag), nz));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2, w = load<f32>(W + o), mag = M != 0 ? load<f32>(M + o) : s;
    store<f32>(B + o, w > 0 ? mag : w < 0 ? -mag : 0);
  }
}

/** Dale's projection: W(n, m) keeps w where w · sg_j > 0 and becomes +0 elsewhere (sg(m) = ±1 per column; src/learn/dale.ts). */
export function daleProject(W: usize, sg: usize, n: i32, m: i32): void {
  const m4 = m & ~3, zero = f32x4.splat(0);
  for (let i = 0; i < n; i++) {
    const r = W + (<usize>(i * m) << 2);
    for (let j = 0; j < m4; j += 4) {
      const o = <usize>j << 2, w = v128.load(r + o);
      v128.store(r + o, v128.and(w, f32x4.gt(f32x4.mul(w, v128.load(sg + o)), zero)));
    }
    for (let j = m4; j < m; j++) {
      const o = <usize>j << 2, w = load<f32>(r + o);
      store<f32>(r + o, w * load<f32>(sg + o) > 0 ? w : 0);
    }
  }
}

// ---- The recurrent network's BPTT recursion in one call ----

/**
 * t = T … 1 of the RNN's backward pass (src/nets/rnn/rnn.ts, PAPER.md's recurrent section): the
 * same kernel calls in the same order as the per-step loop there, without a JS round trip per step.
 *   δₜ = gₜ ⊙ σ'(aₜ) [then δₜ = α δₜ + 0·δₜ when leaky];
 *   gₜ₋₁ = B_Jᵀ δₜ and uₜ = Jᵀ hₜ (one pass over J when B_J = J: flag 4) [then gₜ₋₁ = gₜ₋₁ + (1 − α) gₜ].
 * G, D, H: rows t = 0 … T of N floats; S (σ'), UJ: rows t = 1 … T from 0. flags: 1 gₜ₋₁ at t = 1 too
 * (needG0), 2 uₜ (needUJ), 4 symmetric feedback, 8 leaky (α ≠ 1). native/kern.c has its twin.
 */
export function rnnBack(G: usize, S: usize, D: usize, H: usize, UJ: usize, J: usize, BJ: usize, N: i32, T: i32, leak: f32, rest: f32, flags: i32): void {
  const row = <usize>N << 2;
  const needG0 = (flags & 1) != 0, needUJ = (flags & 2) != 0, sym = (flags & 4) != 0, leaky = (flags & 8) != 0;
  for (let t = T; t >= 1; t--) {
    const delta = D + row * <usize>t, g = G + row * <usize>t;
    mulv(delta, g, S + row * <usize>(t - 1), N);
    if (leaky) lin2(delta, leak, delta, 0, delta, N, 0);
    const wantG = t > 1 || needG0;
    const gp = G + row * <usize>(t - 1), uj = UJ + row * <usize>(t - 1), h = H + row * <usize>t;
    if (wantG && needUJ && sym) matTVec2(gp, uj, J, delta, h, N, N);
    else {
      if (wantG) matTVec(gp, BJ, delta, N, N);
      if (needUJ) matTVec(uj, J, h, N, N);
    }
    if (wantG && leaky) lin2(gp, 1, gp, rest, g, N, 0);
  }
}

/**
 * t = 1 … T of the RNN's forward pass (src/nets/rnn/rnn.ts, PAPER.md's recurrent section) after the
 * input projection (A's rows 0 … rows − 1 hold U xₜ): the same kernel calls in the same order as the
 * per-step loop there, without a JS round trip per step:
 *   aₜ = 0 past the image's rows; aₜ += J hₜ₋₁ (t > 1); rₜ = tanh aₜ, σ'ₜ = 1 − rₜ²;
 *   [hₜ = (1 − α) hₜ₋₁ + α rₜ when leaky].
 * A, R, S: rows t = 1 … T from 0; H: rows t = 0 … T (R is H's rows 1 … T when α = 1). flags: 8 leaky.
 * native/kern.c has its twin (for N a multiple of four: tanhv's scalar tail is Mathf.tanh).
 */
export function rnnFwd(A: usize, H: usize, R: usize, S: usize, J: usize, N: i32, T: i32, rows: i32, leak: f32, rest: f32, flags: i32): void {
  const row = <usize>N << 2, leaky = (flags & 8) != 0;
  for (let t = 1; t <= T; t++) {
    const a = A + row * <usize>(t - 1), r = R + row * <usize>(t - 1);
    if (t > rows) memory.fill(a, 0, row);
    if (t > 1) matVec(a, J, H + row * <usize>(t - 1), N, N, a);
    tanhv(r, S + row * <usize>(t - 1), a, N);
    if (leaky) lin2(H + row * <usize>t, rest, H + row * <usize>(t - 1), leak, r, N, 0);
  }
}

// ---- Monomial families (src/rules/expr: the Taylor terms preᵃ postᵇ Wᶜ), in f64 ----
// The plain twins (monoUpdate, monoTangent in src/core/kernels.ts) are float64 JavaScript: these do the
// same operations in the same order, two weights per f64x2, so the floats are the same.

/** Two f32 at p as f64x2. */
@inline function ld2(p: usize): v128 { return f64x2.promote_low_f32x4(v128.load64_zero(p)); }
/** Two f64x2 lanes rounded to f32 and stored at p. */
@inline function st2(p: usize, v: v128): void { v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0); }
@inline function cf(C: usize, k: i32): f64 { return load<f64>(C + (<usize>k << 3)); }
/** α_ac = C_a0c + q (C_a1c + q C_a2c): the post side contracted (C[9a + 3b + c]). */
@inline function alpha(C: usize, a: i32, c: i32, q: f64): f64 { return cf(C, 9 * a + c) + q * (cf(C, 9 * a + 3 + c) + q * cf(C, 9 * a + 6 + c)); }
/** γ_ac = dq (C_a1c + 2q C_a2c) + dC_a0c + q (dC_a1c + q dC_a2c). */
@inline function gamma(C: usize, dC: usize, a: i32, c: i32, q: f64, q2: f64, dq: f64): f64 {
  return dq * (cf(C, 9 * a + 3 + c) + q2 * cf(C, 9 * a + 6 + c)) + (cf(dC, 9 * a + c) + q * (cf(dC, 9 * a + 3 + c) + q * cf(dC, 9 * a + 6 + c)));
}
/** x + p (y + p z) on f64x2 lanes. */
@inline function horner2(x: v128, y: v128, z: v128, p: v128): v128 { return f64x2.add(x, f64x2.mul(p, f64x2.add(y, f64x2.mul(p, z)))); }

/** out(n, m) += Σ_t Σ_abc C[9a + 3b + c] pre_tjᵃ post_tiᵇ W_ijᶜ (C: 27 f64). */
export function monoUpdate(out: usize, W: usize, pre: usize, post: usize, C: usize, T: i32, n: i32, m: i32): void {
  const m2 = m & ~1, stride = <usize>m << 2;
  for (let i = 0; i < n; i++) {
    const ro = out + <usize>i * stride, rw = W + <usize>i * stride;
    for (let t = 0; t < T; t++) {
      const q = <f64>load<f32>(post + (<usize>(t * n + i) << 2)), pj = pre + <usize>t * stride;
      const a00 = alpha(C, 0, 0, q), a01 = alpha(C, 0, 1, q), a02 = alpha(C, 0, 2, q);
      const a10 = alpha(C, 1, 0, q), a11 = alpha(C, 1, 1, q), a12 = alpha(C, 1, 2, q);
      const a20 = alpha(C, 2, 0, q), a21 = alpha(C, 2, 1, q), a22 = alpha(C, 2, 2, q);
      const A00 = f64x2.splat(a00), A01 = f64x2.splat(a01), A02 = f64x2.splat(a02), A10 = f64x2.splat(a10), A11 = f64x2.splat(a11);
      const A12 = f64x2.splat(a12), A20 = f64x2.splat(a20), A21 = f64x2.splat(a21), A22 = f64x2.splat(a22);
      let j = 0;
      for (; j < m2; j += 2) {
        const o = <usize>j << 2, p = ld2(pj + o), w = ld2(rw + o);
        const M0 = horner2(A00, A10, A20, p), M1 = horner2(A01, A11, A21, p), M2 = horner2(A02, A12, A22, p);
        st2(ro + o, f64x2.add(ld2(ro + o), horner2(M0, M1, M2, w)));
      }
      for (; j < m; j++) {
        const o = <usize>j << 2, p = <f64>load<f32>(pj + o), w = <f64>load<f32>(rw + o);
        const M0 = a00 + p * (a10 + p * a20), M1 = a01 + p * (a11 + p * a21), M2 = a02 + p * (a12 + p * a22);
        store<f32>(ro + o, <f32>(<f64>load<f32>(ro + o) + (M0 + w * (M1 + w * M2))));
      }
    }
  }
}

/**
 * out(n, m) += monoUpdate's forward-mode tangent along dpre (T, m), dpost (T, n), dW (n, m) and the
 * coefficients' dC: dΦ = N₀ + w (N₁ + w N₂) + dw (M₁ + 2w M₂) (see the plain twin for N_c and γ_ac).
 */
export function monoTangent(out: usize, W: usize, dW: usize, pre: usize, dpre: usize, post: usize, dpost: usize, C: usize, dC: usize,
  T: i32, n: i32, m: i32): void {
  const m2 = m & ~1, stride = <usize>m << 2, two = f64x2.splat(2);
  for (let i = 0; i < n; i++) {
    const ro = out + <usize>i * stride, rw = W + <usize>i * stride, rd = dW + <usize>i * stride;
    for (let t = 0; t < T; t++) {
      const po = <usize>(t * n + i) << 2, pj = pre + <usize>t * stride, dpj = dpre + <usize>t * stride;
      const q = <f64>load<f32>(post + po), dq = <f64>load<f32>(dpost + po), q2 = 2 * q;
      const a01 = alpha(C, 0, 1, q), a02 = alpha(C, 0, 2, q);
      const a10 = alpha(C, 1, 0, q), a11 = alpha(C, 1, 1, q), a12 = alpha(C, 1, 2, q);
      const a20 = alpha(C, 2, 0, q), a21 = alpha(C, 2, 1, q), a22 = alpha(C, 2, 2, q);
      const g00 = gamma(C, dC, 0, 0, q, q2, dq), g01 = gamma(C, dC, 0, 1, q, q2, dq), g02 = gamma(C, dC, 0, 2, q, q2, dq);
      const g10 = gamma(C, dC, 1, 0, q, q2, dq), g11 = gamma(C, dC, 1, 1, q, q2, dq), g12 = gamma(C, dC, 1, 2, q, q2, dq);
      const g20 = gamma(C, dC, 2, 0, q, q2, dq), g21 = gamma(C, dC, 2, 1, q, q2, dq), g22 = gamma(C, dC, 2, 2, q, q2, dq);
      const A01 = f64x2.splat(a01), A02 = f64x2.splat(a02), A10 = f64x2.splat(a10), A11 = f64x2.splat(a11), A12 = f64x2.splat(a12);
      const A20 = f64x2.splat(a20), A21 = f64x2.splat(a21), A22 = f64x2.splat(a22);
      const G00 = f64x2.splat(g00), G01 = f64x2.splat(g01), G02 = f64x2.splat(g02), G10 = f64x2.splat(g10), G11 = f64x2.splat(g11);
      const G12 = f64x2.splat(g12), G20 = f64x2.splat(g20), G21 = f64x2.splat(g21), G22 = f64x2.splat(g22);
      let j = 0;
      for (; j < m2; j += 2) {
        const o = <usize>j << 2, p = ld2(pj + o), dp = ld2(dpj + o), w = ld2(rw + o), dw = ld2(rd + o), p2 = f64x2.mul(two, p);
        const M1 = horner2(A01, A11, A21, p), M2 = horner2(A02, A12, A22, p);
        const N0 = f64x2.add(f64x2.mul(dp, f64x2.add(A10, f64x2.mul(p2, A20))), horner2(G00, G10, G20, p));
        const N1 = f64x2.add(f64x2.mul(dp, f64x2.add(A11, f64x2.mul(p2, A21))), horner2(G01, G11, G21, p));
        const N2 = f64x2.add(f64x2.mul(dp, f64x2.add(A12, f64x2.mul(p2, A22))), horner2(G02, G12, G22, p));
        const d = f64x2.add(horner2(N0, N1, N2, w), f64x2.mul(dw, f64x2.add(M1, f64x2.mul(f64x2.mul(two, w), M2))));
        st2(ro + o, f64x2.add(ld2(ro + o), d));
      }
      for (; j < m; j++) {
        const o = <usize>j << 2, p = <f64>load<f32>(pj + o), dp = <f64>load<f32>(dpj + o);
        const w = <f64>load<f32>(rw + o), dw = <f64>load<f32>(rd + o), p2 = 2 * p;
        const M1 = a01 + p * (a11 + p * a21), M2 = a02 + p * (a12 + p * a22);
        const N0 = dp * (a10 + p2 * a20) + (g00 + p * (g10 + p * g20));
        const N1 = dp * (a11 + p2 * a21) + (g01 + p * (g11 + p * g21));
        const N2 = dp * (a12 + p2 * a22) + (g02 + p * (g12 + p * g22));
        store<f32>(ro + o, <f32>(<f64>load<f32>(ro + o) + (N0 + w * (N1 + w * N2) + dw * (M1 + 2 * w * M2))));
      }
    }
  }
}
