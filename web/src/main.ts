/**
 * The explorable: twin runs of the library in Web Workers (rule A against
 * rule B on the same seed, tasks and initial weights), live; every setting in
 * the URL hash; the layers' diagnostics and receptive fields as they train;
 * the `neuroplastic train` command that prints the same numbers.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { checkConfig, dims, summarize, type TaskResult } from "neuroplastic";
import { cliCommand, DEFAULTS, fromHash, PRESETS, presetState, ruleText, runConfig, TERMS, toHash, type AppState, type PresetId } from "./state.js";
import { loadData, type LoadedData } from "./data.js";
import type { StartMessage, TaskMessage, WorkerMessage } from "./worker.js";

type Run = "a" | "b";
const RUNS: readonly Run[] = ["a", "b"];

interface RunView {
  results: TaskResult[];
  diag: { task: number; d: NonNullable<TaskMessage["diagnostics"]>[number] }[];
  stepsPerSec: number;
  done: boolean;
  error: string | null;
}

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
let state: AppState = structuredClone(DEFAULTS);
let views: Record<Run, RunView> = { a: emptyView(), b: emptyView() };
let workers: Record<Run, Worker> | null = null;
let data: LoadedData | null = null;
let generation = 0;

function emptyView(): RunView { return { results: [], diag: [], stepsPerSec: 0, done: false, error: null }; }

// ---- messages --------------------------------------------------------------

function showMessage(kind: "error" | "warn" | "info", text: string): void {
  const box = $("#messages");
  const p = document.createElement("p");
  p.className = `msg ${kind}`;
  p.textContent = text;
  box.append(p);
}
function clearMessages(): void { $("#messages").replaceChildren(); }

// Nothing is left unhandled: anything that escapes is shown on the page.
window.addEventListener("error", (e) => { showMessage("error", `Something went wrong: ${e.message}`); e.preventDefault(); });
window.addEventListener("unhandledrejection", (e) => { showMessage("error", `Something went wrong: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`); e.preventDefault(); });

// ---- controls ----------------------------------------------------------------

/** Write the state into the form. */
function toForm(s: AppState): void {
  const set = (id: string, v: string) => { ($(`#${id}`) as HTMLInputElement | HTMLSelectElement).value = v; };
  set("dataset", s.dataset); set("net", s.net); set("hidden", s.hidden.join(",")); set("delay", String(s.delay));
  set("init", s.init); set("gain", String(s.gain)); set("feedback", s.feedback);
  set("way", String(s.way)); set("shots", String(s.shots)); set("query", String(s.query));
  set("tasks", String(s.tasks)); set("seed", String(s.seed)); set("epochs", String(s.epochs));
  for (const r of RUNS) for (const t of TERMS) set(`theta-${r}-${t}`, String(s[r][t] ?? 0));
  for (const b of document.querySelectorAll<HTMLButtonElement>("#presets button")) b.setAttribute("aria-pressed", String(b.dataset.preset === s.preset));
  $("#delay-row").hidden = s.net !== "rnn";
  const p = PRESETS.find((x) => x.id === s.preset);
  $("#look").textContent = p ? `${p.claim}. ${p.look}` : "Your own settings: change anything, then Run.";
  $("#cli").textContent = cliCommand(s);
}

