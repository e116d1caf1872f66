/**
 * Round 3 of "nothing lost, nothing misleading" (issue 23): what a hostile
 * tester broke, each case kept as a regression.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeAtomic } from "../../src/core/files.js";
import { closePools } from "../../src/experiments/pool.js";
import { cli } from "../helpers.js";

after(closePools);
const root = new URL("../..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "np-hostile-"));

function refuses(args: string[], code: number, cause: RegExp, env?: NodeJS.ProcessEnv): string {
  const r = env ? spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), ...args], { encoding: "utf8", cwd: root, env: { ...process.env, ...env } }) : null;
  const { code: c, err } = r ? { code: r.status, err: r.stderr } : cli(args);
  assert.equal(c, code, `exit code of ${args.join(" ")}: ${err}`);
  const lines = err.trim().split("\n");
  assert.equal(lines.length, 1, `one line, got:\n${err}`);
  assert.match(lines[0], cause);
  assert.doesNotMatch(err, /\n\s+at /);
  return lines[0];
}

test("--out refuses devices and FIFOs, with or without --force, naming what they are; the device is left alone", () => {
  const fifo = join(dir, "fifo");
  assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
  const small = ["--hidden", "10", "--shots", "2", "--query", "1", "--workers", "1"];
  for (const force of [[], ["--force"]]) {
    refuses(["train", "--tasks", "1", ...small, "--out", "/dev/null", ...force], 2, /--out \/dev\/null: it is a character device, not a regular file/);
    refuses(["train", "--tasks", "1", ...small, "--out", fifo, ...force], 2, /--out .*fifo: it is a FIFO/);
    refuses(["meta", "--episodes", "1", ...small, "--out", "/dev/full", ...force], 2, /--out \/dev\/full: it is a character device/);
  }
  refuses(["reproduce", "--out", fifo], 2, /it is a FIFO/);
  refuses(["sweep", "plan", "x.yaml", "--out", "/dev/null"], 2, /it is a character device/);
  // A file the run would write beside --out is checked too (train's task stream).
  assert.equal(spawnSync("mkfifo", [join(dir, "s.tasks.jsonl")]).status, 0);
  refuses(["train", "--tasks", "1", ...small, "--out", join(dir, "s.json"), "--force"], 2, /--out .*s\.json: .*s\.tasks\.jsonl is a FIFO/);
  assert.ok(statSync("/dev/null").isCharacterDevice());
  assert.ok(statSync(fifo).isFIFO());
  // The library's atomic write refuses to rename over one as well.
  assert.throws(() => writeAtomic(fifo, "x"), /refusing to replace .*fifo: it is a FIFO/);
  assert.ok(statSync(fifo).isFIFO());
});

/** Start the CLI with NEUROPLASTIC_TRACE, send `sig` once stderr matches `ready` (a readiness signal, never a fixed sleep). */
export function interruptWhen(args: string[], sig: NodeJS.Signals, ready: RegExp, timeoutMs = 120_000): Promise<{ code: number | null; out: string; err: string; waited: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), ...args], { cwd: root, env: { ...process.env, NEUROPLASTIC_TRACE: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "", sent = 0;
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { err += d; if (!sent && ready.test(err)) { sent = Date.now(); child.kill(sig); } });
  return new Promise((resolve) => child.on("exit", (code) => { clearTimeout(timer); resolve({ code, out, err, waited: sent ? Date.now() - sent : NaN }); }));
}

