import { backUpdatePlain, type Buf, type InputTangent } from "../../core/kernels.js";
import { plasticityOf, type SitePlasticity } from "../../learn/plasticity.js";
import { checkLabel, type PlasticStep, type StepOptions } from "../../learn/step.js";
import { makeTransform, optimizerOf } from "../../learn/optimizers.js";
import type { UpdateTransform } from "../../learn/transforms.js";
import type { Rule } from "../../rules/rule.js";
import type { SignalNeeds } from "../../learn/network.js";
import { InputLayer } from "./input-layer.js";
import { backward, forwardTrain, type MLP } from "./mlp.js";

const NO_TANGENTS: readonly InputTangent[] = [];

/**
 * Which fast forms of the MLP step apply to a network and rule: the fused
 * sweep (each layer's backward pass and update in one pass over W) and the
 * transposed first layer (src/nets/mlp/input-layer.ts). Decided once, from
 * the backend's kernels, the rule and the options.
 */
export function sweepPlan(net: MLP, pls: readonly SitePlasticity[], opts: StepOptions): { fused: boolean; input: boolean } {
  // The sweeps land every factor directly: only an optimizer whose take() does nothing may use them.
  const fusable = optimizerOf(opts.optimizer).fusable, batch = opts.batch ?? 1;
  // The composite forward kernel (activations and Oja's u in wasm) has no normalization.
  const fusedForward = net.k.fused !== undefined && net.norm === "none";
  // Terms that scale W (weight decay) or read Wᵀe take the composed step.
  if (!fusable || !fusedForward || opts.plan === "plain" || pls.some((p) => p.scaleTerms.length > 0 || p.needsUE)) return { fused: false, input: false };
  // backUpdate applies up to three terms and cannot give eₗ₋₁ to a term at layer l (it forms it in the same sweep).
  const fused = net.feedback.name === "sym" && pls.every((p) => p.K <= 3 && !p.needsEPre);
  // The transposed first layer: online, a hidden layer 1, and every term there row-local (bp, hebb, Oja).
  const input = batch === 1 && net.L >= 2 && pls[1].act.every((a) => a.term.inputPre !== undefined);
  return { fused, input };
}

/**
 * The MLP's fast step: the same step as ComposedStep (and held equal to it by
 * test/wasm.test.ts), with the fast kernels. Fused: the forward pass with
 * Oja's uₗ, then, from the top layer down, eₗ₋₁ = (Wₗᵀeₗ) ⊙ σ' and the update
 * of Wₗ in one sweep that reads each row before writing it. With the first
 * layer transposed, layer 1's u₁ and update are one sweep of its rows; with
 * feedback alignment (not fused) the upper layers take the row-major update.
 */
export class SweepStep implements PlasticStep {
  readonly net: MLP;
  readonly plasticity: readonly SitePlasticity[];
  readonly needs: SignalNeeds;
  readonly transform: UpdateTransform;
  readonly name: string;
  readonly fused: boolean;
  /** The transposed first layer, or null. */
  readonly input: InputLayer | null;
  /** Σ s_k post_k over layer 1's terms with pre factor x (A) and x − u (B), for inputSweep. */
  private readonly inA: Buf | null;
  private readonly inB: Buf | null;
  /** needU for the backward pass: layers whose uₗ the forward pass or layer 1's sweep does not compute. */
  private readonly needUBack: boolean[];
  private readonly needE0: boolean;

  /** `tangents`: a SweepTangentStep will wrap this step (its dW₁ tangents share WT's layout, so WT stays unpacked). */
  constructor(net: MLP, rule: Rule, opts: StepOptions, tangents = false) {
    this.net = net;
    const p = plasticityOf(net.sites, rule, (n) => net.arena.alloc(n), { always: opts.always });
    this.plasticity = p.sites;
    this.needs = p.needs;
    this.transform = makeTransform(net, rule, p.sites, opts);
    const plan = sweepPlan(net, p.sites, opts);
    if (!plan.fused && !plan.input) throw new Error("SweepStep: no fast form applies (plan the step with planMlpStep)");
    this.fused = plan.fused;
    const L = net.L, dims = net.dims, act1 = p.sites[1].act;
    if (plan.input) {
      // The packed layout where the arena has it (native AVX-512): the same floats, the dots without shuffles.
      const F = net.k.fused!, packed = !tangents && F.packedInput !== undefined && dims[0] % 4 === 0;
      this.input = new InputLayer(net, packed ? F.packedInput! : F.input);
      this.inA = act1.some((a) => a.term.inputPre === "x") ? net.arena.alloc(dims[1]) : null;
      this.inB = act1.some((a) => a.term.inputPre === "x-u") ? net.arena.alloc(dims[1]) : null;
    } else { this.input = null; this.inA = null; this.inB = null; }
    this.name = plan.fused ? (plan.input ? "sweep (fused, layer 1 transposed)" : "sweep (fused)") : "sweep (layer 1 transposed)";
    this.needE0 = p.needs.needEPre[1];
    // The forward pass computes hidden layers' u; layer 1's comes from its sweep.
    this.needUBack = p.needs.needU.map((u, l) => u && l === L && !(l === 1 && this.input !== null));
  }

  get x(): Buf { return this.net.x; }

