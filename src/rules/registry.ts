import { bp } from "./terms/bp.js";
import { decay } from "./terms/decay.js";
import { ehebb } from "./terms/ehebb.js";
import { eoja } from "./terms/eoja.js";
import { hebb } from "./terms/hebb.js";
import { oja } from "./terms/oja.js";
import { ye } from "./terms/ye.js";
import { randomSignals, uniformStream } from "./random-signals.js";
import type { PlasticityTerm, RankOne } from "./types.js";

/** Every built-in plasticity term, by name (PAPER.md's pool). Adding one: one file in terms/, one line here. */
export const BUILTIN_TERMS = { bp, oja, hebb, ehebb, ye, eoja, decay } satisfies Record<string, PlasticityTerm>;
export type BuiltinTermName = keyof typeof BUILTIN_TERMS;
/** A term's name: a built-in one, or one a library user registered (registerTerm). */
export type TermName = string;
/** The built-in names, in pool order. */
export const TERM_NAMES = Object.keys(BUILTIN_TERMS) as BuiltinTermName[];

/** The registry: built-ins, then registered terms. Read it through termOf / isTermName / termNames. */
export const TERMS: Record<string, PlasticityTerm> = { ...BUILTIN_TERMS };
/** URLs of modules whose terms were registered (worker threads import them before running a job). */
export const TERM_MODULES: string[] = [];

export function isTermName(s: string): boolean {
  return Object.prototype.hasOwnProperty.call(TERMS, s);
}

export function termOf(name: string): PlasticityTerm {
  const t = TERMS[name];
  if (t === undefined) throw new Error(`unknown rule term '${name}' (known terms: ${termNames().join(", ")})`);
  return t;
}

/** Every registered name, built-ins first. */
export function termNames(): string[] {
  return Object.keys(TERMS);
}

export class TermError extends Error {}

/**
 * Check a term's shape contract on random signals (T = 1 and T = 3 rows):
 * factors and tangent must give post factors of T·n values and pre factors of
 * T·m, and naive an n·m matrix. A term that does not is refused, by name.
 */
export function checkTerm(term: PlasticityTerm): void {
  const who = `rule term '${term?.name}'`;
  if (typeof term !== "object" || term === null) throw new TermError("a rule term must be an object");
  if (typeof term.name !== "string" || !/^[a-z][a-z0-9_]*$/.test(term.name))
    throw new TermError(`${who}: its name must be lower-case letters, digits or '_', starting with a letter`);
  if (term.name === "pool") throw new TermError(`${who}: 'pool' names every term in --learn`);
  for (const k of ["factors", "tangent", "naive"] as const) if (typeof term[k] !== "function") throw new TermError(`${who}: ${k} must be a function`);
  for (const k of ["needsU", "needsEPre"] as const) if (typeof term[k] !== "boolean") throw new TermError(`${who}: ${k} must be true or false`);
  if (typeof term.equation !== "string") throw new TermError(`${who}: equation must be a string`);
  const n = 3, m = 4;
  const rnd = uniformStream(1, -0.5, 1);
  for (const T of [1, 3]) {
    const sig = () => randomSignals(rnd, n, m, T, false);
    const s = sig(), ds = sig(), out: RankOne = { sign: 1, post: s.post, pre: s.pre, preBias: 0 };
    const check = (what: string) => {
      if (term.scalesW) return;
      if (!(out.post instanceof Float64Array || out.post instanceof Float32Array) || out.post.length !== T * n)
        throw new TermError(`${who}: ${what} gave a post factor of ${out.post?.length} values, expected T·n = ${T * n} (T = ${T}, n = ${n})`);
      if (!(out.pre instanceof Float64Array || out.pre instanceof Float32Array) || out.pre.length !== T * m)
        throw new TermError(`${who}: ${what} gave a pre factor of ${out.pre?.length} values, expected T·m = ${T * m} (T = ${T}, m = ${m})`);
      if (!Number.isFinite(out.sign) || !Number.isFinite(out.preBias)) throw new TermError(`${who}: ${what} gave a non-finite sign or bias factor`);
    };
    const rows = T * m + (term.postScratch ? T * n : 0);
    term.factors(s, new Float64Array(rows), out); check("factors");
    term.tangent(s, ds, new Float64Array(rows), out); check("tangent");
    const nv = term.naive(s, rnd(n * m));
    if (!(nv instanceof Float64Array) || nv.length !== n * m) throw new TermError(`${who}: naive gave ${nv?.length} values, expected n·m = ${n * m}`);
  }
}

/**
 * Register a plasticity term of your own: it is then a name in rules, θ
 * specs, `meta --learn` and the meta-gradient, on every network. Refused with
 * a one-line reason naming the term if it breaks the shape contract.
 * Worker threads know it when it is registered through registerTermsModule.
 */
export function registerTerm(term: PlasticityTerm, opts: { replace?: boolean } = {}): void {
  checkTerm(term);
  if (Object.prototype.hasOwnProperty.call(BUILTIN_TERMS, term.name)) throw new TermError(`rule term '${term.name}' is built in`);
  if (isTermName(term.name) && !opts.replace) throw new TermError(`rule term '${term.name}' is already registered`);
  TERMS[term.name] = term;
}

/**
 * Register the terms a module exports (`export const terms = [...]`, or its
 * default export as a term or a list) and remember the module, so worker
 * threads register them too before running a job.
 */
export async function registerTermsModule(url: string): Promise<string[]> {
  let mod: { terms?: unknown; default?: unknown };
  try { mod = await import(url); } catch (e) {
    // A syntax error's message names neither the file nor the line; V8 puts "file:line" at the top of its stack.
    const where = (e as Error).stack?.match(/^(file:\/\/\S+?):(\d+)\s*$/m);
    const at = where ? `${decodeURIComponent(where[1].replace(/^file:\/\//, ""))}:${where[2]}` : decodeURIComponent(url.replace(/^file:\/\//, ""));
    throw new TermError(
      `cannot load the terms module ${at}: ${(e as Error).name === "SyntaxError" ? "syntax error: " : ""}${(e as Error).message.split("\n")[0]}`,
    );
  }
  const list = mod.terms ?? mod.default;
  const terms = (Array.isArray(list) ? list : [list]) as PlasticityTerm[];
  if (terms.length === 0 || terms.some((t) => t === undefined)) throw new TermError(`${url} exports no terms (expected \`export const terms = [ … ]\`)`);
  for (const t of terms) registerTerm(t, { replace: TERM_MODULES.includes(url) });
  if (!TERM_MODULES.includes(url)) TERM_MODULES.push(url);
  return terms.map((t) => t.name);
}
