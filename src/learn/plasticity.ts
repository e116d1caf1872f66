import { monoTangent, monoUpdate, type Buf, type Kernels } from "../core/kernels.js";
import { BUILTIN_TERMS, termOf, TermError, type TermName } from "../rules/registry.js";
import type { Rule } from "../rules/rule.js";
import type { LayerSignals, PlasticityTerm, RankOne } from "../rules/types.js";

/**
 * A rule at one plastic site, knowing nothing of the network around it
 * (PAPER.md: ΔW = Σ_k θ_k · term_k, every term rank-1 — rank T through time):
 * the active terms and their coefficients, the factors of this example's
 * ΔW, their application, and the forward-mode tangent of the update. Every
 * buffer is sized here from the rule (never a fixed capacity), once; a step
 * allocates nothing.
 */
export interface ActiveTerm {
  term: PlasticityTerm;
  name: TermName;
  coef: number;
  /** Holds the pre factor when the term forms one (T × m). */
  scratch: Buf;
  f: RankOne;
}

/** What the plasticity of a site needs to know of it. */
export interface SiteShape {
  readonly n: number;
  readonly m: number;
  readonly T: number;
  readonly sig: LayerSignals;
  /** The site's weights and bias (read by terms that scale W). */
  readonly W: Buf;
  readonly b: Buf | null;
}

/** A term that scales W (learned weight decay): ΔW = coef · sign · W. */
export interface ScaleTerm {
  term: PlasticityTerm;
  name: TermName;
  coef: number;
  sign: number;
}

export interface PlasticityOptions {
  /** Terms kept active even where their coefficient is 0 (meta-learning differentiates through them). */
  always?: readonly TermName[];
}

let monomialFusion = true;

/**
 * Whether sites built from now on sum their monomial elementwise terms (k · preᵃ postᵇ Wᶜ, the Taylor
 * family's t_abc with c ≥ 1) in one sweep — Kernels.monoUpdate, and monoTangent per tangent direction —
 * or one sweep per term as each term's own compiled loop does (false: the reference the fused sweep is
 * held to in test/taylor-fused.test.ts). On by default. Returns the previous setting.
 */
export function setMonomialFusion(on: boolean): boolean {
  const was = monomialFusion;
  monomialFusion = on;
  return was;
}

/** The bias column as a weight from the constant input 1 (monoUpdate with m = 1), and its tangent 0. */
const ONE = new Float64Array([1]), ZERO = new Float64Array([0]);

export class SitePlasticity {
  readonly l: number;
  readonly n: number;
  readonly m: number;
  readonly T: number;
  /** The active rank-1 terms. */
  readonly act: readonly ActiveTerm[];
  /** Number of active rank-1 terms. */
  readonly K: number;
  /** The active terms that scale W (weight decay), applied with the rank-1 ones from the same old W. */
  readonly scaleTerms: readonly ScaleTerm[];
  /** Σ scale · coef · sign over scaleTerms, set by the last `factors` call. */
  sScale = 0;
  readonly W: Buf;
  readonly b: Buf | null;
  /** The factors of the last `factors` call: ΔW = Σ_k s[k] · us[k] ⊗ vs[k] (over T rows). */
  readonly s: Float64Array;
  readonly us: Buf[];
  readonly vs: Buf[];
  /** The site's own signals, and the same with m = 0 (post and bias factors only; see LayerSignals). */
  readonly sig: LayerSignals;
  readonly sig0: LayerSignals;
  readonly needsU: boolean;
  readonly needsEPre: boolean;

