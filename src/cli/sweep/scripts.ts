import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify as toYaml } from "yaml";
import { ranges, SweepError } from "./plan.js";
import { imageRef, jobName, k8sName, plainText, sbatchPath, slurmMem, slurmPartition, slurmTime } from "./engine-values.js";

/**
 * Job scripts for the engines that run sweeps: SLURM job arrays (sweep.sbatch
 * and a collect job meant for --dependency=afterok) and Kubernetes Indexed
 * Jobs. We write what the engines run; they schedule, retry and log.
 */

export interface EngineOptions {
  /** Cells per array element (pod). */
  perTask: number;
  /** At most this many elements at once (SLURM's %P, a Job's parallelism). */
  parallel: number;
  /** CPUs per element; its `sweep run` uses that many worker threads. */
  cpus: number;
}

export interface SlurmOptions extends EngineOptions {
  partition?: string;
  time: string;
  mem?: string;
  /** Absolute command that starts the CLI on a compute node (node binary, its flags, main.js). */
  cli: string[];
  /** Elements to run (default: all); sweep slurm --missing passes those with cells not done. */
  elements?: number[];
}

/** The command that runs this CLI, with absolute paths resolved now (compute nodes see the same file system). */
export function cliCommand(node?: string, cli?: string): string[] {
  const nodeBin = resolve(node ?? process.execPath);
  if (cli) return [nodeBin, resolve(cli)];
  const here = fileURLToPath(import.meta.url);
  // Built: dist/cli/sweep/scripts.js → dist/cli/main.js. From source (tsx): prefer the built CLI, else run the sources through tsx.
  const built = resolve(here, "../../main.js");
  if (here.endsWith(".js") && existsSync(built)) return [nodeBin, built];
  const dist = resolve(here, "../../../../dist/cli/main.js");
  if (existsSync(dist)) return [nodeBin, dist];
  return [nodeBin, "--import", "tsx", resolve(here, "../../main.ts")];
}

const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/** "0-3,7,9-10": array indices in SLURM's syntax. */
const arraySpec = (xs: readonly number[]): string => ranges(xs, ",");

export function slurmScripts(dir: string, cells: number, o: SlurmOptions): { sweep: string; collect: string; elements: number } {
  const abs = resolve(dir);
  const total = Math.ceil(cells / o.perTask);
  const elements = o.elements ?? Array.from({ length: total }, (_, k) => k);
  // Every value is checked or quoted: none can add a line or a field to the scripts (src/cli/sweep/engine-values.ts).
  const common = [
    ...(o.partition ? [`#SBATCH --partition=${slurmPartition(o.partition)}`] : []),
    `#SBATCH --time=${slurmTime(o.time)}`,
    ...(o.mem ? [`#SBATCH --mem=${slurmMem(o.mem)}`] : []),
  ];
  const cli = o.cli.map((w) => q(plainText("--node/--cli", w))).join(" ");
  const logs = (name: string) => sbatchPath("the sweep directory", `${abs}/logs/${name}`);
  plainText("the sweep directory", abs);
  const sweep = [
    "#!/bin/bash",
    `#SBATCH --job-name=np-sweep-${jobName(basename(abs))}`,
    `#SBATCH --array=${arraySpec(elements)}%${Math.max(1, Math.min(o.parallel, elements.length))}`,
    `#SBATCH --cpus-per-task=${o.cpus}`,
    `#SBATCH --output=${logs("%A_%a.out")}`,
    ...common,
    `# Written by neuroplastic sweep slurm. Element k runs cells k·${o.perTask} … k·${o.perTask} + ${o.perTask - 1} of ${abs}/manifest.jsonl;`,
    "# a finished cell is skipped, so resubmitting runs only what is missing.",
    "set -euo pipefail",
    `exec ${cli} sweep run ${q(abs)} --count ${o.perTask} --workers ${o.cpus}`,
    "",
  ].join("\n");
  const collect = [
    "#!/bin/bash",
    `#SBATCH --job-name=np-collect-${jobName(basename(abs))}`,
    "#SBATCH --cpus-per-task=1",
    `#SBATCH --output=${logs("collect_%j.out")}`,
    ...common,
    "# Written by neuroplastic sweep slurm; submit with --dependency=afterok:<array job id>.",
    "set -euo pipefail",
    `exec ${cli} sweep collect ${q(abs)}`,
    "",
  ].join("\n");
  return { sweep, collect, elements: elements.length };
}

export interface K8sOptions extends EngineOptions {
  image: string;
  /** The persistent volume claim holding the sweep directory, and where it is mounted. */
  pvc: string;
  mount: string;
  /** The command that runs the CLI inside the image. */
  cli: string[];
}

/** An Indexed Job (completionMode: Indexed; JOB_COMPLETION_INDEX picks the cells) and a collect Job, as YAML. */
export function k8sManifests(dir: string, cells: number, o: K8sOptions): { job: string; collect: string; dirInPod: string } {
  imageRef(o.image); k8sName("--pvc", o.pvc); plainText("--mount", o.mount); for (const w of o.cli) plainText("--cli", w);
  if (!o.mount.startsWith("/")) throw new SweepError(`--mount must be an absolute path in the pod, got ${JSON.stringify(o.mount)}`);
  const name = `np-sweep-${basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 40)}`;
  const dirInPod = `${o.mount.replace(/\/$/, "")}/${basename(resolve(dir))}`;
  const completions = Math.ceil(cells / o.perTask);
  const pod = (args: string[], cpus: number) => ({
    restartPolicy: "Never",
    containers: [
      {
        name: "neuroplastic",
        image: o.image,
        command: [...o.cli, ...args],
        resources: { requests: { cpu: String(cpus) }, limits: { cpu: String(cpus) } },
        volumeMounts: [{ name: "sweeps", mountPath: o.mount }],
      },
    ],
    volumes: [{ name: "sweeps", persistentVolumeClaim: { claimName: o.pvc } }],
  });
  const job = {
    apiVersion: "batch/v1", kind: "Job", metadata: { name },
    spec: {
      completionMode: "Indexed", completions, parallelism: Math.min(o.parallel, completions), backoffLimitPerIndex: 1, maxFailedIndexes: completions,
      template: { spec: pod(["sweep", "run", dirInPod, "--count", String(o.perTask), "--workers", String(o.cpus)], o.cpus) },
    },
  };
  const collect = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: `${name}-collect` },
    spec: { backoffLimit: 0, template: { spec: pod(["sweep", "collect", dirInPod], 1) } },
  };
  const head = "# Written by neuroplastic sweep k8s.\n";
  return { job: head + toYaml(job), collect: head + toYaml(collect), dirInPod };
}
