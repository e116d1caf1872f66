/**
 * Where the app's time goes during a default run, and how its workers' CPU per
 * example compares with the CLI's:
 * `npm run build:web && node --import tsx scripts/web-profile.ts [#hash] [--no-profile] [--chromium-flag …]`.
 *
 * Runs a preset (default: Online, 100 tasks) in headless Chromium from Play
 * to done, and reads (1) the CPU time of every thread of that Chromium's
 * processes (/proc/…/task/…/schedstat, nanoseconds on the CPU), summed by
 * thread name, (2) unless --no-profile, a sampling profile of each Web
 * Worker (the DevTools protocol's Profiler domain on the workers' own
 * sessions), self time by function: function names need an unminified build
 * (`npx vite build --config web/vite.config.ts --minify false`). Then, per
 * rule, the CLI (`--workers 1 --backend wasm`, the page's kernels) in its own
 * process, and the same configuration through train() in this process with
 * its thread's CPU time. A gap in CPU per example is work the page does and
 * the CLI does not; a gap only in wall time is the machine. CPU time is less
 * sensitive to a shared machine than wall time, not immune (a busy sibling
 * hyperthread slows it: the same CLI run took 32–59 µs of CPU per step here
 * under different loads). Other arguments starting "--" go to Chromium (for
 * example --js-flags=--single-threaded, to see which thread pool work is
 * V8's). A measurement, not a test: nothing is asserted.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { preview } from "vite";

const root = new URL("..", import.meta.url).pathname;
/** The WebSocket client playwright-core bundles (Node 20 has none without a flag). */
interface Socket { on(e: "open", f: () => void): void; on(e: "message", f: (d: Buffer) => void): void; send(s: string): void; close(): void }
const WebSocket = (createRequire(import.meta.url)("playwright-core/lib/utilsBundle") as { ws: new (url: string) => Socket }).ws;
const profiling = !process.argv.includes("--no-profile");
const hash = process.argv.slice(2).find((a) => a.startsWith("#")) ?? "";
/** Other arguments starting "--" go to Chromium (for example --js-flags=…, to test what a background thread is doing). */
const extra = process.argv.slice(2).filter((a) => a.startsWith("--") && a !== "--no-profile");
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
if (!CHROMIUM) { console.error("web-profile: no chromium (apt-get install -y chromium)"); process.exit(1); }
if (!existsSync(join(root, "web/dist/index.html"))) { console.error("web-profile: build the app first (npm run build:web)"); process.exit(1); }
const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown CPU";

/** CPU nanoseconds of every thread of the process whose command line holds `mark` and of its descendants, keyed "pid/tid name". */
function threadTimes(mark: string): Map<string, number> {
  const parent = new Map<string, string>(), cmd = new Map<string, string>();
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      cmd.set(pid, readFileSync(`/proc/${pid}/cmdline`, "utf8"));
      parent.set(pid, readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[1]);
    } catch { /* the process ended */ }
  }
  const rootPid = [...cmd].find(([, c]) => c.includes(mark))?.[0];
  const under = (pid: string | undefined): boolean => pid !== undefined && pid !== "0" && pid !== "1" && (pid === rootPid || under(parent.get(pid)));
  const out = new Map<string, number>();
  for (const pid of cmd.keys()) {
    if (!under(pid)) continue;
    let tids: string[] = [];
    try { tids = readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tids) {
      try {
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
        const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
        out.set(`${pid}/${tid} ${name}`, ns);
      } catch { /* the thread ended */ }
    }
  }
  return out;
}

/** Thread CPU time spent between two readings, summed by thread name (ms). */
function byName(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const s = new Map<string, number>();
  for (const [k, v] of b) {
    const name = k.slice(k.indexOf(" ") + 1);
    s.set(name, (s.get(name) ?? 0) + (v - (a.get(k) ?? 0)) / 1e6);
  }
  return new Map([...s].filter(([, v]) => v > 1).sort((x, y) => y[1] - x[1]));
}

/** A minimal DevTools protocol client on the browser's socket, with flattened sessions (one per attached target). */
function cdp(url: string) {
  const sock = new WebSocket(url);
  let id = 0;
  const waiting = new Map<number, (r: any) => void>();
  const listeners: ((m: any) => void)[] = [];
  sock.on("message", (d: Buffer) => {
    const m = JSON.parse(d.toString());
    if (m.id !== undefined) waiting.get(m.id)?.(m.result ?? m.error);
    else for (const l of listeners) l(m);
  });
  return {
    open: new Promise<void>((r) => sock.on("open", () => r())),
    send: (method: string, params: object = {}, sessionId?: string) => new Promise<any>((resolve) => {
      waiting.set(++id, resolve);
      sock.send(JSON.stringify({ id, method, params, sessionId }));
    }),
    on: (l: (m: any) => void) => listeners.push(l),
    close: () => sock.close(),
  };
}

