import type { Buf } from "../core/kernels.js";
import type { PlasticNetwork } from "./network.js";
import type { Rule } from "../rules/rule.js";
import type { SitePlasticity } from "./plasticity.js";

/**
 * When and how an example's ΔW lands, as a transform between the rule's
 * factors and the weights (optax-shaped: small pieces, composed): `online`
 * applies it at once; `meanOver(b)` averages b examples' updates, all
 * computed from the batch's starting weights; `adam` passes the
 * pseudo-gradient through Adam. The steps (src/learn/step.ts and the
 * networks' fast steps) call them in one order: factors of every site →
 * take → land in target → endExample; finish() after the last example.
 */
export interface UpdateTransform {
  /** Scale of this example's factors: 1 online, 1/batch in a mini-batch. */
  readonly scale: number;
  /** Forward-mode tangents may run through it: ΔW lands unchanged (online or averaged), not transformed. */
  readonly differentiable: boolean;
  /** Examples accumulated and not yet applied. */
  readonly pending: number;
  /** Where site l's ΔW and Δb of this example land. */
  targetW(l: number): Buf;
  targetB(l: number): Buf | null;
  /** Called with site l's factors before they land: a transform may take some (Adam takes the pseudo-gradient). */
  take(pl: SitePlasticity, K: number): void;
  /** An example is done; true when accumulated updates were just applied (a mini-batch boundary). */
  endExample(): boolean;
  /** Apply a trailing partial batch, averaged over its own size. */
  finish(): void;
}

/** Online learning (PAPER.md): ΔW lands on W at once. */
export class Online implements UpdateTransform {
  readonly scale = 1;
  readonly differentiable = true;
  readonly pending = 0;
  constructor(private readonly net: PlasticNetwork) {}
  targetW(l: number): Buf { return this.net.sites[l].W; }
  targetB(l: number): Buf | null { return this.net.sites[l].b; }
  take(): void {}
  endExample(): boolean { return false; }
  finish(): void {}
}

/**
 * Mini-batches: per-example ΔW from the batch's starting weights, averaged
 * (the accumulators hold Σ ΔW / batch); a trailing partial batch is averaged
 * over its own size.
 */
export class MeanOver implements UpdateTransform {
  readonly scale: number;
  readonly differentiable = true;
  private count = 0;
  readonly dParams: Buf;
  private readonly dW: Buf[];
  private readonly db: (Buf | null)[];
  constructor(private readonly net: PlasticNetwork, readonly batch: number) {
    this.scale = 1 / batch;
    const d = (this.dParams = net.arena.alloc(net.params.length));
    this.dW = net.sites.map((s) => net.paramView(d, s.W));
    this.db = net.sites.map((s) => (s.b === null ? null : net.paramView(d, s.b)));
  }
  get pending(): number { return this.count; }
  targetW(l: number): Buf { return this.dW[l]; }
  targetB(l: number): Buf | null { return this.db[l]; }
  take(): void {}
  endExample(): boolean {
    if (++this.count < this.batch) return false;
    this.flush();
    return true;
  }
  finish(): void { if (this.count > 0) this.flush(); }
  /** Apply the accumulated updates of `count` examples (default: those counted by endExample), averaged. */
  flush(count = this.count): void {
    const params = this.net.params, d = this.dParams;
    const k = this.batch / count; // the accumulators hold Σ ΔW / batch
    for (let i = 0; i < params.length; i++) params[i] += k * d[i];
    d.fill(0);
    this.count = 0;
  }
}

const ADAM = { b1: 0.9, b2: 0.999, eps: 1e-8 };

/**
 * The pseudo-gradient eₗyₗ₋₁ᵀ (averaged over a mini-batch) through Adam
 * (Kingma & Ba 2015) with θ_bp as its learning rate — one of the engineering
 * tricks Oja is compared against (PAPER.md claim 4). The other terms land as
 * `inner` says.
 */
export class Adam implements UpdateTransform {
  readonly differentiable = false;
  private readonly G: Buf;
  private readonly GW: Buf[];
  private readonly Gb: (Buf | null)[];
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  private readonly bpAt: number[];
  private readonly batch: number;
  constructor(private readonly net: PlasticNetwork, private readonly inner: Online | MeanOver, private readonly rule: Rule, pls: readonly SitePlasticity[]) {
    const G = (this.G = net.arena.alloc(net.params.length));
    this.GW = net.sites.map((s) => net.paramView(G, s.W));
    this.Gb = net.sites.map((s) => (s.b === null ? null : net.paramView(G, s.b)));
    this.m = new Float64Array(net.params.length);
    this.v = new Float64Array(net.params.length);
    this.bpAt = pls.map((p) => p.act.findIndex((a) => a.name === "bp"));
    this.batch = inner instanceof MeanOver ? inner.batch : 1;
  }
  get scale(): number { return this.inner.scale; }
  get pending(): number { return this.inner.pending; }
  targetW(l: number): Buf { return this.inner.targetW(l); }
  targetB(l: number): Buf | null { return this.inner.targetB(l); }
  take(pl: SitePlasticity, _K: number): void {
    const k = this.bpAt[pl.l];
    if (k < 0) return;
    // The pseudo-gradient goes to Adam's accumulator, not to W.
    const g = 1 / this.batch, u = pl.us[k];
    this.net.k.addOuter(this.GW[pl.l], g, u, pl.vs[k], pl.n, pl.m);
    const Gb = this.Gb[pl.l];
    if (Gb !== null) for (let i = 0; i < pl.n; i++) Gb[i] += g * u[i];
    pl.s[k] = 0;
  }
  endExample(): boolean {
    if (this.inner instanceof Online) { this.step(); return false; }
    if (this.inner.pending + 1 === this.batch) this.step();
    return this.inner.endExample();
  }
  finish(): void {
    const p = this.inner.pending;
    if (p > 0) {
      // A trailing partial batch: its gradient was accumulated as Σ g / batch; average it over its size.
      const k = this.batch / p;
      for (let i = 0; i < this.G.length; i++) this.G[i] *= k;
      this.step();
    }
    this.inner.finish();
  }
  /** One Adam step on the accumulated pseudo-gradient: W −= θ_bp · m̂ / (√v̂ + ε), per site's θ_bp. */
  private step(): void {
    const { G, m, v } = this, net = this.net;
    this.t++;
    const c1 = 1 - ADAM.b1 ** this.t, c2 = 1 - ADAM.b2 ** this.t;
    const params = net.params, base = params.byteOffset / params.BYTES_PER_ELEMENT;
    for (let l = 1; l < net.sites.length; l++) {
      const lr = this.rule.coef.bp?.[l] ?? 0, site = net.sites[l];
      for (const P of site.b !== null ? [site.W, site.b] : [site.W]) {
        const o = P.byteOffset / P.BYTES_PER_ELEMENT - base;
        for (let i = 0; i < P.length; i++) {
          const g = G[o + i], mi = (m[o + i] = ADAM.b1 * m[o + i] + (1 - ADAM.b1) * g), vi = (v[o + i] = ADAM.b2 * v[o + i] + (1 - ADAM.b2) * g * g);
          P[i] -= (lr * (mi / c1)) / (Math.sqrt(vi / c2) + ADAM.eps);
        }
      }
    }
    G.fill(0);
  }
}
