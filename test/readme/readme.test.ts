/**
 * The README's examples are tested: every command and code block of its
 * "Examples" and "terms of your own" sections is extracted and run (at small
 * sizes: fewer tasks and episodes, where the README's numbers are sizes,
 * not the point), and each must show what its comment says. `reproduce`
 * (minutes even when quick) is checked through --print-config; its report
 * is run small in test/integration/reproduce.test.ts. A few minutes of runs: CI runs
 * this after the unit suite (`npm run test:readme`, .ci/run).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeIdx } from "../../src/data/idx.js";
import { closePools } from "../../src/experiments/pool.js";

after(closePools);
const root = new URL("../..", import.meta.url).pathname;
const readme = readFileSync(join(root, "README.md"), "utf8");
const tsx = import.meta.resolve("tsx");

/** The text of a "## …" section whose title contains `title`. */
function section(title: string): string {
  const parts = readme.split(/^## /m);
  const s = parts.find((p) => p.split("\n")[0].includes(title));
  assert.ok(s, `README has a section '${title}'`);
  return s;
}

function blocks(text: string): { lang: string; body: string }[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1], body: m[2] }));
}

/** The commands of a shell block with the comment above each: continuation lines joined, trailing comments dropped. */
/** A shell line's words, single-quoted words kept whole and a trailing comment dropped (as sh reads them). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|(\S+)/g)) {
    if (m[2]?.startsWith("#")) break;
    out.push(m[1] ?? m[2]);
  }
  return out;
}

function commands(body: string): { comment: string; argv: string[] }[] {
  const out: { comment: string; argv: string[] }[] = [];
  let comment = "";
  for (const line of body.replace(/\\\n\s*/g, " ").split("\n")) {
    if (line.startsWith("#")) { comment = line.slice(1).trim(); continue; }
    if (!line.trim()) continue;
    assert.match(line, /^node dist\/cli\/main\.js /, `every example is a neuroplastic command: ${line}`);
    out.push({ comment, argv: words(line.trim()).slice(2) });
  }
  return out;
}

/** Small sizes: the examples' task and episode counts are sizes, not what they show. */
function small(argv: string[]): string[] {
  const a = [...argv], cmd = a[0];
  const set = (flag: string, v: (old: string | undefined) => string) => { const i = a.indexOf(flag); if (i >= 0) a[i + 1] = v(a[i + 1]); else a.push(flag, v(undefined)); };
  if (cmd === "reproduce") return [...a, "--print-config"];
  if (cmd === "train") set("--tasks", (old) => String(Math.min(Number(old ?? 4), 20)));
  if (cmd === "meta") { set("--episodes", () => "2"); set("--eval-tasks", () => "4"); set("--bracket", () => "2"); }
  return a;
}

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ["--import", tsx, join(root, "src/cli/main.ts"), ...argv], { cwd, env: { ...process.env, ...env } });
    let out = "", err = "";
    c.stdout.on("data", (d) => { out += d; });
    c.stderr.on("data", (d) => { err += d; });
    c.on("exit", (code) => resolve({ code, out, err }));
  });
}

