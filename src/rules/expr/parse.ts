/**
 * Plasticity terms written as formulas over a site's signals (README "Write
 * your own rule"): the grammar, its parser with error positions, the printer
 * (parse ∘ print is the identity on trees) and the parse-time guards.
 *
 *   def   := [name '='] sum
 *   sum   := prod (('+' | '-') prod)*
 *   prod  := unary (('*' | '/') unary)*
 *   unary := '-' unary | power
 *   power := atom ['^' unary]            exponent: a constant
 *   atom  := number | signal | fn '(' sum ')' | '(' sum ')'
 *
 * Every signal is indexed by the post-synaptic unit i (post = yₗ, e = eₗ), the
 * pre-synaptic unit j (pre = yₗ₋₁, ePre = eₗ₋₁, u = Wₗᵀyₗ, ue = Wₗᵀeₗ), or both
 * (W, the synapse's own weight), so any formula is an (n, m) matrix and shapes
 * always meet by that indexing; the term is Σ_t over the site's time rows.
 */

export const POST_SIGNALS = ["post", "e"] as const;
export const PRE_SIGNALS = ["pre", "ePre", "u", "ue"] as const;
export const SIGNALS = [...POST_SIGNALS, ...PRE_SIGNALS, "W"] as const;
export type Signal = (typeof SIGNALS)[number];
export const FUNCTIONS = ["exp", "log", "tanh", "abs", "sign", "relu"] as const;
/** `step` (Heaviside, 0 at 0) appears only in derived tangents (d relu). */
export type Fn = (typeof FUNCTIONS)[number] | "step";
export type BinOp = "+" | "-" | "*" | "/" | "^";

/** A formula's tree; pos is the 0-based offset of the node's first character in the source (−1 for derived nodes). */
export type Expr =
  | { k: "num"; v: number; pos: number }
  | { k: "var"; name: Signal; pos: number }
  | { k: "neg"; a: Expr; pos: number }
  | { k: "bin"; op: BinOp; a: Expr; b: Expr; pos: number }
  | { k: "call"; f: Fn; a: Expr; pos: number };

/** A formula that cannot be a term: the message names the column (1-based) and shows it. */
export class ExprError extends Error {
  constructor(readonly src: string, readonly pos: number, readonly reason: string) {
    super(`formula '${src}': ${reason} at column ${pos + 1}`);
  }
}

type Tok = { t: "num" | "id" | "op" | "end"; s: string; pos: number };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === " " || c === "\t") { i++; continue; }
    const num = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num !== null) { out.push({ t: "num", s: num[0], pos: i }); i += num[0].length; continue; }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id !== null) { out.push({ t: "id", s: id[0], pos: i }); i += id[0].length; continue; }
    if ("+-*/^()=".includes(c)) { out.push({ t: "op", s: c, pos: i }); i++; continue; }
    throw new ExprError(src, i, `unexpected character '${c}'`);
  }
  out.push({ t: "end", s: "", pos: src.length });
  return out;
}

