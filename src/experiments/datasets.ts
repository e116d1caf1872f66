import { totalmem } from "node:os";
import { loadDataset, type Dataset } from "../data/dataset.js";
import { setMemoryLimit, type RunConfig } from "./task.js";

// Node knows the machine's memory: a network needing more than half of it is refused (checkConfig).
setMemoryLimit(totalmem() / 2);

const cache = new Map<string, Dataset>();
/** Datasets are read once per thread. */
export function cachedDataset(cfg: Pick<RunConfig, "dataset" | "split" | "transpose" | "sparseLabels">): Dataset {
  const key = `${cfg.dataset}\0${cfg.split}\0${cfg.transpose}\0${cfg.sparseLabels ?? false}`;
  let ds = cache.get(key);
  if (ds === undefined) { ds = loadDataset(cfg.dataset, cfg.split, { transpose: cfg.transpose, sparseLabels: cfg.sparseLabels }); cache.set(key, ds); }
  return ds;
}
