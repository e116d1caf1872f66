import { Lookup } from "./scenario.js";
import { SCENARIO_IDS, SCENARIOS } from "./scenarios.js";
import { intervalText, MARGIN, MIN_EFFECT, VERDICT_RULE, type Outcome, type Verdict } from "./stats.js";
import type { CellResult } from "./types.js";

export {
  claim,
  claimOutcome,
  conditionOf,
  decide,
  MARGIN,
  MIN_EFFECT,
  pairedDiff,
  seedDiffs,
  VERDICT_RULE,
  type Condition,
  type Diff,
  type Outcome,
  type Verdict,
} from "./stats.js";

/**
 * verdicts.json: per claim its verdict, the rule and threshold its intervals are read against, and one entry per
 * condition ({name, verdict, diff, lo, hi, n, seeds}); each condition's verdict follows from its interval by the
 * stated rule (decide in stats.ts), which test/verdicts.test.ts checks on generated cells.
 */
export function verdictsJson(vs: readonly Verdict[]) {
  return {
    rule: VERDICT_RULE,
    minEffect: MIN_EFFECT,
    margin: MARGIN,
    claims: vs.map((v) => ({
      claim: v.claim,
      scenario: v.scenario,
      verdict: v.outcome,
      rule: v.rule,
      minEffect: v.minEffect,
      level: v.level,
      covers: v.covers,
      conditions: v.conditions.map((c) => ({
        name: c.name,
        verdict: c.verdict,
        diff: c.diff,
        lo: c.lo,
        hi: c.hi,
        n: c.n,
        seeds: c.seeds,
        ...(c.premise ? { premise: c.premise } : {}),
        ...(c.context ? { context: true } : {}),
        ...(c.note ? { note: c.note } : {}),
        ...(c.unit ? { unit: c.unit } : {}),
      })),
    })),
  };
}

export type VerdictsJson = ReturnType<typeof verdictsJson>;

const SAID: Record<Outcome, string> = { holds: "holds", refuted: "refuted", inconclusive: "inconclusive", "premise-fails": "premise fails" };

/**
 * The README's list of claims, from verdicts.json alone: per claim its verdict and, grouped by outcome, each counted
 * condition with its interval (conditions shown only for context, such as K > 5 for claim 8, are named apart).
 * scripts/readme-claims.ts writes it between the README's claims markers and test/readme-claims.test.ts holds the
 * README to it, so the README cannot say of a claim what the committed report does not.
 */
export function claimsMarkdown(j: VerdictsJson): string {
  const order: Outcome[] = ["holds", "refuted", "inconclusive", "premise-fails"];
  const iv = (c: VerdictsJson["claims"][0]["conditions"][0]) => intervalText(c, c.unit === "value" ? "value" : "points");
  return j.claims
    .map((c) => {
      const counted = c.conditions.filter((x) => !x.context),
        context = c.conditions.filter((x) => x.context);
      const parts = order
        .map((o) => [o, counted.filter((x) => x.verdict === o)] as const)
        .filter(([, xs]) => xs.length > 0)
        .map(([o, xs]) => `${SAID[o]} at ${xs.map((x) => `${x.name} (${iv(x)})`).join(", ")}`);
      const ctx = context.length ? ` Shown for context, not counted: ${context.map((x) => `${x.name} (${iv(x)})`).join(", ")}.` : "";
      return `- **${c.claim}** — **${SAID[c.verdict]}**${parts.length ? `: ${parts.join("; ")}` : ""}.${ctx}`;
    })
    .join("\n");
}

/** A claim's number for ordering: "3b. …" → [3, "b"]. */
function claimKey(v: Verdict): [number, string] {
  const m = /^(\d+)([a-z]?)\./.exec(v.claim);
  return m ? [Number(m[1]), m[2]] : [Infinity, ""];
}

/**
 * Every scenario's verdicts on the cells present, in the order of PAPER.md's
 * claims (scenario a's mechanism, claim 6, comes after claim 5). `passes`
 * overrides the passes claim 5's cells ran (a report made from cells alone).
 */
export function verdicts(rs: readonly CellResult[], opts: { passes?: number } = {}): Verdict[] {
  const cs = new Lookup(rs);
  const vs = SCENARIO_IDS.filter((s) => cs.has(s)).flatMap((s) => SCENARIOS[s].verdicts(cs, opts));
  return vs.sort((p, q) => {
    const a = claimKey(p),
      b = claimKey(q);
    return a[0] - b[0] || a[1].localeCompare(b[1]);
  });
}
