/**
 * The README's screenshot of the app, docs/app.png, taken the way a user first
 * sees a finished run: `npm run build:web && node --import tsx scripts/web-screenshot.ts [out.png]`.
 * Opens the default preset in headless Chromium at 1280×800, presses Play,
 * waits until the page says done (the final numbers drawn) and captures the
 * page. Prints the two panels' final accuracies so the image can be checked
 * against the CLI (the web tests hold them equal).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { preview } from "vite";

const root = new URL("..", import.meta.url).pathname;
const out = process.argv[2] ?? join(root, "docs/app.png");
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
if (!CHROMIUM) { console.error("web-screenshot: no chromium (apt-get install -y chromium)"); process.exit(1); }
if (!existsSync(join(root, "web/dist/index.html"))) { console.error("web-screenshot: build the app first (npm run build:web)"); process.exit(1); }

const server = await preview({ configFile: join(root, "web/vite.config.ts"), preview: { port: 0 }, logLevel: "silent" });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(server.resolvedUrls!.local[0]);
  await page.waitForFunction(() => document.querySelector<HTMLElement>("#app")?.dataset.state === "paused", null, { timeout: 120000 });
  await page.click("#play");
  await page.waitForFunction(() => document.querySelector<HTMLElement>("#app")?.dataset.state === "done", null, { timeout: 600000 });
  const acc = await page.$$eval(".run .acc", (els) => els.map((e) => e.textContent?.trim()));
  await page.screenshot({ path: out, fullPage: true });
  console.log(`web-screenshot: ${out} (final accuracies on the page: ${acc.join(", ") || "not found"})`);
} finally {
  await browser.close();
  server.httpServer.close();
}
