import type { Buf } from "../core/kernels.js";
import type { PlasticNetwork, SignalNeeds } from "./network.js";
import type { SitePlasticity } from "./plasticity.js";
import type { PlasticStep } from "./step.js";
import type { MetaParam, QueryGrad, TangentStep } from "./tangent.js";
import type { UpdateTransform } from "./transforms.js";

/**
 * Dale's law (Dale 1935; as a constraint on deep networks, Cornford et al.,
 * ICLR 2021): every hidden unit is excitatory or inhibitory, and all its
 * outgoing weights keep its sign through learning. A network says which of
 * its sites' columns (pre-synaptic units) are hidden units and with which
 * sign; the inputs (pixels) are not units and stay unconstrained.
 *
 * - Signs: in each population of n hidden units the first round(f · n) are
 *   excitatory (+1), the rest inhibitory (−1). Units of a freshly drawn,
 *   fully connected layer are exchangeable, so a fixed split loses nothing
 *   and draws no random number (the other streams keep their bytes).
 * - Init (`foldInit`): each constrained weight becomes s_j · |w| · c_j with
 *   c = √((1 − f) / f) for excitatory and √(f / (1 − f)) for inhibitory
 *   columns (0 < f < 1; else c = 1): each row's expected sum is 0
 *   (f · c_E = (1 − f) · c_I, excitation balanced by inhibition) and its
 *   mean square is the initializer's (f c_E² + (1 − f) c_I² = 1).
 * - Projection after every update (`project`): w_ij ← s_j · max(0, s_j w_ij),
 *   a weight that would cross zero stays at zero (on the sign boundary).
 * - Its tangent (meta-gradients): dP/dw = 1 where s_j w_ij > 0 and 0 where
 *   the projection is active (s_j w_ij ≤ 0 after the update), so every
 *   direction's dW_ij is zeroed there (test/credit.test.ts checks it against
 *   a finite difference).
 */
export interface DaleSigns {
  /** The fraction of excitatory units. */
  readonly fraction: number;
  /** colSign[i]: the sign of each column of site i (its pre-synaptic units), or null where they are not constrained. */
  readonly colSign: readonly (Int8Array | null)[];
}

/** +1 for the first round(f · n) units, −1 for the rest. */
export function unitSigns(n: number, fraction: number): Int8Array {
  const s = new Int8Array(n).fill(-1), nE = Math.round(fraction * n);
  s.fill(1, 0, nE);
  return s;
}

/** A refusal of a fraction outside [0, 1], naming the flag. */
export function checkDale(fraction: number | undefined): void {
  if (fraction !== undefined && !(fraction >= 0 && fraction <= 1)) throw new RangeError(`--dale takes the excitatory fraction in [0, 1], got ${fraction}`);
}

/** W (n × m) ← s_j · |w_ij| · c_j: a drawn init made to respect the column signs, balanced (see DaleSigns). */
export function foldInit(W: Buf, n: number, m: number, sign: Int8Array, fraction: number): void {
  const mixed = fraction > 0 && fraction < 1;
  const cE = mixed ? Math.sqrt((1 - fraction) / fraction) : 1, cI = mixed ? Math.sqrt(fraction / (1 - fraction)) : 1;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    const s = sign[j], o = i * m + j;
    W[o] = s * Math.abs(W[o]) * (s > 0 ? cE : cI);
  }
}

/**
 * The projection: w_ij ← 0 where s_j w_ij ≤ 0 (it would have crossed, or sits
 * on the boundary), and every tangent's entry there with it (dP/dw = 0 on the
 * active set). Returns the number of entries on the boundary.
 */
export function project(W: Buf, n: number, m: number, sign: Int8Array, tangents: readonly Buf[] = []): number {
  let at = 0;
  for (let i = 0; i < n; i++) {
    const r = i * m;
    for (let j = 0; j < m; j++) {
      if (sign[j] * W[r + j] > 0) continue;
      W[r + j] = 0;
      for (const d of tangents) d[r + j] = 0;
      at++;
    }
  }
  return at;
}