/** Read the form; returns the problems (each a sentence) instead of throwing. */
function fromForm(): { s: AppState; problems: string[] } {
  const problems: string[] = [];
  const val = (id: string) => ($(`#${id}`) as HTMLInputElement).value.trim();
  const num = (id: string, label: string, ok: (x: number) => boolean, hint: string) => {
    const x = Number(val(id));
    if (val(id) === "" || !ok(x)) { problems.push(`${label} ${hint} (got '${val(id)}')`); return NaN; }
    return x;
  };
  const int = (lo: number, hi: number) => (x: number) => Number.isInteger(x) && x >= lo && x <= hi;
  const hiddenText = val("hidden");
  const hidden = hiddenText.split(",").map((w) => Number(w.trim()));
  if (hiddenText === "" || !hidden.every((w) => Number.isInteger(w) && w >= 1 && w <= 4096)) problems.push(`Hidden widths must be whole numbers from 1 to 4096 separated by commas (got '${hiddenText}'; a width of 0 is no layer)`);
  const s: AppState = {
    preset: state.preset, dataset: val("dataset") as AppState["dataset"], net: val("net") as AppState["net"], hidden,
    init: val("init") as AppState["init"], feedback: val("feedback") as AppState["feedback"],
    gain: num("gain", "Gain", (x) => x > 0 && Number.isFinite(x), "must be a positive number"),
    way: num("way", "N (classes per task)", int(2, 10), "must be a whole number from 2 to 10"),
    shots: num("shots", "K (examples per class)", int(1, 1000), "must be a whole number from 1 to 1000"),
    query: num("query", "Q (query examples per class)", int(1, 1000), "must be a whole number from 1 to 1000"),
    tasks: num("tasks", "Tasks", int(1, 10000), "must be a whole number from 1 to 10000"),
    seed: num("seed", "Seed", int(0, 2 ** 31 - 1), "must be a whole number ≥ 0"),
    epochs: num("epochs", "Passes", int(1, 100), "must be a whole number from 1 to 100"),
    delay: num("delay", "Delay", int(0, 200), "must be a whole number from 0 to 200"),
    a: {}, b: {},
  };
  for (const r of RUNS) for (const t of TERMS) {
    const x = num(`theta-${r}-${t}`, `θ_${t} of rule ${r.toUpperCase()}`, Number.isFinite, "must be a number");
    if (x !== 0) s[r][t] = x;
  }
  for (const r of RUNS) if (Object.keys(s[r]).length === 0) problems.push(`Rule ${r.toUpperCase()} has no term: give at least one coefficient`);
  return { s, problems };
}

function buildForm(): void {
  const table = $("#thetas");
  for (const t of TERMS) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.innerHTML = `θ<sub>${t}</sub>`;
    tr.append(th);
    for (const r of RUNS) {
      const td = document.createElement("td");
      const input = document.createElement("input");
      input.type = "number"; input.step = "any"; input.id = `theta-${r}-${t}`;
      input.setAttribute("aria-label", `θ ${t}, rule ${r.toUpperCase()}`);
      td.append(input);
      tr.append(td);
    }
    table.append(tr);
  }
  const bar = $("#presets");
  for (const p of PRESETS) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = p.label; b.dataset.preset = p.id; b.title = p.claim;
    b.addEventListener("click", () => { state = presetState(p.id as PresetId); toForm(state); pickMetric(p.metric); start(); });
    bar.append(b);
  }
  $("#controls").addEventListener("submit", (e) => { e.preventDefault(); applyForm(); });
  $("#controls").addEventListener("change", () => {
    const { s, problems } = fromForm();
    $("#delay-row").hidden = ($("#net") as HTMLSelectElement).value !== "rnn";
    if (problems.length === 0) { $("#cli").textContent = cliCommand({ ...s, preset: "custom" }); }
  });
  $("#stop").addEventListener("click", () => stop("Stopped."));
  $("#copy").addEventListener("click", async () => {
    const text = $("#cli").textContent ?? "";
    try { await navigator.clipboard.writeText(text); $("#copied").textContent = "Copied."; }
    catch { $("#copied").textContent = "Select the command above and copy it (the clipboard is not available here)."; }
  });
  $("#metric").addEventListener("change", () => drawDiagnostics());
}

/** Show a preset's diagnostic first (the metric list depends on the network type). */
function pickMetric(key: string): void {
  drawDiagnostics();
  const sel = $("#metric") as HTMLSelectElement;
  if ([...sel.options].some((o) => o.value === key)) sel.value = key;
}

function applyForm(): void {
  const { s, problems } = fromForm();
  if (problems.length) { clearMessages(); for (const p of problems) showMessage("error", p); return; }
  state = { ...s, preset: "custom" };
  toForm(state);
  start();
}

// ---- runs ----------------------------------------------------------------------

function stop(note?: string): void {
  generation++;
  if (workers) for (const r of RUNS) workers[r].postMessage({ type: "stop" });
  $("#status").textContent = note ?? "";
}

function ensureWorkers(): Record<Run, Worker> {
  if (workers) return workers;
  const make = (r: Run) => {
    const w = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: `run-${r}` });
    w.onmessage = (e: MessageEvent<WorkerMessage>) => onWorker(e.data);
    w.onerror = (e) => { e.preventDefault(); views[r].error = `run ${r.toUpperCase()} stopped: ${e.message || "the worker failed"}`; showMessage("error", views[r].error!); render(); };
    return w;
  };
  workers = { a: make("a"), b: make("b") };
  return workers;
}

