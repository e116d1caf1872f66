/**
 * Results for Python users: .npz and .safetensors exports, TensorBoard event
 * files, and python/neuroplastic_io.py, which reads them all with NumPy.
 *
 * Three tiers. The writers are checked here against their specifications
 * with no Python at all. With python3 + NumPy, the one-file exports must hold
 * exactly the arrays of the .npy export and rescore to the reported accuracy
 * (skipped without NumPy unless NEUROPLASTIC_REQUIRE_PYTHON=1). With the
 * venv of NEUROPLASTIC_VENV (made by .ci/run: pip's safetensors and
 * tensorboard), the safetensors package reads the exports and TensorBoard's
 * own EventAccumulator reads the logs (skipped, saying so, without it, unless
 * NEUROPLASTIC_REQUIRE_VENV=1).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { encodeNpz } from "../../src/data/npz.js";
import { encodeSafetensors } from "../../src/data/safetensors.js";
import { crc32c, decodeEvent, encodeEvent, EVENTS_FILE, frameRecord, readEvents, readRecords, TensorBoardLog } from "../../src/report/tensorboard.js";
import { embeddedMnistDir } from "../../src/data/dataset.js";
import { cli } from "../helpers.js";
import { ReproduceLogs } from "../../src/cli/tensorboard.js";
import type { CellResult } from "../../src/reproduce/types.js";

const dir = mkdtempSync(join(tmpdir(), "np-pyio-"));
const images = join(embeddedMnistDir(), "t10k-images-idx3-ubyte");
const numpy = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" }).status === 0;
const skipNumpy = numpy || process.env.NEUROPLASTIC_REQUIRE_PYTHON === "1" ? false : "python3 with numpy not found (apt-get install python3-numpy)";
if (!numpy && process.env.NEUROPLASTIC_REQUIRE_PYTHON === "1") test("python3 with numpy is required here (NEUROPLASTIC_REQUIRE_PYTHON=1)", () => assert.fail("python3 -c 'import numpy' failed"));
const venvPy = process.env.NEUROPLASTIC_VENV ? join(process.env.NEUROPLASTIC_VENV, "bin", "python") : "";
const venvOk = venvPy !== "" && spawnSync(venvPy, ["-c", "import numpy, safetensors, tensorboard"], { encoding: "utf8" }).status === 0;
const skipVenv = venvOk || process.env.NEUROPLASTIC_REQUIRE_VENV === "1" ? false
  : `no venv with safetensors and tensorboard (NEUROPLASTIC_VENV=${process.env.NEUROPLASTIC_VENV ?? "unset"}): the checks with the safetensors package and TensorBoard's reader are skipped; .ci/run makes one`;
if (!venvOk && process.env.NEUROPLASTIC_REQUIRE_VENV === "1") test("a venv with safetensors and tensorboard is required here (NEUROPLASTIC_REQUIRE_VENV=1)", () => assert.fail(`${venvPy || "NEUROPLASTIC_VENV unset"}: import numpy, safetensors, tensorboard failed`));

function py(python: string, code: string, ...args: string[]): unknown {
  const r = spawnSync(python, ["-c", code, ...args], { encoding: "utf8", cwd: new URL("../..", import.meta.url).pathname });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}
const PYIO = "import sys, json; sys.path.insert(0, 'python'); import neuroplastic_io as nio\n";

test("npz writer: a stored ZIP of .npy entries plus the sidecar as a 0-d unicode array; same arrays, same bytes", () => {
  const a = [{ name: "W1", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }, { name: "bn_var1", shape: [2], data: Float64Array.from([0.1, 0.2]) }];
  const z = encodeNpz(a, { sidecar: '{"dims": [3, 2], "µ": "ü"}' });
  assert.deepEqual(z, encodeNpz(a, { sidecar: '{"dims": [3, 2], "µ": "ü"}' }));
  const files = unzipSync(z);
  assert.deepEqual(Object.keys(files), ["W1.npy", "bn_var1.npy", "sidecar.npy"]);
  const text = '{"dims": [3, 2], "µ": "ü"}', n = [...text].length;
  const side = files["sidecar.npy"], hl = side[8] | (side[9] << 8), head = new TextDecoder().decode(side.subarray(10, 10 + hl));
  assert.match(head, new RegExp(`'descr': '<U${n}', 'fortran_order': False, 'shape': \\(\\)`));
  const v = new DataView(side.buffer, side.byteOffset + 10 + hl);
  assert.equal(String.fromCodePoint(...Array.from({ length: n }, (_, i) => v.getUint32(4 * i, true))), text);
  // Stored, not deflated (np.savez's layout): compression method 0 in the first local header.
  assert.equal(z[8] | (z[9] << 8), 0);
});

test("safetensors writer: u64 header size, JSON header padded to 8 bytes with dtype/shape/data_offsets and __metadata__, then the bytes", () => {
  const a = [{ name: "W", shape: [2, 2], data: Float32Array.from([1, -2, 3.5, 0]) }, { name: "m", shape: [3], data: Float64Array.from([0.1, 0.2, 0.3]) }];
  const b = encodeSafetensors(a, { sidecar: "{}" }), v = new DataView(b.buffer);
  const n = Number(v.getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const h = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n)));
  assert.deepEqual(h, { __metadata__: { sidecar: "{}" }, W: { dtype: "F32", shape: [2, 2], data_offsets: [0, 16] }, m: { dtype: "F64", shape: [3], data_offsets: [16, 40] } });
  assert.equal(b.length, 8 + n + 40);
  assert.deepEqual(Array.from({ length: 4 }, (_, i) => v.getFloat32(8 + n + 4 * i, true)), [1, -2, 3.5, 0]);
  assert.equal(v.getFloat64(8 + n + 16 + 8, true), 0.2);
  assert.throws(() => encodeSafetensors([{ name: "x", shape: [3], data: new Float32Array(2) }]), RangeError);
});

test("TensorBoard records: CRC-32C check value, masked CRCs, event round trip, a partial tail ignored", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283); // the CRC-32C check value (RFC 3720, B.4)
  const e = { wallTime: 1700000000.25, step: 300, scalars: [["task/acc", 0.5], ["theta/oja@2", 1e-3]] as [string, number][] };
  const back = decodeEvent(encodeEvent(e));
  assert.equal(back.wallTime, e.wallTime);
  assert.equal(back.step, 300);
  assert.deepEqual(back.scalars, [["task/acc", 0.5], ["theta/oja@2", Math.fround(1e-3)]]);
  const r1 = frameRecord(encodeEvent({ wallTime: 1, step: 0, fileVersion: "brain.Event:2", scalars: [] })), r2 = frameRecord(encodeEvent(e));
  const both = new Uint8Array([...r1, ...r2]);
  assert.equal(readRecords(both).length, 2);
  assert.equal(readRecords(both.subarray(0, both.length - 3)).length, 1);
  const bad = both.slice(); bad[r1.length + 14] ^= 1;
  assert.equal(readRecords(bad).length, 1, "a record whose data CRC fails ends the list");
  assert.equal(decodeEvent(readRecords(both)[0]).fileVersion, "brain.Event:2");
});

test("TensorBoardLog: a fresh log replaces the file; a kept one keeps what `keep` accepts and cuts a partial record", () => {
  const d = join(dir, "log");
  const a = new TensorBoardLog(d);
  for (let s = 0; s < 4; s++) a.scalars(s, { x: s });
  appendFileSync(a.file, new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0, 1])); // a kill mid-write
  const b = new TensorBoardLog(d, { keep: (e) => e.step < 2 });
  b.scalars(2, { x: 20 });
  assert.deepEqual(readEvents(b.file).map((e) => [e.step, e.scalars]), [[0, []], [0, [["x", 0]]], [1, [["x", 1]]], [2, [["x", 20]]]]);
  new TensorBoardLog(d);
  assert.equal(readEvents(join(d, EVENTS_FILE)).length, 1);
});

test("reproduce's TensorBoard logs: a run per rule, tags <scenario>/<results.csv field>, step = the cell's place on its scenario's axis; written anew, never duplicated", () => {
  const d = join(dir, "tb-rep");
  const cell = (scenario: string, x: string, rule: string, acc: number) => ({ scenario, x, rule, acc, acc_ci95: 0.01, loss: 1, loss_median: 0.9, diverged: 0, exploded: 0, weight_norm: 50 }) as unknown as CellResult;
  const grid = [cell("b", "2 layers", "bp", 0.8), cell("b", "2 layers", "bp+oja", 0.81), cell("b", "8 layers", "bp", 0.3), cell("b", "8 layers", "bp+oja", 0.5), cell("g", "K = 1", "pool", 0.25)];
  for (let pass = 0; pass < 2; pass++) { const logs = new ReproduceLogs(d); for (const c of grid) logs.cell(c); }
  assert.deepEqual(readdirSync(d).sort(), ["bp", "bp+oja", "pool"]);
  const oja = scalarsOf(join(d, "bp+oja", EVENTS_FILE));
  assert.deepEqual(Object.keys(oja), ["b/acc", "b/acc_ci95", "b/loss", "b/loss_median", "b/diverged", "b/exploded", "b/weight_norm"]);
  assert.deepEqual(oja["b/acc"], [[0, Math.fround(0.81)], [1, Math.fround(0.5)]]);
  assert.deepEqual(scalarsOf(join(d, "pool", EVENTS_FILE))["g/acc"], [[0, 0.25]]);
});

test("the notebooks in examples/ are committed without outputs", () => {
  const root = new URL("../../examples/", import.meta.url).pathname;
  const nbs = readdirSync(root).filter((f) => f.endsWith(".ipynb"));
  assert.ok(nbs.length >= 3);
  for (const f of nbs) {
    const nb = JSON.parse(readFileSync(join(root, f), "utf8"));
    for (const c of nb.cells) if (c.cell_type === "code") assert.ok(c.outputs.length === 0 && c.execution_count === null, `${f}: a code cell has outputs (clear them before committing)`);
  }
});

/** `train` with the given flags (JSON lines), returning its output lines. */
function train(args: string[]): string[] {
  const r = cli(["train", "--json", ...args]);
  assert.equal(r.code, 0, r.err);
  return r.out.trim().split("\n");
}

