/**
 * The app in a real browser (Debian's Chromium, driven by playwright-core),
 * run by `npm run test:web` after `npm run build:web`: it trains a small
 * configuration and must show exactly the accuracies `neuroplastic train
 * --json` prints for the command the page offers; a shared URL restores
 * every control; bad input gives a visible message and the app keeps
 * working, with no unhandled error; the layout holds at 1280 and 390 px,
 * with no axe-core violation. Screenshots go to runs/web/.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { accs, assertMatchesCli, axeViolations, close, done, launch, open, playToEnd, shots, waitPhase, type Env } from "./browser.js";

let env: Env;
before(async () => { env = await launch(); });
after(() => close(env));

for (const [name, hash] of [
  ["MLP", "#preset=custom&net=mlp&hidden=30,20&way=5&shots=10&query=5&tasks=6&seed=3&a=bp:0.01&b=bp:0.01,oja:0.005"],
  ["RNN", "#preset=custom&net=rnn&hidden=24&delay=4&way=4&shots=6&query=4&tasks=3&seed=2&a=bp:0.01&b=bp:0.01,oja:0.004"],
] as const) {
  test(`${name}: the page's accuracies equal the CLI's --json for the command it offers (same seed, same numbers)`, async () => {
    const { page, errors } = await open(env, hash);
    await playToEnd(page);
    const tasks = await page.$$eval(".run .acc", (els) => els.map((e) => Number((e as HTMLElement).dataset.tasks)));
    const n = Number(hash.match(/tasks=(\d+)/)![1]);
    assert.deepEqual(tasks, [n, n]);
    await assertMatchesCli(page);
    const rate = await page.$$eval(".run .rate", (els) => els.map((e) => Number((e as HTMLElement).dataset.rate)));
    assert.ok(rate.every((r) => r > 0), "steps/s shown");
    await page.screenshot({ path: join(shots, `${name.toLowerCase()}.png`), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test("a shared URL restores every control, and the page keeps its settings in the hash", async () => {
  const hash = "#preset=custom&data=mnist&net=mlp&hidden=50,40,30&init=he&gain=0.7&fb=random&a=bp:0.02&b=bp:0.02,oja:0.004,hebb:0.001&way=4&shots=7&query=3&tasks=3&seed=9&epochs=2&delay=7";
  const { page, errors } = await open(env, hash);
  const value = (id: string) => page.$eval(`#${id}`, (e) => (e as HTMLInputElement).value);
  const want: Record<string, string> = { dataset: "mnist", net: "mlp", hidden: "50,40,30", init: "he", gain: "0.7", feedback: "random", way: "4", shots: "7", query: "3", tasks: "3", seed: "9", epochs: "2", delay: "7",
    "theta-a-bp": "0.02", "theta-a-oja": "0", "theta-b-bp": "0.02", "theta-b-oja": "0.004", "theta-b-hebb": "0.001", "theta-b-decay": "0" };
  for (const [id, v] of Object.entries(want)) assert.equal(await value(id), v, id);
  await playToEnd(page);
  assert.equal(new URL(page.url()).hash, hash, "the canonical hash is the one shared");
  // Every control has a label and the form works from the keyboard: a new value, then Enter, reruns.
  const unlabeled = await page.$$eval("input, select", (els) => els.filter((e) => !(e as HTMLInputElement).labels?.length && !e.getAttribute("aria-label")).map((e) => e.id));
  assert.deepEqual(unlabeled, []);
  await page.focus("#tasks");
  await page.fill("#tasks", "2");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => location.hash.includes("tasks=2"));
  await done(page);
  assert.equal(await page.$eval("#run-a .acc", (e) => (e as HTMLElement).dataset.tasks), "2");
  assert.deepEqual(errors, []);
  await page.close();
});

test("bad input: a mangled link, an impossible configuration, a zero width, a diverging rule: visible messages, the app keeps working", async () => {
  // A mangled hash: the bad fields are named, the rest is used, and it trains.
  const m = await open(env, "#hidden=abc&gain=-2&way=zz&bogus=1&tasks=2&shots=5");
  await playToEnd(m.page);
  const warn = await m.page.textContent("#messages");
  assert.match(warn!, /could not all be read/);
  assert.match(warn!, /hidden must be/);
  assert.match(warn!, /gain must be a positive number/);
  assert.match(warn!, /unknown setting 'bogus'/);
  assert.equal(await m.page.$eval("#run-a .acc", (e) => (e as HTMLElement).dataset.tasks), "2");
  // K larger than a class holds: the library's refusal, shown beside Run; then a good configuration still runs.
  await m.page.fill("#shots", "1000");
  await m.page.click("#run");
  await m.page.waitForSelector("#bar-errors .msg.error");
  assert.match((await m.page.textContent("#bar-errors"))!, /cannot run: .*(K|examples|class)/i);
  await m.page.fill("#shots", "5");
  await m.page.click("#run");
  await done(m.page);
  assert.equal(await m.page.textContent("#bar-errors"), "", "the error is gone once a run starts");
  // A zero width.
  await m.page.fill("#hidden", "10,0");
  await m.page.click("#run");
  await m.page.waitForSelector("#bar-errors .msg.error");
  assert.match((await m.page.textContent("#bar-errors"))!, /Hidden widths must be whole numbers/);
  assert.deepEqual(m.errors, []);
  await m.page.close();
  // A rule that blows up: the tasks diverge, the page says so, and nothing breaks.
  const d = await open(env, "#preset=custom&hidden=20&tasks=3&shots=5&a=bp:0.01&b=bp:1000,oja:1000");
  await playToEnd(d.page);
  assert.match((await d.page.textContent("#messages"))!, /Rule B diverged on \d+ of 3 tasks/);
  assert.deepEqual(d.errors, []);
  await d.page.close();
});

test("layout: 1280 px and 390 px wide, no horizontal scrolling, no axe-core violation; screenshots", async () => {
  for (const width of [1280, 390]) {
    const { page, errors } = await open(env, "#preset=online&tasks=12", width);
    await waitPhase(page, "paused");
    assert.deepEqual(await axeViolations(page), [], `${width} px, paused after the first task`);
    await page.getByRole("button", { name: "Play", exact: true }).click();
    await done(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${width} px: ${overflow} px of horizontal overflow`);
    // A help text is one tap away, and it is the control's description.
    await page.getByRole("button", { name: "About Hidden widths" }).click();
    assert.ok(await page.locator("#hidden").evaluate((e) => document.getElementById(e.getAttribute("aria-describedby")!.split(" ").find((x) => x.startsWith("help-"))!)!.checkVisibility()));
    assert.deepEqual(await axeViolations(page), [], `${width} px, done, a help text open`);
    assert.equal((await accs(page)).length, 2);
    await page.screenshot({ path: join(shots, `app-${width}.png`), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  }
});