async function start(notes: string[] = []): Promise<void> {
  const gen = ++generation;
  clearMessages();
  for (const n of notes) showMessage("warn", n);
  history.replaceState(null, "", toHash(state));
  views = { a: emptyView(), b: emptyView() };
  render();
  $("#status").textContent = `Loading ${state.dataset === "mnist" ? "MNIST" : "Fashion-MNIST"}…`;
  try { data = await loadData(state.dataset); } catch (e) { showMessage("error", `The dataset could not be loaded: ${(e as Error).message}`); $("#status").textContent = ""; return; }
  if (gen !== generation) return;
  // An impossible configuration is refused before anything runs, with the library's own message.
  for (const r of RUNS) {
    try { checkConfig(runConfig(state, r), data.ds); } catch (e) {
      showMessage("error", `Rule ${r.toUpperCase()} cannot run: ${(e as Error).message}. Change the settings and press Run.`);
      $("#status").textContent = "";
      return;
    }
  }
  const w = ensureWorkers();
  // A fixed probe set for the diagnostics: the first 100 query-split images, the same for both rules.
  const probeIdx = Array.from({ length: Math.min(100, data.ds.n) }, (_, i) => i);
  for (const r of RUNS) {
    const msg: StartMessage = { type: "start", run: r, cfg: runConfig(state, r), images: data.images, labels: data.labels, dims: data.dims, source: data.ds.source, probeIdx };
    w[r].postMessage(msg);
  }
  $("#status").textContent = "Training…";
  $("#app").dataset.state = "running";
}

function onWorker(m: WorkerMessage): void {
  if (m.type === "ready") { if (!m.wasm) showMessage("warn", "WebAssembly SIMD is not available in this browser: training runs on the plain JavaScript kernels (much slower)."); return; }
  const v = views[m.run];
  if (m.type === "error") { v.error = m.message; showMessage("error", `Run ${m.run.toUpperCase()} stopped: ${m.message}`); }
  else if (m.type === "done") v.done = true;
  else {
    v.results.push(m.result as TaskResult);
    v.stepsPerSec = m.stepsPerSec;
    if (m.diagnostics) for (const d of m.diagnostics) v.diag.push({ task: m.result.task, d });
    if (m.fields) drawFields(m.run, m.fields);
  }
  if (RUNS.every((r) => views[r].done || views[r].error)) {
    $("#status").textContent = RUNS.every((r) => views[r].done) ? `Done: ${state.tasks} tasks each.` : "Stopped.";
    $("#app").dataset.state = "done";
    for (const r of RUNS) {
      const s = summarize(views[r].results);
      if (s.diverged > 0) showMessage("warn", `Rule ${r.toUpperCase()} diverged on ${s.diverged} of ${s.tasks} tasks: its weights became non-finite (those tasks count at chance, 1/N). Try smaller coefficients or a smaller gain.`);
    }
  }
  scheduleRender();
}

// ---- drawing --------------------------------------------------------------------

let pending = false;
function scheduleRender(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; render(); });
}

const EQ: Record<string, string> = {
  bp: "−e<sub>l</sub> y<sub>l−1</sub><sup>T</sup>", oja: "y<sub>l</sub> (y<sub>l−1</sub> − W<sub>l</sub><sup>T</sup> y<sub>l</sub>)<sup>T</sup>",
  hebb: "y<sub>l</sub> y<sub>l−1</sub><sup>T</sup>", ehebb: "e<sub>l</sub> e<sub>l−1</sub><sup>T</sup>", ye: "y<sub>l</sub> e<sub>l−1</sub><sup>T</sup>",
  eoja: "e<sub>l</sub> (e<sub>l−1</sub> − W<sub>l</sub><sup>T</sup> e<sub>l</sub>)<sup>T</sup>", decay: "−W<sub>l</sub>",
};

function ruleTitle(r: Record<string, number>): string {
  const ks = Object.keys(r).filter((k) => r[k] !== 0);
  if (ks.length === 1 && ks[0] === "bp") return state.feedback === "random" ? "feedback alignment" : state.net === "rnn" ? "BPTT" : "backprop";
  const base = state.feedback === "random" ? "FA" : state.net === "rnn" ? "BPTT" : "backprop";
  return ks.map((k) => (k === "bp" ? base : k === "oja" ? "Oja" : k)).join(" + ");
}

