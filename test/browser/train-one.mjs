// A small program that uses only the package's public entry ("neuroplastic"):
// it builds a synthetic dataset from bytes, trains one task online with
// bp + Oja, runs one meta-gradient episode, and returns what came out.
// scripts/browser-bundle-check.mjs bundles it for the browser platform, runs
// it in headless Chromium, runs it again in Node, and requires the same bytes.
import { DEFAULT_CONFIG, Rng, fromArrays, freshStep, loadPixels, evaluate, metaLayout, runEpisode, wasmAvailable } from "neuroplastic";

/** 5 classes of 8 × 8 images: a random prototype per class plus noise, as IDX-like bytes. */
function syntheticDataset(split) {
  const r = new Rng(split === "train" ? 11 : 12), C = 5, per = 60, dim = 64;
  const protos = Array.from({ length: C }, () => Array.from({ length: dim }, () => (r.uniform() < 0.3 ? 200 : 0)));
  const images = new Uint8Array(C * per * dim), labels = new Uint8Array(C * per);
  for (let i = 0; i < C * per; i++) {
    const c = i % C; labels[i] = c;
    for (let j = 0; j < dim; j++) images[i * dim + j] = Math.max(0, Math.min(255, Math.round(protos[c][j] + 40 * r.normal())));
  }
  return fromArrays(images, [C * per, 8, 8], labels, [C * per], `synthetic:${split}`, split);
}

/** FNV-1a over the bytes of a float array: a digest of the trained weights. */
function digest(a) {
  const b = new Uint8Array(Float32Array.from(a).buffer);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) { h ^= b[i]; h = Math.imul(h, 0x01000193) >>> 0; }
  return h.toString(16).padStart(8, "0");
}

export function trainOne() {
  const ds = syntheticDataset("test");
  const cfg = { ...DEFAULT_CONFIG, hidden: [32, 16], way: 5, shots: 40, query: 10, tasks: 1, seed: 3 };
  const { step, task } = freshStep(cfg, ds, 0);
  for (let i = 0; i < task.trainIdx.length; i++) { loadPixels(step.x, ds.images, task.trainIdx[i], ds.dim); step.step(task.trainLabels[i]); }
  step.finish();
  const sc = evaluate(step.net, ds.images, ds.dim, task.queryIdx, task.queryLabels);
  const ep = runEpisode(cfg, ds, 0, metaLayout(["bp", "oja"], step.net.S, false), [0.01, 0.005], {});
  return { wasm: wasmAvailable(), plan: step.name, acc: sc.acc, loss: sc.loss, weights: digest(step.net.params), metaLoss: ep.loss, metaGrad: Array.from(ep.grad) };
}
