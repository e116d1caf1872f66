import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { cellKey, cells, gridCovers, tuningConfig, tuneOf, type CellResult, type ReproduceOptions } from "../src/reproduce/run.js";
import { claim, claimOutcome, conditionOf, decide, intervalOf, MIN_EFFECT, probit, tQuantile, type Condition } from "../src/reproduce/stats.js";
import { verdicts, verdictsJson } from "../src/reproduce/verdicts.js";
import { DEFAULT_CONFIG } from "../src/experiments/task.js";

/**
 * Issue 28: one decision rule (holds iff lo > t, refuted iff hi < t), one verdict per condition, premises checked,
 * Bonferroni within a claim, verdicts.json consistent with its intervals, and tuning under the scoring protocol.
 */

/** A synthetic cell of n tasks whose accuracies are `mean` plus a fixed zero-mean wobble (so the spread is known). */
function cell(scenario: CellResult["scenario"], rule: string, at: CellResult["at"], mean: number, n = 40, wobble = 0.05, seeds = 1): CellResult {
  const accs = (m: number) => Array.from({ length: n }, (_, i) => m + (i % 2 ? wobble : -wobble) * ((i % 5) / 4));
  const run = (m: number, s: number | null) => {
    const tasks = accs(m).map((acc) => ({ acc, loss: 1, diverged: false }));
    return { metaSeed: s, theta: { bp: 0.01 }, acc: m, acc_ci95: 0.01, loss: 1, loss_median: 1, diverged: 0, exploded: 0, weight_norm: 1, tasks };
  };
  const runs = Array.from({ length: seeds }, (_, s) => run(mean + s * 0.001, seeds > 1 ? s : null));
  return { id: `${scenario}-${JSON.stringify(at)}-${rule}`, at, key: "", scenario, x: JSON.stringify(at), rule, theta: { bp: 0.01 }, thetaSource: "fixed",
    acc: mean, acc_ci95: 0.01, loss: 1, loss_median: 1, diverged: 0, exploded: 0, weight_norm: 1, tasks: runs[0].tasks, runs, diagnostics: [], seconds: 0 };
}

test("the decision rule: no interval both holds and refutes; boundaries are strict", () => {
  const t = MIN_EFFECT;
  assert.equal(decide(0.002, 0.009, t), "refuted", "[+0.2, +0.9] points lies below the minimum effect: refuted, not holds");
  assert.equal(decide(0.011, 0.03, t), "holds");
  assert.equal(decide(0.005, 0.02, t), "inconclusive", "contains the threshold");
  assert.equal(decide(t, 0.02, t), "inconclusive", "lo = t is not above t");
  assert.equal(decide(-0.02, t, t), "inconclusive", "hi = t is not below t");
  assert.equal(decide(NaN, NaN, t), "inconclusive", "no interval (one task): never decided");
  fc.assert(
    fc.property(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: -0.1, max: 0.1, noNaN: true }), (lo, w, th) => {
      const v = decide(lo, lo + w, th);
      return (v === "holds") === (lo > th) && (v === "refuted") === (lo + w < th);
    }),
  );
});

test("quantiles: the normal and Student-t quantiles the intervals use", () => {
  assert.ok(Math.abs(probit(0.975) - 1.959964) < 1e-6);
  assert.ok(Math.abs(probit(0.025) + 1.959964) < 1e-6);
  assert.ok(Math.abs(probit(0.99875) - 3.023341) < 1e-5);
  // Student-t quantiles (ν, p, value) from SciPy's stats.t.ppf, at the levels Bonferroni gives (0.05/16 two-sided and beyond).
  for (const [nu, p, q] of [[9, 0.975, 2.262157], [39, 0.975, 2.022691], [199, 0.975, 1.971957], [9, 0.9984375, 3.996902], [39, 0.99375, 2.618864], [4, 0.99, 3.746947], [9, 0.999, 4.296806]] as const) {
    assert.ok(Math.abs(tQuantile(p, nu) - q) / q < 1.1e-3, `t(${p}, ${nu}) = ${tQuantile(p, nu)} vs ${q}`);
  }
});