function render(): void {
  for (const r of RUNS) {
    const v = views[r], s = v.results.length ? summarize(v.results) : null;
    const panel = $(`#run-${r}`);
    panel.querySelector(".title")!.textContent = `${r.toUpperCase()}: ${ruleTitle(state[r])}`;
    panel.querySelector(".equation")!.innerHTML = `ΔW<sub>l</sub> = ${Object.entries(state[r]).filter(([, x]) => x !== 0).map(([k, x]) => `<span class="coef">${x}</span> · ${EQ[k] ?? k}`).join(" + ")}`;
    const acc = panel.querySelector<HTMLElement>(".acc")!;
    acc.textContent = s ? `${(100 * s.acc).toFixed(1)}%` : "–";
    acc.dataset.acc = s ? String(s.acc) : "";
    acc.dataset.tasks = s ? String(s.tasks) : "0";
    panel.querySelector(".se")!.textContent = s ? `± ${(100 * s.acc_se).toFixed(1)} (se)` : "";
    panel.querySelector(".tasks")!.textContent = `${v.results.length} / ${state.tasks} tasks${s && s.diverged ? `, ${s.diverged} diverged` : ""}`;
    panel.querySelector(".rate")!.textContent = v.stepsPerSec ? `${Math.round(v.stepsPerSec).toLocaleString("en-US")} ${state.net === "rnn" ? "sequences" : "steps"}/s` : "";
    panel.querySelector<HTMLElement>(".rate")!.dataset.rate = String(v.stepsPerSec);
  }
  drawAccuracy();
  drawDiagnostics();
}

let accPlot: uPlot | null = null, diagPlot: uPlot | null = null, profilePlot: uPlot | null = null;
const COLORS = { a: "#1f6fb4", b: "#e07b00" };
/** Whole-number ticks: tasks, layers and time steps are counted. */
const INT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

function width(el: HTMLElement): number { return Math.max(280, Math.min(760, el.clientWidth - 8)); }

function drawAccuracy(): void {
  const el = $("#acc-chart");
  const n = Math.max(views.a.results.length, views.b.results.length);
  const x = Array.from({ length: n }, (_, i) => i + 1);
  const series = (r: Run) => {
    const rs = views[r].results;
    let sum = 0;
    return { each: x.map((_, i) => (i < rs.length ? rs[i].acc : null)), mean: x.map((_, i) => (i < rs.length ? (sum += rs[i].acc) / (i + 1) : null)) };
  };
  const a = series("a"), b = series("b");
  const d: uPlot.AlignedData = [x, a.mean, b.mean, a.each, b.each];
  if (!accPlot) {
    accPlot = new uPlot({
      width: width(el), height: 220, title: "Query accuracy per task (dots) and running mean (lines)",
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: [{ label: "task", incrs: INT_STEPS }, { label: "query accuracy" }],
      series: [{ label: "task" },
        { label: "A mean", stroke: COLORS.a, width: 2 }, { label: "B mean", stroke: COLORS.b, width: 2 },
        { label: "A task", stroke: "transparent", points: { show: true, size: 4, fill: COLORS.a, stroke: COLORS.a } },
        { label: "B task", stroke: "transparent", points: { show: true, size: 4, fill: COLORS.b, stroke: COLORS.b } }],
    }, d, el);
  } else accPlot.setData(d);
}

type Metric = { key: string; label: string; over: "tasks" | "time"; log?: boolean; get: (d: RunView["diag"][number]["d"]) => number[] | null };