test("train --format npz and safetensors: one file per task holding the .npy export's arrays (batch norm's float64 too) and sidecar; NumPy rescoring gives the reported accuracy", { skip: skipNumpy }, () => {
  const base = ["--tasks", "2", "--save-tasks", "2", "--hidden", "30,20", "--bias", "--feedback", "random", "--norm", "batch", "--batch", "5", "--shots", "10", "--rule", "bp=0.05,oja=0.005", "--workers", "1"];
  for (const f of ["npy", "npz", "safetensors"]) train([...base, "--save-weights", join(dir, f), ...(f === "npy" ? [] : ["--format", f])]);
  assert.deepEqual(readdirSync(join(dir, "npz/rule1")).sort(), ["task0.npz", "task1.npz"]);
  assert.deepEqual(readdirSync(join(dir, "safetensors/rule1")).sort(), ["task0.safetensors", "task1.safetensors"]);
  const r = py("python3", PYIO + `
import numpy as np
ex = {f: nio.load_exports(sys.argv[1] + '/' + f) for f in ('npy', 'npz', 'safetensors')}
assert sorted(nio.load_run(sys.argv[1] + '/npz')) == [1] and sorted(nio.load_run(sys.argv[1] + '/npz')[1]) == [0, 1]
out = []
for f in ('npz', 'safetensors'):
    for t in (0, 1):
        a, b = ex['npy'][1][t], ex[f][1][t]
        assert sorted(a['arrays']) == sorted(b['arrays']), (f, sorted(b['arrays']))
        assert all(np.array_equal(a['arrays'][k], b['arrays'][k]) and a['arrays'][k].dtype == b['arrays'][k].dtype for k in a['arrays'])
        assert str(b['arrays']['bn_var1'].dtype) == 'float64'  # batch norm's running statistics, as kept
        sa = {k: v for k, v in a['sidecar'].items() if k not in ('files', 'provenance')}
        sb = {k: v for k, v in b['sidecar'].items() if k not in ('files', 'provenance')}
        assert sa == sb, f
        out.append(nio.rescore(b, nio.read_idx_images(sys.argv[2])))
print(json.dumps(out))`, dir, images) as { acc: number; loss: number; reported: { acc: number; loss: number } }[];
  assert.equal(r.length, 4);
  for (const s of r) {
    assert.equal(s.acc, s.reported.acc);
    assert.ok(Math.abs(s.loss - s.reported.loss) <= 1e-5 * s.reported.loss);
  }
});

