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
