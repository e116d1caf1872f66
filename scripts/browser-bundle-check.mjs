// The package bundles for browsers (issue: "The package bundles for browsers").
// test/browser/train-one.mjs imports the package by name; esbuild bundles it
// for the browser platform, which picks the `browser` export condition
// (dist/browser.js, no Node built-ins). The bundle trains one task and runs
// one meta-gradient episode in a headless Chromium worker; the same program
// run in Node (the Node entry) must give the same bytes. Needs `npm run build`.
import { existsSync, mkdirSync, mkdtempSync, copyFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { runInWorker } from "./chromium.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (!existsSync(join(root, "dist/browser.js"))) { console.error("browser-bundle-check: dist/browser.js missing (npm run build)"); process.exit(1); }
// A consumer's project: the program, with the package installed under node_modules.
const app = mkdtempSync(join(tmpdir(), "np-consumer-"));
let failed = false;
try {
  mkdirSync(join(app, "node_modules"));
  symlinkSync(root, join(app, "node_modules/neuroplastic"), "dir");
  copyFileSync(join(root, "test/browser/train-one.mjs"), join(app, "train-one.mjs"));
  const bundle = async (contents) => build({
    stdin: { contents, resolveDir: app, loader: "js" }, bundle: true, format: "iife", platform: "browser",
    target: "es2022", write: false, metafile: true, logLevel: "silent", preserveSymlinks: true,
  });
  const out = await bundle(`import { trainOne } from "./train-one.mjs";
try { postMessage({ ok: true, result: trainOne() }); } catch (e) { postMessage({ ok: false, error: String(e && e.stack || e) }); }`);
  const inputs = Object.keys(out.metafile.inputs).map((f) => relative(app, join(app, f)));
  const fromPackage = inputs.filter((f) => f.includes("node_modules/neuroplastic/"));
  if (!fromPackage.some((f) => f.endsWith("dist/browser.js")) || fromPackage.some((f) => f.endsWith("dist/index.js"))) {
    console.error("browser-bundle-check: the browser condition did not select dist/browser.js"); failed = true;
  }
  // The subpath resolves too.
  await bundle(`export * from "neuroplastic/core";`);
  const browser = runInWorker(out.outputFiles[0].text, { budgetMs: 60000 });
  if (!browser.ok) { console.error("browser-bundle-check: the bundle failed in Chromium:", browser.error); process.exit(1); }
  const { trainOne } = await import(pathToFileURL(join(app, "train-one.mjs")).href);
  const node = trainOne();
  const a = JSON.stringify(browser.result), b = JSON.stringify(node);
  console.log(`browser: ${a}\nnode:    ${b}`);
  console.log(`bundle: ${(out.outputFiles[0].contents.length / 1024).toFixed(0)} KiB from ${fromPackage.length} package modules`);
  if (!browser.result.wasm) { console.error("browser-bundle-check: WebAssembly SIMD unavailable in Chromium"); failed = true; }
  if (!(browser.result.acc > 0.5)) { console.error("browser-bundle-check: the task did not learn (acc", browser.result.acc + ")"); failed = true; }
  if (a !== b) { console.error("browser-bundle-check: Chromium and Node gave different results"); failed = true; }
} finally { rmSync(app, { recursive: true, force: true }); }
if (failed) process.exit(1);
console.log("browser-bundle-check: the package bundles for the browser and trains the same bytes in Chromium and Node");
