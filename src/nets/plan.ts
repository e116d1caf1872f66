import { DaleStep, DaleTangentStep } from "../learn/dale.js";
import { tangentThrough } from "../learn/optimizers.js";
import { ComposedStep, type PlasticStep, type StepOptions } from "../learn/step.js";
import { ComposedTangentStep, type MetaParam, type TangentStep } from "../learn/tangent.js";
import type { Rule } from "../rules/rule.js";
import type { PlasticNetwork } from "../learn/network.js";
import { networkOf } from "./registry.js";

/**
 * The step for a network, a rule and options, planned once: the network's
 * module's fast step where it has one that applies (each is held equal to the
 * composed reference by tests), else the composed reference.
 */
export function planStep(net: PlasticNetwork, rule: Rule, opts: StepOptions = {}): PlasticStep {
  const m = networkOf(net.kind);
  const step = m.plan ? m.plan(net, rule, opts) : new ComposedStep(net, rule, opts);
  // Dale's law: the projection after every update, whatever the step (src/learn/dale.ts).
  return net.dale ? new DaleStep(step, net.dale) : step;
}

/** The step with forward-mode tangents for meta-parameters `params` (src/learn/tangent.ts). */
export function planTangentStep(net: PlasticNetwork, rule: Rule, opts: StepOptions, params: readonly MetaParam[]): TangentStep {
  tangentThrough(opts);
  const m = networkOf(net.kind);
  const step = m.planTangent ? m.planTangent(net, rule, opts, params) : new ComposedTangentStep(new ComposedStep(net, rule, opts), params);
  return net.dale ? new DaleTangentStep(step, net.dale) : step;
}