  constructor(l: number, site: SiteShape, rule: Rule, alloc: (n: number) => Buf, opts: PlasticityOptions = {}) {
    this.l = l; this.n = site.n; this.m = site.m; this.T = site.T; this.W = site.W; this.b = site.b;
    this.sig = site.sig;
    this.sig0 = { ...site.sig, m: 0 };
    const act: ActiveTerm[] = [], scaleTerms: ScaleTerm[] = [];
    for (const name of Object.keys(rule.coef) as TermName[]) {
      const c = rule.coef[name]![l];
      if (c === 0 && !(opts.always ?? []).includes(name)) continue;
      const term = termOf(name);
      if (term.elementwise !== undefined) { scaleTerms.push({ term, name, coef: c, sign: 0 }); continue; }
      if (term.scalesW) {
        const f: RankOne = { sign: -1, post: site.sig.post, pre: site.sig.pre, preBias: 0 };
        term.factors(site.sig, site.sig.pre, f);
        scaleTerms.push({ term, name, coef: c, sign: f.sign });
        continue;
      }
      const a: ActiveTerm = {
        term,
        name,
        coef: c,
        scratch: alloc(site.T * site.m + (term.postScratch ? site.T * site.n : 0)),
        f: { sign: 1, post: site.sig.post, pre: site.sig.pre, preBias: 0 },
      };
      if (!Object.prototype.hasOwnProperty.call(BUILTIN_TERMS, name) && site.n > 0) checkFactors(a, site);
      act.push(a);
    }
    this.act = act;
    this.scaleTerms = scaleTerms;
    this.K = act.length;
    this.s = new Float64Array(act.length);
    this.us = act.map((t) => t.f.post);
    this.vs = act.map((t) => t.f.pre);
    const all = [...act.map((a) => a.term), ...scaleTerms.map((t) => t.term)];
    this.needsU = all.some((t) => t.needsU);
    this.needsEPre = all.some((t) => t.needsEPre);
    this.needsUE = all.some((t) => t.needsUE === true);
    // Elementwise terms land through a buffer, so that all of them (and the scaling terms) read the same old W.
    const ew = scaleTerms.filter((t) => t.term.elementwise !== undefined);
    this.ew = ew;
    this.ewW = ew.length > 0 ? alloc(site.n * site.m) : null;
    this.ewB = ew.length > 0 && site.b !== null ? alloc(site.n) : null;
    // Monomials k · preᵃ postᵇ Wᶜ: coefficient k·θ into slot 9a + 3b + c of one sweep's polynomial.
    const mono = monomialFusion ? scaleTerms.flatMap((t, j) => (t.term.elementwise?.monomial !== undefined ? [j] : [])) : [];
    this.monoIdx = mono;
    this.monoSlot = mono.map((j) => { const x = scaleTerms[j].term.elementwise!.monomial!; return 9 * x.a + 3 * x.b + x.c; });
    this.monoK = mono.map((j) => scaleTerms[j].term.elementwise!.monomial!.k);
    this.fusedAt = scaleTerms.map((_, j) => mono.includes(j));
  }

  /** Indices into scaleTerms of the elementwise monomials summed in one sweep, their polynomial slots and constants. */
  readonly monoIdx: readonly number[];
  readonly monoSlot: readonly number[];
  readonly monoK: readonly number[];
  /** fusedAt[j]: scaleTerms[j] is one of them (its own loop is skipped). */
  readonly fusedAt: readonly boolean[];
  private readonly monoC = new Float64Array(27);

  /** outW (n, m) and outB (n) += the fused monomials' Σ_k c_k · F_k at the site's old W and b (c_k = scale · θ_k). */
  private monoAccumulate(k: Kernels, scale: number, outW: Buf, outB: Buf | null): void {
    const C = this.monoC;
    C.fill(0);
    let any = false;
    for (let q = 0; q < this.monoIdx.length; q++) {
      const c = scale * this.scaleTerms[this.monoIdx[q]].coef;
      if (c !== 0) { C[this.monoSlot[q]] += c * this.monoK[q]; any = true; }
    }
    // Terms at coefficient 0 are skipped, as their own loops are (an overflowing W then stays as it is).
    if (!any) return;
    k.monoUpdate(outW, this.W, this.sig.pre, this.sig.post, C, this.T, this.n, this.m);
    if (outB !== null && this.b !== null) monoUpdate(outB, this.b, ONE, this.sig.post, C, 1, this.n, 1);
  }

