import { jsInputKernels, jsKernels, matTVec2x2 as jsMatTVec2x2, matVec2 as jsMatVec2, type Arena, type Buf, type InputKernels, type Kernels } from "./kernels.js";
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
  addOuters(W: number, n: number, m: number, K: number, desc: number): void;
  backUpdate(g: number, W: number, Wout: number, e: number, n: number, m: number, K: number, desc: number): void;
  heapBase(): number;
  activate(y: number, d: number, z: number, n: number, code: number, beta: number): void;
  nonzeros(idx: number, x: number, m: number): number;
  matVecT(out: number, WT: number, stride: number, x: number, idx: number, cnt: number, n: number, b: number): void;
  inputSweep(WT: number, stride: number, m: number, n: number, x: number, y: number, A: number, B: number, u: number, idx: number, cnt: number, P: number, tdesc: number): void;
  transpose(WT: number, W: number, n: number, m: number, stride: number, toW: number): void;
  matVec2(out: number, A: number, x: number, B: number, w: number, n: number, m: number, b: number): void;
  matTVec2x2(outA: number, outB: number, W: number, a: number, b: number, V: number, c: number, d: number, n: number, m: number): void;
}

let compiled: WebAssembly.Module | null = null;

/** The compiled module (compiled once per thread; 2 KB, so synchronous compilation is allowed everywhere). */
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
  private readonly base: number;
  private top: number;

  constructor(bytes: number) {
    const pages = Math.ceil((bytes + DESC_RECORDS * 12 + TANGENT_RECORDS * 24 + 64) / PAGE) + 2; // + static data
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.x = new WebAssembly.Instance(wasmModule(), { env: { memory: this.memory, abort: () => { throw new Error("wasm abort"); } } }).exports as unknown as Exports;
    this.capacity = pages * PAGE;
    // Below heapBase lives the module's static data (Mathf's tables); a zero pointer means "none".
    this.descPtr = (Math.max(16, this.x.heapBase()) + 15) & ~15;
    this.descF = new Float32Array(this.memory.buffer, this.descPtr, DESC_RECORDS * 3);
    this.descU = new Uint32Array(this.memory.buffer, this.descPtr, DESC_RECORDS * 3);
    this.tdescPtr = this.descPtr + DESC_RECORDS * 12 + 16;
    this.tdescU = new Uint32Array(this.memory.buffer, this.tdescPtr, TANGENT_RECORDS * 6);
    this.base = this.tdescPtr + TANGENT_RECORDS * 24 + 16;
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

  /** Free everything at once (every view handed out before is now invalid for new owners). */
  reset(): void { this.top = this.base; }

  get used(): number { return this.top - this.base; }

  private makeKernels(): Kernels {
    const x = this.x, mem = this.memory.buffer, descF = this.descF, descU = this.descU, descPtr = this.descPtr;
    const mine = (b: Buf) => b.buffer === mem && b instanceof Float32Array;
    return {
      name: "wasm-simd",
      matVec(out, W, v, n, m, b = null) {
        if (mine(out) && mine(W) && mine(v) && (b === null || mine(b))) x.matVec(out.byteOffset, W.byteOffset, v.byteOffset, n, m, b === null ? 0 : b.byteOffset);
        else jsKernels.matVec(out, W, v, n, m, b);
      },
      matTVec(out, W, a, n, m) {
        if (mine(out) && mine(W) && mine(a)) x.matTVec(out.byteOffset, W.byteOffset, a.byteOffset, n, m);
        else jsKernels.matTVec(out, W, a, n, m);
      },
      matTVec2(outA, outB, W, a, b, n, m) {
        if (mine(outA) && mine(outB) && mine(W) && mine(a) && mine(b)) x.matTVec2(outA.byteOffset, outB.byteOffset, W.byteOffset, a.byteOffset, b.byteOffset, n, m);
        else jsKernels.matTVec2(outA, outB, W, a, b, n, m);
      },
      matVec2(out, A, v, B, w, n, m, b = null) {
        if (mine(out) && mine(A) && mine(v) && mine(B) && mine(w) && (b === null || mine(b))) x.matVec2(out.byteOffset, A.byteOffset, v.byteOffset, B.byteOffset, w.byteOffset, n, m, b === null ? 0 : b.byteOffset);
        else jsMatVec2(out, A, v, B, w, n, m, b);
      },
      matTVec2x2(outA, outB, W, a, b, V, c, d, n, m) {
        if (mine(outA) && mine(outB) && mine(W) && mine(a) && mine(b) && mine(V) && mine(c) && mine(d)) x.matTVec2x2(outA.byteOffset, outB.byteOffset, W.byteOffset, a.byteOffset, b.byteOffset, V.byteOffset, c.byteOffset, d.byteOffset, n, m);
        else jsMatTVec2x2(outA, outB, W, a, b, V, c, d, n, m);
      },
      addOuter(W, s, u, v, n, m) {
        if (mine(W) && mine(u) && mine(v)) {
          descF[0] = s; descU[1] = u.byteOffset; descU[2] = v.byteOffset;
          x.addOuters(W.byteOffset, n, m, 1, descPtr);
        } else jsKernels.addOuter(W, s, u, v, n, m);
      },
      addOuters(W, s, u, v, K, n, m) {
        let ok = mine(W) && K <= DESC_RECORDS;
        for (let k = 0; ok && k < K; k++) ok = mine(u[k]) && mine(v[k]);
        if (!ok) return jsKernels.addOuters(W, s, u, v, K, n, m);
        for (let k = 0; k < K; k++) { descF[3 * k] = s[k]; descU[3 * k + 1] = u[k].byteOffset; descU[3 * k + 2] = v[k].byteOffset; }
        x.addOuters(W.byteOffset, n, m, K, descPtr);
      },
      fused: {
        // Measured: a single sweep that also accumulates u while rows are in L1 was no faster (the kernels are
        // instruction-bound), so this is three calls: z = W x [+ b], σ and σ' in wasm, then u = Wᵀy.
        forwardHidden(z, y, d, u, W, v, b, n, m, code, beta) {
          if (!(mine(z) && mine(y) && mine(d) && mine(W) && mine(v) && (u === null || mine(u)) && (b === null || mine(b)))) return false;
          x.matVec(z.byteOffset, W.byteOffset, v.byteOffset, n, m, b === null ? 0 : b.byteOffset);
          x.activate(y.byteOffset, d.byteOffset, z.byteOffset, n, code, beta);
          if (u !== null) x.matTVec(u.byteOffset, W.byteOffset, y.byteOffset, n, m);
          return true;
        },
        input: this.makeInputKernels(),
        activate(y, d, z, n, code, beta) {
          if (!(mine(y) && mine(d) && mine(z))) return false;
          x.activate(y.byteOffset, d.byteOffset, z.byteOffset, n, code, beta);
          return true;
        },
        backUpdate(g, W, Wout, e, n, m, s, u, v, K) {
          let ok = K <= 3 && mine(W) && mine(Wout) && mine(e) && (g === null || mine(g));
          for (let k = 0; ok && k < K; k++) ok = mine(u[k]) && mine(v[k]);
          if (!ok) return false;
          for (let k = 0; k < K; k++) { descF[3 * k] = s[k]; descU[3 * k + 1] = u[k].byteOffset; descU[3 * k + 2] = v[k].byteOffset; }
          x.backUpdate(g === null ? 0 : g.byteOffset, W.byteOffset, Wout.byteOffset, e.byteOffset, n, m, K, descPtr);
          return true;
        },
      },
    };
  }

  /** InputKernels in wasm; buffers outside this arena's memory take the plain references. */
  private makeInputKernels(): InputKernels {
    const x = this.x, mem = this.memory.buffer, tdesc = this.tdescU, tdescPtr = this.tdescPtr;
    const mine = (b: Buf | Int32Array | null) => b === null || b.buffer === mem;
    const at = (b: Buf | null) => (b === null ? 0 : b.byteOffset);
    const js = jsInputKernels;
    return {
      transpose(WT, W, n, m, stride, back) {
        if (mine(WT) && mine(W) && WT instanceof Float32Array && W instanceof Float32Array) x.transpose(WT.byteOffset, W.byteOffset, n, m, stride, back ? 1 : 0);
        else js.transpose(WT, W, n, m, stride, back);
      },
      nonzeros(idx, v, m) {
        return mine(idx) && mine(v) && v instanceof Float32Array ? x.nonzeros(idx.byteOffset, v.byteOffset, m) : js.nonzeros(idx, v, m);
      },
      matVecT(z, WT, stride, v, idx, cnt, n, b) {
        if (mine(z) && mine(WT) && mine(v) && mine(idx) && mine(b) && WT instanceof Float32Array) x.matVecT(z.byteOffset, WT.byteOffset, stride, v.byteOffset, idx.byteOffset, cnt, n, at(b));
        else js.matVecT(z, WT, stride, v, idx, cnt, n, b);
      },
      inputSweep(WT, stride, m, n, v, y, A, B, u, idx, cnt, tangents) {
        // (plain loops: this runs every step, so no closures or temporary arrays)
        let ok = WT instanceof Float32Array && mine(WT) && mine(v) && mine(y) && mine(A) && mine(B) && mine(u) && mine(idx) && tangents.length <= TANGENT_RECORDS;
        for (let k = 0; ok && k < tangents.length; k++) {
          const t = tangents[k];
          ok = mine(t.dWT) && mine(t.dy) && mine(t.A) && mine(t.B) && mine(t.C) && mine(t.du);
          tdesc[6 * k] = t.dWT.byteOffset; tdesc[6 * k + 1] = t.dy.byteOffset; tdesc[6 * k + 2] = at(t.A);
          tdesc[6 * k + 3] = at(t.B); tdesc[6 * k + 4] = at(t.C); tdesc[6 * k + 5] = at(t.du);
        }
        if (!ok) return js.inputSweep(WT, stride, m, n, v, y, A, B, u, idx, cnt, tangents);
        x.inputSweep(WT.byteOffset, stride, m, n, v.byteOffset, y.byteOffset, at(A), at(B), u.byteOffset, idx.byteOffset, cnt, tangents.length, tdescPtr);
      },
    };
  }
}

let shared: WasmArena | null = null;

/**
 * This thread's reusable arena, reset and at least `bytes` large. Tasks run
 * one at a time per thread, so each task takes it afresh; fresh WebAssembly
 * memories per task would pile up faster than the garbage collector frees them.
 */
export function sharedWasmArena(bytes: number): WasmArena {
  if (shared === null || shared.capacity < bytes + 4096) shared = new WasmArena(Math.max(bytes, 1 << 20));
  shared.reset();
  return shared;
}
