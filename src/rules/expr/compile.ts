import type { Buf } from "../../core/kernels.js";
import { isTermName, registerTerm, TermError, BUILTIN_TERMS } from "../registry.js";
import { randomSignals, uniformStream } from "../random-signals.js";
import type { ElementwiseTerm, LayerSignals, PlasticityTerm, RankOne } from "../types.js";
import { exponent, monomial, rankOne, sideOf, tangent, type Node, type RankOneForm } from "./derive.js";
import { applyBin, applyFn, ExprError, parseDefinition, parseExpr, printExpr, signalsOf, type Expr, type Signal } from "./parse.js";

/**
 * A plasticity term from a formula (README "Write your own rule"): its
 * factors, forward-mode tangent, literal `naive` formula and shape contract
 * are all derived from the tree, never written by hand. A formula that
 * factors as P(post side) ⊗ Q(pre side) runs on the rank-1 path (and, when Q
 * is `pre` or `pre - u` and P a bare signal, on the MLP's transposed first
 * layer like bp and Oja); one that reads W or does not factor is elementwise:
 * one sweep over W, ΔWᵢⱼ = Σ_t F(postᵢ, preⱼ, Wᵢⱼ, …).
 */
export interface ExpressionTerm extends PlasticityTerm {
  readonly formula: string;
  readonly expr: Expr;
  /** The rank-1 form, or null for an elementwise term. */
  readonly form: RankOneForm | null;
}

/** Formulas registered in this thread, as `name = formula` (worker threads register them too). */
export const EXPRESSION_TERMS: string[] = [];

const HELPERS = {
  exp: Math.exp, log: Math.log, tanh: Math.tanh, abs: Math.abs, sign: Math.sign,
  relu: (x: number) => (x > 0 ? x : 0), step: (x: number) => (x > 0 ? 1 : 0), sq: (x: number) => x * x, pow: Math.pow,
};
type Helpers = typeof HELPERS;

/** JavaScript for a tree; `v(name, d)` gives the code reading signal `name` (its tangent when d). */
function js(e: Node, v: (name: Signal, d: boolean) => string): string {
  const r = (x: Node) => js(x, v);
  switch (e.k) {
    case "num": return e.v < 0 || Object.is(e.v, -0) ? `(${e.v})` : String(e.v);
    case "var": return v(e.name, false);
    case "dvar": return v(e.name, true);
    case "neg": return `(-${r(e.a)})`;
    case "call": return `H.${e.f}(${r(e.a)})`;
    case "bin": {
      if (e.op === "^") {
        const c = exponent(e.b);
        return c === 2 ? `H.sq(${r(e.a)})` : `H.pow(${r(e.a)}, ${js({ k: "num", v: c, pos: -1 }, v)})`;
      }
      return `(${r(e.a)} ${e.op} ${r(e.b)})`;
    }
  }
}

/** The tree evaluated literally in float64 (the `naive` reference and the finite-difference check). */
export function evalNode(e: Node, v: (name: Signal, d: boolean) => number): number {
  switch (e.k) {
    case "num": return e.v;
    case "var": return v(e.name, false);
    case "dvar": return v(e.name, true);
    case "neg": return -evalNode(e.a, v);
    case "call": return applyFn(e.f, evalNode(e.a, v));
    case "bin": return applyBin(e.op, evalNode(e.a, v), evalNode(e.b, v));
  }
}

const POST_IDX: Partial<Record<Signal, true>> = { post: true, e: true };
const dName = (s: Signal) => `d${s}`;

/** A loop writing a side's factor (or its tangent) over T·n or T·m rows. */
function vectorFn(e: Node, rows: "n" | "m"): (s: LayerSignals, ds: LayerSignals | null, out: Buf) => void {
  const used = [...signalsOfNode(e).values()];
  const decl = used.map(([s, d]) => `const ${d ? dName(s) : s} = ${d ? "ds" : "s"}.${s};`).join(" ");
  const body = js(e, (s, d) => `${d ? dName(s) : s}[k]`);
  const f = new Function("H", `return function (s, ds, out) { ${decl} for (let k = 0, K = s.T * s.${rows}; k < K; k++) out[k] = ${body}; };`) as (
    h: Helpers,
  ) => (s: LayerSignals, ds: LayerSignals | null, out: Buf) => void;
  return f(HELPERS);
}

