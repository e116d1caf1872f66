import { z } from "zod";
import { isTermName } from "./registry.js";
import { registerExpressionTerm } from "./expr/compile.js";
import { RuleError, unknownTerm, type ThetaSpec } from "./rule.js";

/** The JSON rule file that `meta` writes and `train --rule-file` reads. */
export const RuleFileSchema = z.object({
  theta: z.record(z.string(), z.union([z.number(), z.array(z.number())])),
  ojaOutput: z.boolean().optional(),
}).passthrough();

export function parseRuleFile(json: unknown, file: string): { theta: ThetaSpec; ojaOutput?: boolean } {
  const r = RuleFileSchema.safeParse(json);
  if (!r.success) throw new RuleError(`rule file ${file} is not a rule (expected {"theta": {"bp": 0.001, ...}})`);
  // Expression terms travel with the rule as their definitions ("terms": ["name = formula", …]).
  const defs = (r.data as { terms?: unknown }).terms;
  if (Array.isArray(defs)) {
    try {
      for (const d of defs) registerExpressionTerm(String(d), undefined, { replace: true });
    } catch (err) {
      throw new RuleError(`rule file ${file}: ${(err as Error).message}`);
    }
  }
  for (const k of Object.keys(r.data.theta)) if (!isTermName(k)) throw new RuleError(`${unknownTerm(k)} in rule file ${file}`);
  return { theta: r.data.theta as ThetaSpec, ojaOutput: r.data.ojaOutput };
}
