import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { spawnSync } from "node:child_process";
import { registerTermsModule, TermError } from "../rules/registry.js";
import { registerExpressionTerms } from "../rules/expr/compile.js";
export { writeAtomic } from "../core/files.js";
import { Command, Option } from "commander";
import cliProgress from "cli-progress";
import { ACTIVATIONS, type ActivationName } from "../nn/activations.js";
import { INITS, type InitName } from "../nn/init.js";
import { FEEDBACK_HELP, FEEDBACKS, type FeedbackName } from "../signals/feedback.js";
import { parseThetaSpec, type ThetaSpec } from "../rules/rule.js";
import { parseRuleFile } from "../rules/rule-file.js";
import { BACKENDS, DEFAULT_CONFIG, type Backend, type RunConfig } from "../experiments/task.js";
import { DEFAULT_NET, networkKinds, networkModules, networkOf, type NetFlag } from "../nets/registry.js";
import { optimizerNames, optimizerOf } from "../learn/optimizers.js";
import { NORMS, type Norm } from "../nets/mlp/mlp.js";
import { defaultWorkers } from "../experiments/pool.js";
import { backendRefusal, nativeFastIsa, nativeIsa, nativeMissing } from "../core/native.js";

import { UsageError } from "./errors.js";
export { UsageError } from "./errors.js";

export function intArg(name: string, min = 1) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isInteger(x) || x < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got '${v}'`);
    // Seeds and counts above 2⁵³ do not survive as exact integers.
    if (!Number.isSafeInteger(x)) throw new UsageError(`${name} must be at most 2^53 − 1 (${Number.MAX_SAFE_INTEGER}) to stay an exact integer, got '${v}'`);
    return x;
  };
}

export function numArg(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x)) throw new UsageError(`${name} must be a number, got '${v}'`);
    return x;
  };
}

export function listArg(name: string) {
  return (v: string): number[] => v.split(",").map((s) => s.trim()).map((s, i, all) => {
    if (s === "") throw new UsageError(`${name} has an empty width at position ${i + 1} of ${all.length} in '${v}'`);
    const x = Number(s);
    if (!Number.isInteger(x) || x <= 0) throw new UsageError(`${name} widths must be positive integers, got '${s}'`);
    return x;
  });
}

export function choice<T extends string>(name: string, allowed: readonly T[]) {
  return (v: string): T => {
    if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${name} must be one of ${allowed.join(", ")}, got '${v}'`);
    return v as T;
  };
}

