/**
 * The app's state: every setting, the seed included, as a plain object that
 * round-trips through the URL hash (so every view is a link), becomes the
 * library's RunConfig for each of the twin runs, and prints as the
 * `neuroplastic train` command that gives the same numbers.
 */
import {
  DEFAULT_CONFIG, DEFAULT_NET, ExprError, expressionTerm, FEEDBACKS, hasOwnFlag, networkKinds, parseDefinition, registerExpressionTerm, TERM_NAMES,
  type FeedbackName, type RunConfig, type ThetaSpec,
} from "neuroplastic";

export type PresetId = "online" | "depth" | "init" | "fa" | "rnn";

export interface AppState {
  preset: PresetId | "custom";
  dataset: "mnist" | "fashion";
  /** A network kind (the library's registry: mlp, rnn). */
  net: string;
  /** Hidden widths (rnn: one width, N). */
  hidden: number[];
  init: "xavier" | "xavier-normal" | "he" | "orthogonal";
  gain: number;
  feedback: FeedbackName;
  /** Dale's law: the fraction of excitatory hidden units, or null (no constraint). */
  dale: number | null;
  /** Twin rules: A (left) and B (right), one coefficient per term (0: the term is off). */
  a: Record<string, number>;
  b: Record<string, number>;
  way: number;
  shots: number;
  query: number;
  tasks: number;
  seed: number;
  epochs: number;
  delay: number;
  /** Terms of one's own, each `name = formula` (README "Write your own rule"); their coefficients are in a and b by name. */
  terms: string[];
}

export const TERMS: readonly string[] = TERM_NAMES;

export const DEFAULTS: AppState = {
  preset: "online", dataset: "mnist", net: "mlp", hidden: [170, 130, 100, 70], init: "xavier", gain: 1, feedback: "sym", dale: null,
  a: { bp: 0.0068 }, b: { bp: 0.0068, oja: 0.0053 }, way: 5, shots: 50, query: 10, tasks: 100, seed: 1, epochs: 1, delay: 20, terms: [],
};

export interface Preset { id: PresetId; label: string; claim: string; look: string; state: Partial<AppState>; /** The diagnostic shown first. */ metric: string }

/** One preset per claim of PAPER.md, each with what to look for. */
export const PRESETS: readonly Preset[] = [
  { id: "online", label: "Online", claim: "Claim 1: online learning", state: {}, metric: "pr",
    look: "One example at a time from careless defaults: backprop + Oja (right) ends most tasks more accurate than backprop alone (left; seed 1: 88 of 100, 7 tied), and its deeper layers' activations use more dimensions (participation ratio)." },
  { id: "depth", label: "Depth (8 layers)", claim: "Claim 2: depth", state: { hidden: [100, 100, 100, 100, 100, 100, 100, 100], tasks: 40 }, metric: "act",
    look: "Eight hidden layers: backprop alone stays near chance (about 21% against 20%); its activation norm ‖yₗ‖ dips mildly in the middle layers (about 3.3 → 2.0 → 2.7), its participation ratio falls to about 1 in the deep layers, and its error norm ‖eₗ‖ grows from the input to the output. With Oja every hidden layer keeps ‖yₗ‖ near 7 and B reaches about 56%." },
  { id: "init", label: "Small init (gain 0.25)", claim: "Claim 3: careless initialization", state: { gain: 0.25, tasks: 60 }, metric: "ortho",
    look: "Initial weights four times too small: backprop stays at chance (20% with 5 classes) and its weights barely change; Oja's rule makes the hidden layers' activity about five times larger (‖yₗ‖ ≈ 6 against ≈ 1) and lifts B a few points above chance (about 23%). ‖WWᵀ − I‖ hardly moves in the hidden layers (≈ 0.9) and grows in B's output layer (to ≈ 2.8). In one pass of 250 examples recovery has only begun: the paper's large gains need θ meta-learned for this init." },
  { id: "fa", label: "Feedback alignment", claim: "Claim 5: feedback alignment", state: { feedback: "random", epochs: 10, tasks: 20, a: { bp: 0.015 }, b: { bp: 0.015, oja: 0.007 } }, metric: "wn",
    look: "Random fixed feedback weights, ten passes per task, θ near the meta-learned values: with feedback alignment alone the weight norms explode (log scale; Σ‖W‖ averages about 10⁵) and A reaches about 67%; with Oja they stay flat (Σ‖W‖ ≈ 61) and B about 83%. The FA angle: A's updates align with the true gradient (about 33°–70°), B's hidden layers' barely (70°–97°, some beyond 90°)." },
  { id: "rnn", label: "Recurrent memory", claim: "Claim 7: recurrent networks", state: { net: "rnn", hidden: [100], delay: 20, a: { bp: 0.003 }, b: { bp: 0.003, oja: 0.002 }, tasks: 40 }, metric: "spec",
    look: "A rate RNN reads a digit row by row, then 20 steps of silence, then answers: with Oja on U, J and W it remembers more often than BPTT alone, and J's spectral radius stays near 1." },
];

