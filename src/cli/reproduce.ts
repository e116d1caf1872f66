import { Option, type Command } from "commander";
import { defaultWorkers } from "../experiments/pool.js";
import { cells, POOL_L1, reproduce, RNN_THETA, type ReproduceOptions } from "../reproduce/run.js";
import { BACKENDS, fastTag, type Backend } from "../experiments/task.js";
import { writeReport } from "../reproduce/report.js";
import { mkdirSync } from "node:fs";
import { cappedWorkers, choice, intArg, numArg, progressBar, resolveBackend, UsageError } from "./common.js";
import { describeFsError } from "./fs-errors.js";
import { nativeFastIsa } from "../core/native.js";
import { cachedDataset } from "../experiments/datasets.js";
import { checkOutTarget } from "./out-target.js";
import { provenance } from "./provenance.js";
import { verdicts } from "../reproduce/verdicts.js";
import { OUTER_LOOPS, type OuterLoop } from "../meta/outer.js";
import { planReproduce } from "./sweep/plan.js";
import { BRACKET_DEFAULT } from "../experiments/meta-train.js";
import { checkTensorBoardDir, ReproduceLogs } from "./tensorboard.js";
import { OPT_IN, SCENARIO_IDS } from "../reproduce/scenarios.js";
import type { ScenarioId } from "../reproduce/types.js";

interface Flags {
  out: string; quick: boolean; tasks?: number; diagTasks?: number; probe: number; bp: number; oja: number; rnnBp: number; rnnOja: number;
  metaEpisodes: number; workers: number; seed: number; dataset: string; backend: Backend | "auto"; json: boolean;
  outer: OuterLoop; metaSeeds?: number; gridTasks?: number; bracket: number; scarcityEpisodes?: number; poolL1: number; transfer: string;
  resume: boolean; printConfig: boolean; config?: string; plan?: string; force: boolean; tensorboard?: string; scenarios?: ScenarioId[];
}

/** --scenarios: known ids, each once. */
function scenarioList(v: string): ScenarioId[] {
  const ids = v.split(",").map((x) => x.trim()).filter(Boolean);
  const bad = ids.filter((x) => !(SCENARIO_IDS as string[]).includes(x));
  if (bad.length || ids.length === 0) throw new UsageError(`--scenarios takes ids from ${SCENARIO_IDS.join(", ")} (got '${v}')`);
  if (new Set(ids).size !== ids.length) throw new UsageError(`--scenarios names a scenario twice ('${v}')`);
  return ids as ScenarioId[];
}

