import type { Buf } from "../core/kernels.js";
import type { PlasticNetwork, SignalNeeds } from "./network.js";
import type { TermName } from "../rules/registry.js";
import type { Rule } from "../rules/rule.js";
import { plasticityOf, type SitePlasticity } from "./plasticity.js";
import { makeTransform } from "./optimizers.js";
import type { UpdateTransform } from "./transforms.js";

export interface StepOptions {
  /** Examples per update. 1 = online (PAPER.md); > 1 = mini-batch, per-example ΔW averaged. */
  batch?: number;
  /** Terms kept active even where their coefficient is 0 (meta-learning differentiates through them). */
  always?: readonly TermName[];
  /** An optimizer's name (src/learn/optimizers.ts: "sgd", the rule as is, by default; "adam", a baseline). */
  optimizer?: string;
  /** "plain" forces the composed step (the reference every fast step is held to); default "auto". */
  plan?: "auto" | "plain";
}

/**
 * One plasticity step of a network: forward, error pathway, then every site's
 * ΔW = Σ_k θ_k · term_k from that one pass, landing as the transform says.
 * A network's fast step (src/nets/mlp/sweep.ts) is another implementation of
 * this interface, chosen once when the step is planned.
 */
export interface PlasticStep {
  readonly net: PlasticNetwork;
  /** The input buffer (the network's x): write one example here before `step`. */
  readonly x: Buf;
  /** The rule at every site (index 0 unused). */
  readonly plasticity: readonly SitePlasticity[];
  readonly needs: SignalNeeds;
  readonly transform: UpdateTransform;
  /** Which implementation runs ("composed", or a fast step's name). */
  readonly name: string;
  /**
   * One example with class `label`. Returns the logits' sum, which is
   * non-finite exactly when the network has diverged.
   */
  step(label: number): number;
  /**
   * After the last example: apply a trailing partial mini-batch. Afterwards
   * every view of the weights (sites' W included) is current; before, the
   * network's `params` are current whenever read.
   */
  finish(): void;
}

/** A class label for a step must be an integer output index: anything else would corrupt e = p − onehot silently. */
export function checkLabel(label: number, nOut: number): void {
  if (!Number.isInteger(label) || label < 0 || label >= nOut)
    throw new RangeError(`label must be an integer in 0 … ${nOut - 1} (the network's outputs), got ${label}`);
}

/** The reference step, for any network: propagate, then every site's factors land through the transform. */
export class ComposedStep implements PlasticStep {
  readonly name = "composed";
  readonly net: PlasticNetwork;
  readonly plasticity: readonly SitePlasticity[];
  readonly needs: SignalNeeds;
  readonly transform: UpdateTransform;

  constructor(net: PlasticNetwork, rule: Rule, opts: StepOptions = {}) {
    this.net = net;
    const p = plasticityOf(net.sites, rule, (n) => net.arena.alloc(n), { always: opts.always });
    this.plasticity = p.sites;
    this.needs = p.needs;
    this.transform = makeTransform(net, rule, p.sites, opts);
  }

  get x(): Buf { return this.net.x; }

  step(label: number): number {
    checkLabel(label, this.net.nOut);
    const zs = this.net.propagate(label, this.needs);
    this.apply();
    this.transform.endExample();
    return zs;
  }

  /** Every site's ΔW of the last propagate, through the transform. */
  apply(): void {
    const { net, transform } = this, pls = this.plasticity, k = net.k, scale = transform.scale;
    for (let l = 1; l < pls.length; l++) {
      const pl = pls[l];
      const K = pl.factors(scale, k);
      if (!pl.active(K)) continue;
      transform.take(pl, K);
      pl.addTo(transform.targetW(l), transform.targetB(l), K, k);
    }
  }

  finish(): void { this.transform.finish(); }
}