function metrics(): Metric[] {
  if (state.net === "rnn") return [
    { key: "spec", label: "spectral radius of J", over: "tasks", get: (d) => (d.rnn ? [d.rnn.specRadius] : null) },
    { key: "orthoJ", label: "‖JJᵀ − I‖ / √N", over: "tasks", get: (d) => (d.rnn ? [d.rnn.orthoErrJ] : null) },
    { key: "wn", label: "weight norm ‖W‖ per site (U, J, W), log scale", over: "tasks", log: true, get: (d) => d.layers.map((l) => l.weightNorm) },
    { key: "h", label: "state norm ‖hₜ‖ over time (latest task)", over: "time", get: (d) => d.rnn?.hNorm ?? null },
    { key: "delta", label: "error norm ‖δₜ‖ over time (latest task)", over: "time", get: (d) => d.rnn?.deltaNorm ?? null },
    { key: "prt", label: "participation ratio of hₜ over time (latest task)", over: "time", get: (d) => d.rnn?.pr ?? null },
  ];
  return [
    { key: "pr", label: "participation ratio of activations", over: "tasks", get: (d) => d.layers.map((l) => l.pr) },
    { key: "ortho", label: "‖WWᵀ − I‖ / √n", over: "tasks", get: (d) => d.layers.map((l) => l.orthoErr) },
    { key: "act", label: "activation norm ‖yₗ‖", over: "tasks", get: (d) => d.layers.map((l) => l.actNorm) },
    { key: "err", label: "error norm ‖eₗ‖", over: "tasks", get: (d) => d.layers.map((l) => l.errNorm) },
    { key: "wn", label: "weight norm ‖Wₗ‖ (log scale)", over: "tasks", log: true, get: (d) => d.layers.map((l) => l.weightNorm) },
    ...(state.feedback === "random" ? [{ key: "fa", label: "FA angle to the true gradient (degrees)", over: "tasks" as const, get: (d: RunView["diag"][number]["d"]) => d.layers.map((l) => l.faAngle ?? NaN) }] : []),
  ];
}

function drawDiagnostics(): void {
  const sel = $("#metric") as HTMLSelectElement;
  const ms = metrics();
  if (sel.options.length !== ms.length || [...sel.options].some((o, i) => o.value !== ms[i].key)) {
    const keep = sel.value;
    sel.replaceChildren(...ms.map((m) => new Option(m.label, m.key)));
    if (ms.some((m) => m.key === keep)) sel.value = keep;
  }
  const m = ms.find((x) => x.key === sel.value) ?? ms[0];
  const el = $("#diag-chart"), pel = $("#profile-chart");
  diagPlot?.destroy(); diagPlot = null;
  profilePlot?.destroy(); profilePlot = null;
  const last = (r: Run) => views[r].diag.at(-1);
  if (m.over === "tasks") {
    // Over training: one line per layer, A solid, B dashed; x = the tasks where either run measured.
    const tasks = [...new Set(RUNS.flatMap((r) => views[r].diag.map((d) => d.task)))].sort((p, q) => p - q);
    const L = Math.max(0, ...RUNS.flatMap((r) => views[r].diag.map((d) => m.get(d.d)?.length ?? 0)));
    const cols: (number | null)[][] = [];
    const sers: uPlot.Series[] = [{ label: "task" }];
    for (const r of RUNS) for (let l = 0; l < L; l++) {
      const byTask = new Map(views[r].diag.map((d) => [d.task, m.get(d.d)?.[l] ?? null]));
      cols.push(tasks.map((t) => { const v = byTask.get(t); return v === undefined || v === null || !Number.isFinite(v) ? null : v; }));
      sers.push({ label: `${r.toUpperCase()} ${L > 1 ? (state.net === "rnn" && m.key === "wn" ? ["U", "J", "W"][l] : `l${l + 1}`) : ""}`.trim(), stroke: shade(COLORS[r], l, L), dash: r === "b" ? [6, 4] : undefined, width: 1.5, spanGaps: true });
    }
    diagPlot = new uPlot({ width: width(el), height: 240, title: `${m.label}, over training (A solid, B dashed)`, scales: { x: { time: false }, ...(m.log ? { y: { distr: 3 } } : {}) }, axes: [{ label: "task", incrs: INT_STEPS }, { size: 64 }], series: sers }, [tasks.map((t) => t + 1), ...cols] as uPlot.AlignedData, el);
    // Profile: the latest measurement per layer.
    const la = last("a"), lb = last("b");
    const va = la ? m.get(la.d) : null, vb = lb ? m.get(lb.d) : null;
    const n = Math.max(va?.length ?? 0, vb?.length ?? 0);
    if (n > 1) {
      const xs = Array.from({ length: n }, (_, i) => i + 1);
      const clean = (v: number[] | null) => xs.map((_, i) => (v && Number.isFinite(v[i]) ? v[i] : null));
      profilePlot = new uPlot({ width: width(pel), height: 200, title: `${m.label}, per layer (latest)`, scales: { x: { time: false }, ...(m.log ? { y: { distr: 3 } } : {}) }, axes: [{ label: state.net === "rnn" ? "site (U, J, W)" : "layer l", incrs: INT_STEPS }, { size: 64 }],
        series: [{ label: "layer" }, { label: "A", stroke: COLORS.a, width: 2, points: { show: true } }, { label: "B", stroke: COLORS.b, width: 2, dash: [6, 4], points: { show: true } }] }, [xs, clean(va), clean(vb)] as uPlot.AlignedData, pel);
    }
  } else {
    const la = last("a"), lb = last("b");
    const va = la ? m.get(la.d) : null, vb = lb ? m.get(lb.d) : null;
    const n = Math.max(va?.length ?? 0, vb?.length ?? 0);
    const xs = Array.from({ length: n }, (_, i) => i + 1);
    const clean = (v: number[] | null) => xs.map((_, i) => (v && Number.isFinite(v[i]) ? v[i] : null));
    diagPlot = new uPlot({ width: width(el), height: 240, title: m.label, scales: { x: { time: false } }, axes: [{ label: "time step t (the image's rows, then the delay)", incrs: INT_STEPS }, { size: 64 }],
      series: [{ label: "t" }, { label: "A", stroke: COLORS.a, width: 2 }, { label: "B", stroke: COLORS.b, width: 2, dash: [6, 4] }] }, [xs, clean(va), clean(vb)] as uPlot.AlignedData, el);
  }
}

