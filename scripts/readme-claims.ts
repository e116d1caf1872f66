/**
 * The README's list of claims from the committed report's verdicts.json:
 *   node --import tsx scripts/readme-claims.ts [--check] [--verdicts docs/reproduce/verdicts.json]
 * rewrites the block between `<!-- claims -->` and `<!-- /claims -->` in README.md (atomically), or with
 * --check exits 1, saying so in one line, when the README's block is not what verdicts.json gives.
 * test/readme-claims.test.ts runs the check in the unit suite.
 */
import { readFileSync } from "node:fs";
import { writeAtomic } from "../src/core/files.js";
import { claimsMarkdown, type VerdictsJson } from "../src/reproduce/verdicts.js";

const argv = process.argv.slice(2);
const root = new URL("..", import.meta.url).pathname;
const file = argv.includes("--verdicts") ? argv[argv.indexOf("--verdicts") + 1] : `${root}docs/reproduce/verdicts.json`;
const readme = `${root}README.md`;
const BLOCK = /(<!-- claims -->\n)(?:[\s\S]*?\n)?(<!-- \/claims -->)/;

const text = readFileSync(readme, "utf8");
if (!BLOCK.test(text)) {
  console.error("readme-claims: README.md has no <!-- claims --> … <!-- /claims --> block");
  process.exit(1);
}
const want = text.replace(BLOCK, (_, a: string, b: string) => `${a}${claimsMarkdown(JSON.parse(readFileSync(file, "utf8")) as VerdictsJson)}\n${b}`);
if (argv.includes("--check")) {
  if (want !== text) {
    console.error(`readme-claims: README.md's claims differ from ${file}; run node --import tsx scripts/readme-claims.ts`);
    process.exit(1);
  }
} else if (want !== text) {
  writeAtomic(readme, want);
  console.log(`readme-claims: wrote README.md's claims from ${file}`);
} else console.log("readme-claims: README.md's claims are up to date");