/** What each example's comment says, checked on its output (by the example's position in the section). */
type Check = (r: { out: string; err: string }, cwd: string, argv: string[]) => void;
const rows = (out: string) => out.split("\n").filter((l) => /^\S+\s+\d\.\d{4}\s/.test(l));
const checks: Record<string, Check> = {
  "Compare rules on the paper network": (r) => assert.equal(rows(r.out).length, 2, r.out),
  "Deep network, careless init, feedback alignment": (r) => {
    const [fa, oja] = r.out.trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(fa.acc < 0.25, `FA alone near chance: ${fa.acc}`);
    assert.ok(oja.acc > fa.acc + 0.03, `FA + Oja leaves chance: ${oja.acc} vs ${fa.acc}`);
  },
  "Per-layer coefficients": (r) => assert.match(r.out, /^bp=0\.01,oja=0\.01:0\.01:0\.005:0:0\s+\d\.\d{4}/m),
  "The engineering tricks": (r) => assert.equal(rows(r.out).length, 1, r.out),
  "Your own IDX data": (r) => assert.match(r.out, /emnist-balanced:test .* 5-way/),
  "Meta-learn θ = (bp, oja)": (r, cwd, argv) => { if (argv[0] === "train") { assert.equal(rows(r.out).length, 1, r.out); return; } for (const f of ["theta.json", "meta.jsonl", "checkpoint.json", "summary.json"]) assert.ok(existsSync(join(cwd, "runs/meta", f)), f); assert.match(r.out, /learned θ: bp=/); },
  "A recurrent network": (r, cwd) => { if (r.out.includes("learned θ")) assert.equal(JSON.parse(readFileSync(join(cwd, "runs/meta-rnn/theta.json"), "utf8")).theta.oja.length, 3); else { assert.equal(rows(r.out).length, 2); assert.match(r.out, /rnn N 100, delay 20/); } },
  "Meta-learn the whole rule pool": (r, cwd) => { const s = JSON.parse(readFileSync(join(cwd, "runs/pool/summary.json"), "utf8")); assert.deepEqual(Object.keys(s.theta).sort(), ["bp", "decay", "ehebb", "eoja", "hebb", "oja", "ye"]); assert.equal(s.l1.lambda, 1); assert.match(r.out, /L1 penalty λ = 1/); },
  "Fashion-MNIST": (r, cwd) => { for (const f of ["fashion.json", "fashion.tasks.jsonl", "fashion-curve.csv", "fashion-curve.svg"]) assert.ok(existsSync(join(cwd, "runs", f)), f); assert.match(r.out, /^fashion:test/m); assert.match(r.out, /learning curve/); },
  "The paper's experiments": (r) => assert.ok(JSON.parse(r.out).out.startsWith("runs/reproduce")),
};

/** A fake EMNIST set in $HOME/data/emnist (the example's path): 5 classes, stored transposed. */
function fakeEmnist(home: string): void {
  const d = join(home, "data/emnist");
  mkdirSync(d, { recursive: true });
  const n = 40, labels = Uint8Array.from({ length: n }, (_, i) => i % 5), px = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256);
  for (const split of ["train", "test"]) {
    writeFileSync(join(d, `emnist-balanced-${split}-images-idx3-ubyte`), encodeIdx({ dtype: "u8", dims: [n, 28, 28], data: px }));
    writeFileSync(join(d, `emnist-balanced-${split}-labels-idx1-ubyte`), encodeIdx({ dtype: "u8", dims: [n], data: labels }));
  }
}

test("README Examples: every command runs (small) and shows what its comment says", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "np-readme-"));
  fakeEmnist(cwd);
  const sh = blocks(section("Examples")).filter((b) => b.lang === "sh");
  assert.ok(sh.length >= 1);
  const cmds = sh.flatMap((b) => commands(b.body));
  assert.ok(cmds.length >= 15, `${cmds.length} commands`);
  // Commands run in order within a comment's group (meta, then --resume, then train --rule-file); groups two at a time.
  const groups = [...new Set(cmds.map((c) => c.comment))].map((k) => cmds.filter((c) => c.comment === k));
  const failures: string[] = [];
  const next = async (): Promise<void> => {
    for (let g = groups.shift(); g; g = groups.shift()) {
      for (const c of g) {
        let argv = small(c.argv);
        if (c.argv.includes("--dataset") && c.argv.includes("~/data/emnist/emnist-balanced")) argv = [...argv.map((x) => x.replace(/^~/, cwd)), "--shots", "2", "--query", "1"];
        const r = await run(argv, cwd, { HOME: cwd });
        const key = Object.keys(checks).find((k) => c.comment.startsWith(k));
        if (r.code !== 0) { failures.push(`${c.argv.join(" ")}: exit ${r.code}: ${r.err.trim().split("\n").pop()}`); continue; }
        if (!key) { failures.push(`no check for the example '${c.comment}'`); continue; }
        try { checks[key](r, cwd, c.argv); } catch (e) { failures.push(`${c.argv.join(" ")}: ${(e as Error).message}`); }
      }
    }
  };
  await Promise.all([next(), next()]);
  assert.deepEqual(failures, []);
});

