/**
 * node --import tsx scripts/bench-sweep.ts [wasm|native|native-fast] [--packed] [--n N] [--rounds R] [--tangents P] [--rows M]
 *
 * The first layer's kernels alone, on one thread: per online step of the paper
 * network's layer 1 (784 pixels × n = 170 units), the sweep (nonzeros, the Oja
 * dots uⱼ = WTⱼ·y and the update WTⱼ += xⱼA + (xⱼ − uⱼ)B, inputSweep) and the
 * forward pass over the nonzero pixels (matVecT), cycling through the first 250
 * test images. --packed takes the native arena's packed layout (packedInput:
 * native AVX-512 only). Medians (and minima) of R rounds of 10,000 steps, in µs;
 * run two variants alternately on one core (taskset -c 1) to compare them.
 * --tangents P adds the meta-gradient's P tangent records to the sweep (dWT, dy,
 * A', B', C' and du of each, as SweepTangentStep passes them; unpacked layout),
 * and --rows M takes the middle M pixels of each image (M a multiple of four, at
 * most 784), so that the working set ((P + 1) · M rows) can be set below and
 * above a cache's size. The sweep is also given per row, in ns, with the share of
 * nonzero pixels it saw (blank groups of four take a cheaper update).
 */
import { backendRefusal } from "../src/core/native.js";
import { performance } from "node:perf_hooks";
import { WasmArena } from "../src/core/wasm.js";
import { loadDataset } from "../src/data/dataset.js";
import { Rng } from "../src/core/rng.js";
import type { InputTangent } from "../src/core/kernels.js";
import { scriptFlags } from "./args.js";

const usage = "node --import tsx scripts/bench-sweep.ts [wasm|native|native-fast] [--packed] [--n N] [--rounds R] [--tangents P] [--rows M]";
const flags = scriptFlags("bench-sweep", usage, { packed: "boolean", n: "string", rounds: "string", tangents: "string", rows: "string" }, process.argv.slice(2), true);
if (flags.words.length > 1 || (flags.words.length === 1 && !["wasm", "native", "native-fast"].includes(flags.words[0]))) {
  flags.fail(`the backend is one of wasm, native, native-fast, got '${flags.words.join(" ")}' (usage: ${usage})`);
}
const kind = (flags.words[0] ?? "native") as "wasm" | "native" | "native-fast";
const packed = flags.has("packed");
const n = flags.int("n", 170), m = flags.int("rows", 784, 4), stride = (n + 3) & ~3, rounds = flags.int("rounds", 5), P = flags.int("tangents", 0, 0);
if (m > 784 || m % 4 !== 0) flags.fail(`--rows takes a multiple of four from 4 to 784, got ${m}`);
if (P > 8) flags.fail(`--tangents takes 0 … 8, got ${P}`);
if (n > 4096) flags.fail(`--n takes 1 … 4096, got ${n}`);
if (packed && P > 0) flags.fail("--packed has no tangents (the tangent sweep keeps layer 1 unpacked)");
if (kind !== "wasm") { const why = backendRefusal(kind); if (why !== null) flags.fail(why); }
const ds = loadDataset("mnist", "test");
// --rows M: the M pixels of the middle of each image (a window of whole groups of four), so that a smaller working set
// keeps about the density of nonzero pixels of the whole image rather than its blank top rows.
const r0 = (((784 - m) >> 1) & ~3);
const ar = new WasmArena((8 << 20) + 4 * ((P + 1) * (m * stride + 4 * stride + m) + 8 * stride), kind === "wasm" ? false : kind);
const F = ar.kernels.fused!;
if (packed && F.packedInput === undefined) flags.fail(`no packed first layer on ${kind} here (native AVX-512 only)`);
const k = packed ? F.packedInput! : F.input;
const WT = ar.alloc(m * stride), y = ar.alloc(n), A = ar.alloc(n), B = ar.alloc(n), u = ar.alloc(m), x = ar.alloc(m), z = ar.alloc(n);
const ib = ar.alloc(m), idx = new Int32Array(ib.buffer, ib.byteOffset, m);
const r = new Rng(1);
for (let i = 0; i < WT.length; i++) WT[i] = (r.uniform() * 2 - 1) * 0.07;
for (let i = 0; i < n; i++) { y[i] = r.uniform(); A[i] = (r.uniform() - 0.5) * 1e-4; B[i] = r.uniform() * 1e-5; }
const imgs: Float32Array[] = [];
for (let e = 0; e < 250; e++) imgs.push(Float32Array.from(ds.images.subarray(e * 784 + r0, e * 784 + r0 + m), (v) => v / 255));
const density = imgs.reduce((a, im) => a + im.filter((v) => v !== 0).length, 0) / (250 * m);
const ts: InputTangent[] = [];
const small = (len: number, sc: number) => { const b = ar.alloc(len); for (let i = 0; i < len; i++) b[i] = (r.uniform() - 0.5) * sc; return b; };
for (let q = 0; q < P; q++) ts.push({ dWT: small(m * stride, 1e-3), dy: small(n, 1), A: small(n, 1e-5), B: small(n, 1e-5), C: small(n, 1e-5), du: ar.alloc(m) });
const run = (steps: number, what: "sweep" | "forward") => {
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    x.set(imgs[s % 250]);
    const c = k.nonzeros(idx, x, m);
    if (what === "sweep") k.inputSweep(WT, stride, m, n, x, y, A, B, u, idx, c, ts);
    else k.matVecT(z, WT, stride, x, idx, c, n, null);
  }
  return ((performance.now() - t0) / steps) * 1000;
};
run(3000, "sweep"); run(3000, "forward");
const res = { sweep: [] as number[], forward: [] as number[] };
for (let q = 0; q < rounds; q++) for (const w of ["sweep", "forward"] as const) res[w].push(run(10000, w));
for (const w of ["sweep", "forward"] as const) {
  const s = [...res[w]].sort((a, b) => a - b);
  const perRow = w === "sweep" ? `; ${((s[s.length >> 1] * 1000) / m).toFixed(1)} ns per row` : "";
  console.log(`${kind}${packed ? " packed" : ""} n=${n} rows=${m} (${(100 * density).toFixed(1)}% nonzero) tangents=${P} ${w}: median ${s[s.length >> 1].toFixed(2)} µs (min ${s[0].toFixed(2)}) per step${perRow}`);
}
