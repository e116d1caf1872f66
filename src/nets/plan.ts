import { tangentThrough } from "../learn/optimizers.js";
import { ComposedStep, type PlasticStep, type StepOptions } from "../learn/step.js";
import { ComposedTangentStep, type MetaParam, type TangentStep } from "../meta/tangent.js";
import type { Rule } from "../rules/rule.js";
import { MLP } from "./mlp/mlp.js";
import { planMlpStep, planMlpTangentStep } from "./mlp/plan.js";
import type { PlasticNetwork } from "./network.js";

/**
 * The step for a network, a rule and options, planned once: a network's own
 * fast step where it has one that applies (each is held equal to the
 * composed reference by tests), else the composed reference.
 */
export function planStep(net: PlasticNetwork, rule: Rule, opts: StepOptions = {}): PlasticStep {
  if (net instanceof MLP) return planMlpStep(net, rule, opts);
  return new ComposedStep(net, rule, opts);
}

/** The step with forward-mode tangents for meta-parameters `params` (src/meta/tangent.ts). */
export function planTangentStep(net: PlasticNetwork, rule: Rule, opts: StepOptions, params: readonly MetaParam[]): TangentStep {
  if (net instanceof MLP) return planMlpTangentStep(net, rule, opts, params);
  tangentThrough(opts);
  return new ComposedTangentStep(new ComposedStep(net, rule, opts), params);
}
