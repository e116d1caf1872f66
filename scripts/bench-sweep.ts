/**
 * node --import tsx scripts/bench-sweep.ts [wasm|native|native-fast] [--packed] [--n N] [--rounds R]
 *
 * The first layer's kernels alone, on one thread: per online step of the paper
 * network's layer 1 (784 pixels × n = 170 units), the sweep (nonzeros, the Oja
 * dots uⱼ = WTⱼ·y and the update WTⱼ += xⱼA + (xⱼ − uⱼ)B, inputSweep) and the
 * forward pass over the nonzero pixels (matVecT), cycling through the first 250
 * test images. --packed takes the native arena's packed layout (packedInput:
 * native AVX-512 only). Medians (and minima) of R rounds of 10,000 steps, in µs;
 * run two variants alternately on one core (taskset -c 1) to compare them.
 */
import "../src/core/native.js";
import { performance } from "node:perf_hooks";
import { WasmArena } from "../src/core/wasm.js";
import { loadDataset } from "../src/data/dataset.js";
import { Rng } from "../src/core/rng.js";

const argv = process.argv.slice(2);
const opt = (k: string, d: number) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const kind = (argv.find((a) => !a.startsWith("--") && !/^\d+$/.test(a)) ?? "native") as "wasm" | "native" | "native-fast";
const packed = argv.includes("--packed");
const n = opt("--n", 170), m = 784, stride = (n + 3) & ~3, rounds = opt("--rounds", 5);
const ds = loadDataset("mnist", "test");
const ar = new WasmArena(8 << 20, kind === "wasm" ? false : kind);
const F = ar.kernels.fused!;
if (packed && F.packedInput === undefined) throw new Error(`bench-sweep: no packed first layer on ${kind} here (native AVX-512 only)`);
const k = packed ? F.packedInput! : F.input;
const WT = ar.alloc(m * stride), y = ar.alloc(n), A = ar.alloc(n), B = ar.alloc(n), u = ar.alloc(m), x = ar.alloc(m), z = ar.alloc(n);
const ib = ar.alloc(m), idx = new Int32Array(ib.buffer, ib.byteOffset, m);
const r = new Rng(1);
for (let i = 0; i < WT.length; i++) WT[i] = (r.uniform() * 2 - 1) * 0.07;
for (let i = 0; i < n; i++) { y[i] = r.uniform(); A[i] = (r.uniform() - 0.5) * 1e-4; B[i] = r.uniform() * 1e-5; }
const imgs: Float32Array[] = [];
for (let e = 0; e < 250; e++) imgs.push(Float32Array.from(ds.images.subarray(e * m, (e + 1) * m), (v) => v / 255));
const run = (steps: number, what: "sweep" | "forward") => {
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    x.set(imgs[s % 250]);
    const c = k.nonzeros(idx, x, m);
    if (what === "sweep") k.inputSweep(WT, stride, m, n, x, y, A, B, u, idx, c, []);
    else k.matVecT(z, WT, stride, x, idx, c, n, null);
  }
  return ((performance.now() - t0) / steps) * 1000;
};
run(3000, "sweep"); run(3000, "forward");
const res = { sweep: [] as number[], forward: [] as number[] };
for (let q = 0; q < rounds; q++) for (const w of ["sweep", "forward"] as const) res[w].push(run(10000, w));
for (const w of ["sweep", "forward"] as const) {
  const s = [...res[w]].sort((a, b) => a - b);
  console.log(`${kind}${packed ? " packed" : ""} n=${n} ${w}: median ${s[s.length >> 1].toFixed(2)} µs (min ${s[0].toFixed(2)}) per step`);
}
