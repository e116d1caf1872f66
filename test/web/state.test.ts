/**
 * The app's state module in Node (no browser): the term table's part of the
 * link and of the CLI command. The command is judged by /bin/sh itself, the
 * link by a round trip, a bad definition by the offset its error points at.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { checkTermDef, cliCommand, CSP_HINT, DEFAULTS, fromHash, shQuote, TermDefError, toHash, type AppState } from "../../web/src/state.js";

/** The words /bin/sh makes of `text` (each printed on its own NUL-terminated line). */
function shWords(text: string): string[] {
  const r = spawnSync("/bin/sh", ["-c", `printf '%s\\0' ${text}`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\0").slice(0, -1);
}

test("shQuote: every string comes back from /bin/sh as one word, unchanged", () => {
  const words = ["myoja = post * (pre - u)", "a'b", "'", "''", "$HOME `id` $(id) \\ \" ; & | < > * ? [a] ~ #", "tab\there", "line\nbreak", "plain", "bp=0.0068,oja:1", ""];
  for (const w of words) assert.deepEqual(shWords(shQuote(w)), [w], JSON.stringify(w));
  assert.deepEqual(shWords(words.map(shQuote).join(" ")), words);
});

const withTerms = (): AppState => ({
  ...structuredClone(DEFAULTS), preset: "custom", hidden: [30, 20], shots: 10, query: 5, tasks: 3, seed: 4,
  terms: ["myoja = post * (pre - u)", "localoja = post*pre-post^2*W", "soft = tanh(post) * relu(pre) / (1 + abs(u))"],
  a: { bp: 0.0068 }, b: { bp: 0.0068, myoja: 0.0053, localoja: -0.001 },
});

test("cliCommand: each --term is one shell word, in the table's order, before the rules that name it", () => {
  const s = withTerms(), words = shWords(cliCommand(s));
  const terms = words.flatMap((w, i) => (w === "--term" ? [words[i + 1]] : []));
  assert.deepEqual(terms, s.terms);
  assert.deepEqual(words.slice(-4), ["--rule", "bp=0.0068", "--rule", "bp=0.0068,myoja=0.0053,localoja=-0.001"]);
  assert.ok(words.indexOf("--term") < words.indexOf("--rule"));
  assert.doesNotMatch(cliCommand({ ...s, terms: [], b: { bp: 0.0068 } }), /--term/, "no table, no --term");
});

test("the link: the term table round-trips with its coefficients; no table, no terms= (older links unchanged)", () => {
  const s = withTerms(), hash = toHash(s);
  const back = fromHash(hash);
  assert.deepEqual(back.problems, []);
  assert.deepEqual(back.state, s);
  assert.equal(toHash(back.state), hash);
  assert.doesNotMatch(toHash(DEFAULTS), /terms=/);
});

test("a garbled link: each bad term named with its reason, the good ones kept, a rule naming a dropped term refused", () => {
  const hash = toHash(withTerms()).replace(/terms=[^&]*/, "terms=" + encodeURIComponent("myoja = post * (pre - u);x = post * zz;oja = post;myoja = pre;;q = post / pre"));
  const { state, problems } = fromHash(hash);
  assert.deepEqual(state.terms, ["myoja = post * (pre - u)"]);
  assert.equal(problems.length, 6, problems.join("\n"));
  assert.match(problems[0], /^term 'x = post \* zz': .*unknown signal 'zz'.*at column 12/);
  assert.match(problems[1], /^term 'oja = post': 'oja' is a built-in term/);
  assert.match(problems[2], /^term 'myoja = pre': a term named 'myoja' is already defined above/);
  assert.match(problems[3], /^term '': .*expected 'name = formula'/);
  assert.match(problems[4], /^term 'q = post \/ pre': .*division by a value that can be zero/);
  assert.match(problems[5], /^rule B must be term:value pairs of .*myoja \(got 'bp:0\.0068,myoja:0\.0053,localoja:-0\.001'\)/);
  assert.deepEqual(state.b, DEFAULTS.b, "the refused rule keeps its default");
});

test("checkTermDef: its error points at the offending token of the text as typed (the page marks that column)", () => {
  const at = (text: string, taken: string[] = []) => {
    try { checkTermDef(text, taken); } catch (e) { assert.ok(e instanceof TermDefError, String(e)); return [e.pos, e.message] as const; }
    assert.fail(`'${text}' was accepted`);
  };
  assert.deepEqual(at("myoja = post * (pre - x)")[0], 22);
  assert.match(at("myoja = post * (pre - x)")[1], /unknown signal 'x'.*at column 23$/);
  const open = "myoja =   post * (pre - u";
  assert.equal(at(open)[0], open.length, "the end of the text: a ')' is missing");
  assert.equal(at("  oja = post * pre")[0], 2, "a built-in name: the name");
  assert.equal(at("mine = post", ["mine"])[0], 0, "a name taken above: the name");
  assert.equal(at("Mine = post")[0], 0);
  assert.equal(at("c = 2 * 3")[0], 4, "a formula that reads no signal: its start");
  assert.deepEqual(checkTermDef("  myoja=post*(pre-u)  "), { name: "myoja", def: "myoja = post*(pre-u)" });
});

test("checkTermDef: a browser that refuses `new Function` (a Content-Security-Policy without 'unsafe-eval') gets the policy named, not a stack", () => {
  const g = globalThis as { Function: FunctionConstructor };
  const real = g.Function;
  g.Function = function () { throw new EvalError("Refused to evaluate a string as JavaScript because 'unsafe-eval' is not an allowed source"); } as unknown as FunctionConstructor;
  let err: unknown;
  try { checkTermDef("myoja = post * (pre - u)"); } catch (e) { err = e; } finally { g.Function = real; }
  assert.ok(err instanceof TermDefError);
  assert.equal(err.message, `term 'myoja': ${CSP_HINT}`);
  assert.equal(err.pos, null);
  assert.deepEqual(checkTermDef("myoja = post * (pre - u)").name, "myoja", "compiles again once allowed");
});
