import { Lookup } from "./scenario.js";
import { SCENARIO_IDS, SCENARIOS } from "./scenarios.js";
import { MARGIN, MIN_EFFECT, VERDICT_RULE, type Verdict } from "./stats.js";
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
      })),
    })),
  };
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
