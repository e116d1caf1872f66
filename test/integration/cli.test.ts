import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeIdx } from "../../src/data/idx.js";
import { cli } from "../helpers.js";

/** One line naming the cause, a non-zero exit and no stack trace. */
function assertCleanError(args: string[], cause: RegExp) {
  const r = cli(args);
  assert.notEqual(r.code, 0, `exit code for ${args.join(" ")}`);
  const lines = r.err.trim().split("\n");
  assert.equal(lines.length, 1, `one line, got:\n${r.err}`);
  assert.match(lines[0], cause);
  assert.doesNotMatch(r.err, /\n\s+at /);
}

const dir = mkdtempSync(join(tmpdir(), "np-cli-"));
const imgs = encodeIdx({ dtype: "u8", dims: [20, 2, 2], data: new Uint8Array(80) });
const lbls = encodeIdx({ dtype: "u8", dims: [20], data: Uint8Array.from({ length: 20 }, (_, i) => i % 4) });
writeFileSync(join(dir, "train-images-idx3-ubyte"), imgs.slice(0, 50));
writeFileSync(join(dir, "train-labels-idx1-ubyte"), lbls);
const garbled = join(dir, "garbled");
mkdirSync(garbled);
writeFileSync(join(garbled, "train-images-idx3-ubyte"), Buffer.from("this is not an idx file at all"));
writeFileSync(join(garbled, "train-labels-idx1-ubyte"), lbls);

test("bad input: one-line errors, non-zero exit, no stack trace", () => {
  assertCleanError(["train", "--dataset", join(dir, "missing", "x")], /not found/);
  assertCleanError(["train", "--dataset", dir, "--split", "test"], /no test images file/);
  assertCleanError(["train", "--dataset", dir, "--split", "train"], /truncated/);
  assertCleanError(["train", "--dataset", garbled, "--split", "train"], /bad magic number/);
  assertCleanError(["train", "--rule", "bp=0.01,foo=1"], /unknown rule term 'foo'/);
  assertCleanError(["train", "--hidden", "100,-5"], /positive integers, got '-5'/);
  assertCleanError(["train", "--shots", "2000", "--tasks", "1"], /more examples than the smallest class/);
  assertCleanError(["train", "--rule-file", join(dir, "nope.json")], /cannot read rule file/);
  assertCleanError(["train", "--feedback", "sideways"], /--feedback must be one of sym, random/);
});