  step(label: number): number {
    checkLabel(label, this.net.nOut);
    if (this.fused) return this.fusedStep(label);
    const zs = this.propagateInput(label);
    this.updateUpper();
    this.inputUpdate(this.plasticity[1].factors(1, this.net.k, this.plasticity[1].sig0, false), NO_TANGENTS);
    this.transform.endExample();
    return zs;
  }

  /** A trailing partial batch lands, and layer 1 is written back from its transposed copy. */
  finish(): void { this.transform.finish(); this.net.settle(); }

  /**
   * Forward pass and error signals with layer 1 transposed: u₁ is left to the
   * update's sweep, so follow with updateUpper() and inputUpdate(). (The
   * meta-gradient's fast step uses these too.)
   */
  propagateInput(label: number): number {
    const net = this.net;
    this.input!.take(net);
    const zs = forwardTrain(net, label, this.needs.needU, this.input, true);
    backward(net, net.feedback, net.tr, { needU: this.needUBack, needE0: this.needE0 });
    return zs;
  }

  /**
   * The forward pass alone on the fast path (z, y and σ' of every layer, the
   * nonzero pixels recorded), for scoring a query set without touching the
   * weights; returns the logits.
   */
  logits(): Buf {
    const net = this.net;
    if (this.input === null) return net.logits();
    this.input.take(net);
    forwardTrain(net, 0, this.needs.needU, this.input, false, false);
    return net.tr.z[net.L];
  }

  /** Apply ΔWₗ of layers 2 … L from the last propagateInput (online). */
  updateUpper(): void {
    const net = this.net, { dims, L } = net, { W, b } = net.raw, pls = this.plasticity, k = net.k;
    for (let l = 2; l <= L; l++) {
      const pl = pls[l], K = pl.factors(1, k);
      if (K === 0) continue;
      k.addOuters(W[l], pl.s, pl.us, pl.vs, K, dims[l], dims[l - 1]);
      if (net.bias) pl.biasUpdate(b[l], K);
    }
  }

  /**
   * Layer 1 from its transposed copy: A = Σ s_k post_k over terms with pre
   * factor x, B = the same over x − u (Oja), then one sweep of the rows does
   * uⱼ = WTⱼ·y₁ and WTⱼ += xⱼ A + (xⱼ − uⱼ) B (PAPER.md: ΔW₁ from the same
   * pass, old weights on the right-hand side). The tangents of the meta-
   * gradient (src/nets/mlp/sweep-tangent.ts) ride along in the same sweep:
   * they read the old rows.
   */
  inputUpdate(K: number, tangents: readonly InputTangent[]): void {
    const I = this.input!, net = this.net, tr = net.tr, n = net.dims[1], pl = this.plasticity[1], act = pl.act;
    const A = this.inA, B = this.inB, s = pl.s, us = pl.us, kn = net.k;
    // A, B = Σ s_k u_k in float64, rounded once per term: by the backend's kernel where it has one (the same floats).
    let firstA = true, firstB = true;
    for (let k = 0; k < K; k++) {
      const isA = act[k].term.inputPre === "x", t = isA ? A! : B!, sk = s[k], u = us[k];
      const first = isA ? firstA : firstB;
      if (isA) firstA = false; else firstB = false;
      if (kn.addScaled?.(t, sk, u, n, first)) continue;
      if (first) t.fill(0);
      for (let i = 0; i < n; i++) t[i] += sk * u[i];
    }
    if (A !== null && firstA) A.fill(0);
    if (B !== null && firstB) B.fill(0);
    I.k.inputSweep(I.WT, I.stride, I.m, n, tr.y[0], tr.y[1], A, B, tr.u[1], I.idx, I.cnt, tangents);
    if (net.bias) pl.biasUpdate(net.raw.b[1], K);
  }

  private fusedStep(label: number): number {
    const net = this.net, tr = net.tr, { L, dims } = net, { W } = net.raw, F = net.k.fused!, I = this.input, k = net.k;
    if (I !== null) I.take(net);
    const zs = forwardTrain(net, label, this.needs.needU, I, true);
    if (this.needs.needU[L]) k.matTVec(tr.u[L], W[L], tr.y[L], dims[L], dims[L - 1]);
    const t = this.transform, scale = t.scale, pls = this.plasticity;
    for (let l = L; l >= 1; l--) {
      const pl = pls[l];
      if (l === 1 && I !== null) { this.inputUpdate(pl.factors(scale, k, pl.sig0, false), NO_TANGENTS); continue; }
      const n = dims[l], m = dims[l - 1], K = pl.factors(scale, k), target = t.targetW(l);
      const g = l > 1 ? tr.e[l - 1] : null, d = l > 1 ? tr.dsig[l - 1] : null, bte = l > 1 ? tr.bte[l - 1] : null;
      if (!F.backUpdate(g, W[l], target, tr.e[l], n, m, pl.s, pl.us, pl.vs, K, d, bte))
        backUpdatePlain(k, g, W[l], target, tr.e[l], n, m, pl.s, pl.us, pl.vs, K, d, bte);
      const tb = t.targetB(l);
      if (tb !== null) pl.biasUpdate(tb, K);
    }
    t.endExample();
    return zs;
  }
}
