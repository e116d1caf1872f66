/**
 * Property-based fuzzing (fast-check) of everything that reads outside
 * input: the IDX reader, the rule and θ parsers, rule files, meta
 * checkpoints and sweep specs. Each input gives either a correct result or
 * the reader's own typed error (IdxError, RuleError, CheckpointError,
 * SweepError) — never another exception, a crash or a hang (every test has a
 * time limit).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { encodeIdx, IdxError, parseIdx, type IdxArray, type IdxDType } from "../src/data/idx.js";
import { parseIdx as parseIdxBrowser } from "../src/data/idx-format.js";
import { formatThetaSpec, makeRule, parseThetaSpec, RuleError, type ThetaSpec } from "../src/rules/rule.js";
import { parseRuleFile } from "../src/rules/rule-file.js";
import { TERM_NAMES } from "../src/rules/registry.js";
import { CheckpointError, layoutOf, metaPaths, readCheckpoint, type MetaConfig } from "../src/experiments/meta-train.js";
import { DEFAULT_CONFIG } from "../src/experiments/task.js";
import { adamInit } from "../src/meta/adam.js";
import { robustInit } from "../src/meta/outer.js";
import { fuzzSeed } from "./helpers.js";

const RUNS = 1000;
const LIMIT = { timeout: 60_000 };
// A fixed seed by default, so CI is repeatable; FUZZ_SEED=<n> replays a run, FUZZ_SEED=random explores new inputs
// (a failure prints its seed and counterexample; keep it as a regression case below).
fc.configureGlobal({ seed: fuzzSeed() });

/** Run `f`; an exception must be an instance of `E`. Returns the result, or null when E was thrown. */
function typed<T>(E: new (...a: never[]) => Error, f: () => T): T | null {
  try { return f(); } catch (e) {
    if (e instanceof E) { assert.ok(e.message.length > 0 && !e.message.includes("\n"), "one-line message"); return null; }
    throw e;
  }
}

// ---- IDX --------------------------------------------------------------------

const DT: IdxDType[] = ["u8", "i8", "i16", "i32", "f32", "f64"];
const idxArray: fc.Arbitrary<IdxArray> = fc.record({
  dtype: fc.constantFrom(...DT),
  dims: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
}).chain(({ dtype, dims }) => {
  const n = dims.reduce((a, b) => a * b, 1);
  const value = dtype === "u8" ? fc.integer({ min: 0, max: 255 }) : dtype === "i8" ? fc.integer({ min: -128, max: 127 }) : dtype === "i16" ? fc.integer({ min: -32768, max: 32767 })
    : dtype === "i32" ? fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) : dtype === "f32" ? fc.float({ noNaN: true }) : fc.double({ noNaN: true });
  return fc.array(value, { minLength: n, maxLength: n }).map((vals) => {
    const C = { u8: Uint8Array, i8: Int8Array, i16: Int16Array, i32: Int32Array, f32: Float32Array, f64: Float64Array }[dtype];
    return { dtype, dims, data: C.from(vals) } as IdxArray;
  });
});

/** A result is correct when it is self-consistent: as many values as the dimensions say. */
function consistent(a: IdxArray): void {
  assert.equal(a.data.length, a.dims.reduce((x, y) => x * y, 1));
  assert.ok(DT.includes(a.dtype));
}

test("IDX: any bytes give a consistent array or an IdxError", LIMIT, () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => { const r = typed(IdxError, () => parseIdx(b)); if (r) consistent(r); }), { numRuns: RUNS });
  // Headers that look like IDX: two zero bytes, any dtype and rank, any dimensions, any tail.
  const header = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 6 }), fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 6 }), fc.uint8Array({ maxLength: 64 }))
    .map(([dt, rank, dims, tail]) => {
      const h = new Uint8Array(4 + 4 * dims.length), v = new DataView(h.buffer);
      h[2] = dt; h[3] = rank;
      dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
      return Uint8Array.from([...h, ...tail]);
    });
  fc.assert(fc.property(header, (b) => { const r = typed(IdxError, () => parseIdx(b)); if (r) consistent(r); }), { numRuns: RUNS });
});