const port = 9300 + Math.floor(Math.random() * 600);
const server = await preview({ configFile: join(root, "web/vite.config.ts"), preview: { port: 0 }, logLevel: "silent" });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", `--remote-debugging-port=${port}`, ...extra] });
console.log(`web-profile: ${cpu}, load average ${loadavg().map((x) => x.toFixed(1)).join(" ")} at the start`);
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // The page ends its workers when a run is done: held back here (they are idle by then) so their profiles can be read.
  await page.addInitScript(() => { Worker.prototype.terminate = function () { /* read the profile first */ }; });
  await page.goto(server.resolvedUrls!.local[0] + hash);
  await page.waitForFunction(() => document.querySelector<HTMLElement>("#app")?.dataset.state === "paused", null, { timeout: 120000 });
  const version = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json() as { webSocketDebuggerUrl: string };
  const c = cdp(version.webSocketDebuggerUrl);
  await c.open;
  const workers: { sessionId: string; title: string }[] = [];
  c.on((m) => { if (m.method === "Target.attachedToTarget" && m.params.targetInfo.type === "worker") workers.push({ sessionId: m.params.sessionId, title: m.params.targetInfo.title }); });
  const { targetInfos } = await c.send("Target.getTargets");
  const target = (targetInfos as { type: string; targetId: string; url: string }[]).find((t) => t.type === "page" && t.url.startsWith(server.resolvedUrls!.local[0]))!;
  const { sessionId } = await c.send("Target.attachToTarget", { targetId: target.targetId, flatten: true });
  await c.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }, sessionId);
  for (let k = 0; k < 50 && workers.length < 2; k++) await new Promise((r) => setTimeout(r, 100));
  for (const w of profiling ? workers : []) {
    await c.send("Profiler.enable", {}, w.sessionId);
    await c.send("Profiler.setSamplingInterval", { interval: 100 }, w.sessionId);
    await c.send("Profiler.start", {}, w.sessionId);
  }
  const before = threadTimes(`--remote-debugging-port=${port}`);
  const t0 = performance.now();
  await page.click("#play");
  await page.waitForFunction(() => document.querySelector<HTMLElement>("#app")?.dataset.state === "done", null, { timeout: 600000, polling: 100 });
  const wall = performance.now() - t0;
  const after = threadTimes(`--remote-debugging-port=${port}`);
  const rates = await page.$$eval(".run .rate", (els) => els.map((e) => Number((e as HTMLElement).dataset.rate)));
  const command = (await page.textContent("#cli"))!;
  console.log(`page: ${(wall / 1000).toFixed(2)} s from Play to done; steps/s shown A ${Math.round(rates[0])} B ${Math.round(rates[1])}`);
  const busy = await page.$$eval(".run .rate", (els) => els.map((e) => JSON.parse((e as HTMLElement).dataset.busy ?? "null") as { train: number } | null));
  const times = byName(before, after);
  console.log("CPU time per thread name over the run (ms):");
  for (const [name, ms] of times) console.log(`  ${name.padEnd(24)} ${ms.toFixed(0)}`);
  // Both workers' examples (each rule's rate over the time it counts; the first task, run before Play, among them), against their CPU.
  const steps = busy.every((b) => b) ? busy.reduce((sm, b, i) => sm + (rates[i] * b!.train) / 1000, 0) : NaN;
  console.log(`page workers: ${Math.round(steps)} examples, ${(1000 * (times.get("DedicatedWorker") ?? NaN) / steps).toFixed(1)} µs of CPU per example (diagnostics and views included)`);
  for (const w of profiling ? workers : []) {
    const { profile } = await c.send("Profiler.stop", {}, w.sessionId) as { profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[]; timeDeltas: number[] } };
    const self = new Map<string, number>();
    const node = new Map(profile.nodes.map((n) => [n.id, n]));
    let total = 0;
    profile.samples.forEach((s, i) => {
      const f = node.get(s)!.callFrame, dt = profile.timeDeltas[i + 1] ?? 0;
      const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + dt / 1000);
      total += dt / 1000;
    });
    console.log(`worker ${w.title}: ${total.toFixed(0)} ms sampled; self time by function:`);
    for (const [k, ms] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`  ${(100 * ms / total).toFixed(1).padStart(5)}% ${ms.toFixed(0).padStart(6)} ms  ${k}`);
  }
  c.close();
  // The CLI on each rule alone, one core, the page's kernels (--workers 1 runs a short job in its own thread): the rule's
  // configuration as the CLI resolves it, then train() in this process, timing its thread's CPU as the page's worker's.
  const args = command.replace(/^neuroplastic /, "").split(/\s+/);
  const ruleAt = args.flatMap((a, i) => (a === "--rule" ? [i] : []));
  const { train } = await import(join(root, "dist/experiments/train.js"));
  const { cachedDataset } = await import(join(root, "dist/experiments/datasets.js"));
  const threadNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]);
  for (const [k, at] of ruleAt.entries()) {
    const one = args.filter((_, i) => !ruleAt.some((r) => r !== at && (i === r || i === r + 1)));
    const r = spawnSync(process.execPath, [join(root, "dist/cli/main.js"), ...one, "--json", "--workers", "1", "--backend", "wasm"], { encoding: "utf8" });
    const j = JSON.parse(r.stdout.trim().split("\n")[0]) as { steps_per_s: number; seconds: number; acc: number; config: object };
    cachedDataset(j.config);
    const c0 = threadNs(), w0 = performance.now(), u0 = process.cpuUsage();
    const o = (await train(j.config, 1)) as { steps_per_s: number; acc: number; results: { steps: number }[] };
    const u = process.cpuUsage(u0), allMs = (u.user + u.system) / 1000;
    const cpuMs = (threadNs() - c0) / 1e6, wallMs = performance.now() - w0, steps = o.results.reduce((s, x) => s + x.steps, 0);
    console.log(`CLI rule ${"AB"[k]}: ${Math.round(j.steps_per_s)} steps/s over ${j.seconds.toFixed(2)} s (its own process); in process: ` +
      `${Math.round(o.steps_per_s)} steps/s, ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms of its thread's CPU (${allMs.toFixed(0)} ms all threads), ${(1000 * cpuMs / steps).toFixed(1)} µs CPU per step, acc ${o.acc}`);
  }
} finally {
  await browser.close();
  server.httpServer.close();
}