  /** The active elementwise terms (also in scaleTerms, with sign 0), their buffer, and the update's scale. */
  readonly ew: readonly ScaleTerm[];
  readonly ewW: Buf | null;
  readonly ewB: Buf | null;
  ewScale = 0;

  readonly needsUE: boolean;

  /**
   * The factors of every active term from `sig` into s, us, vs, scaled by
   * `scale`; returns their number. With `kernelSub` (the site's own signals),
   * a pre factor yₗ₋₁ − uₗ is formed by the backend's kernel rather than the
   * term's loop.
   */
  factors(scale: number, k: Kernels, sig: LayerSignals = this.sig, kernelSub = sig === this.sig): number {
    const act = this.act, K = act.length, s = this.s, us = this.us, vs = this.vs;
    for (let a = 0; a < K; a++) {
      const t = act[a];
      if (kernelSub && t.term.inputPre === "x-u") {
        // Oja-like (pre factor yₗ₋₁ − uₗ): the term gives post and bias factors (m = 0), the backend the subtraction.
        t.term.factors(this.sig0, t.scratch, t.f);
        k.sub(t.scratch, sig.pre, sig.u, sig.T * sig.m);
        t.f.pre = t.scratch;
      } else t.term.factors(sig, t.scratch, t.f);
      s[a] = scale * t.coef * t.f.sign;
      us[a] = t.f.post;
      vs[a] = t.f.pre;
    }
    let sc = 0;
    for (const t of this.scaleTerms) sc += scale * t.coef * t.sign;
    this.sScale = sc;
    this.ewScale = scale;
    return K;
  }

  /** Whether the last factors call left anything to apply. */
  active(K: number): boolean { return K > 0 || this.sScale !== 0 || this.ew.some((t) => t.coef !== 0); }

  /**
   * target += Σ_k s_k us_k ⊗ vs_k (over T rows) and the bias part, from the
   * last `factors`; and, first, the scaling terms' sScale · W of the site's
   * (old) weights — with target = W, W ← (1 + sScale) W.
   */
  addTo(W: Buf, b: Buf | null, K: number, k: Kernels): void {
    const sc = this.sScale, E = this.ewW;
    if (E !== null) {
      E.fill(0); this.ewB?.fill(0);
      if (this.monoIdx.length > 0) this.monoAccumulate(k, this.ewScale, E, this.ewB);
      for (let j = 0; j < this.scaleTerms.length; j++) {
        const t = this.scaleTerms[j], ew = t.term.elementwise;
        if (ew !== undefined && !this.fusedAt[j] && t.coef !== 0) ew.accumulate(this.sig, this.W, this.b, this.ewScale * t.coef, E, this.ewB);
      }
    }
    if (sc !== 0) {
      k.lin2(W, 1, W, sc, this.W, this.n * this.m, false);
      if (b !== null && this.b !== null) for (let i = 0; i < this.n; i++) b[i] += sc * this.b[i];
    }
    if (E !== null) {
      k.lin2(W, 1, W, 1, E, this.n * this.m, false);
      if (b !== null && this.ewB !== null) for (let i = 0; i < this.n; i++) b[i] += this.ewB[i];
    }
    if (K === 0) return;
    if (this.T === 1) k.addOuters(W, this.s, this.us, this.vs, K, this.n, this.m);
    else k.addOutersT(W, this.s, this.us, this.vs, K, this.T, this.n, this.m);
    if (b !== null) this.biasUpdate(b, K);
  }

  /** A bias is a weight from a constant input 1: b += Σ_k s_k · preBias_k · post_k. */
  biasUpdate(b: Buf, K: number): void {
    const act = this.act, s = this.s, us = this.us, n = this.n;
    for (let a = 0; a < K; a++) {
      const c = s[a] * act[a].f.preBias;
      if (c === 0) continue;
      const u = us[a];
      for (let i = 0; i < n; i++) b[i] += c * u[i];
    }
  }
}

