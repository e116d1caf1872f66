import { bp } from "./terms/bp.js";
import { ehebb } from "./terms/ehebb.js";
import { hebb } from "./terms/hebb.js";
import { oja } from "./terms/oja.js";
import type { PlasticityTerm } from "./types.js";

/** Every plasticity term, by name. Adding a term: one file in terms/, one line here. */
export const TERMS = { bp, oja, hebb, ehebb } satisfies Record<string, PlasticityTerm>;
export type TermName = keyof typeof TERMS;
export const TERM_NAMES = Object.keys(TERMS) as TermName[];

export function isTermName(s: string): s is TermName {
  return Object.prototype.hasOwnProperty.call(TERMS, s);
}