function signalsOfNode(e: Node, out = new Map<string, [Signal, boolean]>()): Map<string, [Signal, boolean]> {
  if (e.k === "var" || e.k === "dvar") out.set(`${e.k}:${e.name}`, [e.name, e.k === "dvar"]);
  else if (e.k === "neg" || e.k === "call") signalsOfNode(e.a, out);
  else if (e.k === "bin") { signalsOfNode(e.a, out); signalsOfNode(e.b, out); }
  return out;
}

/** The pre-side factor at the bias's constant input (pre = 1, no error there, u = bᵀpost, ue = bᵀe), and its tangent. */
function biasFn(e: Node | null): (s: LayerSignals) => number {
  if (e === null) return () => 1;
  const body = js(e, (s) => (s === "pre" ? "1" : s === "ePre" ? "0" : s === "u" ? "ub" : s === "ue" ? "ueb" : "NaN"));
  const f = new Function("H", `return function (s) {
    const b = s.b, n = s.n; let ub = 0, ueb = 0;
    if (b !== null) for (let i = 0; i < n; i++) { ub += s.post[i] * b[i]; ueb += s.e[i] * b[i]; }
    return ${body}; };`) as (h: Helpers) => (s: LayerSignals) => number;
  return f(HELPERS);
}

/**
 * Views of a term's scratch (T·m pre values, then T·n post values at its end):
 * stable objects per buffer and size, so a step allocates nothing and the
 * engine can merge tangent pieces that share a pre vector.
 */
const views = new WeakMap<Buf, Map<number, Buf>>();
function view(scratch: Buf, start: number, len: number): Buf {
  let m = views.get(scratch);
  if (m === undefined) views.set(scratch, (m = new Map()));
  const key = start * 0x100000 + len;
  let v = m.get(key);
  if (v === undefined) m.set(key, (v = scratch.subarray(start, start + len)));
  return v;
}

type VecSignal = Exclude<Signal, "W">;
/** The signal a factor is, when it is one alone (a rank-1 factor never reads W). */
const bare = (e: Node | null): VecSignal | null => (e !== null && (e.k === "var" || e.k === "dvar") && e.name !== "W" ? e.name : null);

function rankOneTerm(name: string, formula: string, expr: Expr, form: RankOneForm): ExpressionTerm {
  const { c, P, Q } = form;
  const zeroW = (s: Signal) => s === "W";
  const dP = P === null ? null : tangent(P, zeroW), dQ = Q === null ? null : tangent(Q, zeroW);
  const sigs = signalsOf(expr);
  const pBare = bare(P), qBare = bare(Q), dpBare = bare(dP), dqBare = bare(dQ);
  const qText = Q === null ? "" : printExpr(Q as Expr);
  const inputPre = pBare !== null && (qText === "pre" ? "x" : qText === "pre - u" ? "x-u" : undefined);
  const postScratch = pBare === null || (dP !== null && dpBare === null && !(dP.k === "num"));
  const pFn = P !== null && pBare === null ? vectorFn(P, "n") : null, qFn = Q !== null && qBare === null ? vectorFn(Q, "m") : null;
  const dpFn = dP !== null && dpBare === null && dP.k !== "num" ? vectorFn(dP, "n") : null;
  const dqFn = dQ !== null && dqBare === null && dQ.k !== "num" ? vectorFn(dQ, "m") : null;
  const bias = biasFn(Q);
  const preOf = (s: LayerSignals, scratch: Buf) => view(scratch, 0, s.T * s.m);
  const postOf = (s: LayerSignals, scratch: Buf) => view(scratch, scratch.length - s.T * s.n, s.T * s.n);
  const fill = (b: Buf, v: number) => { b.fill(v); return b; };
  return {
    name, equation: formula, formula, expr, form,
    needsU: sigs.has("u"), needsEPre: sigs.has("ePre"), needsUE: sigs.has("ue"),
    ...(inputPre ? { inputPre } : {}),
    ...(postScratch ? { postScratch: true } : {}),
    factors(s, scratch, out) {
      out.sign = c;
      if (pBare !== null) out.post = s[pBare];
      else if (pFn !== null) { const p = postOf(s, scratch); pFn(s, null, p); out.post = p; }
      else out.post = fill(postOf(s, scratch), 1);
      if (qBare !== null) out.pre = s[qBare];
      else { const q = preOf(s, scratch); if (qFn !== null) qFn(s, null, q); else q.fill(1); out.pre = q; }
      out.preBias = bias(s);
    },
    tangent(s, ds, scratch, out) {
      out.sign = c;
      // d(P ⊗ Q) = dP ⊗ Q + P ⊗ dQ; a factor without tangent (a constant) reads a zero vector.
      if (dpBare !== null) out.post = ds[dpBare];
      else if (dpFn !== null) { const p = postOf(s, scratch); dpFn(s, ds, p); out.post = p; }
      else out.post = fill(postOf(s, scratch), 0);
      if (dqBare !== null) out.pre = ds[dqBare];
      else { const q = preOf(s, scratch); if (dqFn !== null) dqFn(s, ds, q); else q.fill(0); out.pre = q; }
      out.preBias = Q === null ? 0 : evalBiasTangent(Q, s, ds);
    },
    naive: (s, W) => naiveOf(expr, s, W),
  };
}

