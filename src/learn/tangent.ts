import type { Buf } from "../core/kernels.js";
import { SiteTangent, type SitePlasticity } from "./plasticity.js";
import { checkLabel, type ComposedStep, type PlasticStep } from "./step.js";
import { MeanOver } from "./transforms.js";
import type { TangentNetwork, TangentPass } from "./network.js";
import { correct, crossEntropy } from "../nn/loss.js";
import type { TermName } from "../rules/registry.js";
import type { LayerSignals } from "../rules/types.js";
import { loadPixels } from "../data/pixels.js";

/** One meta-parameter: the coefficient of `term` at sites `layers` (all sites when shared). */
export interface MetaParam {
  term: TermName;
  layers: number[];
}

/** The meta-parameters for learning `terms`, shared across sites or one per site (sites 1 … L). */
export function metaLayout(terms: readonly TermName[], L: number, perLayer: boolean): MetaParam[] {
  const all = Array.from({ length: L }, (_, i) => i + 1);
  return terms.flatMap((term) => (perLayer ? all.map((l) => ({ term, layers: [l] })) : [{ term, layers: all }]));
}

export interface QueryGrad { loss: number; acc: number; grad: Float64Array }

/**
 * A plasticity step carried forward with one tangent dParams/dθ_k per
 * meta-parameter (PAPER.md "Meta-learning"): exact, second-order terms
 * included, memory P copies of the parameters whatever the number of steps.
 */
export interface TangentStep {
  readonly primal: PlasticStep;
  readonly params: readonly MetaParam[];
  readonly P: number;
  /** dParams[k]: tangent of every parameter along θ_k (same layout as params). */
  readonly dParams: readonly Buf[];
  /** One example with tangents; returns the logits' sum (non-finite once diverged). */
  step(label: number): number;
  /**
   * The dParams buffers as stored, current at every site a fast step does not
   * hold elsewhere (reading them costs nothing; dParams may write a held site
   * back first). Absent: dParams.
   */
  readonly liveTangents?: readonly Buf[];
  /** After the last example: a trailing partial mini-batch, primal and tangents. */
  finish(): void;
  /** Mean query cross-entropy and accuracy, and the exact gradient of the loss in each meta-parameter. */
  queryGrad(images: Uint8Array, dim: number, idx: ArrayLike<number>, labels: ArrayLike<number>): QueryGrad;
}

/**
 * owner[l][a]: the meta-parameter index controlling active term a at site l,
 * or −1; refuses a meta-parameter whose term is not active where it applies.
 */
export function ownersOf(pls: readonly SitePlasticity[], params: readonly MetaParam[]): number[][] {
  const names = (pl: SitePlasticity) => [...pl.act.map((a) => a.name), ...pl.scaleTerms.map((t) => t.name)];
  for (const p of params) for (const l of p.layers) {
    if (!names(pls[l]).includes(p.term)) throw new Error(`meta-parameter ${p.term} at layer ${l} is not active in the step (pass it in 'always')`);
  }
  // Rank-1 terms first, then the terms that scale W (SiteTangent reads them in that order).
  return pls.map((pl, l) => names(pl).map((name) => params.findIndex((p) => p.term === name && p.layers.includes(l))));
}

/** dParams for `P` directions, their views per site, and mini-batch accumulators, allocated on the network's arena. */
export class Tangents {
  readonly dParams: Buf[];
  readonly dW: Buf[][];
  readonly db: (Buf | null)[][];
  readonly accParams: Buf[];
  readonly accW: Buf[][];
  readonly accb: (Buf | null)[][];
  constructor(net: TangentNetwork, P: number, batch: number) {
    const a = net.arena, len = net.params.length;
    const views = (ds: Buf[]) => ({
      W: ds.map((d) => net.sites.map((s) => net.paramView(d, s.W))),
      b: ds.map((d) => net.sites.map((s) => (s.b === null ? null : net.paramView(d, s.b)))),
    });
    this.dParams = Array.from({ length: P }, () => a.alloc(len));
    const v = views(this.dParams);
    this.dW = v.W; this.db = v.b;
    // Mini-batches: tangent updates accumulate beside the primal ones and are applied with them.
    this.accParams = batch > 1 ? Array.from({ length: P }, () => a.alloc(len)) : [];
    const w = views(this.accParams);
    this.accW = w.W; this.accb = w.b;
  }
  /** dParams_k += scale · accumulated_k: the tangent of the primal mini-batch update. */
  flush(scale: number): void {
    for (let k = 0; k < this.dParams.length; k++) {
      const d = this.dParams[k], acc = this.accParams[k];
      for (let i = 0; i < d.length; i++) d[i] += scale * acc[i];
      acc.fill(0);
    }
  }
}

