/**
 * The explorable: twin runs of the library in Web Workers (rule A against
 * rule B on the same seed, tasks and initial weights), driven like a
 * playground (Play, Pause, Step, Reset); every setting in the URL hash; what
 * is learning drawn live (the network, the current example and both answers,
 * the layers' diagnostics, receptive fields); the `neuroplastic train`
 * command that prints the numbers on screen.
 *
 * One run on screen at a time, with an id: starting another (Run, a preset,
 * Reset, a new link) terminates both workers and starts fresh ones, and any
 * message that still carries an old id is dropped.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { checkConfig, dims, hasOwnFlag, networkOf, summarize, type TaskResult } from "neuroplastic";
import {
  checkTermDef, cliCommand, DEFAULTS, fromHash, ownNames, PRESETS, presetState, registerTerms, ruleText, runConfig, TermDefError, TERMS, toHash,
  type AppState, type PresetId,
} from "./state.js";
import { loadData, type LoadedData } from "./data.js";
import { drawCurve, drawFields, drawNetwork, drawOutput, forgetSizes } from "./draw.js";
import { addHelp, addHelpAfter, HELP } from "./help.js";
import { estimate, fmtTime, probePlan, type ProbePlan } from "./estimate.js";
import type { ControlMessage, ProgressMessage, StartMessage, TaskMessage, WorkerMessage } from "./worker.js";

type Run = "a" | "b";
const RUNS: readonly Run[] = ["a", "b"];
type Phase = "idle" | "loading" | "running" | "paused" | "done" | "error";

interface RunView {
  results: TaskResult[];
  diag: { task: number; d: NonNullable<TaskMessage["diagnostics"]>[number] }[];
  stepsPerSec: number;
  /** The worker's time so far (ms): training as the CLI counts it, the diagnostics, the live views. */
  busy: TaskMessage["busy"] | null;
  done: boolean;
  held: boolean;
  /** Where the worker holds ("held": its task, 0-based, and the examples of it done), or null while it runs. */
  heldAt: { task: number; done: number } | null;
  error: string | null;
  progress: ProgressMessage | null;
  query: { task: number; answers: { index: number; pred: number }[] } | null;
  fields: TaskMessage["fields"] | null;
  /** The task whose diagnostics are being measured (its "measuring" message came, its score not yet), or null. */
  measuring: number | null;
}

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
/** The run on screen: what the panels, the URL and the CLI box show. */
let state: AppState = structuredClone(DEFAULTS);
let views: Record<Run, RunView> = { a: emptyView(), b: emptyView() };
let workers: Record<Run, Worker> | null = null;
let data: LoadedData | null = null;
let runId = 0;
let phase: Phase = "idle";
/** Both runs have ended; the done state is set once their final numbers are drawn. */
let finishing = false;
/** Both runs are held: the paused state (with this status) is set once the numbers they hold on are drawn. */
let pausing: string | null = null;
/** The run on screen's probe: how many images, how long it should take, and why fewer than usual (web/src/estimate.ts). */
let probe: ProbePlan = { count: 0, seconds: 0, note: "" };

function emptyView(): RunView { return { results: [], diag: [], stepsPerSec: 0, busy: null, done: false, held: false, heldAt: null, error: null, progress: null, query: null, fields: null, measuring: null }; }

const CLASS_NAMES: Record<AppState["dataset"], string[]> = {
  mnist: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  fashion: ["T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"],
};

// ---- messages --------------------------------------------------------------

function showMessage(kind: "error" | "warn" | "info", text: string, where = "#messages"): void {
  const p = document.createElement("p");
  p.className = `msg ${kind}`;
  p.textContent = text;
  $(where).append(p);
}
function clearMessages(): void { $("#messages").replaceChildren(); $("#bar-errors").replaceChildren(); }
/** An error beside the Run control (the sticky bar is always in the viewport). */
function showError(text: string): void { showMessage("error", text, "#bar-errors"); }

// Nothing is left unhandled: anything that escapes is shown on the page.
window.addEventListener("error", (e) => { showError(`Something went wrong: ${e.message}`); e.preventDefault(); });
window.addEventListener("unhandledrejection", (e) => { showError(`Something went wrong: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`); e.preventDefault(); });

// ---- controls ----------------------------------------------------------------

/** Write the state into the form. */
function toForm(s: AppState): void {
  const set = (id: string, v: string) => { ($(`#${id}`) as HTMLInputElement | HTMLSelectElement).value = v; };
  set("dataset", s.dataset); set("net", s.net); set("hidden", s.hidden.join(",")); set("delay", String(s.delay));
  set("init", s.init); set("gain", String(s.gain)); set("feedback", s.feedback); set("dale", s.dale === null ? "" : String(s.dale));
  set("way", String(s.way)); set("shots", String(s.shots)); set("query", String(s.query));
  set("tasks", String(s.tasks)); set("seed", String(s.seed)); set("epochs", String(s.epochs));
  for (const r of RUNS) for (const t of TERMS) set(`theta-${r}-${t}`, String(s[r][t] ?? 0));
  for (const tb of document.querySelectorAll("#own-terms tbody[data-k]")) tb.remove();
  ownNames(s).forEach((name, i) => addTermRow(s.terms[i], s.a[name] ?? 0, s.b[name] ?? 0));
  for (const b of document.querySelectorAll<HTMLButtonElement>("#presets button")) b.setAttribute("aria-pressed", String(b.dataset.preset === s.preset));
  $("#delay-row").hidden = !hasOwnFlag(s.net, "delay");
  const p = PRESETS.find((x) => x.id === s.preset);
  $("#look").textContent = p ? `${p.claim}. ${p.look}` : "Your own settings: change anything, then Run.";
  markFields([]);
  formChanged();
}

/** A field's problem; `at`: the offset in the field's text it points at (a term's parse error), marked under the field. */
interface Problem { id: string; text: string; at?: number }

