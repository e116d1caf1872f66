import type { Rng } from "../core/rng.js";
import type { Dataset } from "./dataset-core.js";

export interface TaskOptions {
  /** N: classes per task. */
  way: number;
  /** K: training examples per class. */
  shots: number;
  /** Q: query examples per class, disjoint from the training ones. */
  query: number;
  /** Map the task's classes to 0 … N−1 (default: keep dataset labels, as published). */
  remap?: boolean;
}

/** One N-way K-shot task: example indices into the dataset, and the labels the network is trained on. */
export interface Task {
  classes: number[];
  trainIdx: Int32Array;
  trainLabels: Int32Array;
  queryIdx: Int32Array;
  queryLabels: Int32Array;
}

/** Check a task configuration against a dataset before any work starts. */
export function checkTaskOptions(ds: Dataset, o: TaskOptions): void {
  for (const [k, v] of [["way", o.way], ["shots", o.shots], ["query", o.query]] as const) {
    if (!Number.isInteger(v) || v < (k === "query" ? 0 : 1))
      throw new RangeError(`--${k} must be a ${k === "query" ? "non-negative" : "positive"} integer, got ${v}`);
  }
  const present = ds.byClass.filter((c) => c.length > 0);
  if (o.way > present.length) throw new RangeError(`--way ${o.way} is more classes than ${ds.source} has (${present.length})`);
  const smallest = Math.min(...present.map((c) => c.length));
  if (o.shots + o.query > smallest) {
    throw new RangeError(`K + Q = ${o.shots} + ${o.query} is more examples than the smallest class of ${ds.source} holds (${smallest})`);
  }
}

/**
 * Sample a task (PAPER.md "Tasks"): N classes without replacement; per class
 * K + Q distinct examples, the first K for training and the rest for the
 * query set; training order shuffled.
 */
export function sampleTask(ds: Dataset, o: TaskOptions, rng: Rng): Task {
  const pool = [];
  for (let c = 0; c < ds.byClass.length; c++) if (ds.byClass[c].length > 0) pool.push(c);
  const classes = rng.sample(pool, o.way);
  const trainIdx = new Int32Array(o.way * o.shots), trainLabels = new Int32Array(o.way * o.shots);
  const queryIdx = new Int32Array(o.way * o.query), queryLabels = new Int32Array(o.way * o.query);
  classes.forEach((c, k) => {
    const ex = ds.byClass[c];
    if (o.shots + o.query > ex.length) throw new RangeError(`K + Q = ${o.shots + o.query} is more examples than class ${c} holds (${ex.length})`);
    const pick = rng.sample(ex, o.shots + o.query);
    const label = o.remap ? k : c;
    for (let i = 0; i < o.shots; i++) { trainIdx[k * o.shots + i] = pick[i]; trainLabels[k * o.shots + i] = label; }
    for (let i = 0; i < o.query; i++) { queryIdx[k * o.query + i] = pick[o.shots + i]; queryLabels[k * o.query + i] = label; }
  });
  // Shuffle training order (indices and labels together).
  for (let i = trainIdx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    let t = trainIdx[i]; trainIdx[i] = trainIdx[j]; trainIdx[j] = t;
    t = trainLabels[i]; trainLabels[i] = trainLabels[j]; trainLabels[j] = t;
  }
  return { classes, trainIdx, trainLabels, queryIdx, queryLabels };
}
