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
 * and --rows M takes the first M pixels of each image (M a multiple of four, at
 * most 784), so that the working set ((P + 1) · M rows) can be set below and
 * above a cache's size: the sweep is then also given per row, in ns.
 */
import "../src/core/native.js";
import { performance } from "node:perf_hooks";
import { WasmArena } from "../src/core/wasm.js";
import { loadDataset } from "../src/data/dataset.js";
import { Rng } from "../src/core/rng.js";
import type { InputTangent } from "../src/core/kernels.js";

const argv = process.argv.slice(2);
const opt = (k: string, d: number) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const kind = (argv.find((a) => !a.startsWith("--") && !/^\d+$/.test(a)) ?? "native") as "wasm" | "native" | "native-fast";
const packed = argv.includes("--packed");
const n = opt("--n", 170), m = opt("--rows", 784), stride = (n + 3) & ~3, rounds = opt("--rounds", 5), P = opt("--tangents", 0);
const fail = (msg: string): never => { process.stderr.write(`bench-sweep: ${msg}\n`); process.exit(2); };
if (!Number.isInteger(m) || m < 4 || m > 784 || m % 4 !== 0) fail(`--rows takes a multiple of four from 4 to 784, got ${m}`);
if (!Number.isInteger(P) || P < 0 || P > 8) fail(`--tangents takes 0 … 8, got ${P}`);
if (!Number.isInteger(n) || n < 1 || !Number.isInteger(rounds) || rounds < 1) fail("--n and --rounds take positive whole numbers");
if (packed && P > 0) fail("--packed has no tangents (the tangent sweep keeps layer 1 unpacked)");
const ds = loadDataset("mnist", "test");
const ar = new WasmArena((8 << 20) + 4 * P * (m * stride + 4 * n + m), kind === "wasm" ? false : kind);
const F = ar.kernels.fused!;
if (packed && F.packedInput === undefined) throw new Error(`bench-sweep: no packed first layer on ${kind} here (native AVX-512 only)`);
const k = packed ? F.packedInput! : F.input;
const WT = ar.alloc(m * stride), y = ar.alloc(n), A = ar.alloc(n), B = ar.alloc(n), u = ar.alloc(m), x = ar.alloc(m), z = ar.alloc(n);
const ib = ar.alloc(m), idx = new Int32Array(ib.buffer, ib.byteOffset, m);
const r = new Rng(1);
for (let i = 0; i < WT.length; i++) WT[i] = (r.uniform() * 2 - 1) * 0.07;
for (let i = 0; i < n; i++) { y[i] = r.uniform(); A[i] = (r.uniform() - 0.5) * 1e-4; B[i] = r.uniform() * 1e-5; }
const imgs: Float32Array[] = [];
for (let e = 0; e < 250; e++) imgs.push(Float32Array.from(ds.images.subarray(e * 784, e * 784 + m), (v) => v / 255));
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
  console.log(`${kind}${packed ? " packed" : ""} n=${n} rows=${m} tangents=${P} ${w}: median ${s[s.length >> 1].toFixed(2)} µs (min ${s[0].toFixed(2)}) per step${perRow}`);
}