test("--format refusals: an unknown format, and --format without --save-weights", () => {
  const bad = cli(["train", "--tasks", "1", "--save-weights", join(dir, "x"), "--format", "hdf5"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--format/);
  assert.equal(existsSync(join(dir, "x")), false);
  const lone = cli(["train", "--tasks", "1", "--format", "npz"]);
  assert.equal(lone.code, 2);
  assert.match(lone.err, /--format needs --save-weights DIR/);
});

const META = ["meta", "--workers", "1", "--hidden", "20", "--shots", "5", "--eval-tasks", "0", "--no-figures", "--checkpoint-every", "2", "--outer", "adam"];

test("meta --format npz and safetensors write the θ of theta.npy; load_meta reads meta.jsonl and θ alike", { skip: skipNumpy }, () => {
  for (const f of ["npy", "npz", "safetensors"]) assert.equal(cli([...META, "--episodes", "3", "--out", join(dir, `meta-${f}`), "--format", f, "--json"]).code, 0);
  assert.ok(existsSync(join(dir, "meta-npz/theta.npz")) && !existsSync(join(dir, "meta-npz/theta.npy")));
  const r = py("python3", PYIO + `
import numpy as np
ms = [nio.load_run(sys.argv[1] + '/meta-' + f) for f in ('npy', 'npz', 'safetensors')]
for m in ms[1:]:
    assert m['learned'][0] == ms[0]['learned'][0] and np.array_equal(m['learned'][1], ms[0]['learned'][1])
    assert np.array_equal(m['theta']['oja'], ms[0]['theta']['oja'])
print(json.dumps({'names': ms[0]['learned'][0], 'theta': ms[0]['learned'][1].astype(float).tolist(), 'episodes': ms[0]['episode'].tolist(), 'oja': ms[0]['theta']['oja'].tolist()}))`, dir) as { names: string[]; theta: number[]; episodes: number[]; oja: number[] };
  const side = JSON.parse(readFileSync(join(dir, "meta-npy/theta.npy.json"), "utf8"));
  assert.deepEqual(r.names, side.names);
  assert.deepEqual(r.theta, side.theta.map(Math.fround));
  const log = readFileSync(join(dir, "meta-npy/meta.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(r.episodes, [0, 1, 2]);
  assert.deepEqual(r.oja, log.map((l) => l.theta.oja));
});

/** The scalars of a log as {tag: [[step, value], …]}, from our own TypeScript reader. */
function scalarsOf(file: string): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const e of readEvents(file)) for (const [t, v] of e.scalars) (out[t] ??= []).push([e.step, v]);
  return out;
}

test("meta --tensorboard: one event per episode, tags after meta.jsonl's fields; a run killed after its log line but before its checkpoint, resumed, holds each episode once and equals an uninterrupted run", () => {
  const whole = join(dir, "tb-whole"), cut = join(dir, "tb-cut");
  assert.equal(cli([...META, "--episodes", "4", "--out", join(dir, "m-whole"), "--tensorboard", whole, "--json"]).code, 0);
  const want = scalarsOf(join(whole, EVENTS_FILE));
  assert.deepEqual(Object.keys(want), ["loss", "acc", "theta/bp", "theta/oja", "grad_norm", "grad/bp", "grad/oja", "skipped"]);
  assert.deepEqual(want.acc.map(([s]) => s), [0, 1, 2, 3]);
  const log = readFileSync(join(dir, "m-whole/meta.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(want["theta/oja"].map(([, v]) => v), log.map((l) => Math.fround(l.theta.oja)));
  assert.deepEqual(want.grad_norm.map(([, v]) => v), log.map((l) => Math.fround(Math.hypot(...l.grad))));
  // Two episodes (checkpoint at 2), a third (checkpoint at 3); then the checkpoint at 2 put back: as if killed after episode 2's log line and event.
  const out = join(dir, "m-cut");
  assert.equal(cli([...META, "--episodes", "2", "--out", out, "--tensorboard", cut, "--json"]).code, 0);
  copyFileSync(join(out, "checkpoint.json"), join(dir, "ck2.json"));
  assert.equal(cli([...META, "--episodes", "3", "--out", out, "--tensorboard", cut, "--resume", "--json"]).code, 0);
  copyFileSync(join(dir, "ck2.json"), join(out, "checkpoint.json"));
  appendFileSync(join(cut, EVENTS_FILE), new Uint8Array([40, 0, 0])); // and a record cut short
  const refused = cli([...META, "--episodes", "4", "--out", join(dir, "m-other"), "--tensorboard", cut, "--json"]);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /--tensorboard .* holds an earlier run's events; resume it with --resume, or overwrite it with --force/);
  assert.equal(cli([...META, "--episodes", "4", "--out", out, "--tensorboard", cut, "--resume", "--json"]).code, 0);
  assert.deepEqual(scalarsOf(join(cut, EVENTS_FILE)), want);
});

test("train --tensorboard: per task acc, loss, diverged, weightNorm and the curve, one run per rule; a resumed run re-emits nothing twice", () => {
  const tb = join(dir, "tb-train"), out = join(dir, "t.json");
  const args = ["--tasks", "3", "--workers", "1", "--hidden", "20", "--shots", "5", "--curve", "10", "--out", out, "--tensorboard", tb, "--rule", "bp=0.01", "--rule", "bp=0.01,oja=0.005"];
  train(args);
  assert.deepEqual(readdirSync(tb).sort(), ["bp=0.01", "bp=0.01,oja=0.005"]);
  const want = scalarsOf(join(tb, "bp=0.01,oja=0.005", EVENTS_FILE));
  const tasks = readFileSync(out.replace(/\.json$/, ".tasks.jsonl"), "utf8").trim().split("\n").slice(1).map((l) => JSON.parse(l)).filter((t) => t.rule === "bp=0.01,oja=0.005");
  assert.deepEqual(want["task/acc"], tasks.map((t) => [t.task, Math.fround(t.acc)]));
  const summary = JSON.parse(readFileSync(out, "utf8")).runs[1];
  assert.deepEqual(want["curve/acc"], summary.curve.map((p: { step: number; acc: number }) => [p.step, Math.fround(p.acc)]));
  // Killed after the stream's second line of rule 2 was written (its event too): the stream keeps tasks 0–1 of rule 2.
  const stream = out.replace(/\.json$/, ".tasks.jsonl"), lines = readFileSync(stream, "utf8").split("\n");
  writeFileSync(stream, lines.slice(0, 1 + 3 + 2).join("\n") + "\n");
  train([...args, "--resume"]);
  const again = scalarsOf(join(tb, "bp=0.01,oja=0.005", EVENTS_FILE));
  assert.deepEqual(Object.keys(again).sort(), Object.keys(want).sort());
  for (const k of Object.keys(want)) assert.deepEqual(again[k], want[k], k);
});

test("TensorBoard's own reader (EventAccumulator) loads the train, meta and reproduce logs: the same tags, steps and values as neuroplastic_io.read_tensorboard", { skip: skipVenv }, () => {
  const r = py(venvPy, PYIO + `
import os
from tensorboard.backend.event_processing import event_accumulator as ea
res = {}
for logdir in sys.argv[1:]:
    ours = nio.read_tensorboard(logdir)
    for run, tags in ours.items():
        acc = ea.EventAccumulator(os.path.join(logdir, run), size_guidance={ea.SCALARS: 0})
        acc.Reload()
        assert sorted(acc.Tags()['scalars']) == sorted(tags), (run, acc.Tags()['scalars'])
        for tag, d in tags.items():
            got = acc.Scalars(tag)
            assert [e.step for e in got] == d['step'].tolist(), (run, tag)
            assert all((e.value == v) or (e.value != e.value and v != v) for e, v in zip(got, d['value'].astype(float).tolist())), (run, tag)
        res[logdir + ':' + run] = sorted(tags)
print(json.dumps(res))`, join(dir, "tb-cut"), join(dir, "tb-train"), join(dir, "tb-rep")) as Record<string, string[]>;
  assert.deepEqual(Object.keys(r).sort(), [`${join(dir, "tb-cut")}:.`, `${join(dir, "tb-rep")}:bp`, `${join(dir, "tb-rep")}:bp+oja`, `${join(dir, "tb-rep")}:pool`, `${join(dir, "tb-train")}:bp=0.01`, `${join(dir, "tb-train")}:bp=0.01,oja=0.005`]);
});

test("the safetensors package reads the train and meta exports above into NumPy, the sidecar in its metadata", { skip: skipNumpy || skipVenv }, () => {
  const r = py(venvPy, PYIO + `
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
p = sys.argv[1]
d = load_file(p)
ours = nio.load_export(p)
assert sorted(d) == sorted(ours['arrays']) and all(np.array_equal(d[k], ours['arrays'][k]) for k in d)
with safe_open(p, framework='np') as f:
    side = json.loads(f.metadata()['sidecar'])
th = load_file(sys.argv[2])['theta']
print(json.dumps({'names': sorted(d), 'dims': side['dims'], 'theta': th.astype(float).tolist(), 'ours': nio.load_theta(sys.argv[3])[1].astype(float).tolist()}))`,
  join(dir, "safetensors/rule1/task0.safetensors"), join(dir, "meta-safetensors/theta.safetensors"), join(dir, "meta-safetensors")) as { names: string[]; dims: number[]; theta: number[]; ours: number[] };
  assert.deepEqual(r.names, ["B_W1", "B_W2", "B_W3", "W1", "W2", "W3", "b1", "b2", "b3", "bn_mean1", "bn_mean2", "bn_var1", "bn_var2"]);
  assert.deepEqual(r.dims, [784, 30, 20, 10]);
  assert.deepEqual(r.theta, r.ours);
});
