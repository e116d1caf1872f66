/**
 * The native softplus head (native/kern.c, k_softplusHead) against wasm's activate over every f32 bit
 * pattern of z: y and σ' must have the same bits wherever z is not NaN (a NaN z gives NaN on both; its
 * payload and sign are not promised). β = 10 (the paper's) and 1.7 by default, or --beta b.
 *   node --import tsx scripts/softplus-exhaustive.ts [--beta 10]
 * Prints the mismatches (at most 20) and their count; exits non-zero on any. A few minutes per β (NEUROPLASTIC_NATIVE_ISA=avx2 | portable for the narrower paths).
 */
import { nativeIsa, nativeMissing } from "../src/core/native.js";
import { WasmArena } from "../src/core/wasm.js";

if (nativeIsa() === null) { console.error(`softplus-exhaustive: the native kernels are ${nativeMissing}`); process.exit(1); }
const bi = process.argv.indexOf("--beta");
const betas = bi > 0 ? [Number(process.argv[bi + 1])] : [10, 1.7];
const CH = 1 << 20;
const W = new WasmArena(16 * CH + (1 << 20)), N = new WasmArena(16 * CH + (1 << 20), true);
const side = (a: WasmArena) => ({ z: a.alloc(CH), y: a.alloc(CH), d: a.alloc(CH) });
const w = side(W), n = side(N);
const zw = new Uint32Array(w.z.buffer, w.z.byteOffset, CH), zn = new Uint32Array(n.z.buffer, n.z.byteOffset, CH);
const yw = new Uint32Array(w.y.buffer, w.y.byteOffset, CH), yn = new Uint32Array(n.y.buffer, n.y.byteOffset, CH);
const dw = new Uint32Array(w.d.buffer, w.d.byteOffset, CH), dn = new Uint32Array(n.d.buffer, n.d.byteOffset, CH);
const isNaN32 = (b: number) => (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0;
let bad = 0;
for (const beta of betas) {
  const t0 = Date.now();
  for (let c = 0; c < 2 ** 32 / CH; c++) {
    const base = c * CH;
    for (let i = 0; i < CH; i++) { zw[i] = base + i; zn[i] = base + i; }
    W.kernels.fused!.activate(w.y, w.d, w.z, CH, 0, beta);
    N.kernels.fused!.activate(n.y, n.d, n.z, CH, 0, beta);
    for (let i = 0; i < CH; i++) {
      if (yw[i] === yn[i] && dw[i] === dn[i]) continue;
      if (isNaN32(zw[i]) || (isNaN32(yw[i]) && isNaN32(yn[i]) && (dw[i] === dn[i] || (isNaN32(dw[i]) && isNaN32(dn[i]))))) continue;
      if (bad++ < 20) console.log(`β=${beta} z=0x${zw[i].toString(16)} (${w.z[i]}): y wasm ${w.y[i]} native ${n.y[i]}, σ' wasm ${w.d[i]} native ${n.d[i]}`);
    }
  }
  console.log(`β=${beta}: all 2³² patterns of z in ${((Date.now() - t0) / 1000).toFixed(0)} s (${nativeIsa()} path)`);
}
console.log(`mismatches ${bad}`);
process.exit(bad === 0 ? 0 : 1);
