// The credit-assignment reproduce scenario (issue 25, item 4): its cells and their typed
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
  assert.deepEqual([...new Set(credit.cells(opts(true), DEFAULT_CONFIG).map((c) => c.at.passes))], [1], "a --quick run keeps one pass");
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

test("verdicts: one claim per pathway, one condition per constraint and passes, each decided by the report's rule", () => {
  const conds: [At, number[], number[], string][] = [
    // at, pure accs, + Oja accs, expected condition verdict
    [{ pathway: "fa", dale: 0, passes: 10 }, worse, better, "holds"],
    [{ pathway: "fa", dale: 0.8, passes: 10 }, better, worse, "refuted"],
    [{ pathway: "dfa", dale: 0.8, passes: 10 }, worse, better, "holds"],
    [{ pathway: "sign", dale: 0, passes: 1 }, better, worse, "refuted"],
    [{ pathway: "bp", dale: 0.8, passes: 10 }, worse, better, "holds"],
  ];
  const cs = conds.flatMap(([at, p, o]) => [cell(at, "bp", p, 100), cell(at, "bp+oja", o, 12)]);
  const vs = credit.verdicts(new Lookup(cs), {});
  assert.deepEqual(vs.map((v) => v.claim.slice(0, 3)), ["5b.", "5c.", "5d.", "5e."]);
  const by = Object.fromEntries(vs.flatMap((v) => v.conditions.map((c) => [`${v.claim.slice(0, 2)} ${c.name}`, c.verdict])));
  assert.equal(Object.keys(by).length, conds.length, "one condition per condition given");
  assert.equal(by["5c no constraint, 10 passes"], "holds");
  assert.equal(by["5c Dale 0.8, 10 passes"], "refuted");
  assert.equal(by["5d Dale 0.8, 10 passes"], "holds");
  assert.equal(by["5e no constraint, 1 pass"], "refuted");
  assert.equal(by["5b Dale 0.8, 10 passes"], "holds");
  // FA: one condition holds, one refuted: the claim is not established, and its sentence says where.
  const fa = vs.find((v) => v.claim.startsWith("5c"))!;
  assert.equal(fa.outcome, "inconclusive");
  assert.match(fa.evidence, /^Holds at no constraint, 10 passes; refuted at Dale 0\.8, 10 passes/);
  assert.match(fa.evidence, /Σ‖W‖ ×10\.0 vs ×1\.20 over training/);
  // A condition missing a rule gives no condition.
  assert.equal(credit.verdicts(new Lookup(cs.slice(1)), {}).find((v) => v.claim.startsWith("5c"))!.conditions.length, 1);
});

test("figures: accuracy, Σ‖W‖, the pathways' angles and Dale's boundary render as vega-lite", async () => {
  const cs = [cell({ pathway: "fa", dale: 0.8, passes: 10 }, "bp", worse, 50), cell({ pathway: "fa", dale: 0.8, passes: 10 }, "bp+oja", better, 12)];
  const figs = credit.figures(new Lookup(cs));
  assert.deepEqual(figs.map((f) => f.name), ["h-accuracy", "h-norms", "h-angles", "h-dale"]);
  const dale = (figs[3].spec.data as { values: { value: number }[] }).values;
  assert.deepEqual([...new Set(dale.map((r) => r.value))].sort(), [0.1, 0.2]);
  for (const f of figs.slice(1)) assert.match(await toSvg(f.spec), /^<svg/);
});