export function presetState(id: PresetId): AppState {
  const p = PRESETS.find((x) => x.id === id)!;
  return { ...structuredClone(DEFAULTS), ...structuredClone(p.state), preset: id };
}

/** A term definition the app refuses: one sentence, and where in the text it went wrong (0-based offset; null: nowhere in particular). */
export class TermDefError extends Error {
  constructor(message: string, readonly pos: number | null) { super(message); }
}

/**
 * What the page says when the browser refuses to compile a term: expression
 * kernels are JavaScript built with `new Function` (src/rules/expr/compile.ts),
 * which a Content-Security-Policy without 'unsafe-eval' forbids.
 */
export const CSP_HINT =
  "this page's Content-Security-Policy forbids compiling a formula (new Function): serve the app with script-src 'unsafe-eval' " +
  "(docs/write-your-own-rule.md, \"In the app\"), or use the CLI's --term";

/**
 * A term of one's own checked as the CLI's --term checks it: the parser (its
 * error names the column), the derived tangent's finite-difference check, and
 * a name that is neither a built-in term nor one of `taken`. Returns the
 * definition as `name = formula`, or throws a TermDefError: one sentence,
 * with the offset in `text` it points at.
 */
export function checkTermDef(text: string, taken: readonly string[] = []): { name: string; def: string } {
  let name: string, formula: string;
  try { ({ name, formula } = parseDefinition(text)); } catch (e) { throw e instanceof ExprError ? new TermDefError(e.message, e.pos) : e; }
  const at = text.indexOf(name);
  if (TERMS.includes(name)) throw new TermDefError(`'${name}' is a built-in term: give your term another name`, at);
  if (taken.includes(name)) throw new TermDefError(`a term named '${name}' is already defined above`, at);
  try { expressionTerm(name, formula); } catch (e) {
    if (e instanceof ExprError) throw new TermDefError(e.message, e.pos + text.indexOf(formula, text.indexOf("=") + 1));
    if (e instanceof EvalError) throw new TermDefError(`term '${name}': ${CSP_HINT}`, null);
    throw new TermDefError((e as Error).message, null);
  }
  return { name, def: `${name} = ${formula}` };
}

/**
 * A word for a POSIX shell: single quotes keep everything literal, and a
 * quote inside is closed, escaped and reopened ('\''). The parser admits no
 * quote in a formula today; the command stays one word per argument even if
 * it one day does.
 */
