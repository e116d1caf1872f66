/**
 * One run (rule A or B) in a Web Worker, on the library's WebAssembly
 * kernels: task after task through taskSteps — runTask's own steps, so the
 * same seed gives the numbers `neuroplastic train` prints — posting each
 * task's score as it ends, a few times a second (and after the last step of a
 * task slower than that) the progress inside the task (the example just trained on, the network's answer,
 * its weights for the diagram, the learning curve), and now and then the
 * layers' diagnostics on a fixed probe set (announced before they are measured:
 * a large network's take seconds) and the first layer's rows (receptive fields).
 *
 * Its step rate counts what the CLI's steps/s counts (each task's fresh
 * network, its online steps, its scoring); the diagnostics and the page's
 * live views are timed apart, and the diagnostics kept to a small share of
 * the worker's time (a probe of the paper's network costs several tasks).
 *
 * Every message carries its run's id; the page ends a run by terminating the
 * worker, so nothing of an old run can reach a new one. Pause holds between
 * two online steps; Step runs until one more task has ended.
 */
import {
  fromArrays, networkOf, registerExpressionTerm, taskSteps, wasmAvailable, type Dataset, type PlasticNetwork, type RunConfig, type TaskProgress, type TaskResult,
} from "neuroplastic";
import { answers, snapshot, type Snapshot } from "./snapshot.js";
import { CSP_HINT } from "./state.js";

export interface StartMessage {
  type: "start";
  id: number;
  run: "a" | "b";
  cfg: RunConfig;
  images: Uint8Array;
  labels: Uint8Array;
  dims: [number, number, number];
  source: string;
  /** The probe set (empty: no diagnostics, the network being too large to probe within the page's budget). */
  probeIdx: number[];
  /** Query accuracy every k examples inside a task (the CLI's --curve k; 0: none). */
  curveEvery: number;
  /** The page's control count when the run started (see ControlMessage). */
  seq: number;
  /** Hold once this many tasks have ended (0: before the first step; null: never). */
  holdAfter: number | null;
  /** Terms of one's own (`name = formula`), registered here before the run, as the CLI's --term. */
  terms: string[];
}

/** seq: the page's count of control messages, echoed by "held" so a hold that a later Play overtook is recognised. */
export type ControlMessage = { type: "play" | "pause" | "step"; seq: number };

export interface TaskMessage {
  type: "task";
  id: number;
  run: "a" | "b";
  result: Omit<TaskResult, "saved" | "diagnostics">;
  /**
   * Examples (or sequences) per second over the tasks so far, of the time spent as the CLI's steps/s spends it
   * (each task's fresh network, online steps and scoring); the diagnostics, the page's snapshots and pauses excluded.
   */
  stepsPerSec: number;
  /** The worker's time so far (ms): that training (as stepsPerSec counts it), the diagnostics, the live views (snapshots, answers). */
  busy: { train: number; diagnostics: number; views: number };
  diagnostics?: TaskResult["diagnostics"];
  /** The first layer's first rows (MLP), or J (RNN), with their shape. */
  fields?: { data: Float32Array; rows: number; cols: number; count: number };
}

/** Where the current task stands, a few times a second. */
export interface ProgressMessage {
  type: "progress"; id: number; run: "a" | "b"; task: number; done: number; total: number;
  curve: { step: number; acc: number }[];
  /** null: the task is being set up (fresh weights), no step taken yet. */
  snap: Snapshot | null;
  /** After the task's last step: answers on a few of its query examples. */
  query?: { index: number; pred: number }[];
}

/** The task's training and scoring have ended and its diagnostics are being measured on `count` probe images. */
export interface MeasuringMessage { type: "measuring"; id: number; run: "a" | "b"; task: number; count: number }

export type WorkerMessage = TaskMessage | ProgressMessage | MeasuringMessage
  | { type: "done"; id: number; run: "a" | "b" } | { type: "held"; id: number; run: "a" | "b"; task: number; done: number; seq: number }
  | { type: "error"; id: number; run: "a" | "b"; message: string } | { type: "ready"; wasm: boolean };

const ctx = self as unknown as { postMessage(m: WorkerMessage, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent) => void) | null };

let paused = false;
/** Step: run until this many tasks have ended, then hold. */
let holdAfter = Infinity;
let wake: (() => void) | null = null;

