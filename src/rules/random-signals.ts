import type { LayerSignals } from "./types.js";

/**
 * The random-signal fixture of the term checks (registry.ts checkTerm's shape
 * contract, expr/compile.ts checkTangent's finite differences): a seeded
 * Park–Miller stream, uniform on [lo, lo + width), and a site's signals
 * (n × m, T rows) drawn from it. One helper, so both checks draw alike.
 */
export function uniformStream(seed: number, lo: number, width: number): (k: number) => Float64Array {
  let s = seed;
  return (k) => Float64Array.from({ length: k }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * width + lo);
}

/** Random signals of one site (bias of n values when `bias`), drawn from `rnd` in a fixed order. */
export function randomSignals(rnd: (k: number) => Float64Array, n: number, m: number, T: number, bias: boolean): LayerSignals {
  return {
    l: 1, L: 2, n, m, T,
    pre: rnd(T * m), post: rnd(T * n), e: rnd(T * n), ePre: rnd(T * m), u: rnd(T * m), ue: rnd(T * m),
    b: bias ? rnd(n) : null,
  };
}
