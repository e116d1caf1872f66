/**
 * The app's term table (issue 27): a term of one's own written as a formula
 * in the page is checked as --term checks it, its positioned parse error is
 * shown beside the field as it is typed, and it goes into the URL and the
 * copied CLI command; the page's run equals the CLI's for that command.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { accs, assertMatchesCli, axeViolations, close, launch, open, phase, playToEnd, shots, waitPhase, type Env } from "./browser.js";

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
  // The column marked: the formula again under the field, the token the parser stopped at highlighted, in view.
  assert.equal(await err.locator(".error-at mark").textContent(), "x");
  assert.equal(await err.locator(".error-at").textContent(), "myoja = post * (pre - x)");
  assert.ok(await err.locator(".error-at mark").isVisible());
  await page.screenshot({ path: join(shots, "terms-error.png"), fullPage: true });
  assert.deepEqual(await axeViolations(page), [], "no axe violation with a term error shown");
  // Run with the error: refused beside Run, nothing starts.
  await page.click("#run");
  await page.waitForSelector("#bar-errors .msg.error");
  assert.match((await page.textContent("#bar-errors"))!, /unknown signal 'x'/);
  assert.deepEqual(await def.evaluate((e: HTMLInputElement) => [document.activeElement === e, e.selectionStart, e.selectionEnd]), [true, 22, 23], "the caret on the bad token");
  assert.equal(await phase(page), "paused", "nothing started");
  // An unclosed formula: the mark is at its end.
  await def.fill("myoja = post * (pre - u");
  await page.waitForFunction(() => document.querySelector("#own-terms .error-at mark")?.classList.contains("end"));
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
  assert.match((await page.textContent("#run-b .equation"))!, /0\.0053 · \(post \* \(pre - u\)\)$/, "B's equation writes the formula");
  assert.equal(await page.textContent("#run-b .title"), "B: backprop + myoja");
  const command = (await page.textContent("#cli"))!;
  assert.match(command, / --term 'myoja = post \* \(pre - u\)' --rule bp=0\.0068 --rule bp=0\.0068,myoja=0\.0053$/);
  await assertMatchesCli(page);
  const withFormula = await accs(page);
  // The command as copied is the one the CLI ran.
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: env.base });
  await page.click("#copy");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), command);
  // The "form differs" note follows the term table: its formula, its θ, a new row.
  const note = page.locator("#cli-note");
  assert.equal(await note.isHidden(), true);
  await def.fill("myoja = post * pre");
  await note.waitFor({ state: "visible" });
  await def.fill("myoja = post * (pre - u)");
  await note.waitFor({ state: "hidden" });
  await page.locator("#own-terms tbody tr input[type=number]").nth(1).fill("0.005");
  await note.waitFor({ state: "visible" });
  await page.locator("#own-terms tbody tr input[type=number]").nth(1).fill("0.0053");
  await note.waitFor({ state: "hidden" });
  assert.equal((await page.textContent("#cli"))!, command, "the box keeps the run on screen's command");
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

/**
 * The app sets no Content-Security-Policy. A host that serves it with one
 * must let the page and the workers compile formulas (new Function:
 * 'unsafe-eval', which also admits WebAssembly) — the policy
 * docs/write-your-own-rule.md gives — and with 'wasm-unsafe-eval' alone the
 * kernels still compile but a formula cannot. Put on every response here;
 * a worker runs under its own script's header.
 */
const DOC_CSP = "default-src 'self'; script-src 'self' 'unsafe-eval'; img-src 'self' data:";
const NO_EVAL = DOC_CSP.replace("'unsafe-eval'", "'wasm-unsafe-eval'");
const isWorker = (path: string) => /\/assets\/worker-[^/]*\.js$/.test(path);

