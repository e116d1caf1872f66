import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { recoverFit } from "../experiments/recover.js";
import { checkConfig } from "../experiments/task.js";
import { cachedDataset } from "../experiments/datasets.js";
import { TERM_NAMES } from "../rules/registry.js";
import { parseThetaSpec, type ThetaSpec } from "../rules/rule.js";
import { registerFamily, registerTaylor, ruleFormula } from "../rules/expr/family.js";
import { addRunOptions, configFrom, intArg, loadTermsFlag, round, UsageError, type RunFlags } from "./common.js";

interface RecoverFlags extends RunFlags { teacher: string; family: string; match: string; seeds: number; iterations: number }

/** `neuroplastic recover`: fit a student family to a teacher rule's weights (src/experiments/recover.ts); no maths here. */
export function registerRecover(program: Command): void {
  const cmd = addRunOptions(
    program
      .command("recover")
      .description("recover a plasticity rule from the weights it produces: fit a family of terms to a teacher rule, with the exact forward-mode Jacobian")
      .requiredOption("--teacher <rule>", "the teacher rule, e.g. bp=0.0068,oja=0.0053 (terms of --term or --terms may appear)")
      .option(
        "--family <family>",
        "the student family: pool (the 7 built-in terms) | taylor (bp and Σ θ_abc preᵃ postᵇ Wᶜ) | FILE (one 'name = formula' or term name a line)",
        "pool",
      )
      .option("--match <what>", "what the student reproduces: weights (the final W) | activity (the hidden activities on the query set)", "weights")
      .option("--seeds <n>", "independent fits (seeds seed … seed+n−1): the spread is the identifiability", intArg("--seeds"), 3)
      .option("--iterations <n>", "Gauss–Newton iterations per fit", intArg("--iterations"), 10),
    { hidden: [20], way: 3, shots: 5, query: 1, tasks: 2, backend: "js" },
    // It fits in float64 on the plain reference (backend js), so --backend has nothing to choose.
    ["--norm", "--optimizer", "--backend"],
  );
  cmd.action(runRecover);
}

async function runRecover(o: RecoverFlags): Promise<void> {
  await loadTermsFlag(o.terms, o.term);
  if (o.match !== "weights" && o.match !== "activity") throw new UsageError(`--match must be weights or activity, got '${o.match}'`);
  const match = o.match;
  let teacher: ThetaSpec;
  try { teacher = parseThetaSpec(o.teacher); } catch (err) { throw new UsageError(`--teacher: ${(err as Error).message}`); }
  const learn = o.family === "pool" ? [...TERM_NAMES] : o.family === "taylor" ? registerTaylor() : familyFile(o.family);
  const cfg = { ...configFrom({ ...o, norm: "none", optimizer: "sgd" }, teacher), backend: "js" as const };
  const ds = cachedDataset(cfg);
  checkConfig(cfg, ds);
  const fits = Array.from({ length: o.seeds }, (_, s) =>
    recoverFit({ ...cfg, seed: cfg.seed + s }, ds, teacher, learn, { tasks: cfg.tasks, iterations: o.iterations, match }),
  );
  const mean = learn.map((_, k) => fits.reduce((a, f) => a + f.theta[k], 0) / fits.length);
  const sd = learn.map((_, k) => Math.sqrt(fits.reduce((a, f) => a + (f.theta[k] - mean[k]) ** 2, 0) / Math.max(1, fits.length - 1)));
  const want = (t: string) => { const v = teacher[t]; return v === undefined ? 0 : Array.isArray(v) ? v[0] : v; };
  const loss = fits.map((f) => f.loss);
  const recovered = Object.fromEntries(learn.map((t, k) => [t, mean[k]]));
  if (o.json) {
    process.stdout.write(JSON.stringify(round({
      teacher: Object.fromEntries(learn.map((t) => [t, want(t)])), recovered, spread: Object.fromEntries(learn.map((t, k) => [t, sd[k]])),
      loss, seeds: o.seeds, match: o.match, family: o.family, rule: ruleFormula(recovered),
    })) + "\n");
    return;
  }
  console.log(
    `teacher ${o.teacher}   family ${o.family} (${learn.length} terms)   match ${o.match}   ${o.seeds} seeds × ${cfg.tasks} tasks, hidden ` +
      `${cfg.hidden.join("-")}`,
  );
  console.log(`${"term".padEnd(10)} ${"teacher".padStart(11)} ${"recovered".padStart(11)} ${"± sd (seeds)".padStart(12)}`);
  learn.forEach((t, k) =>
    console.log(`${t.padEnd(10)} ${want(t).toPrecision(4).padStart(11)} ${mean[k].toPrecision(4).padStart(11)} ${sd[k].toExponential(1).padStart(12)}`),
  );
  const what = match === "weights" ? "‖W_student − W_teacher‖² / ‖W_teacher − W₀‖²" : "‖h_student − h_teacher‖² / ‖h_teacher − h(W₀)‖² (query set)";
  console.log(`residual ${what} per seed: ${loss.map((l) => l.toExponential(2)).join(", ")}`);
  console.log(`recovered rule: ${ruleFormula(recovered)}`);
}

function familyFile(file: string): string[] {
  let text: string;
  try { text = readFileSync(file, "utf8"); } catch { throw new UsageError(`--family: '${file}' is not pool, taylor or a readable file`); }
  try { return registerFamily(text, file); } catch (err) { throw new UsageError(`--family: ${(err as Error).message}`); }
}
