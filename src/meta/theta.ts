import type { TermName } from "../rules/registry.js";
import type { ThetaSpec } from "../rules/rule.js";
import type { MetaParam } from "../learn/tangent.js";

/**
 * θ as a flat vector of meta-parameters plus the fixed coefficients of terms
 * that are not learned. θ is always passed in, never closed over.
 */
export function thetaSpec(layout: readonly MetaParam[], theta: ArrayLike<number>, fixed: ThetaSpec, L: number): ThetaSpec {
  const spec: ThetaSpec = {};
  for (const [k, v] of Object.entries(fixed)) spec[k as TermName] = Array.isArray(v) ? [...v] : v;
  const perLayer = new Map<TermName, number[]>();
  layout.forEach((p, i) => {
    let arr = perLayer.get(p.term);
    if (arr === undefined) {
      const f = fixed[p.term];
      arr = Array.from({ length: L }, (_, l) => (f === undefined ? 0 : Array.isArray(f) ? f[l] : f));
      perLayer.set(p.term, arr);
    }
    for (const l of p.layers) arr[l - 1] = theta[i];
  });
  for (const [term, arr] of perLayer) spec[term] = arr.every((x) => x === arr[0]) && layout.filter((p) => p.term === term).length === 1 ? arr[0] : arr;
  return spec;
}