async function withCsp(policy: (path: string) => string, hash: string): Promise<{ page: import("playwright-core").Page; errors: string[]; served: string[] }> {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const served: string[] = [];
  await context.route("**/*", async (route) => {
    const response = await route.fetch(), path = new URL(route.request().url()).pathname;
    served.push(path);
    await route.fulfill({ response, headers: { ...response.headers(), "content-security-policy": policy(path) } });
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  await page.goto(env.base + hash);
  return { page, errors, served };
}

const TERM_HASH = HASH.replace(/&b=[^&]*/, "") + "&terms=" + encodeURIComponent("myoja = post * (pre - u)") + "&b=bp:0.0068,myoja:0.0053";
const CSP_SAYS = /this page's Content-Security-Policy forbids compiling a formula \(new Function\): serve the app with script-src 'unsafe-eval'/;
/** Chromium reports each refused compilation on the console; nothing else may go wrong. */
const otherThanCsp = (errors: string[]) => errors.filter((e) => !/unsafe-eval|Content Security Policy/i.test(e));

test("Content-Security-Policy: under the documented policy a term runs and equals the CLI; without 'unsafe-eval' the page (or a worker) says why, and the built-in rules still run", async () => {
  const ok = await withCsp(() => DOC_CSP, TERM_HASH);
  await playToEnd(ok.page);
  assert.ok(ok.served.some(isWorker), `the workers' script was served under the policy too (${ok.served.join(", ")})`);
  assert.match((await ok.page.textContent("#cli"))!, /--term 'myoja = post \* \(pre - u\)'/);
  assert.doesNotMatch((await ok.page.textContent("#messages"))!, /WebAssembly SIMD is not available/);
  await assertMatchesCli(ok.page);
  assert.deepEqual(ok.errors, []);
  await ok.page.context().close();

  const strict = await withCsp(() => NO_EVAL, TERM_HASH);
  await waitPhase(strict.page, "paused");
  // The link's term cannot be compiled here: the one bad-link message names the policy; the built-in rules run, on the wasm kernels.
  const warn = (await strict.page.textContent("#messages"))!;
  assert.match(warn, /term 'myoja = post \* \(pre - u\)': term 'myoja': /);
  assert.match(warn, CSP_SAYS);
  assert.doesNotMatch(warn, /WebAssembly SIMD is not available/);
  assert.equal(await strict.page.locator("#own-terms tbody[data-k]").count(), 0);
  await strict.page.getByRole("button", { name: "Play", exact: true }).click();
  await waitPhase(strict.page, "done");
  await assertMatchesCli(strict.page);
  // Typed into the table: the same reason beside the field, and Run refuses it.
  await strict.page.getByRole("button", { name: "Add a term", exact: true }).click();
  const def = strict.page.locator("#own-terms tbody tr input[type=text]").first();
  await def.fill("myoja = post * (pre - u)");
  const err = strict.page.locator("#own-terms .field-error").first();
  await err.waitFor();
  assert.match((await err.textContent())!, CSP_SAYS);
  assert.equal(await def.getAttribute("aria-invalid"), "true");
  await strict.page.click("#run");
  await strict.page.waitForSelector("#bar-errors .msg.error");
  assert.equal(await phase(strict.page), "done", "nothing started");
  assert.deepEqual(otherThanCsp(strict.errors), []);
  await strict.page.context().close();

  // The page may compile, its workers may not: each run stops with the same reason, beside Run.
  const split = await withCsp((path) => (isWorker(path) ? NO_EVAL : DOC_CSP), TERM_HASH);
  await split.page.waitForFunction(() => document.querySelectorAll("#bar-errors .msg.error").length === 2);
  const stopped = (await split.page.textContent("#bar-errors"))!;
  for (const r of ["A", "B"]) assert.match(stopped, new RegExp(`Run ${r} stopped: term 'myoja = post \\* \\(pre - u\\)': ${CSP_SAYS.source}`));
  assert.deepEqual(otherThanCsp(split.errors), []);
  await split.page.context().close();
});