/**
 * The reference tangent step, for any TangentNetwork: the primal propagate,
 * every direction's tangent forward and error pathway (from the old
 * weights), the tangent of every site's update, then the primal update.
 */
export class ComposedTangentStep implements TangentStep {
  readonly primal: ComposedStep;
  readonly params: readonly MetaParam[];
  readonly P: number;
  readonly dParams: readonly Buf[];
  readonly net: TangentNetwork;
  private readonly t: Tangents;
  private readonly pass: TangentPass;
  private readonly owner: number[][];
  private readonly st: SiteTangent[];
  private readonly dsig0: LayerSignals[][];
  private readonly batch: number;

  constructor(primal: ComposedStep, params: readonly MetaParam[]) {
    if (!primal.transform.differentiable)
      throw new Error("meta-gradients through this step's optimizer are not implemented (its transform is not differentiable)");
    const net = primal.net as TangentNetwork;
    if (typeof net.tangents !== "function") throw new Error(`the ${net.kind} network has no forward-mode tangents`);
    this.primal = primal; this.net = net; this.params = params; this.P = params.length;
    this.batch = primal.transform instanceof MeanOver ? primal.transform.batch : 1;
    this.t = new Tangents(net, this.P, this.batch);
    this.dParams = this.t.dParams;
    this.pass = net.tangents(this.t.dParams);
    this.owner = ownersOf(primal.plasticity, params);
    this.st = primal.plasticity.map((pl) => new SiteTangent(pl, (n) => net.arena.alloc(n)));
    this.dsig0 = this.pass.sig.map((ss) => ss.map((s) => ({ ...s, m: 0 })));
  }

  step(label: number): number {
    checkLabel(label, this.net.nOut);
    const primal = this.primal, net = this.net, needs = primal.needs, pass = this.pass;
    const zs = net.propagate(label, needs);
    pass.prepare();
    for (let k = 0; k < this.P; k++) pass.propagate(k, needs);
    for (let k = 0; k < this.P; k++) this.tangentUpdate(k);
    primal.apply();
    if (primal.transform.endExample()) this.t.flush(1);
    return zs;
  }

  private tangentUpdate(k: number): void {
    const online = this.batch === 1, inv = online ? 1 : 1 / this.batch, t = this.t, K = this.net.k, zero = this.pass.zeroOf(k);
    for (let l = 1; l < this.st.length; l++) {
      const dW = online ? t.dW[k][l] : t.accW[k][l], db = online ? t.db[k][l] : t.accb[k][l];
      this.st[l].update(dW, db, this.pass.sig[k][l], this.dsig0[k][l], this.owner[l], k, inv, zero, K, { dW: t.dW[k][l], db: t.db[k][l] });
    }
  }

  finish(): void {
    const p = this.primal.transform.pending;
    if (p > 0) this.t.flush(this.batch / p);
    this.primal.finish();
  }

  queryGrad(images: Uint8Array, dim: number, idx: ArrayLike<number>, labels: ArrayLike<number>): QueryGrad {
    // The scorer gives logits() by a faster path (the same floats) while the weights stay fixed, as they do here.
    return queryGrad(this.net, this.net.scorer?.() ?? (() => this.net.logits()), this.pass, this.P, images, dim, idx, labels);
  }
}

/**
 * Mean query cross-entropy and accuracy, and the exact gradient of the loss
 * with respect to each meta-parameter: dCE = (p − onehot) · dz_L.
 */
export function queryGrad(
  net: TangentNetwork,
  logits: () => Buf,
  pass: TangentPass,
  P: number,
  images: Uint8Array,
  dim: number,
  idx: ArrayLike<number>,
  labels: ArrayLike<number>,
): QueryGrad {
  const nL = net.nOut,
    grad = new Float64Array(P);
  let loss = 0,
    hits = 0;
  for (let q = 0; q < idx.length; q++) {
    loadPixels(net.x, images, idx[q], dim);
    const zL = logits(),
      p = net.p,
      lab = labels[q];
    pass.prepare();
    loss += crossEntropy(zL, nL, lab);
    if (correct(zL, nL, lab)) hits++;
    for (let k = 0; k < P; k++) {
      const dz = pass.logits(k);
      let s = 0;
      for (let i = 0; i < nL; i++) s += (p[i] - (i === lab ? 1 : 0)) * dz[i];
      grad[k] += s;
    }
  }
  const n = idx.length;
  for (let k = 0; k < P; k++) grad[k] /= n;
  return { loss: loss / n, acc: hits / n, grad };
}
