/**
 * The native kernels against the WebAssembly ones, bit for bit: the same
 * allocations on a wasm arena and on a native one (so the same offsets), the
 * same values, every kernel the native backend replaces called on both, then
 * every buffer of both arenas compared byte for byte (a stray write shows
 * too). Shapes cover every tail (n and m mod 4, 8 and 16) and the data has
 * exact zeros, −0 and blank groups of four, where the kernels branch.
 * Used by test/native.test.ts in this process (the widest vector path) and in
 * a child process per narrower path (NEUROPLASTIC_NATIVE_ISA).
 */
import "../src/core/native.js";
import { Rng } from "../src/core/rng.js";
import { WasmArena } from "../src/core/wasm.js";
import type { Buf, InputTangent } from "../src/core/kernels.js";

interface Pair { w: Float32Array; n: Float32Array }

class Twin {
  readonly A: WasmArena;
  readonly N: WasmArena;
  readonly bufs: Pair[] = [];
  constructor(bytes: number, readonly r: Rng) {
    this.A = new WasmArena(bytes);
    this.N = new WasmArena(bytes, true);
  }
  /** A buffer on both arenas with the same values: normals, with exact zeros (zeros = their share), −0 and blank groups. */
  buf(len: number, zeros = 0.15): Pair {
    const p = { w: this.A.alloc(len), n: this.N.alloc(len) };
    for (let i = 0; i < len; i++) {
      const u = this.r.uniform();
      const v = u < zeros ? 0 : u < zeros + 0.02 ? -0 : this.r.normal();
      p.w[i] = v; p.n[i] = v;
    }
    this.bufs.push(p);
    return p;
  }
  /** A buffer whose groups of four are blank (all +0) with probability `blank`: an image's pixels. */
  image(len: number, blank: number): Pair {
    const p = this.buf(len, 0);
    for (let g = 0; g < len; g += 4) {
      if (this.r.uniform() < blank) for (let i = g; i < Math.min(len, g + 4); i++) { p.w[i] = 0; p.n[i] = 0; }
    }
    return p;
  }
  /**
   * Every buffer of both arenas equal byte for byte; the first difference otherwise (and then the native
   * buffers are set back to the wasm ones, so that the next case starts equal and reports only its own).
   */
  diff(what: string): string | null {
    let first: string | null = null;
    for (let b = 0; b < this.bufs.length; b++) {
      const { w, n } = this.bufs[b];
      const x = new Uint32Array(w.buffer, w.byteOffset, w.length), y = new Uint32Array(n.buffer, n.byteOffset, n.length);
      for (let i = 0; i < x.length && first === null; i++) if (x[i] !== y[i]) first = `${what}: buffer ${b} [${i}] wasm ${w[i]} native ${n[i]}`;
    }
    if (first !== null) for (const { w, n } of this.bufs) n.set(w);
    return first;
  }
}

const idxOf = (arena: WasmArena, p: Pair, which: "w" | "n", m: number) => {
  const ib = arena.alloc(m);
  const idx = new Int32Array(ib.buffer, ib.byteOffset, m);
  const c = arena.kernels.fused!.input.nonzeros(idx, p[which], m);
  return { idx, c };
};

