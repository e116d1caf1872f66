/**
 * The browser-safe entry (src/browser.ts) has no Node built-in in its import
 * graph, so a bundler targeting the browser accepts it; the Node entry does
 * not, which shows the check can fail. The run in headless Chromium (and the
 * byte comparison with Node) is scripts/browser-bundle-check.mjs, in .ci/run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const bundle = (entry: string) => build({ entryPoints: [entry], bundle: true, format: "esm", platform: "browser", write: false, metafile: true, logLevel: "silent" });

test("the browser entry bundles for the browser platform with no Node built-in", async () => {
  const out = await bundle("src/browser.ts");
  const inputs = Object.keys(out.metafile.inputs);
  assert.ok(inputs.includes("src/nets/rnn/rnn.ts") && inputs.includes("src/meta/outer.ts"), "the engine, RNN and outer loop are in it");
  assert.deepEqual(inputs.filter((f) => f.startsWith("node:") || f.includes("node_modules/zod")), []);
  assert.ok(out.outputFiles[0].contents.length < 400_000, `bundle is ${out.outputFiles[0].contents.length} bytes`);
});

test("the Node entry is refused by the same bundle (so the check above can fail)", async () => {
  await assert.rejects(bundle("src/index.ts"), (e: Error) => /node:(fs|zlib|os|path|module|crypto)/.test(e.message));
});

test("package.json points the browser condition and ./core at the browser entry", () => {
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { exports: Record<string, Record<string, string>> };
  assert.equal(pkg.exports["."].browser, "./dist/browser.js");
  assert.equal(pkg.exports["."].default, "./dist/index.js");
  assert.equal(pkg.exports["./core"].default, "./dist/browser.js");
});