test("IDX: encode then parse is the identity, raw and gzipped (Node) and raw (browser entry)", LIMIT, () => {
  fc.assert(fc.property(idxArray, (a) => {
    const raw = encodeIdx(a);
    for (const r of [parseIdx(raw), parseIdx(gzipSync(raw)), parseIdxBrowser(raw)]) {
      assert.equal(r.dtype, a.dtype);
      assert.deepEqual(r.dims, a.dims);
      assert.deepEqual(Array.from(r.data), Array.from(a.data));
    }
    // The browser entry has no zlib: a gzipped buffer is a typed refusal, not a misread.
    assert.throws(() => parseIdxBrowser(gzipSync(raw)), IdxError);
  }), { numRuns: RUNS });
});

test("IDX: mutated files (flipped bytes, truncation, extra bytes, damaged gzip) give the original, another consistent array, or an IdxError", LIMIT, () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("extend" as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  );
  const mutate = (b: Uint8Array, m: { kind: string; at?: number; byte?: number; extra?: Uint8Array }) => {
    if (m.kind === "flip") { const c = b.slice(); c[m.at! % c.length] = m.byte!; return c; }
    if (m.kind === "cut") return b.slice(0, m.at! % b.length);
    return Uint8Array.from([...b, ...m.extra!]);
  };
  fc.assert(fc.property(idxArray, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), (a, ms, gz) => {
    let b: Uint8Array = gz ? gzipSync(encodeIdx(a)) : encodeIdx(a);
    for (const m of ms) b = mutate(b, m);
    const r = typed(IdxError, () => parseIdx(b, "fuzz.idx"));
    if (r) consistent(r);
  }), { numRuns: RUNS });
});

// ---- rules and θ ------------------------------------------------------------

/** Coefficients with at most 6 significant digits (formatThetaSpec writes 6). */
const coef = fc.tuple(fc.integer({ min: -999999, max: 999999 }), fc.integer({ min: -12, max: 3 })).map(([m, e]) => Number((m * 10 ** e).toPrecision(6)));
const spec: fc.Arbitrary<ThetaSpec> = fc.dictionary(fc.constantFrom(...TERM_NAMES), fc.oneof(coef, fc.array(coef, { minLength: 2, maxLength: 5 })), { minKeys: 1 });

test("θ parser: any text gives a rule or a RuleError; formatted rules parse back to themselves", LIMIT, () => {
  const ruleish = fc.array(fc.oneof(fc.constantFrom(...TERM_NAMES, "=", ",", ":", " ", "-", ".", "e", "1", "0", "NaN", "Infinity", "bp=", "oja=0.1"), fc.string({ maxLength: 4 })), { maxLength: 12 }).map((p) => p.join(""));
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 40 }), ruleish), (text) => {
    const r = typed(RuleError, () => parseThetaSpec(text));
    if (r) for (const v of Object.values(r)) for (const x of [v].flat()) assert.ok(Number.isFinite(x as number));
  }), { numRuns: RUNS * 2 });
  fc.assert(fc.property(spec, (s) => assert.equal(JSON.stringify(parseThetaSpec(formatThetaSpec(s))), JSON.stringify(s))), { numRuns: RUNS });
});

test("rules: makeRule on any spec and depth gives coefficients of the right shape or a RuleError", LIMIT, () => {
  const anySpec = fc.dictionary(fc.oneof(fc.constantFrom(...TERM_NAMES), fc.string({ maxLength: 5 })), fc.oneof(fc.double(), fc.array(fc.double(), { maxLength: 6 })));
  fc.assert(fc.property(anySpec, fc.integer({ min: 1, max: 6 }), fc.boolean(), (s, L, ojaOutput) => {
    const r = typed(RuleError, () => makeRule(s as ThetaSpec, L, { ojaOutput }));
    if (r) for (const c of Object.values(r.coef)) { assert.equal(c!.length, L + 1); for (let l = 1; l <= L; l++) assert.ok(Number.isFinite(c![l])); }
  }), { numRuns: RUNS });
});

