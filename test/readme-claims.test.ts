/**
 * The README says of each claim what the committed report's verdicts.json says (scripts/readme-claims.ts writes
 * the block; this holds it there), and the list is built from the conditions alone: a synthetic verdicts file
 * with a refuted and a context condition reads as such.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { claimsMarkdown, type VerdictsJson } from "../src/reproduce/verdicts.js";

const root = new URL("..", import.meta.url).pathname;

test("README's claims block is the committed verdicts.json's", () => {
  const readme = readFileSync(`${root}README.md`, "utf8");
  const block = /<!-- claims -->\n([\s\S]*?)\n<!-- \/claims -->/.exec(readme);
  assert.ok(block, "README.md has a claims block");
  const j = JSON.parse(readFileSync(`${root}docs/reproduce/verdicts.json`, "utf8")) as VerdictsJson;
  assert.equal(block[1], claimsMarkdown(j), "run node --import tsx scripts/readme-claims.ts");
  assert.equal(block[1].split("\n").length, j.claims.length, "one line per claim");
});

test("claimsMarkdown: outcomes grouped, intervals in points or values, context conditions apart", () => {
  const cond = (name: string, verdict: string, diff: number, lo: number, hi: number, extra: object = {}) => ({ name, verdict, diff, lo, hi, n: 200, seeds: [], ...extra });
  const j = {
    rule: "",
    minEffect: 0.01,
    margin: 0.02,
    claims: [
      { claim: "2. Depth.", scenario: "b", verdict: "inconclusive", rule: "superiority", minEffect: 0.01, level: 0.0125, covers: "",
        conditions: [cond("4 layers", "inconclusive", 0.007, -0.012, 0.026), cond("8 layers", "holds", 0.25, 0.218, 0.286), cond("16 layers", "refuted", 0.001, -0.002, 0.004)] },
      { claim: "8. Scarce.", scenario: "g", verdict: "refuted", rule: "superiority", minEffect: 0.01, level: 0.05, covers: "",
        conditions: [cond("K = 1", "refuted", -0.04, -0.05, -0.03), cond("K = 50", "holds", 0.1, 0.08, 0.12, { context: true })] },
      { claim: "6. Mechanism.", scenario: "a", verdict: "holds", rule: "direction", minEffect: 0, level: 0.05, covers: "",
        conditions: [cond("layer 1 participation ratio", "holds", 4.1, 3.2, 5, { unit: "value" })] },
    ],
  } as unknown as VerdictsJson;
  const lines = claimsMarkdown(j).split("\n");
  assert.equal(lines[0], "- **2. Depth.** — **inconclusive**: holds at 8 layers (+25.0 [+21.8, +28.6] points); refuted at 16 layers (+0.100 [-0.200, +0.400] points); inconclusive at 4 layers (+0.700 [-1.20, +2.60] points).");
  assert.equal(lines[1], "- **8. Scarce.** — **refuted**: refuted at K = 1 (-4.00 [-5.00, -3.00] points). Shown for context, not counted: K = 50 (+10.0 [+8.00, +12.0] points).");
  assert.equal(lines[2], "- **6. Mechanism.** — **holds**: holds at layer 1 participation ratio (+4.10 [+3.20, +5.00]).");
});