export function registerReproduce(program: Command): void {
  program
    .command("reproduce")
    .description(
      "run the paper's comparisons (online vs mini-batch, depth, init, tricks, feedback alignment, recurrent memory, scarce data) with diagnostics, and " +
        "write a report",
    )
    .option("--out <dir>", "report directory (cells/ inside it makes an interrupted run resume)", "runs/reproduce")
    .option(
      "--scenarios <ids>",
      `scenarios to run, comma-separated (${SCENARIO_IDS.join(", ")}; default: all but ${OPT_IN.join(", ")}, rule discovery, whose Taylor episodes are 25–80× slower)`,
      scenarioList,
    )
    .option("--quick", "a smaller grid and fewer tasks (under 10 minutes on 2 cores)", false)
    .option("--tasks <n>", "tasks per cell (default: 200, or 40 with --quick)", intArg("--tasks"))
    .option("--diag-tasks <n>", "tasks per cell with per-layer diagnostics (default: 10, or 4 with --quick)", intArg("--diag-tasks"))
    .option("--probe <n>", "probe-set size for the diagnostics", intArg("--probe"), 100)
    .option("--bp <theta>", "θ_bp (fixed, or the start of meta-learning)", numArg("--bp"), 0.0068)
    .option("--oja <theta>", "θ_oja (fixed, or the start of meta-learning)", numArg("--oja"), 0.0053)
    .option("--rnn-bp <theta>", "θ_bp of the recurrent network in scenario f", numArg("--rnn-bp"), RNN_THETA.bp)
    .option("--rnn-oja <theta>", "θ_oja of the recurrent network in scenario f", numArg("--rnn-oja"), RNN_THETA.oja)
    .option("--meta-episodes <n>", "meta-learn θ for every online configuration and rule (0: fixed θ)", intArg("--meta-episodes", 0), 0)
    .option(
      "--outer <loop>",
      "meta-learning's outer loop: robust | adam (the published loop; with --meta-seeds 1 --grid-tasks 0 it reproduces older reports)",
      choice<OuterLoop>("--outer", OUTER_LOOPS),
      "robust",
    )
    .option("--meta-seeds <n>", "meta-learning runs per cell; verdicts must hold for each (default: 3, or 1 with --quick)", intArg("--meta-seeds"))
    .option("--scarcity-episodes <n>", "meta-learning episodes of scenario g (default: --meta-episodes, or 30 when that is 0)", intArg("--scarcity-episodes"))
    .option("--pool-l1 <lambda>", "scenario g: L1 penalty on the rule pool's coefficients", numArg("--pool-l1"), POOL_L1)
    .option("--transfer <dataset>", "scenario g: where MNIST-learned θ is also tested ('fashion', a directory of IDX files, or 'none')", "fashion")
    .option(
      "--bracket <k>",
      "robust loop: before meta-learning, try the start θ × ¼, ½, 2, 4 (together, then each coefficient) on k train tasks each and start from the best (0: " +
        "off)",
      intArg("--bracket", 0),
      BRACKET_DEFAULT,
    )
    .option(
      "--grid-tasks <n>",
      "tasks per point of the fixed-θ grid checked beside each meta-learned cell (0: none; default: 40, or 10 with --quick)",
      intArg("--grid-tasks", 0),
    )
    .addOption(
      new Option("--workers <n>", "worker threads (at most the number of cores)")
        .argParser(intArg("--workers"))
        .default(defaultWorkers(), "the number of cores"),
    )
    .option("--seed <s>", "random seed", intArg("--seed", 0), 1)
    .option("--dataset <name|dir>", "'mnist' or 'fashion' (embedded) or a directory of IDX files", "mnist")
    .addOption(
      // The default stays wasm, not auto: a plan's manifest and results.json then name the same backend on every
      // machine (a cluster's nodes may lack the addon); native gives the same bytes and reuses wasm's cells.
      new Option("--backend <name>", "kernels: wasm | auto (native where its addon loaded, else wasm: the same bytes) | native | native-fast | js")
        .choices([...BACKENDS, "auto"] as string[]).default("wasm"),
    )
    .option("--resume", "reuse the finished cells in --out (what a rerun does anyway: a cell is recomputed only when its settings changed)", false)
    .option("--config <file>", "read flags from a JSON or YAML file (keys: long flag names, as in results.json's `config`); flags given here win")
    .option("--print-config", "print the fully resolved configuration as JSON and exit", false)
    .option("--json", "print the verdicts as one JSON line", false)
    .option(
      "--plan <dir>",
      "do not run: write the cells as a sweep in DIR (manifest.jsonl) to run as a SLURM array or Kubernetes indexed job; `sweep collect DIR` writes the " +
        "report there",
    )
    .option("--force", "with --plan: replace a plan whose cells already ran", false)
    .option(
      "--tensorboard <dir>",
      "write TensorBoard event files as cells finish (cached cells first): one run per rule, tags <scenario>/acc, acc_ci95, loss, … (results.csv's " +
        "fields), step = the cell's place on its scenario's axis",
    )
    .addHelpText("after", "\nExample:\n  neuroplastic reproduce --quick --out runs/reproduce-quick")
    .action(async (f: Flags, cmd: Command) => {
      // Refused (a bad NEUROPLASTIC_NATIVE_ISA, native unavailable) before anything is written; named on stderr when given.
      const backend = cmd.getOptionValueSource("backend") === "default" ? (resolveBackend(undefined), "wasm" as const) : resolveBackend(f.backend);
      const o: ReproduceOptions = {
        out: f.out,
        ...(f.scenarios ? { scenarios: f.scenarios } : {}),
        quick: f.quick,
        workers: f.workers,
        seed: f.seed,
        tasks: f.tasks ?? (f.quick ? 40 : 200),
        diagTasks: f.diagTasks ?? (f.quick ? 4 : 10),
        probe: f.probe,
        outer: f.outer,
        metaSeeds: f.metaSeeds ?? (f.quick ? 1 : 3),
        gridTasks: f.gridTasks ?? (f.quick ? 10 : 40),
        bracket: f.bracket,
        ...(f.scarcityEpisodes !== undefined ? { scarcityEpisodes: f.scarcityEpisodes } : {}),
        poolL1: f.poolL1,
        transfer: f.transfer,
        theta: { bp: f.bp, oja: f.oja },
        rnnTheta: { bp: f.rnnBp, oja: f.rnnOja },
        metaEpisodes: f.metaEpisodes,
        dataset: f.dataset,
        backend,
        ...(backend === "native-fast" ? { kernels: nativeFastIsa() ?? undefined } : {}),
      };
      if (f.printConfig) {
        process.stdout.write(JSON.stringify(reproduceFlatConfig(o), null, 1) + "\n");
        return;
      }
      if (f.plan) {
        const lines = planReproduce({ ...o, out: f.plan }, f.plan, f.force);
        console.log(`planned ${lines.length} reproduce cells in ${f.plan}/manifest.jsonl`);
        console.log(
          `next: neuroplastic sweep slurm ${f.plan} --submit   (or sweep run ${f.plan}); then neuroplastic sweep collect ${f.plan} writes the report there`,
        );
        return;
      }
      o.workers = cappedWorkers(o.workers);
      checkOutTarget("--out", o.out);
      // The datasets are read before --out is created: a missing one leaves no empty report directory behind.
      for (const split of ["train", "test"] as const) cachedDataset({ dataset: o.dataset, split, transpose: false });
      if (o.transfer && o.transfer !== "none") cachedDataset({ dataset: o.transfer, split: "test", transpose: false });
      try {
        mkdirSync(o.out, { recursive: true });
      } catch (e) {
        throw new UsageError(`cannot create --out ${o.out}: ${describeFsError(e)}`);
      }
      // A rerun reuses every cached cell anyway, so the log is always rewritten from the first cell: never refused, never duplicated.
      if (f.tensorboard) checkTensorBoardDir(f.tensorboard, true, false);
      const tb = f.tensorboard ? new ReproduceLogs(f.tensorboard, { backend: o.backend, ...fastTag(o.backend, o.kernels) }) : null;
      const t0 = performance.now();
      const bar = progressBar(cells(o).length, !f.json, "cells");
      let rs;
      try {
        rs = await reproduce(o, (done, _total, id, res) => {
          tb?.cell(res);
          bar.update(done, { info: id });
        });
      } finally {
        bar.stop();
      }
      const command = `neuroplastic ${process.argv.slice(2).join(" ")}`;
      // The verdicts reach stdout before the report is written: a failed write never swallows them.
      const vs = verdicts(rs);
      if (f.json) process.stdout.write(JSON.stringify({ out: o.out, verdicts: vs, seconds: (performance.now() - t0) / 1000 }) + "\n");
      else for (const v of vs) console.log(`${v.outcome.toUpperCase().padEnd(12)}  claim ${v.claim}\n              ${v.evidence}`);
      await writeReport(o, rs, { command, seconds: rs.reduce((s, r) => s + r.seconds, 0), config: reproduceFlatConfig(o), provenance: provenance() });
      if (!f.json) console.log(`report: ${o.out}/index.html, ${o.out}/summary.md`);
    });
}

/** The run's options as one flat object of long flag names, accepted back by --config. */
export function reproduceFlatConfig(o: ReproduceOptions): Record<string, unknown> {
  return {
    out: o.out,
    ...(o.scenarios ? { scenarios: o.scenarios.join(",") } : {}),
    quick: o.quick,
    tasks: o.tasks,
    diagTasks: o.diagTasks,
    probe: o.probe,
    bp: o.theta.bp,
    oja: o.theta.oja,
    rnnBp: (o.rnnTheta ?? RNN_THETA).bp,
    rnnOja: (o.rnnTheta ?? RNN_THETA).oja,
    metaEpisodes: o.metaEpisodes,
    outer: o.outer ?? "robust",
    metaSeeds: o.metaSeeds ?? 1,
    gridTasks: o.gridTasks ?? 0,
    bracket: o.bracket ?? 0,
    ...(o.scarcityEpisodes !== undefined ? { scarcityEpisodes: o.scarcityEpisodes } : {}),
    poolL1: o.poolL1 ?? POOL_L1,
    transfer: o.transfer ?? "fashion",
    seed: o.seed,
    dataset: o.dataset,
    backend: o.backend,
    ...(o.kernels ? { kernels: o.kernels } : {}),
  };
}
