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
import { writeAtomic } from "../src/core/files.js";
import { closePools } from "../src/experiments/pool.js";
import { cli } from "./helpers.js";

after(closePools);
const root = new URL("..", import.meta.url).pathname;
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
  const { metaPaths, metaTrain } = await import("../src/experiments/meta-train.js");
  const { DEFAULT_CONFIG } = await import("../src/experiments/task.js");
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
