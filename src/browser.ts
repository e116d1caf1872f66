/**
 * neuroplastic's browser-safe entry (`neuroplastic/core`, and the package
 * root under the `browser` export condition): the engine, networks, rules,
 * meta-gradients, the robust outer loop, tasks and IDX parsing, with no Node
 * built-in anywhere in its import graph (test/bundle.test.ts and
 * scripts/browser-bundle-check.mjs hold it so). Datasets come from bytes:
 * parseIdx (after gunzipIdx) and fromArrays. The Node entry (index.ts) adds
 * the file-system loaders, worker pools and the meta-training driver.
 */
export { Rng } from "./core/rng.js";
export { heapArena, jsKernels, CountingArena, type Arena, type Buf, type DType, type Kernels } from "./core/kernels.js";
export { WasmArena, wasmAvailable } from "./core/wasm.js";
export { loadPixels } from "./data/pixels.js";
export { makeActivation, ACTIVATIONS, type Activation, type ActivationName } from "./nn/activations.js";
export { initWeights, INITS, type InitName } from "./nn/init.js";
export { outputError, crossEntropy, correct } from "./nn/loss.js";
export { makeFeedback, refreshSign, FEEDBACKS, FEEDBACK_HELP, type Feedback, type FeedbackName } from "./signals/feedback.js";
export { DaleStep, DaleTangentStep, project as daleProject, unitSigns, type DaleSigns } from "./learn/dale.js";
export { TERMS, TERM_NAMES, registerTerm, termNames, TermError, type TermName } from "./rules/registry.js";
export { makeRule, parseThetaSpec, formatThetaSpec, type Rule, type ThetaSpec } from "./rules/rule.js";
export type { PlasticityTerm, LayerSignals, RankOne } from "./rules/types.js";
export { registerExpressionTerm, expressionTerm, type ExpressionTerm } from "./rules/expr/compile.js";
export { parseExpr, parseDefinition, printExpr, ExprError } from "./rules/expr/parse.js";
export type { PlasticNetwork, TangentNetwork, TangentPass, Site, SignalNeeds } from "./learn/network.js";
export { MLP, Trace, forward, backward, type MLPOptions } from "./nets/mlp/mlp.js";
export { RNN, SITE_U, SITE_J, SITE_W, type RNNOptions } from "./nets/rnn/rnn.js";
export { planStep, planTangentStep } from "./nets/plan.js";
export { DEFAULT_NET, hasOwnFlag, networkKinds, networkOf, registerNetwork, type NetDisplay, type NetworkModule } from "./nets/registry.js";
export { ComposedStep, type PlasticStep, type StepOptions } from "./learn/step.js";
export { SitePlasticity, SiteTangent } from "./learn/plasticity.js";
export { Online, MeanOver, Adam, type UpdateTransform } from "./learn/transforms.js";
export { evaluate, type Scores } from "./learn/evaluate.js";
export { ComposedTangentStep, metaLayout, type MetaParam, type TangentStep } from "./learn/tangent.js";
export { thetaSpec } from "./meta/theta.js";
export { adamInit, adamUpdate, type AdamState } from "./meta/adam.js";
export * as outer from "./meta/outer.js";
export { parseIdx, gunzipIdx, encodeIdx, IdxError, type IdxArray } from "./data/idx-format.js";
export { fromArrays, type Dataset, type LoadOptions, type Split } from "./data/dataset-core.js";
export { sampleTask, checkTaskOptions, type Task, type TaskOptions } from "./data/tasks.js";
export {
  runTask, taskSteps, freshStep, summarize, summarizeCurves, checkConfig, dims, taskStreams, ConfigError, DEFAULT_CONFIG,
  type RunConfig, type TaskResult, type TaskProgress, type Summary, type CurveSummary,
} from "./experiments/task.js";
export { runEpisode, type EpisodeResult } from "./experiments/episode.js";
export { probe, type LayerDiagnostics } from "./nets/mlp/probe.js";
export { probeRnn, spectralRadius, type RnnDiagnostics } from "./nets/rnn/probe.js";
