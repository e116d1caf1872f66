/**
 * How smooth the app is, and how its step rate compares with the CLI's:
 * `npm run build:web && node --import tsx scripts/web-fps.ts [rounds]`.
 *
 * Each round runs the default preset (Online, 100 tasks) in headless Chromium
 * at 1280×800 from Play to done, counting animation frames (requestAnimationFrame
 * callbacks per second, in one-second windows) and the main thread's long
 * tasks (PerformanceObserver "longtask", > 50 ms), and reading the step rate
 * each panel shows; then it runs the command in the page's CLI box with
 * `--json --backend wasm` (the page's kernels), twice, and once per rule on the CLI's default
 * backend (`auto`: native when built, as a user runs the copied command). The page gives each rule one worker (one core each, the two
 * rules at once), so like is compared with like in three ways: per rule, the
 * page's rate against `--workers 1` run alone (one core for that rule, the
 * machine otherwise idle); per rule, against the two rules' CLI runs at once,
 * one process each (each shares the machine as a page worker does); and the whole run, both rules' examples over the page's wall time from Play
 * to done against the same examples over the CLI's wall time with
 * `--workers 2` (both cores, as the page uses both). Page and CLI alternate,
 * so a slow spell of a shared machine hits both. Prints one line per round
 * and the medians. A measurement, not a test: nothing is asserted. With
 * --doc it also writes its section of docs/benchmarks.md (between the
 * bench:web markers, which `npm run bench -- --doc` keeps).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { preview } from "vite";

const root = new URL("..", import.meta.url).pathname;
const rounds = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 3);
const doc = process.argv.includes("--doc");
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
if (!CHROMIUM) { console.error("web-fps: no chromium (apt-get install -y chromium)"); process.exit(1); }
if (!existsSync(join(root, "web/dist/index.html"))) { console.error("web-fps: build the app first (npm run build:web)"); process.exit(1); }

const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown CPU";
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

/** Runs in the page (a string: tsx would wrap named functions in a helper the page lacks): Play, then frames and long tasks until done. */
const MEASURE = `new Promise((resolve) => {
  let longMs = 0;
  new PerformanceObserver((l) => { for (const e of l.getEntries()) longMs += e.duration; }).observe({ type: "longtask" });
  const windows = [];
  const t0 = performance.now();
  let start = t0, frames = 0;
  function tick(now) {
    frames++;
    if (now - start >= 1000) { windows.push((frames * 1000) / (now - start)); frames = 0; start = now; }
    if (document.querySelector("#app").dataset.state === "done") resolve({ windows, longMs, ms: performance.now() - t0 });
    else requestAnimationFrame(tick);
  }
  document.querySelector("#play").click();
  requestAnimationFrame(tick);
})`;

