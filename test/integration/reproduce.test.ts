import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closePools } from "../../src/experiments/pool.js";
import { cells, pooled, reproduce, type CellResult, type ReproduceOptions } from "../../src/reproduce/run.js";
import { verdicts, writeReport } from "../../src/reproduce/report.js";
import { pairedDiff } from "../../src/reproduce/verdicts.js";

after(closePools);

/** A synthetic cell: coordinates as the scenario's cells carry them (online: batch; feedback: pathway and passes). */
function cell(scenario: CellResult["scenario"], x: string, rule: string, accs: number[], at: CellResult["at"] = atOf(x)): CellResult {
  const acc = accs.reduce((s, a) => s + a, 0) / accs.length;
  const tasks = accs.map((a) => ({ acc: a, loss: 1, diverged: false }));
  const run = { metaSeed: null, theta: { bp: 0.01 }, acc, acc_ci95: 0.01, loss: 1, loss_median: 1, diverged: 0, exploded: 0, weight_norm: 1, tasks };
  return { id: `${scenario}-${x}-${rule}`, at, key: "", scenario, x, rule, theta: { bp: 0.01 }, thetaSource: "fixed", acc, acc_ci95: 0.01, loss: 1, loss_median: 1, diverged: 0, exploded: 0, weight_norm: 1,
    tasks, runs: [run], diagnostics: [], seconds: 0 };
}

function atOf(x: string): CellResult["at"] {
  const batch = /^batch (\d+)$/.exec(x), passes = /(\d+) passes/.exec(x);
  return batch ? { batch: Number(batch[1]) } : x === "feedback alignment" ? { pathway: "fa", passes: 4 } : passes ? { pathway: "bp", passes: Number(passes[1]) } : {};
}

test("paired differences and verdicts follow the data", () => {
  const d = pairedDiff(cell("a", "batch 1", "bp+oja", [0.8, 0.9, 0.7, 0.85]).tasks, cell("a", "batch 1", "bp", [0.6, 0.7, 0.6, 0.65]).tasks);
  assert.ok(Math.abs(d.mean - 0.175) < 1e-12 && d.ci95 > 0);
  const holds = verdicts([cell("a", "batch 1", "bp", [0.6, 0.7, 0.6, 0.65]), cell("a", "batch 1", "bp+oja", [0.8, 0.9, 0.7, 0.85])]);
  assert.equal(holds[0].outcome, "holds");
  const fails = verdicts([cell("a", "batch 1", "bp", [0.8, 0.9, 0.7, 0.85]), cell("a", "batch 1", "bp+oja", [0.6, 0.7, 0.6, 0.65])]);
  assert.equal(fails[0].outcome, "refuted");
});

test("a cell's losses and failures count every meta seed's tasks, not the first seed's alone", () => {
  const c = cell("a", "batch 50", "bp+oja", [0.5, 0.4, 0.6, 0.5]);
  const bad = { ...c.runs[0], metaSeed: 1, diverged: 2, exploded: 1, weight_norm: 9,
    tasks: [{ acc: 0.2, loss: Math.log(5), diverged: true }, { acc: 0.2, loss: Math.log(5), diverged: true }, { acc: 0.2, loss: 1e30, diverged: false }, { acc: 0.5, loss: 3, diverged: false }] };
  const p = pooled({ ...c, runs: [{ ...c.runs[0], metaSeed: 0 }, bad] });
  assert.equal(p.diverged, 2);
  assert.equal(p.exploded, 1);
  assert.equal(p.loss, (4 * 1 + 2 * Math.log(5) + 1e30 + 3) / 8);
  assert.equal(p.loss_median, (1 + Math.log(5)) / 2); // sorted: 1, 1, 1, 1, ln 5, ln 5, 3, 1e30
  assert.equal(p.weight_norm, (4 * 1 + 2 * 9) / 6); // finite tasks only, weighted by their count
  assert.deepEqual(pooled(p), p); // idempotent: saved cells are pooled again on load
});

