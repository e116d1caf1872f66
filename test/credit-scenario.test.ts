// The credit-assignment reproduce scenario (issue 25, item 4), not yet registered: its cells and their typed
// coordinates, its per-condition verdicts on synthetic cells, and its figures as valid vega-lite.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../src/experiments/task.js";
import { toSvg } from "../src/report/plot.js";
import { Lookup } from "../src/reproduce/scenario.js";
import { credit, CREDIT_ID, CREDIT_PATHWAYS } from "../src/reproduce/scenarios/credit.js";
import type { At, CellResult, ReproduceOptions } from "../src/reproduce/types.js";

const opts = (quick: boolean) => ({ quick }) as unknown as ReproduceOptions;

test("cells: every pathway × {free, Dale 0.8} × {1, 10} passes × {bp, bp+oja}, with typed coordinates and the configuration they say", () => {
  const cs = credit.cells(opts(false), DEFAULT_CONFIG);
  assert.equal(cs.length, 4 * 2 * 2 * 2);
  assert.equal(new Set(cs.map((c) => c.id)).size, cs.length, "ids are unique");
  for (const c of cs) {
    assert.equal(c.scenario, CREDIT_ID);
    assert.deepEqual(Object.keys(c.at).sort(), ["dale", "passes", "pathway"]);
    assert.equal(typeof c.at.dale, "number");
    assert.equal(c.cfg.epochs, c.at.passes);
    assert.equal(c.cfg.feedback, CREDIT_PATHWAYS.find((p) => p.pathway === c.at.pathway)!.feedback);
    assert.equal(c.cfg.dale, c.at.dale === 0 ? undefined : c.at.dale);
    assert.ok(!("dale" in c.cfg) || c.at.dale !== 0, "no dale key when unconstrained (cell keys of free runs unchanged)");
  }
  assert.deepEqual([...new Set(credit.cells(opts(true), DEFAULT_CONFIG).map((c) => c.at.passes))], [1, 4]);
});

/** A synthetic cell at `at`: per-task accuracies, and Σ‖W‖ going from 10 to `endNorm` over training. */
function cell(at: At, rule: string, accs: number[], endNorm: number, diverged = 0): CellResult {
  const acc = accs.reduce((s, a) => s + a, 0) / accs.length, tasks = accs.map((a) => ({ acc: a, loss: 1, diverged: false }));
  const run = { metaSeed: null, theta: { bp: 0.01 }, acc, acc_ci95: 0.01, loss: 1, loss_median: 1, diverged, exploded: 0, weight_norm: 1, tasks };
  const layer = (l: number, w: number) => ({ l, pr: 1, actNorm: 1, errNorm: 1, weightNorm: w, orthoErr: 0, faAngle: at.pathway === "bp" ? null : 40 + l,
    ...(Number(at.dale) > 0 ? { daleBoundary: 0.1 * l } : {}) });
  return {
    id: `h-${JSON.stringify(at)}-${rule}`, at, key: "", scenario: CREDIT_ID, x: "", rule, theta: { bp: 0.01 }, thetaSource: "fixed", acc, acc_ci95: 0.01,
    loss: 1, loss_median: 1, diverged, exploded: 0, weight_norm: 1, tasks, runs: [run], seconds: 0,
    diagnostics: [{ step: 0, layers: [layer(1, 5), layer(2, 5)] }, { step: 100, layers: [layer(1, endNorm / 2), layer(2, endNorm / 2)] }],
  };
}

const better = [0.8, 0.85, 0.9, 0.8, 0.85, 0.9], worse = [0.5, 0.55, 0.6, 0.5, 0.55, 0.6];

test("verdicts: one per condition, deciding with the paired rule, and over many passes requiring Oja to stabilize the weights", () => {
  const conds: [At, number[], number[], number, number, string][] = [
    // at, pure accs, + Oja accs, pure end norm, + Oja end norm, expected
    [{ pathway: "fa", dale: 0, passes: 10 }, worse, better, 100, 12, "holds"],
    [{ pathway: "dfa", dale: 0.8, passes: 10 }, worse, better, 11, 12, "inconclusive"], // better, but does not stabilize
    [{ pathway: "sign", dale: 0, passes: 1 }, better, worse, 10, 10, "refuted"],
    [{ pathway: "bp", dale: 0.8, passes: 10 }, worse, better, 10, 12, "holds"], // backprop: no stabilization condition
    [{ pathway: "sign", dale: 0.8, passes: 4 }, better, worse, 10, 10, "inconclusive"], // a quick run never refutes many passes
  ];
  const cs = conds.flatMap(([at, p, o, n1, n2]) => [cell(at, "bp", p, n1), cell(at, "bp+oja", o, n2)]);
  const vs = credit.verdicts(new Lookup(cs), {});
  assert.equal(vs.length, conds.length);
  vs.forEach((v, i) => {
    assert.equal(v.outcome, conds[i][5], `${v.claim}: ${v.evidence}`);
    assert.equal(v.scenario, CREDIT_ID);
  });
  assert.match(vs[0].claim, /FA, 10 passes: \+ Oja stabilizes the weights and beats the pure rule/);
  assert.match(vs[1].claim, /DFA, Dale 0\.8, 10 passes/);
  assert.match(vs[4].evidence, /Only 4 passes: too few to refute/);
  // A condition missing a rule gives no verdict.
  assert.equal(credit.verdicts(new Lookup(cs.slice(1)), {}).length, conds.length - 1);
});

test("figures: accuracy, Σ‖W‖, the pathways' angles and Dale's boundary render as vega-lite", async () => {
  const cs = [cell({ pathway: "fa", dale: 0.8, passes: 10 }, "bp", worse, 50), cell({ pathway: "fa", dale: 0.8, passes: 10 }, "bp+oja", better, 12)];
  const figs = credit.figures(new Lookup(cs));
  assert.deepEqual(figs.map((f) => f.name), ["h-accuracy", "h-norms", "h-angles", "h-dale"]);
  const dale = (figs[3].spec.data as { values: { value: number }[] }).values;
  assert.deepEqual([...new Set(dale.map((r) => r.value))].sort(), [0.1, 0.2]);
  for (const f of figs.slice(1)) assert.match(await toSvg(f.spec), /^<svg/);
});
