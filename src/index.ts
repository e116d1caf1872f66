/** neuroplastic: the public library API for Node (the browser-safe core, plus files, datasets on disk, worker pools and the meta-training driver). */
export * from "./browser.js";
export { writeAtomic } from "./core/files.js";
export { parseIdx } from "./data/idx.js";
export { loadDataset, embeddedMnistDir } from "./data/dataset.js";
export { cachedDataset } from "./experiments/datasets.js";
export { registerTermsModule } from "./rules/registry.js";
export { train } from "./experiments/train.js";
export { closePools } from "./experiments/pool.js";
export { metaTrain, type MetaConfig } from "./experiments/meta-train.js";