/** Parse a formula (no name); throws ExprError with the position of the first problem. */
export function parseExpr(src: string): Expr {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const fail = (tok: Tok, why: string): never => { throw new ExprError(src, tok.pos, why); };
  const expect = (s: string) => {
    if (peek().s !== s || peek().t !== "op") fail(peek(), peek().t === "end" ? `expected '${s}' before the end` : `expected '${s}', found '${peek().s}'`);
    p++;
  };
  const sum = (): Expr => {
    let a = prod();
    while (peek().t === "op" && (peek().s === "+" || peek().s === "-")) { const o = toks[p++]; a = { k: "bin", op: o.s as BinOp, a, b: prod(), pos: a.pos }; }
    return a;
  };
  const prod = (): Expr => {
    let a = unary();
    while (peek().t === "op" && (peek().s === "*" || peek().s === "/")) { const o = toks[p++]; a = { k: "bin", op: o.s as BinOp, a, b: unary(), pos: a.pos }; }
    return a;
  };
  const unary = (): Expr => {
    if (peek().t === "op" && peek().s === "-") { const o = toks[p++]; return { k: "neg", a: unary(), pos: o.pos }; }
    return power();
  };
  const power = (): Expr => {
    const a = atom();
    if (peek().t === "op" && peek().s === "^") { p++; return { k: "bin", op: "^", a, b: unary(), pos: a.pos }; }
    return a;
  };
  const atom = (): Expr => {
    const tok = toks[p];
    if (tok.t === "num") {
      p++;
      const v = Number(tok.s);
      if (!Number.isFinite(v)) fail(tok, `the number ${tok.s} is not finite`);
      return { k: "num", v, pos: tok.pos };
    }
    if (tok.t === "id") {
      p++;
      if ((FUNCTIONS as readonly string[]).includes(tok.s)) {
        expect("(");
        const a = sum();
        expect(")");
        return { k: "call", f: tok.s as Fn, a, pos: tok.pos };
      }
      if ((SIGNALS as readonly string[]).includes(tok.s)) {
        if (peek().t === "op" && peek().s === "(") fail(tok, `'${tok.s}' is a signal, not a function`);
        return { k: "var", name: tok.s as Signal, pos: tok.pos };
      }
      return fail(tok, `unknown ${peek().s === "(" ? "function" : "signal"} '${tok.s}' (signals: ${SIGNALS.join(", ")}; functions: ${FUNCTIONS.join(", ")})`);
    }
    if (tok.t === "op" && tok.s === "(") { p++; const a = sum(); expect(")"); return a; }
    return fail(tok, tok.t === "end" ? "unexpected end of formula" : `unexpected '${tok.s}'`);
  };
  const e = sum();
  if (peek().t !== "end") fail(peek(), `unexpected '${peek().s}'`);
  check(src, e);
  return e;
}

/** Parse `name = formula`. */
export function parseDefinition(text: string): { name: string; expr: Expr; formula: string } {
  const eq = text.indexOf("=");
  if (eq < 0) throw new ExprError(text, text.length, "expected 'name = formula'");
  const name = text.slice(0, eq).trim();
  if (!/^[a-z][a-z0-9_]*$/.test(name))
    throw new ExprError(
      text,
      text.search(/\S/) < 0 ? 0 : text.search(/\S/),
      `the term's name '${name}' must be lower-case letters, digits or '_', starting with a letter`,
    );
  const formula = text.slice(eq + 1).trim();
  try {
    return { name, expr: parseExpr(formula), formula };
  } catch (err) {
    if (err instanceof ExprError) throw new ExprError(text, err.pos + text.indexOf(formula, eq + 1), err.reason);
    throw err;
  }
}

// Sign sets: bit 1 = may be negative, 2 = may be zero, 4 = may be positive.
const NEG = 1, ZERO = 2, POS = 4, ANY = 7;
const signOfNum = (v: number) => (v < 0 ? NEG : v > 0 ? POS : ZERO);
function mulSigns(a: number, b: number): number {
  let out = 0;
  for (const x of [NEG, ZERO, POS]) for (const y of [NEG, ZERO, POS]) if (a & x && b & y) out |= x === ZERO || y === ZERO ? ZERO : x === y ? POS : NEG;
  return out;
}
function addSigns(a: number, b: number): number {
  let out = 0;
  for (const x of [NEG, ZERO, POS]) for (const y of [NEG, ZERO, POS]) {
    if (!(a & x && b & y)) continue;
    out |= x === ZERO ? y : y === ZERO ? x : x === y ? x : ANY;
  }
  return out;
}
const flip = (s: number) => (s & ZERO) | (s & NEG ? POS : 0) | (s & POS ? NEG : 0);

/** The constant value of a subtree without signals, or null. */
export function constValue(e: Expr): number | null {
  switch (e.k) {
    case "num": return e.v;
    case "var": return null;
    case "neg": { const a = constValue(e.a); return a === null ? null : -a; }
    case "call": { const a = constValue(e.a); return a === null ? null : applyFn(e.f, a); }
    case "bin": {
      const a = constValue(e.a), b = constValue(e.b);
      return a === null || b === null ? null : applyBin(e.op, a, b);
    }
  }
}

export function applyFn(f: Fn, a: number): number {
  switch (f) {
    case "exp": return Math.exp(a);
    case "log": return Math.log(a);
    case "tanh": return Math.tanh(a);
    case "abs": return Math.abs(a);
    case "sign": return Math.sign(a);
    case "relu": return a > 0 ? a : 0;
    case "step": return a > 0 ? 1 : 0;
  }
}

export function applyBin(op: BinOp, a: number, b: number): number {
  switch (op) {
    case "+": return a + b;
    case "-": return a - b;
    case "*": return a * b;
    case "/": return a / b;
    case "^": return b === 2 ? a * a : Math.pow(a, b);
  }
}

