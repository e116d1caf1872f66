import {
  allFinite,
  softplusAt,
  jsInputKernels,
  jsKernels,
  tanh as jsTanh,
  lin2 as jsLin2,
  matTVec2x2 as jsMatTVec2x2,
  matVec2 as jsMatVec2,
  mul as jsMul,
  sub as jsSub,
  tanErr as jsTanErr,
  type Arena,
  type Buf,
  type InputKernels,
  type Kernels,
} from "./kernels.js";
import { KERNELS_WASM_BASE64 } from "./wasm-binary.js";

/**
 * The WebAssembly SIMD backend (asm/kernels.ts). An arena is one module
 * instance with its own fixed-size memory: buffers are Float32Array views
 * into it, handed out by a bump allocator, and the memory never grows, so
 * views never detach. Kernels take byte offsets; a buffer that is not in the
 * arena's memory falls back to the plain kernel.
 */
interface Exports {
  matVec(out: number, W: number, x: number, n: number, m: number, b: number): void;
  matTVec(out: number, W: number, a: number, n: number, m: number): void;
  matTVec2(outA: number, outB: number, W: number, a: number, b: number, n: number, m: number): void;
  matVecs(out: number, W: number, X: number, T: number, n: number, m: number): void;
  matTVecs(out: number, W: number, A: number, T: number, n: number, m: number): void;
  addOuters(W: number, n: number, m: number, K: number, desc: number): void;
  backUpdate(g: number, W: number, Wout: number, e: number, n: number, m: number, K: number, desc: number, d: number, bte: number): void;
  sub(out: number, a: number, b: number, m: number): void;
  mulv(out: number, a: number, b: number, n: number): void;
  lin2(out: number, sa: number, a: number, sb: number, b: number, n: number, acc: number): void;
  tanErr(de: number, g: number, d: number, bte: number, d2: number, dz: number, m: number): void;
  heapBase(): number;
  activate(y: number, d: number, z: number, n: number, code: number, beta: number): void;
  nonzeros(idx: number, x: number, m: number): number;
  matVecT(out: number, WT: number, stride: number, x: number, idx: number, cnt: number, n: number, b: number): void;
  inputSweep(
    WT: number,
    stride: number,
    m: number,
    n: number,
    x: number,
    y: number,
    A: number,
    B: number,
    u: number,
    idx: number,
    cnt: number,
    P: number,
    tdesc: number,
  ): void;
  transpose(WT: number, W: number, n: number, m: number, stride: number, toW: number): void;
  matVec2(out: number, A: number, x: number, B: number, w: number, n: number, m: number, b: number): void;
  matTVec2x2(outA: number, outB: number, W: number, a: number, b: number, V: number, c: number, d: number, n: number, m: number): void;
  addOutersT(W: number, n: number, m: number, K: number, T: number, desc: number, cbuf: number): void;
  tanhv(y: number, d: number, z: number, n: number): void;
  matVecNZ(out: number, W: number, x: number, n: number, m: number, b: number, gidx: number, groups: number): number;
  finite(p: number, n: number): number;
  sumSq(p: number, n: number): number;
  rngState(): number;
  uniformFill(W: number, n: number, a: number): void;
  softplusF(y: number, z: number, n: number, beta: number, bad: number): number;
  addScaled64(out: number, s: number, u: number, n: number, first: number): void;
  signOf(B: number, W: number, s: number, M: number, n: number): void;
  daleProject(W: number, sg: number, n: number, m: number): void;
  pixels(x: number, bytes: number, m: number): void;
  rnnBack(G: number, S: number, D: number, H: number, UJ: number, J: number, BJ: number, N: number, T: number, leak: number, rest: number, flags: number): void;
  rnnFwd(A: number, H: number, R: number, S: number, J: number, N: number, T: number, rows: number, leak: number, rest: number, flags: number): void;
  /** Native AVX-512 arenas only (not wasm exports): the packed first layer of NativeKernels on this memory. */
  packT?(P: number, W: number, n: number, m: number, stride: number, back: number): void;
  matVecTP?(out: number, P: number, stride: number, x: number, idx: number, cnt: number, n: number, b: number): void;
  inputSweepP?(P: number, stride: number, m: number, n: number, x: number, y: number, A: number, B: number, u: number, idx: number, cnt: number): void;
  /** Native arenas only (not a wasm export): NativeKernels.forwardSp on this memory. */
  forwardSp?(z: number, y: number, d: number, u: number, W: number, x: number, b: number, n: number, m: number, beta: number): void;
  monoUpdate(out: number, W: number, pre: number, post: number, C: number, T: number, n: number, m: number): void;
  monoTangent(out: number, W: number, dW: number, pre: number, dpre: number, post: number, dpost: number, C: number, dC: number,
    T: number, n: number, m: number): void;
}

/**
 * The native kernels (native/kern.c, an N-API addon that src/core/native.ts loads in
 * Node): C twins of some exports above, the same floats bit for bit, run on the same
 * memory. Each takes the memory's address (bind) first, then the export's arguments.
 * Declared here, and registered from outside (registerNative), so that this file and
 * the browser bundle never import Node's loader.
 */
