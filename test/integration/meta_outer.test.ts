import { after, test } from "node:test";
import { closePools } from "../../src/experiments/pool.js";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adamInit, adamUpdate } from "../../src/meta/adam.js";
import { BRACKET_FACTORS, bracketStart, layoutOf, metaPaths, metaTrain, type MetaConfig } from "../../src/experiments/meta-train.js";
import { DEFAULT_CONFIG } from "../../src/experiments/task.js";
import { cli } from "../helpers.js";

const small: MetaConfig = {
  run: { ...DEFAULT_CONFIG, hidden: [20], shots: 5, query: 5, split: "train", theta: { bp: 0.001, oja: 0 }, tasks: 1 },
  learn: ["bp", "oja"], perLayer: false, episodes: 8, metaBatch: 1, metaLr: 0.01, l1: 0, checkpointEvery: 2,
};

after(closePools);

test("Adam matches torch.optim.Adam on a known sequence", () => {
  // torch.optim.Adam([p], lr=0.1), float64, p = [1, -2], grads [0.5, -1] then [0.1, 3], gives:
  const torchP = [0.8196959063846518, -1.9494189841087441];
  let s = adamInit(2), p = [1, -2];
  for (const g of [[0.5, -1], [0.1, 3]]) { const [d, n] = adamUpdate(g, s, { lr: 0.1 }); p = p.map((x, i) => x + d[i]); s = n; }
  p.forEach((x, i) => assert.ok(Math.abs(x - torchP[i]) < 1e-15, `${x} vs ${torchP[i]}`));
});

test("meta-training learns: θ moves and the run is deterministic", async () => {
  const a = await metaTrain(small, 1, null);
  const b = await metaTrain(small, 1, null);
  assert.deepEqual(a.state.theta, b.state.theta);
  assert.notDeepEqual(a.state.theta, [0.001, 0]);
  assert.equal(a.log.length, 8);
  assert.equal(a.state.skipped, 0);
});

test("a meta-batch on 2 worker threads gives the same θ as on one", async () => {
  const cfg = { ...small, episodes: 3, metaBatch: 2 };
  const one = await metaTrain(cfg, 1, null), two = await metaTrain(cfg, 2, null);
  assert.deepEqual(one.state.theta, two.state.theta);
});

test("a step into divergence is undone: θ backs off halfway toward the last θ with a finite episode", async () => {
  // A meta learning rate of 1 throws θ far from 0.001 on the first step, where the tasks diverge.
  const cfg: MetaConfig = { ...small, run: { ...small.run, gain: 2 }, metaLr: 1, episodes: 4 };
  const r = await metaTrain(cfg, 1, null);
  assert.equal(r.log[0].skipped, false);
  const skippedAt = r.log.findIndex((l) => l.skipped);
  assert.ok(skippedAt >= 1, "some step leads into divergence");
  const th = (i: number) => [r.log[i].theta.bp as number, r.log[i].theta.oja as number];
  // After the first skipped episode, θ is the midpoint of the θ that diverged and the last good θ.
  const diverged = th(skippedAt - 1), good = skippedAt >= 2 ? th(skippedAt - 2) : [0.001, 0];
  th(skippedAt).forEach((x, k) => assert.ok(Math.abs(x - (diverged[k] + good[k]) / 2) <= 1e-15 * Math.abs(x), `${x} vs midpoint`));
  r.state.theta.forEach((x) => assert.ok(Number.isFinite(x)));
});

test("a non-finite meta-gradient is skipped and counted; θ is never poisoned", async () => {
  const cfg: MetaConfig = { ...small, run: { ...small.run, theta: { bp: 50, oja: 0, hebb: 50 }, gain: 4 }, episodes: 3 };
  const r = await metaTrain(cfg, 1, null);
  assert.equal(r.state.skipped, 3);
  assert.deepEqual(r.state.theta, [50, 0]);
  assert.ok(r.log.every((l) => l.skipped));
});

