/**
 * Nothing lost, nothing misleading: results are never overwritten or
 * swallowed, interrupted runs resume to the same bytes, input is validated
 * where it enters, exits are clean, and output is honest.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/core/rng.js";
import { writeAtomic } from "../../src/core/files.js";
import { encodeIdx } from "../../src/data/idx.js";
import { fromArrays } from "../../src/data/dataset.js";
import { closePools } from "../../src/experiments/pool.js";
import { MLP } from "../../src/nets/mlp/mlp.js";
import { planStep } from "../../src/nets/plan.js";
import { makeRule } from "../../src/rules/rule.js";
import { cli } from "../helpers.js";

after(closePools);
const root = new URL("../..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "np-robust-"));

function refuses(args: string[], code: number, cause: RegExp): void {
  const r = cli(args);
  assert.equal(r.code, code, `exit code of ${args.join(" ")}: ${r.err}`);
  const lines = r.err.trim().split("\n");
  assert.equal(lines.length, 1, `one line, got:\n${r.err}`);
  assert.match(lines[0], cause);
  assert.doesNotMatch(r.err, /\n\s+at /);
}

test("meta --out refuses to overwrite an earlier run without --resume and names it; --force overwrites; --resume with nothing says so", () => {
  const out = join(dir, "meta1"), args = ["meta", "--hidden", "10", "--shots", "3", "--query", "2", "--episodes", "2", "--workers", "1", "--eval-tasks", "0", "--no-figures", "--json", "--out", out];
  assert.equal(cli(args).code, 0);
  refuses(args, 2, /already holds a meta run \(2 episodes checkpointed.*--resume.*--force/);
  assert.equal(cli([...args, "--force"]).code, 0);
  const fresh = cli([...args.slice(0, -1), join(dir, "meta-new"), "--resume"]);
  assert.equal(fresh.code, 0);
  assert.match(fresh.err, /--resume: no checkpoint in .*; starting from episode 0/);
});

test("bad input leaves no files or directories behind; file-system errors in plain words", () => {
  const out = join(dir, "never");
  refuses(["meta", "--hidden", "10,,10", "--out", out], 2, /--hidden has an empty width/);
  refuses(["train", "--tasks", "1", "--shots", "2000", "--out", join(out, "r.json")], 2, /more examples than the smallest class/);
  assert.equal(existsSync(out), false);
  // --out under an existing file: checked before any training, named in plain words.
  writeFileSync(join(dir, "afile"), "x");
  refuses(["train", "--tasks", "1", "--out", join(dir, "afile", "r.json")], 2, /cannot write --out .*afile\/r\.json: a (file is in the way|part of the path is a file)/);
  // A failed atomic write leaves no *.tmp.
  mkdirSync(join(dir, "adir"));
  assert.throws(() => writeAtomic(join(dir, "adir"), "x"));
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith(".tmp")), []);
});

test("validation where input enters: one-line refusals", () => {
  refuses(["train", "--seed", "9007199254740993"], 2, /2\^53/);
  refuses(["meta", "--meta-lr", "-0.1", "--episodes", "1"], 2, /--meta-lr must be positive/);
  refuses(["train", "--query", "0"], 2, /--query must be an integer ≥ 1/);
  refuses(["train", "--hidden", "100000,100000,100000", "--tasks", "1"], 2, /needs at least .* GiB per task/);
  writeFileSync(join(dir, "empty-rule.json"), JSON.stringify({ theta: {} }));
  refuses(["train", "--rule-file", join(dir, "empty-rule.json")], 2, /has an empty θ/);
  refuses(["train", "--workers", "1000", "--tasks", "1", "--hidden", "10", "--shots", "2", "--query", "1", "--nope"], 2, /unknown option/);
  // Too many workers are capped, with a notice.
  const w = cli(["train", "--workers", "1000", "--tasks", "2", "--hidden", "10", "--shots", "2", "--query", "1", "--json"]);
  assert.equal(w.code, 0, w.err);
  assert.match(w.err, /--workers 1000 is more than this machine's \d+ cores; using \d+/);
});

test("labels: a gap (one corrupt label widening the output) is refused with the value and index; --sparse-labels accepts it; splits must agree", () => {
  const n = 40, labels = Uint8Array.from({ length: n }, (_, i) => i % 4);
  labels[17] = 200;
  const px = new Uint8Array(n * 4);
  assert.throws(() => fromArrays(px, [n, 2, 2], labels, [n], "corrupt", "train"), /class 4 has no example, yet label 200 \(at index 17\) makes the output 201 units wide; pass --sparse-labels/);
  assert.equal(fromArrays(px, [n, 2, 2], labels, [n], "corrupt", "train", { sparseLabels: true }).nClasses, 201);
  const d = join(dir, "splits");
  mkdirSync(d);
  const lab = Uint8Array.from({ length: 40 }, (_, i) => i % 4), lab3 = Uint8Array.from({ length: 40 }, (_, i) => i % 3);
  writeFileSync(join(d, "train-images-idx3-ubyte"), encodeIdx({ dtype: "u8", dims: [40, 2, 2], data: new Uint8Array(160) }));
  writeFileSync(join(d, "train-labels-idx1-ubyte"), encodeIdx({ dtype: "u8", dims: [40], data: lab }));
  writeFileSync(join(d, "t10k-images-idx3-ubyte"), encodeIdx({ dtype: "u8", dims: [40, 2, 2], data: new Uint8Array(160) }));
  writeFileSync(join(d, "t10k-labels-idx1-ubyte"), encodeIdx({ dtype: "u8", dims: [40], data: lab3 }));
  refuses(["train", "--dataset", d, "--tasks", "1", "--way", "2", "--shots", "2", "--query", "1"], 1, /different label sets \(only in test: none; only in train: 3\)/);
});

test("the library checks its inputs: labels and gains", () => {
  const net = new MLP({ dims: [4, 3, 2] });
  assert.throws(() => net.init("xavier", NaN, new Rng(1)), (e: Error) => e instanceof RangeError && /gain must be a positive number, got NaN/.test(e.message));
  assert.throws(() => net.init("xavier", -1, new Rng(1)), RangeError);
  net.init("xavier", 1, new Rng(1));
  const step = planStep(net, makeRule({ bp: 0.1 }, 2));
  for (const bad of [2, -1, 0.5, NaN]) assert.throws(() => step.step(bad), (e: Error) => e instanceof RangeError && /label must be an integer in 0 … 1/.test(e.message));
});

test("a checkpoint from another configuration is refused, naming the fields that differ", async () => {
  const { metaPaths, metaTrain } = await import("../../src/experiments/meta-train.js");
  const { DEFAULT_CONFIG } = await import("../../src/experiments/task.js");
  const cfg = { run: { ...DEFAULT_CONFIG, hidden: [10], shots: 3, query: 2, split: "train" as const, theta: { bp: 0.001, oja: 0 }, tasks: 1 }, learn: ["bp", "oja"], perLayer: false, episodes: 2, metaBatch: 1, metaLr: 0.01, l1: 0, checkpointEvery: 1 };
  const d = mkdtempSync(join(tmpdir(), "np-ck-"));
  await metaTrain(cfg, 1, metaPaths(d));
  await assert.rejects(metaTrain({ ...cfg, metaLr: 0.5, run: { ...cfg.run, gain: 2 } }, 1, metaPaths(d), { resume: true }), /different configuration \(run\.gain, metaLr differ\)/);
});

test("a meta run whose every episode diverged says so and exits non-zero", () => {
  const r = cli(["meta", "--hidden", "10", "--shots", "3", "--query", "2", "--episodes", "3", "--init", "bp=50,hebb=50", "--learn", "bp", "--gain", "4", "--outer", "adam", "--workers", "1", "--eval-tasks", "0", "--no-figures", "--out", join(dir, "alldiv")]);
  assert.equal(r.code, 1);
  assert.match(r.err.trim(), /^neuroplastic: every one of the 3 episodes diverged, so no θ was learned; start from smaller coefficients/);
});

async function killedMidRun(args: string[], file: string, atLines: number): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), ...args], { cwd: root, stdio: "ignore" });
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (!existsSync(file) || readFileSync(file, "utf8").split("\n").length < atLines) return;
      clearInterval(poll); child.kill("SIGKILL"); resolve();
    }, 10);
    child.on("exit", (code, sig) => { if (sig !== "SIGKILL") { clearInterval(poll); reject(new Error(`run ended before the kill (code ${code})`)); } });
  });
}

test("train --out streams each task as a JSONL line; kill -9 mid-run, then --resume: the same bytes as an uninterrupted run", async () => {
  const args = ["train", "--hidden", "30", "--tasks", "40", "--shots", "10", "--query", "3", "--workers", "1", "--rule", "bp=0.01", "--rule", "bp=0.01,oja=0.005", "--curve", "20", "--json"];
  const ref = join(dir, "ref.json"), cut = join(dir, "cut.json");
  const full = cli([...args, "--out", ref]);
  assert.equal(full.code, 0, full.err);
  await killedMidRun([...args, "--out", cut], cut.replace(".json", ".tasks.jsonl"), 25);
  assert.equal(existsSync(cut), false, "the summary comes at the end");
  const resumed = cli([...args, "--out", cut, "--resume"]);
  assert.equal(resumed.code, 0, resumed.err);
  assert.equal(readFileSync(cut.replace(".json", ".tasks.jsonl"), "utf8"), readFileSync(ref.replace(".json", ".tasks.jsonl"), "utf8"));
  assert.ok(readFileSync(cut).equals(readFileSync(ref)), "the summary's bytes");
  // A resume against another configuration says what differs.
  refuses([...args.map((a) => (a === "30" ? "31" : a)), "--out", cut, "--resume"], 2, /different configuration \(fields that differ: hidden\)/);
});

test("reproduce: results.csv of a resumed run is byte-identical to an uninterrupted one's (no NaN anywhere)", async () => {
  const { reproduce, cells } = await import("../../src/reproduce/run.js");
  const { writeReport } = await import("../../src/reproduce/report.js");
  const opts = (out: string) => ({ out, quick: true, workers: 1, seed: 2, tasks: 2, diagTasks: 1, probe: 10, theta: { bp: 50, oja: 50 }, metaEpisodes: 0, dataset: "mnist", backend: "wasm" as const, scarcityEpisodes: 1, transfer: "none" });
  const a = join(dir, "rep-a"), b = join(dir, "rep-b");
  await writeReport(opts(a), await reproduce(opts(a)), { command: "t", seconds: 0 });
  let seen = 0;
  await assert.rejects(reproduce(opts(b), () => { if (++seen === 5) throw new Error("interrupted"); }), /interrupted/);
  await writeReport(opts(b), await reproduce(opts(b)), { command: "t", seconds: 0 });
  assert.equal(cells(opts(a)).length > 5, true);
  const csvA = readFileSync(join(a, "results.csv"), "utf8");
  assert.equal(csvA, readFileSync(join(b, "results.csv"), "utf8"));
  for (const f of ["results.csv", "summary.md", "index.html", "diagnostics.csv"]) assert.doesNotMatch(readFileSync(join(a, f), "utf8"), /\bNaN\b/, f);
  assert.match(readFileSync(join(a, "summary.md"), "utf8"), /diverged/);
});

test("clean exits: SIGINT on a terminal restores the cursor, checkpoints and says how to resume (130); SIGTERM 143; EPIPE is quiet", async () => {
  const out = join(dir, "sigint");
  const cmd = `${process.execPath} --import tsx ${join(root, "src/cli/main.ts")} meta --hidden 20 --episodes 100000 --workers 1 --eval-tasks 0 --no-figures --checkpoint-every 1000 --out ${out}`;
  const child = spawn("script", ["-qfec", cmd, "/dev/null"], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  let text = "";
  child.stdout.on("data", (d) => { text += d.toString(); });
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  while (!existsSync(join(out, "meta.jsonl")) || readFileSync(join(out, "meta.jsonl"), "utf8").split("\n").length < 4) {
    if (Date.now() - started > 60000) throw new Error("meta did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  child.stdin.write("\x03");
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  assert.equal(code, 130, text);
  assert.match(text, /interrupted — resume with --resume/);
  assert.ok(text.lastIndexOf("\x1b[?25h") > text.lastIndexOf("\x1b[?25l"), "the cursor is shown again after the progress bar hid it");
  assert.ok(text.includes("\x1b[?7h"), "line wrapping back on");
  const ck = JSON.parse(readFileSync(join(out, "checkpoint.json"), "utf8"));
  assert.ok(ck.state.episode >= 3, "a final checkpoint at the last finished episode");
  // SIGTERM: 143.
  // Sent once the CLI says its handlers are installed (NEUROPLASTIC_TRACE), not after a fixed sleep: a slow core takes longer to start.
  const t = spawn(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), "train", "--tasks", "100000", "--workers", "1"], { cwd: root, env: { ...process.env, NEUROPLASTIC_TRACE: "1" }, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  t.stderr.on("data", (d) => { err += d.toString(); if (/signal handlers installed/.test(err) && !t.killed) t.kill("SIGTERM"); });
  assert.equal(await new Promise<number | null>((r) => t.on("exit", (c) => r(c))), 143);
  assert.match(err, /interrupted/);
  // `… --json | head -1`: no stack trace when the reader goes away.
  const p = spawnSync("sh", ["-c", `${process.execPath} --import tsx ${join(root, "src/cli/main.ts")} train --tasks 2 --hidden 10 --shots 2 --query 1 --rule bp=0.01 --rule bp=0.02 --rule bp=0.03 --json | head -c 1`], { cwd: root, encoding: "utf8" });
  assert.doesNotMatch(p.stderr, /EPIPE|at /, p.stderr);
});

test("usage errors exit 2, runtime errors 1, whichever parser caught them; help text is honest", () => {
  refuses(["train", "--gain", "abc"], 2, /--gain must be a number/); // our parser
  refuses(["train", "--split", "validation"], 2, /argument 'validation' is invalid/); // commander's
  refuses(["train", "--net", "rnn", "--hidden", "10,10", "--tasks", "1"], 2, /one --hidden width/); // the configuration check
  refuses(["train", "--dataset", join(dir, "nowhere", "x")], 1, /not found/); // at run time
  const help = cli(["train", "--help"]).out;
  assert.doesNotMatch(help, /\[object Object\]|\{"weights"|default: \[\]/);
  assert.match(help, /--rule <terms>[\s\S]*default: bp=0\.0068\s+and\s+bp=0\.0068,oja=0\.0053/);
  assert.match(help, /Example:\n\s+neuroplastic train/);
  const meta = cli(["meta", "--help"]).out;
  assert.doesNotMatch(meta, /--tasks|--norm|--optimizer/, "meta ignores these");
  assert.match(meta, /Example:\n\s+neuroplastic meta/);
  assert.match(cli(["reproduce", "--help"]).out, /Example:\n\s+neuroplastic reproduce/);
});