/** Read the form; returns the problems (each a sentence, with its field) instead of throwing. */
function fromForm(): { s: AppState; problems: Problem[] } {
  const problems: Problem[] = [];
  const val = (id: string) => ($(`#${id}`) as HTMLInputElement).value.trim();
  const num = (id: string, label: string, ok: (x: number) => boolean, hint: string) => {
    const x = Number(val(id));
    if (val(id) === "" || !ok(x)) { problems.push({ id, text: `${label} ${hint} (got '${val(id)}')` }); return NaN; }
    return x;
  };
  const int = (lo: number, hi: number) => (x: number) => Number.isInteger(x) && x >= lo && x <= hi;
  const hiddenText = val("hidden");
  const hidden = hiddenText.split(",").map((w) => (w.trim() === "" ? NaN : Number(w.trim())));
  if (hiddenText === "" || !hidden.every((w) => Number.isInteger(w) && w >= 1 && w <= 4096)) problems.push({ id: "hidden", text: `Hidden widths must be whole numbers from 1 to 4096 separated by commas (got '${hiddenText}'; a width of 0 is no layer)` });
  const s: AppState = {
    preset: state.preset, dataset: val("dataset") as AppState["dataset"], net: val("net") as AppState["net"], hidden,
    init: val("init") as AppState["init"], feedback: val("feedback") as AppState["feedback"],
    dale: val("dale") === "" ? null : num("dale", "Dale's law (excitatory fraction)", (x) => x >= 0 && x <= 1, "must be empty (off) or a number from 0 to 1"),
    gain: num("gain", "Gain", (x) => x > 0 && Number.isFinite(x), "must be a positive number"),
    way: num("way", "N (classes per task)", int(2, 10), "must be a whole number from 2 to 10"),
    shots: num("shots", "K (examples per class)", int(1, 1000), "must be a whole number from 1 to 1000"),
    query: num("query", "Q (query examples per class)", int(1, 1000), "must be a whole number from 1 to 1000"),
    tasks: num("tasks", "Tasks", int(1, 10000), "must be a whole number from 1 to 10000"),
    seed: num("seed", "Seed", int(0, 2 ** 31 - 1), "must be a whole number ≥ 0"),
    epochs: num("epochs", "Passes", int(1, 100), "must be a whole number from 1 to 100"),
    delay: num("delay", "Delay", int(0, 200), "must be a whole number from 0 to 200"),
    a: {}, b: {}, terms: [],
  };
  for (const r of RUNS) for (const t of TERMS) {
    const x = num(`theta-${r}-${t}`, `θ_${t} of rule ${r.toUpperCase()}`, Number.isFinite, "must be a number");
    if (x !== 0) s[r][t] = x;
  }
  // Terms of one's own: each row's definition checked as --term checks it (the parser's error names the column), and its θ.
  const taken: string[] = [];
  ownRows().forEach((k, i) => {
    const id = `term-def-${k}`, text = val(id), lead = $<HTMLInputElement>(`#${id}`).value.search(/\S|$/);
    let name: string | null = null;
    if (text === "") problems.push({ id, text: `Term ${i + 1} is empty: write it as name = formula, or remove it` });
    else {
      try { const t = checkTermDef(text, taken); name = t.name; s.terms.push(t.def); taken.push(name); }
      catch (e) { problems.push({ id, text: (e as Error).message, ...(e instanceof TermDefError && e.pos !== null ? { at: lead + e.pos } : {}) }); }
    }
    for (const r of RUNS) {
      const x = num(`term-${r}-${k}`, `θ of term ${i + 1} (${name ?? "?"}), rule ${r.toUpperCase()}`, Number.isFinite, "must be a number");
      if (name !== null && x !== 0 && Number.isFinite(x)) s[r][name] = x;
    }
  });
  for (const r of RUNS) if (Object.keys(s[r]).length === 0) problems.push({ id: `theta-${r}-bp`, text: `Rule ${r.toUpperCase()} has no term: give at least one coefficient` });
  return { s, problems };
}

/** Each problem beside its field (aria-invalid, described by its message); the others cleared. */
function markFields(problems: Problem[]): void {
  for (const el of document.querySelectorAll<HTMLElement>("[aria-invalid=true]")) unmark(el);
  for (const e of document.querySelectorAll(".field-error")) e.remove();
  for (const p of problems) mark(p);
}

function unmark(el: HTMLElement): void {
  el.removeAttribute("aria-invalid");
  el.setAttribute("aria-describedby", (el.getAttribute("aria-describedby") ?? "").split(" ").filter((x) => !x.startsWith("err-")).join(" "));
  document.getElementById(`err-${el.id}`)?.remove();
}

/** What a shown error displays: its message, and the text and offset it marks. */
const markKey = (p: Problem) => JSON.stringify([p.text, p.at ?? null, p.at === undefined ? "" : $<HTMLInputElement>(`#${p.id}`).value]);

function mark(p: Problem): void {
  const el = $(`#${p.id}`);
  const msg = document.createElement("small");
  msg.className = "field-error"; msg.id = `err-${p.id}`; msg.textContent = p.text; msg.dataset.key = markKey(p);
  if (p.at !== undefined) msg.append(pointAt((el as HTMLInputElement).value, p.at));
  (el.closest(".row") ?? el.closest("td") ?? el).after(msg);
  el.setAttribute("aria-invalid", "true");
  el.setAttribute("aria-describedby", [el.getAttribute("aria-describedby"), msg.id].filter(Boolean).join(" "));
}

/**
 * The field's text with the token at `at` highlighted: the column the message
 * names, shown (a mark at the end when the text stopped too soon). Hidden from
 * screen readers, which read the column in the message.
 */
function pointAt(text: string, at: number): HTMLElement {
  const code = document.createElement("code"), hit = document.createElement("mark");
  code.className = "error-at"; code.setAttribute("aria-hidden", "true");
  const len = at >= text.length ? 0 : (/^([A-Za-z_][A-Za-z0-9_]*|\d+(\.\d*)?([eE][+-]?\d+)?|\S)/.exec(text.slice(at))?.[0].length ?? 1);
  hit.textContent = len === 0 ? "\u2423" : text.slice(at, at + len);
  if (len === 0) hit.className = "end";
  code.append(text.slice(0, at), hit, text.slice(at + len));
  return code;
}

/** Put the caret on the token a problem points at (after Run refused it), so it can be fixed in place. */
function caretAt(p: Problem): void {
  const el = $(`#${p.id}`);
  if (p.at === undefined || !(el instanceof HTMLInputElement) || el.type !== "text") return;
  const end = Math.min(el.value.length, p.at + (el.value.slice(p.at).match(/^[A-Za-z0-9_.]+/)?.[0].length ?? 1));
  el.setSelectionRange(Math.min(p.at, el.value.length), end);
}

/** The own-term rows' keys, in order. */
function ownRows(): string[] {
  return [...document.querySelectorAll<HTMLElement>("#own-terms tbody[data-k]")].map((tb) => tb.dataset.k!);
}

let termRowSeq = 0;
/**
 * A term of the table, one tbody: `name = formula` across the table with a
 * button removing it, then its θ in A and B under the built-ins' columns.
 */
