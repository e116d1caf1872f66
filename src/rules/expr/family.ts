import { termOf } from "../registry.js";
import type { ThetaSpec } from "../rule.js";
import { registerExpressionTerm, type ExpressionTerm } from "./compile.js";

/**
 * The Taylor family of MetaLearnPlasticity (Mehta, Tyulmankov et al. 2024):
 *   Δwᵢⱼ = Σ_abc θ_abc preⱼᵃ postᵢᵇ wᵢⱼᶜ,  a, b, c ∈ {0, 1, 2},
 * one expression term t_abc each (t_000, a constant drift, reads no signal and
 * is left out), beside the error-driven term bp. Terms with c = 0 are rank-1,
 * the others elementwise.
 */
export function taylorDefinitions(): string[] {
  const out: string[] = [];
  const pw = (s: string, k: number) => (k === 0 ? [] : [k === 1 ? s : `${s}^${k}`]);
  for (let a = 0; a <= 2; a++) for (let b = 0; b <= 2; b++) for (let c = 0; c <= 2; c++) {
    if (a + b + c === 0) continue;
    out.push(`t_${a}${b}${c} = ${[...pw("pre", a), ...pw("post", b), ...pw("W", c)].join(" * ")}`);
  }
  return out;
}

/** Register the Taylor family; returns the learned terms, bp first. */
export function registerTaylor(): string[] {
  return ["bp", ...taylorDefinitions().map((d) => registerExpressionTerm(d, undefined, { replace: true }).name)];
}

/**
 * A family written as text, one entry a line: `name = formula` (registered as
 * an expression term) or the name of a known term (`bp`); `#` starts a comment.
 * Returns the family's term names in order.
 */
export function registerFamily(text: string, file: string): string[] {
  const names: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    try {
      names.push(line.includes("=") ? registerExpressionTerm(line, undefined, { replace: true }).name : termOf(line).name);
    } catch (err) {
      throw new Error(`${file} line ${i + 1}: ${(err as Error).message}`);
    }
  });
  if (names.length === 0) throw new Error(`${file} names no term (one 'name = formula' or term name a line)`);
  return [...new Set(names)];
}

/** The built-in terms in the formula language (decay is applied once per update, not per time row). */
export const BUILTIN_FORMULAS: Record<string, string> = {
  bp: "-e * pre", oja: "post * (pre - u)", hebb: "post * pre", ehebb: "e * ePre", ye: "post * ePre", eoja: "e * (ePre - ue)", decay: "-W",
};

/** A learned rule as one formula: ΔW = Σ θ_k · (formula_k), terms at exactly 0 or in `drop` left out; per-layer θ as a:b:c. */
export function ruleFormula(theta: ThetaSpec, drop: readonly string[] = []): string {
  const parts: string[] = [];
  for (const [name, v] of Object.entries(theta)) {
    if (v === undefined || drop.includes(name)) continue;
    const vals = Array.isArray(v) ? v : [v];
    if (vals.every((x) => x === 0)) continue;
    const t = termOf(name) as Partial<ExpressionTerm> & { equation: string };
    const f = t.formula ?? BUILTIN_FORMULAS[name] ?? t.equation;
    const neg = vals.every((x) => x <= 0), c = vals.map((x) => String(Number((neg ? -x : x).toPrecision(4)))).join(":");
    parts.push(`${parts.length === 0 ? (neg ? "−" : "") : neg ? " − " : " + "}${c} · (${f})`);
  }
  return parts.length === 0 ? "ΔW = 0" : `ΔW = ${parts.join("")}`;
}
