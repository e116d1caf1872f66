/**
 * neuroplastic sweep, locally (the real SLURM runs are in test/slurm/): plan
 * a grid into a manifest of resolved configurations, run cells by index or
 * from an engine's environment, idempotently, report status, collect into
 * results and a report; the job scripts for SLURM and Kubernetes; reproduce
 * --plan; and one-line refusals of bad input. Spec parsing is fuzzed.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { closePools } from "../../src/experiments/pool.js";
import { cells, reproduce, type ReproduceOptions } from "../../src/reproduce/run.js";
import { checkSpec, expand, MAX_CELLS, planReproduce, planSweep, readManifest, SweepError } from "../../src/cli/sweep/plan.js";
import { cellRange, runSweep, sweepStatus } from "../../src/cli/sweep/run.js";
import { collectSweep } from "../../src/cli/sweep/collect.js";
import { k8sManifests, slurmScripts } from "../../src/cli/sweep/scripts.js";
import { writeReport } from "../../src/reproduce/report.js";
import { cli, fuzzSeed } from "../helpers.js";

fc.configureGlobal({ seed: fuzzSeed() }); // fixed unless FUZZ_SEED says otherwise (helpers.ts)

after(closePools);
const dir = mkdtempSync(join(tmpdir(), "np-sweep-"));
const quiet = () => {};
const spec = (name: string, obj: unknown) => { const f = join(dir, name); writeFileSync(f, typeof obj === "string" ? obj : JSON.stringify(obj)); return f; };

test("plan: the grid's cartesian product (first axis slowest), one resolved configuration per line, the spec copied", async () => {
  const f = spec("grid.yaml", "base:\n  tasks: 2\n  hidden: \"12\"\n  shots: 3\ngrid:\n  gain: [0.5, 1]\n  rule: [\"bp=0.01\", \"bp=0.01,oja=0.005\"]\n");
  const lines = await planSweep(f, join(dir, "g"));
  assert.deepEqual(lines.map((l) => l.axes), [{ gain: 0.5, rule: "bp=0.01" }, { gain: 0.5, rule: "bp=0.01,oja=0.005" }, { gain: 1, rule: "bp=0.01" }, { gain: 1, rule: "bp=0.01,oja=0.005" }]);
  const { lines: read } = readManifest(join(dir, "g"));
  assert.deepEqual(read, lines);
  const c3 = read[3].config as { gain: number; theta: object; hidden: number[]; tasks: number };
  assert.deepEqual([c3.gain, c3.theta, c3.hidden, c3.tasks], [1, { bp: 0.01, oja: 0.005 }, [12], 2]);
  // The resolved configuration is exactly what `train --print-config` prints for the cell's flags.
  const printed = cli(["train", "--tasks", "2", "--hidden", "12", "--shots", "3", "--gain", "1", "--rule", "bp=0.01,oja=0.005", "--print-config"]);
  assert.deepEqual(JSON.parse(printed.out), read[3].config);
  assert.ok(existsSync(join(dir, "g/spec.yaml")));
});

test("run: by index and count, from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, idempotent; status; collect", async () => {
  const g = join(dir, "g");
  assert.deepEqual(cellRange(4, {}, {}), { first: 0, count: 4, from: "all cells" });
  assert.deepEqual(cellRange(4, { count: 2 }, { SLURM_ARRAY_TASK_ID: "1" }), { first: 2, count: 2, from: "SLURM_ARRAY_TASK_ID" });
  assert.deepEqual(cellRange(4, { count: 3 }, { JOB_COMPLETION_INDEX: "1" }), { first: 3, count: 1, from: "JOB_COMPLETION_INDEX" });
  assert.throws(() => cellRange(4, { index: 4 }, {}), /--index 4 is out of range: the sweep has 4 cells/);
  assert.throws(() => cellRange(4, { count: 2 }, { SLURM_ARRAY_TASK_ID: "2" }), /SLURM_ARRAY_TASK_ID 2 is out of range: element 2 runs cells 4 … 5 \(--count 2\), and the sweep has 4 cells \(0 … 3\); elements 0 … 1 exist/);
  const a = await runSweep(g, { index: 1, count: 2, workers: 1, log: quiet });
  assert.deepEqual([a.ran, a.skipped, a.failed], [[1, 2], [], []]);
  assert.deepEqual(sweepStatus(g), { total: 4, done: [1, 2], missing: [0, 3], failed: [] });
  await assert.rejects(collectSweep(g, { log: quiet }), /the sweep is incomplete: 2 of 4 cells missing \(0, 3\)/);
  const partial = await collectSweep(g, { allowPartial: true, log: quiet });
  assert.ok(partial.some((p) => p.endsWith("results.json")));
  assert.deepEqual(JSON.parse(readFileSync(join(g, "results.json"), "utf8")).missing, [0, 3]);
  const cell1 = readFileSync(join(g, "cells/1.json"), "utf8");
  const b = await runSweep(g, { workers: 2, log: quiet });
  assert.deepEqual([b.ran, b.skipped], [[0, 3], [1, 2]]);
  assert.equal(readFileSync(join(g, "cells/1.json"), "utf8"), cell1, "a finished cell is not recomputed");
  await collectSweep(g, { log: quiet });
  const res = JSON.parse(readFileSync(join(g, "results.json"), "utf8"));
  assert.equal(res.cells.length, 4);
  assert.deepEqual(res.axes, ["gain", "rule"]);
  for (const c of res.cells) assert.equal(c.runs[0].tasks.length, 2);
  const csvRows = readFileSync(join(g, "results.csv"), "utf8").trim().split("\n");
  assert.equal(csvRows.length, 5);
  assert.match(csvRows[0], /^index,gain,rule,acc,acc_ci95,loss,diverged,tasks$/);
  const md = readFileSync(join(g, "summary.md"), "utf8");
  assert.match(md, /## gain/);
  assert.match(md, /## rule/);
  assert.ok(existsSync(join(g, "figures/gain.svg")) && existsSync(join(g, "figures/rule.png")));
  assert.doesNotMatch(md + csvRows.join("\n"), /NaN/);
  // The same cells from one worker or two, in any order: the same bytes.
  const g2 = join(dir, "g2");
  await planSweep(join(dir, "grid.yaml"), g2);
  for (const i of [3, 0, 2, 1]) await runSweep(g2, { index: i, workers: 1, log: quiet });
  await collectSweep(g2, { log: quiet });
  assert.equal(readFileSync(join(g2, "results.json"), "utf8"), readFileSync(join(g, "results.json"), "utf8"));
});

test("a failing cell is recorded with its error and log; the others still run", async () => {
  // A custom dataset directory that disappears after planning makes cell 1 fail at run time.
  const f = spec("fail.json", { base: { tasks: 1, hidden: "8", shots: 2 }, grid: { seed: [1, 2] } });
  const d = join(dir, "fail");
  await planSweep(f, d);
  const manifest = readFileSync(join(d, "manifest.jsonl"), "utf8").split("\n");
  // Make cell 1 unrunnable by asking for more shots than a class holds (as a plan made by hand would).
  manifest[1] = manifest[1].replace(/"shots":2/g, '"shots":5000');
  writeFileSync(join(d, "manifest.jsonl"), manifest.join("\n"));
  const r = await runSweep(d, { workers: 1, log: quiet });
  assert.deepEqual([r.ran, r.failed], [[0], [1]]);
  const st = sweepStatus(d);
  assert.equal(st.failed.length, 1);
  assert.match(st.failed[0].error, /shots|examples|class/);
  assert.match(st.failed[0].log, /stdout of process \d+/);
});

test("job scripts: SLURM array and collect, Kubernetes Indexed Job", () => {
  const s = slurmScripts("/data/sweeps/g", 10, { perTask: 3, parallel: 2, cpus: 4, partition: "cpu", time: "00:30:00", mem: "4G", cli: ["/opt/node/bin/node", "/opt/np/dist/cli/main.js"] });
  assert.equal(s.elements, 4);
  for (const line of ["#SBATCH --array=0-3%2", "#SBATCH --cpus-per-task=4", "#SBATCH --output=/data/sweeps/g/logs/%A_%a.out", "#SBATCH --partition=cpu", "#SBATCH --time=00:30:00", "#SBATCH --mem=4G",
    "exec /opt/node/bin/node /opt/np/dist/cli/main.js sweep run /data/sweeps/g --count 3 --workers 4"]) assert.ok(s.sweep.includes(line + "\n"), line);
  assert.ok(s.collect.includes("exec /opt/node/bin/node /opt/np/dist/cli/main.js sweep collect /data/sweeps/g\n"));
  assert.ok(s.collect.includes("#SBATCH --output=/data/sweeps/g/logs/collect_%j.out\n"));
  const missing = slurmScripts("/data/sweeps/g", 10, { perTask: 1, parallel: 8, cpus: 1, time: "01:00:00", cli: ["node", "main.js"], elements: [1, 2, 3, 7] });
  assert.ok(missing.sweep.includes("#SBATCH --array=1-3,7%4\n"));
  const k = k8sManifests("/data/sweeps/g", 10, { image: "np:1", pvc: "claim", mount: "/sweeps", perTask: 3, parallel: 2, cpus: 2, cli: ["neuroplastic"] });
  const job = parseYaml(k.job), collect = parseYaml(k.collect);
  assert.equal(job.spec.completionMode, "Indexed");
  assert.equal(job.spec.completions, 4);
  assert.equal(job.spec.parallelism, 2);
  assert.deepEqual(job.spec.template.spec.containers[0].command, ["neuroplastic", "sweep", "run", "/sweeps/g", "--count", "3", "--workers", "2"]);
  assert.equal(job.spec.template.spec.volumes[0].persistentVolumeClaim.claimName, "claim");
  assert.deepEqual(collect.spec.template.spec.containers[0].command, ["neuroplastic", "sweep", "collect", "/sweeps/g"]);
});

test("reproduce --plan: reproduce's cells as a sweep; collected, the same report as reproduce itself", async () => {
  const o: ReproduceOptions = { out: join(dir, "rep-direct"), quick: true, workers: 1, seed: 2, tasks: 2, diagTasks: 1, probe: 10, theta: { bp: 0.0068, oja: 0.0053 }, metaEpisodes: 0, dataset: "mnist", backend: "wasm", scarcityEpisodes: 1, transfer: "none", metaSeeds: 1, gridTasks: 0 };
  const planned = join(dir, "rep-plan");
  const lines = planReproduce({ ...o, out: planned }, planned, false);
  assert.deepEqual(lines.map((l) => l.id), cells(o).map((c) => c.id));
  // Run the first few cells one by one as array elements would, then the rest in one go.
  for (let i = 0; i < 3; i++) await runSweep(planned, { index: i, workers: 1, log: quiet });
  await runSweep(planned, { workers: 1, log: quiet });
  await collectSweep(planned, { log: quiet });
  // reproduce itself, given the cells the sweep computed, recognizes every one (same key: nothing recomputed)
  // and writes the same report.
  cpSync(join(planned, "cells"), join(o.out, "cells"), { recursive: true });
  const stamp = (d: string) => readdirSync(d).map((f) => `${f}:${statSync(join(d, f)).mtimeMs}`).join();
  const before = stamp(join(o.out, "cells"));
  await writeReport(o, await reproduce(o), { command: `neuroplastic sweep collect ${planned}`, seconds: 0 });
  assert.equal(stamp(join(o.out, "cells")), before, "no cell recomputed");
  assert.equal(readFileSync(join(planned, "results.csv"), "utf8"), readFileSync(join(o.out, "results.csv"), "utf8"));
  const strip = (s: string) => s.replace(/^Command: .*$/m, "").replace(/compute time[^\n]*/g, "");
  assert.equal(strip(readFileSync(join(planned, "summary.md"), "utf8")), strip(readFileSync(join(o.out, "summary.md"), "utf8")));
});