test("per-condition verdicts on synthetic cells: opposite signs are never pooled", () => {
  // Depth: bp + Oja far better at 8 and 12 layers, worse at 4, both at chance at 16.
  const rs = [
    cell("b", "bp", { depth: 2 }, 0.8), cell("b", "bp+oja", { depth: 2 }, 0.8),
    cell("b", "bp", { depth: 4 }, 0.7), cell("b", "bp+oja", { depth: 4 }, 0.6),
    cell("b", "bp", { depth: 8 }, 0.3), cell("b", "bp+oja", { depth: 8 }, 0.6),
    cell("b", "bp", { depth: 12 }, 0.25), cell("b", "bp+oja", { depth: 12 }, 0.5),
    cell("b", "bp", { depth: 16 }, 0.2), cell("b", "bp+oja", { depth: 16 }, 0.2),
  ];
  const v = verdicts(rs).find((x) => x.scenario === "b")!;
  const by = Object.fromEntries(v.conditions.map((c) => [c.name, c.verdict]));
  assert.deepEqual(by, { "4 layers": "refuted", "8 layers": "holds", "12 layers": "holds", "16 layers": "refuted" });
  assert.equal(v.outcome, "inconclusive", "holds at some conditions, refuted at others: the claim as a whole is not established");
  assert.match(v.evidence, /^Holds at 8 layers and 12 layers; refuted at 4 layers and 16 layers/);
  assert.equal(v.conditions.find((c) => c.name === "16 layers")!.note, "both at chance");
  // Pooling 4 (−10) and 8 (+30) would have said "holds"; per condition it does not.
  assert.notEqual(v.outcome, "holds");
});

test("premises: where pure backprop does not fail, the condition says premise fails", () => {
  // Gain 2: bp better than at gain 1 (no failure to recover from); gain 4: bp fails, bp + Oja diverges (worse).
  const rs = [
    cell("c", "bp", { gain: 1 }, 0.76), cell("c", "bp+oja", { gain: 1 }, 0.77),
    cell("c", "bp", { gain: 2 }, 0.787), cell("c", "bp+oja", { gain: 2 }, 0.8),
    cell("c", "bp", { gain: 4 }, 0.66), cell("c", "bp+oja", { gain: 4 }, 0.2),
  ];
  const v = verdicts(rs).find((x) => x.claim.startsWith("3b"))!;
  const g2 = v.conditions.find((c) => c.name === "gain 2")!, g4 = v.conditions.find((c) => c.name === "gain 4")!;
  assert.equal(g2.verdict, "premise-fails");
  assert.equal(g2.premise!.shown, false);
  assert.equal(g4.premise!.shown, true);
  assert.equal(g4.verdict, "refuted", "a clear negative result, not inconclusive");
  assert.equal(v.outcome, "refuted");
  assert.equal(claimOutcome([{ verdict: "premise-fails" }, { verdict: "premise-fails" }] as Condition[]), "premise-fails");
});

test("seeds: a condition's interval is the hull of its seeds', and it holds only if every seed holds", () => {
  const a = cell("a", "bp+oja", { batch: 1 }, 0.8, 40, 0.05, 3), b = cell("a", "bp", { batch: 1 }, 0.7);
  // Seed 2 of bp + Oja loses its advantage.
  a.runs[2] = { ...a.runs[2], tasks: b.runs[0].tasks.map((t) => ({ ...t })) };
  const v = verdicts([b, a]).find((x) => x.scenario === "a")!;
  const c = v.conditions[0];
  assert.equal(c.seeds.length, 3);
  assert.equal(c.lo, Math.min(...c.seeds.map((s) => s.lo)));
  assert.equal(c.hi, Math.max(...c.seeds.map((s) => s.hi)));
  assert.equal(c.verdict, "inconclusive");
});

test("Bonferroni: more conditions in a claim widen each interval", () => {
  const a = Array.from({ length: 30 }, (_, i) => 0.5 + (i % 3) * 0.01), b = a.map((x, i) => x - 0.02 - (i % 2) * 0.01);
  const one = claim({ scenario: "a", claim: "x", rule: "superiority", covers: "" }, [{ name: "c", pairs: [[a, b]] }]);
  const five = claim({ scenario: "a", claim: "x", rule: "superiority", covers: "" }, Array.from({ length: 5 }, (_, i) => ({ name: `c${i}`, pairs: [[a, b]] as [number[], number[]][] })));
  assert.equal(five.level, one.level / 5);
  assert.ok(five.conditions[0].hi - five.conditions[0].lo > one.conditions[0].hi - one.conditions[0].lo);
  // Context conditions are shown but neither counted nor part of the Bonferroni count.
  const ctx = claim({ scenario: "a", claim: "x", rule: "superiority", covers: "" }, [{ name: "c", pairs: [[a, b]] }, { name: "k", pairs: [[b, a]], context: true }]);
  assert.equal(ctx.level, one.level);
  assert.equal(ctx.outcome, one.outcome);
});

