import type { Buf, InputTangent } from "../../core/kernels.js";
import { SiteTangent } from "../../learn/plasticity.js";
import { checkLabel } from "../../learn/step.js";
import { ownersOf, queryGrad, Tangents, type MetaParam, type QueryGrad, type TangentStep } from "../../learn/tangent.js";
import type { LayerSignals, RankOne } from "../../rules/types.js";
import { InputLayer } from "./input-layer.js";
import type { SweepStep } from "./sweep.js";
import type { MlpTangentPass } from "./tangent.js";

/**
 * The meta-gradient's fast step (online, layer 1 transposed): the same step
 * as ComposedTangentStep, held equal to it by test/wasm.test.ts. Each
 * tangent's dW₁ lives transposed beside the primal copy, so dz₁ = dW₁x reads
 * only the nonzero pixels, and du₁, the tangent update and the primal update
 * of layer 1 happen in one sweep (InputKernels.inputSweep, with A', B', C').
 */
export class SweepTangentStep implements TangentStep {
  readonly primal: SweepStep;
  readonly params: readonly MetaParam[];
  readonly P: number;
  private readonly t: Tangents;
  private readonly pass: MlpTangentPass;
  private readonly owner: number[][];
  private readonly st: SiteTangent[];
  private readonly dsig0: LayerSignals[][];
  private readonly rec: InputTangent[];
  private readonly f: RankOne;
  private readonly g: RankOne;
  private readonly gBias: Float64Array;
  private readonly scr: Buf;

  constructor(primal: SweepStep, params: readonly MetaParam[]) {
    const net = primal.net, I = primal.input;
    if (I === null || primal.transform.scale !== 1) throw new Error("SweepTangentStep: the primal step must be online with layer 1 transposed");
    // dW₁'s tangents live in WT's layout and take the unpacked kernels: a packed primal carries no tangents.
    if (params.length > 0 && I.k === net.k.fused?.packedInput) {
      throw new Error("SweepTangentStep: tangents need layer 1 unpacked (SweepStep with tangents = true)");
    }
    this.primal = primal; this.params = params; this.P = params.length;
    this.t = new Tangents(net, this.P, 1);
    this.pass = net.tangents(this.t.dParams);
    this.owner = ownersOf(primal.plasticity, params);
    this.st = primal.plasticity.map((pl) => new SiteTangent(pl, (n) => net.arena.alloc(n)));
    this.dsig0 = this.pass.sig.map((ss) => ss.map((s) => ({ ...s, m: 0 })));
    const a = net.arena, n1 = net.dims[1], act1 = primal.plasticity[1].act;
    const hasX = act1.some((t) => t.term.inputPre === "x"), hasXU = act1.some((t) => t.term.inputPre === "x-u");
    this.rec = this.pass.sig.map((ss) => ({
      dWT: InputLayer.like(net, I), dy: ss[1].post,
      A: hasX ? a.alloc(n1) : null, B: hasXU ? a.alloc(n1) : null, C: hasXU ? a.alloc(n1) : null, du: ss[1].u,
    }));
    this.pass.useTransposed({ I, dWT: this.rec.map((r) => r.dWT) });
    this.scr = a.alloc(0);
    this.f = { sign: 1, post: this.scr, pre: this.scr, preBias: 0 };
    this.g = { sign: 1, post: this.scr, pre: this.scr, preBias: 0 };
    this.gBias = new Float64Array(act1.length);
  }

  /** dParams[k], current when read (layer 1's tangents are written back from their transposed copies). */
  get dParams(): readonly Buf[] {
    const I = this.primal.input!, net = this.primal.net;
    this.rec.forEach((r, k) => I.store(net.paramView(this.t.dParams[k], net.raw.W[1]), r.dWT));
    return this.t.dParams;
  }

  /** dParams as stored: current except layer 1, which lives transposed while the task trains. */
  get liveTangents(): readonly Buf[] { return this.t.dParams; }

  /**
   * Primal forward and errors, every tangent's forward and backward pass
   * (reading the old weights), the tangent and primal updates of layers
   * 2 … L, then one sweep of layer 1 that does u₁, du₁, the tangent updates
   * and the primal update row by row.
   */
  step(label: number): number {
    checkLabel(label, this.primal.net.nOut);
    const primal = this.primal, needs = primal.needs, pass = this.pass, K = primal.net.k;
    const zs = primal.propagateInput(label);
    pass.prepare();
    for (let k = 0; k < this.P; k++) pass.propagate(k, needs);
    for (let k = 0; k < this.P; k++) {
      this.inputTangentFactors(k);
      for (let l = 2; l < this.st.length; l++) {
        this.st[l].update(this.t.dW[k][l], this.t.db[k][l], pass.sig[k][l], this.dsig0[k][l], this.owner[l], k, 1, pass.zeroOf(k), K);
      }
    }
    primal.updateUpper();
    const pl1 = primal.plasticity[1];
    primal.inputUpdate(pl1.factors(1, K, pl1.sig0, false), this.rec);
    return zs;
  }

  finish(): void { this.primal.finish(); }

  /**
   * Layer 1's tangent update as row vectors for inputSweep: every term there
   * has pre factor x (tangent 0: the input has none) or x − u₁ (tangent −du₁), so
   * dW₁ += Σ_x (c dpost + dc post) ⊗ x + Σ_{x−u} [(c dpost + dc post) ⊗ (x − u) − c post ⊗ du]:
   * A' and B' are the bracketed n-vectors, C' = Σ_{x−u} c post.
   */
  private inputTangentFactors(k: number): void {
    const net = this.primal.net, pl1 = this.primal.plasticity[1], sig1 = pl1.sig0, T1 = this.dsig0[k][1], t = this.rec[k], n = net.dims[1];
    const f = this.f, g = this.g, act = pl1.act, dbl = this.t.db[k][1], K = net.k, scr = this.scr, gb = this.gBias;
    if (t.A !== null) t.A.fill(0);
    if (t.B !== null) t.B.fill(0);
    if (t.C !== null) t.C.fill(0);
    if (dbl !== null) for (let a = 0; a < act.length; a++) { act[a].term.tangent(sig1, T1, scr, g); gb[a] = g.preBias; }
    for (let a = 0; a < act.length; a++) {
      const term = act[a].term;
      term.factors(sig1, scr, f);
      term.tangent(sig1, T1, scr, g);
      const c = act[a].coef * f.sign, dc = this.owner[1][a] === k ? f.sign : 0;
      const V = term.inputPre === "x" ? t.A! : t.B!;
      K.lin2(V, c, g.post, dc, f.post, n, true);
      if (term.inputPre === "x-u") K.lin2(t.C!, c, f.post, 0, f.post, n, true);
      if (dbl !== null) for (let i = 0; i < n; i++) dbl[i] += c * (g.post[i] * f.preBias + f.post[i] * gb[a]) + dc * f.post[i] * f.preBias;
    }
  }

  queryGrad(images: Uint8Array, dim: number, idx: ArrayLike<number>, labels: ArrayLike<number>): QueryGrad {
    // The fast path's forward pass also records the nonzero pixels for the tangents' dz₁ = dW₁x.
    return queryGrad(this.primal.net, () => this.primal.logits(), this.pass, this.P, images, dim, idx, labels);
  }
}
