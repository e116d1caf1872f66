/**
 * The browser's online step rate, for `npm run bench`: the same bare-step
 * loop as the Node rows (paper network, bp + Oja, MNIST test split, tasks
 * from the same streams), bundled for the browser from the package's browser
 * entry and run in a Web Worker of headless Chromium (playwright-core).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { embeddedMnistDir } from "../src/data/dataset.js";

const root = new URL("..", import.meta.url).pathname;
export const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);

const WORKER = `
import { DEFAULT_CONFIG, freshStep, fromArrays, loadPixels, parseIdx } from "${join(root, "src/browser.ts")}";
onmessage = (e) => {
  const { images, labels, theta, reps, steps } = e.data;
  const img = parseIdx(new Uint8Array(images)), lbl = parseIdx(new Uint8Array(labels));
  const ds = fromArrays(img.data, img.dims, lbl.data, lbl.dims, "mnist:test", "test");
  const cfg = { ...DEFAULT_CONFIG, tasks: 1, theta, backend: "wasm" };
  const rates = [];
  for (let r = -1; r < reps; r++) {
    const { step, task } = freshStep(cfg, ds, r + 1);
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      const k = i % task.trainIdx.length;
      loadPixels(step.x, ds.images, task.trainIdx[k], ds.dim);
      step.step(task.trainLabels[k]);
    }
    if (r >= 0) rates.push(steps / ((performance.now() - t0) / 1000));
  }
  postMessage({ rates, userAgent: navigator.userAgent });
};`;

/** Median steps/s of `reps` runs of `steps` bare steps in a Chromium worker (the first run warms up and is dropped). */
export async function browserStepRate(theta: Record<string, number>, reps: number, steps: number): Promise<{ rate: number; userAgent: string }> {
  if (!CHROMIUM) throw new Error("no chromium (apt-get install -y chromium)");
  const bundle = (await build({ stdin: { contents: WORKER, resolveDir: root, loader: "js" }, bundle: true, format: "iife", platform: "browser", write: false, target: "es2022", logLevel: "silent" })).outputFiles[0].text;
  const dir = embeddedMnistDir();
  const files: Record<string, Buffer> = { "/images": readFileSync(join(dir, "t10k-images-idx3-ubyte")), "/labels": readFileSync(join(dir, "t10k-labels-idx1-ubyte")) };
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage();
    await page.route("http://bench.local/**", (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === "/worker.js") return route.fulfill({ body: bundle, contentType: "text/javascript" });
      if (files[path]) return route.fulfill({ body: files[path], contentType: "application/octet-stream" });
      return route.fulfill({ body: "<!doctype html><title>bench</title>", contentType: "text/html" });
    });
    await page.goto("http://bench.local/");
    const out = await page.evaluate(async ({ theta, reps, steps }) => {
      const [images, labels] = await Promise.all(["/images", "/labels"].map(async (p) => (await fetch(p)).arrayBuffer()));
      const w = new Worker("/worker.js");
      return new Promise<{ rates: number[]; userAgent: string }>((resolve, reject) => {
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => reject(new Error(e.message));
        w.postMessage({ images, labels, theta, reps, steps }, [images, labels]);
      });
    }, { theta, reps, steps });
    const s = [...out.rates].sort((a, b) => a - b);
    return { rate: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2, userAgent: out.userAgent };
  } finally { await browser.close(); }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await browserStepRate({ bp: 0.0068, oja: 0.0053 }, 5, 2000);
  console.log(`${Math.round(r.rate)} steps/s in ${r.userAgent}`);
}
