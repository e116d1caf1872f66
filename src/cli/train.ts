import { existsSync, readFileSync, readdirSync, statSync, truncateSync, appendFileSync, unlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { Option, type Command } from "commander";
import { formatThetaSpec, type ThetaSpec } from "../rules/rule.js";
import { optimizerOf } from "../learn/optimizers.js";
import { networkOf } from "../nets/registry.js";
import { train, type TrainOutcome } from "../experiments/train.js";
import { checkConfig, dims, seqLen, type RunConfig, type TaskResult } from "../experiments/task.js";
import { cachedDataset } from "../experiments/datasets.js";
import { writeCurves } from "../report/curves.js";
import { addRunOptions, cappedWorkers, configFrom, intArg, loadTermsFlag, parseRule, progressBar, readRuleFile, round, table, UsageError, writeAtomic, type RunFlags } from "./common.js";
import { provenance } from "./provenance.js";
import { describeFsError } from "./fs-errors.js";
import { writeNpy } from "../data/npy.js";
import type { SavedTask } from "../experiments/export.js";

/** The comparison the quick start runs: backprop vs backprop + Oja (the brief's coefficients). */
export const DEFAULT_RULES = ["bp=0.0068", "bp=0.0068,oja=0.0053"];

export type TrainFlags = RunFlags & { rule: string[]; ruleFile: string[]; out?: string; curve?: number; resume: boolean; force: boolean; saveWeights?: string; saveTasks?: number };

export function registerTrain(program: Command): void {
  addRunOptions(
    program.command("train")
      .description("online learning over N-way K-shot tasks; one row per --rule")
      .addOption(new Option("--rule <terms>", "plasticity rule, e.g. bp=0.0068,oja=0.0053 (repeat to compare; per-layer: oja=a:b:c:d:e)").argParser((v: string, acc: string[]) => [...acc, v]).default([], `${DEFAULT_RULES.join(" and ")}, unless --rule-file`))
      .addOption(new Option("--rule-file <file>", "a rule JSON file written by `neuroplastic meta` (repeatable)").argParser((v: string, acc: string[]) => [...acc, v]).default([], "none"))
      .option("--out <file>", "write the results: each task as a line of FILE.tasks.jsonl as it ends, the summary to FILE at the end")
      .option("--resume", "continue the run whose tasks are in --out's FILE.tasks.jsonl (skipping the tasks done)", false)
      .option("--force", "overwrite the results of an earlier run at --out", false)
      .option("--save-weights <dir>", "write the trained weights of the first --save-tasks tasks as NumPy .npy files with a JSON sidecar (DIR/rule<i>/task<t>/)")
      .option("--save-tasks <n>", "how many tasks --save-weights keeps (default 1)", intArg("--save-tasks", 1))
      .option("--curve <k>", "learning curves: query accuracy and loss every k online steps, mean ± se over tasks (JSON, and with --out a CSV and a figure)", intArg("--curve", 1))
      .addHelpText("after", "\nExample:\n  neuroplastic train --rule bp=0.0068 --rule bp=0.0068,oja=0.0053 --tasks 200 --out runs/train.json"),
  ).action(runTrain);
}

/** The rules to compare: --rule, --rule-file, or the default pair. */
function rulesOf(o: TrainFlags): { name: string; theta: ThetaSpec; ojaOutput: boolean }[] {
  const rules: { name: string; theta: ThetaSpec; ojaOutput: boolean }[] = [];
  for (const r of o.rule) { const theta = parseRule(r); rules.push({ name: formatThetaSpec(theta), theta, ojaOutput: o.ojaOutput }); }
  for (const f of o.ruleFile) { const rf = readRuleFile(f); rules.push({ name: formatThetaSpec(rf.theta), theta: rf.theta, ojaOutput: rf.ojaOutput ?? o.ojaOutput }); }
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
    if (!resume && earlier && !force) throw new UsageError(`${existsSync(out) ? out : this.file} holds an earlier run's results; resume it with --resume, or overwrite it with --force`);
    if (resume && existsSync(this.file)) {
      const text = readFileSync(this.file, "utf8"), lines = text.split("\n");
      // A kill during a write leaves a partial last line: drop it.
      const complete = text.endsWith("\n") ? lines.slice(0, -1) : lines.slice(0, -1);
      if (complete[0] !== head) throw new UsageError(`${this.file} was written by a different configuration (${differing(complete[0], head)}); use another --out or drop --resume`);
      for (const [k, l] of complete.slice(1).entries()) {
        let r: TaskResult & { rule: string };
        try { r = JSON.parse(l); } catch { throw new UsageError(`${this.file} line ${k + 2} is not a task result (damaged file); use another --out or --force`); }
        if (typeof r !== "object" || r === null || typeof r.rule !== "string" || !Number.isInteger(r.task)) throw new UsageError(`${this.file} line ${k + 2} is not a task result (damaged file); use another --out or --force`);
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
    for (let i = 0; i < Math.max(x.length, y.length); i++) for (const k of new Set([...Object.keys(x[i] ?? {}), ...Object.keys(y[i] ?? {})])) if (JSON.stringify(x[i]?.[k]) !== JSON.stringify(y[i]?.[k])) keys.add(k);
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
function writeSavedTask(dir: string, i: number, rule: { name: string; theta: ThetaSpec }, cfg: RunConfig, r: TaskResult, saved: SavedTask): void {
  const at = join(dir, `rule${i}`, `task${r.task}`);
  const files = saved.tensors.map((x) => {
    const file = `${x.name}.npy`;
    writeNpy(join(at, file), x.data, x.shape);
    return { name: x.name, file, shape: x.shape, dtype: x.data instanceof Float64Array ? "<f8" : "<f4" };
  });
  const ds = cachedDataset(cfg);
  const sidecar = {
    format: "neuroplastic weights 1", rule: rule.name, theta: rule.theta, task: r.task,
    ...saved.network, files,
    pixels: "x = image bytes / 255 as float32, row-major (the dataset's rows × cols)",
    dataset: { source: cfg.dataset, split: cfg.split, rows: ds.rows, cols: ds.cols, transposed: ds.transposed ?? false },
    scores: { acc: r.acc, loss: r.loss, diverged: r.diverged },
    trainIdx: saved.trainIdx, trainLabels: saved.trainLabels, queryIdx: saved.queryIdx, queryLabels: saved.queryLabels,
    config: cfg, provenance: provenance(),
  };
  // Lists of numbers on one line each: the sidecar stays readable.
  const text = JSON.stringify(sidecar, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, xs: string) => `[${xs.split(/,\s*/).join(", ")}]`);
  writeAtomic(join(at, "task.json"), text + "\n");
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
  const { rules, cfgs } = trainConfigsOf(o);
  if (o.printConfig) {
    // One configuration per rule, each accepted back by --config.
    process.stdout.write(JSON.stringify(cfgs.length === 1 ? cfgs[0] : cfgs, null, 1) + "\n");
    return;
  }
  // Everything is checked before anything is written: bad input leaves no files or directories behind.
  for (const c of cfgs) checkConfig(c, cachedDataset(c));
  const workers = cappedWorkers(o.workers);
  const note = optimizerOf(cfgs[0].optimizer).note;
  if (note) process.stderr.write(`neuroplastic: ${note}\n`);
  if (o.out) checkWritable(o.out);
  const saveTasks = o.saveWeights ? (o.saveTasks ?? 1) : 0;
  if (saveTasks > cfgs[0].tasks) throw new UsageError(`--save-tasks ${saveTasks} is more than --tasks ${cfgs[0].tasks}`);
  if (o.saveWeights) checkWeightsDir(o.saveWeights, o.resume, o.force);
  const stream = o.out ? new TaskStream(o.out, { config: cfgs, rules: rules.map((r) => r.name) }, o.resume, o.force) : null;
  const outcomes: { rule: string; cfg: RunConfig; out: TrainOutcome }[] = [];
  for (const [i, r] of rules.entries()) {
    const cfg = cfgs[i];
    const bar = progressBar(cfg.tasks, !o.json, r.name.length > 24 ? r.name.slice(0, 23) + "…" : r.name.padEnd(24));
    let out;
    try {
      out = await train(cfg, workers, (n) => bar.update(n), undefined, {
        curve: o.curve, done: stream?.done.get(r.name), onResult: (t) => stream?.append(r.name, t),
        save: saveTasks, onSaved: (res, saved) => writeSavedTask(o.saveWeights!, i + 1, r, cfg, res, saved),
      });
    } finally { bar.stop(); }
    outcomes.push({ rule: r.name, cfg, out });
    if (o.json) {
      const { results: _r, ...s } = out;
      process.stdout.write(JSON.stringify({ rule: r.name, theta: r.theta, ...round(s), seq_len: seqLen(cfg, cachedDataset(cfg)), config: cfg }) + "\n");
    }
  }
  const curves = outcomes.filter((x) => x.out.curve).map((x) => ({ rule: x.rule, curve: x.out.curve! }));
  // The table (or JSON) reaches stdout before the summary files are written: a failed write never swallows results.
  if (!o.json) {
    const c = outcomes[0].cfg, ds = cachedDataset(c), nOut = dims(c, ds).at(-1)!;
    const mod = networkOf(c.net), net = mod.describe(c, ds);
    console.log(`${c.dataset}:${c.split}  ${net} → ${nOut} outputs  ${c.way}-way ${c.shots}-shot, ${c.query} query/class  ${c.tasks} tasks  batch ${c.batch}  ${c.feedback === "sym" ? "backprop" : "feedback alignment"}  ${c.init} gain ${c.gain}  seed ${c.seed}`);
    console.log(table(
      ["rule", "query acc", "± se", "query loss", "diverged", "Σ‖W‖", `${mod.rateUnit}/s`],
      outcomes.map(({ rule, out }) => [rule, out.acc.toFixed(4), out.acc_se.toFixed(4), out.loss.toFixed(4), String(out.diverged), Number.isFinite(out.weight_norm) ? out.weight_norm.toFixed(2) : "diverged", out.steps_per_s.toFixed(0)]),
    ));
    if (curves.length) {
      const steps = curves[0].curve.map((p) => p.step);
      const shown = steps.length <= 12 ? steps.map((_, i) => i) : Array.from({ length: 12 }, (_, i) => Math.round((i * (steps.length - 1)) / 11));
      console.log(`\nlearning curve (query accuracy ± se after k examples)${shown.length < steps.length ? `, ${shown.length} of ${steps.length} points` : ""}:`);
      console.log(table(["rule", ...shown.map((i) => String(steps[i]))], curves.map((cv) => [cv.rule, ...shown.map((i) => `${cv.curve[i].acc.toFixed(3)}±${cv.curve[i].acc_se.toFixed(3)}`)])));
    }
  }
  // The results file holds no timing, so the same seed gives the same bytes (timing is on stdout).
  if (o.out) {
    writeAtomic(o.out, JSON.stringify({ provenance: provenance(), runs: outcomes.map(({ rule, cfg, out: { seconds: _s, steps_per_s: _r, ...rest } }) => ({ rule, config: cfg, ...rest })) }, null, 1) + "\n");
    const files = [o.out, stream!.file];
    if (curves.length) files.push(...(await writeCurves(o.out.replace(/\.json$/i, ""), curves, outcomes[0].cfg.way)));
    if (!o.json) console.log(`wrote ${files.join(", ")}`);
  }
}