const server = await preview({ configFile: join(root, "web/vite.config.ts"), preview: { port: 0 }, logLevel: "silent" });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const chromiumVersion = `Chromium ${browser.version()}`;
console.log(`web-fps: ${cpu}, ${rounds} rounds, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")} at the start`);
const loadAtStart = loadavg();
const rows: {
  auto: number[]; fps: number; fpsLow: number; busy: number; page: number[]; cli: number[]; atOnce: number[]; whole: { page: number; cli: number }; seconds: number;
  besides: { diagnostics: number; views: number }[]; load: number;
}[] = [];
try {
  for (let k = 0; k < rounds; k++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.resolvedUrls!.local[0]);
    await page.waitForFunction(() => document.querySelector<HTMLElement>("#app")?.dataset.state === "paused", null, { timeout: 120000 });
    const m = (await page.evaluate(MEASURE)) as { windows: number[]; longMs: number; ms: number };
    const pageRates = await page.$$eval(".run .rate", (els) => els.map((e) => Number((e as HTMLElement).dataset.rate)));
    // The worker's time besides what the rate counts (the CLI's steps/s: fresh networks, steps, scoring).
    const busy = await page.$$eval(".run .rate", (els) => els.map((e) => JSON.parse((e as HTMLElement).dataset.busy ?? "null") as { train: number; diagnostics: number; views: number } | null));
    const command = (await page.textContent("#cli"))!;
    await page.close();
    const args = command.replace(/^neuroplastic /, "").split(/\s+/);
    const cliRun = (workers: number, backend = "wasm") => {
      // The page runs the WebAssembly kernels (browsers have no native addon): the CLI runs them too, the same settings.
      // backend "auto": the CLI as a user runs the copied command (the native kernels when they are built).
      const r = spawnSync(process.execPath, [join(root, "dist/cli/main.js"), ...args, "--json", "--workers", String(workers), "--backend", backend], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(r.stderr);
      return r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { steps_per_s: number; seconds: number });
    };
    // Per rule under the page's conditions: the two rules at once, one process and one core each (the page's two
    // workers), so each CLI run shares the machine as each page worker does; the difference left is the page's own
    // work (rendering, snapshots, the browser's processes).
    const ruleAt = args.flatMap((a, i) => (a === "--rule" ? [i] : []));
    const alone = (keep: number) => args.filter((_, i) => !ruleAt.some((r, k) => k !== keep && (i === r || i === r + 1)));
    const atOnce = await Promise.all(ruleAt.map((_, k) => new Promise<number>((resolve, reject) => {
      const c = spawn(process.execPath, [join(root, "dist/cli/main.js"), ...alone(k), "--json", "--workers", "1", "--backend", "wasm"]);
      let out = "", err = "";
      c.stdout.on("data", (d) => (out += d)); c.stderr.on("data", (d) => (err += d));
      c.on("close", (code) => (code === 0 ? resolve((JSON.parse(out.trim().split("\n")[0]) as { steps_per_s: number }).steps_per_s) : reject(new Error(err))));
    })));
    const one = cliRun(1), two = cliRun(2), auto = cliRun(1, "auto").map((x) => x.steps_per_s);
    const cliRates = one.map((x) => x.steps_per_s);
    // Both rules' examples (the CLI counts the same ones the page trains).
    const examples = two.reduce((sm, x) => sm + x.steps_per_s * x.seconds, 0);
    const whole = { page: examples / (m.ms / 1000), cli: examples / two.reduce((sm, x) => sm + x.seconds, 0) };
    const sorted = [...m.windows].sort((a, b) => a - b);
    const row = {
      auto, fps: median(m.windows), fpsLow: sorted[Math.floor(sorted.length / 10)] ?? NaN, busy: m.longMs / m.ms, page: pageRates, cli: cliRates, atOnce, whole,
      seconds: m.ms / 1000, besides: busy.map((b) => ({ diagnostics: b ? b.diagnostics / b.train : NaN, views: b ? b.views / b.train : NaN })), load: loadavg()[0],
    };
    rows.push(row);
    const besides = busy.map((b) => (b ? `${Math.round((100 * b.diagnostics) / b.train)}% diagnostics, ${Math.round((100 * b.views) / b.train)}% live views` : "not reported")).join("; B ");
    console.log(`round ${k + 1}: ${(m.ms / 1000).toFixed(1)} s, median ${row.fps.toFixed(0)} frames/s (10th percentile ${row.fpsLow.toFixed(0)}), long tasks ${(100 * row.busy).toFixed(0)}% of the time; ` +
      `the workers' time besides their rate's: A ${besides}; ` +
      `steps/s per rule: page A ${Math.round(pageRates[0])} B ${Math.round(pageRates[1])}, CLI --workers 1 A ${Math.round(cliRates[0])} B ${Math.round(cliRates[1])} ` +
      `(CLI/page ${(cliRates[0] / pageRates[0]).toFixed(2)}, ${(cliRates[1] / pageRates[1]).toFixed(2)}); the CLI's default backend alone A ${Math.round(auto[0])} B ${Math.round(auto[1])} ` +
      `(CLI/page ${(auto[0] / pageRates[0]).toFixed(2)}, ${(auto[1] / pageRates[1]).toFixed(2)}); the two rules at once, one CLI process each: A ${Math.round(atOnce[0])} B ${Math.round(atOnce[1])} ` +
      `(CLI/page ${(atOnce[0] / pageRates[0]).toFixed(2)}, ${(atOnce[1] / pageRates[1]).toFixed(2)}); whole run, both rules: page ${Math.round(whole.page)}, ` +
      `CLI --workers 2 ${Math.round(whole.cli)} (CLI/page ${(whole.cli / whole.page).toFixed(2)})`);
  }
} finally {
  await browser.close();
  server.httpServer.close();
}
const ratios = (i: number, of: "cli" | "atOnce" | "auto") => rows.map((x) => x[of][i] / x.page[i]);
/** Median and range over the rounds. */
const spread = (xs: number[], d = 2) => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;
console.log(`median (range) over ${rows.length} rounds: ${spread(rows.map((x) => x.fps), 0)} frames/s, long tasks ${(100 * median(rows.map((x) => x.busy))).toFixed(0)}% of the time; ` +
  `CLI/page step rate per rule (CLI --workers 1 alone) A ${spread(ratios(0, "cli"))}, B ${spread(ratios(1, "cli"))}; ` +
  `(the CLI's default backend, --workers 1 alone) A ${spread(ratios(0, "auto"))}, B ${spread(ratios(1, "auto"))}; ` +
  `(the two rules at once, one CLI process each) A ${spread(ratios(0, "atOnce"))}, B ${spread(ratios(1, "atOnce"))}; ` +
  `whole run (CLI --workers 2) ${spread(rows.map((x) => x.whole.cli / x.whole.page))}; load average ${loadavg().map((x) => x.toFixed(1)).join(" ")} at the end`);