test("rule files: any JSON gives a rule or a RuleError", LIMIT, () => {
  const near = fc.record({ theta: fc.dictionary(fc.oneof(fc.constantFrom(...TERM_NAMES), fc.string({ maxLength: 4 })), fc.jsonValue({ maxDepth: 2 })), ojaOutput: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] });
  fc.assert(fc.property(fc.oneof(fc.jsonValue({ maxDepth: 3 }), near), (json) => {
    const r = typed(RuleError, () => parseRuleFile(json, "fuzz.json"));
    if (r) { assert.equal(typeof r.theta, "object"); assert.ok(r.ojaOutput === undefined || typeof r.ojaOutput === "boolean"); }
  }), { numRuns: RUNS });
});

// ---- checkpoints ------------------------------------------------------------

test("meta checkpoints: damaged, truncated or foreign files give a usable state or a CheckpointError", LIMIT, () => {
  const dir = mkdtempSync(join(tmpdir(), "np-fuzz-ck-"));
  const cfg: MetaConfig = {
    run: { ...DEFAULT_CONFIG, hidden: [10], tasks: 1 }, learn: ["bp", "oja"], perLayer: false, episodes: 10, metaBatch: 1, metaLr: 1e-3,
    l1: 0, checkpointEvery: 5, outer: "robust", metaStep: 0.1, thetaFloor: 3e-3, sigma: 0.1,
  };
  const P = layoutOf(cfg).length, rs = robustInit(P);
  const valid = { version: 1, config: cfg, state: { episode: 3, theta: [0.001, 0.002], adam: adamInit(P), skipped: 0, good: null, robust: rs } };
  const paths = metaPaths(dir);
  const load = (text: string) => {
    writeFileSync(paths.checkpoint, text);
    const st = typed(CheckpointError, () => readCheckpoint(paths, cfg));
    if (st) {
      assert.equal(st.theta.length, P);
      assert.ok(st.theta.every(Number.isFinite));
      assert.equal(st.adam.m.length, P);
      assert.ok(Number.isInteger(st.episode) && st.episode >= 0);
    }
  };
  load(JSON.stringify(valid));
  assert.notEqual(readCheckpoint(paths, cfg), null, "the valid checkpoint loads");
  // Found by fuzzing: an escaped newline in a key of the saved configuration ("\nun" for "run") broke the one-line message.
  const text0 = JSON.stringify(valid), at = text0.indexOf('"run"') + 1;
  load(text0.slice(0, at) + "\\n" + text0.slice(at + 1));
  // Replace any value at any path by any JSON.
  const paths_ = ["version", "config", "state", "state.episode", "state.theta", "state.adam", "state.adam.m", "state.adam.t", "state.skipped", "state.good", "state.robust", "state.robust.rp", "state.robust.es.s", "config.learn", "config.run.hidden"];
  fc.assert(fc.property(fc.constantFrom(...paths_), fc.jsonValue({ maxDepth: 2 }), (path, value) => {
    const c = structuredClone(valid) as Record<string, unknown>;
    const keys = path.split("."), last = keys.pop()!;
    let o = c as Record<string, unknown>;
    for (const k of keys) o = o[k] as Record<string, unknown>;
    o[last] = value;
    load(JSON.stringify(c));
  }), { numRuns: RUNS });
  // Truncations and byte edits of the text.
  const text = JSON.stringify(valid);
  fc.assert(fc.property(fc.nat({ max: text.length }), fc.string({ maxLength: 3 }), fc.nat({ max: text.length }), (cut, ins, at) => {
    load(text.slice(0, cut));
    load(text.slice(0, at) + ins + text.slice(at + 1));
  }), { numRuns: RUNS });
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => load(JSON.stringify(v))), { numRuns: RUNS });
});

