import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closePools } from "../src/experiments/pool.js";
import { cells, reproduce, type CellResult, type ReproduceOptions } from "../src/experiments/reproduce.js";
import { pairedDiff, verdicts, writeReport } from "../src/report/reproduce-report.js";

after(closePools);

function cell(scenario: CellResult["scenario"], x: string, rule: string, accs: number[]): CellResult {
  const acc = accs.reduce((s, a) => s + a, 0) / accs.length;
  const tasks = accs.map((a) => ({ acc: a, loss: 1, diverged: false }));
  const run = { metaSeed: null, theta: { bp: 0.01 }, acc, acc_ci95: 0.01, loss: 1, loss_median: 1, diverged: 0, exploded: 0, weight_norm: 1, tasks };
  return { id: `${scenario}-${x}-${rule}`, key: "", scenario, x, rule, theta: { bp: 0.01 }, thetaSource: "fixed", acc, acc_ci95: 0.01, loss: 1, loss_median: 1, diverged: 0, exploded: 0, weight_norm: 1,
    tasks, runs: [run], diagnostics: [], seconds: 0 };
}

test("paired differences and verdicts follow the data", () => {
  const d = pairedDiff(cell("a", "batch 1", "bp+oja", [0.8, 0.9, 0.7, 0.85]), cell("a", "batch 1", "bp", [0.6, 0.7, 0.6, 0.65]));
  assert.ok(Math.abs(d.mean - 0.175) < 1e-12 && d.ci95 > 0);
  const holds = verdicts([cell("a", "batch 1", "bp", [0.6, 0.7, 0.6, 0.65]), cell("a", "batch 1", "bp+oja", [0.8, 0.9, 0.7, 0.85])]);
  assert.equal(holds[0].holds, true);
  const fails = verdicts([cell("a", "batch 1", "bp", [0.8, 0.9, 0.7, 0.85]), cell("a", "batch 1", "bp+oja", [0.6, 0.7, 0.6, 0.65])]);
  assert.equal(fails[0].holds, false);
});

test("reproduce runs every cell, writes the report, and an interrupted run reuses finished cells", async () => {
  const out = mkdtempSync(join(tmpdir(), "np-rep-"));
  const o: ReproduceOptions = { out, quick: true, workers: 1, seed: 1, tasks: 2, diagTasks: 1, probe: 10, theta: { bp: 0.0068, oja: 0.0053 }, metaEpisodes: 0, dataset: "mnist", backend: "wasm" };
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
