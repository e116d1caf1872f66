#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { formatThetaSpec, type ThetaSpec } from "../rules/rule.js";
import { train } from "../experiments/train.js";
import { addRunOptions, configFrom, parseRule, progressBar, readRuleFile, table, UsageError, writeAtomic, type RunFlags } from "./common.js";

/** The comparison the quick start runs: backprop vs backprop + Oja (coefficients as in the brief). */
const DEFAULT_RULES = ["bp=0.0068", "bp=0.0068,oja=0.0053"];

const program = new Command()
  .name("neuroplastic")
  .description("Deep networks trained one example at a time with backprop or feedback alignment plus Oja's rule")
  .showHelpAfterError(false)
  .exitOverride();

addRunOptions(
  program.command("train")
    .description("online learning over N-way K-shot tasks; one row per --rule")
    .option("--rule <terms>", "plasticity rule, e.g. bp=0.0068,oja=0.0053 (repeat to compare; per-layer: oja=a:b:c:d:e)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--rule-file <file>", "a rule JSON file written by `neuroplastic meta` (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--out <file>", "also write every task's result as JSON (atomically)"),
).action(async (o: RunFlags & { rule: string[]; ruleFile: string[]; out?: string }) => {
  const rules: { name: string; theta: ThetaSpec; ojaOutput: boolean }[] = [];
  for (const r of o.rule) { const theta = parseRule(r); rules.push({ name: formatThetaSpec(theta), theta, ojaOutput: o.ojaOutput }); }
  for (const f of o.ruleFile) { const rf = readRuleFile(f); rules.push({ name: formatThetaSpec(rf.theta), theta: rf.theta, ojaOutput: rf.ojaOutput ?? o.ojaOutput }); }
  if (rules.length === 0) for (const r of DEFAULT_RULES) rules.push({ name: r, theta: parseRule(r), ojaOutput: o.ojaOutput });

  const outcomes = [];
  for (const r of rules) {
    const cfg = { ...configFrom(o, r.theta), ojaOutput: r.ojaOutput };
    const bar = progressBar(cfg.tasks, !o.json, r.name.padEnd(24));
    try {
      const out = await train(cfg, o.workers, (n) => bar.update(n));
      outcomes.push({ rule: r.name, cfg, out });
    } finally { bar.stop(); }
    const last = outcomes[outcomes.length - 1];
    if (o.json) {
      const { results: _r, ...s } = last.out;
      process.stdout.write(JSON.stringify({ rule: last.rule, theta: r.theta, ...round(s), config: cfg }) + "\n");
    }
  }
  if (o.out) writeAtomic(o.out, JSON.stringify(outcomes.map((x) => ({ rule: x.rule, config: x.cfg, ...x.out })), null, 1) + "\n");
  if (!o.json) {
    const c = outcomes[0].cfg;
    console.log(`${c.dataset}:${c.split}  ${[c.hidden.length ? "784" : "", ...c.hidden].filter(Boolean).join("-")}-out  ${c.way}-way ${c.shots}-shot, ${c.query} query/class  ${c.tasks} tasks  batch ${c.batch}  ${c.feedback === "sym" ? "backprop" : "feedback alignment"}  ${c.init} gain ${c.gain}  seed ${c.seed}`);
    console.log(table(
      ["rule", "query acc", "± se", "query loss", "diverged", "Σ‖W‖", "steps/s"],
      outcomes.map(({ rule, out }) => [rule, out.acc.toFixed(4), out.acc_se.toFixed(4), out.loss.toFixed(4), String(out.diverged), out.weight_norm.toFixed(2), out.steps_per_s.toFixed(0)]),
    ));
  }
});

function round(o: object): object {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v]));
}

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed its own one-line message; help and version exit 0.
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`neuroplastic: ${msg.split("\n")[0]}\n`);
    if (process.env.NEUROPLASTIC_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  }
}

await main();
