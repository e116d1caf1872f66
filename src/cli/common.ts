import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { registerTermsModule } from "../rules/registry.js";
export { writeAtomic } from "../core/files.js";
import { Command, Option } from "commander";
import cliProgress from "cli-progress";
import { ACTIVATIONS, type ActivationName } from "../nn/activations.js";
import { INITS, type InitName } from "../nn/init.js";
import { FEEDBACKS, type FeedbackName } from "../signals/feedback.js";
import { parseRuleFile, parseThetaSpec, type ThetaSpec } from "../rules/rule.js";
import { BACKENDS, DEFAULT_CONFIG, NETS, OPTIMIZERS, type Backend, type NetKind, type Optimizer, type RunConfig } from "../experiments/task.js";
import { NORMS, type Norm } from "../nets/mlp/mlp.js";
import { defaultWorkers } from "../experiments/pool.js";

/** An error whose message is the whole story: printed as one line, no stack. */
export class UsageError extends Error {}

export function intArg(name: string, min = 1) {
  return (v: string): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got '${v}'`);
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
  return (v: string): number[] => v.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
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

/** The flags shared by every command that runs tasks (a contract scripts rely on). */
export function addRunOptions(cmd: Command, defaults: Partial<RunConfig> = {}): Command {
  const d = { ...DEFAULT_CONFIG, ...defaults };
  return cmd
    .option("--dataset <name|dir>", "'mnist' or 'fashion' (embedded; Fashion-MNIST: first 6,000 images of each class train, last 1,000 test) or a directory of IDX files (DIR/prefix picks one set)", d.dataset)
    .addOption(new Option("--split <split>", "which split tasks are drawn from").choices(["train", "test"]).default(d.split))
    .option("--transpose", "transpose images (EMNIST's stored orientation)", false)
    .option("--net <kind>", "network: mlp | rnn (the rate RNN of PAPER.md, images presented row by row)", choice<NetKind>("--net", NETS), "mlp")
    .option("--hidden <widths>", "hidden layer widths, comma-separated (rnn: one width, N)", listArg("--hidden"), d.hidden)
    .option("--delay <D>", "rnn: steps of zero input between the last image row and the read-out", intArg("--delay", 0))
    .option("--gain-rec <g>", "rnn: initializer gain of the recurrent weights J (default: --gain)", numArg("--gain-rec"))
    .option("--leak <alpha>", "rnn: leak α in (0, 1] (default 1)", numArg("--leak"))
    .option("--activation <name>", `hidden activation: ${ACTIVATIONS.join("|")}`, choice<ActivationName>("--activation", ACTIVATIONS), d.activation)
    .option("--beta <b>", "softplus β", numArg("--beta"), d.beta)
    .option("--bias", "give every layer a bias (off by default, as in the paper)", false)
    .option("--init <name|theta>", `weight initializer (${INITS.join("|")}); for meta also the initial θ, e.g. bp=0.001,oja=0 (repeatable)`, initArg, { weights: d.init, theta: null })
    .option("--gain <g>", "initializer gain", numArg("--gain"), d.gain)
    .option("--feedback <kind>", "error pathway: sym (backprop) | random (feedback alignment)", choice<FeedbackName>("--feedback", FEEDBACKS), d.feedback)
    .option("--no-oja-output", "leave the output layer out of Oja's rule")
    .option("--batch <n>", "examples per update (1 = online)", intArg("--batch"), d.batch)
    .option("--way <n>", "N: classes per task", intArg("--way"), d.way)
    .option("--shots <k>", "K: training examples per class", intArg("--shots"), d.shots)
    .option("--query <q>", "Q: query examples per class", intArg("--query", 0), d.query)
    .option("--remap", "output layer of N units with labels 0…N−1 (default: whole label set, as published)", false)
    .option("--tasks <n>", "number of tasks", intArg("--tasks"), d.tasks)
    .option("--epochs <n>", "passes over each task's training set (published: 1)", intArg("--epochs"), 1)
    .option("--seed <s>", "random seed", intArg("--seed", 0), d.seed)
    .option("--workers <n>", "worker threads", intArg("--workers"), defaultWorkers())
    .option("--backend <name>", "kernels: wasm (SIMD) | js (plain reference)", choice<Backend>("--backend", BACKENDS), d.backend)
    .option("--norm <kind>", "normalization of hidden layers, a baseline trick: none | layer | batch (needs --batch ≥ 2)", choice<Norm>("--norm", NORMS), d.norm)
    .option("--optimizer <name>", "sgd (the rule as is) | adam (the pseudo-gradient through Adam, θ_bp as learning rate; a baseline)", choice<Optimizer>("--optimizer", OPTIMIZERS), d.optimizer)
    .option("--terms <module>", "a JavaScript module exporting rule terms of your own (`export const terms = [...]`; README)")
    .option("--json", "print one JSON line per result on stdout", false);
}

/** Register the rule terms of --terms before anything reads a rule. */
export async function loadTermsFlag(file: string | undefined): Promise<void> {
  if (file === undefined) return;
  const abs = resolve(file);
  if (!existsSync(abs)) throw new UsageError(`--terms: no module at ${abs}`);
  await registerTermsModule(pathToFileURL(abs).href);
}

/** --init names the weight initializer, or (with '=') the initial θ of meta-learning; both may be given. */
export interface InitFlag { weights: InitName; theta: ThetaSpec | null }
function initArg(v: string, prev: InitFlag): InitFlag {
  if (v.includes("=")) return { ...prev, theta: parseThetaSpec(v) };
  return { ...prev, weights: choice<InitName>("--init", INITS)(v) };
}

export interface RunFlags {
  dataset: string; split: "train" | "test"; transpose: boolean; hidden: number[]; activation: ActivationName;
  beta: number; bias: boolean; init: InitFlag; gain: number; feedback: FeedbackName; ojaOutput: boolean;
  batch: number; way: number; shots: number; query: number; remap: boolean; tasks: number; seed: number;
  workers: number; json: boolean; backend: Backend; norm: Norm; optimizer: Optimizer; epochs: number;
  net: NetKind; delay?: number; gainRec?: number; leak?: number; terms?: string;
}

export function configFrom(f: RunFlags, theta: ThetaSpec): RunConfig {
  if (!(f.beta > 0)) throw new UsageError(`--beta must be positive, got ${f.beta}`);
  if (!(f.gain > 0)) throw new UsageError(`--gain must be positive, got ${f.gain}`);
  if (f.net === "rnn" && f.hidden === DEFAULT_CONFIG.hidden) f = { ...f, hidden: [100] }; // the RNN's default N
  return {
    dataset: f.dataset, split: f.split, transpose: f.transpose, hidden: f.hidden, activation: f.activation,
    beta: f.beta, bias: f.bias, init: f.init.weights, gain: f.gain, theta, ojaOutput: f.ojaOutput, feedback: f.feedback,
    batch: f.batch, way: f.way, shots: f.shots, query: f.query, remap: f.remap, tasks: f.tasks, seed: f.seed,
    backend: f.backend, norm: f.norm, optimizer: f.optimizer, epochs: f.epochs,
    ...(f.net === "rnn" ? { net: f.net } : {}),
    ...(f.delay !== undefined ? { delay: f.delay } : {}),
    ...(f.gainRec !== undefined ? { gainRec: f.gainRec } : {}),
    ...(f.leak !== undefined ? { leak: f.leak } : {}),
  };
}

export function readRuleFile(file: string): { theta: ThetaSpec; ojaOutput?: boolean } {
  let text: string;
  try { text = readFileSync(file, "utf8"); } catch { throw new UsageError(`cannot read rule file ${file}`); }
  let json: unknown;
  try { json = JSON.parse(text); } catch { throw new UsageError(`rule file ${file} is not valid JSON`); }
  return parseRuleFile(json, file);
}

export function parseRule(text: string): ThetaSpec {
  return parseThetaSpec(text);
}


/** A progress bar on stderr when it is a terminal and output is for people. */
export function progressBar(total: number, enabled: boolean, label: string) {
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
