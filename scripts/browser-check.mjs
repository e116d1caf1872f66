// Runs test/browser/check.ts in headless Chromium (in a Web Worker, where
// synchronous WebAssembly compilation is allowed) and checks its result.
//   npm run test:browser        (needs: apt-get install -y chromium)
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
if (!chromium) { console.error("browser-check: no chromium (apt-get install -y chromium)"); process.exit(1); }
const out = await build({ entryPoints: [join(root, "test/browser/check.ts")], bundle: true, format: "iife", platform: "browser", write: false, target: "es2022" });
const worker = out.outputFiles[0].text;
const dir = mkdtempSync(join(tmpdir(), "np-browser-"));
const page = `<!doctype html><meta charset="utf-8"><title>pending</title><pre id="out">pending</pre><script>
const src = ${JSON.stringify(worker)};
const w = new Worker(URL.createObjectURL(new Blob([src], { type: "text/javascript" })));
w.onmessage = (e) => { document.getElementById("out").textContent = "RESULT " + JSON.stringify(e.data); };
w.onerror = (e) => { document.getElementById("out").textContent = "RESULT " + JSON.stringify({ ok: false, error: e.message }); };
</script>`;
writeFileSync(join(dir, "index.html"), page);
const dom = execFileSync(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", `--user-data-dir=${join(dir, "profile")}`, "--virtual-time-budget=20000", "--dump-dom", `file://${join(dir, "index.html")}`],
  { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 120000 });
const m = dom.match(/RESULT (\{.*\})/);
if (!m) { console.error("browser-check: no result from the page"); process.exit(1); }
const r = JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, "&"));
console.log(JSON.stringify(r));
if (!r.ok) { console.error("browser-check: FAILED"); process.exit(1); }
console.log("browser-check: wasm SIMD and plain kernels agree in Chromium (step:", r.plan + ")");
