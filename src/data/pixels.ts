import type { Buf } from "../core/kernels.js";
import { arenaPixels } from "../core/wasm.js";

/** v / 255 for every byte v: the same doubles as the division, without 784 divisions per example. */
const PIXEL = Float64Array.from({ length: 256 }, (_, v) => v / 255);
/** The same rounded to f32 once, as storing a double into a Float32Array rounds it: no conversion per pixel. */
const PIXEL32 = Float32Array.from(PIXEL);

/** Pixels (0..255) of example `i` scaled to [0, 1] into x (PAPER.md: y₀ = x, pixels scaled to [0, 1]). */
export function loadPixels(x: Buf, images: Uint8Array, i: number, dim: number): void {
  const o = i * dim;
  if (x instanceof Float32Array) {
    // A view of a wasm arena: the arena's kernel (the same floats, at a tenth of the time; see asm/kernels.ts pixels).
    if (arenaPixels(x, images, o, dim)) return;
    for (let j = 0; j < dim; j++) x[j] = PIXEL32[images[o + j]];
  }
  else for (let j = 0; j < dim; j++) x[j] = PIXEL[images[o + j]];
}
