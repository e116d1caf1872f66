/**
 * What the app's browser tests share: the built app (web/dist) served by
 * Vite's preview server, Debian's Chromium driven by playwright-core, pages
 * that record every console error and uncaught exception, and the built CLI
 * run on the command a page offers.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { preview, type PreviewServer } from "vite";

export const root = new URL("../..", import.meta.url).pathname;
export const shots = join(root, "runs/web");
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);

export interface Env { server: PreviewServer; browser: Browser; base: string }

export async function launch(): Promise<Env> {
  assert.ok(CHROMIUM, "Chromium is needed (apt-get install -y chromium)");
  assert.ok(existsSync(join(root, "web/dist/index.html")), "the app is built (npm run build:web)");
  mkdirSync(shots, { recursive: true });
  const server = await preview({ configFile: join(root, "web/vite.config.ts"), preview: { port: 0, strictPort: false }, logLevel: "silent" });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  return { server, browser, base: server.resolvedUrls!.local[0] };
}

export async function close(env: Env | undefined): Promise<void> {
  await env?.browser.close();
  await new Promise<void>((r) => (env ? env.server.httpServer.close(() => r()) : r()));
}

/** A page that records every console error and uncaught exception. */
export async function open(env: Env, hash: string, width = 1280, height = 900): Promise<{ page: Page; errors: string[] }> {
  const page = await env.browser.newPage({ viewport: { width, height } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  await page.goto(env.base + hash);
  return { page, errors };
}

export const phase = (page: Page) => page.evaluate(() => document.querySelector<HTMLElement>("#app")!.dataset.state);
export const waitPhase = (page: Page, want: string, seconds = 120) =>
  page.waitForFunction((w) => document.querySelector<HTMLElement>("#app")?.dataset.state === w, want, { timeout: seconds * 1000 });
export const done = (page: Page, seconds = 120) => waitPhase(page, "done", seconds);
/** Play (the page opens held), then wait for the end. */
export async function playToEnd(page: Page, seconds = 120): Promise<void> {
  await waitPhase(page, "paused", seconds);
  await page.getByRole("button", { name: "Play", exact: true }).click();
  await done(page, seconds);
}
export const tasksShown = (page: Page) => page.$$eval(".run .tasks", (els) => els.map((e) => e.textContent));
export const accs = (page: Page) => page.$$eval(".run .acc", (els) => els.map((e) => Number((e as HTMLElement).dataset.acc)));
export const six = (x: number) => Number(x.toPrecision(6));

/**
 * Run the page's CLI command, as copied, through /bin/sh (so its quoting is
 * the shell's to judge, not ours), with `neuroplastic` the built CLI and
 * --json: one line per rule.
 */
export function cliJson(command: string): { rule: string; acc: number; steps_per_sec?: number }[] {
  assert.match(command, /^neuroplastic train /);
  const script = `neuroplastic() { "$NP_NODE" "$NP_CLI" "$@" --json; }\n${command}\n`;
  const r = spawnSync("/bin/sh", ["-c", script], { encoding: "utf8", env: { ...process.env, NP_NODE: process.execPath, NP_CLI: join(root, "dist/cli/main.js") } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
}

/** The page's accuracies equal the CLI's for the command in its CLI box (the run on screen). */
export async function assertMatchesCli(page: Page): Promise<void> {
  const command = (await page.textContent("#cli"))!;
  const cli = cliJson(command);
  const acc = await accs(page);
  assert.deepEqual(acc.map(six), cli.map((l) => l.acc), `page ${acc} vs CLI ${cli.map((l) => l.acc)} for ${command}`);
}

/** axe-core's violations on the page as it is (rule id and the first offending node). */
export async function axeViolations(page: Page): Promise<string[]> {
  const src = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  await page.addScriptTag({ content: src });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run();
    return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes, first ${v.nodes[0]?.target.join(" ")})`);
  });
}