test("bad input: one-line refusals with a non-zero exit", async () => {
  const refuse = (args: string[], re: RegExp) => {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
    assert.match(r.err, re);
  };
  refuse(["sweep", "plan", spec("b1.json", { grid: { hiden: [10] } }), "--out", join(dir, "x")], /unknown key 'hiden' in grid for train/);
  refuse(["sweep", "plan", spec("b2.json", { grid: { gain: [] } }), "--out", join(dir, "x")], /grid axis 'gain' is empty/);
  refuse(["sweep", "plan", spec("b3.json", { base: { out: "y" }, grid: { gain: [1] } }), "--out", join(dir, "x")], /'out' in base is set by the sweep itself/);
  refuse(["sweep", "plan", spec("b4.json", { grid: { gain: [-1] } }), "--out", join(dir, "x")], /cell 0 \(gain=-1\): --gain must be positive/);
  refuse(["sweep", "plan", spec("b5.json", { grid: { seed: Array.from({ length: 101 }, (_, i) => i), gain: Array.from({ length: 100 }, (_, i) => i + 1) } }), "--out", join(dir, "x")], new RegExp(`10,100 cells, more than the limit of ${MAX_CELLS.toLocaleString("en-US")}`));
  refuse(["sweep", "plan", spec("b6.json", "grid: [1"), "--out", join(dir, "x")], /is not valid JSON/);
  refuse(["sweep", "run", join(dir, "g"), "--index", "4"], /--index 4 is out of range: the sweep has 4 cells/);
  refuse(["sweep", "run", join(dir, "nowhere")], /is not a planned sweep/);
  assert.ok(!existsSync(join(dir, "x")), "refused plans leave nothing behind");
  // A manifest changed after cells ran: detected by its hash, never mixed.
  const g = join(dir, "g"), m = join(g, "manifest.jsonl"), text = readFileSync(m, "utf8");
  writeFileSync(m, text.replace('"tasks":2', '"tasks":3'));
  refuse(["sweep", "run", g], /was computed from another manifest .*manifest.jsonl changed after cells ran/);
  refuse(["sweep", "collect", g], /was computed from another manifest/);
  writeFileSync(m, text);
  // Planning another grid over finished cells needs --force (which discards them).
  refuse(["sweep", "plan", spec("other.json", { base: { tasks: 1, hidden: "8", shots: 2 }, grid: { seed: [5] } }), "--out", g], /holds 4 cell\(s\) of another plan/);
  assert.equal(readdirSync(join(g, "cells")).length, 4);
});

