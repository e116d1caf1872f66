// Headless Chromium for the browser checks: run a bundled script in a Web
// Worker (where synchronous WebAssembly compilation is allowed) of a file://
// page and return the one value it posts.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function chromiumPath() {
  const p = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
  if (!p) { console.error("browser check: no chromium (apt-get install -y chromium)"); process.exit(1); }
  return p;
}

/** Run `workerSource` in a worker of a headless Chromium page; resolves to the first message it posts. */
export function runInWorker(workerSource, { budgetMs = 20000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "np-browser-"));
  try {
    const page = `<!doctype html><meta charset="utf-8"><title>pending</title><pre id="out">pending</pre><script>
const src = ${JSON.stringify(workerSource).replace(/</g, "\\u003c")};
const w = new Worker(URL.createObjectURL(new Blob([src], { type: "text/javascript" })));
w.onmessage = (e) => { document.getElementById("out").textContent = "RESULT " + JSON.stringify(e.data); };
w.onerror = (e) => { document.getElementById("out").textContent = "RESULT " + JSON.stringify({ ok: false, error: e.message }); };
</script>`;
    writeFileSync(join(dir, "index.html"), page);
    const dom = execFileSync(chromiumPath(), ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", `--user-data-dir=${join(dir, "profile")}`, `--virtual-time-budget=${budgetMs}`, "--dump-dom", `file://${join(dir, "index.html")}`],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 180000 });
    const m = dom.match(/RESULT (\{.*\})/);
    if (!m) { console.error("browser check: no result from the page"); process.exit(1); }
    return JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"));
  } finally { rmSync(dir, { recursive: true, force: true }); }
}