/**
 * The guards: a denominator, a log's argument and the base of a negative or
 * fractional power must be provably nonzero (positive for log and fractional
 * powers) from the formula alone, e.g. `pre / (1 + abs(pre))`; an exponent must
 * be a constant. Returns the possible signs of e.
 */
function check(src: string, e: Expr): number {
  switch (e.k) {
    case "num": return signOfNum(e.v);
    case "var": return ANY;
    case "neg": return flip(check(src, e.a));
    case "call": {
      const s = check(src, e.a);
      switch (e.f) {
        case "exp": return POS;
        case "log":
          if (s !== POS) throw new ExprError(src, e.pos, "log of a value that can be zero or negative (guard it, e.g. log(1 + abs(x)))");
          return ANY;
        case "tanh": case "sign": return s;
        case "abs": return s & ZERO ? (s === ZERO ? ZERO : ZERO | POS) : POS;
        case "relu": case "step": return s === POS ? POS : (s & POS ? POS : 0) | ZERO;
      }
    }
    // falls through (unreachable: every function returns)
    case "bin": {
      const a = check(src, e.a);
      if (e.op === "^") {
        const c = constValue(e.b);
        if (c === null) throw new ExprError(src, e.b.pos, "an exponent must be a constant");
        check(src, e.b);
        if (c === 0) return POS;
        const int = Number.isInteger(c);
        if (c < 0 && a & ZERO) throw new ExprError(src, e.b.pos, "a negative power of a value that can be zero (guard it, e.g. (1 + x^2)^-1)");
        if (!int && a & NEG) throw new ExprError(src, e.b.pos, "a fractional power of a value that can be negative (guard it, e.g. abs(x)^0.5)");
        return int && c % 2 === 0 ? (a & ZERO) | (a & (NEG | POS) ? POS : 0) : a;
      }
      const b = check(src, e.b);
      switch (e.op) {
        case "+": return addSigns(a, b);
        case "-": return addSigns(a, flip(b));
        case "*": return mulSigns(a, b);
        case "/":
          if (b & ZERO) throw new ExprError(src, e.b.pos, "a division by a value that can be zero (guard it, e.g. x / (1 + abs(x)))");
          return mulSigns(a, b);
      }
    }
  }
  return ANY;
}

const PREC: Record<BinOp, number> = { "+": 1, "-": 1, "*": 2, "/": 2, "^": 4 };

/** The formula as text; parseExpr(printExpr(e)) gives e back (positions aside). */
export function printExpr(e: Expr): string {
  const at = (x: Expr, min: number): string => {
    const p = x.k === "bin" ? PREC[x.op] : x.k === "neg" ? 3 : 5;
    const s = printExpr(x);
    return p < min ? `(${s})` : s;
  };
  switch (e.k) {
    case "num": return String(e.v);
    case "var": return e.name;
    case "call": return `${e.f}(${printExpr(e.a)})`;
    case "neg": return `-${at(e.a, 3)}`;
    case "bin": {
      const p = PREC[e.op];
      // Left-associative: the right operand of an equal precedence is bracketed; ^ binds its base tighter than unary minus.
      if (e.op === "^") return `${at(e.a, 5)}^${at(e.b, 3)}`;
      return `${at(e.a, p)} ${e.op} ${at(e.b, p + 1)}`;
    }
  }
}

/** Whether two trees are the same formula (positions aside). */
export function sameExpr(a: Expr, b: Expr): boolean {
  if (a.k !== b.k) return false;
  switch (a.k) {
    case "num": return Object.is(a.v, (b as typeof a).v);
    case "var": return a.name === (b as typeof a).name;
    case "neg": return sameExpr(a.a, (b as typeof a).a);
    case "call": return a.f === (b as typeof a).f && sameExpr(a.a, (b as typeof a).a);
    case "bin": { const c = b as typeof a; return a.op === c.op && sameExpr(a.a, c.a) && sameExpr(a.b, c.b); }
  }
}

/** The signals a formula reads. */
export function signalsOf(e: Expr, out = new Set<Signal>()): Set<Signal> {
  if (e.k === "var") out.add(e.name);
  else if (e.k === "neg" || e.k === "call") signalsOf(e.a, out);
  else if (e.k === "bin") { signalsOf(e.a, out); signalsOf(e.b, out); }
  return out;
}