function addTermRow(def = "", a = 0, b = 0): HTMLInputElement {
  const k = String(++termRowSeq), tb = document.createElement("tbody");
  tb.dataset.k = k;
  const n = $("#own-terms").querySelectorAll("tbody[data-k]").length + 1;
  const top = document.createElement("tr"), td = document.createElement("td"), row = document.createElement("div"), input = document.createElement("input");
  td.colSpan = 3;
  row.className = "row";
  input.type = "text"; input.id = `term-def-${k}`; input.value = def; input.autocomplete = "off"; input.spellcheck = false;
  input.placeholder = "name = formula";
  input.setAttribute("aria-label", `term ${n}: name = formula`);
  input.setAttribute("aria-describedby", "own-terms-hint");
  const remove = document.createElement("button");
  remove.type = "button"; remove.className = "remove-term"; remove.textContent = "×";
  remove.setAttribute("aria-label", `Remove term ${n}`);
  remove.addEventListener("click", () => { tb.remove(); formChanged(); });
  row.append(input, remove);
  td.append(row);
  top.append(td);
  const coef = document.createElement("tr"), th = document.createElement("th");
  th.scope = "row"; th.className = "term-name";
  coef.append(th);
  for (const [r, v] of [["a", a], ["b", b]] as const) {
    const c = document.createElement("td"), x = document.createElement("input");
    x.type = "number"; x.step = "any"; x.id = `term-${r}-${k}`; x.value = String(v);
    x.setAttribute("aria-label", `θ of term ${n}, rule ${r.toUpperCase()}`);
    c.append(x);
    coef.append(c);
  }
  tb.append(top, coef);
  $("#own-terms").append(tb);
  nameRow(k);
  return input;
}

/** The θ row's label: θ with the term's name, once its definition names one. */
function nameRow(k: string): void {
  const th = $(`#own-terms tbody[data-k="${k}"] .term-name`), m = /^\s*([a-z][a-z0-9_]*)\s*=/.exec($<HTMLInputElement>(`#term-def-${k}`).value);
  th.replaceChildren("θ");
  if (m) { const sub = document.createElement("sub"); sub.textContent = m[1]; th.append(sub); }
}

/** A definition's error is shown beside it as it is typed (the others wait for Run). */
function markTermDefs(problems: Problem[]): void {
  for (const k of ownRows()) {
    nameRow(k);
    const id = `term-def-${k}`, el = $<HTMLInputElement>(`#${id}`), p = problems.find((x) => x.id === id);
    const shown = document.getElementById(`err-${id}`)?.dataset.key ?? null;
    if (p === undefined || (el.value.trim() === "" && document.activeElement === el)) { if (shown !== null) unmark(el); }
    else if (shown !== markKey(p)) { unmark(el); mark(p); }
  }
}

/** The form against the run on screen: the CLI box is always the run on screen's; a note says when the form differs. */
function formChanged(): void {
  $("#cli").textContent = cliCommand(state);
  const { s, problems } = fromForm();
  markTermDefs(problems);
  $("#delay-row").hidden = !hasOwnFlag(($("#net") as HTMLSelectElement).value, "delay");
  const note = $("#cli-note");
  const differs = problems.length > 0 || cliCommand({ ...s, preset: state.preset }) !== cliCommand(state);
  note.hidden = !differs;
  note.textContent = differs ? "The form differs from the run on screen: this command is the run on screen's. Press Run to run the form." : "";
  showEstimate(problems.length ? null : s);
}

function showEstimate(s: AppState | null): void {
  const el = $("#estimate");
  if (!s || !data) { el.textContent = ""; return; }
  // The run on screen's own rate once it has one (the slower rule's); otherwise from the network's size.
  const same = cliCommand({ ...s, preset: state.preset }) === cliCommand(state);
  const measured = same && views.a.stepsPerSec && views.b.stepsPerSec ? Math.min(views.a.stepsPerSec, views.b.stepsPerSec) : 0;
  const cfg = runConfig(s, "b"), e = estimate(cfg, data.ds, measured), p = probePlan(cfg, data.ds);
  // The diagnostics after the first and the last task (in between they are held to a twentieth of the time: not counted).
  const looks = Math.min(2, s.tasks) * p.seconds, total = e.seconds * s.tasks + looks;
  const diag = p.seconds > 0.5 ? ` + ${fmtTime(p.seconds)} of diagnostics after the first and the last` : "";
  el.textContent = e.seconds + p.seconds > 2 ? `≈ ${fmtTime(e.seconds)} per task${diag}, ${fmtTime(total)} for ${s.tasks} (${e.basis}; rough)` : "";
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
  for (const id of ["net", "hidden", "delay", "init", "gain", "feedback", "dale", "dataset", "way", "shots", "query", "tasks", "epochs", "seed"]) {
    // The "?" beside the label, not inside it (a button inside a label would become its labelled control).
    const el = $(`#${id}`), label = el.closest("label")!, row = document.createElement("div");
    row.className = "row"; row.id = label.id; label.removeAttribute("id");
    label.before(row); row.append(label);
    addHelp(row, id, el, label.firstChild?.textContent?.trim() ?? id);
  }
  addHelp($("#thetas-legend"), "thetas", $("#thetas"), "the θ terms");
  addHelp($("#own-terms-legend"), "ownterms", $("#own-terms"), "terms of your own");
  $("#add-term").addEventListener("click", () => { addTermRow().focus(); formChanged(); });
  {
    // The diagnostic's explanation follows the metric chosen.
    const label = $(".metric"), row = document.createElement("div");
    row.className = "row metric-row";
    label.before(row); row.append(label);
    metricTip = addHelp(row, "pr", $("#metric"), "this diagnostic");
  }
  for (const r of RUNS) {
    const panel = $(`#run-${r}`);
    addHelp(panel.querySelector<HTMLElement>(".acc-row")!, "acc", panel.querySelector<HTMLElement>(".acc")!, "query accuracy");
    addHelp(panel.querySelector<HTMLElement>(".meta")!, "rate", panel.querySelector<HTMLElement>(".rate")!, "the step rate");
    addHelp(panel.querySelector<HTMLElement>(".h-diagram")!, "diagram", panel.querySelector<HTMLElement>(".diagram")!, "the network diagram");
    addHelp(panel.querySelector<HTMLElement>(".h-example")!, "example", panel.querySelector<HTMLElement>(".example")!, "the current example");
    addHelp(panel.querySelector<HTMLElement>(".h-fields")!, "fields", panel.querySelector<HTMLElement>(".fields")!, "receptive fields");
    addHelp(panel.querySelector<HTMLElement>(".progress")!, "curve", panel.querySelector<HTMLElement>(".curve")!, "the curve inside a task");
  }
  const bar = $("#presets");
  for (const p of PRESETS) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = p.label; b.dataset.preset = p.id; b.title = p.claim;
    b.addEventListener("click", () => { pickMetric(p.metric); void begin(presetState(p.id as PresetId), Infinity); });
    bar.append(b);
  }
  for (const [id, key, label] of [["play", "play", "Play"], ["pause", "pause", "Pause"], ["step", "step", "Step"], ["reset", "reset", "Reset"], ["run", "run", "Run"],
    ["copy", "copy", "Copy"], ["add-term", "addterm", "Add a term"]] as const) addHelpAfter($(`#${id}`), key, label);
  addHelp($("#h-presets"), "presets", bar, "the presets");
  addHelp($("#h-acc-chart"), "accchart", $("#acc-chart"), "the accuracy chart");
  addHelp($("#h-finding"), "finding", $("#finding"), "the finding and Σ‖W‖");
  $("#controls").addEventListener("submit", (e) => { e.preventDefault(); applyForm(); });
  $("#controls").addEventListener("input", formChanged);
  $("#controls").addEventListener("change", formChanged);
  $("#play").addEventListener("click", play);
  $("#pause").addEventListener("click", () => control("pause"));
  $("#step").addEventListener("click", stepOnce);
  $("#reset").addEventListener("click", () => void begin(state, 0));
  $("#copy").addEventListener("click", async () => {
    const text = $("#cli").textContent ?? "";
    try { await navigator.clipboard.writeText(text); $("#copied").textContent = "Copied."; }
    catch { $("#copied").textContent = "Select the command above and copy it (the clipboard is not available here)."; }
  });
  $("#metric").addEventListener("change", () => drawDiagnostics(true));
}