test("interrupted and resumed in-process, θ ends identical to an uninterrupted run", async () => {
  const full = await metaTrain(small, 1, metaPaths(mkdtempSync(join(tmpdir(), "np-meta-"))));
  const dir = mkdtempSync(join(tmpdir(), "np-meta-"));
  await metaTrain({ ...small, episodes: 5 }, 1, metaPaths(dir));
  const resumed = await metaTrain(small, 1, metaPaths(dir), { resume: true });
  assert.deepEqual(resumed.state, full.state);
  const lines = readFileSync(join(dir, "meta.jsonl"), "utf8").trim().split("\n");
  assert.equal(lines.length, 8);
  assert.deepEqual(lines.map((l) => JSON.parse(l).episode), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test("kill -9 mid-run, then --resume: θ identical to an uninterrupted run", async () => {
  const args = ["meta", "--hidden", "20", "--shots", "5", "--query", "5", "--episodes", "150", "--meta-lr", "0.01",
    "--checkpoint-every", "3", "--workers", "1", "--eval-tasks", "0", "--no-figures", "--json"];
  const ref = mkdtempSync(join(tmpdir(), "np-ref-")), dir = mkdtempSync(join(tmpdir(), "np-kill-"));
  const full = cli([...args, "--out", ref]);
  assert.equal(full.code, 0, full.err);
  const root = new URL("../..", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), ...args, "--out", dir], { cwd: root, stdio: "ignore" });
  const ck = join(dir, "checkpoint.json");
  const killedAt = await new Promise<number>((resolve, reject) => {
    const poll = setInterval(() => {
      if (!existsSync(ck)) return;
      const ep = JSON.parse(readFileSync(ck, "utf8")).state.episode as number;
      if (ep >= 30) { clearInterval(poll); child.kill("SIGKILL"); resolve(ep); }
    }, 20);
    child.on("exit", (code, sig) => { if (sig !== "SIGKILL") { clearInterval(poll); reject(new Error(`run ended before the kill (code ${code})`)); } });
  });
  assert.ok(killedAt < 150, "killed mid-run");
  const resumed = cli([...args, "--out", dir, "--resume"]);
  assert.equal(resumed.code, 0, resumed.err);
  assert.deepEqual(JSON.parse(resumed.out).theta, JSON.parse(full.out).theta);
  assert.equal(readFileSync(join(dir, "theta.json"), "utf8"), readFileSync(join(ref, "theta.json"), "utf8"));
  const log = readFileSync(join(dir, "meta.jsonl"), "utf8"), refLog = readFileSync(join(ref, "meta.jsonl"), "utf8");
  assert.equal(log, refLog);
});

test("--resume refuses a checkpoint from another configuration", async () => {
  const dir = mkdtempSync(join(tmpdir(), "np-meta-"));
  await metaTrain({ ...small, episodes: 2 }, 1, metaPaths(dir));
  await assert.rejects(metaTrain({ ...small, metaLr: 0.5 }, 1, metaPaths(dir), { resume: true }), /different configuration/);
});

test("train --rule-file accepts the θ that meta writes", () => {
  const dir = mkdtempSync(join(tmpdir(), "np-rf-"));
  const m = cli(["meta", "--hidden", "20", "--shots", "5", "--query", "5", "--episodes", "3", "--workers", "1", "--eval-tasks", "0", "--no-figures", "--json", "--out", dir]);
  assert.equal(m.code, 0, m.err);
  const summary = JSON.parse(m.out);
  for (const k of ["theta", "last10_acc", "episodes_per_s", "skipped"]) assert.ok(k in summary, k);
  const t = cli(["train", "--rule-file", join(dir, "theta.json"), "--hidden", "20", "--shots", "5", "--query", "5", "--tasks", "2", "--workers", "1", "--json"]);
  assert.equal(t.code, 0, t.err);
  assert.deepEqual(JSON.parse(t.out).theta, summary.theta);
});

test("robust outer loop: from θ = (0.068, 0.053) at batch 10, θ ends finite and as good as the best fixed-grid point, within noise", async () => {
  const { train } = await import("../../src/experiments/train.js");
  const { specOf } = await import("../../src/experiments/meta-train.js");
  const { GRID_FACTORS, paired } = await import("../../src/reproduce/run.js");
  const run = { ...DEFAULT_CONFIG, hidden: [40, 30], batch: 10, split: "train" as const, tasks: 1, theta: { bp: 0.068, oja: 0.053 } };
  const cfg: MetaConfig = { run, learn: ["bp", "oja"], perLayer: false, episodes: 150, metaBatch: 1, metaLr: 1e-3, outer: "robust", l1: 0, checkpointEvery: 150 };
  const m = await metaTrain(cfg, 2, null);
  assert.ok(m.learned.every(Number.isFinite) && m.state.theta.every(Number.isFinite), `θ ${m.learned}`);
  const learned = specOf(cfg, m.learned);
  // The grid: ¼ … 4 × the start in each coefficient, chosen on train-split tasks, then both scored on the same test tasks.
  let best = { theta: run.theta as Record<string, number>, acc: -1 };
  for (const fb of GRID_FACTORS) for (const fo of GRID_FACTORS) {
    const theta = { bp: 0.068 * fb, oja: 0.053 * fo };
    const o = await train({ ...run, tasks: 16, theta }, 2);
    if (o.acc > best.acc) best = { theta, acc: o.acc };
  }
  const test = { ...run, split: "test" as const, tasks: 60 };
  const a = await train({ ...test, theta: learned }, 2), b = await train({ ...test, theta: best.theta }, 2);
  const d = paired(a.results, b.results);
  assert.ok(d.mean + d.ci95 >= 0, `meta-learned ${JSON.stringify(learned)} ${a.acc} vs best grid ${JSON.stringify(best.theta)} ${b.acc}: ${d.mean} ± ${d.ci95}`);
  // The published loop from the same start stays where tasks fail (what the robust loop exists to fix).
  const legacy = await metaTrain({ ...cfg, outer: "adam" }, 2, null);
  const l = await train({ ...test, theta: specOf(cfg, legacy.state.theta) }, 2);
  assert.ok(a.acc > l.acc + 0.1, `robust ${a.acc} vs published loop ${l.acc}`);
});

test("bracketing the start: from a plateau (θ × 50 at batch 50) θ₀ is the best of 13 paired candidates, deterministic, and a resumed run does not bracket again", async () => {
  // The paper network, 5-way 50-shot at batch 50: five updates a task; from θ × 50 tasks end at chance or blow up.
  const run = { ...DEFAULT_CONFIG, batch: 50, split: "train" as const, tasks: 1, theta: { bp: 0.34, oja: 0.265 } };
  const cfg: MetaConfig = { run, learn: ["bp", "oja"], perLayer: false, episodes: 6, metaBatch: 1, metaLr: 1e-3, outer: "robust", l1: 0, checkpointEvery: 3, bracket: 6 };
  const layout = layoutOf(cfg);
  const a = await bracketStart(cfg, layout, {}, [0.34, 0.265], 1), b = await bracketStart(cfg, layout, {}, [0.34, 0.265], 2);
  assert.deepEqual(a, b, "the same candidates and choice on one thread or two");
  // The start, 4 joint scalings, then 4 per coefficient: 1 + 4 + 2 · 4.
  assert.equal(a.candidates.length, 1 + BRACKET_FACTORS.length * 3);
  const best = Math.min(...a.candidates.map((c) => c.loss));
  assert.deepEqual(a.theta, a.candidates.find((c) => c.loss === best)!.theta);
  assert.ok(best < a.candidates[0].loss, `a scaled start beats the plateau: ${best} vs ${a.candidates[0].loss}`);
  assert.ok(a.theta[0] < 0.34, `θ_bp comes down from the plateau: ${a.theta}`);
  // Inside metaTrain: θ₀ is the bracketed θ, written to bracket.json; an interrupted and resumed run ends where an uninterrupted one does.
  const full = await metaTrain(cfg, 1, metaPaths(mkdtempSync(join(tmpdir(), "np-bracket-"))));
  assert.deepEqual(full.bracket?.theta, a.theta);
  const dir = mkdtempSync(join(tmpdir(), "np-bracket-"));
  // Interrupted after episode 4 (its checkpoint is from episode 3), as a crash would.
  await assert.rejects(metaTrain(cfg, 1, metaPaths(dir), { onEpisode: (_l, st) => { if (st.episode === 4) throw new Error("killed"); } }), /killed/);
  assert.ok(existsSync(metaPaths(dir).bracket));
  const resumed = await metaTrain(cfg, 1, metaPaths(dir), { resume: true });
  assert.equal(resumed.bracket, undefined, "a resumed run keeps its bracketed θ and does not bracket again");
  assert.deepEqual(resumed.state.theta, full.state.theta);
  // Off (absent or 0), nothing changes: θ₀ is the start.
  const off = await metaTrain({ ...cfg, bracket: 0, episodes: 1 }, 1, null);
  assert.equal(off.bracket, undefined);
});
