// Runs test/browser/check.ts in headless Chromium (in a Web Worker) and checks
// that the WebAssembly SIMD kernels agree with the plain ones there.
//   npm run test:browser        (needs: apt-get install -y chromium)
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { runInWorker } from "./chromium.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = await build({ entryPoints: [join(root, "test/browser/check.ts")], bundle: true, format: "iife", platform: "browser", write: false, target: "es2022" });
const r = runInWorker(out.outputFiles[0].text);
console.log(JSON.stringify(r));
if (!r.ok) { console.error("browser-check: FAILED"); process.exit(1); }
console.log("browser-check: wasm SIMD and plain kernels agree in Chromium (step:", r.plan + ")");