test("an interrupted train without --out prints the finished tasks (partial) and says --out makes a run resumable; with --json too", async () => {
  const args = ["train", "--tasks", "100000", "--hidden", "10", "--shots", "3", "--query", "2", "--workers", "1", "--rule", "bp=0.01"];
  const r = await interruptWhen(args, "SIGTERM", /trace: bp=0\.01 [1-9]\d*\/100000/);
  assert.equal(r.code, 143, r.err);
  const row = r.out.split("\n").find((l) => l.startsWith("bp=0.01 (partial: "));
  assert.ok(row, r.out);
  const [, k] = row.match(/partial: (\d+) of 100000 tasks/)!;
  assert.ok(Number(k) >= 1);
  assert.match(row, /0\.\d{4}/);
  assert.match(r.err, /interrupted — nothing was saved to resume from; pass --out FILE/);
  assert.doesNotMatch(r.err, /resume with --resume/);
  const j = await interruptWhen([...args, "--json"], "SIGINT", /trace: bp=0\.01 [1-9]\d*\/100000/);
  assert.equal(j.code, 130, j.err);
  const line = JSON.parse(j.out.trim().split("\n").at(-1)!);
  assert.equal(line.partial, true);
  assert.ok(line.tasks >= 1 && line.acc > 0 && line.acc <= 1);
});

test("meta --resume with another --episodes: the robust loop refuses and says why; Adam continues exactly as an unbroken run", async () => {
  const { metaPaths, metaTrain } = await import("../../src/experiments/meta-train.js");
  const { DEFAULT_CONFIG } = await import("../../src/experiments/task.js");
  const base = { run: { ...DEFAULT_CONFIG, hidden: [10], shots: 3, query: 2, split: "train" as const, theta: { bp: 0.01, oja: 0 }, tasks: 1 }, learn: ["bp", "oja"] as ("bp" | "oja")[], perLayer: false, episodes: 2, metaBatch: 1, metaLr: 0.001, l1: 0, checkpointEvery: 1 };
  const robust = { ...base, outer: "robust" as const, metaStep: 0.1, thetaFloor: 3e-3, sigma: 0.1 };
  const r = mkdtempSync(join(tmpdir(), "np-rs-"));
  await metaTrain(robust, 1, metaPaths(r));
  await assert.rejects(metaTrain({ ...robust, episodes: 3 }, 1, metaPaths(r), { resume: true }), /run of 2 episodes: the robust outer loop's step size decays over the whole run, so it cannot be continued to 3 exactly; resume with --episodes 2/);
  const adam = { ...base, outer: "adam" as const };
  const a = mkdtempSync(join(tmpdir(), "np-ra-")), b = mkdtempSync(join(tmpdir(), "np-rb-"));
  await metaTrain(adam, 1, metaPaths(a));
  await metaTrain({ ...adam, episodes: 3 }, 1, metaPaths(a), { resume: true });
  await metaTrain({ ...adam, episodes: 3 }, 1, metaPaths(b));
  assert.equal(readFileSync(join(a, "meta.jsonl"), "utf8"), readFileSync(join(b, "meta.jsonl"), "utf8"));
});

test("sweeps: one cell computed once under concurrency (an exclusive claim), stale claims taken over; repeated axis values refused", async () => {
  const { planSweep, SweepError } = await import("../../src/cli/sweep/plan.js");
  const { runSweep } = await import("../../src/cli/sweep/run.js");
  const { STALE_MS } = await import("../../src/cli/sweep/claim.js");
  const { utimesSync, mkdirSync } = await import("node:fs");
  const spec = join(dir, "grid.yaml");
  writeFileSync(spec, "base:\n  tasks: 2\n  hidden: \"10\"\n  shots: 2\n  query: 1\ngrid:\n  gain: [1, 1]\n");
  await assert.rejects(planSweep(spec, join(dir, "dup")), (e: Error) => e instanceof SweepError && /grid axis 'gain' repeats the value 1 \(positions 1 and 2\)/.test(e.message));
  writeFileSync(spec, "base:\n  tasks: 2\n  hidden: \"10\"\n  shots: 2\n  query: 1\ngrid:\n  gain: [1, \"1\"]\n");
  await assert.rejects(planSweep(spec, join(dir, "dup")), /cell 1 \(gain=1\) resolves to the same configuration as cell 0/);
  writeFileSync(spec, "base:\n  tasks: 2\n  hidden: \"10\"\n  shots: 2\n  query: 1\ngrid:\n  gain: [0.5, 1]\n");
  const g = join(dir, "lock");
  await planSweep(spec, g);
  // Two runs of the same cell at once: the second finds the first's claim and leaves the cell to it.
  const logs: string[][] = [[], []];
  const [a, b] = await Promise.all([0, 1].map((k) => runSweep(g, { index: 0, workers: 1, log: (s) => logs[k].push(s) })));
  assert.deepEqual([a.ran, b.ran, b.busy], [[0], [], [0]]);
  assert.ok(logs[1].some((l) => /cell 0: being computed by process \d+ on .* since .*running\/0\.json\), skipped/.test(l)), logs[1].join("\n"));
  assert.equal(existsSync(join(g, "running/0.json")), false, "the claim is released");
  // A claim whose process is gone (this host, a pid that has exited) is taken over.
  const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
  const { hostname } = await import("node:os");
  mkdirSync(join(g, "running"), { recursive: true });
  writeFileSync(join(g, "running/1.json"), JSON.stringify({ index: 1, host: hostname(), pid: dead, log: "x", started: "then" }));
  const seen: string[] = [];
  const c = await runSweep(g, { index: 1, workers: 1, log: (s) => seen.push(s) });
  assert.deepEqual(c.ran, [1]);
  assert.ok(seen.some((l) => new RegExp(`took over the stale claim of process ${dead}`).test(l)));
  // Another host's claim: held while its heartbeat is fresh, taken over once it is older than STALE_MS.
  writeFileSync(spec, "base:\n  tasks: 2\n  hidden: \"10\"\n  shots: 2\n  query: 1\ngrid:\n  gain: [2]\n");
  const h = join(dir, "lock2");
  await planSweep(spec, h);
  mkdirSync(join(h, "running"), { recursive: true });
  const other = join(h, "running/0.json");
  writeFileSync(other, JSON.stringify({ index: 0, host: "elsewhere", pid: 1, log: "x", started: "then" }));
  assert.deepEqual((await runSweep(h, { index: 0, workers: 1, log: () => {} })).busy, [0]);
  const old = new Date(Date.now() - STALE_MS - 60_000);
  utimesSync(other, old, old);
  assert.deepEqual((await runSweep(h, { index: 0, workers: 1, log: () => {} })).ran, [0]);
});