let metricTip: HTMLElement | null = null;
function explainMetric(): void {
  const key = ($("#metric") as HTMLSelectElement).value;
  if (metricTip && HELP[key]) put(metricTip, HELP[key]);
}

/** Show a preset's diagnostic first (the metric list depends on the network type). */
function pickMetric(key: string): void {
  drawDiagnostics(true);
  const sel = $("#metric") as HTMLSelectElement;
  if ([...sel.options].some((o) => o.value === key)) sel.value = key;
}

function applyForm(): void {
  const { s, problems } = fromForm();
  markFields(problems);
  $("#bar-errors").replaceChildren();
  if (problems.length) {
    showError(problems.length === 1 ? problems[0].text : `${problems.length} settings need fixing: ${problems.map((p) => p.text).join("; ")}`);
    const first = $(`#${problems[0].id}`);
    first.focus({ preventScroll: true });
    caretAt(problems[0]);
    first.scrollIntoView({ block: "center" });
    return;
  }
  void begin({ ...s, preset: "custom" }, Infinity);
}

// ---- runs ----------------------------------------------------------------------

function terminate(): void {
  if (workers) for (const r of RUNS) workers[r].terminate();
  workers = null;
}

function setPhase(p: Phase, status?: string): void {
  phase = p;
  $("#app").dataset.state = p;
  if (status !== undefined) $("#status").textContent = status;
  const can = (id: string, on: boolean) => { ($(`#${id}`) as HTMLButtonElement).disabled = !on; };
  can("play", p !== "running" && p !== "loading");
  can("pause", p === "running");
  can("step", p !== "running" && p !== "loading");
}

/**
 * Start the run of `s` afresh (new workers, new id): `hold` tasks, then hold
 * (0: held before the first step; Infinity: to the end).
 */
/** How many tasks the run being loaded runs before it holds (Play or Step while loading change it). */
let startHold = 0;

async function begin(s: AppState, hold: number, notes: string[] = [], opening = false): Promise<void> {
  const id = ++runId;
  startHold = hold;
  terminate();
  state = structuredClone(s);
  toForm(state);
  clearMessages();
  for (const n of notes) showMessage("warn", n);
  history.replaceState(null, "", toHash(state));
  views = { a: emptyView(), b: emptyView() };
  finishing = false;
  pausing = null;
  $("#finding").textContent = "";
  $("#queries").hidden = true;
  for (const r of RUNS) for (const c of $(`#run-${r}`).querySelectorAll("canvas")) c.getContext("2d")?.clearRect(0, 0, c.width, c.height);
  setPhase("loading", `Loading ${state.dataset === "mnist" ? "MNIST" : "Fashion-MNIST"}…`);
  render(true);
  try { data = await loadData(state.dataset); } catch (e) {
    if (id !== runId) return;
    showError(`The dataset could not be loaded: ${(e as Error).message}`); setPhase("error", ""); return;
  }
  if (id !== runId) return;
  try { registerTerms(state.terms); } catch (e) { showError(`A term of your own cannot run: ${(e as Error).message}`); setPhase("error", ""); return; }
  // An impossible configuration is refused before anything runs, with the library's own message.
  for (const r of RUNS) {
    try { checkConfig(runConfig(state, r), data.ds); } catch (e) {
      showError(`Rule ${r.toUpperCase()} cannot run: ${(e as Error).message}. Change the settings and press Run.`);
      setPhase("error", "");
      return;
    }
  }
  formChanged();
  const est = estimate(runConfig(state, "b"), data.ds, 0);
  probe = probePlan(runConfig(state, "b"), data.ds);
  $("#diag-note").textContent = probe.note;
  $("#diag-note").hidden = probe.note === "";
  // Opening a link never starts a long run: its first task (and its diagnostics) only if that takes a few seconds at most.
  if (opening && est.seconds + probe.seconds > 3 && startHold === 1) startHold = 0;
  hold = startHold;
  // Inside a slow task, the query accuracy every quarter of it (the CLI's --curve k): a large network shows it is alive.
  const total = state.way * state.shots * state.epochs;
  const curveEvery = est.seconds > 1 ? Math.max(1, Math.ceil(total / 4)) : 0;
  // A fixed probe set for the diagnostics: the first 100 query-split images, the same for both rules (fewer, or none, for a
  // network whose probe would take more than a few seconds: probePlan).
  const probeIdx = Array.from({ length: probe.count }, (_, i) => i);
  const w = {} as Record<Run, Worker>;
  for (const r of RUNS) {
    w[r] = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: `run-${r}` });
    w[r].onmessage = (e: MessageEvent<WorkerMessage>) => onWorker(e.data);
    w[r].onerror = (e) => { e.preventDefault(); if (id !== runId) return; views[r].error = `run ${r.toUpperCase()} stopped: ${e.message || "the worker failed"}`; showError(views[r].error!); scheduleRender(); };
    const msg: StartMessage = { type: "start", id, run: r, cfg: runConfig(state, r), images: data.images, labels: data.labels, dims: data.dims, source: data.ds.source, probeIdx, curveEvery, seq, terms: state.terms, holdAfter: Number.isFinite(hold) ? hold : null };
    w[r].postMessage(msg);
  }
  workers = w;
  setPhase(hold === 0 ? "paused" : "running", hold === 0 ? `${opening ? "Ready" : "Reset"}: fresh weights, nothing trained yet. Play or Step.` : "Training…");
}