/** d(Q at the bias input): pre and ePre are constants there, u = bᵀpost and ue = bᵀe move with post, e and b. */
function evalBiasTangent(Q: Node, s: LayerSignals, ds: LayerSignals): number {
  const b = s.b, db = ds.b;
  if (b === null) return 0;
  let ub = 0, ueb = 0, dub = 0, dueb = 0;
  for (let i = 0; i < s.n; i++) {
    ub += s.post[i] * b[i]; ueb += s.e[i] * b[i];
    dub += ds.post[i] * b[i] + (db === null ? 0 : s.post[i] * db[i]);
    dueb += ds.e[i] * b[i] + (db === null ? 0 : s.e[i] * db[i]);
  }
  return evalNode(
    tangent(Q, (x) => x === "pre" || x === "ePre" || x === "W"),
    (x, d) => (x === "u" ? (d ? dub : ub) : x === "ue" ? (d ? dueb : ueb) : x === "pre" ? 1 : 0),
  );
}

/** Σ_t F over every (i, j), literally, in float64: the test reference of every expression term. */
function naiveOf(expr: Expr, s: LayerSignals, W: Buf): Float64Array {
  const { n, m, T } = s, out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let a = 0;
    for (let t = 0; t < T; t++) a += evalNode(expr as Node, (x) => (x === "W" ? W[i * m + j] : POST_IDX[x] ? s[x][t * n + i] : s[x][t * m + j]));
    out[i * m + j] = a;
  }
  return out;
}

