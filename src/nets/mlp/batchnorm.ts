import { softmax, type Buf } from "../../core/kernels.js";
import { plasticityOf, type SitePlasticity } from "../../learn/plasticity.js";
import { checkLabel, type PlasticStep, type StepOptions } from "../../learn/step.js";
import { optimizerOf } from "../../learn/optimizers.js";
import { MeanOver } from "../../learn/transforms.js";
import type { LayerSignals } from "../../rules/types.js";
import type { Rule } from "../../rules/rule.js";
import type { SignalNeeds } from "../../learn/network.js";
import { BN_EPS, BN_MOMENTUM, signalsOf, Trace, type MLP } from "./mlp.js";
import { refreshSign } from "../../signals/feedback.js";

/**
 * Batch normalization (Ioffe & Szegedy 2015; no gain or shift), one of the
 * engineering tricks Oja is compared against (PAPER.md claim 4), as a step of
 * its own: the examples of a mini-batch are kept; once it is full, forward
 * layer by layer with the batch's mean and variance, backward through them
 * (∂L/∂z = (g − mean g − ẑ · mean(g ⊙ ẑ)) / s over the batch), then every
 * example's ΔW from its own trace, averaged.
 */
export class BatchNormStep implements PlasticStep {
  readonly name = "batch norm";
  readonly net: MLP;
  readonly plasticity: readonly SitePlasticity[];
  readonly needs: SignalNeeds;
  readonly transform: MeanOver;
  private readonly batch: number;
  private readonly xs: Buf[];
  private readonly labels: Int32Array;
  private readonly traces: Trace[];
  private readonly sigs: LayerSignals[][];
  private readonly std: Float64Array[];
  private count = 0;

  constructor(net: MLP, rule: Rule, opts: StepOptions) {
    const batch = opts.batch ?? 1;
    if (batch < 2) throw new RangeError("batch normalization needs mini-batches (--batch ≥ 2)");
    // This step lands the mean-over transform's updates itself: an optimizer that transforms them has no place here.
    const opt = optimizerOf(opts.optimizer);
    if (!opt.fusable) throw new RangeError(`batch normalization with the ${opt.title} optimizer is not implemented (use one baseline at a time)`);
    this.net = net; this.batch = batch;
    const p = plasticityOf(net.sites, rule, (n) => net.arena.alloc(n), { always: opts.always });
    this.plasticity = p.sites;
    this.needs = p.needs;
    this.transform = new MeanOver(net, batch);
    this.traces = Array.from({ length: batch }, () => new Trace(net));
    this.xs = this.traces.map((t) => t.y[0]);
    this.labels = new Int32Array(batch);
    this.sigs = this.traces.map((t) => signalsOf(net, t));
    this.std = net.dims.map((n) => new Float64Array(n));
  }

  get x(): Buf { return this.net.x; }

  /** Keep the example (x is copied); the whole batch is processed once it is full. */
  step(label: number): number {
    checkLabel(label, this.net.nOut);
    this.xs[this.count].set(this.net.x);
    this.labels[this.count++] = label;
    return this.count === this.batch ? this.batchStep() : 0;
  }

  finish(): void { if (this.count > 0) this.batchStep(); }

  /** One mini-batch; returns the logits' sum. */
  private batchStep(): number {
    const net = this.net, { L, dims, k } = net, { W, b } = net.raw, P = this.count, T = this.traces, fb = net.feedback;
    for (let l = 1; l <= L; l++) {
      const n = dims[l], m = dims[l - 1];
      for (let q = 0; q < P; q++) k.matVec(T[q].z[l], W[l], T[q].y[l - 1], n, m, net.bias ? b[l] : null);
      if (l === L) { for (let q = 0; q < P; q++) softmax(T[q].y[L], T[q].z[L], n); continue; }
      const std = this.std[l], mu = net.bnMean[l], rv = net.bnVar[l];
      for (let i = 0; i < n; i++) {
        let mean = 0, v = 0;
        for (let q = 0; q < P; q++) mean += T[q].z[l][i];
        mean /= P;
        for (let q = 0; q < P; q++) v += (T[q].z[l][i] - mean) ** 2;
        v /= P;
        std[i] = Math.sqrt(v + BN_EPS);
        for (let q = 0; q < P; q++) T[q].z[l][i] = (T[q].z[l][i] - mean) / std[i];
        // Running statistics for evaluation (unbiased variance, as PyTorch keeps them).
        mu[i] = (1 - BN_MOMENTUM) * mu[i] + BN_MOMENTUM * mean;
        rv[i] = (1 - BN_MOMENTUM) * rv[i] + BN_MOMENTUM * (P > 1 ? (v * P) / (P - 1) : v);
      }
      for (let q = 0; q < P; q++) net.act.fdf(T[q].y[l], T[q].dsig[l], T[q].z[l], n);
    }
    let zs = 0;
    for (let q = 0; q < P; q++) {
      const e = T[q].e[L], p = T[q].y[L];
      for (let i = 0; i < dims[L]; i++) { e[i] = p[i]; zs += T[q].z[L][i]; }
      e[this.labels[q]] -= 1;
    }
    const needU = this.needs.needU, needE0 = this.needs.needEPre[1];
    for (let l = L; l >= 1; l--) {
      const n = dims[l], m = dims[l - 1], wantE = l > 1 || needE0, dfa = fb.name === "dfa";
      if (wantE) refreshSign(fb, l, W[l], k); // sign symmetry: B from the current W (a no-op otherwise)
      for (let q = 0; q < P; q++) {
        if (wantE && dfa) k.matVec(T[q].e[l - 1], fb.B[l - 1], T[q].e[L], m, dims[L], null);
        else if (wantE) k.matTVec(T[q].e[l - 1], fb.B[l], T[q].e[l], n, m);
        if (needU[l]) k.matTVec(T[q].u[l], W[l], T[q].y[l], n, m);
        if (this.needs.needUE?.[l]) k.matTVec(T[q].ue[l], W[l], T[q].e[l], n, m);
      }
      if (l === 1) continue;
      const std = this.std[l - 1];
      for (let q = 0; q < P; q++) {
        const g = T[q].e[l - 1], d = T[q].dsig[l - 1], bte = T[q].bte[l - 1];
        for (let j = 0; j < m; j++) { bte[j] = g[j]; g[j] *= d[j]; }
      }
      for (let j = 0; j < m; j++) {
        let mg = 0, mgz = 0;
        for (let q = 0; q < P; q++) { mg += T[q].e[l - 1][j]; mgz += T[q].e[l - 1][j] * T[q].z[l - 1][j]; }
        mg /= P; mgz /= P;
        for (let q = 0; q < P; q++) T[q].e[l - 1][j] = (T[q].e[l - 1][j] - mg - T[q].z[l - 1][j] * mgz) / std[j];
      }
    }
    const t = this.transform, pls = this.plasticity;
    for (let q = 0; q < P; q++) {
      for (let l = 1; l <= L; l++) {
        const pl = pls[l], K = pl.factors(t.scale, k, this.sigs[q][l]);
        pl.addTo(t.targetW(l), t.targetB(l), K, k);
      }
    }
    t.flush(P);
    this.count = 0;
    return zs;
  }
}
