import { Lookup } from "./scenario.js";
import { SCENARIO_IDS, SCENARIOS } from "./scenarios.js";
import type { Verdict } from "./stats.js";
import type { CellResult } from "./types.js";

export { MARGIN, MIN_EFFECT, nonInferiority, pairedDiff, seedDiffs, superiority, VERDICT_RULE, type Diff, type Outcome, type Verdict } from "./stats.js";

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
  return vs.sort((p, q) => { const a = claimKey(p), b = claimKey(q); return a[0] - b[0] || a[1].localeCompare(b[1]); });
}