/** The flags shared by every command that runs tasks (a contract scripts rely on); `omit` drops those a command ignores. */
export function addRunOptions(cmd: Command, defaults: Partial<RunConfig> = {}, omit: readonly string[] = []): Command {
  const d = { ...DEFAULT_CONFIG, ...defaults };
  const nets = networkModules(), own = nets.filter((m) => m.defaultHidden);
  const opts: Option[] = [
    new Option(
      "--dataset <name|dir>",
      "'mnist' or 'fashion' (embedded; Fashion-MNIST: first 6,000 images of each class train, last 1,000 test) or a directory of IDX files (DIR/prefix " +
        "picks one set)",
    ).default(d.dataset),
    new Option("--split <split>", "which split tasks are drawn from").choices(["train", "test"]).default(d.split),
    new Option("--transpose", "transpose images (EMNIST's stored orientation)").default(false),
    new Option(
      "--sparse-labels",
      "accept a label set with gaps (classes with no example); refused by default, as a corrupt label would widen the output",
    ).default(false),
    new Option("--net <kind>", `network: ${nets.map((m) => m.help).join(" | ")}`).argParser(choice<string>("--net", networkKinds())).default(DEFAULT_NET),
    new Option("--hidden <widths>", `hidden layer widths, comma-separated${own.length ? ` (${own.map((m) => m.defaultHidden!.help).join("; ")})` : ""}`)
      .argParser(listArg("--hidden"))
      .default(d.hidden, [d.hidden.join(","), ...own.map((m) => `${m.kind}: ${m.defaultHidden!.widths.join(",")}`)].join("; ")),
    // Each network's own flags, from its module.
    ...nets.flatMap((m) => m.flags.map(netOption)),
    new Option("--activation <name>", `hidden activation: ${ACTIVATIONS.join(" | ")}`)
      .argParser(choice<ActivationName>("--activation", ACTIVATIONS))
      .default(d.activation),
    new Option("--beta <b>", "softplus β").argParser(numArg("--beta")).default(d.beta),
    new Option("--bias", "give every layer a bias (none in the paper)").default(false),
    new Option(
      "--init <name|theta>",
      `weight initializer (${INITS.join(" | ")})${cmd.name() === "meta" ? "; also the initial θ, e.g. bp=0.001,oja=0 (both may be given)" : ""}`,
    )
      .argParser(initArg)
      .default({ weights: d.init, theta: null }, d.init),
    new Option("--gain <g>", "initializer gain").argParser(numArg("--gain")).default(d.gain),
    new Option("--feedback <kind>", `error pathway: ${FEEDBACKS.map((k) => `${k} (${FEEDBACK_HELP[k]})`).join(" | ")}`)
      .argParser(choice<FeedbackName>("--feedback", FEEDBACKS))
      .default(d.feedback),
    new Option(
      "--dale [fraction]",
      "Dale's law: this fraction of every hidden layer's units are excitatory (alone: 0.8), the rest inhibitory; their outgoing weights keep " +
        "their sign (a projection after each update)",
    )
      .preset("0.8")
      .argParser(daleArg),
    new Option("--no-oja-output", "leave the output layer out of Oja's rule"),
    new Option("--batch <n>", "examples per update (1 = online)").argParser(intArg("--batch")).default(d.batch),
    new Option("--way <n>", "N: classes per task (at least 2: with one class every answer is right)").argParser(intArg("--way", 2)).default(d.way),
    new Option("--shots <k>", "K: training examples per class").argParser(intArg("--shots")).default(d.shots),
    new Option("--query <q>", "Q: query examples per class").argParser(intArg("--query")).default(d.query),
    new Option("--remap", "output layer of N units with labels 0…N−1 (without it: the whole label set, as published)").default(false),
    new Option("--tasks <n>", "number of tasks").argParser(intArg("--tasks")).default(d.tasks),
    new Option("--epochs <n>", "passes over each task's training set (published: 1)").argParser(intArg("--epochs")).default(1),
    new Option("--seed <s>", "random seed").argParser(intArg("--seed", 0)).default(d.seed),
    new Option("--workers <n>", "worker threads (at most the number of cores)").argParser(intArg("--workers")).default(defaultWorkers(), "the number of cores"),
    new Option(
      "--backend <name>",
      "kernels: auto (native where built, else wasm; the default) | native (C, the same bytes as wasm) | " +
        "native-fast (C with FMA and wide sums: faster, not the same bytes; never chosen by auto) | wasm (SIMD) | js (plain reference); " +
        "named on stderr when given",
    )
      .argParser(choice<Backend | "auto">("--backend", [...BACKENDS, "auto"])),
    new Option("--norm <kind>", "normalization of hidden layers, a baseline trick: none | layer | batch (needs --batch ≥ 2)")
      .argParser(choice<Norm>("--norm", NORMS))
      .default(d.norm),
    new Option(
      "--optimizer <name>",
      optimizerNames()
        .map((n) => `${n} (${optimizerOf(n).help})`)
        .join(" | "),
    )
      .argParser(choice<string>("--optimizer", optimizerNames()))
      .default(d.optimizer),
    new Option("--terms <module>", "a JavaScript module exporting rule terms of your own (`export const terms = [...]`; README)"),
    new Option(
      "--term <def>",
      "a rule term written as a formula, 'name = formula' (e.g. 'myoja = post * (pre - u)'; repeatable; docs/write-your-own-rule.md)",
    ).argParser((v: string, acc: string[] = []) => [...acc, v]),
    new Option("--config <file>", "read flags from a JSON or YAML file (keys: long flag names, as in a result file's `config`); flags given here win"),
    new Option("--print-config", "print the fully resolved configuration as JSON and exit").default(false),
    new Option("--json", "print one JSON line per result on stdout").default(false),
  ];
  for (const o of opts) if (!omit.includes(o.long!)) cmd.addOption(o);
  return cmd;
}