ctx.onmessage = (e: MessageEvent) => {
  const m = e.data as StartMessage | ControlMessage;
  if (m.type === "start") { seq = m.seq; holdAfter = m.holdAfter ?? Infinity; paused = holdAfter === 0; void train(m); return; }
  seq = m.seq;
  if (m.type === "play") { paused = false; holdAfter = Infinity; }
  else if (m.type === "pause") paused = true;
  else if (m.type === "step") { paused = false; holdAfter = tasksEnded + 1; }
  wake?.();
};

let tasksEnded = 0, seq = 0;
const FIELDS = 16;
/** Query digits shown with both rules' answers at the end of a task. */
const QUERY_SHOWN = 8;
/** Longest stretch of training between two looks at the message queue (ms). */
const SLICE = 40;
/** Progress messages at most this often (ms). */
const PROGRESS = 200;
/**
 * Diagnostics (probe set, receptive fields) at most this often (ms), and never more than LOOK_SHARE of the worker's
 * time: a probe of the paper's network (100 examples through every layer in float64, W Wᵀ of each layer) costs as
 * much as 3 (bp + Oja) to 7 (bp) of its tasks (bench:web). The first and the last task are always measured
 * (the page sizes the probe set within a budget, web/src/estimate.ts, and sends none for a network too large for it).
 */
const LOOK_EVERY = 1000, LOOK_SHARE = 0.05;

/** A macrotask turn (MessageChannel: setTimeout's nesting clamp would add 4 ms each time). */
const channel = new MessageChannel();
const turns: (() => void)[] = [];
channel.port1.onmessage = () => turns.shift()?.();
const turn = () => new Promise<void>((resolve) => { turns.push(resolve); channel.port2.postMessage(0); });

async function holdWhilePaused(m: StartMessage, t: number, done: number): Promise<void> {
  if (!paused) return;
  ctx.postMessage({ type: "held", id: m.id, run: m.run, task: t, done, seq });
  while (paused) await new Promise<void>((resolve) => { wake = resolve; });
  wake = null;
}