/** All kernels at one shape; returns the mismatches (empty: bit for bit). */
export function kernelCases(n: number, m: number, seed: number): string[] {
  const bad: string[] = [];
  const T = new Twin(4 * (40 * n * m + 400 * (n + m)) + (1 << 20), new Rng(seed));
  const both = (what: string, f: (k: WasmArena["kernels"], side: "w" | "n") => void) => {
    f(T.A.kernels, "w"); f(T.N.kernels, "n");
    const d = T.diff(`${what} (${n}×${m})`);
    if (d !== null) bad.push(d);
  };
  const W = T.buf(n * m), V = T.buf(n * m), x = T.buf(m), w2 = T.buf(m), a = T.buf(n), b = T.buf(n), c = T.buf(n), d = T.buf(n), bias = T.buf(n);
  const on = T.buf(n), om = T.buf(m), om2 = T.buf(m);
  const img = T.image(m, 0.6);
  for (const bb of [null, bias]) {
    both(`matVec bias=${bb !== null}`, (k, s) => k.matVec(on[s], W[s], x[s], n, m, bb && bb[s]));
    both(`matVec2 bias=${bb !== null}`, (k, s) => k.matVec2(on[s], W[s], x[s], V[s], w2[s], n, m, bb && bb[s]));
    both(`matVecSparse bias=${bb !== null}`, (k, s) => { if (!k.matVecSparse!(on[s], W[s], img[s], n, m, bb && bb[s])) throw new Error("declined"); });
  }
  // Activations (softplus: C for the units j < n & ~3, wasm's scalar tail for the rest; the others stay wasm),
  // z spread so that βz (β = 10, and an odd β) reaches exp's clamp (|βz| > 87) beside 0, −0 and the normals,
  // then the forward layer that calls them (with and without u = Wᵀy).
  const zs = T.buf(n), ys = T.buf(n), ds = T.buf(n);
  for (const side of ["w", "n"] as const) for (let i = 0; i < n; i++) zs[side][i] *= i % 5 === 0 ? 12 : i % 3 === 0 ? 0.05 : 1;
  for (const [code, beta] of [[0, 10], [0, 1.7], [1, 10], [2, 10], [3, 10]] as const) {
    both(`activate code=${code} β=${beta}`, (k, s) => { if (!k.fused!.activate(ys[s], ds[s], zs[s], n, code, beta)) throw new Error("declined"); });
  }
  for (const withU of [false, true]) {
    both(`forwardHidden softplus u=${withU}`, (k, s) => {
      if (!k.fused!.forwardHidden(on[s], ys[s], ds[s], withU ? om[s] : null, W[s], x[s], bias[s], n, m, 0, 10)) throw new Error("declined");
    });
  }
  both("matTVec", (k, s) => k.matTVec(om[s], W[s], a[s], n, m));
  both("matTVec2", (k, s) => k.matTVec2(om[s], om2[s], W[s], a[s], b[s], n, m));
  both("matTVec2x2", (k, s) => k.matTVec2x2(om[s], om2[s], W[s], a[s], b[s], V[s], c[s], d[s], n, m));
  const us = [a, b, c, d, bias], vs = [x, w2, om, om2, img];
  for (let K = 1; K <= 5; K++) {
    const sc = [0.3, -1.25, 0.007, 2.5, -0.01].slice(0, K);
    both(`addOuters K=${K}`, (k, s) => k.addOuters(W[s], sc, us.slice(0, K).map((u) => u[s]), vs.slice(0, K).map((v) => v[s]), K, n, m));
    if (K === 1) both("addOuter", (k, s) => k.addOuter(W[s], -0.75, a[s], x[s], n, m));
  }
  for (let K = 0; K <= 3; K++) {
    const sc = [0.05, -0.3, 0.002].slice(0, K);
    for (const [gname, withG] of [["g", true], ["no g", false]] as const) {
      if (!withG && K === 0) continue;
      for (const inPlace of [true, false]) {
        both(`backUpdate K=${K} ${gname} inPlace=${inPlace}`, (k, s) => {
          const ok = k.fused!.backUpdate(withG ? om[s] : null, W[s], inPlace ? W[s] : V[s], a[s], n, m, sc, us.slice(0, K).map((u) => u[s]),
            vs.slice(0, K).map((v) => v[s]), K, withG ? w2[s] : null, withG ? om2[s] : null);
          if (!ok) throw new Error("declined");
        });
      }
    }
  }
  // The RNN's per-sequence forms: T matVecs / matTVecs of one W.
  for (const Tn of [1, 3, 7]) {
    const X = T.buf(Tn * m), Aa = T.buf(Tn * n), O1 = T.buf(Tn * n), O2 = T.buf(Tn * m);
    both(`matVecs T=${Tn}`, (k, s) => k.matVecs(O1[s], W[s], X[s], Tn, n, m));
    both(`matTVecs T=${Tn}`, (k, s) => k.matTVecs(O2[s], W[s], Aa[s], Tn, n, m));
  }
  // The RNN's rank-T update: u_k (T, n), v_k (T, m).
  for (const Tn of [2, 5]) {
    const uT = [T.buf(Tn * n), T.buf(Tn * n), T.buf(Tn * n)], vT = [T.buf(Tn * m), T.buf(Tn * m), T.buf(Tn * m)];
    for (let K = 1; K <= 3; K++) {
      both(`addOutersT K=${K} T=${Tn}`, (k, s) => k.addOutersT(W[s], [0.1, -0.02, 0.5].slice(0, K), uT.slice(0, K).map((u) => u[s]), vT.slice(0, K).map((v) => v[s]), K, Tn, n, m));
    }
  }
  // The BPTT recursion in one call (rnnBack), N = n, T = 4: every flag combination, leaky and not.
  {
    const Tn = 4, J = T.buf(n * n), BJ = T.buf(n * n), G = T.buf((Tn + 1) * n), S = T.buf(Tn * n), D = T.buf((Tn + 1) * n);
    const H = T.buf((Tn + 1) * n), UJ = T.buf(Tn * n);
    for (const leak of [1, 0.7]) for (let f = 0; f < 8; f++) {
      both(`rnnBack leak=${leak} flags=${f}`, (k, s) => {
        if (!k.fused!.rnnBack!(G[s], S[s], D[s], H[s], UJ[s], J[s], (f & 4) ? J[s] : BJ[s], n, Tn, leak, (f & 1) !== 0, (f & 2) !== 0, (f & 4) !== 0)) {
          throw new Error("declined");
        }
      });
    }
  }
  // The forward recursion in one call (rnnFwd), N = n, T = 5 (2 rows of input): leaky (R its own buffer) and not (R = H's rows 1 … T);
  // A scaled so that tanh's arguments reach its clamp (|a| > 43.5) as well as 0 and −0. Native arenas take N a multiple of four
  // (they decline the rest, which the per-step loop runs).
  // T = 2 takes the unpacked products (kern.c packs J from three on).
  if (n % 4 === 0) for (const [Tn, rows] of [[5, 2], [2, 1]]) {
    const J = T.buf(n * n), S = T.buf(Tn * n), H = T.buf((Tn + 1) * n), Rl = T.buf(Tn * n), A = T.buf(Tn * n);
    for (const leak of [1, 0.7]) {
      both(`rnnFwd T=${Tn} leak=${leak}`, (k, s) => {
        for (let i = 0; i < A[s].length; i++) A[s][i] *= i % 7 === 0 ? 40 : 3;
        const R = leak === 1 ? H[s].subarray(n) : Rl[s];
        if (!k.fused!.rnnFwd!(A[s], H[s], R, S[s], J[s], n, Tn, rows, leak)) throw new Error("declined");
      });
    }
  }
  // The first layer transposed: WT (m, stride) with rows of n, x an image.
  const stride = (n + 3) & ~3;
  const WT = T.buf(m * stride), dWT = [T.buf(m * stride), T.buf(m * stride)], y = T.buf(n), dy = [T.buf(n), T.buf(n)];
  const A = T.buf(n), Bv = T.buf(n), u = T.buf(m), du = [T.buf(m), T.buf(m)];
  const tA = [T.buf(n), T.buf(n)], tB = [T.buf(n), T.buf(n)], tC = [T.buf(n), T.buf(n)];
  const ixw = idxOf(T.A, img, "w", m), ixn = idxOf(T.N, img, "n", m);
  const ix = { w: ixw, n: ixn };
  for (const bb of [null, bias]) {
    both(`matVecT bias=${bb !== null}`, (k, s) => k.fused!.input.matVecT(on[s], WT[s], stride, img[s], ix[s].idx, ix[s].c, n, bb && bb[s]));
  }
  for (const [hasA, hasB] of [[true, true], [true, false], [false, true]]) {
    both(`inputSweep online A=${hasA} B=${hasB}`, (k, s) =>
      k.fused!.input.inputSweep(WT[s], stride, m, n, img[s], y[s], hasA ? A[s] : null, hasB ? Bv[s] : null, u[s], ix[s].idx, ix[s].c, []));
  }
  // With tangents: every combination of present vectors (C needs B), one and two directions.
  const combos: [boolean, boolean, boolean, boolean][] = [];
  for (const tAp of [true, false]) for (const tBp of [true, false]) for (const tCp of [true, false]) for (const duP of [true, false]) {
    if (tCp && !tBp) continue;
    combos.push([tAp, tBp, tCp, duP]);
  }
  for (const [tAp, tBp, tCp, duP] of combos) {
    for (const P of [1, 2]) {
      both(`inputSweep tangents P=${P} A'=${tAp} B'=${tBp} C'=${tCp} du=${duP}`, (k, s) => {
        const ts: InputTangent[] = [];
        for (let q = 0; q < P; q++) ts.push({ dWT: dWT[q][s], dy: dy[q][s], A: tAp ? tA[q][s] : null, B: tBp ? tB[q][s] : null, C: tCp ? tC[q][s] : null, du: duP ? du[q][s] : null });
        k.fused!.input.inputSweep(WT[s], stride, m, n, img[s], y[s], A[s], Bv[s], u[s], ix[s].idx, ix[s].c, ts);
      });
    }
  }
  return bad;
}

