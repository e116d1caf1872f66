/**
 * Sweeps on a real SLURM (scripts/slurm-up.sh starts a one-node cluster;
 * run through `npm run test:slurm`, which stops it afterwards). Needs the
 * built CLI (dist/, as after `npm ci`): compute nodes run it.
 *  1. A sweep submitted as an array job plus a dependent collect job gives
 *     exactly the results of running every index locally.
 *  2. An array element killed mid-run leaves no partial cell; resubmitting
 *     the missing elements completes only those cells.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const CLI = join(root, "dist/cli/main.js");
const work = mkdtempSync("/tmp/np-slurm-test-");

function np(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: work });
  assert.equal(r.status, 0, `neuroplastic ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The job's state as scontrol reports it (records are kept for MinJobAge seconds). */
const jobState = (id: string) => sh("scontrol", ["show", "job", "-o", id]).match(/JobState=(\S+)/g)?.map((m) => m.slice(9)) ?? [];
async function until(what: string, ok: () => boolean, seconds: number): Promise<void> {
  for (let t = 0; t < seconds * 4; t++) { if (ok()) return; await sleep(250); }
  assert.fail(`timed out after ${seconds} s waiting for ${what}`);
}
const submitted = (out: string) => { const m = out.match(/submitted array job (\d+) .* collect job (\d+)/); assert.ok(m, out); return { array: m[1], collect: m[2] }; };

test("preflight: the SLURM controller answers and the node is idle", () => {
  assert.match(sh("scontrol", ["ping"]), /UP/);
  assert.match(sh("sinfo", ["-h", "-o", "%t"]), /idle|mix/);
  assert.ok(existsSync(CLI), "dist/cli/main.js (npm run build)");
});

test("a sweep run as a SLURM array plus a dependent collect job equals running every index locally", { timeout: 300_000 }, async () => {
  writeFileSync(join(work, "grid.yaml"), "base:\n  tasks: 4\n  hidden: \"20\"\n  shots: 5\ngrid:\n  gain: [0.5, 1]\n  rule: [\"bp=0.01\", \"bp=0.01,oja=0.005\"]\n  seed: [1, 2]\n");
  np(["sweep", "plan", "grid.yaml", "--out", "cluster"]);
  np(["sweep", "plan", "grid.yaml", "--out", "local"]);
  // Locally: every index, one at a time, as the array elements would.
  for (let i = 0; i < 8; i++) np(["sweep", "run", "local", "--index", String(i), "--workers", "1"]);
  np(["sweep", "collect", "local"]);
  // On the cluster: two cells per element, the collect job after the array.
  const ids = submitted(np(["sweep", "slurm", "cluster", "--per-task", "2", "--cpus", "1", "--submit"]));
  await until("the collect job", () => jobState(ids.collect).every((s) => ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"].includes(s)), 240);
  assert.deepEqual(jobState(ids.collect), ["COMPLETED"]);
  assert.ok(jobState(ids.array).every((s) => s === "COMPLETED"), `array: ${jobState(ids.array)}`);
  assert.equal(readFileSync(join(work, "cluster/results.json"), "utf8"), readFileSync(join(work, "local/results.json"), "utf8"));
  assert.equal(readFileSync(join(work, "cluster/results.csv"), "utf8"), readFileSync(join(work, "local/results.csv"), "utf8"));
  // Four elements of two cells, each log naming the configurations it ran.
  const logs = readdirSync(join(work, "cluster/logs")).filter((f) => f.startsWith(`${ids.array}_`));
  assert.equal(logs.length, 4);
  for (const f of logs) assert.match(readFileSync(join(work, "cluster/logs", f), "utf8"), /cell \d of 8 \[gain=.* rule=.* seed=\d\]: \{"dataset":"mnist"/);
});

test("an array element killed mid-run leaves no partial cell; resubmitting the missing elements completes only those cells", { timeout: 400_000 }, async () => {
  // Cells long enough to be killed while they run (the paper network, 150 tasks each).
  writeFileSync(join(work, "long.json"), JSON.stringify({ base: { tasks: 150, rule: "bp=0.0068,oja=0.0053" }, grid: { seed: [1, 2, 3] } }));
  np(["sweep", "plan", "long.json", "--out", "kill"]);
  const dir = join(work, "kill");
  const first = submitted(np(["sweep", "slurm", "kill", "--cpus", "1", "--parallel", "3", "--submit"]));
  const log1 = join(dir, "logs", `${first.array}_1.out`);
  await until("element 1 to start its cell", () => existsSync(log1) && /cell 1 of 3/.test(readFileSync(log1, "utf8")), 120);
  await sleep(500);
  sh("scancel", ["--signal=KILL", "--full", `${first.array}_1`]);
  await until("the array to end", () => jobState(first.array).every((s) => !["PENDING", "RUNNING", "COMPLETING"].includes(s)), 240);
  // The collect job can never run (afterok failed): cancel it.
  spawnSync("scancel", [first.collect]);
  const cells = join(dir, "cells");
  assert.deepEqual(readdirSync(cells).sort(), ["0.json", "2.json"], "no partial cell, no temporary file");
  const status = JSON.parse(np(["sweep", "status", "kill", "--json"]));
  assert.deepEqual(status.done, [0, 2]);
  assert.deepEqual(status.failed.map((f: { index: number }) => f.index), [1]);
  assert.equal(status.failed[0].log, log1, "the failure points at the element's log");
  const before = ["0.json", "2.json"].map((f) => ({ f, bytes: readFileSync(join(cells, f), "utf8"), mtime: statSync(join(cells, f)).mtimeMs }));
  // Resubmit what is missing: an array of one element.
  const again = submitted(np(["sweep", "slurm", "kill", "--missing", "--cpus", "1", "--submit"]));
  assert.match(readFileSync(join(dir, "sweep.sbatch"), "utf8"), /#SBATCH --array=1%1\n/);
  await until("the collect job", () => jobState(again.collect).every((s) => ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"].includes(s)), 240);
  assert.deepEqual(jobState(again.collect), ["COMPLETED"]);
  assert.deepEqual(readdirSync(cells).sort(), ["0.json", "1.json", "2.json"]);
  for (const b of before) {
    assert.equal(readFileSync(join(cells, b.f), "utf8"), b.bytes, `${b.f} untouched`);
    assert.equal(statSync(join(cells, b.f)).mtimeMs, b.mtime, `${b.f} not rewritten`);
  }
  assert.deepEqual(readdirSync(join(dir, "logs")).filter((f) => f.startsWith(`${again.array}_`)), [`${again.array}_1.out`]);
  const st = JSON.parse(np(["sweep", "status", "kill", "--json"]));
  assert.deepEqual([st.done.length, st.missing.length, st.failed.length], [3, 0, 0]);
  // The same results as computing the sweep locally.
  np(["sweep", "plan", "long.json", "--out", "kill-local"]);
  np(["sweep", "run", "kill-local", "--workers", "2"]);
  np(["sweep", "collect", "kill-local"]);
  assert.equal(readFileSync(join(dir, "results.json"), "utf8"), readFileSync(join(work, "kill-local/results.json"), "utf8"));
});