export interface NativeKernels {
  bind(buffer: ArrayBuffer): number;
  /** The vector path chosen at load: "avx512", "avx2" or "portable". */
  isa(): string;
  /** The hash of the native/ sources the addon was built from (src/core/native.ts checks it); absent in addons built before it. */
  source?(): string;
  matVec(B: number, out: number, W: number, x: number, n: number, m: number, b: number): void;
  matVecNZ(B: number, out: number, W: number, x: number, n: number, m: number, b: number, gidx: number, groups: number): number;
  matTVec(B: number, out: number, W: number, a: number, n: number, m: number): void;
  matTVec2(B: number, outA: number, outB: number, W: number, a: number, b: number, n: number, m: number): void;
  matVecs(B: number, out: number, W: number, X: number, T: number, n: number, m: number): void;
  matTVecs(B: number, out: number, W: number, A: number, T: number, n: number, m: number): void;
  addOuters(B: number, W: number, n: number, m: number, K: number, desc: number): void;
  backUpdate(B: number, g: number, W: number, Wout: number, e: number, n: number, m: number, K: number, desc: number, d: number, bte: number): void;
  matVecT(B: number, out: number, WT: number, stride: number, x: number, idx: number, cnt: number, n: number, b: number): void;
  inputSweep(B: number, WT: number, stride: number, m: number, n: number, x: number, y: number, A: number, Bv: number, u: number, idx: number,
    cnt: number, P: number, tdesc: number): void;
  matVec2(B: number, out: number, A: number, x: number, Bm: number, w: number, n: number, m: number, b: number): void;
  matTVec2x2(B: number, outA: number, outB: number, W: number, a: number, b: number, V: number, c: number, d: number, n: number, m: number): void;
  addOutersT(B: number, W: number, n: number, m: number, K: number, T: number, desc: number, cbuf: number): void;
  rnnBack(B: number, G: number, S: number, D: number, H: number, UJ: number, J: number, BJ: number, N: number, T: number, leak: number, rest: number,
    flags: number): void;
  /** rnnFwd of asm/kernels.ts for N a multiple of four (wasm's tanhv ends in Mathf.tanh for the rest, which has no C twin). */
  rnnFwd(B: number, A: number, H: number, R: number, S: number, J: number, N: number, T: number, rows: number, leak: number, rest: number,
    flags: number): void;
  /**
   * activate's softplus (code 0) for the units j < n, n a multiple of four: wasm's four-lane body, the same
   * bits (its scalar tail, Mathf.exp and Mathf.log1p, has no C twin: the caller runs it in wasm). The
   * native-fast copies take this exact one too.
   */
  softplusHead(B: number, y: number, d: number, z: number, n: number, beta: number): void;
  /**
   * forwardHidden for softplus in one call: matVec, the softplus head, and matTVec when u ≠ 0 and n is a
   * multiple of four (the caller runs the wasm tail and then matTVec otherwise). Exact copies only.
   */
  forwardSp?(B: number, z: number, y: number, d: number, u: number, W: number, x: number, b: number, n: number, m: number, beta: number): void;
  /**
   * The native-fast copies (--backend native-fast): the same functions with FMA contraction and 8- or 16-lane
   * reductions, so not the wasm kernels' floats (native/kern.c); absent without AVX2 + FMA.
   */
  fast?: NativeKernels;
  /**
   * The first layer in a packed layout (blocks of four pixel rows, each group of four units of the four rows side
   * by side: native/kern.c), exact AVX-512 copies only: W ↔ P (back = 1: to W), matVecT and inputSweep without
   * tangents on P, the same floats as on WT.
   */
  packT?(B: number, P: number, W: number, n: number, m: number, stride: number, back: number): void;
  matVecTP?(B: number, out: number, P: number, stride: number, x: number, idx: number, cnt: number, n: number, b: number): void;
  inputSweepP?(B: number, P: number, stride: number, m: number, n: number, x: number, y: number, A: number, Bv: number, u: number, idx: number,
    cnt: number): void;
}

let native: NativeKernels | null = null;

/** Make the native kernels available to arenas built with `native` (src/core/native.ts calls this once it has loaded them). */
export function registerNative(k: NativeKernels | null, why?: string): void { native = k; if (why !== undefined) nativeWhy = why; }

let nativeWhy = "not loaded in this thread";
/** Why the native kernels are absent here (what src/core/native.ts found), for errors raised far from the CLI (a worker, a sweep cell). */
export function nativeMissingReason(): string { return nativeWhy; }

/** The registered native kernels' vector path ("avx2", …), or null when none are loaded. */
export function nativeIsa(): string | null { return native === null ? null : native.isa(); }

/** The native-fast kernels' vector path ("avx512+fma", "avx2+fma"), or null when they are not loaded (no addon, or no AVX2 + FMA). */
export function nativeFastIsa(): string | null { return native?.fast?.isa() ?? null; }

