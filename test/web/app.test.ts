/**
 * The app in a real browser (Debian's Chromium, driven by playwright-core),
 * run by `npm run test:web` after `npm run build:web`: it trains a small
 * configuration and must show exactly the accuracies `neuroplastic train
 * --json` prints for the command the page offers; a shared URL restores
 * every control; bad input gives a visible message and the app keeps
 * working, with no unhandled error; the layout holds at 1280 and 390 px.
 * Screenshots go to runs/web/.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { preview, type PreviewServer } from "vite";

const root = new URL("../..", import.meta.url).pathname;
const shots = join(root, "runs/web");
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
let server: PreviewServer, browser: Browser, base: string;

before(async () => {
  assert.ok(CHROMIUM, "Chromium is needed (apt-get install -y chromium)");
  assert.ok(existsSync(join(root, "web/dist/index.html")), "the app is built (npm run build:web)");
  mkdirSync(shots, { recursive: true });
  server = await preview({ configFile: join(root, "web/vite.config.ts"), preview: { port: 0, strictPort: false }, logLevel: "silent" });
  base = server.resolvedUrls!.local[0];
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});
after(async () => { await browser?.close(); await new Promise<void>((r) => server?.httpServer.close(() => r())); });

/** A page that records every console error and uncaught exception. */
async function open(hash: string, width = 1280): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  await page.goto(base + hash);
  return { page, errors };
}
const done = (page: Page, seconds = 120) => page.waitForFunction(() => document.querySelector<HTMLElement>("#app")?.dataset.state === "done", null, { timeout: seconds * 1000 });
const six = (x: number) => Number(x.toPrecision(6));

/** Run the page's "Copy CLI command" text with the built CLI and --json: one line per rule. */
function cliJson(command: string): { rule: string; acc: number }[] {
  assert.match(command, /^neuroplastic train /);
  const args = command.replace(/^neuroplastic /, "").split(/\s+/);
  const r = spawnSync(process.execPath, [join(root, "dist/cli/main.js"), ...args, "--json"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
}

for (const [name, hash] of [
  ["MLP", "#preset=custom&net=mlp&hidden=30,20&way=5&shots=10&query=5&tasks=6&seed=3&a=bp:0.01&b=bp:0.01,oja:0.005"],
  ["RNN", "#preset=custom&net=rnn&hidden=24&delay=4&way=4&shots=6&query=4&tasks=3&seed=2&a=bp:0.01&b=bp:0.01,oja:0.004"],
] as const) {
  test(`${name}: the page's accuracies equal the CLI's --json for the command it offers (same seed, same numbers)`, async () => {
    const { page, errors } = await open(hash);
    await done(page);
    const acc = await page.$$eval(".run .acc", (els) => els.map((e) => Number((e as HTMLElement).dataset.acc)));
    const tasks = await page.$$eval(".run .acc", (els) => els.map((e) => Number((e as HTMLElement).dataset.tasks)));
    const command = (await page.textContent("#cli"))!;
    const cli = cliJson(command);
    assert.equal(cli.length, 2);
    assert.deepEqual(tasks, [Number(hash.match(/tasks=(\d+)/)![1]), Number(hash.match(/tasks=(\d+)/)![1])]);
    assert.deepEqual(acc.map(six), cli.map((l) => l.acc), `page ${acc} vs CLI ${cli.map((l) => l.acc)} for ${command}`);
    const rate = await page.$$eval(".run .rate", (els) => els.map((e) => Number((e as HTMLElement).dataset.rate)));
    assert.ok(rate.every((r) => r > 0), "steps/s shown");
    await page.screenshot({ path: join(shots, `${name.toLowerCase()}.png`), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test("a shared URL restores every control, and the page keeps its settings in the hash", async () => {
  const hash = "#preset=custom&data=mnist&net=mlp&hidden=50,40,30&init=he&gain=0.7&fb=random&a=bp:0.02&b=bp:0.02,oja:0.004,hebb:0.001&way=4&shots=7&query=3&tasks=3&seed=9&epochs=2&delay=7";
  const { page, errors } = await open(hash);
  const value = (id: string) => page.$eval(`#${id}`, (e) => (e as HTMLInputElement).value);
  const want: Record<string, string> = { dataset: "mnist", net: "mlp", hidden: "50,40,30", init: "he", gain: "0.7", feedback: "random", way: "4", shots: "7", query: "3", tasks: "3", seed: "9", epochs: "2", delay: "7",
    "theta-a-bp": "0.02", "theta-a-oja": "0", "theta-b-bp": "0.02", "theta-b-oja": "0.004", "theta-b-hebb": "0.001", "theta-b-decay": "0" };
  for (const [id, v] of Object.entries(want)) assert.equal(await value(id), v, id);
  await done(page);
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
  const m = await open("#hidden=abc&gain=-2&way=zz&bogus=1&tasks=2&shots=5");
  await done(m.page);
  const warn = await m.page.textContent("#messages");
  assert.match(warn!, /could not all be read/);
  assert.match(warn!, /hidden must be/);
  assert.match(warn!, /gain must be a positive number/);
  assert.match(warn!, /unknown setting 'bogus'/);
  assert.equal(await m.page.$eval("#run-a .acc", (e) => (e as HTMLElement).dataset.tasks), "2");
  // K larger than a class holds: the library's refusal, shown; then a good configuration still runs.
  await m.page.fill("#shots", "1000");
  await m.page.click("#run");
  await m.page.waitForSelector(".msg.error");
  assert.match((await m.page.textContent("#messages"))!, /cannot run: .*(K|examples|class)/i);
  await m.page.fill("#shots", "5");
  await m.page.click("#run");
  await done(m.page);
  // A zero width.
  await m.page.fill("#hidden", "10,0");
  await m.page.click("#run");
  await m.page.waitForSelector(".msg.error");
  assert.match((await m.page.textContent("#messages"))!, /Hidden widths must be whole numbers/);
  assert.deepEqual(m.errors, []);
  await m.page.close();
  // A rule that blows up: the tasks diverge, the page says so, and nothing breaks.
  const d = await open("#preset=custom&hidden=20&tasks=3&shots=5&a=bp:0.01&b=bp:1000,oja:1000");
  await done(d.page);
  assert.match((await d.page.textContent("#messages"))!, /Rule B diverged on \d+ of 3 tasks/);
  assert.deepEqual(d.errors, []);
  await d.page.close();
});

test("layout: 1280 px and 390 px wide, no horizontal scrolling; screenshots", async () => {
  for (const width of [1280, 390]) {
    const { page, errors } = await open("#preset=online&tasks=12", width);
    await done(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${width} px: ${overflow} px of horizontal overflow`);
    await page.screenshot({ path: join(shots, `app-${width}.png`), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  }
});
