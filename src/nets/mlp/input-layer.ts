import type { Buf, InputKernels } from "../../core/kernels.js";
import type { MLP } from "./mlp.js";

/**
 * The first layer W₁ (n₁, n₀) kept transposed while a fast step runs: WT has
 * one row of `stride` ≥ n₁ floats per input pixel (16-byte aligned rows).
 * MNIST pixels are about 80% zero, so z₁ = W₁x reads a fifth of the layer,
 * and Oja's decay, which needs uⱼ = (W₁ᵀy₁)ⱼ before row j may change,
 * becomes row-local: the update is a single sweep (InputKernels).
 *
 * While the copy holds the weights the network knows it (MLP.hold), and any
 * read of its parameters from outside writes them back first (MLP.settle →
 * release): the layout is the step's business, never the caller's.
 *
 * Its z₁ is summed in another order than logits()'s: pixel rows of WT are
 * added into z₁ four at a time, where matVec sums each unit's row of W₁ in
 * four-lane groups. So a step's forward pass and logits() (and the scorer,
 * which equals logits()) on the same weights can differ in the last bits of
 * the logits. Each is one fixed computation, with the same floats on every
 * backend that gives wasm's bytes.
 */
export class InputLayer {
  readonly n: number;
  readonly m: number;
  readonly stride: number;
  readonly WT: Buf;
  /** Indices of the current input's nonzero pixels (idx[0 … cnt − 1]). */
  readonly idx: Int32Array;
  cnt = 0;
  /** Whether WT holds the current weights (and W₁ does not). */
  valid = false;
  readonly k: InputKernels;

  constructor(net: MLP, k: InputKernels) {
    this.k = k;
    this.n = net.dims[1]; this.m = net.dims[0];
    this.stride = (this.n + 3) & ~3;
    this.WT = net.arena.alloc(this.m * this.stride);
    const ib = net.arena.alloc(this.m);
    this.idx = new Int32Array(ib.buffer, ib.byteOffset, this.m);
  }

  /** A second buffer of WT's shape (a tangent of the first layer). */
  static like(net: MLP, I: InputLayer): Buf { return net.arena.alloc(I.m * I.stride); }

  load(W: Buf, WT: Buf = this.WT): void { this.k.transpose(WT, W, this.n, this.m, this.stride, false); }
  store(W: Buf, WT: Buf = this.WT): void { this.k.transpose(WT, W, this.n, this.m, this.stride, true); }

  /** Take layer 1 of `net` into the transposed copy, unless it holds it already. */
  take(net: MLP): void {
    if (this.valid) return;
    net.hold(this); // writes back any other holder first
    this.load(net.raw.W[1]);
    this.valid = true;
  }

  /** Write the copy back into W (the network's layer 1); the next step takes W afresh. */
  release(W: Buf): void {
    if (!this.valid) return;
    this.store(W);
    this.valid = false;
  }

  /** Record the nonzero pixels of x (once per example, before forward). */
  scan(x: Buf): void { this.cnt = this.k.nonzeros(this.idx, x, this.m); }

  /** z = W x (+ b) over the nonzero pixels found by `scan`. */
  forward(z: Buf, x: Buf, b: Buf | null, WT: Buf = this.WT): void {
    this.k.matVecT(z, WT, this.stride, x, this.idx, this.cnt, this.n, b);
  }
}
