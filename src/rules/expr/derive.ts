import type { Monomial } from "../types.js";
import { applyBin, applyFn, POST_SIGNALS, PRE_SIGNALS, sameExpr, type Expr, type Fn, type Signal } from "./parse.js";

/**
 * What is derived from a formula: its forward-mode tangent (symbolic, by the
 * chain rule) and, where it factors, its rank-1 form c · P(post side) ⊗ Q(pre side).
 * Derived trees read the tangent of a signal s as the signal `d:s`.
 */
export type DExpr = Expr | { k: "dvar"; name: Signal; pos: number };
export type Node =
  | Exclude<DExpr, { k: "bin" | "neg" | "call" }>
  | { k: "bin"; op: "+" | "-" | "*" | "/" | "^"; a: Node; b: Node; pos: number }
  | { k: "neg"; a: Node; pos: number }
  | { k: "call"; f: Fn; a: Node; pos: number };

const num = (v: number): Node => ({ k: "num", v, pos: -1 });
const isNum = (e: Node, v?: number): e is { k: "num"; v: number; pos: number } => e.k === "num" && (v === undefined || e.v === v);

// Constructors that fold constants and drop zeros and ones, so tangents stay as small as the formula.
export function add(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.v + b.v);
  if (isNum(a, 0)) return b;
  if (isNum(b, 0)) return a;
  if (b.k === "neg") return sub(a, b.a);
  return { k: "bin", op: "+", a, b, pos: -1 };
}
export function sub(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.v - b.v);
  if (isNum(b, 0)) return a;
  if (isNum(a, 0)) return neg(b);
  return { k: "bin", op: "-", a, b, pos: -1 };
}
export function neg(a: Node): Node {
  if (isNum(a)) return num(-a.v);
  if (a.k === "neg") return a.a;
  return { k: "neg", a, pos: -1 };
}
export function mul(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.v * b.v);
  if (isNum(a, 0) || isNum(b, 0)) return num(0);
  if (isNum(a, 1)) return b;
  if (isNum(b, 1)) return a;
  if (isNum(a, -1)) return neg(b);
  if (isNum(b, -1)) return neg(a);
  return { k: "bin", op: "*", a, b, pos: -1 };
}
export function div(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b)) return num(a.v / b.v);
  if (isNum(a, 0)) return num(0);
  if (isNum(b, 1)) return a;
  return { k: "bin", op: "/", a, b, pos: -1 };
}
export function pow(a: Node, c: number): Node {
  if (c === 0) return num(1);
  if (c === 1) return a;
  if (isNum(a)) return num(applyBin("^", a.v, c));
  return { k: "bin", op: "^", a, b: num(c), pos: -1 };
}
export function call(f: Fn, a: Node): Node {
  if (isNum(a)) return num(applyFn(f, a.v));
  return { k: "call", f, a, pos: -1 };
}

/** The exponent of a power node (a constant by the parser's guard). */
export function exponent(e: Node): number {
  const v = evalConst(e);
  if (v === null) throw new Error("an exponent must be a constant");
  return v;
}

function evalConst(e: Node): number | null {
  if (e.k === "num") return e.v;
  if (e.k === "neg") { const a = evalConst(e.a); return a === null ? null : -a; }
  if (e.k === "bin") { const a = evalConst(e.a), b = evalConst(e.b); return a === null || b === null ? null : applyBin(e.op, a, b); }
  if (e.k === "call") { const a = evalConst(e.a); return a === null ? null : applyFn(e.f, a); }
  return null;
}

/**
 * The forward-mode tangent d(e) = Σ_s ∂e/∂s · ds, by the chain rule, in the
 * signals and their tangents (`dvar`); `isZero(s)` names signals whose tangent
 * is known to vanish (W in a factored term), which the result then omits.
 */
export function tangent(e: Node, isZero: (s: Signal) => boolean = () => false): Node {
  const d = (x: Node): Node => tangent(x, isZero);
  switch (e.k) {
    case "num": return num(0);
    case "dvar": throw new Error("no second-order tangents");
    case "var": return isZero(e.name) ? num(0) : { k: "dvar", name: e.name, pos: -1 };
    case "neg": return neg(d(e.a));
    case "call": {
      const da = d(e.a);
      if (isNum(da, 0)) return da;
      switch (e.f) {
        case "exp": return mul(call("exp", e.a), da);
        case "log": return div(da, e.a);
        case "tanh": return mul(sub(num(1), pow(call("tanh", e.a), 2)), da);
        case "abs": return mul(call("sign", e.a), da);
        case "relu": return mul(call("step", e.a), da);
        case "sign": case "step": return num(0);
      }
    }
    // falls through (unreachable)
    case "bin": {
      const da = d(e.a);
      if (e.op === "^") {
        const c = exponent(e.b);
        return mul(mul(num(c), pow(e.a, c - 1)), da);
      }
      const db = d(e.b);
      switch (e.op) {
        case "+": return add(da, db);
        case "-": return sub(da, db);
        case "*": return add(mul(da, e.b), mul(e.a, db));
        case "/": return sub(div(da, e.b), div(mul(e.a, db), pow(e.b, 2)));
      }
    }
  }
  throw new Error("unreachable");
}

