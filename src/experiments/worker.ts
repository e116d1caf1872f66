/**
 * Worker-thread entry: runs a chunk of tasks. Jobs are plain data; each
 * thread reads its datasets once.
 */
import { cachedDataset, runTask, type RunConfig, type TaskResult } from "./task.js";

export interface TrainJob { kind: "train"; cfg: RunConfig; tasks: number[] }
export type Job = TrainJob;

export default function run(job: Job): TaskResult[] {
  switch (job.kind) {
    case "train": {
      const ds = cachedDataset(job.cfg);
      return job.tasks.map((t) => runTask(job.cfg, ds, t));
    }
  }
}
