// WebAssembly SIMD (f32x4) kernels, compiled by AssemblyScript at build time
// (npm run build:wasm). Each mirrors a plain kernel in src/core/kernels.ts and
// is held equal to it by test/wasm.test.ts. Arguments are byte offsets into
// the module's memory; matrices are row-major f32, shapes as (rows, cols).
// The online step is memory-bound, so every kernel reads each matrix row once
// and works two rows at a time to halve the traffic on the short vectors.

// @ts-nocheck — AssemblyScript, not TypeScript.

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** out(n) = W(n, m) · x(m) [+ b(n) when b ≠ 0] */
export function matVec(out: usize, W: usize, x: usize, n: i32, m: i32, b: usize): void {
  const m4 = m & ~3;
  const stride = <usize>m << 2;
  let i = 0;
  // Four rows at a time: each load of x serves four rows.
  for (; i + 4 <= n; i += 4) {
    const r0 = W + <usize>i * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let j = 0; j < m4; j += 4) {
      const o = <usize>j << 2;
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
    for (let j = 0; j < m4; j += 4) {
      const o = <usize>j << 2;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(r0 + o), v128.load(x + o)));
    }
    let s0 = hsum(a0);
    for (let j = m4; j < m; j++) s0 += load<f32>(r0 + (<usize>j << 2)) * load<f32>(x + (<usize>j << 2));
    if (b != 0) s0 += load<f32>(b + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), s0);
  }
}

/** out(m) = W(n, m)ᵀ · a(n) */
export function matTVec(out: usize, W: usize, a: usize, n: i32, m: i32): void {
  memory.fill(out, 0, <usize>m << 2);
  const m4 = m & ~3;
  const stride = <usize>m << 2;
  let i = 0;
  // Four rows per sweep of out: out is read and written once per four rows of W.
  for (; i + 4 <= n; i += 4) {
    const r0 = W + <usize>i * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
    const io = <usize>i << 2;
    const s0 = load<f32>(a + io), s1 = load<f32>(a + io + 4), s2 = load<f32>(a + io + 8), s3 = load<f32>(a + io + 12);
    const c0 = f32x4.splat(s0), c1 = f32x4.splat(s1), c2 = f32x4.splat(s2), c3 = f32x4.splat(s3);
    for (let j = 0; j < m4; j += 4) {
      const o = <usize>j << 2;
      const t = f32x4.add(f32x4.add(f32x4.mul(c0, v128.load(r0 + o)), f32x4.mul(c1, v128.load(r1 + o))),
                          f32x4.add(f32x4.mul(c2, v128.load(r2 + o)), f32x4.mul(c3, v128.load(r3 + o))));
      v128.store(out + o, f32x4.add(v128.load(out + o), t));
    }
    for (let j = m4; j < m; j++) {
      const o = <usize>j << 2;
      store<f32>(out + o, load<f32>(out + o) + s0 * load<f32>(r0 + o) + s1 * load<f32>(r1 + o) + s2 * load<f32>(r2 + o) + s3 * load<f32>(r3 + o));
    }
  }
  for (; i < n; i++) {
    const r0 = W + <usize>i * stride;
    const s0 = load<f32>(a + (<usize>i << 2));
    const c0 = f32x4.splat(s0);
    for (let j = 0; j < m4; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), f32x4.mul(c0, v128.load(r0 + o))));
    }
    for (let j = m4; j < m; j++) {
      const o = <usize>j << 2;
      store<f32>(out + o, load<f32>(out + o) + s0 * load<f32>(r0 + o));
    }
  }
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
 * W(n, m) += Σ_k s_k · u_k(n) v_k(m)ᵀ for K rank-1 terms in one pass over W.
 * desc holds K records of (f32 s, u32 u, u32 v): 12 bytes each. Up to three
 * terms per pass (bp + oja + one more is the common rule), two rows at a time
 * so each load of a v_k serves both rows.
 */