test("reproduce runs every cell, writes the report, and an interrupted run reuses finished cells", async () => {
  const out = mkdtempSync(join(tmpdir(), "np-rep-"));
  const o: ReproduceOptions = { out, quick: true, workers: 1, seed: 1, tasks: 2, diagTasks: 1, probe: 10, theta: { bp: 0.0068, oja: 0.0053 }, metaEpisodes: 0, dataset: "mnist", backend: "wasm", scarcityEpisodes: 2 };
  const grid = cells(o);
  // Interrupt after three cells, then run again: those three come from disk.
  let seen = 0;
  await assert.rejects(reproduce(o, () => { if (++seen === 3) throw new Error("interrupted"); }), /interrupted/);
  const firstCell = statSync(join(out, "cells", `${grid[0].id}.json`)).mtimeMs;
  const rs = await reproduce(o);
  assert.equal(rs.length, grid.length);
  assert.equal(statSync(join(out, "cells", `${grid[0].id}.json`)).mtimeMs, firstCell, "a finished cell is not recomputed");
  const vs = await writeReport(o, rs, { command: "test", seconds: 1 });
  const files = ["results.json", "results.csv", "diagnostics.csv", "summary.md", "index.html", "figures/c-accuracy.png"];
  const first = files.map((f) => readFileSync(join(out, f)));
  await writeReport(o, rs, { command: "test", seconds: 2 });
  files.forEach((f, i) => assert.ok(readFileSync(join(out, f)).equals(first[i]), `${f}: the same run gives the same bytes`));
  assert.ok(vs.length >= 5);
  for (const f of ["index.html", "summary.md", "results.json", "results.csv", "diagnostics.csv", "figures/a-accuracy.svg", "figures/a-accuracy.png", "figures/mech-pr.png"]) assert.ok(existsSync(join(out, f)), f);
  const html = readFileSync(join(out, "index.html"), "utf8");
  assert.match(html, /<svg/);
  assert.doesNotMatch(html, /<script|src="http|href="http/, "self-contained");
  // Every accuracy in the summary is a cell's.
  const csv = readFileSync(join(out, "results.csv"), "utf8").trim().split("\n");
  assert.equal(csv.length, grid.length + 1);
  // Changing a setting recomputes instead of reusing.
  const again = await reproduce({ ...o, theta: { bp: 0.005, oja: 0.0053 } });
  assert.equal(again[0].theta.bp, 0.005);
});

test("numbers a reader can read: three significant digits, scientific where large, 'diverged' never NaN", async () => {
  const { sig3, pct3, csvValue } = await import("../../src/report/format.js");
  assert.equal(sig3(3.39e30), "3.39e+30");
  assert.equal(sig3(85204426586161.53), "8.52e+13");
  assert.equal(sig3(0.95306), "0.953");
  assert.equal(sig3(53.05), "53.0");
  assert.equal(sig3(NaN), "diverged");
  assert.equal(pct3(0.7611), "76.1");
  assert.equal(csvValue(NaN), "");
});

// Every cell of the quick grid through meta-learning (one episode, a bracket of one task, one grid task): a cell
// kind that only the full run's meta-learning reached once crashed it hours in (Dale's law with the bracket's
// episodes without the gradient). Every cell must finish, and the meta-learned ones with finite θ.
test("reproduce with meta-learning runs every cell of the quick grid to a finite θ", async () => {
  const out = mkdtempSync(join(tmpdir(), "np-rep-meta-"));
  const o: ReproduceOptions = { out, quick: true, workers: 1, seed: 1, tasks: 2, diagTasks: 1, probe: 10, theta: { bp: 0.0068, oja: 0.0053 }, metaEpisodes: 1,
    dataset: "mnist", backend: "wasm", scarcityEpisodes: 1, transfer: "none", metaSeeds: 1, gridTasks: 1, bracket: 1 };
  const grid = cells(o);
  assert.ok(grid.some((c) => c.cfg.dale !== undefined && c.cfg.dale > 0), "the grid has Dale cells");
  const rs = await reproduce(o);
  assert.equal(rs.length, grid.length);
  const learned = rs.filter((r) => r.thetaSource === "meta-learned");
  assert.ok(learned.length > grid.length / 2, `most cells meta-learn θ (${learned.length} of ${grid.length})`);
  const finite = (v: number | number[] | undefined) => v !== undefined && (Array.isArray(v) ? v.every(Number.isFinite) : Number.isFinite(v));
  for (const r of learned) assert.ok(Object.values(r.theta).every(finite), `${r.id}: θ finite (${JSON.stringify(r.theta)})`);
});
