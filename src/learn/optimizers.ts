import type { PlasticNetwork } from "./network.js";
import type { Rule } from "../rules/rule.js";
import type { SitePlasticity } from "./plasticity.js";
import { Adam, MeanOver, Online, type UpdateTransform } from "./transforms.js";

/**
 * An optimizer: how the rule's ΔW reaches the weights, as a transform around
 * the online or mini-batch one (optax's chain: `adam` wraps `meanOver(b)`).
 * The planners never test an optimizer's name; they ask what it declares.
 */
export interface OptimizerModule {
  readonly name: string;
  /** The display name in messages ("the Adam optimizer"). */
  readonly title: string;
  /** One line for --optimizer's help. */
  readonly help: string;
  /** The transform of a step: `inner` is Online (batch 1) or MeanOver(batch). */
  make(net: PlasticNetwork, rule: Rule, pls: readonly SitePlasticity[], inner: Online | MeanOver): UpdateTransform;
  /**
   * May a fast step skip `take` (land every factor directly, as the MLP's
   * sweeps do)? Only when `take` is a no-op for this optimizer.
   */
  readonly fusable: boolean;
  /**
   * Can forward-mode tangents run through it? The tangent steps propagate
   * dW/dθ through ΔW = Σ θ_k · term_k landing as online or mean-over does;
   * an optimizer that transforms ΔW (Adam) would need its own tangent.
   */
  readonly differentiable: boolean;
  /** Printed once before a run that uses it (a cost a user should know of), or absent. */
  readonly note?: string;
  /** Time per step relative to the rule as is (for the long-run estimate of experiments/cost.ts); absent: 1. */
  readonly cost?: number;
}

/** The rule as is: ΔW lands as the online or mini-batch transform says. */
const sgd: OptimizerModule = {
  name: "sgd", title: "SGD", help: "the rule as is", make: (_net, _rule, _pls, inner) => inner, fusable: true, differentiable: true,
};

/** The pseudo-gradient eₗyₗ₋₁ᵀ through Adam with θ_bp as learning rate (a baseline, PAPER.md claim 4). */
const adam: OptimizerModule = {
  name: "adam", title: "Adam", help: "the pseudo-gradient through Adam, θ_bp as learning rate; a baseline, about 20× slower per step",
  make: (net, rule, pls, inner) => new Adam(net, inner, rule, pls), fusable: false, differentiable: false,
  note: "--optimizer adam updates every weight through Adam in plain JavaScript, about 20× slower per step than the default rule",
  cost: 20,
};

export type BuiltinOptimizer = "sgd" | "adam";
/** The built-in optimizers: the compiler checks that every name has its module. */
export const BUILTIN_OPTIMIZERS = { sgd, adam } satisfies Record<BuiltinOptimizer, OptimizerModule>;

const registry = new Map<string, OptimizerModule>(Object.values(BUILTIN_OPTIMIZERS).map((o) => [o.name, o]));

/** Add an optimizer (a library extension, or a test's); refused if the name is taken. */
export function registerOptimizer(o: OptimizerModule): void {
  if (registry.has(o.name)) throw new RangeError(`an optimizer named '${o.name}' is already registered`);
  registry.set(o.name, o);
}

/** Every optimizer's name, built-in first. */
export function optimizerNames(): string[] { return [...registry.keys()]; }

/** The module of an optimizer name (default "sgd"); a one-line error for an unknown one. */
export function optimizerOf(name: string | undefined): OptimizerModule {
  const o = registry.get(name ?? "sgd");
  if (!o) throw new RangeError(`--optimizer must be one of ${optimizerNames().join(", ")}, got '${name}'`);
  return o;
}

export interface TransformOptions {
  /** Examples per update: 1 online (PAPER.md), > 1 mini-batches. */
  batch?: number;
  /** An optimizer's name (src/learn/optimizers.ts); default "sgd", the rule as is. */
  optimizer?: string;
}

/** The transform for these options: the optimizer's, around online or mean-over. */
export function makeTransform(net: PlasticNetwork, rule: Rule, pls: readonly SitePlasticity[], opts: TransformOptions): UpdateTransform {
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  const inner = batch === 1 ? new Online(net) : new MeanOver(net, batch);
  return optimizerOf(opts.optimizer).make(net, rule, pls, inner);
}

/** Tangent steps run only through an optimizer that declares it: refuse the rest by name, before anything is built. */
export function tangentThrough(opts: TransformOptions): void {
  const o = optimizerOf(opts.optimizer);
  if (!o.differentiable) throw new Error(`meta-gradients through the ${o.title} optimizer are not implemented`);
}