export function addOuters(W: usize, n: i32, m: i32, K: i32, desc: usize): void {
  const m4 = m & ~3;
  const stride = <usize>m << 2;
  for (let k = 0; k < K; k += 3) {
    const left = K - k;
    const d0 = desc + <usize>k * 12;
    const s0 = load<f32>(d0), u0 = <usize>load<u32>(d0 + 4), v0 = <usize>load<u32>(d0 + 8);
    const s1 = left > 1 ? load<f32>(d0 + 12) : <f32>0, u1 = left > 1 ? <usize>load<u32>(d0 + 16) : u0, v1 = left > 1 ? <usize>load<u32>(d0 + 20) : v0;
    const s2 = left > 2 ? load<f32>(d0 + 24) : <f32>0, u2 = left > 2 ? <usize>load<u32>(d0 + 28) : u0, v2 = left > 2 ? <usize>load<u32>(d0 + 32) : v0;
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const r0 = W + <usize>i * stride, r1 = r0 + stride;
      const io = <usize>i << 2;
      const c00 = s0 * load<f32>(u0 + io), c10 = s1 * load<f32>(u1 + io), c20 = s2 * load<f32>(u2 + io);
      const c01 = s0 * load<f32>(u0 + io + 4), c11 = s1 * load<f32>(u1 + io + 4), c21 = s2 * load<f32>(u2 + io + 4);
      const q00 = f32x4.splat(c00), q10 = f32x4.splat(c10), q20 = f32x4.splat(c20);
      const q01 = f32x4.splat(c01), q11 = f32x4.splat(c11), q21 = f32x4.splat(c21);
      if (left == 1) {
        for (let j = 0; j < m4; j += 4) {
          const o = <usize>j << 2;
          const a = v128.load(v0 + o);
          v128.store(r0 + o, f32x4.add(v128.load(r0 + o), f32x4.mul(q00, a)));
          v128.store(r1 + o, f32x4.add(v128.load(r1 + o), f32x4.mul(q01, a)));
        }
      } else if (left == 2) {
        for (let j = 0; j < m4; j += 4) {
          const o = <usize>j << 2;
          const a = v128.load(v0 + o), b = v128.load(v1 + o);
          v128.store(r0 + o, f32x4.add(v128.load(r0 + o), f32x4.add(f32x4.mul(q00, a), f32x4.mul(q10, b))));
          v128.store(r1 + o, f32x4.add(v128.load(r1 + o), f32x4.add(f32x4.mul(q01, a), f32x4.mul(q11, b))));
        }
      } else {
        for (let j = 0; j < m4; j += 4) {
          const o = <usize>j << 2;
          const a = v128.load(v0 + o), b = v128.load(v1 + o), c = v128.load(v2 + o);
          v128.store(r0 + o, f32x4.add(v128.load(r0 + o), f32x4.add(f32x4.mul(q00, a), f32x4.add(f32x4.mul(q10, b), f32x4.mul(q20, c)))));
          v128.store(r1 + o, f32x4.add(v128.load(r1 + o), f32x4.add(f32x4.mul(q01, a), f32x4.add(f32x4.mul(q11, b), f32x4.mul(q21, c)))));
        }
      }
      for (let j = m4; j < m; j++) {
        const o = <usize>j << 2;
        const a = load<f32>(v0 + o), b = load<f32>(v1 + o), c = load<f32>(v2 + o);
        store<f32>(r0 + o, load<f32>(r0 + o) + c00 * a + c10 * b + c20 * c);
        store<f32>(r1 + o, load<f32>(r1 + o) + c01 * a + c11 * b + c21 * c);
      }
    }
    for (; i < n; i++) {
      const r = W + <usize>i * stride;
      const io = <usize>i << 2;
      const c0 = s0 * load<f32>(u0 + io), c1 = s1 * load<f32>(u1 + io), c2 = s2 * load<f32>(u2 + io);
      const q0 = f32x4.splat(c0), q1 = f32x4.splat(c1), q2 = f32x4.splat(c2);
      for (let j = 0; j < m4; j += 4) {
        const o = <usize>j << 2;
        const t = f32x4.add(f32x4.mul(q0, v128.load(v0 + o)), f32x4.add(f32x4.mul(q1, v128.load(v1 + o)), f32x4.mul(q2, v128.load(v2 + o))));
        v128.store(r + o, f32x4.add(v128.load(r + o), t));
      }
      for (let j = m4; j < m; j++) {
        const o = <usize>j << 2;
        store<f32>(r + o, load<f32>(r + o) + c0 * load<f32>(v0 + o) + c1 * load<f32>(v1 + o) + c2 * load<f32>(v2 + o));
      }
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

/** y(n) = σ(z), d(n) = σ'(z). */
export function activate(y: usize, d: usize, z: usize, n: i32, code: i32, beta: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, act(load<f32>(z + o), code, beta, d + o));
  }
}

/**
 * The backward pass and the update of one layer in a single sweep of its
 * rows: g(m) = Wᵀe (when g ≠ 0; the old W, read before the row is written),
 * then Wout += Σ_k s_k u_k v_kᵀ (Wout = W online, the mini-batch accumulator
 * otherwise). desc: K records of (f32 s, u32 u, u32 v), K ≤ 3.
 */
export function backUpdate(g: usize, W: usize, Wout: usize, e: usize, n: i32, m: i32, K: i32, desc: usize): void {
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
      const a0 = G || inPlace ? v128.load(r0 + o) : f32x4.splat(0), a1 = G || inPlace ? v128.load(r1 + o) : f32x4.splat(0);
      if (G) v128.store(g + o, f32x4.add(v128.load(g + o), f32x4.add(f32x4.mul(ce0, a0), f32x4.mul(ce1, a1))));
      if (K > 0) {
        const p = v128.load(v0 + o);
        let t0 = f32x4.mul(q00, p), t1 = f32x4.mul(q01, p);
        if (K > 1) { const q = v128.load(v1 + o); t0 = f32x4.add(t0, f32x4.mul(q10, q)); t1 = f32x4.add(t1, f32x4.mul(q11, q)); }
        if (K > 2) { const q = v128.load(v2 + o); t0 = f32x4.add(t0, f32x4.mul(q20, q)); t1 = f32x4.add(t1, f32x4.mul(q21, q)); }
        v128.store(w0 + o, f32x4.add(inPlace ? a0 : v128.load(w0 + o), t0));
        v128.store(w1 + o, f32x4.add(inPlace ? a1 : v128.load(w1 + o), t1));
      }
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