let seq = 0;
function control(type: ControlMessage["type"]): void {
  if (!workers) return;
  seq++;
  pausing = null;
  for (const r of RUNS) { workers[r].postMessage({ type, seq } satisfies ControlMessage); views[r].held = false; views[r].heldAt = null; }
}

function play(): void {
  if (phase === "loading") startHold = Infinity;
  else if (phase === "paused" && workers) { control("play"); setPhase("running", "Training…"); }
  else if (phase !== "running") void begin(state, Infinity);
}

/** Exactly one more task of both rules, then hold. */
function stepOnce(): void {
  if (phase === "loading") startHold = 1;
  else if (phase === "paused" && workers) { control("step"); setPhase("running", "One more task…"); }
  else if (phase !== "running") void begin(state, 1);
}

function onWorker(m: WorkerMessage): void {
  if (m.type === "ready") { if (!m.wasm) showMessage("warn", "WebAssembly SIMD is not available in this browser: training runs on the plain JavaScript kernels (much slower)."); return; }
  if (m.id !== runId) return; // an older run's message
  const v = views[m.run];
  if (m.type === "error") { v.error = m.message; showError(`Run ${m.run.toUpperCase()} stopped: ${m.message}`); }
  else if (m.type === "done") v.done = true;
  else if (m.type === "held") {
    v.held = m.seq === seq; // a hold from before the latest Play or Step is stale
    v.heldAt = v.held ? { task: m.task, done: m.done } : null;
  }
  else if (m.type === "progress") { v.progress = m; if (m.query) v.query = { task: m.task, answers: m.query }; }
  else if (m.type === "measuring") v.measuring = m.task;
  else {
    v.measuring = null;
    v.results.push(m.result as TaskResult);
    v.stepsPerSec = m.stepsPerSec;
    v.busy = m.busy;
    if (m.diagnostics) for (const d of m.diagnostics) v.diag.push({ task: m.result.task, d });
    if (m.fields) v.fields = m.fields;
  }
  if (RUNS.every((r) => views[r].done || views[r].error)) finishing = true;
  else if (phase === "running" && RUNS.every((r) => views[r].held || views[r].done)) {
    const p = views.a.progress;
    // Held: set once the numbers it was held on are drawn (in render).
    pausing = `Paused after ${Math.min(views.a.results.length, views.b.results.length)} of ${state.tasks} tasks${p && p.done < p.total && !views.a.done ? ` (task ${p.task + 1}: ${p.done} of ${p.total} examples)` : ""}. Play, Step or Reset.`;
  }
  scheduleRender();
}

/** "B beats A by 11.3 ± 1.6 points": the mean paired difference over the tasks (same tasks, same initial weights) ± its se. */
function finding(): string {
  const a = views.a.results, b = views.b.results, n = Math.min(a.length, b.length);
  if (n === 0) return "";
  const d = Array.from({ length: n }, (_, i) => 100 * (b[i].acc - a[i].acc));
  const mean = d.reduce((x, y) => x + y, 0) / n;
  const se = n > 1 ? Math.sqrt(d.reduce((x, y) => x + (y - mean) ** 2, 0) / (n - 1) / n) : NaN;
  const sa = summarize(a), sb = summarize(b);
  const gap = `${Math.abs(mean).toFixed(1)} ± ${Number.isFinite(se) ? se.toFixed(1) : "?"} points`;
  const verdict = !Number.isFinite(se) ? `B − A = ${mean.toFixed(1)} points on one task` : Math.abs(mean) < 2 * se ? `no clear difference (B − A = ${mean.toFixed(1)} ± ${se.toFixed(1)} points)` : mean > 0 ? `B beats A by ${gap}` : `A beats B by ${gap}`;
  const chance = 100 / state.way;
  return `This run found: ${verdict}, paired over ${n} tasks (± se). A ${(100 * sa.acc).toFixed(1)}%, B ${(100 * sb.acc).toFixed(1)}% against ${chance.toFixed(0)}% chance; Σ‖W‖ after a task ${sa.weight_norm.toFixed(1)} vs ${sb.weight_norm.toFixed(1)}${sa.diverged + sb.diverged ? `; diverged: A ${sa.diverged}, B ${sb.diverged}` : ""}.`;
}

// ---- drawing --------------------------------------------------------------------

/**
 * The page is redrawn at most this often while a run trains (ms): between
 * redraws a frame has nothing to do, so the main thread stays mostly idle
 * (scrolling and clicks stay smooth) and the workers keep the cores.
 */
const RENDER_EVERY = 250;
let pending = false, lastRender = 0;
function scheduleRender(): void {
  if (pending) return;
  pending = true;
  const wait = finishing || pausing !== null || phase !== "running" ? 0 : Math.max(0, RENDER_EVERY - (performance.now() - lastRender));
  setTimeout(() => requestAnimationFrame(() => { pending = false; lastRender = performance.now(); render(); }), wait);
}

/** What was drawn last, so a frame redraws only what changed. */
const drawn = { results: -1, accAt: 0, diag: -1, diagAt: 0, progress: { a: null as ProgressMessage | null, b: null as ProgressMessage | null }, fields: { a: null as unknown, b: null as unknown }, query: "" };
/** The plots at most this often while a run trains (ms): each redraw costs a few ms of the main thread. */
const DIAG_EVERY = 1000;

/** Write only what changed: every write to the page costs a style and layout pass. */
function put(el: Element, text: string, html = false): void {
  const key = html ? "html" : "text", e = el as HTMLElement;
  if (e.dataset[key] === text) return;
  e.dataset[key] = text;
  if (html) e.innerHTML = text; else e.textContent = text;
}