function elementwiseTerm(name: string, formula: string, expr: Expr): ExpressionTerm {
  const F = expr as Node, dF = tangent(F), mono = monomial(F);
  const sigs = signalsOf(expr);
  const read = (x: Signal, d: boolean) => (x === "W" ? (d ? "dw" : "w") : `${d ? dName(x) : x}[${POST_IDX[x] ? "pi" : "pj"}]`);
  const readB = (x: Signal, d: boolean) =>
    x === "W"
      ? d
        ? "dw"
        : "w"
      : POST_IDX[x]
        ? `${d ? dName(x) : x}[i]`
        : x === "pre"
          ? d
            ? "0"
            : "1"
          : x === "ePre"
            ? "0"
            : x === "u"
              ? d
                ? "dub"
                : "ub"
              : d
                ? "dueb"
                : "ueb";
  const decl = (d: boolean) =>
    ["post", "e", "pre", "ePre", "u", "ue"].map((x) => `const ${x} = s.${x};${d ? ` const ${dName(x as Signal)} = ds.${x};` : ""}`).join(" ");
  const biasSums = (d: boolean) => `let ub = 0, ueb = 0, dub = 0, dueb = 0;
    for (let i = 0; i < n; i++) { ub += post[i] * b[i]; ueb += e[i] * b[i];${d ? " dub += dpost[i] * b[i] + post[i] * db0[i]; dueb += de[i] * b[i] + e[i] * db0[i];" : ""} }`;
  // outW += c · Σ_t F from the site's old W (and the bias column from b).
  const accumulate = new Function("H", `return function (s, W, b, c, outW, outB) {
    const n = s.n, m = s.m, T = s.T; ${decl(false)}
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
      const w = W[i * m + j]; let a = 0;
      for (let t = 0; t < T; t++) { const pi = t * n + i, pj = t * m + j; a += ${js(F, read)}; }
      outW[i * m + j] += c * a;
    }
    if (b !== null && outB !== null) { ${biasSums(false)}
      for (let i = 0; i < n; i++) { const w = b[i]; outB[i] += c * (${js(F, readB)}); } }
  };`)(HELPERS) as ElementwiseTerm["accumulate"];
  // outW += c · Σ_t dF + dc · Σ_t F, with dF = Σ_s ∂F/∂s · ds + ∂F/∂W · dW (the old dW).
  const tangentFn = new Function("H", `return function (s, ds, W, dW, b, db0, c, dc, outW, outB) {
    const n = s.n, m = s.m, T = s.T; ${decl(true)}
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
      const w = W[i * m + j], dw = dW[i * m + j]; let a = 0, f = 0;
      for (let t = 0; t < T; t++) { const pi = t * n + i, pj = t * m + j; a += ${js(dF, read)}; if (dc !== 0) f += ${js(F, read)}; }
      outW[i * m + j] += c * a + dc * f;
    }
    if (b !== null && outB !== null && db0 !== null) { ${biasSums(true)}
      for (let i = 0; i < n; i++) { const w = b[i], dw = db0[i]; outB[i] += c * (${js(dF, readB)}) + dc * (${js(F, readB)}); } }
  };`)(HELPERS) as ElementwiseTerm["tangent"];
  return {
    name, equation: formula, formula, expr, form: null,
    needsU: sigs.has("u"), needsEPre: sigs.has("ePre"), needsUE: sigs.has("ue"),
    elementwise: { accumulate, tangent: tangentFn, ...(mono !== null ? { monomial: mono } : {}) },
    factors(s, _scratch, out) { out.sign = 0; out.post = s.post; out.pre = s.pre; out.preBias = 0; },
    tangent(_s, ds, _scratch, out) { out.sign = 0; out.post = ds.post; out.pre = ds.pre; out.preBias = 0; },
    naive: (s, W) => naiveOf(expr, s, W),
  };
}

/** Build (without registering) the term `name = formula`; throws ExprError with the position of a bad formula. */
export function expressionTerm(name: string, formula: string): ExpressionTerm {
  const expr = parseExpr(formula);
  if (sideOf(expr as Node) === 0) throw new ExprError(formula, 0, "the formula reads no signal (a constant ΔW; for a decay write e.g. -W)");
  const form = rankOne(expr as Node);
  const term = form === null ? elementwiseTerm(name, formula, expr) : rankOneTerm(name, formula, expr, form);
  checkTangent(term);
  return term;
}

/**
 * Register `name = formula` (or name and formula apart) as a term: a name in
 * rules, θ specs, `meta --learn` and the meta-gradient on every network, and
 * in worker threads. Its derived tangent is checked against central finite
 * differences before it is accepted.
 */
export function registerExpressionTerm(def: string, formula?: string, opts: { replace?: boolean } = {}): ExpressionTerm {
  const text = formula === undefined ? def : `${def} = ${formula}`;
  const { name, formula: f } = parseDefinition(text);
  if (Object.prototype.hasOwnProperty.call(BUILTIN_TERMS, name)) throw new TermError(`rule term '${name}' is built in`);
  const term = expressionTerm(name, f);
  const key = `${name} = ${f}`;
  if (isTermName(name) && (opts.replace || EXPRESSION_TERMS.includes(key))) { registerTerm(term, { replace: true }); }
  else registerTerm(term);
  const old = EXPRESSION_TERMS.findIndex((d) => d.startsWith(`${name} = `));
  if (old >= 0) EXPRESSION_TERMS.splice(old, 1);
  EXPRESSION_TERMS.push(key);
  return term;
}

