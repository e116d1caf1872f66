import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { Command, CommanderError, type Option } from "commander";
import { parse as parseYaml } from "yaml";
import { writeAtomic } from "../../core/files.js";
import { checkConfig, type RunConfig } from "../../experiments/task.js";
import { cachedDataset } from "../../experiments/datasets.js";
import type { MetaConfig } from "../../experiments/meta-train.js";
import { cells, type Cell, type ReproduceOptions } from "../../reproduce/run.js";
import { configTokens } from "../config.js";
import { registerTrain, trainConfigsOf, type TrainFlags } from "../train.js";
import { metaConfigOf, metaFlatConfig, registerMeta, type MetaFlags } from "../meta.js";

/**
 * Sweeps (`neuroplastic sweep`): a grid of train or meta runs, or the cells
 * of `reproduce`, written as a manifest — one fully resolved configuration
 * per line — that any engine can run piecewise (SLURM job arrays, Kubernetes
 * indexed jobs, a shell loop) and that `sweep collect` merges. This module
 * plans; run.ts runs cells; collect.ts merges them.
 */

/** A spec, a manifest or a sweep directory that cannot be used: one line, exit code 2. */
export class SweepError extends Error {}

/** Grids larger than this are refused unless --force: a typo in an axis should not plan a million cells. */
export const MAX_CELLS = 10_000;

export type SweepCommand = "train" | "meta";

export interface SweepSpec {
  command: SweepCommand;
  base: Record<string, unknown>;
  grid: Record<string, unknown[]>;
}

/** One line of manifest.jsonl. */
export interface ManifestLine {
  index: number;
  command: SweepCommand | "reproduce";
  /** The value of every grid axis in this cell (reproduce: scenario, setting, rule). */
  axes: Record<string, unknown>;
  /** train/meta: the flags the cell runs with (base and axes), as a config file would hold them. */
  flags?: Record<string, unknown>;
  /** The fully resolved configuration: what `train`/`meta --print-config` prints for these flags (reproduce: the run's options). */
  config: unknown;
  /** reproduce: the cell's id and definition. */
  id?: string;
  cell?: Cell;
}

/** Flags a sweep owns (where results go, how they are printed, how many threads): not allowed in a spec. */
const OWNED = ["out", "resume", "force", "config", "print-config", "json", "workers", "save-weights", "save-tasks", "figures", "no-figures"];

/** The sweep directory's files. */
export function sweepPaths(dir: string) {
  return {
    dir,
    manifest: join(dir, "manifest.jsonl"),
    cells: join(dir, "cells"),
    failed: join(dir, "failed"),
    running: join(dir, "running"),
    logs: join(dir, "logs"),
  };
}

export function readSpec(file: string): { spec: SweepSpec; text: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new SweepError(`cannot read spec ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  let data: unknown;
  const yaml = /\.ya?ml$/i.test(file);
  try {
    data = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new SweepError(`spec ${file} is not valid ${yaml ? "YAML" : "JSON"}: ${(e as Error).message.split("\n")[0]}`);
  }
  return { spec: checkSpec(data, file), text };
}

/** A spec's shape: {command?, base?, grid}, every key a long flag of the command, every axis a non-empty list. */
export function checkSpec(data: unknown, file: string): SweepSpec {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObj(data)) throw new SweepError(`spec ${file} must be an object with "base" and "grid"`);
  for (const k of Object.keys(data))
    if (!["command", "base", "grid"].includes(k)) throw new SweepError(`spec ${file}: unknown key '${k}' (expected command, base, grid)`);
  const command = data.command ?? "train";
  if (command !== "train" && command !== "meta")
    throw new SweepError(`spec ${file}: command must be train or meta, got ${JSON.stringify(command)} (reproduce plans: neuroplastic reproduce --plan DIR)`);
  const base = data.base ?? {}, grid = data.grid;
  if (!isObj(base)) throw new SweepError(`spec ${file}: base must be an object of flags`);
  if (!isObj(grid) || Object.keys(grid).length === 0) throw new SweepError(`spec ${file}: grid must be an object with at least one axis`);
  const known = flagNames(command);
  for (const [where, obj] of [["base", base], ["grid", grid]] as const) {
    for (const k of Object.keys(obj)) {
      const flag = kebab(k);
      if (OWNED.includes(flag)) throw new SweepError(`spec ${file}: '${k}' in ${where} is set by the sweep itself, not by a spec`);
      if (!known.has(flag) && k !== "theta")
        throw new SweepError(`spec ${file}: unknown key '${k}' in ${where} for ${command} (keys are ${command}'s long flag names)`);
    }
  }
  for (const [k, v] of Object.entries(grid)) {
    if (!Array.isArray(v)) throw new SweepError(`spec ${file}: grid axis '${k}' must be a list of values`);
    if (v.length === 0) throw new SweepError(`spec ${file}: grid axis '${k}' is empty`);
    // A repeated value plans the same cell twice: twice the compute for one result.
    const seen = new Map<string, number>();
    for (const [i, x] of v.entries()) {
      const key = JSON.stringify(x), j = seen.get(key);
      if (j !== undefined) throw new SweepError(`spec ${file}: grid axis '${k}' repeats the value ${key} (positions ${j + 1} and ${i + 1})`);
      seen.set(key, i);
    }
    if (k in base) throw new SweepError(`spec ${file}: '${k}' is both in base and a grid axis`);
  }
  return { command, base, grid: grid as Record<string, unknown[]> };
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The long flag names (without --) a command accepts. */
function flagNames(command: SweepCommand): Set<string> {
  const cmd = commandFor(command).cmd;
  return new Set((cmd.options as readonly Option[]).flatMap((o) => (o.long ? [o.long.replace(/^--(no-)?/, ""), o.long.slice(2)] : [])));
}

/** A fresh command of the CLI whose action only captures its parsed flags. */
function commandFor(command: SweepCommand): { program: Command; cmd: Command; flags: () => unknown } {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  if (command === "train") registerTrain(program); else registerMeta(program);
  const cmd = program.commands.find((c) => c.name() === command)!;
  let captured: unknown = null;
  cmd.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }).action((o: unknown) => { captured = o; });
  return { program, cmd, flags: () => captured };
}

