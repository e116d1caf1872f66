import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../src/experiments/task.js";
import { toSvg } from "../src/report/plot.js";
import { Lookup } from "../src/reproduce/scenario.js";
import { discoveredRule, discovery, DISCOVERY_LEARN, survivors } from "../src/reproduce/scenarios/discovery.js";
import type { CellResult, ReproduceOptions } from "../src/reproduce/types.js";
import type { ThetaSpec } from "../src/rules/rule.js";

// Scenario h (rule discovery, issue 27 item 4) on synthetic cells: its grid, its verdicts under the decision rule, what it reports as learned.
const TAYLOR: ThetaSpec = { bp: 0.005, t_110: 0.002, t_011: -0.0009, t_012: 0.00001, t_200: 0 };

function cell(K: number, rule: string, accs: number[], theta: ThetaSpec = { bp: 0.01 }): CellResult {
  const acc = accs.reduce((s, a) => s + a, 0) / accs.length, tasks = accs.map((a) => ({ acc: a, loss: 1, diverged: false }));
  const run = { metaSeed: 0, theta, acc, acc_ci95: 0.01, loss: 1, loss_median: 1, diverged: 0, exploded: 0, weight_norm: 1, tasks };
  return { id: `i-K_${K}-${rule}`, at: { K }, key: "", scenario: discovery.id, x: `K = ${K}`, rule, theta, thetaSource: "meta-learned", acc,
    acc_ci95: 0.01, loss: 1, loss_median: 1, diverged: 0, exploded: 0, weight_norm: 1, tasks, runs: [run], diagnostics: [], seconds: 0 };
}
const base = [0.6, 0.7, 0.65, 0.62, 0.68, 0.66];
const plus = (d: number, noise = 0.002) => base.map((a, i) => a + d + (i % 2 ? noise : -noise));
function grid(taylor: number, noise = 0.002): CellResult[] {
  return [5, 50].flatMap((K) => [cell(K, "bp", plus(-0.1)), cell(K, "bp+oja", base), cell(K, "pool", plus(0.005)), cell(K, "taylor", plus(taylor, noise), TAYLOR)]);
}

test("scenario h: bp, bp + Oja, the pool and the Taylor family at K = 5 and 50, always meta-learned, typed coordinates", () => {
  const o = { quick: false, tasks: 10 } as ReproduceOptions, cs = discovery.cells(o, DEFAULT_CONFIG);
  assert.deepEqual(cs.map((c) => `${c.at.K}:${c.rule}:${c.cfg.shots}`), ["5:bp:5", "5:bp+oja:5", "5:pool:5", "5:taylor:5", "50:bp:50", "50:bp+oja:50",
    "50:pool:50", "50:taylor:50"]);
  assert.equal(new Set(cs.map((c) => c.id)).size, cs.length);
  assert.ok(cs.every((c) => c.scarcity !== undefined && c.scenario === discovery.id));
  const taylor = DISCOVERY_LEARN.taylor();
  assert.equal(taylor.length, 27);
  assert.deepEqual(taylor.slice(0, 3), ["bp", "t_001", "t_002"]);
  assert.deepEqual(DISCOVERY_LEARN["bp+oja"](), ["bp", "oja"]);
});

test("scenario h verdict: one non-inferiority claim, a condition per K and reference, decided by the report's rule", () => {
  const v = (d: number, noise = 0.0005) => {
    const out = discovery.verdicts(new Lookup(grid(d, noise)), {});
    assert.equal(out.length, 1);
    return out[0];
  };
  const verdicts = (x: ReturnType<typeof v>) => x.conditions.map((c) => `${c.name}: ${c.context ? "context" : c.verdict}`);
  const level = v(0.004), behind = v(-0.08), poolOnly = v(-0.0185), wide = v(0, 0.05);
  assert.equal(level.rule, "non-inferiority");
  assert.equal(level.outcome, "holds");
  assert.deepEqual(verdicts(level), ["K = 5 (Taylor − bp + Oja): holds", "K = 5 (Taylor − pool): holds", "K = 5 (Taylor − bp): context",
    "K = 50 (Taylor − bp + Oja): holds", "K = 50 (Taylor − pool): holds", "K = 50 (Taylor − bp): context"]);
  // Bonferroni over the 4 counted conditions (the Taylor − bp rows are shown, not counted).
  assert.equal(level.level, 0.05 / 4);
  assert.equal(behind.outcome, "refuted");
  // 1.85 points behind bp + Oja is within the 2-point margin, 2.35 behind the pool is not: holds there, refuted here: inconclusive.
  assert.equal(poolOnly.outcome, "inconclusive");
  assert.deepEqual(verdicts(poolOnly).filter((x) => !x.endsWith("context")), ["K = 5 (Taylor − bp + Oja): holds", "K = 5 (Taylor − pool): refuted",
    "K = 50 (Taylor − bp + Oja): holds", "K = 50 (Taylor − pool): refuted"]);
  assert.equal(wide.outcome, "inconclusive");
  assert.ok(wide.conditions.filter((c) => !c.context).every((c) => c.verdict === "inconclusive"));
  // What it learned: the surviving terms as one formula (t_012 and t_200 below 2% of the largest |θ| are left out).
  assert.match(level.evidence, /K = 5: Taylor \d+\.\d%, bp \d+\.\d%, bp \+ Oja \d+\.\d%, pool \d+\.\d%; learned ΔW = 0\.005 · \(-e \* pre\) \+ 0\.002 · \(pre \* post\) − 0\.0009 · \(post \* W\)/);
  assert.match(level.covers, /K = 5, 50/);
  // A missing cell: no verdict rather than a wrong one.
  assert.deepEqual(discovery.verdicts(new Lookup(grid(0).filter((c) => c.rule !== "pool")), {}), []);
});

test("scenario h: survivors and the discovered rule (per-layer θ too); its figures render", async () => {
  assert.deepEqual(survivors(TAYLOR), ["bp", "t_110", "t_011"]);
  assert.equal(discoveredRule({ bp: [0.004, 0.003], t_100: [-0.001, -0.002] }), "ΔW = 0.004:0.003 · (-e * pre) − 0.001:0.002 · (pre)");
  assert.equal(discoveredRule({ bp: 0 }), "ΔW = 0");
  const figs = discovery.figures(new Lookup(grid(0)));
  assert.deepEqual(figs.map((f) => f.name), ["i-accuracy", "i-theta"]);
  for (const f of figs) assert.match(await toSvg(f.spec), /^<svg/);
  assert.match(discovery.note!.text({ metaEpisodes: 40 } as ReproduceOptions, new Lookup(grid(0))), /K = 5, 50 .*40 episodes.*26 terms/);
});