test("fuzz: any spec object gives a SweepSpec or a SweepError, and expands to the product of its axes", () => {
  const keys = fc.constantFrom("hidden", "gain", "rule", "seed", "tasks", "out", "hiden", "theta", "bias", "x");
  const obj = fc.record({
    command: fc.oneof(fc.constantFrom("train", "meta", "reproduce"), fc.jsonValue({ maxDepth: 0 })),
    base: fc.oneof(fc.dictionary(keys, fc.jsonValue({ maxDepth: 1 })), fc.jsonValue({ maxDepth: 1 })),
    grid: fc.oneof(fc.dictionary(keys, fc.oneof(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 }))), fc.jsonValue({ maxDepth: 1 })),
    extra: fc.jsonValue({ maxDepth: 1 }),
  }, { requiredKeys: [] });
  fc.assert(fc.property(fc.oneof(obj, fc.jsonValue({ maxDepth: 2 })), (data) => {
    let s;
    try { s = checkSpec(data, "fuzz.json"); } catch (e) { assert.ok(e instanceof SweepError, String(e)); assert.ok(!(e as Error).message.includes("\n")); return; }
    const n = Object.values(s.grid).reduce((p, v) => p * v.length, 1);
    assert.equal(expand(s).length, n);
  }), { numRuns: 1000 });
});

test("sweep scripts start the CLI that exists: from the sources and from the build, the command names this checkout's main", async () => {
  const { existsSync } = await import("node:fs");
  const { cliCommand } = await import("../../src/cli/sweep/scripts.js");
  const cmd = cliCommand();
  const main = cmd[cmd.length - 1];
  assert.ok(existsSync(main), `the compute nodes' command runs ${main}, which must exist`);
  assert.match(main, /(dist\/cli\/main\.js|src\/cli\/main\.ts)$/);
  const built = await import(new URL("../../dist/cli/sweep/scripts.js", import.meta.url).href).catch(() => null);
  if (built) { const b = built.cliCommand(); assert.ok(existsSync(b[b.length - 1]), `built: ${b.join(" ")}`); assert.match(b[b.length - 1], /dist\/cli\/main\.js$/); }
});