function render(force = false): void {
  if (force) { drawn.results = -1; drawn.diag = -1; drawn.progress = { a: null, b: null }; drawn.fields = { a: null, b: null }; drawn.query = ""; }
  for (const r of RUNS) {
    const v = views[r], s = v.results.length ? summarize(v.results) : null;
    const panel = $(`#run-${r}`);
    put(panel.querySelector(".title")!, `${r.toUpperCase()}: ${ruleTitle(state[r])}`);
    put(panel.querySelector(".equation")!, `ΔW<sub>l</sub> = ${Object.entries(state[r]).filter(([, x]) => x !== 0).map(([k, x]) => `<span class="coef">${x}</span> · ${EQ[k] ?? ownEquation(k)}`).join(" + ")}`, true);
    const acc = panel.querySelector<HTMLElement>(".acc")!;
    put(acc, s ? `${(100 * s.acc).toFixed(1)}%` : "–");
    acc.dataset.acc = s ? String(s.acc) : "";
    acc.dataset.tasks = s ? String(s.tasks) : "0";
    put(panel.querySelector(".se")!, s ? `± ${(100 * s.acc_se).toFixed(1)} (se)` : "");
    put(panel.querySelector(".tasks")!, `${v.results.length} / ${state.tasks} tasks${s && s.diverged ? `, ${s.diverged} diverged` : ""}`);
    // What the rate leaves out, as a share added to the time it counts (help "rate").
    const extra = (x: number) => (v.busy && v.busy.train > 0 ? `+${Math.round((100 * x) / v.busy.train)}%` : "");
    put(panel.querySelector(".rate")!, v.stepsPerSec ? `${Math.round(v.stepsPerSec).toLocaleString("en-US")} ${networkOf(state.net).display.unitNoun}/s of training` +
      (v.busy ? ` (diagnostics ${extra(v.busy.diagnostics)}, live views ${extra(v.busy.views)})` : "") : "");
    panel.querySelector<HTMLElement>(".rate")!.dataset.rate = String(v.stepsPerSec);
    panel.querySelector<HTMLElement>(".rate")!.dataset.busy = JSON.stringify(v.busy);
    const p = v.progress;
    const bar = panel.querySelector<HTMLProgressElement>("progress")!;
    const inTask = p && !(v.done && p.done === p.total) ? p : null;
    const measuring = v.measuring !== null ? `task ${v.measuring + 1}: measuring diagnostics (${probe.count} probe images, ≈ ${fmtTime(probe.seconds)})…` : null;
    // Where the worker holds, for tests (task 1-based: the task of `done`, or the next one at 0 between tasks).
    panel.querySelector<HTMLElement>(".within")!.dataset.held = v.heldAt ? `${v.heldAt.task + 1}:${v.heldAt.done}` : "";
    put(panel.querySelector(".within")!, measuring ?? (inTask ? `task ${inTask.task + 1}: ${inTask.snap ? `${inTask.done} / ${inTask.total} examples` : "fresh weights, first step…"}` : v.done ? "all tasks done" : ""));
    const frac = inTask ? inTask.done / inTask.total : v.done ? 1 : 0;
    if (bar.value !== frac) bar.value = frac;
    if (p && p.snap && p !== drawn.progress[r] && data) {
      drawn.progress[r] = p;
      const img = data.images.subarray(p.snap.index * data.ds.dim, (p.snap.index + 1) * data.ds.dim), names = CLASS_NAMES[state.dataset];
      drawNetwork(panel.querySelector<HTMLCanvasElement>(".diagram")!, p.snap, img, data.dims[1], data.dims[2], names);
      drawOutput(panel.querySelector<HTMLCanvasElement>(".example")!, p.snap, img, data.dims[1], data.dims[2], names);
      drawCurve(panel.querySelector<HTMLCanvasElement>(".curve")!, p.curve, p.total, 1 / state.way, COLORS[r]);
      panel.querySelector(".curve")!.setAttribute("aria-label", `query accuracy inside task ${p.task + 1}, rule ${r.toUpperCase()}: ${p.curve.map((c) => `${Math.round(100 * c.acc)}% after ${c.step}`).join(", ") || "not measured for tasks this fast"}`);
      put(panel.querySelector(".answer")!, `Example ${p.done} of task ${p.task + 1}: a ${names[p.snap.label]}; ${r.toUpperCase()} answers ${names[p.snap.pred]} (p = ${p.snap.p[p.snap.pred].toFixed(2)})${p.snap.pred === p.snap.label ? " ✓" : " ✗"}`);
      panel.querySelector(".diagram")!.setAttribute("aria-label", `network ${r.toUpperCase()}: ${p.snap.cols.map((c) => c.n).join("–")} units; ${p.snap.links.map((l) => `‖${l.name}‖ = ${l.norm.toFixed(2)}`).join(", ")}`);
      panel.querySelector<HTMLElement>(".diagram")!.dataset.norms = p.snap.links.map((l) => l.norm).join(",");
    }
    if (v.fields && v.fields !== drawn.fields[r]) { drawn.fields[r] = v.fields; drawFields(panel.querySelector<HTMLCanvasElement>(".fields")!, v.fields, networkOf(state.net).display.fields.layout === "matrix"); }
    put(panel.querySelector(".scale-text")!, networkOf(state.net).display.fields.caption);
  }
  const n = views.a.results.length + views.b.results.length;
  if (n !== drawn.results && (phase !== "running" || finishing || pausing !== null || performance.now() - drawn.accAt > DIAG_EVERY)) { drawn.results = n; drawn.accAt = performance.now(); drawAccuracy(); }
  else if (n !== drawn.results && !accTimer) accTimer = window.setTimeout(() => { accTimer = 0; scheduleRender(); }, DIAG_EVERY);
  const nd = views.a.diag.length + views.b.diag.length;
  if (nd !== drawn.diag && (finishing || performance.now() - drawn.diagAt > DIAG_EVERY)) drawDiagnostics();
  else if (nd !== drawn.diag && !diagTimer) diagTimer = window.setTimeout(() => { diagTimer = 0; scheduleRender(); }, DIAG_EVERY);
  drawQueries();
  if (pausing !== null && !finishing && phase === "running") setPhase("paused", pausing);
  pausing = null;
  if (finishing && phase !== "done") {
    // The done state only once the final numbers are on the page.
    const ok = RUNS.every((r) => views[r].done);
    $("#finding").textContent = ok ? finding() : "";
    setPhase("done", ok ? `Done: ${state.tasks} tasks each.` : "Stopped.");
    for (const r of RUNS) {
      const s = summarize(views[r].results);
      if (s.diverged > 0) showMessage("warn", `Rule ${r.toUpperCase()} diverged on ${s.diverged} of ${s.tasks} tasks: its weights became non-finite (those tasks count at chance, 1/N). Try smaller coefficients or a smaller gain.`);
    }
    terminate();
  }
}