/**
 * The forward-mode tangent of a site's update along one meta-parameter
 * direction (PAPER.md "Meta-learning": exact, second-order terms included):
 *   dW += Σ_a sign·[θ_a (d(post) ⊗ pre + post ⊗ d(pre)) + [a is θ_k] post ⊗ pre].
 * The pieces of all terms are gathered first; pieces on a tangent known to be
 * zero (the input's) are dropped and pieces sharing a pre vector are merged,
 * so a site's tangent update is usually one sweep of dW. Capacities come from
 * the number of active terms: at most three pieces each.
 */
export class SiteTangent {
  readonly pl: SitePlasticity;
  private readonly scrP: Buf[];
  private readonly scrT: Buf[];
  private readonly f: RankOne;
  private readonly g: RankOne;
  private readonly gBias: Float64Array;
  private readonly ps: Float64Array;
  private readonly pu: Buf[];
  private readonly pv: (Buf | null)[];
  private readonly comb: Buf[];
  private readonly ewW: Buf | null;
  private readonly ewB: Buf | null;

  constructor(pl: SitePlasticity, alloc: (n: number) => Buf) {
    this.pl = pl;
    const K = pl.K,
      rowsM = pl.T * pl.m,
      rowsN = pl.T * pl.n;
    const rows = (a: ActiveTerm) => rowsM + (a.term.postScratch ? rowsN : 0);
    this.scrP = pl.act.map((a) => alloc(rows(a)));
    this.scrT = pl.act.map((a) => alloc(rows(a)));
    this.ewW = pl.ew.length > 0 ? alloc(pl.n * pl.m) : null;
    this.ewB = pl.ew.length > 0 && pl.b !== null ? alloc(pl.n) : null;
    const none = pl.sig.post;
    this.f = { sign: 1, post: none, pre: none, preBias: 0 };
    this.g = { sign: 1, post: none, pre: none, preBias: 0 };
    this.gBias = new Float64Array(K);
    this.ps = new Float64Array(3 * K);
    this.pu = new Array<Buf>(3 * K).fill(none);
    this.pv = new Array<Buf | null>(3 * K).fill(null);
    this.comb = Array.from({ length: 3 * K }, () => alloc(rowsN));
  }