test("sweep slurm/k8s: every value checked or quoted, so none can add a line or a field to a script", async () => {
  const { slurmScripts, k8sManifests } = await import("../../src/cli/sweep/scripts.js");
  const o = { perTask: 1, parallel: 2, cpus: 1, time: "01:00:00", cli: ["/usr/bin/node", "/x/main.js"] };
  for (const [bad, re] of [[{ time: "abc" }, /--time must be a SLURM time limit/], [{ mem: "abc" }, /--mem must be a whole number/], [{ partition: "cpu\n#SBATCH --wrap=rm" }, /--partition must be a partition name/], [{ partition: "a b" }, /--partition/], [{ cli: ["/usr/bin/node", "/x\nrm -rf /"] }, /control characters/]] as [object, RegExp][]) {
    assert.throws(() => slurmScripts("/data/g", 3, { ...o, ...bad }), re);
  }
  for (const t of ["30", "1:30", "02:00:00", "1-12", "1-12:30", "2-00:00:00", "UNLIMITED"]) slurmScripts("/data/g", 3, { ...o, time: t, mem: "4G", partition: "cpu,gpu" });
  assert.throws(() => slurmScripts("/data/a\nb", 3, o), /control characters/);
  // A directory with spaces: the #SBATCH values are quoted (sbatch reads a directive's value to the first unquoted space), the job name sanitized.
  const s = slurmScripts("/data/my sweeps/run 1", 3, o);
  assert.match(s.sweep, /^#SBATCH --output="\/data\/my sweeps\/run 1\/logs\/%A_%a\.out"$/m);
  assert.match(s.sweep, /^#SBATCH --job-name=np-sweep-run_1$/m);
  assert.match(s.sweep, /^exec .* sweep run '\/data\/my sweeps\/run 1' --count 1/m);
  for (const line of s.sweep.split("\n").filter((l) => l.startsWith("#SBATCH"))) assert.match(line, /^#SBATCH --[a-z-]+=("[^"]*"|\S+)$/, line);
  assert.throws(() => slurmScripts('/data/a"b', 3, o), /contains '"'/);
  const k = { image: "np:1", pvc: "claim", mount: "/sweeps", perTask: 1, parallel: 2, cpus: 1, cli: ["neuroplastic"] };
  assert.throws(() => k8sManifests("/data/g", 3, { ...k, image: "np:1\n  hostNetwork: true" }), /--image must be an image reference/);
  assert.throws(() => k8sManifests("/data/g", 3, { ...k, pvc: "Claim X" }), /--pvc must be a Kubernetes name/);
  assert.throws(() => k8sManifests("/data/g", 3, { ...k, mount: "rel" }), /--mount must be an absolute path/);
  // Through the CLI: a one-line usage error (exit 2).
  refuses(["sweep", "slurm", join(dir, "lock"), "--time", "abc"], 2, /--time must be a SLURM time limit/);
});

test("messages say what is wrong: typo suggestions kept, terms syntax errors located, directories and full devices in plain words, --way 1 refused", () => {
  refuses(["train", "--tsks", "5"], 2, /unknown option '--tsks' \(Did you mean --tasks\?\)/);
  const bad = join(dir, "bad-terms.mjs");
  writeFileSync(bad, "export const terms = [{\n  name: 'x',\n  error here\n}];\n");
  refuses(["train", "--terms", bad], 2, new RegExp(`cannot load the terms module ${bad}:3: syntax error: Unexpected identifier`));
  refuses(["train", "--config", dir], 2, /cannot read config file .*: it is a directory$/);
  refuses(["train", "--way", "1"], 2, /--way must be an integer ≥ 2/);
  // The same words for a missing dataset whether its path is absolute or relative, naming the built-in ones.
  const abs = refuses(["train", "--dataset", "/nowhere/x", "--tasks", "1"], 1, /dataset '\/nowhere\/x' not found: \/nowhere\/x is neither a directory of IDX files nor DIR\/prefix of one set \(built in: 'mnist', 'fashion'\)/);
  const rel = refuses(["train", "--dataset", "test/nowhere", "--tasks", "1"], 1, /dataset 'test\/nowhere' not found: .*\/test\/nowhere is neither/);
  assert.equal(abs.replace(/'[^']*' not found: \S+/, ""), rel.replace(/'[^']*' not found: \S+/, ""));
  // reproduce checks its datasets before creating --out.
  refuses(["reproduce", "--dataset", "/nowhere/x", "--out", join(dir, "rep")], 1, /not found/);
  assert.equal(existsSync(join(dir, "rep")), false);
  // stdout on a full device: one line, exit 1.
  const full = spawnSync("sh", ["-c", `${process.execPath} --import tsx ${join(root, "src/cli/main.ts")} train --tasks 1 --hidden 10 --shots 2 --query 1 --workers 1 > /dev/full`], { cwd: root, encoding: "utf8" });
  assert.equal(full.status, 1);
  assert.equal(full.stderr.trim(), "neuroplastic: cannot write the output: no space left on the device");
  // Help states each default once.
  const help = cli(["train", "--help"]).out.replace(/\s+/g, " ");
  for (const f of ["--bias", "--remap"]) assert.doesNotMatch(help.split(f)[1].split(" --")[0], /default[\s\S]*default/i, f);
  // `npm pack --silent` runs the build: its line goes to stderr, so stdout is the tarball's name alone.
  assert.doesNotMatch(readFileSync(join(root, "scripts/build-wasm.mjs"), "utf8"), /console\.log|process\.stdout/);
});

test("train --print-config round-trips through --config, with the default two rules too", () => {
  for (const extra of [[], ["--rule", "bp=0.01"], ["--rule", "bp=0.01", "--rule", "bp=0.01,oja=0.005", "--hidden", "12"]]) {
    const a = cli(["train", ...extra, "--print-config"]);
    assert.equal(a.code, 0, a.err);
    const f = join(dir, `pc${extra.length}.json`);
    writeFileSync(f, a.out);
    const b = cli(["train", "--config", f, "--print-config"]);
    assert.equal(b.code, 0, b.err);
    assert.equal(b.out, a.out);
  }
});

test("a short meta run counts its episodes as they are: no 'last 10' of 3, no 'last 1 episodes'", () => {
  const r = cli(["meta", "--hidden", "10", "--shots", "2", "--query", "1", "--episodes", "3", "--workers", "1", "--eval-tasks", "0", "--no-figures", "--bracket", "0", "--out", join(dir, "meta3")]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /\(θ after the last episode;/);
  assert.match(r.out, /^last 3 episodes: query acc/m);
  assert.doesNotMatch(r.out, /last 10 episodes|last 1 episodes/);
});

test("long computations answer signals: an RNN with a 100,000-step delay on one worker stops on SIGTERM and SIGINT at once, and says beforehand that it is long", async () => {
  for (const [cmd, sig, code] of [[["train", "--tasks", "100"], "SIGTERM", 143], [["meta", "--episodes", "3", "--no-figures", "--eval-tasks", "0", "--out", join(dir, "longmeta")], "SIGINT", 130]] as const) {
    const r = await interruptWhen([...cmd, "--net", "rnn", "--delay", "100000", "--workers", "1"], sig, /signal handlers installed[\s\S]*a long run/);
    assert.equal(r.code, code, r.err);
    assert.match(r.err, /a long run: .*roughly [\d.]+ (minutes|hours|days) by a rough estimate; Ctrl-C stops it/);
    // Within a second or two on this machine; the bound leaves room for a slow, shared core.
    assert.ok(r.waited < 10_000, `exited ${r.waited} ms after the signal`);
  }
});

test("the cost model that picks where a job runs and warns of long runs: heavier configurations cost more, none of it changes a result", async () => {
  const { taskSeconds, duration } = await import("../../src/experiments/cost.js");
  const { DEFAULT_CONFIG } = await import("../../src/experiments/task.js");
  const base = { ...DEFAULT_CONFIG, theta: { bp: 0.01 } };
  const rnn = (delay: number) => taskSeconds({ ...base, net: "rnn" as const, hidden: [100], delay });
  assert.ok(rnn(100000) > 1000 * rnn(20));
  assert.ok(taskSeconds({ ...base, hidden: [100, 100] }) < taskSeconds(base));
  assert.ok(taskSeconds({ ...base, backend: "js" }) > taskSeconds(base));
  assert.ok(taskSeconds(base) < 0.05, "a paper-network task runs in process");
  assert.deepEqual([duration(30), duration(600), duration(4 * 3600), duration(3 * 86400)], ["30 s", "10 minutes", "4.0 hours", "3.0 days"]);
});

test("--out refuses a socket too (the in-process check every command uses)", async () => {
  const { createServer } = await import("node:net");
  const { checkOutTarget } = await import("../../src/cli/out-target.js");
  const sock = join(dir, "sock");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  try {
    assert.throws(() => checkOutTarget("--out", sock), /--out .*sock: it is a socket, not a regular file or directory/);
    assert.throws(() => checkOutTarget("--out", join(dir, "x.json"), [sock]), /--out .*x\.json: .*sock is a socket/);
    checkOutTarget("--out", join(dir, "fresh.json"));
    checkOutTarget("--out", dir);
  } finally { server.close(); }
});