/** The cells of a grid: the cartesian product of its axes, the first axis slowest. */
export function expand(spec: SweepSpec): { axes: Record<string, unknown>; flags: Record<string, unknown> }[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [k, values] of Object.entries(spec.grid)) out = out.flatMap((a) => values.map((v) => ({ ...a, [k]: v })));
  return out.map((axes) => ({ axes, flags: { ...spec.base, ...axes } }));
}

/** What a cell's flags resolve to: the printed configuration, and what `sweep run` executes. */
export type Resolved =
  | { command: "train"; config: unknown; rules: string[]; cfgs: RunConfig[] }
  | { command: "meta"; config: Record<string, unknown>; meta: MetaConfig; evalTasks: number; evalSplit: "train" | "test" };

/** Resolve a cell's flags exactly as `train`/`meta --config` would (same parser, same checks). */
export async function resolveCell(command: SweepCommand, flags: Record<string, unknown>, what: string): Promise<Resolved> {
  const { program, cmd, flags: got } = commandFor(command);
  try {
    const tokens = configTokens(flags, cmd, [], what);
    await program.parseAsync([command, ...tokens], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) throw new SweepError(`${what}: ${e.message.replace(/^error: /, "").split("\n")[0]}`);
    throw new SweepError(`${what}: ${(e as Error).message.split("\n")[0]}`);
  }
  try {
    if (command === "train") {
      const { rules, cfgs } = trainConfigsOf(got() as TrainFlags);
      return { command, config: cfgs.length === 1 ? cfgs[0] : cfgs, rules: rules.map((r) => r.name), cfgs };
    }
    const o = got() as MetaFlags;
    const meta = metaConfigOf(o);
    if (o.evalTasks < 1) throw new SweepError("a meta sweep needs --eval-tasks ≥ 1: the learned θ's accuracy is what is collected");
    return { command, config: metaFlatConfig(meta, o), meta, evalTasks: o.evalTasks, evalSplit: o.evalSplit };
  } catch (e) { throw new SweepError(`${what}: ${(e as Error).message.split("\n")[0]}`); }
}

/** The run configurations of a resolved cell (checked against their datasets). */
export function runConfigs(r: Resolved): RunConfig[] {
  return r.command === "train" ? r.cfgs : [{ ...r.meta.run, tasks: 1 }];
}

