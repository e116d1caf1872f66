/**
 * One run (rule A or B) in a Web Worker, on the library's WebAssembly
 * kernels: task after task through runTask — the same function `neuroplastic
 * train` runs, so the same seed gives the same numbers — posting each task's
 * score as it ends, and now and then the layers' diagnostics on a fixed probe
 * set and the first layer's rows (receptive fields).
 */
import { fromArrays, runTask, wasmAvailable, type RunConfig, type TaskResult } from "neuroplastic";

export interface StartMessage {
  type: "start";
  run: "a" | "b";
  cfg: RunConfig;
  images: Uint8Array;
  labels: Uint8Array;
  dims: [number, number, number];
  source: string;
  probeIdx: number[];
}

export interface TaskMessage {
  type: "task";
  run: "a" | "b";
  result: Omit<TaskResult, "saved" | "diagnostics">;
  /** Examples (or sequences) per second over the tasks so far, training and scoring included. */
  stepsPerSec: number;
  diagnostics?: TaskResult["diagnostics"];
  /** The first layer's first rows (MLP), or J (RNN), with their shape. */
  fields?: { data: Float32Array; rows: number; cols: number; count: number };
}

export type WorkerMessage = TaskMessage | { type: "done"; run: "a" | "b" } | { type: "error"; run: "a" | "b"; message: string } | { type: "ready"; wasm: boolean };

const ctx = self as unknown as { postMessage(m: WorkerMessage, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent) => void) | null };
let generation = 0;

ctx.onmessage = (e: MessageEvent) => {
  const m = e.data as StartMessage | { type: "stop" };
  generation++;
  if (m.type === "start") void train(m, generation);
};

const FIELDS = 16;

async function train(m: StartMessage, gen: number): Promise<void> {
  try {
    const [n, rows, cols] = m.dims;
    const ds = fromArrays(m.images, [n, rows, cols], m.labels, [n], m.source, "test");
    const probeLabels = m.probeIdx.map((i) => ds.labels[i]);
    let steps = 0, ms = 0, lastLook = -Infinity;
    // Measured after the task's last step (one pass of N·K examples per epoch).
    const end = m.cfg.way * m.cfg.shots * (m.cfg.epochs ?? 1);
    for (let t = 0; t < m.cfg.tasks; t++) {
      // Diagnostics and receptive fields cost about a task each: at most a few times a second.
      const look = performance.now() - lastLook > 350 || t === m.cfg.tasks - 1 || t === 0;
      const t0 = performance.now();
      const r = runTask(m.cfg, ds, t, look ? { at: [end], probeIdx: m.probeIdx, probeLabels } : undefined, 0, look);
      ms += performance.now() - t0;
      steps += r.steps;
      if (look) lastLook = performance.now();
      const { saved, diagnostics, ...result } = r;
      const msg: TaskMessage = { type: "task", run: m.run, result, stepsPerSec: steps / (ms / 1000) };
      const transfer: Transferable[] = [];
      if (look && diagnostics) msg.diagnostics = diagnostics;
      if (saved && !r.diverged) {
        const W = saved.tensors.find((x) => x.name === (m.cfg.net === "rnn" ? "J" : "W1"));
        if (W) {
          const [outRows, inCols] = W.shape;
          const count = m.cfg.net === "rnn" ? 1 : Math.min(FIELDS, outRows);
          const data = Float32Array.from(W.data.subarray(0, count * inCols * (m.cfg.net === "rnn" ? outRows : 1)));
          msg.fields = m.cfg.net === "rnn" ? { data, rows: outRows, cols: inCols, count } : { data, rows, cols, count };
          transfer.push(data.buffer);
        }
      }
      if (gen !== generation) return; // stopped or restarted
      ctx.postMessage(msg, transfer);
      // Let a stop or a new start arrive between tasks.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (gen !== generation) return;
    }
    ctx.postMessage({ type: "done", run: m.run });
  } catch (e) {
    if (gen === generation) ctx.postMessage({ type: "error", run: m.run, message: e instanceof Error ? e.message : String(e) });
  }
}

ctx.postMessage({ type: "ready", wasm: wasmAvailable() });