  /**
   * dW (and db) += the tangent of this example's update of the site, given the
   * tangents `dsig` of its signals (and `dsig0`, the same with m = 0);
   * `owner[a]` is the meta-parameter index of active term a, `dir` this
   * direction's, `inv` the update's scale (1 online, 1/batch in a mini-batch),
   * `zero` a tangent buffer known to be identically zero, or null.
   */
  update(
    dW: Buf,
    db: Buf | null,
    dsig: LayerSignals,
    dsig0: LayerSignals,
    owner: readonly number[],
    dir: number,
    inv: number,
    zero: Buf | null,
    K: Kernels,
    cur?: { dW: Buf; db: Buf | null },
  ): void {
    const pl = this.pl,
      act = pl.act,
      sig = pl.sig,
      sig0 = pl.sig0,
      n = pl.n,
      m = pl.m,
      rows = pl.T * m;
    const f = this.f,
      g = this.g,
      gb = this.gBias;
    // Bias factors read db, so take them all before any term writes to it.
    if (db !== null)
      for (let a = 0; a < act.length; a++) {
        act[a].term.tangent(sig, dsig, this.scrT[a], g);
        gb[a] = g.preBias;
      }
    // Elementwise terms: c·dF + dc·F from the old dW (and W), into a buffer before anything writes to dW.
    const E = this.ewW,
      Eb = this.ewB;
    if (E !== null) {
      E.fill(0);
      Eb?.fill(0);
      const dWcur = cur?.dW ?? dW,
        dbcur = cur?.db ?? db;
      if (pl.monoIdx.length > 0) this.monoSweep(dWcur, db === null ? null : dbcur, dsig, owner, dir, inv, E, db === null ? null : Eb, K);
      for (let j = 0; j < pl.scaleTerms.length; j++) {
        const t = pl.scaleTerms[j];
        if (t.term.elementwise === undefined || pl.fusedAt[j]) continue;
        const c = inv * t.coef,
          dc = owner[act.length + j] === dir ? inv : 0;
        if (c !== 0 || dc !== 0) t.term.elementwise.tangent(sig, dsig, pl.W, dWcur, pl.b, db === null ? null : dbcur, c, dc, E, db === null ? null : Eb);
      }
    }
    // Terms that scale W: d(c·sign·W) = c·sign·dW + dc·sign·W, from the old dW (and W), before the rank-1 pieces land
    // (owner indices follow the rank-1 terms').
    for (let j = 0; j < pl.scaleTerms.length; j++) {
      const t = pl.scaleTerms[j],
        c = inv * t.coef * t.sign,
        dc = owner[act.length + j] === dir ? inv * t.sign : 0;
      const dWcur = cur?.dW ?? dW,
        dbcur = cur?.db ?? db;
      if (c !== 0) K.lin2(dW, 1, dW, c, dWcur, n * m, false);
      if (dc !== 0) K.lin2(dW, 1, dW, dc, pl.W, n * m, false);
      if (db !== null && dbcur !== null) for (let i = 0; i < n; i++) db[i] += c * dbcur[i] + (pl.b !== null ? dc * pl.b[i] : 0);
    }
    const s = this.ps,
      us = this.pu,
      vs = this.pv;
    let q = 0;
    for (let a = 0; a < act.length; a++) {
      const t = act[a];
      // Each term gets its own scratch: the pre vectors must survive until the sweep.
      if (t.term.inputPre === "x-u") {
        // Oja-like: pre = yₗ₋₁ − uₗ, d(pre) = dyₗ₋₁ − duₗ, formed by the backend (the term gives the rest, m = 0).
        t.term.factors(sig0, this.scrP[a], f);
        t.term.tangent(sig0, dsig0, this.scrT[a], g);
        K.sub(this.scrP[a], sig.pre, sig.u, rows);
        f.pre = this.scrP[a];
        K.sub(this.scrT[a], dsig.pre, dsig.u, rows);
        g.pre = this.scrT[a];
      } else {
        t.term.factors(sig, this.scrP[a], f);
        t.term.tangent(sig, dsig, this.scrT[a], g);
      }
      const c = inv * t.coef * f.sign,
        dc = owner[a] === dir ? inv * f.sign : 0;
      if (c !== 0) {
        if (g.post !== zero) {
          s[q] = c;
          us[q] = g.post;
          vs[q++] = f.pre;
        }
        if (g.pre !== zero) {
          s[q] = c;
          us[q] = f.post;
          vs[q++] = g.pre;
        }
      }
      if (dc !== 0) {
        s[q] = dc;
        us[q] = f.post;
        vs[q++] = f.pre;
      }
      if (db !== null) {
        for (let i = 0; i < n; i++) db[i] += c * (g.post[i] * f.preBias + f.post[i] * gb[a]) + dc * f.post[i] * f.preBias;
      }
    }
    if (E !== null) {
      K.lin2(dW, 1, dW, 1, E, n * m, false);
      if (db !== null && Eb !== null) for (let i = 0; i < n; i++) db[i] += Eb[i];
    }
    q = this.mergeByPre(q, pl.T * n, K);
    if (pl.T === 1) K.addOuters(dW, s, us, vs as Buf[], q, n, m);
    else K.addOutersT(dW, s, us, vs as Buf[], q, pl.T, n, m);
  }

  private readonly monoC = new Float64Array(27);
  private readonly monoDC = new Float64Array(27);