export const sha256 = (b: string | Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Plan a train/meta grid into DIR: manifest.jsonl (one resolved configuration per line) and a copy of the spec. */
export async function planSweep(specFile: string, dir: string, opts: { force?: boolean } = {}): Promise<ManifestLine[]> {
  const { spec, text } = readSpec(specFile);
  const grid = expand(spec);
  if (grid.length > MAX_CELLS && !opts.force)
    throw new SweepError(
      `the grid has ${grid.length.toLocaleString("en-US")} cells, more than the limit of ${MAX_CELLS.toLocaleString("en-US")}; check its axes, or pass --force`,
    );
  const lines: ManifestLine[] = [], planned = new Map<string, number>();
  for (const [index, g] of grid.entries()) {
    const what = `cell ${index} (${axesText(g.axes)})`;
    const r = await resolveCell(spec.command, g.flags, what);
    for (const c of runConfigs(r)) {
      try { checkConfig(c, cachedDataset(c)); } catch (e) { throw new SweepError(`${what}: ${(e as Error).message.split("\n")[0]}`); }
    }
    const key = JSON.stringify(r.config), twin = planned.get(key);
    if (twin !== undefined)
      throw new SweepError(
        `${what} resolves to the same configuration as cell ${twin} (${axesText(grid[twin].axes)}): the grid would compute it twice; drop one of the values`,
      );
    planned.set(key, index);
    lines.push({ index, command: spec.command, axes: g.axes, flags: g.flags, config: r.config });
  }
  writeManifest(dir, lines, { name: `spec${extname(specFile) || ".json"}`, text }, opts.force ?? false);
  return lines;
}

/** Plan reproduce's cells into DIR (reproduce --plan): the report's own cell files, computed piecewise. */
export function planReproduce(o: ReproduceOptions, dir: string, force: boolean): ManifestLine[] {
  const lines: ManifestLine[] = cells(o).map((c, index) => ({
    index,
    command: "reproduce",
    id: c.id,
    axes: { scenario: c.scenario, setting: c.x, rule: c.rule },
    config: o,
    cell: c,
  }));
  writeManifest(dir, lines, { name: "spec.json", text: JSON.stringify({ command: "reproduce", options: o }, null, 1) + "\n" }, force);
  return lines;
}

function writeManifest(dir: string, lines: ManifestLine[], spec: { name: string; text: string }, force: boolean): void {
  const p = sweepPaths(dir);
  const text = lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
  if (existsSync(p.manifest)) {
    const old = readFileSync(p.manifest, "utf8");
    const done = existsSync(p.cells) ? readdirSync(p.cells).filter((f) => f.endsWith(".json")).length : 0;
    if (old !== text && done > 0) {
      if (!force) throw new SweepError(`${dir} holds ${done} cell(s) of another plan; plan into a new directory, or pass --force to discard them`);
      for (const d of [p.cells, p.failed, p.running]) rmSync(d, { recursive: true, force: true });
    }
  }
  try { mkdirSync(dir, { recursive: true }); } catch (e) { throw new SweepError(`cannot create ${dir}: ${(e as Error).message}`); }
  for (const f of readdirSync(dir)) if (/^spec\.(json|ya?ml)$/i.test(f) && f !== spec.name) rmSync(join(dir, f));
  writeAtomic(join(dir, spec.name), spec.text);
  writeAtomic(p.manifest, text);
}

/** The manifest of DIR, with its SHA-256 (cells record it: results of two plans are never mixed). */
export function readManifest(dir: string): { lines: ManifestLine[]; hash: string } {
  const p = sweepPaths(dir);
  if (!existsSync(p.manifest)) throw new SweepError(`${dir} is not a planned sweep (no manifest.jsonl; run neuroplastic sweep plan SPEC --out ${dir})`);
  const text = readFileSync(p.manifest, "utf8");
  const lines: ManifestLine[] = [];
  for (const [k, l] of text.split("\n").filter((s) => s.trim() !== "").entries()) {
    let line: ManifestLine;
    try { line = JSON.parse(l); } catch { throw new SweepError(`${p.manifest} line ${k + 1} is not JSON`); }
    if (line.index !== k) throw new SweepError(`${p.manifest} line ${k + 1} has index ${line.index}; the manifest was edited`);
    lines.push(line);
  }
  if (lines.length === 0) throw new SweepError(`${p.manifest} is empty`);
  return { lines, hash: sha256(text) };
}

/** Where cell `line`'s result is written: cells/<index>.json, or reproduce's own cells/<id>.json. */
export function cellFile(dir: string, line: ManifestLine): string {
  return join(sweepPaths(dir).cells, `${line.command === "reproduce" ? line.id : line.index}.json`);
}

/** A finished cell's record, or null; a cell computed from another manifest is an error (never mixed). */
export function readCell(dir: string, line: ManifestLine, hash: string): Record<string, unknown> | null {
  const f = cellFile(dir, line);
  if (!existsSync(f)) return null;
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(readFileSync(f, "utf8"));
  } catch {
    throw new SweepError(`${f} is not valid JSON (a damaged cell file: delete it to recompute the cell)`);
  }
  if (c.manifest !== hash)
    throw new SweepError(
      `${f} was computed from another manifest (${String(c.manifest ?? "none").slice(0, 12)}… vs ${hash.slice(0, 12)}…): manifest.jsonl changed after ` +
        `cells ran; plan into a new directory`,
    );
  return c;
}

/** "a=1 b=x": a cell's axes in a log line. */
export function axesText(axes: Record<string, unknown>): string {
  return Object.entries(axes).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(" ");
}

/** "0-3, 7, 9-10": indices as ranges (sep "," gives SLURM's --array syntax). */
export function ranges(xs: readonly number[], sep = ", "): string {
  const out: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    out.push(i === j ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j;
  }
  return out.join(sep);
}

export { basename };