/** The kernels an arena runs: the wasm exports, the native twins (same bytes), or the native-fast copies (FMA, wide reductions). */
export type ArenaBackend = "wasm" | "native" | "native-fast";

/** The wasm exports with the native twins in place of the kernels they have, on memory at address B. */
function withNative(x: Exports, N: NativeKernels, B: number): Exports {
  return {
    ...x,
    matVec: (out, W, v, n, m, b) => N.matVec(B, out, W, v, n, m, b),
    matVecNZ: (out, W, v, n, m, b, gidx, groups) => N.matVecNZ(B, out, W, v, n, m, b, gidx, groups),
    matTVec: (out, W, a, n, m) => N.matTVec(B, out, W, a, n, m),
    matTVec2: (oA, oB, W, a, b, n, m) => N.matTVec2(B, oA, oB, W, a, b, n, m),
    matVecs: (out, W, X, T, n, m) => N.matVecs(B, out, W, X, T, n, m),
    matTVecs: (out, W, A, T, n, m) => N.matTVecs(B, out, W, A, T, n, m),
    addOuters: (W, n, m, K, desc) => N.addOuters(B, W, n, m, K, desc),
    backUpdate: (g, W, Wout, e, n, m, K, desc, d, bte) => N.backUpdate(B, g, W, Wout, e, n, m, K, desc, d, bte),
    matVecT: (out, WT, stride, v, idx, cnt, n, b) => N.matVecT(B, out, WT, stride, v, idx, cnt, n, b),
    inputSweep: (WT, stride, m, n, v, y, A, Bv, u, idx, cnt, P, tdesc) => N.inputSweep(B, WT, stride, m, n, v, y, A, Bv, u, idx, cnt, P, tdesc),
    matVec2: (out, A, v, Bm, w, n, m, b) => N.matVec2(B, out, A, v, Bm, w, n, m, b),
    matTVec2x2: (oA, oB, W, a, b, V, c, d, n, m) => N.matTVec2x2(B, oA, oB, W, a, b, V, c, d, n, m),
    addOutersT: (W, n, m, K, T, desc, cbuf) => N.addOutersT(B, W, n, m, K, T, desc, cbuf),
    rnnBack: (G, S, D, H, UJ, J, BJ, n, T, leak, rest, flags) => N.rnnBack(B, G, S, D, H, UJ, J, BJ, n, T, leak, rest, flags),
    // Only for N a multiple of four (the fused wrapper declines the rest on native arenas: wasm's tanh tail is
    // Mathf.tanh, which has no C twin, and the per-step loop keeps the native matVec).
    rnnFwd: (A, H, R, S, J, n, T, rows, leak, rest, flags) => N.rnnFwd(B, A, H, R, S, J, n, T, rows, leak, rest, flags),
    // Softplus: the units j < n & ~3 in C (the same bits), the last n mod 4 in wasm's scalar act() on the same
    // memory (as wasm's own activate does them after its vector loops). Other activations stay in wasm.
    ...(N.forwardSp ? { forwardSp: (z, y, d, u, W, v, b, n, m, beta) => N.forwardSp!(B, z, y, d, u, W, v, b, n, m, beta) } as Pick<Exports, "forwardSp"> : {}),
    ...(N.packT && N.matVecTP && N.inputSweepP ? {
      packT: (P, W, n, m, stride, back) => N.packT!(B, P, W, n, m, stride, back),
      matVecTP: (out, P, stride, v, idx, cnt, n, b) => N.matVecTP!(B, out, P, stride, v, idx, cnt, n, b),
      inputSweepP: (P, stride, m, n, v, y, A, Bv, u, idx, cnt) => N.inputSweepP!(B, P, stride, m, n, v, y, A, Bv, u, idx, cnt),
    } as Pick<Exports, "packT" | "matVecTP" | "inputSweepP"> : {}),
    activate: (y, d, z, n, code, beta) => {
      const n4 = n & ~3;
      if (code !== 0 || n4 === 0) { x.activate(y, d, z, n, code, beta); return; }
      N.softplusHead(B, y, d, z, n4, beta);
      if (n4 < n) x.activate(y + 4 * n4, d + 4 * n4, z + 4 * n4, n - n4, code, beta);
    },
  };
}

let compiled: WebAssembly.Module | null = null;

/**
 * The compiled module (about 37 KB, compiled once per thread). Compiled
 * synchronously: Node and Web Workers (where the app and the browser bench
 * run the kernels) allow that at any size; a browser's main thread may refuse
 * a module this large, and then the plain kernels run (wasmAvailable).
 */