/** A few of the last task's query digits with both answers (once both runs have reached that task's end). */
function drawQueries(): void {
  const qa = views.a.query, qb = views.b.query;
  if (!qa || !qb || qa.task !== qb.task || !data) return;
  const key = `${runId}:${qa.task}`;
  if (key === drawn.query) return;
  drawn.query = key;
  const names = CLASS_NAMES[state.dataset], box = $("#queries .digits");
  box.replaceChildren(...qa.answers.map((q, i) => {
    const fig = document.createElement("figure");
    const c = document.createElement("canvas");
    c.width = data!.dims[2]; c.height = data!.dims[1];
    const img = new ImageData(c.width, c.height), px = data!.images.subarray(q.index * data!.ds.dim, (q.index + 1) * data!.ds.dim);
    for (let k = 0; k < px.length; k++) img.data.set([255 - px[k], 255 - px[k], 255 - px[k], 255], 4 * k);
    c.getContext("2d")!.putImageData(img, 0, 0);
    const label = data!.labels[q.index], pb = qb.answers[i]?.pred;
    c.setAttribute("role", "img"); c.setAttribute("aria-label", `a ${names[label]}`);
    const cap = document.createElement("figcaption");
    cap.innerHTML = `<span class="a">A: ${names[q.pred]} ${q.pred === label ? "✓" : "✗"}</span><br><span class="b">B: ${names[pb]} ${pb === label ? "✓" : "✗"}</span>`;
    fig.append(c, cap);
    return fig;
  }));
  $("#queries h2").textContent = `Task ${qa.task + 1}'s query digits, with A's and B's answers`;
  $("#queries").hidden = false;
}

let accPlot: uPlot | null = null, diagPlot: uPlot | null = null, profilePlot: uPlot | null = null;
/** The series each diagnostic plot was built for: it is rebuilt only when they change, else updated in place. */
let diagKey = "", profileKey = "";
const COLORS = { a: "#1f6fb4", b: "#e07b00" };
/** Whole-number ticks: tasks, layers and time steps are counted. */
const INT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** A plot's width, read once per element and again after a resize (a read forces a layout). */
const plotWidths = new Map<HTMLElement, number>();
function width(el: HTMLElement): number {
  let w = plotWidths.get(el);
  if (w === undefined) { w = Math.max(280, Math.min(760, el.clientWidth - 8)); plotWidths.set(el, w); }
  return w;
}

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

const EQ: Record<string, string> = {
  bp: "−e<sub>l</sub> y<sub>l−1</sub><sup>T</sup>", oja: "y<sub>l</sub> (y<sub>l−1</sub> − W<sub>l</sub><sup>T</sup> y<sub>l</sub>)<sup>T</sup>",
  hebb: "y<sub>l</sub> y<sub>l−1</sub><sup>T</sup>", ehebb: "e<sub>l</sub> e<sub>l−1</sub><sup>T</sup>", ye: "y<sub>l</sub> e<sub>l−1</sub><sup>T</sup>",
  eoja: "e<sub>l</sub> (e<sub>l−1</sub> − W<sub>l</sub><sup>T</sup> e<sub>l</sub>)<sup>T</sup>", decay: "−W<sub>l</sub>",
};

/** A term of one's own in a panel's equation: its formula, as typed (escaped: it is written as HTML). */
function ownEquation(name: string): string {
  const def = state.terms.find((d) => d.startsWith(`${name} = `));
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return def === undefined ? esc(name) : `<span class="own-eq" title="${esc(name)}">(${esc(def.slice(name.length + 3))})</span>`;
}

/** The per-layer axis: the network's site names where it has them (the RNN's U, J, W), else layers. */
function siteAxis(): string {
  const names = networkOf(state.net).display.siteLabels;
  return names ? `site (${names.join(", ")})` : "layer l";
}

function ruleTitle(r: Record<string, number>): string {
  const ks = Object.keys(r).filter((k) => r[k] !== 0);
  const exact = networkOf(state.net).display.exactName;
  const names: Record<string, [string, string]> = {
    random: ["feedback alignment", "FA"], dfa: ["direct feedback alignment", "DFA"], sign: ["sign symmetry", "sign"], "sign-random": ["sign symmetry (random |B|)", "sign"],
  };
  const own = names[state.feedback];
  if (ks.length === 1 && ks[0] === "bp") return own ? own[0] : exact;
  const base = own ? own[1] : exact;
  return ks.map((k) => (k === "bp" ? base : k === "oja" ? "Oja" : k)).join(" + ");
}

type Metric = { key: string; label: string; over: "tasks" | "time"; log?: boolean; get: (d: RunView["diag"][number]["d"]) => number[] | null };

function metrics(): Metric[] {
  if (networkOf(state.net).display.probe === "recurrent") return [
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
    ...(state.feedback !== "sym" ? [{ key: "fa", label: "angle of the pathway's update to the true gradient (degrees)", over: "tasks" as const, get: (d: RunView["diag"][number]["d"]) => d.layers.map((l) => l.faAngle ?? NaN) }] : []),
    ...(state.dale !== null ? [{ key: "boundary", label: "Dale's law: fraction of weights at the sign boundary", over: "tasks" as const, get: (d: RunView["diag"][number]["d"]) => d.layers.map((l) => l.daleBoundary ?? NaN) }] : []),
  ];
}


/** Tick labels short enough for the axis (1e+6 rather than 1,000,000, which would be clipped). */
const shortTicks = (_u: uPlot, vals: number[]) => vals.map((v) => (v == null ? "" : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(3)))));