/** Layer l of L in the run's colour, from light to dark. */
function shade(hex: string, l: number, L: number): string {
  const k = L <= 1 ? 1 : 0.45 + (0.55 * l) / (L - 1);
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgb(${c.map((v) => Math.round(255 - (255 - v) * k)).join(",")})`;
}

/** Receptive fields: the first layer's rows as images (blue negative, red positive), or the RNN's J. */
function drawFields(r: Run, f: NonNullable<TaskMessage["fields"]>): void {
  const canvas = $(`#run-${r} canvas`) as HTMLCanvasElement;
  const g = canvas.getContext("2d")!;
  const cols = state.net === "rnn" ? 1 : 4, scale = state.net === "rnn" ? Math.max(1, Math.floor(168 / f.rows)) : 2;
  const tileW = f.cols * scale, tileH = f.rows * scale, pad = 2;
  canvas.width = cols * (tileW + pad); canvas.height = Math.ceil(f.count / cols) * (tileH + pad);
  canvas.setAttribute("aria-label", state.net === "rnn" ? `run ${r.toUpperCase()}: recurrent weights J as an image` : `run ${r.toUpperCase()}: receptive fields of the first ${f.count} units of layer 1`);
  const size = f.rows * f.cols;
  for (let k = 0; k < f.count; k++) {
    const row = f.data.subarray(k * size, (k + 1) * size);
    let m = 1e-12;
    for (const v of row) m = Math.max(m, Math.abs(v));
    const img = g.createImageData(tileW, tileH);
    for (let y = 0; y < tileH; y++) for (let x = 0; x < tileW; x++) {
      const v = row[Math.floor(y / scale) * f.cols + Math.floor(x / scale)] / m, o = 4 * (y * tileW + x);
      img.data[o] = v > 0 ? 255 : Math.round(255 * (1 + v));
      img.data[o + 1] = Math.round(255 * (1 - Math.abs(v)));
      img.data[o + 2] = v < 0 ? 255 : Math.round(255 * (1 - v));
      img.data[o + 3] = 255;
    }
    g.putImageData(img, (k % cols) * (tileW + pad), Math.floor(k / cols) * (tileH + pad));
  }
}

// ---- start ----------------------------------------------------------------------

/** The state of the URL's hash; a mangled link gives the notes to show (and its defaults). */
function fromLocation(): string[] {
  const { state: s, problems } = fromHash(location.hash);
  state = s;
  toForm(state);
  return problems.length ? [`This link's settings could not all be read (${problems.join("; ")}); the defaults are used for those.`] : [];
}

buildForm();
const notes = fromLocation();
pickMetric(PRESETS.find((p) => p.id === state.preset)?.metric ?? "pr");
void start(notes);
window.addEventListener("hashchange", () => { if (location.hash !== toHash(state)) void start(fromLocation()); });
window.addEventListener("resize", () => { accPlot?.setSize({ width: width($("#acc-chart")), height: 220 }); drawDiagnostics(); });

// For the tests and the curious: the running state.
(window as unknown as { neuroplastic: unknown }).neuroplastic = { get state() { return state; }, views: () => views, dims: () => (data ? dims(runConfig(state, "a"), data.ds) : null), ruleText };
