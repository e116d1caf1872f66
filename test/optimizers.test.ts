import assert from "node:assert/strict";
import { test } from "node:test";
import { Online, MeanOver, type UpdateTransform } from "../src/learn/transforms.js";
import { optimizerOf, registerOptimizer, type OptimizerModule } from "../src/learn/optimizers.js";
import type { SitePlasticity } from "../src/learn/plasticity.js";
import { DEFAULT_CONFIG, freshStep, runTask, checkConfig, type RunConfig } from "../src/experiments/task.js";
import { runEpisode } from "../src/experiments/episode.js";
import { tinyData } from "./helpers.js";

/**
 * A test-only optimizer whose take() matters: it halves every factor of the bp term before it lands
 * (ΔW = ½θ_bp·(−e yᵀ) + the other terms). The planners must not let a fast step skip take(), and
 * must refuse tangents through it: they ask the module, never the name.
 */
class HalfBp implements UpdateTransform {
  readonly differentiable = false;
  constructor(private readonly inner: Online | MeanOver) {}
  get scale(): number { return this.inner.scale; }
  get pending(): number { return this.inner.pending; }
  targetW(l: number) { return this.inner.targetW(l); }
  targetB(l: number) { return this.inner.targetB(l); }
  take(pl: SitePlasticity): void { const k = pl.act.findIndex((a) => a.name === "bp"); if (k >= 0) pl.s[k] *= 0.5; }
  endExample(): boolean { return this.inner.endExample(); }
  finish(): void { this.inner.finish(); }
}
const half: OptimizerModule = { name: "test-half-bp", title: "half-bp (test)", help: "test only", make: (_n, _r, _p, inner) => new HalfBp(inner), fusable: false, differentiable: false };
/** A test-only optimizer that is SGD under another name: fusable and differentiable, so it takes the fast paths. */
const alias: OptimizerModule = { name: "test-sgd-alias", title: "SGD alias (test)", help: "test only", make: (_n, _r, _p, inner) => inner, fusable: true, differentiable: true };
registerOptimizer(half);
registerOptimizer(alias);

const ds = tinyData();
const cfg = (over: Partial<RunConfig>): RunConfig => ({ ...DEFAULT_CONFIG, dataset: "tiny", split: "train", hidden: [12, 8], way: 2, shots: 5, query: 3, tasks: 1, remap: true, ...over });

test("optimizers: a registered optimizer is refused twice and listed in the error of an unknown one", () => {
  assert.throws(() => registerOptimizer(alias), /already registered/);
  assert.throws(() => optimizerOf("nope"), /--optimizer must be one of sgd, adam, test-half-bp, test-sgd-alias, got 'nope'/);
  assert.throws(() => checkConfig(cfg({ optimizer: "nope" }), ds), /--optimizer must be one of/);
});

test("optimizers: a non-fusable optimizer never gets the fast sweep (its take() runs), a fusable one does", () => {
  const th = { bp: 0.05, oja: 0.01 };
  assert.notEqual(freshStep(cfg({ theta: th }), ds, 0).step.name, "composed", "the default rule takes a fast step here");
  assert.notEqual(freshStep(cfg({ theta: th, optimizer: "test-sgd-alias" }), ds, 0).step.name, "composed");
  assert.equal(freshStep(cfg({ theta: th, optimizer: "test-half-bp" }), ds, 0).step.name, "composed");
  // take() ran: halving θ_bp's factor in take() is halving θ_bp in the rule, to the bit, on the composed
  // step (the plain kernels: no fast step applies there, so both sides run the same code).
  const a = runTask(cfg({ theta: th, optimizer: "test-half-bp", backend: "js" }), ds, 0);
  const b = runTask(cfg({ theta: { bp: 0.025, oja: 0.01 }, backend: "js" }), ds, 0);
  const sgdPlain = runTask(cfg({ theta: th }), ds, 0);
  assert.equal(a.acc, b.acc);
  assert.equal(a.weightNorm, b.weightNorm);
  assert.notEqual(a.weightNorm, sgdPlain.weightNorm);
  // The alias is SGD: the same bits as the default.
  assert.equal(runTask(cfg({ theta: th, optimizer: "test-sgd-alias" }), ds, 0).weightNorm, sgdPlain.weightNorm);
});

test("optimizers: the tangent planner refuses a non-differentiable optimizer by its module, and runs a differentiable one", () => {
  const layout = [{ term: "bp" as const, layers: [1, 2, 3] }];
  assert.throws(() => runEpisode(cfg({ optimizer: "test-half-bp" }), ds, 0, layout, [0.05], {}), /meta-gradients through the half-bp \(test\) optimizer are not implemented/);
  assert.throws(() => runEpisode(cfg({ optimizer: "adam" }), ds, 0, layout, [0.05], {}), /meta-gradients through the Adam optimizer are not implemented/);
  const g = runEpisode(cfg({ optimizer: "test-sgd-alias" }), ds, 0, layout, [0.05], {});
  assert.deepEqual(g, runEpisode(cfg({}), ds, 0, layout, [0.05], {}));
  assert.ok(Number.isFinite(g.grad[0]) && g.grad[0] !== 0);
});