test("verdicts.json: every condition's verdict follows from its interval by the stated rule (generated cells)", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.double({ min: 0.2, max: 0.9, noNaN: true }), fc.double({ min: -0.2, max: 0.2, noNaN: true })), { minLength: 2, maxLength: 5 }), (spec) => {
      const rs = spec.flatMap(([m, d], i) => [cell("b", "bp", { depth: 2 + 2 * i }, m, 20), cell("b", "bp+oja", { depth: 2 + 2 * i }, Math.min(1, Math.max(0, m + d)), 20)]);
      const j = verdictsJson(verdicts(rs));
      for (const cl of j.claims) {
        for (const c of cl.conditions) {
          if (c.verdict === "premise-fails") { assert.ok(!(c.premise!.lo > MIN_EFFECT)); continue; }
          assert.equal(c.verdict, decide(c.lo, c.hi, cl.minEffect), `${cl.claim} ${c.name}`);
          if (c.premise) assert.ok(c.premise.lo > MIN_EFFECT);
        }
        assert.equal(cl.verdict, claimOutcome(cl.conditions as Condition[]));
        assert.ok(["holds", "refuted", "inconclusive", "premise-fails"].includes(cl.verdict));
      }
    }),
    { numRuns: 40 },
  );
});

test("an interval with one task is undecided, and conditionOf keeps the premise's interval", () => {
  assert.ok(Number.isNaN(intervalOf([0.5], [0.4], 0.05).lo));
  const c = conditionOf({ name: "x", pairs: [[[0.9, 0.91, 0.92], [0.5, 0.51, 0.52]]], premise: { text: "p", pairs: [[[0.5, 0.5, 0.51], [0.5, 0.51, 0.5]]] } }, "superiority", 0.05);
  assert.equal(c.verdict, "premise-fails");
  assert.ok(Number.isFinite(c.premise!.lo));
});

test("tuning protocol: every cell is tuned with its own passes, batch, network and data regime", () => {
  const o: ReproduceOptions = { out: "", quick: false, workers: 1, seed: 1, tasks: 200, diagTasks: 10, probe: 100, theta: { bp: 0.0068, oja: 0.0053 }, metaEpisodes: 100,
    metaSeeds: 3, gridTasks: 40, dataset: "mnist", backend: "wasm" };
  const cs = cells(o);
  for (const c of cs) {
    const t = tuningConfig(c);
    assert.equal(t.epochs, c.cfg.epochs, `${c.id}: passes`);
    assert.equal(t.batch, c.cfg.batch, `${c.id}: batch`);
    assert.deepEqual(t.hidden, c.cfg.hidden, `${c.id}: network`);
    assert.equal(t.shots, c.cfg.shots, `${c.id}: data regime`);
    assert.equal(t.feedback, c.cfg.feedback, `${c.id}: pathway`);
    assert.equal(t.split, "train", `${c.id}: tuned on the train split`);
  }
  // The 10-pass feedback-alignment cells are tuned on 10 passes.
  const fa = cs.filter((c) => c.scenario === "e" && c.cfg.feedback === "random");
  assert.ok(fa.length >= 2 && fa.every((c) => tuningConfig(c).epochs === 10));
  // Baselines meta-learning cannot differentiate through are tuned on the grid; the matched controls are not tuned.
  const adam = cs.find((c) => c.cfg.optimizer === "adam")!, matched = cs.filter((c) => c.at.control === "matched step");
  assert.equal(tuneOf(adam, o), "grid");
  assert.equal(matched.length, 2);
  assert.ok(matched.every((c) => tuneOf(c, o) === "none" && c.theta!.bp === o.theta.bp));
  assert.ok(cs.some((c) => c.published?.episodes === 600 && c.at.control === "published protocol"));
  assert.deepEqual(DEFAULT_CONFIG.epochs ?? 1, 1);
});

