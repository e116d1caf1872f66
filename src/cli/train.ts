import { existsSync, readFileSync, readdirSync, statSync, truncateSync, appendFileSync, unlinkSync, writeFileSync, writeSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { Option, type Command } from "commander";
import { formatThetaSpec, type ThetaSpec } from "../rules/rule.js";
import { optimizerOf } from "../learn/optimizers.js";
import { networkOf } from "../nets/registry.js";
import { train, type TrainOutcome } from "../experiments/train.js";
import { checkConfig, dims, fastTag, seqLen, summarize, type RunConfig, type Summary, type TaskResult } from "../experiments/task.js";
import { cachedDataset } from "../experiments/datasets.js";
import { writeCurves } from "../report/curves.js";
import {
  addRunOptions,
  cappedWorkers,
  choice,
  configFrom,
  intArg,
  loadTermsFlag,
  parseRule,
  progressBar,
  readRuleFile,
  round,
  table,
  UsageError,
  writeAtomic,
  type RunFlags,
} from "./common.js";
import { provenance } from "./provenance.js";
import { describeFsError } from "./fs-errors.js";
import { setInterruptNote, whenInterrupted } from "./errors.js";
import { checkOutTarget } from "./out-target.js";
import { warnIfLong } from "./long-run.js";
import { fixed, seText } from "../report/format.js";
import { taskSeconds } from "../experiments/cost.js";
import { writeNpy } from "../data/npy.js";
import type { SavedTask } from "../experiments/export.js";
import { ARRAY_FORMATS, encodeArrayFile, type ArrayFormat } from "../data/array-file.js";
import { checkTensorBoardDir, nameBackend, runDirs, taskScalars, trainLog, writeCurve } from "./tensorboard.js";

/** The comparison the quick start runs: backprop vs backprop + Oja (the brief's coefficients). */
export const DEFAULT_RULES = ["bp=0.0068", "bp=0.0068,oja=0.0053"];

export type TrainFlags = RunFlags & {
  rule: string[];
  ruleFile: string[];
  out?: string;
  curve?: number;
  resume: boolean;
  force: boolean;
  saveWeights?: string;
  saveTasks?: number;
  format?: ArrayFormat;
  tensorboard?: string;
};

export function registerTrain(program: Command): void {
  addRunOptions(
    program
      .command("train")
      .description("online learning over N-way K-shot tasks; one row per --rule")
      .addOption(
        new Option("--rule <terms>", "plasticity rule, e.g. bp=0.0068,oja=0.0053 (repeat to compare; per-layer: oja=a:b:c:d:e)")
          .argParser((v: string, acc: string[]) => [...acc, v])
          .default([], `${DEFAULT_RULES.join(" and ")}, unless --rule-file`),
      )
      .addOption(
        new Option("--rule-file <file>", "a rule JSON file written by `neuroplastic meta` (repeatable)")
          .argParser((v: string, acc: string[]) => [...acc, v])
          .default([], "none"),
      )
      .option(
        "--out <file>",
        "write the results: each task as a line of BASE.tasks.jsonl as it ends (BASE: FILE without .json), the summary to FILE at the end",
      )
      .option("--resume", "continue the run whose tasks are in --out's BASE.tasks.jsonl (skipping the tasks done)", false)
      .option("--force", "overwrite the results of an earlier run at --out", false)
      .option(
        "--save-weights <dir>",
        "write the trained weights of the first --save-tasks tasks as NumPy .npy files with a JSON sidecar (DIR/rule<i>/task<t>/)",
      )
      .option("--save-tasks <n>", "how many tasks --save-weights keeps (default 1)", intArg("--save-tasks", 1))
      .option(
        "--format <fmt>",
        `--save-weights' files: npy (one .npy per array and task.json) | npz (one NumPy .npz per task, the sidecar as its 'sidecar' entry) | safetensors ` +
          `(one .safetensors per task, the sidecar in its metadata); default npy`,
        choice<ArrayFormat>("--format", ARRAY_FORMATS),
      )
      .option(
        "--tensorboard <dir>",
        "write TensorBoard event files as the run goes: per task acc, loss, diverged, weightNorm; with --curve, the curve (one run per rule)",
      )
      .option(
        "--curve <k>",
        "learning curves: query accuracy and loss every k online steps, mean ± se over tasks (JSON, and with --out a CSV and a figure)",
        intArg("--curve", 1),
      )
      .addHelpText("after", "\nExample:\n  neuroplastic train --rule bp=0.0068 --rule bp=0.0068,oja=0.0053 --tasks 200 --out runs/train.json"),
  ).action(runTrain);
}

/** The rules to compare: --rule, --rule-file, or the default pair. */
function rulesOf(o: TrainFlags): { name: string; theta: ThetaSpec; ojaOutput: boolean }[] {
  const rules: { name: string; theta: ThetaSpec; ojaOutput: boolean }[] = [];
  for (const r of o.rule) { const theta = parseRule(r); rules.push({ name: formatThetaSpec(theta), theta, ojaOutput: o.ojaOutput }); }
  for (const f of o.ruleFile) {
    const rf = readRuleFile(f);
    rules.push({ name: formatThetaSpec(rf.theta), theta: rf.theta, ojaOutput: rf.ojaOutput ?? o.ojaOutput });
  }
  if (rules.length === 0) for (const r of DEFAULT_RULES) rules.push({ name: r, theta: parseRule(r), ojaOutput: o.ojaOutput });
  return rules;
}

/**
 * The per-task stream of a run (FILE.tasks.jsonl): a header with the
 * configurations, then one line per task in task order, rule after rule —
 * so a resumed run writes exactly the bytes an uninterrupted one would.
 */
class TaskStream {
  readonly file: string;
  readonly done = new Map<string, TaskResult[]>();
  constructor(out: string, header: object, resume: boolean, force: boolean) {
    this.file = `${out.replace(/\.json$/i, "")}.tasks.jsonl`;
    const head = JSON.stringify(header);
    const earlier = existsSync(this.file) || existsSync(out);
    if (!resume && earlier && !force)
      throw new UsageError(`${existsSync(out) ? out : this.file} holds an earlier run's results; resume it with --resume, or overwrite it with --force`);
    if (resume && existsSync(this.file)) {
      const text = readFileSync(this.file, "utf8"), lines = text.split("\n");
      // A kill during a write leaves a partial last line: drop it.
      const complete = text.endsWith("\n") ? lines.slice(0, -1) : lines.slice(0, -1);
      if (complete[0] !== head)
        throw new UsageError(`${this.file} was written by a different configuration (${differing(complete[0], head)}); use another --out or drop --resume`);
      for (const [k, l] of complete.slice(1).entries()) {
        let r: TaskResult & { rule: string };
        try {
          r = JSON.parse(l);
        } catch {
          throw new UsageError(`${this.file} line ${k + 2} is not a task result (damaged file); use another --out or --force`);
        }
        if (typeof r !== "object" || r === null || typeof r.rule !== "string" || !Number.isInteger(r.task))
          throw new UsageError(`${this.file} line ${k + 2} is not a task result (damaged file); use another --out or --force`);
        const list = this.done.get(r.rule) ?? [];
        const { rule: _r, ...rest } = r;
        list.push({ ...rest, weightNorm: rest.weightNorm ?? NaN });
        this.done.set(r.rule, list);
      }
      const keep = complete.map((l) => l + "\n").join("");
      if (keep.length !== text.length) truncateSync(this.file, Buffer.byteLength(keep));
    } else {
      if (resume) process.stderr.write(`neuroplastic: --resume: no earlier run at ${this.file}; starting from the first task\n`);
      writeFileSync(this.file, head + "\n");
    }
  }
  append(rule: string, r: TaskResult): void {
    appendFileSync(this.file, JSON.stringify({ rule, ...r }) + "\n");
  }
}

/** Which top-level configuration fields differ between two JSON headers. */
function differing(a: string | undefined, b: string): string {
  try {
    const x = JSON.parse(a ?? "{}").config ?? [], y = JSON.parse(b).config ?? [];
    const keys = new Set<string>();
    for (let i = 0; i < Math.max(x.length, y.length); i++)
      for (const k of new Set([...Object.keys(x[i] ?? {}), ...Object.keys(y[i] ?? {})]))
        if (JSON.stringify(x[i]?.[k]) !== JSON.stringify(y[i]?.[k])) keys.add(k);
    return keys.size ? `fields that differ: ${[...keys].join(", ")}` : "another set of rules";
  } catch { return "an unreadable header"; }
}

/** --save-weights DIR: refuse to mix with an earlier run's files unless resuming or forced; check it can be written. */
function checkWeightsDir(dir: string, resume: boolean, force: boolean): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--save-weights ${dir} is a file; give a directory`);
  if (existsSync(dir) && readdirSync(dir).some((f) => /^rule\d+$/.test(f)) && !resume && !force) {
    throw new UsageError(`--save-weights ${dir} holds an earlier run's weights; resume it with --resume, or overwrite it with --force`);
  }
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.${process.pid}.probe`);
    writeFileSync(probe, "");
    unlinkSync(probe);
  } catch (e) { throw new UsageError(`cannot write --save-weights ${dir}: ${describeFsError(e)}`); }
}

/**
 * One task's trained arrays: DIR/rule<i>/task<t>/<name>.npy (NumPy v1.0,
 * little-endian float32, C order) and task.json, written last, so a task
 * whose sidecar exists is complete. The sidecar holds what a reader needs to
 * rebuild the forward pass and rescore the task: shape and conventions, θ,
 * the run's configuration, the example indices (into the dataset split, in
 * the order trained) and labels (as the network saw them), and the scores.
 */
function writeSavedTask(
  dir: string,
  i: number,
  rule: { name: string; theta: ThetaSpec },
  cfg: RunConfig,
  r: TaskResult,
  saved: SavedTask,
  format: ArrayFormat = "npy",
): void {
  const at = join(dir, `rule${i}`, `task${r.task}`);
  const files = saved.tensors.map((x) => {
    const file = `${x.name}.npy`;
    if (format === "npy") writeNpy(join(at, file), x.data, x.shape);
    return { name: x.name, ...(format === "npy" ? { file } : {}), shape: x.shape, dtype: x.data instanceof Float64Array ? "<f8" : "<f4" };
  });
  const ds = cachedDataset(cfg);
  const sidecar = {
    format: "neuroplastic weights 1",
    rule: rule.name,
    theta: rule.theta,
    task: r.task,
    ...saved.network,
    files,
    pixels: "x = image bytes / 255 as float32, row-major (the dataset's rows × cols)",
    dataset: { source: cfg.dataset, split: cfg.split, rows: ds.rows, cols: ds.cols, transposed: ds.transposed ?? false },
    scores: { acc: r.acc, loss: r.loss, diverged: r.diverged },
    trainIdx: saved.trainIdx,
    trainLabels: saved.trainLabels,
    queryIdx: saved.queryIdx,
    queryLabels: saved.queryLabels,
    config: cfg,
    provenance: provenance(),
  };
  // Lists of numbers on one line each: the sidecar stays readable.
  const text = JSON.stringify(sidecar, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, xs: string) => `[${xs.split(/,\s*/).join(", ")}]`);
  if (format === "npy") writeAtomic(join(at, "task.json"), text + "\n");
  else writeAtomic(`${at}.${format}`, encodeArrayFile(format, saved.tensors, text + "\n"));
}

/** On an interrupt: the rules that finished, and the finished tasks of the one running (partial), on stdout at once. */
function printPartial(
  json: boolean,
  rules: { rule: string; theta: ThetaSpec; cfg: RunConfig }[],
  outcomes: { rule: string }[],
  finished: Map<string, TaskResult[]>,
): void {
  const rows = rules
    .filter((r) => (finished.get(r.rule)?.length ?? 0) > 0 || outcomes.some((x) => x.rule === r.rule))
    .map((r) => {
      const rs = finished.get(r.rule) ?? [];
      return { ...r, s: summarize(rs), partial: rs.length < r.cfg.tasks };
    });
  if (json) {
    // Completed rules were printed as they ended; the one running is added, marked partial.
    for (const r of rows.filter((x) => x.partial))
      writeSync(1, JSON.stringify({ rule: r.rule, theta: r.theta, partial: true, ...round(r.s), config: r.cfg }) + "\n");
    return;
  }
  if (rows.length === 0) {
    writeSync(1, "no task had finished\n");
    return;
  }
  writeSync(1, resultTable(rules[0].cfg, rows) + "\n");
}

/** The error pathway in a results header ("backprop", "feedback alignment", "feedback dfa"), with Dale's fraction when constrained. */
function pathwayName(c: RunConfig): string {
  const p = c.feedback === "sym" ? "backprop" : c.feedback === "random" ? "feedback alignment" : `feedback ${c.feedback}`;
  return c.dale !== undefined ? `${p}  Dale ${c.dale}` : p;
}

/** The run's header line and one table row per rule (a partial one marked as such, without a rate). */
export function resultTable(c: RunConfig, rows: { rule: string; s: Summary; rate?: number; partial?: boolean }[]): string {
  const ds = cachedDataset(c), nOut = dims(c, ds).at(-1)!;
  const mod = networkOf(c.net), net = mod.describe(c, ds);
  const head = `${c.dataset}:${c.split}  ${net} → ${nOut} outputs  ${c.way}-way ${c.shots}-shot, ${c.query} query/class  ${c.tasks} tasks  batch ` +
    `${c.batch}  ${pathwayName(c)}  ${c.init} gain ${c.gain}  seed ${c.seed}`;
  return (
    head +
    "\n" +
    table(
      ["rule", "query acc", "± se", "query loss", "diverged", "Σ‖W‖", `${mod.rateUnit}/s`],
      rows.map(({ rule, s, rate, partial }) => [
        partial ? `${rule} (partial: ${s.tasks} of ${c.tasks} tasks)` : rule,
        fixed(s.acc),
        seText(s.acc_se, s.acc, s.tasks),
        fixed(s.loss),
        String(s.diverged),
        fixed(s.weight_norm, 2),
        rate === undefined ? "—" : fixed(rate, 0),
      ]),
    )
  );
}

/** Fail before any training if --out cannot be written (a path under a file, a directory, no permission). */
function checkWritable(out: string): void {
  try {
    if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a directory; give a file name, e.g. ${out}/results.json`);
    mkdirSync(dirname(out), { recursive: true });
    const probe = `${out}.${process.pid}.probe`;
    writeFileSync(probe, "");
    unlinkSync(probe);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot write --out ${out}: ${describeFsError(e)}`);
  }
}

/** The rules and one run configuration per rule that the flags describe (checked; nothing run). Also how `sweep` resolves a train cell. */
export function trainConfigsOf(o: TrainFlags): { rules: { name: string; theta: ThetaSpec; ojaOutput: boolean }[]; cfgs: RunConfig[] } {
  if (o.init.theta) throw new UsageError("--init with coefficients sets the initial θ of `meta`; `train` takes --rule");
  const rules = rulesOf(o);
  return { rules, cfgs: rules.map((r) => ({ ...configFrom(o, r.theta), ojaOutput: r.ojaOutput })) };
}

async function runTrain(o: TrainFlags): Promise<void> {
  await loadTermsFlag(o.terms, o.term);
  if (o.resume && !o.out) throw new UsageError("--resume needs --out FILE (where the earlier run's tasks are)");
  if (o.saveTasks !== undefined && !o.saveWeights) throw new UsageError("--save-tasks needs --save-weights DIR");
  if (o.format !== undefined && !o.saveWeights) throw new UsageError("--format needs --save-weights DIR");
  const { rules, cfgs } = trainConfigsOf(o);
  if (o.printConfig) {
    // Accepted back by --config: one rule's configuration as a result file holds it; several rules as one
    // configuration with the list of rules (what --rule given several times means).
    const { theta: _t, ...shared } = cfgs[0];
    process.stdout.write(JSON.stringify(cfgs.length === 1 ? cfgs[0] : { ...shared, rule: rules.map((r) => r.name) }, null, 1) + "\n");
    return;
  }
  // Everything is checked before anything is written: bad input leaves no files or directories behind.
  for (const c of cfgs) checkConfig(c, cachedDataset(c));
  const workers = cappedWorkers(o.workers);
  const note = optimizerOf(cfgs[0].optimizer).note;
  if (note) process.stderr.write(`neuroplastic: ${note}\n`);
  if (o.out) {
    const base = o.out.replace(/\.json$/i, "");
    checkOutTarget("--out", o.out, [`${base}.tasks.jsonl`, ...(o.curve ? ["csv", "svg", "png"].map((x) => `${base}-curve.${x}`) : [])]);
    checkWritable(o.out);
  }
  const saveTasks = o.saveWeights ? (o.saveTasks ?? 1) : 0;
  if (saveTasks > cfgs[0].tasks) throw new UsageError(`--save-tasks ${saveTasks} is more than --tasks ${cfgs[0].tasks}`);
  if (o.saveWeights) checkOutTarget("--save-weights", o.saveWeights);
  if (o.saveWeights) checkWeightsDir(o.saveWeights, o.resume, o.force);
  if (o.tensorboard) checkTensorBoardDir(o.tensorboard, o.resume, o.force);
  const tbDirs = o.tensorboard ? runDirs(o.tensorboard, rules.map((r) => r.name)) : [];
  const T = seqLen(cfgs[0], cachedDataset(cfgs[0]));
  warnIfLong(
    cfgs.reduce((s, c) => s + c.tasks * taskSeconds(c), 0) / workers,
    `${rules.length} × ${cfgs[0].tasks} tasks${T > 1 ? ` of sequences ${T} steps long` : ""} on ${workers} worker(s)`,
    Boolean(o.out),
  );
  const stream = o.out ? new TaskStream(o.out, { config: cfgs, rules: rules.map((r) => r.name) }, o.resume, o.force) : null;
  const outcomes: { rule: string; cfg: RunConfig; out: TrainOutcome }[] = [];
  // Interrupted: the finished tasks are printed (marked partial), never discarded; without --out there is nothing to resume.
  const finished = new Map<string, TaskResult[]>();
  if (!o.out) setInterruptNote("nothing was saved to resume from; pass --out FILE to make a run resumable (--resume then continues it)");
  whenInterrupted(() => printPartial(o.json, rules.map((r, i) => ({ rule: r.name, theta: r.theta, cfg: cfgs[i] })), outcomes, finished));
  for (const [i, r] of rules.entries()) {
    finished.set(r.name, [...(stream?.done.get(r.name) ?? [])]);
    const cfg = cfgs[i];
    const bar = progressBar(cfg.tasks, !o.json, r.name.length > 24 ? r.name.slice(0, 23) + "…" : r.name.padEnd(24));
    let out;
    const tb = o.tensorboard ? nameBackend(trainLog(tbDirs[i], o.resume ? stream?.done.get(r.name) ?? [] : undefined), cfg) : null;
    try {
      out = await train(cfg, workers, (n) => bar.update(n), undefined, {
        curve: o.curve,
        done: stream?.done.get(r.name),
        onResult: (t) => {
          stream?.append(r.name, t);
          finished.get(r.name)!.push(t);
          tb?.scalars(t.task, taskScalars(t));
        },
        save: saveTasks,
        onSaved: (res, saved) => writeSavedTask(o.saveWeights!, i + 1, r, cfg, res, saved, o.format),
      });
    } finally { bar.stop(); }
    if (tb && out.curve) writeCurve(tb, out.curve);
    outcomes.push({ rule: r.name, cfg, out });
    if (o.json) {
      const { results: _r, ...s } = out;
      process.stdout.write(JSON.stringify({ rule: r.name, theta: r.theta, ...round(s), seq_len: seqLen(cfg, cachedDataset(cfg)), config: cfg }) + "\n");
    }
  }
  const curves = outcomes.filter((x) => x.out.curve).map((x) => ({ rule: x.rule, curve: x.out.curve! }));
  // The table (or JSON) reaches stdout before the summary files are written: a failed write never swallows results.
  if (!o.json) {
    console.log(resultTable(outcomes[0].cfg, outcomes.map(({ rule, out }) => ({ rule, s: out, rate: out.steps_per_s }))));
    if (curves.length) {
      const steps = curves[0].curve.map((p) => p.step);
      const shown = steps.length <= 12 ? steps.map((_, i) => i) : Array.from({ length: 12 }, (_, i) => Math.round((i * (steps.length - 1)) / 11));
      console.log(
        `\nlearning curve (query accuracy ± se after k examples)${shown.length < steps.length ? `, ${shown.length} of ${steps.length} points` : ""}:`,
      );
      console.log(
        table(
          ["rule", ...shown.map((i) => String(steps[i]))],
          curves.map((cv) => [
            cv.rule,
            ...shown.map((i) => `${fixed(cv.curve[i].acc, 3)}±${seText(cv.curve[i].acc_se, cv.curve[i].acc, outcomes[0].cfg.tasks, 3)}`),
          ]),
        ),
      );
    }
  }
  // The results file holds no timing, so the same seed gives the same bytes (timing is on stdout).
  if (o.out) {
    writeAtomic(
      o.out,
      JSON.stringify(
        { provenance: provenance(), runs: outcomes.map(({ rule, cfg, out: { seconds: _s, steps_per_s: _r, ...rest } }) => ({ rule, config: cfg, ...rest })) },
        null,
        1,
      ) + "\n",
    );
    const files = [o.out, stream!.file];
    if (curves.length) {
      const c0 = outcomes[0].cfg;
      files.push(...(await writeCurves(o.out.replace(/\.json$/i, ""), curves, c0.way, fastTag(c0.backend, c0.kernels) as Record<string, string>)));
    }
    if (!o.json) console.log(`wrote ${files.join(", ")}`);
  }
}
