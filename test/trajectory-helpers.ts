/**
 * The one place test/trajectory.test.ts touches the engine's construction API
 * (it changes with the API; the frozen hashes do not).
 */
import type { DType } from "../src/core/kernels.js";
import type { Dataset } from "../src/data/dataset.js";
import { loadPixels } from "../src/data/pixels.js";
import type { Task } from "../src/data/tasks.js";
import { freshStep, type RunConfig } from "../src/experiments/task.js";

export function freshPlasticStep(cfg: RunConfig, ds: Dataset, t: number, dtype: DType): { step: (idx: number, label: number) => void; task: Task; params: () => ArrayLike<number> } {
  const { step, task } = freshStep(cfg, ds, t, dtype);
  return {
    task,
    step: (idx, label) => { loadPixels(step.x, ds.images, idx, ds.dim); step.step(label); },
    params: () => { step.finish(); return step.net.params; },
  };
}