// Sides: 1 = reads a post-side signal (index i), 2 = a pre-side one (index j), 4 = W (both).
export function sideOf(e: Node): number {
  switch (e.k) {
    case "num": return 0;
    case "var": case "dvar": return (POST_SIGNALS as readonly string[]).includes(e.name) ? 1 : (PRE_SIGNALS as readonly string[]).includes(e.name) ? 2 : 4;
    case "neg": case "call": return sideOf(e.a);
    case "bin": return sideOf(e.a) | sideOf(e.b);
  }
}

/** A rank-1 form c · P ⊗ Q (null P or Q: the constant 1). */
export interface RankOneForm { c: number; P: Node | null; Q: Node | null }

const same = (a: Node | null, b: Node | null) => (a === null ? b === null : b !== null && sameExpr(a as Expr, b as Expr));
const times = (a: Node | null, b: Node | null): Node | null => (a === null ? b : b === null ? a : mul(a, b));

/**
 * The rank-1 form of a formula, or null when it reads W or does not factor:
 * products split into their post-side and pre-side factors, and a sum factors
 * when its summands share the post factor (P ⊗ (Q₁ + Q₂)) or the pre factor.
 */
export function rankOne(e: Node): RankOneForm | null {
  if (e.k === "neg") { const r = rankOne(e.a); return r === null ? null : { ...r, c: -r.c }; }
  const side = sideOf(e);
  if (side === 0) { const v = evalConst(e); return v === null ? null : { c: v, P: null, Q: null }; }
  if (side === 1) return { c: 1, P: e, Q: null };
  if (side === 2) return { c: 1, P: null, Q: e };
  if (side & 4) return null;
  switch (e.k) {
    case "bin": {
      const a = rankOne(e.a), b = rankOne(e.b);
      if (a === null || b === null) return null;
      if (e.op === "*") return { c: a.c * b.c, P: times(a.P, b.P), Q: times(a.Q, b.Q) };
      if (e.op === "/") {
        const inv = (x: Node | null) => (x === null ? null : div(num(1), x));
        return { c: a.c / b.c, P: b.P === null ? a.P : div(a.P ?? num(1), b.P), Q: b.Q === null ? a.Q : a.Q === null ? inv(b.Q) : div(a.Q, b.Q) };
      }
      if (e.op === "+" || e.op === "-") {
        const s = e.op === "+" ? 1 : -1;
        const scaled = (r: RankOneForm, k: number, which: "P" | "Q"): Node => mul(num(k * r.c), r[which] ?? num(1));
        if (same(a.P, b.P)) return { c: 1, P: a.P, Q: (e.op === "+" ? add : sub)(scaled(a, 1, "Q"), scaled(b, 1, "Q")) };
        if (same(a.Q, b.Q)) return { c: 1, P: (s > 0 ? add : sub)(scaled(a, 1, "P"), scaled(b, 1, "P")), Q: a.Q };
      }
      return null;
    }
    default: return null;
  }
}


/**
 * The monomial form of a formula, or null: a product (or quotient by a constant) of constants, pre,
 * post, W and their constant integer powers, so that the engine may sum a family of such terms in
 * one sweep (Kernels.monoUpdate). Read from the tree, whatever the term is called or the factors' order.
 */
export function monomial(e: Node): Monomial | null {
  const m = mono(e);
  return m !== null && m.a <= 2 && m.b <= 2 && m.c <= 2 && m.a + m.b + m.c > 0 && Number.isFinite(m.k) ? m : null;
}

function mono(e: Node): Monomial | null {
  if (sideOf(e) === 0) { const v = evalConst(e); return v === null ? null : { k: v, a: 0, b: 0, c: 0 }; }
  switch (e.k) {
    case "var": {
      const x = { pre: [1, 0, 0], post: [0, 1, 0], W: [0, 0, 1] }[e.name as string];
      return x === undefined ? null : { k: 1, a: x[0], b: x[1], c: x[2] };
    }
    case "neg": { const x = mono(e.a); return x === null ? null : { ...x, k: -x.k }; }
    case "bin": {
      const x = mono(e.a);
      if (x === null) return null;
      if (e.op === "^") {
        const p = evalConst(e.b);
        return p === null || !Number.isInteger(p) || p < 0 ? null : { k: Math.pow(x.k, p), a: x.a * p, b: x.b * p, c: x.c * p };
      }
      const y = mono(e.b);
      if (y === null) return null;
      if (e.op === "*") return { k: x.k * y.k, a: x.a + y.a, b: x.b + y.b, c: x.c + y.c };
      if (e.op === "/" && y.a + y.b + y.c === 0) return { ...x, k: x.k / y.k };
      return null;
    }
    default: return null;
  }
}