export function wasmModule(): WebAssembly.Module {
  if (compiled === null) {
    const bin = atob(KERNELS_WASM_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** Whether this runtime has WebAssembly with SIMD (the module fails to compile otherwise). */
export function wasmAvailable(): boolean {
  try { wasmModule(); return true; } catch { return false; }
}

const PAGE = 65536;
const DESC_RECORDS = 16;
/** Tangent records for inputSweep (one per meta-parameter). */
const TANGENT_RECORDS = 64;
/** Scratch of addOutersT: four coefficients per (term, time step) of one call (larger calls are split by terms). */
const CBUF_FLOATS = 1 << 15;

export class WasmArena implements Arena {
  readonly dtype = "f32" as const;
  readonly kernels: Kernels;
  readonly capacity: number;
  private readonly memory: WebAssembly.Memory;
  private readonly x: Exports;
  private readonly descF: Float32Array;
  private readonly descU: Uint32Array;
  private readonly descPtr: number;
  private readonly tdescU: Uint32Array;
  private readonly tdescPtr: number;
  private readonly cbufPtr: number;
  /** The scratch of addOutersT as bytes (pixels stage an image there: the two never run at once). */
  private readonly scratchBytes: Uint8Array;
  private readonly base: number;
  private top: number;

  /**
   * "native" when the native kernels run the heavy sweeps on this arena's memory (the rest stays in wasm), "native-fast"
   * for their FMA / wide-reduction copies, else "wasm".
   */
  readonly backend: ArenaBackend;

  /** `withNativeKernels`: true (or "native") for the native twins, "native-fast" for the fast copies. */
  constructor(bytes: number, withNativeKernels: boolean | ArenaBackend = false) {
    const kind: ArenaBackend = withNativeKernels === true ? "native" : withNativeKernels === false ? "wasm" : withNativeKernels;
    if (kind !== "wasm" && native === null) throw new Error("native kernels are not loaded (build/native.node): use --backend wasm");
    if (kind === "native-fast" && native!.fast === undefined) throw new Error("native-fast kernels need AVX2 and FMA, which this CPU lacks");
    const pages = Math.ceil((bytes + DESC_RECORDS * 12 + TANGENT_RECORDS * 24 + 4 * CBUF_FLOATS + 96) / PAGE) + 2; // + static data
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.x = new WebAssembly.Instance(wasmModule(), {
      env: {
        memory: this.memory,
        abort: () => {
          throw new Error("wasm abort");
        },
      },
    }).exports as unknown as Exports;
    this.backend = kind;
    // The memory never grows, so its bytes never move: the native kernels take its address once.
    if (kind !== "wasm") this.x = withNative(this.x, kind === "native" ? native! : native!.fast!, native!.bind(this.memory.buffer));
    this.capacity = pages * PAGE;
    // Below heapBase lives the module's static data (Mathf's tables); a zero pointer means "none".
    this.descPtr = (Math.max(16, this.x.heapBase()) + 15) & ~15;
    this.descF = new Float32Array(this.memory.buffer, this.descPtr, DESC_RECORDS * 3);
    this.descU = new Uint32Array(this.memory.buffer, this.descPtr, DESC_RECORDS * 3);
    this.tdescPtr = this.descPtr + DESC_RECORDS * 12 + 16;
    this.tdescU = new Uint32Array(this.memory.buffer, this.tdescPtr, TANGENT_RECORDS * 6);
    this.cbufPtr = this.tdescPtr + TANGENT_RECORDS * 24 + 16;
    this.scratchBytes = new Uint8Array(this.memory.buffer, this.cbufPtr, 4 * CBUF_FLOATS);
    this.base = this.cbufPtr + 4 * CBUF_FLOATS + 16;
    this.top = this.base;
    this.kernels = this.makeKernels();
  }

  /** A zeroed f32 buffer of n values, 16-byte aligned. */
  alloc(n: number): Float32Array {
    const start = (this.top + 15) & ~15;
    const end = start + 4 * n;
    if (end > this.capacity) throw new Error(`wasm arena full (${this.capacity} bytes): size it for the network`);
    this.top = end;
    const v = new Float32Array(this.memory.buffer, start, n);
    v.fill(0);
    return v;
  }

  /**
   * loadPixels of example bytes images[o … o + dim) into x, a view of this
   * arena: the bytes are copied into the kernels' scratch and scaled there.
   * False, having done nothing, where that cannot be done exactly as the
   * plain loop does it (a short x, a short image array, a large dim).
   */
  pixels(x: Float32Array, images: Uint8Array, o: number, dim: number): boolean {
    const p = this.offsetOf(x);
    if (p < 0 || x.length < dim || o < 0 || o + dim > images.length || dim > this.scratchBytes.length) return false;
    this.scratchBytes.set(images.subarray(o, o + dim));
    this.x.pixels(p, this.cbufPtr, dim);
    return true;
  }

  /** Free everything at once (every view handed out before is now invalid for new owners). */
  reset(): void { this.top = this.base; }

  /** Bytes the arena can hand out in all (its memory less the module's data and the kernels' scratch). */
  get room(): number { return this.capacity - this.base; }

  /**
   * Byte offset of a view in this arena's memory, or −1 when it lives
   * elsewhere (the kernel then falls back to the plain one). Reading .buffer
   * and .byteOffset of a view on WebAssembly memory costs tens of ns each, and
   * a step makes hundreds of such calls, so the answer is memoized on the
   * view under private symbols.
   */
  offsetOf(b: Buf | Int32Array): number {
    const t = b as Marked;
    if (t[OWNER] === this) return t[OFFSET]!;
    if ((b instanceof Float32Array || b instanceof Int32Array) && b.buffer === this.memory.buffer) {
      // Non-enumerable: the marks must not show in comparisons or copies of the view.
      Object.defineProperty(t, OWNER, { value: this, writable: true });
      Object.defineProperty(t, OFFSET, { value: b.byteOffset, writable: true });
      return b.byteOffset;
    }
    return -1;
  }

  private makeKernels(): Kernels {
    const x = this.x, descF = this.descF, descU = this.descU, descPtr = this.descPtr, cbufPtr = this.cbufPtr;
    const rngState = new Uint32Array(this.memory.buffer, x.rngState(), 4);
    const cbufI = new Int32Array(this.memory.buffer, cbufPtr, CBUF_FLOATS);
    // A monomial family's 27 coefficients and their tangents, staged in the scratch of addOutersT (free while they run).
    const cbufD = new Float64Array(this.memory.buffer, cbufPtr, 54);
    // o(b): offset or −1; on(b): 0 for null. A bitwise OR of offsets is negative iff one of them is −1.
    const o = (b: Buf) => this.offsetOf(b), on = (b: Buf | null) => (b === null ? 0 : this.offsetOf(b));
    /** Descriptor records (s, u, v) of K rank-1 terms; false when a vector is foreign. */
    const describe = (s: ArrayLike<number>, u: readonly Buf[], v: readonly Buf[], K: number): boolean => {
      if (K > DESC_RECORDS) return false;
      for (let k = 0; k < K; k++) {
        const pu = o(u[k]), pv = o(v[k]);
        if ((pu | pv) < 0) return false;
        descF[3 * k] = s[k]; descU[3 * k + 1] = pu; descU[3 * k + 2] = pv;
      }
      return true;
    };
    return {
      matVec(out, W, v, n, m, b = null) {
        const p0 = o(out), p1 = o(W), p2 = o(v), p3 = on(b);
        if ((p0 | p1 | p2 | p3) >= 0) x.matVec(p0, p1, p2, n, m, p3);
        else jsKernels.matVec(out, W, v, n, m, b);
      },
      matTVec(out, W, a, n, m) {
        const p0 = o(out), p1 = o(W), p2 = o(a);
        if ((p0 | p1 | p2) >= 0) x.matTVec(p0, p1, p2, n, m);
        else jsKernels.matTVec(out, W, a, n, m);
      },
      matTVec2(outA, outB, W, a, b, n, m) {
        const p0 = o(outA), p1 = o(outB), p2 = o(W), p3 = o(a), p4 = o(b);
        if ((p0 | p1 | p2 | p3 | p4) >= 0) x.matTVec2(p0, p1, p2, p3, p4, n, m);
        else jsKernels.matTVec2(outA, outB, W, a, b, n, m);
      },
      matVecs(out, W, X, T, n, m) {
        const p0 = o(out), p1 = o(W), p2 = o(X);
        if ((p0 | p1 | p2) >= 0) x.matVecs(p0, p1, p2, T, n, m);
        else jsKernels.matVecs(out, W, X, T, n, m);
      },
      matTVecs(out, W, A, T, n, m) {
        const p0 = o(out), p1 = o(W), p2 = o(A);
        if ((p0 | p1 | p2) >= 0) x.matTVecs(p0, p1, p2, T, n, m);
        else jsKernels.matTVecs(out, W, A, T, n, m);
      },
      matVec2(out, A, v, B, w, n, m, b = null) {
        const p0 = o(out), p1 = o(A), p2 = o(v), p3 = o(B), p4 = o(w), p5 = on(b);
        if ((p0 | p1 | p2 | p3 | p4 | p5) >= 0) x.matVec2(p0, p1, p2, p3, p4, n, m, p5);
        else jsMatVec2(out, A, v, B, w, n, m, b);
      },
      matTVec2x2(outA, outB, W, a, b, V, c, d, n, m) {
        const p0 = o(outA), p1 = o(outB), p2 = o(W), p3 = o(a), p4 = o(b), p5 = o(V), p6 = o(c), p7 = o(d);
        if ((p0 | p1 | p2 | p3 | p4 | p5 | p6 | p7) >= 0) x.matTVec2x2(p0, p1, p2, p3, p4, p5, p6, p7, n, m);
        else jsMatTVec2x2(outA, outB, W, a, b, V, c, d, n, m);
      },
      mul(out, a, b, n) {
        const p0 = o(out), p1 = o(a), p2 = o(b);
        if ((p0 | p1 | p2) >= 0) x.mulv(p0, p1, p2, n); else jsMul(out, a, b, n);
      },
      sub(out, a, b, n) {
        const p0 = o(out), p1 = o(a), p2 = o(b);
        if ((p0 | p1 | p2) >= 0) x.sub(p0, p1, p2, n); else jsSub(out, a, b, n);
      },
      lin2(out, sa, a, sb, b, n, acc) {
        const p0 = o(out), p1 = o(a), p2 = o(b);
        if ((p0 | p1 | p2) >= 0) x.lin2(p0, sa, p1, sb, p2, n, acc ? 1 : 0); else jsLin2(out, sa, a, sb, b, n, acc);
      },
      tanErr(de, g, d, bte, d2, dz, m) {
        const p0 = o(de), p1 = o(g), p2 = o(d), p3 = o(bte), p4 = o(d2), p5 = o(dz);
        if ((p0 | p1 | p2 | p3 | p4 | p5) >= 0) x.tanErr(p0, p1, p2, p3, p4, p5, m); else jsTanErr(de, g, d, bte, d2, dz, m);
      },
      addOuter(W, s, u, v, n, m) {
        const pW = o(W), pu = o(u), pv = o(v);
        if ((pW | pu | pv) >= 0) {
          descF[0] = s; descU[1] = pu; descU[2] = pv;
          x.addOuters(pW, n, m, 1, descPtr);
        } else jsKernels.addOuter(W, s, u, v, n, m);
      },
      addOutersT(W, s, u, v, K, T, n, m) {
        if (T === 1) return this.addOuters(W, s, u, v, K, n, m);
        const pW = o(W), per = Math.max(1, Math.min(DESC_RECORDS, Math.floor(CBUF_FLOATS / (4 * T))));
        if (pW < 0 || 4 * T > CBUF_FLOATS) return jsKernels.addOutersT(W, s, u, v, K, T, n, m);
        // Terms in groups whose coefficients fit the scratch; W accumulates across groups.
        for (let k0 = 0; k0 < K; k0 += per) {
          const Kc = Math.min(per, K - k0);
          let ok = true;
          for (let k = 0; k < Kc && ok; k++) {
            const pu = o(u[k0 + k]), pv = o(v[k0 + k]);
            ok = (pu | pv) >= 0;
            descF[3 * k] = s[k0 + k]; descU[3 * k + 1] = pu; descU[3 * k + 2] = pv;
          }
          if (!ok) {
            jsKernels.addOutersT(
              W,
              Array.from({ length: Kc }, (_, k) => s[k0 + k]),
              u.slice(k0, k0 + Kc),
              v.slice(k0, k0 + Kc),
              Kc,
              T,
              n,
              m,
            );
            continue;
          }
          x.addOutersT(pW, n, m, Kc, T, descPtr, cbufPtr);
        }
      },
      monoUpdate(out, W, pre, post, C, T, n, m) {
        const p0 = o(out), p1 = o(W), p2 = o(pre), p3 = o(post);
        if ((p0 | p1 | p2 | p3) < 0) return jsKernels.monoUpdate(out, W, pre, post, C, T, n, m);
        cbufD.set(C);
        x.monoUpdate(p0, p1, p2, p3, cbufPtr, T, n, m);
      },
      monoTangent(out, W, dW, pre, dpre, post, dpost, C, dC, T, n, m) {
        const p0 = o(out), p1 = o(W), p2 = o(dW), p3 = o(pre), p4 = o(dpre), p5 = o(post), p6 = o(dpost);
        if ((p0 | p1 | p2 | p3 | p4 | p5 | p6) < 0) return jsKernels.monoTangent(out, W, dW, pre, dpre, post, dpost, C, dC, T, n, m);
        cbufD.set(C);
        cbufD.set(dC, 27);
        x.monoTangent(p0, p1, p2, p3, p4, p5, p6, cbufPtr, cbufPtr + 216, T, n, m);
      },
      tanh(y, d, z, n) {
        const p0 = o(y), p1 = o(d), p2 = o(z);
        if ((p0 | p1 | p2) >= 0) x.tanhv(p0, p1, p2, n); else jsTanh(y, d, z, n);
      },
      matVecSparse(out, W, v, n, m, b = null) {
        // The scratch of addOutersT holds the group offsets (the two never run at once).
        const p0 = o(out), p1 = o(W), p2 = o(v), p3 = on(b);
        return (p0 | p1 | p2 | p3) >= 0 && x.matVecNZ(p0, p1, p2, n, m, p3, cbufPtr, CBUF_FLOATS) === 1;
      },
      finite(a) {
        const p = o(a);
        return p >= 0 ? x.finite(p, a.length) === 1 : allFinite(a);
      },
      sumSq(a) {
        const p = o(a);
        if (p >= 0) return x.sumSq(p, a.length);
        let s = 0;
        for (let i = 0; i < a.length; i++) s += a[i] * a[i];
        return s;
      },
      uniformFill(W, n, a, rng) {
        const p = o(W);
        if (p < 0) return false;
        rng.saveState(rngState);
        x.uniformFill(p, n, a);
        rng.loadState(rngState);
        return true;
      },
      softplus(y, z, n, beta) {
        // The kernel lists the units it cannot vouch for (scratch of addOutersT, free here); they take the plain formula.
        const py = o(y), pz = o(z);
        if ((py | pz) < 0 || n > CBUF_FLOATS) return -1;
        const c = x.softplusF(py, pz, n, beta, cbufPtr);
        for (let j = 0; j < c; j++) { const i = cbufI[j]; y[i] = softplusAt(z[i], beta); }
        return c;
      },
      addScaled(out, s, u, n, first) {
        const p0 = o(out), p1 = o(u);
        if ((p0 | p1) < 0) return false;
        x.addScaled64(p0, s, p1, n, first ? 1 : 0);
        return true;
      },
      signOf(B, W, s, M, n) {
        const pB = o(B), pW = o(W), pM = M === null ? 0 : o(M);
        if ((pB | pW | pM) < 0) return false;
        x.signOf(pB, pW, s, pM, n);
        return true;
      },
      daleProject(W, sg, n, m) {
        const pW = o(W), pS = o(sg);
        if ((pW | pS) < 0) return false;
        x.daleProject(pW, pS, n, m);
        return true;
      },
      addOuters(W, s, u, v, K, n, m) {
        const pW = o(W);
        if (pW >= 0 && describe(s, u, v, K)) x.addOuters(pW, n, m, K, descPtr);
        else jsKernels.addOuters(W, s, u, v, K, n, m);
      },
      fused: {
        // Measured: a single sweep that also accumulates u while rows are in L1 was no faster (the kernels are
        // instruction-bound), so this is three calls: z = W x [+ b], σ and σ' in wasm, then u = Wᵀy.
        forwardHidden(z, y, d, u, W, v, b, n, m, code, beta) {
          const pz = o(z), py = o(y), pd = o(d), pW = o(W), pv = o(v), pu = on(u), pb = on(b);
          if ((pz | py | pd | pW | pv | pu | pb) < 0) return false;
          if (code === 0 && x.forwardSp !== undefined) {
            // Native: the layer in one call (matVec, softplus head, and matTVec when n is a multiple of four).
            x.forwardSp(pz, py, pd, pu, pW, pv, pb, n, m, beta);
            const n4 = n & ~3;
            if (n4 < n) {
              x.activate(py + 4 * n4, pd + 4 * n4, pz + 4 * n4, n - n4, code, beta);
              if (u !== null) x.matTVec(pu, pW, py, n, m);
            }
            return true;
          }
          x.matVec(pz, pW, pv, n, m, pb);
          x.activate(py, pd, pz, n, code, beta);
          if (u !== null) x.matTVec(pu, pW, py, n, m);
          return true;
        },
        input: this.makeInputKernels(),
        ...(this.x.packT ? { packedInput: this.makePackedInputKernels() } : {}),
        activate(y, d, z, n, code, beta) {
          const py = o(y), pd = o(d), pz = o(z);
          if ((py | pd | pz) < 0) return false;
          x.activate(py, pd, pz, n, code, beta);
          return true;
        },
        rnnBack(G, S, D, H, UJ, J, BJ, N, T, leak, needG0, needUJ, sym) {
          const p0 = o(G), p1 = o(S), p2 = o(D), p3 = o(H), p4 = o(UJ), p5 = o(J), p6 = o(BJ);
          if ((p0 | p1 | p2 | p3 | p4 | p5 | p6) < 0) return false;
          // 1 − α in float64 and then float32 at the call, as the loop's lin2 gets it.
          x.rnnBack(p0, p1, p2, p3, p4, p5, p6, N, T, leak, 1 - leak, (needG0 ? 1 : 0) | (needUJ ? 2 : 0) | (sym ? 4 : 0) | (leak !== 1 ? 8 : 0));
          return true;
        },
        rnnFwd: (A, H, R, S, J, N, T, rows, leak) => {
          const p0 = o(A), p1 = o(H), p2 = o(R), p3 = o(S), p4 = o(J);
          // Native arenas take N a multiple of four only (see withNative); the per-step loop runs the rest.
          if ((p0 | p1 | p2 | p3 | p4) < 0 || (this.backend !== "wasm" && (N & 3) !== 0)) return false;
          // 1 − α in float64 and then float32 at the call, as the loop's lin2 gets it.
          x.rnnFwd(p0, p1, p2, p3, p4, N, T, rows, leak, 1 - leak, leak !== 1 ? 8 : 0);
          return true;
        },
        backUpdate(g, W, Wout, e, n, m, s, u, v, K, d = null, bte = null) {
          const pg = on(g), pW = o(W), pO = o(Wout), pe = o(e), pd = on(d), pt = on(bte);
          if (K > 3 || (pg | pW | pO | pe | pd | pt) < 0 || (d === null) !== (bte === null) || !describe(s, u, v, K)) return false;
          x.backUpdate(pg, pW, pO, pe, n, m, K, descPtr, pd, pt);
          return true;
        },
      },
    };
  }

  /**
   * InputKernels on the packed layout (native AVX-512 arenas): no plain fallback, since the plain kernels read WT
   * unpacked; a buffer off the arena, a tangent or m not a multiple of four is a caller's error.
   */
  private makePackedInputKernels(): InputKernels {
    const x = this.x;
    const o = (b: Buf | Int32Array) => {
      const p = this.offsetOf(b);
      if (p < 0) throw new Error("packed first layer: a buffer is not on the arena");
      return p;
    };
    const on = (b: Buf | null) => (b === null ? 0 : o(b));
    const four = (m: number) => { if ((m & 3) !== 0) throw new Error("packed first layer: m must be a multiple of four"); };
    return {
      transpose(WT, W, n, m, stride, back) {
        four(m);
        x.packT!(o(WT), o(W), n, m, stride, back ? 1 : 0);
      },
      nonzeros(idx, v, m) { return x.nonzeros(o(idx), o(v), m); },
      matVecT(z, WT, stride, v, idx, cnt, n, b) { x.matVecTP!(o(z), o(WT), stride, o(v), o(idx), cnt, n, on(b)); },
      inputSweep(WT, stride, m, n, v, y, A, B, u, idx, cnt, tangents) {
        if (tangents.length > 0) throw new Error("packed first layer: no tangents (the tangent step keeps WT unpacked)");
        four(m);
        x.inputSweepP!(o(WT), stride, m, n, o(v), o(y), on(A), on(B), o(u), o(idx), cnt);
      },
    };
  }

  /** InputKernels in wasm; buffers outside this arena's memory take the plain references. */
  private makeInputKernels(): InputKernels {
    const x = this.x, tdesc = this.tdescU, tdescPtr = this.tdescPtr, js = jsInputKernels;
    const o = (b: Buf | Int32Array) => this.offsetOf(b), on = (b: Buf | null) => (b === null ? 0 : this.offsetOf(b));
    return {
      transpose(WT, W, n, m, stride, back) {
        const p0 = o(WT), p1 = o(W);
        if ((p0 | p1) >= 0) x.transpose(p0, p1, n, m, stride, back ? 1 : 0);
        else js.transpose(WT, W, n, m, stride, back);
      },
      nonzeros(idx, v, m) {
        const p0 = o(idx), p1 = o(v);
        return (p0 | p1) >= 0 ? x.nonzeros(p0, p1, m) : js.nonzeros(idx, v, m);
      },
      matVecT(z, WT, stride, v, idx, cnt, n, b) {
        const p0 = o(z), p1 = o(WT), p2 = o(v), p3 = o(idx), p4 = on(b);
        if ((p0 | p1 | p2 | p3 | p4) >= 0) x.matVecT(p0, p1, stride, p2, p3, cnt, n, p4);
        else js.matVecT(z, WT, stride, v, idx, cnt, n, b);
      },
      inputSweep(WT, stride, m, n, v, y, A, B, u, idx, cnt, tangents) {
        const p0 = o(WT), p1 = o(v), p2 = o(y), p3 = on(A), p4 = on(B), p5 = o(u), p6 = o(idx);
        let ok = (p0 | p1 | p2 | p3 | p4 | p5 | p6) >= 0 && tangents.length <= TANGENT_RECORDS;
        // (plain loops: this runs every step, so no closures or temporary arrays)
        for (let k = 0; ok && k < tangents.length; k++) {
          const t = tangents[k], q = 6 * k;
          const q0 = o(t.dWT), q1 = o(t.dy), q2 = on(t.A), q3 = on(t.B), q4 = on(t.C), q5 = on(t.du);
          ok = (q0 | q1 | q2 | q3 | q4 | q5) >= 0;
          tdesc[q] = q0; tdesc[q + 1] = q1; tdesc[q + 2] = q2; tdesc[q + 3] = q3; tdesc[q + 4] = q4; tdesc[q + 5] = q5;
        }
        if (!ok) return js.inputSweep(WT, stride, m, n, v, y, A, B, u, idx, cnt, tangents);
        x.inputSweep(p0, stride, m, n, p1, p2, p3, p4, p5, p6, cnt, tangents.length, tdescPtr);
      },
    };
  }
}

const OWNER = Symbol("neuroplastic wasm arena"), OFFSET = Symbol("neuroplastic byte offset");
interface Marked { [OWNER]?: WasmArena; [OFFSET]?: number }

/**
 * loadPixels into x by its arena's kernel (WasmArena.pixels) when x is a
 * view some kernel has already been given (its arena is known then without
 * reading .buffer); false otherwise, having done nothing.
 */
export function arenaPixels(x: Float32Array, images: Uint8Array, o: number, dim: number): boolean {
  const a = (x as Marked)[OWNER];
  return a !== undefined && a.pixels(x, images, o, dim);
}

const shared: Record<ArenaBackend, WasmArena | null> = { wasm: null, native: null, "native-fast": null };

/**
 * This thread's reusable arena, reset and at least `bytes` large (one for the
 * wasm kernels, one with the native ones). Tasks run one at a time per thread,
 * so each task takes it afresh; fresh WebAssembly memories per task would pile
 * up faster than the garbage collector frees them.
 */
export function sharedWasmArena(bytes: number, withNativeKernels: boolean | ArenaBackend = false): WasmArena {
  const key: ArenaBackend = withNativeKernels === true ? "native" : withNativeKernels === false ? "wasm" : withNativeKernels;
  let a = shared[key];
  if (a === null || a.room < bytes) a = shared[key] = new WasmArena(Math.max(bytes, 1 << 20), withNativeKernels);
  a.reset();
  return a;
}