/** --dale: a fraction in [0, 1]. */
function daleArg(v: string): number {
  const x = Number(v);
  if (v.trim() === "" || !(x >= 0 && x <= 1)) throw new UsageError(`--dale takes the excitatory fraction in [0, 1], got '${v}'`);
  return x;
}

/** A network module's flag as a commander Option. */
function netOption(f: NetFlag): Option {
  const name = f.flags.split(" ")[0];
  return new Option(f.flags, f.help).argParser(f.parse === "int0" ? intArg(name, 0) : numArg(name));
}

/** Register the rule terms of --terms before anything reads a rule. */
export async function loadTermsFlag(file: string | undefined, defs: readonly string[] = []): Promise<void> {
  try { registerExpressionTerms(defs); } catch (err) { throw new UsageError(`--term: ${(err as Error).message}`); }
  if (file === undefined) return;
  const abs = resolve(file);
  if (!existsSync(abs)) throw new UsageError(`--terms: no module at ${abs}`);
  try { await registerTermsModule(pathToFileURL(abs).href); } catch (e) {
    // V8 gives a dynamic import's syntax error no location; `node --check` prints "file:line" first.
    if (!(e instanceof TermError) || !/syntax error/.test(e.message)) throw e;
    const line = spawnSync(process.execPath, ["--check", abs], { encoding: "utf8" }).stderr.match(/^\S*?:(\d+)\s*$/m)?.[1];
    throw new TermError(line ? e.message.replace(abs, `${abs}:${line}`) : e.message);
  }
}

/** --init names the weight initializer, or (with '=') the initial θ of meta-learning; both may be given. */
export interface InitFlag { weights: InitName; theta: ThetaSpec | null }
function initArg(v: string, prev: InitFlag): InitFlag {
  if (v.includes("=")) return { ...prev, theta: parseThetaSpec(v) };
  return { ...prev, weights: choice<InitName>("--init", INITS)(v) };
}

export interface RunFlags {
  sparseLabels: boolean; printConfig: boolean;
  dataset: string; split: "train" | "test"; transpose: boolean; hidden: number[]; activation: ActivationName;
  beta: number; bias: boolean; init: InitFlag; gain: number; feedback: FeedbackName; ojaOutput: boolean;
  batch: number; way: number; shots: number; query: number; remap: boolean; tasks: number; seed: number;
  workers: number; json: boolean; backend?: Backend | "auto"; norm: Norm; optimizer: string; epochs: number; dale?: number;
  /** A network kind; each network's own flags (src/nets/registry.ts) are read by their keys. */
  net: string; terms?: string; term?: string[];
}

export function configFrom(f: RunFlags, theta: ThetaSpec): RunConfig {
  if (!(f.beta > 0)) throw new UsageError(`--beta must be positive, got ${f.beta}`);
  if (!(f.gain > 0)) throw new UsageError(`--gain must be positive, got ${f.gain}`);
  if (f.query === 0) throw new UsageError("--query must be at least 1: the query set is what a task is scored on");
  const net = networkOf(f.net);
  // A network's own default widths when --hidden was left at the global default (the RNN's N = 100).
  if (net.defaultHidden && f.hidden === DEFAULT_CONFIG.hidden) f = { ...f, hidden: net.defaultHidden.widths };
  const given = (k: string) => (f as unknown as Record<string, unknown>)[k];
  // Every network's flags that were given, in the registry's order (another network's are refused by checkConfig, by name).
  const netKeys = networkModules().flatMap((m) => m.flags.map((x) => x.key)).filter((k) => given(k) !== undefined);
  return {
    dataset: f.dataset, split: f.split, transpose: f.transpose, hidden: f.hidden, activation: f.activation,
    beta: f.beta, bias: f.bias, init: f.init.weights, gain: f.gain, theta, ojaOutput: f.ojaOutput, feedback: f.feedback,
    batch: f.batch, way: f.way, shots: f.shots, query: f.query, remap: f.remap, tasks: f.tasks, seed: f.seed,
    ...backendFields(resolveBackend(f.backend)), norm: f.norm, optimizer: f.optimizer, epochs: f.epochs,
    ...(net.kind !== DEFAULT_NET ? { net: net.kind } : {}),
    ...Object.fromEntries(netKeys.map((k) => [k, given(k)])),
    ...(f.sparseLabels ? { sparseLabels: true } : {}),
    ...(f.dale !== undefined ? { dale: f.dale } : {}),
  };
}