/** The shapes: every n, m mod 4 / 8 / 16 tail, the paper net's layers, tiny ones. */
export const SHAPES: [number, number][] = [
  [1, 1], [2, 3], [3, 5], [4, 4], [5, 7], [7, 13], [8, 8], [9, 17], [16, 16], [17, 33], [31, 15], [33, 70], [70, 100], [100, 130],
  [130, 170], [170, 784], [10, 70], [61, 47],
  // The RNN's U (N = 100, 28 inputs) and a short packed one (three blocks of four rows, a tail of two): kern.c's packed matVec.
  [100, 28], [12, 30], [100, 100],
];

/**
 * The packed first layer (native AVX-512 arenas: packedInput) against wasm's unpacked kernels: W packed on the native
 * side and transposed on the wasm side, then two online steps of every kind (the forward pass with and without bias;
 * inputSweep with A and B, B alone, A alone) on images with blank groups, a lone +0 and −0 among nonzero pixels, and
 * W back from either layout. Every buffer but the two layouts themselves is compared byte for byte after each call;
 * W after unpacking. Shapes with m a multiple of four (the packed layout's condition): every n mod 8, one and an odd
 * number of blocks, the paper net's first layer. Empty where the arena has no packed kernels.
 */
export function packedCases(n: number, m: number, seed: number): string[] {
  const bad: string[] = [];
  const T = new Twin(4 * (8 * n * m + 40 * (n + m)) + (1 << 20), new Rng(seed));
  if (T.N.kernels.fused!.packedInput === undefined) return bad;
  const stride = (n + 3) & ~3;
  const kw = T.A.kernels.fused!.input, kn = T.N.kernels.fused!.packedInput;
  const WT = T.A.alloc(m * stride), P = T.N.alloc(m * stride); // the two layouts: not compared
  const W = T.buf(n * m), z = T.buf(n), bias = T.buf(n), y = T.buf(n), A = T.buf(n), Bv = T.buf(n), u = T.buf(m);
  const imgs = [T.image(m, 0.6), T.image(m, 0.3)];
  for (const img of imgs) for (const s of ["w", "n"] as const) { if (m > 5) { img[s][1] = 0; img[s][m - 2] = -0; img[s][5] = -0; } }
  // Where only the sign of a zero tells the expressions apart: weights −0 in the last unit and at n & ~7 of every
  // third pixel, B = +0 there (c·B is then −0 for half the rows, and r + c·B differs from r + (c·B + 0·0)).
  for (const s of ["w", "n"] as const) {
    for (const i of new Set([n - 1, n & ~7].filter((i) => i < n))) {
      Bv[s][i] = 0;
      for (let j = 0; j < m; j += 3) W[s][i * m + j] = -0;
    }
  }
  const ixw = T.A.alloc(m), ixn = T.N.alloc(m);
  const idx = { w: new Int32Array(ixw.buffer, ixw.byteOffset, m), n: new Int32Array(ixn.buffer, ixn.byteOffset, m) };
  const cnt = { w: 0, n: 0 };
  const both = (what: string, f: (k: typeof kw, side: "w" | "n", L: Buf) => void) => {
    f(kw, "w", WT); f(kn, "n", P);
    const d = T.diff(`packed ${what} (${n}×${m})`);
    if (d !== null) bad.push(d);
  };
  both("pack", (k, s, L) => k.transpose(L, W[s], n, m, stride, false));
  for (const img of imgs) {
    both("nonzeros", (k, s) => { cnt[s] = k.nonzeros(idx[s], img[s], m); });
    if (cnt.w !== cnt.n) bad.push(`packed nonzeros: ${cnt.w} vs ${cnt.n}`);
    for (const bb of [null, bias]) both(`matVecT bias=${bb !== null}`, (k, s, L) => k.matVecT(z[s], L, stride, img[s], idx[s], cnt[s], n, bb && bb[s]));
    for (const [hasA, hasB] of [[true, true], [false, true], [true, false]]) {
      both(`inputSweep A=${hasA} B=${hasB}`, (k, s, L) => k.inputSweep(L, stride, m, n, img[s], y[s], hasA ? A[s] : null, hasB ? Bv[s] : null, u[s], idx[s], cnt[s], []));
    }
  }
  both("unpack", (k, s, L) => k.transpose(L, W[s], n, m, stride, true));
  return bad;
}

/** Shapes of the packed first layer: n mod 8 every value, m = 4 (one block), 12 (an odd number), 784 (MNIST). */
export const PACKED_SHAPES: [number, number][] = [[1, 4], [2, 8], [3, 12], [4, 12], [5, 20], [6, 16], [7, 28], [8, 36], [9, 44], [13, 4], [17, 60],
  [33, 92], [170, 784], [100, 784]];

export function allCases(): string[] {
  const bad: string[] = [];
  SHAPES.forEach(([n, m], i) => bad.push(...kernelCases(n, m, 1000 + i)));
  PACKED_SHAPES.forEach(([n, m], i) => bad.push(...packedCases(n, m, 2000 + i)));
  return bad;
}

export type { Buf };

// As a script (the child processes of test/native.test.ts): print the mismatches, one per line, then the count.
if (process.argv[1]?.endsWith("native-cases.ts")) {
  const bad = allCases();
  for (const b of bad) console.log(b);
  console.log(`mismatches ${bad.length}`);
}
