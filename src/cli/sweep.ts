import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { defaultWorkers } from "../experiments/pool.js";
import { writeAtomic } from "../core/files.js";
import { planSweep, ranges, readManifest, SweepError, sweepPaths } from "./sweep/plan.js";
import { notDone, runSweep, sweepStatus } from "./sweep/run.js";
import { collectSweep } from "./sweep/collect.js";
import { cliCommand, k8sManifests, slurmScripts } from "./sweep/scripts.js";
import { cappedWorkers, intArg } from "./common.js";
import { checkOutTarget } from "./out-target.js";

/** `neuroplastic sweep …`: plan a grid, run its cells anywhere (SLURM arrays, Kubernetes indexed jobs, a loop), merge them. */
export function registerSweep(program: Command): void {
  const sweep = program
    .command("sweep")
    .description("grids of train or meta runs (and reproduce's cells) as SLURM job arrays or Kubernetes indexed jobs: plan, run, slurm, k8s, status, collect")
    .addHelpText(
      "after",
      "\nExample:\n  neuroplastic sweep plan grid.yaml --out runs/grid && neuroplastic sweep slurm runs/grid --submit && neuroplastic sweep collect runs/grid",
    );

  sweep
    .command("plan <spec>")
    .description(
      `expand SPEC (JSON or YAML: {"command": "train"|"meta", "base": {flags}, "grid": {flag: [values]}}) into DIR/manifest.jsonl, one resolved ` +
        `configuration per cell`,
    )
    .requiredOption("--out <dir>", "the sweep directory")
    .option("--force", "plan a grid of more than 10,000 cells, or replace a plan whose cells already ran (discarding them)", false)
    .addHelpText("after", "\nExample:\n  neuroplastic sweep plan grid.yaml --out runs/grid")
    .action(async (spec: string, o: { out: string; force: boolean }) => {
      checkOutTarget("--out", o.out);
      const lines = await planSweep(spec, o.out, { force: o.force });
      const axes = Object.keys(lines[0].axes);
      console.log(`planned ${lines.length} cells (${axes.join(" × ")}) in ${o.out}/manifest.jsonl`);
      console.log(`next: neuroplastic sweep run ${o.out}   (all cells here), or neuroplastic sweep slurm ${o.out} --submit`);
    });

  sweep
    .command("run <dir>")
    .description(
      "run cells I … I+n−1 (default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX times n; without either, every cell); finished cells are skipped",
    )
    .option("--index <i>", "first cell", intArg("--index", 0))
    .option("--count <n>", "how many cells (default 1 with an index, all without)", intArg("--count"))
    .option("--workers <n>", "worker threads (default: SLURM_CPUS_PER_TASK, else the number of cores)", intArg("--workers"))
    .addHelpText("after", "\nExample:\n  neuroplastic sweep run runs/grid --index 4 --count 2")
    .action(async (dir: string, o: { index?: number; count?: number; workers?: number }) => {
      const env = Number(process.env.SLURM_CPUS_PER_TASK);
      const workers = cappedWorkers(o.workers ?? (Number.isInteger(env) && env > 0 ? env : defaultWorkers()));
      const r = await runSweep(dir, { index: o.index, count: o.count, workers });
      console.log(
        `ran ${r.ran.length}, skipped ${r.skipped.length} (done ` +
          `already)${r.busy.length ? `, ${r.busy.length} being computed by another process (${ranges(r.busy)})` : ""}, failed ` +
          `${r.failed.length}${r.failed.length ? ` (${ranges(r.failed)}; see ${dir}/failed/)` : ""}`,
      );
      if (r.failed.length) process.exitCode = 1;
    });

  sweep
    .command("slurm <dir>")
    .description("write DIR/sweep.sbatch (a job array) and DIR/collect.sbatch (to run --dependency=afterok), and print how to submit them")
    .option("--per-task <n>", "cells per array element", intArg("--per-task"), 1)
    .option("--parallel <P>", "at most P elements at once (--array=…%P)", intArg("--parallel"), 32)
    .option("--cpus <n>", "CPUs per element (its worker threads)", intArg("--cpus"), 1)
    .option("--partition <name>", "SLURM partition (default: the cluster's)")
    .option("--time <limit>", "time limit per element", "02:00:00")
    .option("--mem <size>", "memory per element, e.g. 4G (default: the cluster's)")
    .option("--node <path>", "the node binary on compute nodes (default: this one, resolved now)")
    .option("--cli <path>", "neuroplastic's dist/cli/main.js on compute nodes (default: this one, resolved now)")
    .option("--missing", "only the elements whose cells are not done (resubmitting after failures)", false)
    .option("--submit", "submit both with sbatch (the collect job with --dependency=afterok on the array)", false)
    .addHelpText("after", "\nExample:\n  neuroplastic sweep slurm runs/grid --per-task 4 --cpus 2 --partition cpu --submit")
    .action(
      (
        dir: string,
        o: {
          perTask: number;
          parallel: number;
          cpus: number;
          partition?: string;
          time: string;
          mem?: string;
          node?: string;
          cli?: string;
          missing: boolean;
          submit: boolean;
        },
      ) => {
        const { lines } = readManifest(dir);
        let elements: number[] | undefined;
        if (o.missing) {
          const todo = notDone(sweepStatus(dir));
          elements = [...new Set(todo.map((i) => Math.floor(i / o.perTask)))];
          if (elements.length === 0) {
            console.log(`every cell of ${dir} is done; nothing to submit (collect: neuroplastic sweep collect ${dir})`);
            if (!o.submit) return;
          }
        }
        const s = slurmScripts(dir, lines.length, { ...o, cli: cliCommand(o.node, o.cli), elements });
        const p = sweepPaths(dir);
        mkdirSync(p.logs, { recursive: true });
        const sweepFile = join(dir, "sweep.sbatch"),
          collectFile = join(dir, "collect.sbatch");
        writeAtomic(sweepFile, s.sweep);
        writeAtomic(collectFile, s.collect);
        chmodSync(sweepFile, 0o755);
        chmodSync(collectFile, 0o755);
        if (!o.submit) {
          console.log(`wrote ${sweepFile} (${s.elements} array elements, ${o.perTask} cell(s) each) and ${collectFile}`);
          console.log(`submit:  jid=$(sbatch --parsable ${sweepFile}) && sbatch --dependency=afterok:$jid ${collectFile}`);
          console.log(`or:      neuroplastic sweep slurm ${dir} --submit`);
          return;
        }
        const sbatch = (args: string[]): string => {
          const r = spawnSync("sbatch", ["--parsable", ...args], { encoding: "utf8" });
          if (r.error) throw new SweepError(`cannot run sbatch (${(r.error as NodeJS.ErrnoException).code}): is SLURM installed and on PATH here?`);
          if (r.status !== 0) throw new SweepError(`sbatch ${args.join(" ")} failed: ${r.stderr.trim().split("\n").pop()}`);
          return r.stdout.trim().split(";")[0];
        };
        const arrayJob = s.elements > 0 ? sbatch([resolve(sweepFile)]) : null;
        const collectJob = sbatch([...(arrayJob ? [`--dependency=afterok:${arrayJob}`] : []), resolve(collectFile)]);
        console.log(
          `submitted array job ${arrayJob ?? "(none: every cell done)"} (${s.elements} elements) and collect job ` +
            `${collectJob}${arrayJob ? ` (afterok:${arrayJob})` : ""}; logs in ${resolve(p.logs)}`,
        );
        console.log(`status: neuroplastic sweep status ${dir}`);
      },
    );

  sweep.command("k8s <dir>")
    .description("write a Kubernetes Indexed Job (completionMode: Indexed) and a collect Job as YAML")
    .requiredOption("--image <image>", "container image with neuroplastic installed")
    .option("--pvc <claim>", "persistent volume claim holding the sweep directory", "neuroplastic-sweeps")
    .option("--mount <path>", "where the claim is mounted in the pods (the sweep directory is <mount>/<basename of DIR>)", "/sweeps")
    .option("--per-task <n>", "cells per pod", intArg("--per-task"), 1)
    .option("--parallel <P>", "pods at once", intArg("--parallel"), 32)
    .option("--cpus <n>", "CPUs per pod (its worker threads)", intArg("--cpus"), 1)
    .option("--cli <command>", "the command that runs neuroplastic in the image", "neuroplastic")
    .addHelpText("after", "\nExample:\n  neuroplastic sweep k8s runs/grid --image registry.example/neuroplastic:0.1.0")
    .action((dir: string, o: { image: string; pvc: string; mount: string; perTask: number; parallel: number; cpus: number; cli: string }) => {
      const { lines } = readManifest(dir);
      const m = k8sManifests(dir, lines.length, { ...o, cli: o.cli.split(/\s+/).filter(Boolean) });
      const jobFile = join(dir, "sweep-job.yaml"), collectFile = join(dir, "collect-job.yaml");
      writeAtomic(jobFile, m.job); writeAtomic(collectFile, m.collect);
      console.log(
        `wrote ${jobFile} (Indexed Job, ${Math.ceil(lines.length / o.perTask)} completions) and ${collectFile}; the pods see the sweep at ${m.dirInPod}`,
      );
      console.log(
        `submit:  kubectl apply -f ${jobFile} && kubectl wait --for=condition=complete --timeout=-1s -f ${jobFile} && kubectl apply -f ${collectFile}`,
      );
    });

  sweep.command("status <dir>")
    .description("count the cells done, missing and failed (with each failure's log)")
    .option("--json", "one JSON object", false)
    .addHelpText("after", "\nExample:\n  neuroplastic sweep status runs/grid")
    .action((dir: string, o: { json: boolean }) => {
      const st = sweepStatus(dir);
      if (o.json) { process.stdout.write(JSON.stringify(st) + "\n"); return; }
      console.log(`${dir}: ${st.total} cells: ${st.done.length} done, ${st.missing.length} missing, ${st.failed.length} failed`);
      if (st.missing.length) console.log(`missing: ${ranges(st.missing)}`);
      for (const f of st.failed) console.log(`failed ${f.index}: ${f.error} (log: ${f.log})`);
    });

  sweep.command("collect <dir>")
    .description("merge the cells into results.csv, results.json and a report (the reproduce report for a reproduce plan)")
    .option("--allow-partial", "collect an incomplete sweep (train and meta sweeps)", false)
    .addHelpText("after", "\nExample:\n  neuroplastic sweep collect runs/grid")
    .action(async (dir: string, o: { allowPartial: boolean }) => {
      const files = await collectSweep(dir, { allowPartial: o.allowPartial });
      console.log(`wrote ${files.join(", ")}`);
    });
}