  /** outW += the fused monomials' Σ_k c_k dF_k + dc_k F_k (one sweep, Kernels.monoTangent) from the old dW, db; outB likewise. */
  private monoSweep(
    dW: Buf, db: Buf | null, dsig: LayerSignals, owner: readonly number[], dir: number, inv: number, outW: Buf, outB: Buf | null, K: Kernels,
  ): void {
    const pl = this.pl, C = this.monoC, dC = this.monoDC, base = pl.act.length;
    C.fill(0);
    dC.fill(0);
    let any = false;
    for (let q = 0; q < pl.monoIdx.length; q++) {
      const j = pl.monoIdx[q], c = inv * pl.scaleTerms[j].coef, dc = owner[base + j] === dir ? inv : 0;
      if (c === 0 && dc === 0) continue;
      C[pl.monoSlot[q]] += c * pl.monoK[q];
      dC[pl.monoSlot[q]] += dc * pl.monoK[q];
      any = true;
    }
    if (!any) return;
    const sig = pl.sig;
    K.monoTangent(outW, pl.W, dW, sig.pre, dsig.pre, sig.post, dsig.post, C, dC, pl.T, pl.n, pl.m);
    if (outB !== null && db !== null && pl.b !== null) monoTangent(outB, pl.b, db, ONE, ZERO, sig.post, dsig.post, C, dC, 1, pl.n, 1);
  }

  /** Merge pieces s_a u_a ⊗ v with the same v into one (Σ s_a u_a) ⊗ v; returns the new count. */
  private mergeByPre(q: number, len: number, K: Kernels): number {
    const s = this.ps,
      us = this.pu,
      vs = this.pv;
    let out = 0,
      buf = 0;
    for (let a = 0; a < q; a++) {
      if (vs[a] === null) continue;
      let comb: Buf | null = null;
      for (let b = a + 1; b < q; b++) {
        if (vs[b] !== vs[a]) continue;
        if (comb === null) {
          comb = this.comb[buf++];
          K.lin2(comb, s[a], us[a], s[b], us[b], len, false);
        } else K.lin2(comb, s[b], us[b], 0, us[b], len, true);
        vs[b] = null;
      }
      if (comb !== null) {
        s[out] = 1;
        us[out] = comb;
        vs[out++] = vs[a];
      } else {
        s[out] = s[a];
        us[out] = us[a];
        vs[out++] = vs[a];
      }
    }
    return out;
  }
}

/** The plasticity of every site of a network (index 0 unused), and what its signals must include. */
export function plasticityOf(
  sites: readonly SiteShape[],
  rule: Rule,
  alloc: (n: number) => Buf,
  opts: PlasticityOptions = {},
): { sites: SitePlasticity[]; needs: { needU: boolean[]; needEPre: boolean[]; needUE: boolean[] } } {
  if (rule.L !== sites.length - 1) throw new Error(`rule has ${rule.L} layers, network has ${sites.length - 1} plastic matrices`);
  const pls = sites.map((s, l) => new SitePlasticity(l, s, l === 0 ? { L: rule.L, coef: {} } : rule, alloc, l === 0 ? {} : opts));
  return {
    sites: pls,
    needs: { needU: pls.map((p, l) => l > 0 && p.needsU), needEPre: pls.map((p, l) => l > 0 && p.needsEPre), needUE: pls.map((p, l) => l > 0 && p.needsUE) },
  };
}

/** A registered term's factors must fit its site (T·n post, T·m pre values): refused by name otherwise. */
function checkFactors(a: ActiveTerm, site: SiteShape): void {
  a.term.factors(site.sig, a.scratch, a.f);
  const { n, m, T } = site;
  if (a.f.post.length !== T * n || a.f.pre.length !== T * m) {
    throw new TermError(
      `rule term '${a.name}': factors gave post × pre of ${a.f.post.length} × ${a.f.pre.length} values at a site of ${T} × (${n} × ${m}); expected ` +
        `${T * n} × ${T * m}`,
    );
  }
}
