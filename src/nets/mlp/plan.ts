import { tangentThrough } from "../../learn/optimizers.js";
import { plasticityOf } from "../../learn/plasticity.js";
import { ComposedStep, type PlasticStep, type StepOptions } from "../../learn/step.js";
import { ComposedTangentStep, type MetaParam, type TangentStep } from "../../learn/tangent.js";
import type { Rule } from "../../rules/rule.js";
import { BatchNormStep } from "./batchnorm.js";
import type { MLP } from "./mlp.js";
import { SweepStep, sweepPlan } from "./sweep.js";
import { SweepTangentStep } from "./sweep-tangent.js";

function fastForms(net: MLP, rule: Rule, opts: StepOptions) {
  const p = plasticityOf(net.sites, rule, (n) => new Float64Array(n), { always: opts.always });
  return sweepPlan(net, p.sites, opts);
}

/** The MLP's step for a rule and options: batch normalization's own step, a fast sweep where one applies, else the composed reference. */
export function planMlpStep(net: MLP, rule: Rule, opts: StepOptions = {}): PlasticStep {
  if (net.norm === "batch") return new BatchNormStep(net, rule, opts);
  const f = fastForms(net, rule, opts);
  return f.fused || f.input ? new SweepStep(net, rule, opts) : new ComposedStep(net, rule, opts);
}

/** The MLP's tangent step: with layer 1 transposed where it applies (online), else the composed reference. */
export function planMlpTangentStep(net: MLP, rule: Rule, opts: StepOptions, params: readonly MetaParam[]): TangentStep {
  if (net.norm !== "none") throw new Error(`meta-gradients through ${net.norm} normalization are not implemented`);
  tangentThrough(opts);
  return fastForms(net, rule, opts).input
    ? new SweepTangentStep(new SweepStep(net, rule, opts, params.length > 0), params)
    : new ComposedTangentStep(new ComposedStep(net, rule, opts), params);
}