test("scenario selection: the default run leaves out the opt-in rule-discovery scenario; --scenarios picks any", () => {
  const o: ReproduceOptions = { out: "", quick: true, workers: 1, seed: 1, tasks: 2, diagTasks: 1, probe: 10, theta: { bp: 0.0068, oja: 0.0053 }, metaEpisodes: 0,
    dataset: "mnist", backend: "wasm" };
  const all = new Set(cells(o).map((c) => c.scenario));
  assert.ok(!all.has("i") && all.has("h") && all.has("a"));
  const only = cells({ ...o, scenarios: ["i", "a"] });
  assert.deepEqual([...new Set(only.map((c) => c.scenario))], ["a", "i"], "in the table's order");
  assert.ok(only.filter((c) => c.scenario === "i").some((c) => c.rule === "taylor"));
});

test("protocol 3: tuning has task streams of its own; the grid replaces θ only for rules it spans; ablations tuned as their references", () => {
  const o: ReproduceOptions = { out: "", quick: false, workers: 1, seed: 1, tasks: 200, diagTasks: 10, probe: 100, theta: { bp: 0.0068, oja: 0.0053 }, metaEpisodes: 100,
    metaSeeds: 3, gridTasks: 40, dataset: "mnist", backend: "wasm" };
  const cs = cells(o);
  for (const c of cs) assert.notEqual(tuningConfig(c).seed, c.cfg.seed, `${c.id}: tuning never draws the scoring tasks' streams`);
  const start = { bp: 0.0068, oja: 0.0053 };
  assert.ok(gridCovers(["bp"], start) && gridCovers(["bp", "oja"], start));
  assert.ok(!gridCovers(["bp", "decay"], start) && !gridCovers(["bp", "oja", "hebb"], start) && !gridCovers(["bp", "oja"], { bp: 0.0068 }));
  const key = (c: (typeof cs)[0]) => JSON.parse(cellKey(c, o)) as { episodes: number; l1: number };
  const g = cs.filter((c) => c.scenario === "g" && c.at.K === 5);
  const pool = g.find((c) => c.rule === "pool" && !c.at.control)!, bp = g.find((c) => c.rule === "bp" && !c.at.control)!;
  const noDecay = g.find((c) => c.rule === "pool-decay")!, decayOnly = g.find((c) => c.rule === "bp+decay")!;
  assert.equal(key(noDecay).episodes, key(pool).episodes);
  assert.equal(key(decayOnly).episodes, key(bp).episodes);
  assert.equal(key(noDecay).l1, key(pool).l1, "the pool without decay keeps the pool's penalty");
  assert.equal(key(decayOnly).l1, key(bp).l1, "bp + decay is penalized as bp is (not at all)");
  // Some cells are the same computation under another scenario's name: the run computes each key once.
  assert.ok(new Set(cs.map((c) => cellKey(c, o))).size < cs.length);
});

test("an untuned side (the grid's unbracketed edge) bars refuting the claimed side and holding against the other", () => {
  const hi = [[[0.9, 0.92, 0.91, 0.93], [0.5, 0.52, 0.51, 0.5]]] as [number[], number[]][];
  const lo = [[[0.5, 0.52, 0.51, 0.5], [0.9, 0.92, 0.91, 0.93]]] as [number[], number[]][];
  assert.equal(conditionOf({ name: "x", pairs: hi }, "superiority", 0.05).verdict, "holds");
  assert.equal(conditionOf({ name: "x", pairs: hi, untuned: { claimed: false, other: true } }, "superiority", 0.05).verdict, "inconclusive");
  assert.equal(conditionOf({ name: "x", pairs: hi, untuned: { claimed: true, other: false } }, "superiority", 0.05).verdict, "holds");
  assert.equal(conditionOf({ name: "x", pairs: lo }, "superiority", 0.05).verdict, "refuted");
  const barred = conditionOf({ name: "x", pairs: lo, untuned: { claimed: true, other: false } }, "superiority", 0.05);
  assert.equal(barred.verdict, "inconclusive");
  assert.match(barred.note!, /unbracketed edge/);
});