let diagTimer = 0, accTimer = 0;
function drawDiagnostics(force = false): void {
  drawn.diag = views.a.diag.length + views.b.diag.length;
  drawn.diagAt = performance.now();
  const sel = $("#metric") as HTMLSelectElement;
  const ms = metrics();
  if (sel.options.length !== ms.length || [...sel.options].some((o, i) => o.value !== ms[i].key)) {
    const keep = sel.value;
    sel.replaceChildren(...ms.map((m) => new Option(m.label, m.key)));
    if (ms.some((m) => m.key === keep)) sel.value = keep;
  }
  const m = ms.find((x) => x.key === sel.value) ?? ms[0];
  explainMetric();
  const el = $("#diag-chart"), pel = $("#profile-chart");
  const last = (r: Run) => views[r].diag.at(-1);
  const yAxis = { size: 64, values: shortTicks };
  /** Update in place when the series are those the plot was built for; otherwise rebuild it. */
  const put = (which: "diag" | "profile", key: string, opts: () => uPlot.Options, d: uPlot.AlignedData, host: HTMLElement) => {
    const plot = which === "diag" ? diagPlot : profilePlot, old = which === "diag" ? diagKey : profileKey;
    if (plot && old === key && !force) { plot.setData(d); return; }
    plot?.destroy();
    const made = new uPlot(opts(), d, host);
    if (which === "diag") { diagPlot = made; diagKey = key; } else { profilePlot = made; profileKey = key; }
  };
  const drop = (which: "diag" | "profile") => {
    if (which === "diag") { diagPlot?.destroy(); diagPlot = null; diagKey = ""; } else { profilePlot?.destroy(); profilePlot = null; profileKey = ""; }
  };
  const tag = `${runId}|${m.key}|${state.net}|${width(el)}`;
  if (m.over === "tasks") {
    // Over training: one line per layer, A solid, B dashed; x = the tasks where either run measured.
    const tasks = [...new Set(RUNS.flatMap((r) => views[r].diag.map((d) => d.task)))].sort((p, q) => p - q);
    const L = Math.max(0, ...RUNS.flatMap((r) => views[r].diag.map((d) => m.get(d.d)?.length ?? 0)));
    const cols: (number | null)[][] = [];
    const sers: uPlot.Series[] = [{ label: "task" }];
    for (const r of RUNS) for (let l = 0; l < L; l++) {
      const byTask = new Map(views[r].diag.map((d) => [d.task, m.get(d.d)?.[l] ?? null]));
      cols.push(tasks.map((t) => { const v = byTask.get(t); return v === undefined || v === null || !Number.isFinite(v) ? null : v; }));
      sers.push({ label: `${r.toUpperCase()} ${L > 1 ? (m.key === "wn" ? networkOf(state.net).display.siteLabels?.[l] ?? `l${l + 1}` : `l${l + 1}`) : ""}`.trim(), stroke: shade(COLORS[r], l, L), dash: r === "b" ? [6, 4] : undefined, width: 1.5, spanGaps: true });
    }
    put("diag", `${tag}|${L}`, () => ({ width: width(el), height: 240, title: `${m.label}, over training (A solid, B dashed)`, scales: { x: { time: false }, ...(m.log ? { y: { distr: 3 } } : {}) }, axes: [{ label: "task", incrs: INT_STEPS }, yAxis], series: sers }), [tasks.map((t) => t + 1), ...cols] as uPlot.AlignedData, el);
    // Profile: the latest measurement per layer.
    const la = last("a"), lb = last("b");
    const va = la ? m.get(la.d) : null, vb = lb ? m.get(lb.d) : null;
    const n = Math.max(va?.length ?? 0, vb?.length ?? 0);
    if (n > 1) {
      const xs = Array.from({ length: n }, (_, i) => i + 1);
      const clean = (v: number[] | null) => xs.map((_, i) => (v && Number.isFinite(v[i]) ? v[i] : null));
      put("profile", `${tag}|${n}`, () => ({ width: width(pel), height: 200, title: `${m.label}, per layer (latest)`, scales: { x: { time: false }, ...(m.log ? { y: { distr: 3 } } : {}) }, axes: [{ label: siteAxis(), incrs: INT_STEPS }, yAxis],
        series: [{ label: "layer" }, { label: "A", stroke: COLORS.a, width: 2, points: { show: true } }, { label: "B", stroke: COLORS.b, width: 2, dash: [6, 4], points: { show: true } }] }), [xs, clean(va), clean(vb)] as uPlot.AlignedData, pel);
    } else drop("profile");
  } else {
    const la = last("a"), lb = last("b");
    const va = la ? m.get(la.d) : null, vb = lb ? m.get(lb.d) : null;
    const n = Math.max(va?.length ?? 0, vb?.length ?? 0);
    const xs = Array.from({ length: n }, (_, i) => i + 1);
    const clean = (v: number[] | null) => xs.map((_, i) => (v && Number.isFinite(v[i]) ? v[i] : null));
    put("diag", `${tag}|time`, () => ({ width: width(el), height: 240, title: m.label, scales: { x: { time: false } }, axes: [{ label: "time step t (the image's rows, then the delay)", incrs: INT_STEPS }, yAxis],
      series: [{ label: "t" }, { label: "A", stroke: COLORS.a, width: 2 }, { label: "B", stroke: COLORS.b, width: 2, dash: [6, 4] }] }), [xs, clean(va), clean(vb)] as uPlot.AlignedData, el);
    drop("profile");
  }
}

/** Layer l of L in the run's colour, from light to dark. */
function shade(hex: string, l: number, L: number): string {
  const k = L <= 1 ? 1 : 0.45 + (0.55 * l) / (L - 1);
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgb(${c.map((v) => Math.round(255 - (255 - v) * k)).join(",")})`;
}


// ---- start ----------------------------------------------------------------------

/** The state of the URL's hash; a mangled link gives the notes to show (and its defaults). */
function fromLocation(): { s: AppState; notes: string[] } {
  const { state: s, problems } = fromHash(location.hash);
  return { s, notes: problems.length ? [`This link's settings could not all be read (${problems.join("; ")}); the defaults are used for those.`] : [] };
}

buildForm();
const first = fromLocation();
state = first.s;
toForm(state);
pickMetric(PRESETS.find((p) => p.id === state.preset)?.metric ?? "pr");
// Nothing long starts by itself: the page opens held after the first task (a few hundred examples), with it shown.
void begin(first.s, 1, first.notes, true);
window.addEventListener("hashchange", () => { if (location.hash !== toHash(state)) { const l = fromLocation(); void begin(l.s, 1, l.notes, true); } });
window.addEventListener("resize", () => { plotWidths.clear(); forgetSizes(); accPlot?.setSize({ width: width($("#acc-chart")), height: 220 }); drawDiagnostics(); render(true); });

// For the tests and the curious: the running state.
(window as unknown as { neuroplastic: unknown }).neuroplastic = {
  get state() { return state; }, get phase() { return phase; }, get runId() { return runId; }, views: () => views,
  dims: () => (data ? dims(runConfig(state, "a"), data.ds) : null), ruleText,
};