if (doc) {
  const r2 = (x: number) => x.toFixed(2), int = (x: number) => Math.round(x).toLocaleString("en-US");
  const section = [
    "<!-- bench:web -->",
    "## The app against the CLI (`npm run bench:web`)",
    "",
    `Measured by \`npm run bench:web -- ${rounds} --doc\` on ${cpu} (${readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length ?? "?"} cores), Node ${process.version}, ` +
      `${chromiumVersion}, ${new Date().toISOString().slice(0, 10)}; load average ${loadAtStart.map((x) => x.toFixed(1)).join(" ")} at the start, ` +
      `${loadavg().map((x) => x.toFixed(1)).join(" ")} at the end (the bench keeps both cores busy itself: a load near 2 is its own). Each round: the Online preset (100 tasks, the paper's network, A bp, B bp + Oja) in headless Chromium at ` +
      "1280 × 800 from Play to done, then the CLI on the command the page offers, on the page's kernels (`--backend wasm`): each rule with `--workers 1` alone, " +
      "each rule alone on the CLI's default backend (`auto`: native when the addon is built, as a user runs the copied command), " +
      "the two rules at once (one process each, as the page's two workers), and both rules with `--workers 2` (the whole run). The page's rate counts what the " +
      "CLI's steps/s counts (fresh networks, online steps, scoring); the diagnostics and live views it also computes are the last column, as a share added to that time.",
    "",
    "| round | Play to done (s) | frames/s, median (10th pct.) | long tasks | page A, B (steps/s) | CLI alone A, B | CLI/page alone A, B | CLI/page alone, default backend A, B | CLI at once A, B | CLI/page at once A, B | whole run CLI/page | diagnostics, live views (A; B) | load (1 min) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map((x, k) => `| ${k + 1} | ${x.seconds.toFixed(1)} | ${x.fps.toFixed(0)} (${x.fpsLow.toFixed(0)}) | ${(100 * x.busy).toFixed(0)}% | ${int(x.page[0])}, ${int(x.page[1])} | ` +
      `${int(x.cli[0])}, ${int(x.cli[1])} | ${r2(x.cli[0] / x.page[0])}, ${r2(x.cli[1] / x.page[1])} | ${r2(x.auto[0] / x.page[0])}, ${r2(x.auto[1] / x.page[1])} | ${int(x.atOnce[0])}, ${int(x.atOnce[1])} | ` +
      `${r2(x.atOnce[0] / x.page[0])}, ${r2(x.atOnce[1] / x.page[1])} | ${r2(x.whole.cli / x.whole.page)} | ` +
      `${x.besides.map((b) => `+${(100 * b.diagnostics).toFixed(0)}%, +${(100 * b.views).toFixed(0)}%`).join("; ")} | ${x.load.toFixed(1)} |`),
    "",
    `Medians (ranges) over the ${rows.length} rounds: ${spread(rows.map((x) => x.fps), 0)} frames/s; CLI/page per rule against \`--workers 1\` alone ` +
      `A ${spread(ratios(0, "cli"))}, B ${spread(ratios(1, "cli"))}; against the default backend alone A ${spread(ratios(0, "auto"))}, B ${spread(ratios(1, "auto"))}; against the two rules at once A ${spread(ratios(0, "atOnce"))}, B ${spread(ratios(1, "atOnce"))}; ` +
      `whole run ${spread(rows.map((x) => x.whole.cli / x.whole.page))}.`,
    "<!-- /bench:web -->",
    "",
  ].join("\n");
  const file = join(root, "docs/benchmarks.md");
  const old = readFileSync(file, "utf8"), re = /<!-- bench:web -->[\s\S]*?<!-- \/bench:web -->\n/;
  writeFileSync(file, re.test(old) ? old.replace(re, section) : old.replace(/\n*$/, "\n\n") + section);
  console.log("wrote docs/benchmarks.md (the bench:web section)");
}
