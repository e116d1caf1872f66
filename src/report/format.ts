/**
 * Numbers a reader can read, the same way in every table and report: three
 * significant digits, scientific notation where large or tiny, and a value
 * that does not exist (a diverged task's weight norm, say) written as
 * "diverged" in text and left empty in CSV — never NaN.
 */
export const MISSING = "diverged";

/** x to three significant digits (scientific where |x| ≥ 10⁴ or below 10⁻³). */
export function sig3(x: number): string {
  if (Number.isNaN(x)) return MISSING;
  if (!Number.isFinite(x)) return EXPLODED;
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e4 || a < 1e-3) return x.toExponential(2);
  return x.toPrecision(3);
}

/** A value that grew without bound (a loss or norm of ±Infinity). */
export const EXPLODED = "exploded";

/**
 * A spread beside a value (a standard error, a CI half-width) with the float
 * residue dropped: the mean of equal values need not equal each of them in
 * floating point, and their "spread" of 1e-15 is rounding, not data. Below
 * 1e-9 of the value's scale it is 0.
 */
export function noResidue(spread: number, scale: number): number {
  return Math.abs(spread) <= 1e-9 * Math.abs(scale) ? 0 : spread;
}

/**
 * A table number to `digits` decimals (what the train table prints), in
 * scientific notation from 10⁶ (a huge finite loss would otherwise print as
 * 28576362831544.3203), "diverged" for NaN, "exploded" for ±Infinity, and
 * never "-0.0000".
 */
export function fixed(x: number, digits = 4): string {
  if (Number.isNaN(x)) return MISSING;
  if (!Number.isFinite(x)) return EXPLODED;
  if (Math.abs(x) >= 1e6) return x.toExponential(3);
  const s = x.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** A standard error over n tasks beside its mean: "—" for one task (no spread to estimate), residue as 0. */
export function seText(se: number, mean: number, n: number, digits = 4): string {
  if (n < 2) return "—";
  return fixed(noResidue(se, mean), digits);
}

/** An accuracy as a percentage, three significant digits. */
export function pct3(x: number): string {
  return sig3(100 * x);
}

/** A paired difference of accuracies in percentage points: "+1.23 ± 0.987 points". */
export function fmtPoints(d: { mean: number; ci95: number }): string {
  return `${d.mean >= 0 ? "+" : ""}${sig3(100 * d.mean)} ± ${sig3(100 * noResidue(d.ci95, d.mean))} points`;
}

/** A CSV cell: numbers as they are (full precision), missing ones empty. */
export function csvValue(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csv(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return "";
  const head = Object.keys(rows[0]);
  return [head.join(","), ...rows.map((r) => head.map((h) => csvValue(r[h])).join(","))].join("\n") + "\n";
}

/** A coefficient list "bp=0.00681, oja=0.00530" (per-layer lists joined by ':'). */
export function thetaText(theta: Record<string, number | number[] | undefined>): string {
  return Object.entries(theta).map(([k, v]) => `${k}=${Array.isArray(v) ? v.map(sig3).join(":") : sig3(v as number)}`).join(", ");
}

/** Rule names, one spelling everywhere. */
export function ruleName(rule: string): string {
  return rule === "bp+oja" ? "bp + Oja" : rule;
}
