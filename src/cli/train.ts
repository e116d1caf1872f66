import type { Command } from "commander";
import { formatThetaSpec, type ThetaSpec } from "../rules/rule.js";
import { train } from "../experiments/train.js";
import { cachedDataset, seqLen } from "../experiments/task.js";
import { writeCurves } from "../report/curves.js";
import { addRunOptions, configFrom, intArg, loadTermsFlag, parseRule, progressBar, readRuleFile, round, table, UsageError, writeAtomic, type RunFlags } from "./common.js";

/** The comparison the quick start runs: backprop vs backprop + Oja (the brief's coefficients). */
export const DEFAULT_RULES = ["bp=0.0068", "bp=0.0068,oja=0.0053"];

type TrainFlags = RunFlags & { rule: string[]; ruleFile: string[]; out?: string; curve?: number };

export function registerTrain(program: Command): void {
  addRunOptions(
    program.command("train")
      .description("online learning over N-way K-shot tasks; one row per --rule (default: bp vs bp+oja)")
      .option("--rule <terms>", "plasticity rule, e.g. bp=0.0068,oja=0.0053 (repeat to compare; per-layer: oja=a:b:c:d:e)", (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option("--rule-file <file>", "a rule JSON file written by `neuroplastic meta` (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option("--out <file>", "also write every task's result as JSON (atomically)")
      .option("--curve <k>", "learning curves: query accuracy and loss every k online steps, mean ± se over tasks (JSON, and with --out a CSV and a figure)", intArg("--curve", 1)),
  ).action(runTrain);
}

async function runTrain(o: TrainFlags): Promise<void> {
  await loadTermsFlag(o.terms);
  if (o.init.theta) throw new UsageError("--init with coefficients sets the initial θ of `meta`; `train` takes --rule");
  const rules: { name: string; theta: ThetaSpec; ojaOutput: boolean }[] = [];
  for (const r of o.rule) { const theta = parseRule(r); rules.push({ name: formatThetaSpec(theta), theta, ojaOutput: o.ojaOutput }); }
  for (const f of o.ruleFile) { const rf = readRuleFile(f); rules.push({ name: formatThetaSpec(rf.theta), theta: rf.theta, ojaOutput: rf.ojaOutput ?? o.ojaOutput }); }
  if (rules.length === 0) for (const r of DEFAULT_RULES) rules.push({ name: r, theta: parseRule(r), ojaOutput: o.ojaOutput });

  const outcomes = [];
  for (const r of rules) {
    const cfg = { ...configFrom(o, r.theta), ojaOutput: r.ojaOutput };
    const bar = progressBar(cfg.tasks, !o.json, r.name.length > 24 ? r.name.slice(0, 23) + "…" : r.name.padEnd(24));
    let out;
    try { out = await train(cfg, o.workers, (n) => bar.update(n), undefined, { curve: o.curve }); } finally { bar.stop(); }
    outcomes.push({ rule: r.name, cfg, out });
    if (o.json) {
      const { results: _r, ...s } = out;
      process.stdout.write(JSON.stringify({ rule: r.name, theta: r.theta, ...round(s), seq_len: seqLen(cfg, cachedDataset(cfg)), config: cfg }) + "\n");
    }
  }
  // The results file holds no timing, so the same seed gives the same bytes (timing is on stdout).
  if (o.out) writeAtomic(o.out, JSON.stringify(outcomes.map(({ rule, cfg, out: { seconds: _s, steps_per_s: _r, ...rest } }) => ({ rule, config: cfg, ...rest })), null, 1) + "\n");
  const curves = outcomes.filter((x) => x.out.curve).map((x) => ({ rule: x.rule, curve: x.out.curve! }));
  let curveFiles: string[] = [];
  if (o.out && curves.length) curveFiles = await writeCurves(o.out.replace(/\.json$/i, ""), curves, outcomes[0].cfg.way);
  if (!o.json) {
    const c = outcomes[0].cfg;
    const net = c.net === "rnn" ? `rnn N ${c.hidden[0]}, delay ${c.delay ?? 0} (${seqLen(c, cachedDataset(c))} steps per sequence)${c.leak !== undefined && c.leak !== 1 ? `, leak ${c.leak}` : ""}${c.gainRec !== undefined ? `, J gain ${c.gainRec}` : ""}` : `hidden ${c.hidden.join("-") || "none"}`;
    console.log(`${c.dataset}:${c.split}  ${net}  ${c.way}-way ${c.shots}-shot, ${c.query} query/class  ${c.tasks} tasks  batch ${c.batch}  ${c.feedback === "sym" ? "backprop" : "feedback alignment"}  ${c.init} gain ${c.gain}  seed ${c.seed}`);
    console.log(table(
      ["rule", "query acc", "± se", "query loss", "diverged", "Σ‖W‖", c.net === "rnn" ? "seq/s" : "steps/s"],
      outcomes.map(({ rule, out }) => [rule, out.acc.toFixed(4), out.acc_se.toFixed(4), out.loss.toFixed(4), String(out.diverged), out.weight_norm.toFixed(2), out.steps_per_s.toFixed(0)]),
    ));
    if (curves.length) {
      const steps = curves[0].curve.map((p) => p.step);
      const shown = steps.length <= 12 ? steps.map((_, i) => i) : Array.from({ length: 12 }, (_, i) => Math.round((i * (steps.length - 1)) / 11));
      console.log(`\nlearning curve (query accuracy ± se after k examples)${shown.length < steps.length ? `, ${shown.length} of ${steps.length} points` : ""}:`);
      console.log(table(["rule", ...shown.map((i) => String(steps[i]))], curves.map((c) => [c.rule, ...shown.map((i) => `${c.curve[i].acc.toFixed(3)}±${c.curve[i].acc_se.toFixed(3)}`)])));
      if (curveFiles.length) console.log(`wrote ${curveFiles.join(", ")}`);
    }
  }
}