/**
 * The conformance table's tangent row, run on every expression term as it is
 * built: along s(α) = s + α·ds (and W(α) = W + α·dW), the central difference of
 * the update (ΔW and Δb) must equal the derived tangent (T = 1 with a bias, T = 3).
 */
export function checkTangent(term: ExpressionTerm): void {
  const n = 3, m = 4;
  const rnd = uniformStream(7, -0.8, 1.6);
  for (const T of [1, 3]) {
    const mk = () => randomSignals(rnd, n, m, T, T === 1);
    const s = mk(), ds = mk(), W = rnd(n * m), dW = rnd(n * m);
    const at = (a: number): [LayerSignals, Float64Array] => {
      const mix = (x: Buf, d: Buf) => (x as Float64Array).map((v, i) => v + a * d[i]);
      return [
        {
          ...s,
          pre: mix(s.pre, ds.pre),
          post: mix(s.post, ds.post),
          e: mix(s.e, ds.e),
          ePre: mix(s.ePre, ds.ePre),
          u: mix(s.u, ds.u),
          ue: mix(s.ue, ds.ue),
          b: s.b === null ? null : mix(s.b, ds.b!),
        },
        mix(W, dW),
      ];
    };
    const { value, tan } = updateAndTangent(term, s, ds, W, dW);
    const h = 1e-6, [sp, Wp] = at(h), [sm, Wm] = at(-h);
    const vp = updateAndTangent(term, sp, ds, Wp, dW).value, vm = updateAndTangent(term, sm, ds, Wm, dW).value;
    let worst = 0, scale = 1e-3;
    for (let i = 0; i < tan.length; i++) {
      const fd = (vp[i] - vm[i]) / (2 * h);
      if (!Number.isFinite(tan[i]) && !Number.isFinite(fd)) continue;
      worst = Math.max(worst, Math.abs(tan[i] - fd) / (1e-8 + 1e-5 * Math.abs(fd)));
      scale = Math.max(scale, Math.abs(value[i]));
    }
    if (!(worst <= 1)) throw new TermError(`rule term '${term.name}': its derived tangent fails the finite-difference check (T = ${T})`);
  }
}

/** ΔW/θ and Δb/θ (one vector, n·m + n) of a term, and its tangent along (ds, dW): what the engine applies. */
export function updateAndTangent(term: PlasticityTerm, s: LayerSignals, ds: LayerSignals, W: Buf, dW: Buf): { value: Float64Array; tan: Float64Array } {
  const { n, m, T } = s, value = new Float64Array(n * m + n), tan = new Float64Array(n * m + n);
  const vW = value.subarray(0, n * m), vB = value.subarray(n * m), tW = tan.subarray(0, n * m), tB = tan.subarray(n * m);
  const bias = s.b !== null;
  if (term.elementwise !== undefined) {
    term.elementwise.accumulate(s, W, s.b, 1, vW, bias ? vB : null);
    term.elementwise.tangent(s, ds, W, dW, s.b, ds.b, 1, 0, tW, bias ? tB : null);
    return { value, tan };
  }
  const size = T * m + (term.postScratch ? T * n : 0);
  const f: RankOne = { sign: 1, post: s.post, pre: s.pre, preBias: 0 }, g: RankOne = { ...f };
  term.factors(s, new Float64Array(size), f);
  term.tangent(s, ds, new Float64Array(size), g);
  for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    vW[i * m + j] += f.sign * f.post[t * n + i] * f.pre[t * m + j];
    tW[i * m + j] += f.sign * (g.post[t * n + i] * f.pre[t * m + j] + f.post[t * n + i] * g.pre[t * m + j]);
  }
  if (bias) for (let i = 0; i < n; i++) { vB[i] = f.sign * f.preBias * f.post[i]; tB[i] = f.sign * (g.post[i] * f.preBias + f.post[i] * g.preBias); }
  return { value, tan };
}

/** Register the `name = formula` definitions of --term (each at most once). */
export function registerExpressionTerms(defs: readonly string[]): string[] {
  return defs.map((d) => registerExpressionTerm(d, undefined, { replace: true }).name);
}