/** The backends named on stderr so far in this process (a sweep may run several). */
const named = new Set<Backend>();

/**
 * The kernels a run uses: --backend as given, or (auto, and when absent) native where its addon
 * loaded, else wasm. Both give the same bytes (test/native.test.ts), so auto changes no number; the
 * result files name the one that ran (config.backend). When --backend is given, one line on stderr
 * names the active kernels, once per process for each backend a run uses.
 */
export function resolveBackend(want: Backend | "auto" | undefined): Backend {
  const refused = backendRefusal(want ?? "auto");
  if (refused !== null) throw new UsageError(refused);
  const b: Backend = want === undefined || want === "auto" ? (nativeIsa() !== null ? "native" : "wasm") : want;
  if (want !== undefined && !named.has(b)) {
    named.add(b);
    const why = nativeIsa() === null ? `; native ${nativeMissing}` : "";
    const what = b === "native" ? `native (${nativeIsa()}; the same bytes as wasm)`
      : b === "native-fast" ? `native-fast (${nativeFastIsa()}; FMA and wide sums, not the same bytes as wasm)`
      : b === "wasm" ? `wasm (f32x4 SIMD${why})` : "js (the plain reference)";
    process.stderr.write(`neuroplastic: kernels ${what}\n`);
  }
  return b;
}

/** config.backend, and with native-fast the path that ran (config.kernels): a result file or a resume can tell the two paths apart. */
export function backendFields(b: Backend): { backend: Backend; kernels?: string } {
  return b === "native-fast" ? { backend: b, kernels: nativeFastIsa() ?? undefined } : { backend: b };
}

/** --workers within the machine: more threads than cores only contend (and thousands exhaust memory). */
export function cappedWorkers(n: number): number {
  const cores = defaultWorkers();
  if (n <= cores) return n;
  process.stderr.write(`neuroplastic: --workers ${n} is more than this machine's ${cores} cores; using ${cores}\n`);
  return cores;
}

export function readRuleFile(file: string): { theta: ThetaSpec; ojaOutput?: boolean } {
  let text: string;
  try { text = readFileSync(file, "utf8"); } catch { throw new UsageError(`cannot read rule file ${file}`); }
  let json: unknown;
  try { json = JSON.parse(text); } catch { throw new UsageError(`rule file ${file} is not valid JSON`); }
  const r = parseRuleFile(json, file);
  if (Object.keys(r.theta).length === 0) throw new UsageError(`rule file ${file} has an empty θ (expected e.g. {"theta": {"bp": 0.0068}})`);
  return r;
}

export function parseRule(text: string): ThetaSpec {
  return parseThetaSpec(text);
}


/** A progress bar on stderr when it is a terminal and output is for people. */
export function progressBar(total: number, enabled: boolean, label: string) {
  // NEUROPLASTIC_TRACE: progress as plain lines (what tests and scripts wait on instead of sleeping).
  if (process.env.NEUROPLASTIC_TRACE && !process.stderr.isTTY)
    return {
      update: (n: number, _p?: object) => {
        process.stderr.write(`neuroplastic: trace: ${label.trim()} ${n}/${total}\n`);
      },
      stop: () => {},
    };
  if (!enabled || !process.stderr.isTTY) return { update: (_n: number, _p?: object) => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {value}/{total} {eta_formatted} {info}`,
    hideCursor: true,
    clearOnComplete: true,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { info: "" });
  return { update: (n: number, p: object = {}) => bar.update(n, p), stop: () => bar.stop() };
}

/** Render rows as an aligned text table. */
export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  return [line(head), w.map((x) => "-".repeat(x)).join("  "), ...rows.map(line)].join("\n");
}

/** Numbers to 6 significant digits for JSON lines meant for people and scripts. */
export function round(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v]));
}
