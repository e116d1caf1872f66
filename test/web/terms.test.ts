/**
 * The app's term table (issue 27): a term of one's own written as a formula
 * in the page is checked as --term checks it, its positioned parse error is
 * shown beside the field as it is typed, and it goes into the URL and the
 * copied CLI command; the page's run equals the CLI's for that command.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { accs, assertMatchesCli, axeViolations, close, launch, open, playToEnd, shots, waitPhase, type Env } from "./browser.js";

let env: Env;
before(async () => { env = await launch(); });
after(() => close(env));

const HASH = "#preset=custom&hidden=30,20&way=5&shots=10&query=5&tasks=3&seed=4&a=bp:0.0068&b=bp:0.0068,oja:0.0053";

test("term table: a formula typed in the page shows the parser's column beside it, then runs, goes into the link and the CLI command, and equals the CLI", async () => {
  const { page, errors } = await open(env, HASH);
  await waitPhase(page, "paused");
  await page.getByRole("button", { name: "Add a term", exact: true }).click();
  const def = page.locator("#own-terms tbody tr input[type=text]").first();
  await def.fill("myoja = post * (pre - x)");
  // The parser's error, with its column, beside the field as it is typed.
  const err = page.locator("#own-terms .field-error").first();
  await err.waitFor();
  assert.match((await err.textContent())!, /unknown signal 'x' .*at column 23/);
  assert.equal(await def.getAttribute("aria-invalid"), "true");
  assert.match((await def.getAttribute("aria-describedby"))!, /err-term-def-/);
  await page.screenshot({ path: join(shots, "terms-error.png"), fullPage: true });
  assert.deepEqual(await axeViolations(page), [], "no axe violation with a term error shown");
  // Run with the error: refused beside Run, nothing starts.
  await page.click("#run");
  await page.waitForSelector("#bar-errors .msg.error");
  assert.match((await page.textContent("#bar-errors"))!, /unknown signal 'x'/);
  // Fixed: the error goes; rule B is bp + the formula Oja.
  await def.fill("myoja = post * (pre - u)");
  await page.waitForFunction(() => document.querySelectorAll("#own-terms .field-error").length === 0);
  assert.equal(await def.getAttribute("aria-invalid"), null);
  await page.fill("#theta-b-oja", "0");
  await page.locator("#own-terms tbody tr input[type=number]").nth(1).fill("0.0053");
  await page.click("#run");
  await waitPhase(page, "done", 120);
  const hash = new URL(page.url()).hash;
  assert.match(decodeURIComponent(hash.replace(/\+/g, " ")), /terms=myoja = post \* \(pre - u\)/);
  assert.match(hash, /b=bp:0\.0068,myoja:0\.0053/);
  const command = (await page.textContent("#cli"))!;
  assert.match(command, / --term 'myoja = post \* \(pre - u\)' --rule bp=0\.0068 --rule bp=0\.0068,myoja=0\.0053$/);
  await assertMatchesCli(page);
  const withFormula = await accs(page);
  assert.deepEqual(errors, []);
  await page.close();

  // The link restores the term table and gives the same numbers; Oja as a formula gives the built-in's (test/expr.test.ts: bit for bit).
  const again = await open(env, hash);
  await playToEnd(again.page);
  assert.equal(await again.page.locator("#own-terms tbody tr input[type=text]").first().inputValue(), "myoja = post * (pre - u)");
  assert.deepEqual(await accs(again.page), withFormula);
  const builtin = await open(env, HASH);
  await playToEnd(builtin.page);
  assert.deepEqual(await accs(builtin.page), withFormula, "expression Oja = built-in oja in the page");
  assert.deepEqual([...again.errors, ...builtin.errors], []);
  await again.page.close();
  await builtin.page.close();
});

test("term table: an elementwise term (reads W), a bad term in a link, a built-in name, a removed row; no axe violation at 390 px", async () => {
  const bad = "&terms=localoja%3Dpost*pre-post%5E2*W;nope%3Dpost/pre;bp%3Dpost*pre&b=bp:0.0068,localoja:0.001";
  const { page, errors } = await open(env, HASH.replace(/&b=[^&]*/, "") + bad, 390, 844);
  await playToEnd(page, 180);
  const warn = (await page.textContent("#messages"))!;
  assert.match(warn, /term 'nope=post\/pre': .*division by a value that can be zero.*column/);
  assert.match(warn, /term 'bp=post\*pre': 'bp' is a built-in term/);
  assert.equal(await page.locator("#own-terms tbody[data-k]").count(), 1, "the good term is kept");
  assert.match((await page.textContent("#cli"))!, /--term 'localoja = post\*pre-post\^2\*W' .*--rule bp=0\.0068,localoja=0\.001$/);
  await assertMatchesCli(page);
  assert.deepEqual(await axeViolations(page), [], "no axe violation at 390 px with the term table");
  await page.screenshot({ path: join(shots, "terms-390.png"), fullPage: true });
  // Removing the row takes its term out of the rule, the link and the command.
  await page.getByRole("button", { name: "Remove term 1", exact: true }).click();
  assert.equal(await page.locator("#own-terms tbody[data-k]").count(), 0);
  await page.click("#run");
  await page.waitForFunction(() => !location.hash.includes("terms="));
  assert.doesNotMatch((await page.textContent("#cli"))!, /--term/);
  assert.match((await page.textContent("#cli"))!, /--rule bp=0\.0068 --rule bp=0\.0068$/);
  assert.deepEqual(errors, []);
  await page.close();
});