test("train --json prints one JSON line per rule with the contract's fields, and --out writes results", () => {
  const out = join(dir, "res.json");
  const r = cli(["train", "--hidden", "30", "--tasks", "3", "--shots", "5", "--query", "3", "--workers", "1", "--rule", "bp=0.01,oja=0.005", "--json", "--out", out]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split("\n");
  assert.equal(lines.length, 1);
  const j = JSON.parse(lines[0]);
  for (const k of ["acc", "acc_se", "loss", "tasks", "diverged", "steps_per_s"]) assert.ok(k in j, `field ${k}`);
  assert.equal(j.tasks, 3);
  assert.deepEqual(j.theta, { bp: 0.01, oja: 0.005 });
  const savedBytes = readFileSync(out);
  // An earlier run's results are never overwritten silently.
  const refused = cli(["train", "--hidden", "30", "--tasks", "3", "--shots", "5", "--query", "3", "--rule", "bp=0.01,oja=0.005", "--json", "--out", out]);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /holds an earlier run's results; resume it with --resume, or overwrite it with --force/);
  const again = cli(["train", "--hidden", "30", "--tasks", "3", "--shots", "5", "--query", "3", "--workers", "2", "--rule", "bp=0.01,oja=0.005", "--json", "--out", out, "--force"]);
  assert.equal(again.code, 0, again.err);
  assert.ok(readFileSync(out).equals(savedBytes), "same seed, same bytes (whatever the number of workers)");
  const saved = JSON.parse(savedBytes.toString("utf8"));
  for (const k of ["neuroplastic", "node"]) assert.ok(k in saved.provenance, `provenance ${k}`);
  assert.equal(saved.runs[0].results.length, 3);
  assert.equal(saved.runs[0].acc, saved.runs[0].results.reduce((s: number, x: { acc: number }) => s + x.acc, 0) / 3);
  // Each task streamed as a line of FILE.tasks.jsonl, after a header with the configuration.
  const streamed = readFileSync(out.replace(/\.json$/, ".tasks.jsonl"), "utf8").trim().split("\n");
  assert.equal(streamed.length, 4);
  assert.deepEqual(streamed.slice(1).map((l) => JSON.parse(l).task), [0, 1, 2]);
});

test("RNN bad input: one-line errors, non-zero exit, no stack trace", () => {
  assertCleanError(["train", "--net", "lstm"], /--net must be one of mlp, rnn, got 'lstm'/);
  assertCleanError(["train", "--net", "rnn", "--delay", "-2"], /--delay must be an integer ≥ 0, got '-2'/);
  assertCleanError(["train", "--net", "rnn", "--hidden", "100,100", "--tasks", "1"], /one --hidden width/);
  assertCleanError(["train", "--net", "rnn", "--bias", "--tasks", "1"], /no biases/);
  assertCleanError(["train", "--delay", "5", "--tasks", "1"], /--delay applies to --net rnn only/);
  assertCleanError(["train", "--net", "rnn", "--leak", "1.5", "--tasks", "1"], /--leak must be in \(0, 1\]/);
  // Images without a 2-D shape cannot be presented row by row.
  const flat = join(dir, "flat");
  mkdirSync(flat);
  writeFileSync(join(flat, "train-images-idx2-ubyte"), encodeIdx({ dtype: "u8", dims: [20, 4], data: new Uint8Array(80) }));
  writeFileSync(join(flat, "train-labels-idx1-ubyte"), lbls);
  assertCleanError(["train", "--dataset", flat, "--split", "train", "--net", "rnn", "--tasks", "1"], /(no 2-D image shape|3 dimensions)/);
});

test("train --net rnn --json: the contract's fields plus seq_len; the same seed gives the same bytes", () => {
  const args = ["train", "--net", "rnn", "--hidden", "20", "--delay", "3", "--tasks", "2", "--shots", "5", "--query", "3", "--rule", "bp=0.003,oja=0.002", "--json"];
  const a = cli([...args, "--workers", "1"]), b = cli([...args, "--workers", "2"]);
  assert.equal(a.code, 0, a.err);
  const ja = JSON.parse(a.out), jb = JSON.parse(b.out);
  for (const k of ["acc", "acc_se", "loss", "tasks", "diverged", "steps_per_s", "seq_len"]) assert.ok(k in ja, `field ${k}`);
  assert.equal(ja.seq_len, 28 + 3);
  assert.equal(ja.config.net, "rnn");
  for (const k of ["acc", "acc_se", "loss", "diverged"]) assert.equal(ja[k], jb[k], k);
  const m = cli(["meta", "--net", "rnn", "--hidden", "12", "--delay", "2", "--shots", "4", "--query", "3", "--episodes", "2", "--workers", "1", "--eval-tasks", "1", "--no-figures", "--json", "--out", join(dir, "meta-rnn")]);
  assert.equal(m.code, 0, m.err);
  assert.ok("theta" in JSON.parse(m.out));
});

test("rule pools from the CLI: --terms, --learn pool with --l1, and bad input", () => {
  const terms = join(new URL("..", import.meta.url).pathname, "fixtures", "antihebb.mjs");
  const t = cli(["train", "--terms", terms, "--hidden", "20", "--tasks", "2", "--shots", "5", "--query", "3", "--rule", "bp=0.01,antihebb=0.001", "--workers", "2", "--json"]);
  assert.equal(t.code, 0, t.err);
  assert.deepEqual(JSON.parse(t.out).theta, { bp: 0.01, antihebb: 0.001 });
  const m = cli(["meta", "--learn", "pool", "--l1", "0.5", "--hidden", "12", "--shots", "4", "--query", "3", "--episodes", "3", "--workers", "1", "--eval-tasks", "0", "--no-figures", "--json", "--out", join(dir, "pool")]);
  assert.equal(m.code, 0, m.err);
  const sum = JSON.parse(m.out);
  assert.deepEqual(Object.keys(sum.theta), ["bp", "oja", "hebb", "ehebb", "ye", "eoja", "decay"]);
  assert.ok(Array.isArray(sum.l1.near_zero));
  assertCleanError(["meta", "--learn", "bp,nosuch", "--episodes", "1"], /unknown rule term 'nosuch' in --learn/);
  assertCleanError(["meta", "--l1", "-1", "--episodes", "1"], /--l1 must be ≥ 0/);
  assertCleanError(["train", "--terms", join(dir, "none.mjs")], /--terms: no module/);
});

test("train --curve: JSON carries the curve; bad periods refused", () => {
  const r = cli(["train", "--hidden", "20", "--tasks", "2", "--shots", "5", "--query", "3", "--rule", "bp=0.01", "--curve", "10", "--workers", "1", "--json"]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual(j.curve.map((p: { step: number }) => p.step), [0, 10, 20, 25]);
  for (const k of ["acc", "acc_se", "loss", "loss_se"]) assert.ok(k in j.curve[0], k);
  assertCleanError(["train", "--curve", "0"], /--curve must be an integer ≥ 1, got '0'/);
});