test("README 'terms of your own': my-terms.mjs as written registers, its naive formula equals its factors, and both commands run", async () => {
  const s = section("terms of your own");
  const js = blocks(s).find((b) => b.lang === "js");
  assert.ok(js);
  const name = js.body.match(/^\/\/ (\S+\.mjs)/)![1];
  const cwd = mkdtempSync(join(tmpdir(), "np-terms-"));
  writeFileSync(join(cwd, name), js.body);
  const { registerTermsModule, TERMS } = await import("../../src/rules/registry.js");
  const { pathToFileURL } = await import("node:url");
  const names = await registerTermsModule(pathToFileURL(join(cwd, name)).href);
  assert.deepEqual(names, ["antihebb"]);
  // The literal formula is the reference: ΔW = sign · Σₜ post ⊗ pre from the factors, for random signals over T = 3 steps.
  const term = TERMS.antihebb;
  const n = 4, m = 5, T = 3, rnd = (k: number) => Float64Array.from({ length: k }, (_, i) => Math.sin(i * 1.7 + k));
  const sig = { l: 1, L: 2, n, m, T, pre: rnd(T * m), post: rnd(T * n), e: rnd(T * n), ePre: rnd(T * m), u: rnd(T * m), ue: rnd(T * m), b: null };
  const f: import("../../src/rules/types.js").RankOne = { sign: 0, post: new Float64Array(0), pre: new Float64Array(0), preBias: 0 };
  term.factors(sig, new Float64Array(T * m), f);
  const naive = term.naive(sig, rnd(n * m));
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let x = 0;
    for (let t = 0; t < T; t++) x += f.post[t * n + i] * f.pre[t * m + j];
    assert.ok(Math.abs(naive[i * m + j] - f.sign * x) < 1e-12, `ΔW[${i},${j}]`);
  }
  const all = blocks(s).filter((b) => b.lang === "sh").flatMap((b) => commands(b.body));
  // The module's two commands (--terms my-terms.mjs), and the formula terms' two (--term 'name = formula').
  const sh = all.filter((c) => c.argv.includes("--terms")), formulas = all.filter((c) => c.argv.includes("--term"));
  assert.equal(sh.length, 2);
  assert.equal(formulas.length, 2);
  for (const c of sh) {
    const r = await run(small(c.argv), cwd, {});
    assert.equal(r.code, 0, `${c.argv.join(" ")}: ${r.err}`);
    if (c.argv[0] === "train") assert.match(r.out, /^bp=0\.0068,antihebb=0\.0005\s+\d\.\d{4}/m);
    else assert.ok("antihebb" in JSON.parse(readFileSync(join(cwd, "runs/anti/theta.json"), "utf8")).theta);
  }
  for (const c of formulas) {
    const argv = small(c.argv), r = await run(argv, cwd, {});
    assert.equal(r.code, 0, `${c.argv.join(" ")}: ${r.err}`);
    if (c.argv[0] === "train") {
      // "the built-in oja's accuracies, bit for bit": the same run with the built-in term prints the same numbers.
      const builtin = await run(argv.filter((x, i) => x !== "--term" && argv[i - 1] !== "--term").map((x) => x.replace("myoja=", "oja=")), cwd, {});
      assert.equal(builtin.code, 0, builtin.err);
      const row = (out: string, name: string) => out.split("\n").find((l) => l.startsWith(name))!.split(/\s+/).slice(1, 5).join(" ");
      assert.equal(row(r.out, "bp=0.0068,myoja=0.0053"), row(builtin.out, "bp=0.0068,oja=0.0053"));
    } else assert.ok("localoja" in JSON.parse(readFileSync(join(cwd, "runs/local/theta.json"), "utf8")).theta);
  }
});

test("README library example: the code block runs as written, against the package's own exports", async () => {
  const ex = section("Examples");
  const ts = blocks(ex).find((b) => b.lang === "ts" && b.body.includes("planStep"));
  assert.ok(ts);
  const cwd = mkdtempSync(join(tmpdir(), "np-lib-"));
  // The block's free names: `images` (a dataset's pixel bytes), the example index `i` and its `label`.
  const src = fileURLToPath(new URL("../../src/index.ts", import.meta.url));
  const body = ts.body.replace(/from "neuroplastic"/, `from ${JSON.stringify(src)}`);
  const prelude = `import { loadDataset } from ${JSON.stringify(src)};\nconst ds = loadDataset("mnist", "train"); const images = ds.images, i = 0, label = ds.labels[0];\n`;
  writeFileSync(join(cwd, "example.ts"), body.replace(/^(import [^\n]*\n)/, `$1${prelude}`) + `\nif (!(net.params.every(Number.isFinite) && rnn.params.length > 0)) throw new Error("not trained");\nconsole.log("ok");\n`);
  const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const c = spawn(process.execPath, ["--import", tsx, join(cwd, "example.ts")], { cwd });
    let out = "", err = "";
    c.stdout.on("data", (d) => { out += d; }); c.stderr.on("data", (d) => { err += d; });
    c.on("exit", (code) => resolve({ code, out, err }));
  });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), "ok");
});
