/**
 * Export for NumPy and PyTorch users: train --save-weights writes .npy files
 * (v1.0, little-endian, C order) with a JSON sidecar, and meta writes θ the
 * same way. Python with NumPy (Debian's python3-numpy) loads a saved task,
 * rebuilds the forward pass from the sidecar alone (python/neuroplastic_io.py)
 * and must get exactly the accuracy the tool reported. Without python3 +
 * numpy those checks are skipped, unless NEUROPLASTIC_REQUIRE_PYTHON=1
 * (set by .ci/run), which turns a missing NumPy into a failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeNpy } from "../../src/data/npy.js";
import { embeddedMnistDir } from "../../src/data/dataset.js";
import { cli } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "np-export-"));
const numpy = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" }).status === 0;
const needPython = process.env.NEUROPLASTIC_REQUIRE_PYTHON === "1";
const skip = numpy ? false : needPython ? false : "python3 with numpy not found (apt-get install python3-numpy)";
if (!numpy && needPython) test("python3 with numpy is required here (NEUROPLASTIC_REQUIRE_PYTHON=1)", () => assert.fail("python3 -c 'import numpy' failed"));

/** Read a .npy v1.0 file the way NumPy's format spec says (a check of our writer independent of NumPy). */
function readNpy(b: Uint8Array): { descr: string; shape: number[]; data: number[] } {
  assert.deepEqual([...b.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const hl = b[8] | (b[9] << 8), header = new TextDecoder().decode(b.subarray(10, 10 + hl));
  assert.equal((10 + hl) % 64, 0, "data aligned to 64 bytes");
  assert.ok(header.endsWith("\n"));
  const descr = /'descr': '([^']+)'/.exec(header)![1];
  assert.match(header, /'fortran_order': False/);
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const v = new DataView(b.buffer, b.byteOffset + 10 + hl), size = descr === "<f8" ? 8 : 4;
  const n = shape.reduce((a, c) => a * c, 1);
  assert.equal(v.byteLength, n * size);
  return { descr, shape, data: Array.from({ length: n }, (_, i) => (size === 8 ? v.getFloat64(8 * i, true) : v.getFloat32(4 * i, true))) };
}

test("npy writer: v1.0 header padded to 64 bytes, little-endian float32 and float64, shapes of any rank", () => {
  const a = readNpy(encodeNpy(Float32Array.from([1, -2.5, 3e-8, 7, 0, 1]), [2, 3]));
  assert.deepEqual(a, { descr: "<f4", shape: [2, 3], data: [1, -2.5, Math.fround(3e-8), 7, 0, 1] });
  assert.deepEqual(readNpy(encodeNpy(Float64Array.from([0.1, 0.2]))), { descr: "<f8", shape: [2], data: [0.1, 0.2] });
  assert.throws(() => encodeNpy(new Float32Array(5), [2, 3]), RangeError);
});

/** Train with --save-weights; return the run's JSON line and the run directory. */
function trainSaved(name: string, args: string[]): { line: { acc: number }; out: string } {
  const out = join(dir, name);
  const r = cli(["train", "--tasks", "3", "--save-weights", out, "--save-tasks", "2", "--json", ...args]);
  assert.equal(r.code, 0, r.err);
  return { line: JSON.parse(r.out.trim().split("\n")[0]), out };
}