/** The fraction of site i's constrained weights at the sign boundary (exactly 0), or null where none are constrained. */
export function boundaryFraction(dale: DaleSigns | null | undefined, i: number, W: ArrayLike<number>, n: number, m: number): number | null {
  const s = dale?.colSign[i];
  if (s == null || n * m === 0) return null;
  let at = 0;
  for (let k = 0; k < n * m; k++) if (W[k] === 0) at++;
  return at / (n * m);
}

/** The column signs as floats on the network's arena, for the backend's projection kernel. */
function signBuffers(net: PlasticNetwork, dale: DaleSigns): (Buf | null)[] {
  return dale.colSign.map((s) => {
    if (s == null) return null;
    const b = net.arena.alloc(s.length);
    for (let j = 0; j < s.length; j++) b[j] = s[j];
    return b;
  });
}

/**
 * Project every constrained site of `net` (and the tangents' views of it): by the backend's kernel where it has
 * one and no tangent rides along (the same floats as `project`; test/credit.test.ts), else the plain loop.
 */
function projectNet(net: PlasticNetwork, dale: DaleSigns, sg: readonly (Buf | null)[], tangents: readonly Buf[]): void {
  for (let i = 1; i <= net.S; i++) {
    const s = dale.colSign[i];
    if (s == null) continue;
    const site = net.sites[i];
    // sg is empty for the tangent step (DaleTangentStep keeps no sign buffers): with no tangent riding along
    // (an episode run without the gradient, as the robust loop's bracket scores θ) it takes the plain loop.
    const signs = sg[i];
    if (tangents.length === 0 && signs != null && net.k.daleProject?.(site.W, signs, site.n, site.m)) continue;
    project(site.W, site.n, site.m, s, tangents.map((d) => net.paramView(d, site.W)));
  }
}

/**
 * A step under Dale's law: the planned step (any of them: its constrained
 * sites are never the ones a fast step holds elsewhere, MLP layer 1 having
 * the pixels as inputs), then the projection of every constrained site.
 */
export class DaleStep implements PlasticStep {
  readonly inner: PlasticStep;
  readonly dale: DaleSigns;
  private readonly sg: (Buf | null)[];
  constructor(inner: PlasticStep, dale: DaleSigns) { this.inner = inner; this.dale = dale; this.sg = signBuffers(inner.net, dale); }
  get net(): PlasticNetwork { return this.inner.net; }
  get x(): Buf { return this.inner.x; }
  get plasticity(): readonly SitePlasticity[] { return this.inner.plasticity; }
  get needs(): SignalNeeds { return this.inner.needs; }
  get transform(): UpdateTransform { return this.inner.transform; }
  get name(): string { return `${this.inner.name}, Dale's projection`; }
  step(label: number): number {
    const zs = this.inner.step(label);
    projectNet(this.inner.net, this.dale, this.sg, []);
    return zs;
  }
  finish(): void { this.inner.finish(); projectNet(this.inner.net, this.dale, this.sg, []); }
}

/** The tangent step under Dale's law: the planned tangent step, then the projection with its tangent (zero where active). */
export class DaleTangentStep implements TangentStep {
  readonly inner: TangentStep;
  readonly dale: DaleSigns;
  readonly primal: PlasticStep;
  constructor(inner: TangentStep, dale: DaleSigns) { this.inner = inner; this.dale = dale; this.primal = inner.primal; }
  get params(): readonly MetaParam[] { return this.inner.params; }
  get P(): number { return this.inner.P; }
  get dParams(): readonly Buf[] { return this.inner.dParams; }
  get liveTangents(): readonly Buf[] { return this.inner.liveTangents ?? this.inner.dParams; }
  step(label: number): number {
    const zs = this.inner.step(label);
    projectNet(this.primal.net, this.dale, [], this.liveTangents);
    return zs;
  }
  finish(): void { this.inner.finish(); projectNet(this.primal.net, this.dale, [], this.liveTangents); }
  queryGrad(images: Uint8Array, dim: number, idx: ArrayLike<number>, labels: ArrayLike<number>): QueryGrad {
    return this.inner.queryGrad(images, dim, idx, labels);
  }
}