export function shQuote(word: string): string {
  return /^[A-Za-z0-9_./:=,+-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** Register the state's own terms (in the page and in each worker) so rules can name them. */
export function registerTerms(defs: readonly string[]): void {
  for (const d of defs) registerExpressionTerm(d, undefined, { replace: true });
}

/** The names of the state's own terms. */
export const ownNames = (s: Pick<AppState, "terms">): string[] => s.terms.map((d) => d.slice(0, d.indexOf("=")).trim());

/** The library's configuration of run A or B. */
export function runConfig(s: AppState, which: "a" | "b"): RunConfig {
  const theta: ThetaSpec = {};
  for (const [k, v] of Object.entries(s[which])) if (v !== 0) theta[k] = v;
  return {
    ...DEFAULT_CONFIG, dataset: s.dataset, split: "test", hidden: s.hidden, init: s.init, gain: s.gain, feedback: s.feedback, theta,
    way: s.way, shots: s.shots, query: s.query, tasks: s.tasks, seed: s.seed, epochs: s.epochs, backend: "wasm",
    ...(s.dale !== null ? { dale: s.dale } : {}),
    ...(s.net !== DEFAULT_NET ? { net: s.net } : {}),
    ...(hasOwnFlag(s.net, "delay") ? { delay: s.delay } : {}),
  };
}

/** "bp=0.0068,oja=0.0053": a rule as the CLI writes it (terms at 0 left out). */
export function ruleText(r: Record<string, number>): string {
  return Object.entries(r).filter(([, v]) => v !== 0).map(([k, v]) => `${k}=${v}`).join(",");
}

/** The command that prints the same accuracies (same seed, tasks, initial weights). */
export function cliCommand(s: AppState): string {
  const parts = ["neuroplastic train", `--dataset ${s.dataset}`, "--split test", `--net ${s.net}`, `--hidden ${s.hidden.join(",")}`];
  if (hasOwnFlag(s.net, "delay")) parts.push(`--delay ${s.delay}`);
  parts.push(`--init ${s.init}`, `--gain ${s.gain}`, `--feedback ${s.feedback}`);
  if (s.dale !== null) parts.push(`--dale ${s.dale}`);
  parts.push(`--way ${s.way}`, `--shots ${s.shots}`, `--query ${s.query}`, `--tasks ${s.tasks}`, `--epochs ${s.epochs}`, `--seed ${s.seed}`);
  for (const d of s.terms) parts.push(`--term ${shQuote(d)}`);
  parts.push(`--rule ${ruleText(s.a)}`, `--rule ${ruleText(s.b)}`);
  return parts.join(" ");
}

/** The state as a URL hash: short keys, rules as term:value lists. */
export function toHash(s: AppState): string {
  const rule = (r: Record<string, number>) => Object.entries(r).filter(([, v]) => v !== 0).map(([k, v]) => `${k}:${v}`).join(",");
  const p = new URLSearchParams({
    preset: s.preset, data: s.dataset, net: s.net, hidden: s.hidden.join(","), init: s.init, gain: String(s.gain), fb: s.feedback,
    a: rule(s.a), b: rule(s.b), way: String(s.way), shots: String(s.shots), query: String(s.query), tasks: String(s.tasks),
    seed: String(s.seed), epochs: String(s.epochs), delay: String(s.delay),
  });
  // Dale's law only when on: links made before it existed stay canonical.
  if (s.dale !== null) p.set("dale", String(s.dale));
  // Own terms, `;`-separated (no formula has one); absent when there are none, so older links stay as they were.
  if (s.terms.length) p.set("terms", s.terms.join(";"));
  // Commas and colons are fine in a fragment: keep the link readable.
  return "#" + p.toString().replace(/%2C/gi, ",").replace(/%3A/gi, ":");
}

/**
 * Read a hash. Every field is checked; a mangled one is reported and its
 * default kept, so a bad link still opens a working app. Returns the state
 * and the problems found (empty when the link was clean).
 */
export function fromHash(hash: string): { state: AppState; problems: string[] } {
  const problems: string[] = [];
  const text = hash.replace(/^#/, "");
  if (text.trim() === "") return { state: structuredClone(DEFAULTS), problems };
  let p: URLSearchParams;
  try { p = new URLSearchParams(text); } catch { return { state: structuredClone(DEFAULTS), problems: ["the link's settings could not be read"] }; }
  const preset = p.get("preset");
  const base: AppState = preset && PRESETS.some((x) => x.id === preset) ? presetState(preset as PresetId) : structuredClone(DEFAULTS);
  if (preset === "custom") base.preset = "custom";
  else if (preset !== null && !PRESETS.some((x) => x.id === preset)) problems.push(`unknown preset '${preset}'`);
  const s = base;
  const known = new Set(["preset", "data", "net", "hidden", "init", "gain", "fb", "a", "b", "way", "shots", "query", "tasks", "seed", "epochs", "delay", "dale",
    "terms"]);
  for (const k of p.keys()) if (!known.has(k)) problems.push(`unknown setting '${k}'`);
  const oneOf = <T extends string>(key: string, allowed: readonly T[], set: (v: T) => void) => {
    const v = p.get(key);
    if (v === null) return;
    if ((allowed as readonly string[]).includes(v)) set(v as T); else problems.push(`${key} must be one of ${allowed.join(", ")} (got '${v}')`);
  };
  const int = (key: string, min: number, max: number, set: (v: number) => void) => {
    const v = p.get(key);
    if (v === null) return;
    const x = Number(v);
    if (v.trim() !== "" && Number.isInteger(x) && x >= min && x <= max) set(x); else problems.push(`${key} must be an integer from ${min} to ${max} (got '${v}')`);
  };
  oneOf("data", ["mnist", "fashion"] as const, (v) => { s.dataset = v; });
  oneOf("net", networkKinds(), (v) => { s.net = v; });
  oneOf("init", ["xavier", "xavier-normal", "he", "orthogonal"] as const, (v) => { s.init = v; });
  oneOf("fb", FEEDBACKS, (v) => { s.feedback = v; });
  const dale = p.get("dale");
  if (dale !== null) {
    const f = Number(dale);
    if (dale.trim() !== "" && f >= 0 && f <= 1) s.dale = f; else problems.push(`dale must be the excitatory fraction, a number from 0 to 1 (got '${dale}')`);
  }
  const hidden = p.get("hidden");
  if (hidden !== null) {
    const ws = hidden.split(",").map((w) => Number(w));
    if (hidden.trim() !== "" && ws.length <= 32 && ws.every((w) => Number.isInteger(w) && w >= 1 && w <= 4096)) s.hidden = ws;
    else problems.push(`hidden must be widths from 1 to 4096 separated by commas (got '${hidden}')`);
  }
  const gain = p.get("gain");
  if (gain !== null) { const g = Number(gain); if (gain.trim() !== "" && Number.isFinite(g) && g > 0) s.gain = g; else problems.push(`gain must be a positive number (got '${gain}')`); }
  const terms = p.get("terms");
  if (terms !== null) {
    s.terms = [];
    for (const t of terms.split(";")) {
      try { s.terms.push(checkTermDef(t, ownNames(s)).def); } catch (e) { problems.push(`term '${t}': ${(e as Error).message}`); }
    }
  }
  const names = [...TERMS, ...ownNames(s)];
  for (const which of ["a", "b"] as const) {
    const v = p.get(which);
    if (v === null) continue;
    const r: Record<string, number> = {};
    let ok = v.trim() !== "";
    for (const part of v.split(",")) {
      const [k, x, ...rest] = part.split(":");
      const n = Number(x);
      if (rest.length || !names.includes(k) || x === undefined || x.trim() === "" || !Number.isFinite(n)) { ok = false; break; }
      r[k] = n;
    }
    if (ok) s[which] = r; else problems.push(`rule ${which.toUpperCase()} must be term:value pairs of ${names.join(", ")} (got '${v}')`);
  }
  int("way", 2, 10, (v) => { s.way = v; });
  int("shots", 1, 1000, (v) => { s.shots = v; });
  int("query", 1, 1000, (v) => { s.query = v; });
  int("tasks", 1, 10000, (v) => { s.tasks = v; });
  int("seed", 0, 2 ** 31 - 1, (v) => { s.seed = v; });
  int("epochs", 1, 100, (v) => { s.epochs = v; });
  int("delay", 0, 200, (v) => { s.delay = v; });
  return { state: s, problems };
}