function rescore(sidecar: string): { acc: number; loss: number; reported: { acc: number; loss: number } } {
  const images = join(embeddedMnistDir(), "t10k-images-idx3-ubyte");
  const r = spawnSync("python3", ["python/neuroplastic_io.py", "rescore", sidecar, images], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("train --save-weights: .npy per matrix and a sidecar per task; NumPy rescoring gives exactly the reported accuracy (MLP, biases, FA, tanh)", { skip }, () => {
  const { line, out } = trainSaved("mlp", ["--hidden", "40,30", "--bias", "--feedback", "random", "--activation", "tanh", "--shots", "20", "--rule", "bp=0.05,oja=0.01"]);
  assert.deepEqual(readdirSync(join(out, "rule1")).sort(), ["task0", "task1"]);
  const meta = JSON.parse(readFileSync(join(out, "rule1/task0/task.json"), "utf8"));
  assert.deepEqual(meta.dims, [784, 40, 30, 10]);
  assert.deepEqual(meta.files.map((f: { name: string }) => f.name), ["W1", "W2", "W3", "b1", "b2", "b3", "B_W1", "B_W2", "B_W3"]);
  assert.equal(meta.trainIdx.length, 5 * 20);
  assert.equal(meta.queryIdx.length, 5 * 10);
  const w1 = readNpy(readFileSync(join(out, "rule1/task0/W1.npy")));
  assert.deepEqual(w1.shape, [40, 784]);
  let sum = 0;
  for (let t = 0; t < 2; t++) {
    const r = rescore(join(out, `rule1/task${t}/task.json`));
    assert.equal(r.acc, r.reported.acc, `task ${t}: NumPy ${r.acc} vs reported ${r.reported.acc}`);
    assert.ok(Math.abs(r.loss - r.reported.loss) <= 1e-5 * Math.abs(r.reported.loss), `loss ${r.loss} vs ${r.reported.loss}`);
    sum += r.acc;
  }
  assert.ok(sum / 2 > 0.4, "the saved networks learned");
  assert.ok(Number.isFinite(line.acc));
});

test("train --save-weights on the RNN, with layer norm and with batch norm: NumPy rescoring matches", { skip }, () => {
  const rnn = trainSaved("rnn", ["--net", "rnn", "--hidden", "30", "--delay", "3", "--leak", "0.7", "--shots", "10", "--rule", "bp=0.01,oja=0.004"]).out;
  const m = JSON.parse(readFileSync(join(rnn, "rule1/task1/task.json"), "utf8"));
  assert.deepEqual([m.net, m.T, m.N, m.leak], ["rnn", 31, 30, 0.7]);
  for (const t of [0, 1]) { const r = rescore(join(rnn, `rule1/task${t}/task.json`)); assert.equal(r.acc, r.reported.acc, `rnn task ${t}`); }
  const ln = trainSaved("ln", ["--hidden", "30", "--norm", "layer", "--shots", "10", "--rule", "bp=0.01"]).out;
  for (const t of [0, 1]) { const r = rescore(join(ln, `rule1/task${t}/task.json`)); assert.equal(r.acc, r.reported.acc, `layer norm task ${t}`); }
  // Batch norm: its running statistics travel as float64 arrays.
  const bn = trainSaved("bn", ["--hidden", "30", "--norm", "batch", "--batch", "10", "--shots", "10", "--rule", "bp=0.068"]).out;
  assert.ok(existsSync(join(bn, "rule1/task0/bn_var1.npy")));
  for (const t of [0, 1]) { const r = rescore(join(bn, `rule1/task${t}/task.json`)); assert.equal(r.acc, r.reported.acc, `batch norm task ${t}`); }
});

test("meta writes θ as .npy beside theta.json, and NumPy reads the same vector", { skip }, () => {
  const out = join(dir, "meta");
  const r = cli(["meta", "--episodes", "3", "--hidden", "20", "--shots", "5", "--eval-tasks", "0", "--no-figures", "--out", out]);
  assert.equal(r.code, 0, r.err);
  const side = JSON.parse(readFileSync(join(out, "theta.npy.json"), "utf8"));
  const py = spawnSync("python3", ["-c", `import numpy, json; print(json.dumps(numpy.load(${JSON.stringify(join(out, "theta.npy"))}).astype(float).tolist()))`], { encoding: "utf8" });
  assert.equal(py.status, 0, py.stderr);
  assert.deepEqual(JSON.parse(py.stdout), side.theta.map((x: number) => Math.fround(x)));
  assert.deepEqual(side.names, ["bp", "oja"]);
});

test("--save-weights refusals: no overwrite without --force, --save-tasks needs --save-weights and at most --tasks", () => {
  const out = join(dir, "refuse");
  assert.equal(cli(["train", "--tasks", "1", "--hidden", "10", "--shots", "3", "--save-weights", out, "--rule", "bp=0.01"]).code, 0);
  assert.ok(existsSync(join(out, "rule1/task0/task.json")));
  const again = cli(["train", "--tasks", "1", "--hidden", "10", "--shots", "3", "--save-weights", out, "--rule", "bp=0.01"]);
  assert.equal(again.code, 2);
  assert.match(again.err, /holds an earlier run's weights; resume it with --resume, or overwrite it with --force/);
  assert.equal(cli(["train", "--tasks", "1", "--hidden", "10", "--shots", "3", "--save-weights", out, "--force", "--rule", "bp=0.01"]).code, 0);
  assert.match(cli(["train", "--save-tasks", "2"]).err, /--save-tasks needs --save-weights DIR/);
  assert.match(cli(["train", "--tasks", "2", "--save-weights", join(dir, "x"), "--save-tasks", "3"]).err, /--save-tasks 3 is more than --tasks 2/);
});
