import assert from "node:assert/strict";
import { test } from "node:test";
import { backUpdatePlain, jsKernels, type Buf } from "../src/core/kernels.js";
import { Rng } from "../src/core/rng.js";
import { WasmArena } from "../src/core/wasm.js";
import { assertClose } from "./helpers.js";

const fill = (b: Buf, r: Rng) => { for (let i = 0; i < b.length; i++) b[i] = 2 * r.uniform() - 1; return b; };

// backUpdate (WebAssembly, one sweep of W) against its named plain twin, on ragged shapes, K = 0 … 3 terms,
// with and without the next error signal, W updated in place (Wout = W) and into another buffer.
// The kernel works in f32 (s·uᵢ rounded, then ·vⱼ, then added), the twin in double rounded once per weight, and
// their Wᵀe sums run in different orders: equal to a few f32 roundings (the whole-task bytes of the fast path are
// frozen separately by test/exact.test.ts).
const RTOL = 4e-6, ATOL = 4e-6;
test("backUpdate: the WebAssembly sweep equals its plain twin backUpdatePlain to f32 rounding", () => {
  for (const [n, m] of [[1, 1], [3, 5], [10, 7], [33, 17], [70, 100]]) {
    for (const K of [0, 1, 2, 3]) {
      for (const withG of [false, true]) {
        for (const inPlace of [false, true]) {
          const r = new Rng(1000 * n + 10 * m + K), w = new WasmArena(4 * (4 * n * m + 20 * (n + m)) + 65536), F = w.kernels.fused!;
          const W = fill(w.alloc(n * m), r), e = fill(w.alloc(n), r), d = fill(w.alloc(m), r);
          const u = Array.from({ length: K }, () => fill(w.alloc(n), r)), v = Array.from({ length: K }, () => fill(w.alloc(m), r));
          const s = Array.from({ length: K }, () => r.uniform() - 0.5);
          const Wout = inPlace ? W : fill(w.alloc(n * m), r);
          // The plain twin on copies, with the plain kernels.
          const W2 = Float32Array.from(W), Wout2 = inPlace ? W2 : Float32Array.from(Wout), e2 = Float32Array.from(e), d2 = Float32Array.from(d);
          const u2 = u.map((x) => Float32Array.from(x)), v2 = v.map((x) => Float32Array.from(x));
          const g = withG ? w.alloc(m) : null, bte = withG ? w.alloc(m) : null, g2 = withG ? new Float32Array(m) : null, bte2 = withG ? new Float32Array(m) : null;
          assert.ok(F.backUpdate(g, W, Wout, e, n, m, s, u, v, K, withG ? d : null, bte), "the kernel takes buffers of its arena");
          backUpdatePlain(jsKernels, g2, W2, Wout2, e2, n, m, s, u2, v2, K, withG ? d2 : null, bte2);
          const what = `n ${n}, m ${m}, K ${K}, g ${withG}, in place ${inPlace}`;
          assertClose(Wout, Wout2, RTOL, ATOL, `Wout: ${what}`);
          if (withG) {
            assertClose(g!, g2!, RTOL, ATOL, `g: ${what}`);
            assertClose(bte!, bte2!, RTOL, ATOL, `bte: ${what}`);
          }
        }
      }
    }
  }
});

test("backUpdate: buffers outside the arena, or more than three terms, are declined (the caller takes the plain twin)", () => {
  const w = new WasmArena(1 << 16), F = w.kernels.fused!, W = w.alloc(4), e = w.alloc(2), outside = new Float32Array(4);
  assert.equal(F.backUpdate(null, W, outside, e, 2, 2, [], [], [], 0), false);
  const u = Array.from({ length: 4 }, () => w.alloc(2)), v = Array.from({ length: 4 }, () => w.alloc(2));
  assert.equal(F.backUpdate(null, W, W, e, 2, 2, [1, 1, 1, 1], u, v, 4), false);
});
