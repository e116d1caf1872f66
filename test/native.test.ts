/**
 * The native backend (native/*.c, src/core/native.ts): its kernels give the
 * WebAssembly kernels' bytes (test/native-cases.ts, on every vector path this
 * CPU has), whole tasks and meta episodes give the same bytes on both
 * backends, and without the addon (no compiler, or NEUROPLASTIC_NATIVE=0)
 * the install still succeeds and Node runs wasm, saying so.
 * When the addon is not built (CI's run with the native build disabled),
 * the comparisons are skipped, saying why, and the fallback is checked.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspectAddon, nativeIsa, nativeMissing } from "../src/core/native.js";
import { DEFAULT_CONFIG, runTask, type RunConfig } from "../src/experiments/task.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { runEpisode } from "../src/experiments/episode.js";
import { metaLayout } from "../src/learn/tangent.js";
import { allCases } from "./native-cases.js";
import { cli } from "./helpers.js";

const root = new URL("..", import.meta.url).pathname;
const isa = nativeIsa();
const skip = isa === null ? `the native kernels are ${nativeMissing}` : false;
const tsx = (file: string, env: Record<string, string>) =>
  spawnSync(process.execPath, ["--import", "tsx", join(root, file)], { cwd: root, encoding: "utf8", env: { ...process.env, ...env } });

test(`native kernels give the wasm kernels' bytes, every kernel and tail (this CPU's widest path: ${isa ?? "none"})`, { skip }, () => {
  assert.deepEqual(allCases(), []);
});

test("native kernels give the wasm kernels' bytes on the narrower vector paths (portable; avx2 where the CPU has it)", { skip }, () => {
  for (const path of ["portable", "avx2"]) {
    // (A path the CPU lacks is refused at load, with its reason: the test below.)
    if (path === isa || (path === "avx2" && isa === "portable")) continue;
    const r = tsx("test/native-cases.ts", { NEUROPLASTIC_NATIVE_ISA: path });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^mismatches 0$/m, `${path}: ${r.stdout.slice(0, 2000)}`);
  }
});

const small: RunConfig = { ...DEFAULT_CONFIG, hidden: [37, 21, 10], shots: 12, query: 4, theta: { bp: 0.0068, oja: 0.0053 } };
const whole: [string, Partial<RunConfig>][] = [
  ["paper net bp + Oja", { hidden: DEFAULT_CONFIG.hidden, shots: 20 }],
  ["odd widths bp + Oja", {}],
  ["odd widths, feedback alignment", { feedback: "random" }],
  ["odd widths, bias, every term", { bias: true, theta: { bp: 0.0068, oja: 0.0053, hebb: 1e-4, ehebb: 1e-3 } }],
  ["mini-batches of 5", { batch: 5 }],
  ["Adam", { optimizer: "adam", theta: { bp: 0.001 } }],
  ["RNN BPTT + Oja, delay 3", { net: "rnn", hidden: [30], delay: 3, theta: { bp: 0.003, oja: 0.002 } }],
];

for (const [name, over] of whole) {
  test(`a whole task gives the same bytes on native and wasm: ${name}`, { skip }, () => {
    const cfg = { ...small, ...over };
    const ds = cachedDataset(cfg);
    const a = [0, 1].map((t) => runTask({ ...cfg, backend: "wasm" }, ds, t, undefined, 7));
    const b = [0, 1].map((t) => runTask({ ...cfg, backend: "native" }, ds, t, undefined, 7));
    assert.deepEqual(b.map((r) => [r.acc, r.loss, r.weightNorm, r.diverged, r.curve]), a.map((r) => [r.acc, r.loss, r.weightNorm, r.diverged, r.curve]));
  });
}

const metaCases: [string, Partial<RunConfig>, string[]][] = [
  ["MLP (bp, oja)", {}, ["bp", "oja"]],
  ["MLP per-layer oja", { hidden: [20, 12] }, ["oja"]],
  ["RNN (bp, oja)", { net: "rnn", hidden: [16], delay: 2, theta: { bp: 0.003, oja: 0.002 } }, ["bp", "oja"]],
];
for (const [name, over, learn] of metaCases) {
  test(`a meta-gradient episode gives the same bytes on native and wasm: ${name}`, { skip }, () => {
    const cfg: RunConfig = { ...small, split: "train", ...over };
    const ds = cachedDataset(cfg);
    const S = cfg.net === "rnn" ? 3 : cfg.hidden.length + 1;
    const layout = metaLayout(learn, S, name.includes("per-layer"));
    const theta = layout.map(() => 0.004);
    const e = (backend: RunConfig["backend"]) => runEpisode({ ...cfg, backend }, ds, 2, layout, theta, {});
    const a = e("wasm"), b = e("native");
    assert.deepEqual(Float64Array.from([b.loss, b.acc, ...b.grad]), Float64Array.from([a.loss, a.acc, ...a.grad]));
  });
}

// Without the gradient the tangent step carries no directions, so its primal step takes the packed first layer
// (native AVX-512): the same bytes as wasm still.
test("an episode without the gradient gives the same bytes on native and wasm (the packed first layer where there is one)", { skip }, () => {
  const cfg: RunConfig = { ...small, split: "train" };
  const ds = cachedDataset(cfg);
  const layout = metaLayout(["bp", "oja"], cfg.hidden.length + 1, false);
  const e = (backend: RunConfig["backend"]) => runEpisode({ ...cfg, backend }, ds, 3, layout, [0.005, 0.004], {}, "f32", { gradient: false });
  const a = e("wasm"), b = e("native");
  assert.deepEqual([b.loss, b.acc], [a.loss, a.acc]);
  assert.ok(Number.isFinite(a.loss));
});

test("the CLI: --backend names the active kernels in one line; auto (the default) takes native where built, silently; the result names it", { skip }, () => {
  const args = ["train", "--tasks", "2", "--hidden", "12", "--shots", "3", "--query", "2", "--workers", "1", "--json"];
  const w = cli([...args, "--backend", "wasm"]), auto = cli(args);
  for (const r of [w, auto]) assert.equal(r.code, 0, r.err);
  assert.equal(w.err, "neuroplastic: kernels wasm (f32x4 SIMD)\n");
  assert.equal(auto.err, "", "without --backend nothing is said");
  const rows = (r: { out: string }) => r.out.trim().split("\n").map((l) => JSON.parse(l));
  for (const [r, b] of [[w, "wasm"], [auto, "native"]] as const) for (const x of rows(r)) assert.equal(x.config.backend, b);
  // The same numbers on both (seconds and rates aside).
  const nums = (r: { out: string }) => rows(r).map((x) => [x.acc, x.loss, x.weight_norm]);
  assert.deepEqual(nums(auto), nums(w));
});

test("without the addon (NEUROPLASTIC_NATIVE=0): auto runs wasm and says why when asked, --backend native is a one-line error", () => {
  const env = { ...process.env, NEUROPLASTIC_NATIVE: "0" };
  const run = (extra: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), "train", "--tasks", "1", "--hidden", "8",
    "--shots", "2", "--query", "1", "--workers", "1", "--json", ...extra], { cwd: root, encoding: "utf8", env });
  const a = run(["--backend", "auto"]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stderr, "neuroplastic: kernels wasm (f32x4 SIMD; native disabled (NEUROPLASTIC_NATIVE=0))\n");
  assert.equal(JSON.parse(a.stdout.split("\n")[0]).config.backend, "wasm");
  const b = run(["--backend", "native"]);
  assert.equal(b.status, 2);
  assert.equal(b.stderr, "neuroplastic: --backend native: the native kernels are disabled (NEUROPLASTIC_NATIVE=0); use --backend wasm\n");
});

test("the install step never fails: without a compiler, or with NEUROPLASTIC_NATIVE=0, one line and no addon; with one, an addon that loads", () => {
  const dir = mkdtempSync(join(tmpdir(), "np-native-"));
  try {
    const out = join(dir, "native.node");
    const build = (env: Record<string, string>) =>
      spawnSync(process.execPath, [join(root, "scripts/build-native.mjs")], { cwd: root, encoding: "utf8", env: { ...process.env, NEUROPLASTIC_NATIVE_OUT: out, ...env } });
    const envs: Record<string, string>[] = [{ CC: "false" }, { CC: "/nonexistent/cc" }, { NEUROPLASTIC_NATIVE: "0" }];
    for (const env of envs) {
      const r = build(env);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^native kernels: not built \(.+\); Node uses the WebAssembly kernels\n$/, JSON.stringify(env));
      assert.equal(existsSync(out), false);
      // Its reason, which a run asking for native gives (src/core/native.ts).
      assert.match(readFileSync(`${out}.skipped`, "utf8"), env.NEUROPLASTIC_NATIVE === "0" ? /^NEUROPLASTIC_NATIVE=0 at install\n$/ : /\S/);
    }
    if (spawnSync("cc", ["--version"]).status !== 0) return; // no compiler here: the build itself cannot be shown
    // (NEUROPLASTIC_NATIVE cleared: CI's second run sets it to 0 for everything else.)
    const r = build({ NEUROPLASTIC_NATIVE: "" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^native kernels: .*native\.node/);
    const k = spawnSync(process.execPath, ["-e", `const k = require(${JSON.stringify(out)}); console.log(typeof k.inputSweep, k.isa())`], { encoding: "utf8" });
    assert.match(k.stdout, /^function (avx512|avx2|portable)\n$/, k.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// (NEUROPLASTIC_NATIVE cleared: with the native kernels disabled the variable has no effect, and CI's second run sets it to 0.
// Checked before the addon is looked for, so this holds where none was built too.)
test("a bad NEUROPLASTIC_NATIVE_ISA is one line and exit 2 on every backend, never a path picked silently", () => {
  for (const [v, b] of [["AVX2", "native-fast"], ["garbage", "auto"], ["sse", "wasm"]]) {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), "train", "--tasks", "1", "--hidden", "8", "--shots", "2",
      "--query", "1", "--workers", "1", "--backend", b], { cwd: root, encoding: "utf8", env: { ...process.env, NEUROPLASTIC_NATIVE: "", NEUROPLASTIC_NATIVE_ISA: v } });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `neuroplastic: NEUROPLASTIC_NATIVE_ISA="${v}": expected portable, avx2 or avx512 (unset: the widest this CPU has)\n`);
  }
});

test("a damaged addon (truncated: dlopen would die of SIGBUS) and one built from other sources are refused with their reason, not loaded", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "np-addon-"));
  try {
    const good = join(root, "build/native.node"), src = join(root, "native");
    const ok = inspectAddon(good, src);
    assert.ok("k" in ok, JSON.stringify(ok));
    for (const n of [60, 1000, 20000, 40000]) {
      const f = join(dir, `cut${n}.node`);
      writeFileSync(f, readFileSync(good).subarray(0, n));
      const r = inspectAddon(f, src);
      assert.ok("missing" in r && /^not loaded \(build\/native\.node is damaged, truncated: /.test(r.missing), `${n}: ${JSON.stringify(r)}`);
    }
    // Not a file one can read: one line too (a directory where the addon should be).
    const d = inspectAddon(dir, src);
    assert.ok("missing" in d && /^not loaded \(build\/native\.node is unreadable: EISDIR/.test(d.missing), JSON.stringify(d));
    // Sources moved on since the build (here: a comment added to a copy of kern.c).
    mkdirSync(join(dir, "native"));
    for (const f of ["kern.c", "addon.c"]) copyFileSync(join(src, f), join(dir, "native", f));
    appendFileSync(join(dir, "native", "kern.c"), "/* edited */\n");
    const copy = join(dir, "copy.node");
    copyFileSync(good, copy);
    const stale = inspectAddon(copy, join(dir, "native"));
    assert.deepEqual(stale, { missing: "not loaded (build/native.node was built from other sources than native/ holds; rebuild it with npm run build:native)" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