// ---- config files -------------------------------------------------------------

test("config files: any object gives flags or a UsageError", LIMIT, async () => {
  const { Command } = await import("commander");
  const { registerTrain } = await import("../src/cli/train.js");
  const { configTokens } = await import("../src/cli/config.js");
  const { UsageError } = await import("../src/cli/errors.js");
  const program = new Command();
  registerTrain(program);
  const train = program.commands[0];
  const keys = fc.constantFrom("hidden", "shots", "theta", "bias", "rule", "feedback", "no-oja-output", "ojaOutput", "init", "seed", "tasks", "x", "config");
  fc.assert(fc.property(fc.dictionary(fc.oneof(keys, fc.string({ maxLength: 6 })), fc.jsonValue({ maxDepth: 2 })), (cfg) => {
    const tokens = typed(UsageError, () => configTokens(cfg, train, ["train"], "fuzz.yaml"));
    if (tokens) for (const t of tokens) assert.equal(typeof t, "string");
  }), { numRuns: RUNS });
});

test("job scripts: any --partition, --time, --mem or directory is refused (SweepError) or gives scripts with no extra line or field", LIMIT, async () => {
  const { slurmScripts, k8sManifests } = await import("../src/cli/sweep/scripts.js");
  const { SweepError } = await import("../src/cli/sweep/plan.js");
  const { parse } = await import("yaml");
  const ref = slurmScripts("/d/g", 4, { perTask: 1, parallel: 2, cpus: 1, time: "1:00", partition: "p", mem: "1G", cli: ["/n", "/m.js"] });
  const text = fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom("a", "1", ":", "-", " ", "\n", "\r", '"', "'", "\\", "#", "$", "%", "\u2028", "\t") }));
  fc.assert(fc.property(text, text, text, text, (partition, time, mem, name) => {
    const s = typed(SweepError, () => slurmScripts(`/d/${name}`, 4, { perTask: 1, parallel: 2, cpus: 1, time, partition, mem, cli: ["/n", "/m.js"] }));
    if (s === null) return;
    for (const [a, b] of [[s.sweep, ref.sweep], [s.collect, ref.collect]]) {
      assert.equal(a.split("\n").length, b.split("\n").length, "no line added");
      // Every directive is one option with one value: bare, or in double quotes.
      for (const l of a.split("\n").filter((x) => x.startsWith("#SBATCH"))) assert.match(l, /^#SBATCH --[a-z-]+=("[^"\n]*"|[^\s"]+)$/, l);
    }
  }), { numRuns: RUNS });
  fc.assert(fc.property(text, text, text, (image, pvc, mount) => {
    const m = typed(SweepError, () => k8sManifests("/d/g", 4, { image, pvc, mount, perTask: 1, parallel: 2, cpus: 1, cli: ["neuroplastic"] }));
    if (m === null) return;
    const job = parse(m.job);
    assert.deepEqual(Object.keys(job.spec.template.spec), ["restartPolicy", "containers", "volumes"], "no field added");
    assert.equal(job.spec.template.spec.containers[0].image, image);
  }), { numRuns: RUNS });
});

test("number formatting: any double gives one token, never NaN, residue never shown as a spread", LIMIT, async () => {
  const { fixed, seText, sig3, noResidue } = await import("../src/report/format.js");
  fc.assert(fc.property(fc.double(), fc.double(), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 6 }), (x, m, n, d) => {
    for (const s of [fixed(x, d), sig3(x), seText(x, m, n, d)]) {
      assert.match(s, /^(-?\d+(\.\d+)?(e[+-]\d+)?|diverged|exploded|—)$/, s);
      assert.doesNotMatch(s, /^-0(\.0*)?$/);
    }
    if (Number.isFinite(x) && Number.isFinite(m) && Math.abs(x) <= 1e-9 * Math.abs(m)) assert.equal(noResidue(x, m), 0);
  }), { numRuns: RUNS });
});