async function train(m: StartMessage): Promise<void> {
  try {
    // The worker's own Content-Security-Policy (its script's response headers) decides whether it may compile a formula.
    for (const d of m.terms) {
      try { registerExpressionTerm(d, undefined, { replace: true }); } catch (e) { throw e instanceof EvalError ? new Error(`term '${d}': ${CSP_HINT}`) : e; }
    }
    const [n, rows, cols] = m.dims;
    const ds = fromArrays(m.images, [n, rows, cols], m.labels, [n], m.source, "test");
    const probeLabels = m.probeIdx.map((i) => ds.labels[i]);
    let steps = 0, ms = 0, lastLook = -Infinity, lookMs = 0, lastProgress = -Infinity, progressEvery = PROGRESS;
    /** The step the page was last shown (a progress message), so that a hold shows where it holds. */
    let shown: TaskProgress | null = null;
    const busy = { train: 0, diagnostics: 0, views: 0 };
    const probeOf = networkOf(m.cfg.net).probe;
    // Measured after the task's last step (one pass of N·K examples per epoch).
    const end = m.cfg.way * m.cfg.shots * (m.cfg.epochs ?? 1);
    await holdWhilePaused(m, 0, 0);
    for (let t = 0; t < m.cfg.tasks; t++) {
      const look = t === 0 || t === m.cfg.tasks - 1 || performance.now() - lastLook > Math.max(LOOK_EVERY, lookMs * (1 / LOOK_SHARE - 1));
      // A large network takes seconds to build and score before its first step: say so.
      if (performance.now() - lastProgress > progressEvery) ctx.postMessage({ type: "progress", id: m.id, run: m.run, task: t, done: 0, total: end, curve: [], snap: null });
      // No diagnostics plan: the end of task is measured below, timed apart (the same numbers: test/task-steps.test.ts).
      const taskStart = performance.now();
      const g = taskSteps(m.cfg, ds, t, undefined, m.curveEvery, false, 1);
      let net: PlasticNetwork | null = null;
      let t0 = performance.now(), sliceStart = t0;
      let r: IteratorResult<TaskProgress, TaskResult>;
      let p: TaskProgress | null = null;
      while (!(r = g.next()).done) {
        p = r.value;
        const now = performance.now();
        net = p.net;
        // A task's last step is shown when the page will hold on it (the last task, or a Step's) and when the task has taken
        // longer than a progress interval: the page would otherwise show it unfinished while it is scored and probed. A
        // faster task's end is not forced (it would reset the interval at every task end, and no step inside a task of
        // less than PROGRESS would ever be shown).
        const last = p.done === p.total && (t === m.cfg.tasks - 1 || t + 1 >= holdAfter || now - taskStart > PROGRESS);
        if (now - lastProgress > progressEvery || paused || last) {
          ms += now - t0;
          postProgress(m, t, p, ds);
          shown = p;
          lastProgress = performance.now();
          busy.views += lastProgress - now;
          // A snapshot of a large network costs milliseconds: never more than a tenth of the time.
          progressEvery = Math.max(PROGRESS, 10 * (lastProgress - now));
          t0 = lastProgress;
        }
        if (now - sliceStart > SLICE || paused) {
          ms += performance.now() - t0;
          await turn();
          // A Pause read in that turn holds on this step: show it (the page's position is otherwise the last throttled
          // message's, up to a progress interval old and possibly of the task before).
          if (paused && shown !== p) { const v0 = performance.now(); postProgress(m, t, p, ds); shown = p; lastProgress = performance.now(); busy.views += lastProgress - v0; }
          await holdWhilePaused(m, t, p.done);
          t0 = sliceStart = performance.now();
        }
      }
      const res = r.value;
      const d0 = performance.now();
      ms += d0 - t0;
      steps += res.steps;
      const { saved: _s, diagnostics: _d, ...result } = res;
      const msg: TaskMessage = { type: "task", id: m.id, run: m.run, result, stepsPerSec: steps / (ms / 1000), busy };
      const transfer: Transferable[] = [];
      if (look && net && !res.diverged) {
        // A large network's probe takes seconds (the page chose its size within a budget: web/src/estimate.ts): say so first.
        if (probeOf && m.probeIdx.length > 0) ctx.postMessage({ type: "measuring", id: m.id, run: m.run, task: t, count: m.probeIdx.length });
        // The end of the task's training, as taskSteps' plan { at: [end] } measures it and train --save-weights saves it:
        // the weights after the last step (finish() is a no-op online), which scoring leaves as they are
        // (test/task-steps.test.ts); a diverged task is not measured.
        void net.params; // a fast step's layer written back first (the getter)
        if (probeOf && m.probeIdx.length > 0) msg.diagnostics = [{ step: end, ...probeOf(net, ds.images, ds.dim, m.probeIdx, probeLabels) }];
        // The network's module names the matrix to show: one tile per row (W₁), or the whole matrix as one image (J).
        const f = networkOf(m.cfg.net).display.fields, whole = f.layout === "matrix";
        const site = net.sites.find((x) => x.name === f.tensor);
        if (site) {
          const count = whole ? 1 : Math.min(FIELDS, site.n);
          const data = Float32Array.from(site.W.subarray(0, count * site.m * (whole ? site.n : 1)));
          msg.fields = whole ? { data, rows: site.n, cols: site.m, count } : { data, rows, cols, count };
          transfer.push(data.buffer);
        }
      }
      if (look) { lastLook = performance.now(); lookMs = lastLook - d0; busy.diagnostics += lookMs; }
      busy.train = ms;
      msg.busy = { ...busy };
      ctx.postMessage(msg, transfer);
      tasksEnded = t + 1;
      if (tasksEnded >= holdAfter && t + 1 < m.cfg.tasks) { paused = true; holdAfter = Infinity; }
      await turn();
      // Held between tasks (a Pause read in that turn, or a Step's end): show the task's last step if it was not shown
      // (a diverged task ends before its last step: its last shown position stays).
      if (paused && p !== null && p.done === p.total && shown !== p) {
        const v0 = performance.now();
        postProgress(m, t, p, ds); shown = p; lastProgress = performance.now(); busy.views += lastProgress - v0;
      }
      await holdWhilePaused(m, t + 1, 0);
    }
    ctx.postMessage({ type: "done", id: m.id, run: m.run });
  } catch (e) {
    ctx.postMessage({ type: "error", id: m.id, run: m.run, message: e instanceof Error ? e.message : String(e) });
  }
}

function postProgress(m: StartMessage, t: number, p: TaskProgress, ds: Dataset): void {
  const snap = snapshot(p.net, ds, p.index, p.label);
  const msg: ProgressMessage = { type: "progress", id: m.id, run: m.run, task: t, done: p.done, total: p.total, curve: p.curve.map((c) => ({ step: c.step, acc: c.acc })), snap };
  if (p.done === p.total) msg.query = answers(p.net, ds, p.queryIdx, QUERY_SHOWN);
  ctx.postMessage(msg);
}

ctx.postMessage({ type: "ready", wasm: wasmAvailable() });
