/**
 * A cell's bytes do not depend on how many worker threads computed it: computeCell meta-learns its seeds at once,
 * their episodes' jobs shared by the threads (src/reproduce/run.ts), and each job is a pure function of its inputs.
 * One cell of scenario a under the robust loop with two seeds, the bracket and the grid, in one thread and in two.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { closePools } from "../src/experiments/pool.js";
import { cells, computeCell, type ReproduceOptions } from "../src/reproduce/run.js";

after(closePools);

test("reproduce: a meta-learned cell with two seeds is the same bytes on one worker thread and on two", async () => {
  const base: ReproduceOptions = { out: "", scenarios: ["a"], quick: true, workers: 1, seed: 1, tasks: 2, diagTasks: 1, probe: 10,
    theta: { bp: 0.0068, oja: 0.0053 }, metaEpisodes: 3, metaSeeds: 2, gridTasks: 2, bracket: 2, dataset: "mnist", backend: "wasm", transfer: "none" };
  const cell = cells(base).find((c) => c.rule === "bp+oja" && c.tune === undefined && !c.published && !c.at.control)!;
  assert.ok(cell, "scenario a has a bp + Oja cell");
  // Timing is the only field allowed to differ.
  const strip = (r: Awaited<ReturnType<typeof computeCell>>) => JSON.stringify({ ...r, seconds: 0 });
  const one = await computeCell(cell, base);
  const two = await computeCell(cell, { ...base, workers: 2 });
  assert.equal(one.metaRuns!.length, 2, "two meta seeds scored");
  assert.notDeepEqual(one.metaRuns![0].theta, one.metaRuns![1].theta, "the seeds learned different θ (so the order of their results matters)");
  assert.equal(strip(two), strip(one));
});
