import { isTermName, TERM_NAMES, termNames, TERMS, type TermName } from "./registry.js";

/**
 * θ as users write it: a coefficient per term, either shared by all layers or
 * one per layer (l = 1 … L), e.g. { bp: 0.0068, oja: [0.01, 0.01, 0, 0, 0] }.
 */
export type ThetaSpec = Partial<Record<TermName, number | number[]>>;

/**
 * A plasticity rule, ΔWₗ = Σ_k θ_k,ₗ · term_k (PAPER.md): coefficients per
 * term and layer, coef[term][l] for l = 1 … L (index 0 unused).
 */
export interface Rule {
  readonly L: number;
  readonly coef: Readonly<Partial<Record<TermName, Float64Array>>>;
}

export interface RuleOptions {
  /** Apply Oja's term at the output layer, with p as post activity (published default: true). */
  ojaOutput?: boolean;
}

/** A rule that cannot be built or parsed: an unknown term, a bad or non-finite coefficient, a wrong number of layers. */
export class RuleError extends Error {}

export function makeRule(spec: ThetaSpec, L: number, opts: RuleOptions = {}): Rule {
  const coef: Partial<Record<TermName, Float64Array>> = {};
  for (const [name, v] of Object.entries(spec)) {
    if (!isTermName(name)) throw new RuleError(unknownTerm(name));
    if (v === undefined) continue;
    const c = new Float64Array(L + 1);
    if (typeof v === "number") c.fill(v, 1);
    else {
      if (v.length !== L) throw new RuleError(`rule term '${name}' has ${v.length} per-layer coefficients, the network has ${L} layers`);
      c.set(v, 1);
    }
    for (let l = 1; l <= L; l++) if (!Number.isFinite(c[l])) throw new RuleError(`rule term '${name}' has a non-finite coefficient`);
    if (name === "oja" && opts.ojaOutput === false) c[L] = 0;
    coef[name] = c;
  }
  return { L, coef };
}

export function unknownTerm(name: string): string {
  return `unknown rule term '${name}' (known terms: ${termNames().join(", ")})`;
}

/**
 * Parse the CLI form "bp=0.0068,oja=0.0053"; a per-layer coefficient list is
 * written with colons: "oja=0.01:0.01:0:0:0".
 */
export function parseThetaSpec(text: string): ThetaSpec {
  const spec: ThetaSpec = {};
  const parts = text.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new RuleError(`empty rule '${text}' (expected e.g. bp=0.0068,oja=0.0053)`);
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq < 0) throw new RuleError(`rule term '${part}' has no coefficient (expected name=value, e.g. oja=0.0053)`);
    const name = part.slice(0, eq).trim();
    if (!isTermName(name)) throw new RuleError(unknownTerm(name));
    if (spec[name] !== undefined) throw new RuleError(`rule term '${name}' is given twice`);
    const vals = part.slice(eq + 1).split(":").map((s) => {
      const x = Number(s);
      if (s.trim() === "" || !Number.isFinite(x)) throw new RuleError(`rule term '${name}' has a bad coefficient '${s}'`);
      return x;
    });
    spec[name] = vals.length === 1 ? vals[0] : vals;
  }
  return spec;
}

export function formatThetaSpec(spec: ThetaSpec): string {
  return Object.entries(spec)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.map(fmt).join(":") : fmt(v as number)}`)
    .join(",");
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(6)));
}

export { TERMS, TERM_NAMES };
