import assert from "node:assert/strict";
import { test } from "node:test";
import { MLP } from "../src/nets/mlp/mlp.js";
import { makeFeedback } from "../src/signals/feedback.js";
import { networkOf, own, outputsOf, registerNetwork, type NetworkModule } from "../src/nets/registry.js";
import { checkConfig, DEFAULT_CONFIG, freshStep, runTask, sitesOf, seqLen, type RunConfig } from "../src/experiments/task.js";
import { runEpisode } from "../src/experiments/episode.js";
import { networkShape, networkTensors } from "../src/experiments/export.js";
import { tinyData } from "./helpers.js";

/** Its network: the MLP's maths under a kind of its own, so every lookup goes to this module. */
class TinyNet extends MLP { override readonly kind = "test-tiny"; }

/**
 * A third kind of network, defined here and registered from the test: one tanh hidden layer whose width is
 * its own flag (--width, key "width"). Nothing in experiments/, cli/, report/ or the reproduce code knows it:
 * the generic code checks, builds, trains and meta-differentiates it through its module alone (no fast step,
 * so the composed step and the composed tangent step run).
 */
const tiny: NetworkModule = {
  kind: "test-tiny", help: "test-tiny (one tanh layer, test only)",
  flags: [{ key: "width", flags: "--width <n>", help: "test-tiny: hidden width", parse: "int0" }],
  rateUnit: "steps",
  display: { unitNoun: "steps", exactName: "backprop", probe: "layers", fields: { tensor: "W1", layout: "rows", caption: "W₁'s rows" } },
  check(cfg) {
    const w = own<number>(cfg, "width");
    if (w === undefined || !(Number.isInteger(w) && w > 0)) throw new RangeError(`--width must be a positive integer for --net test-tiny, got ${w}`);
  },
  sites: () => 2,
  seqLen: () => 1,
  weights: (cfg, ds) => own<number>(cfg, "width")! * (ds.dim + outputsOf(cfg, ds)),
  build(cfg, ds, s, arena) {
    const net = new TinyNet({ dims: [ds.dim, own<number>(cfg, "width")!, outputsOf(cfg, ds)], activation: "tanh", beta: 1, bias: false, norm: "none", arena }).init(cfg.init, cfg.gain, s.init);
    net.feedback = makeFeedback(cfg.feedback, net, cfg.init, cfg.gain, s.feedback);
    return net;
  },
  shape: (net) => ({ net: "test-tiny", width: (net as MLP).dims[1] }),
  describe: (cfg) => `test-tiny width ${own<number>(cfg, "width")}`,
};
registerNetwork(tiny);

const ds = tinyData();
const cfg = (over: Record<string, unknown>): RunConfig => ({ ...DEFAULT_CONFIG, dataset: "tiny", split: "train", hidden: [], way: 2, shots: 5, query: 3, tasks: 1, remap: true, theta: { bp: 0.05 }, ...over }) as RunConfig;

test("network modules: a kind registered from a test is checked, built, trained and meta-differentiated by the generic code", () => {
  assert.throws(() => registerNetwork(tiny), /already registered/);
  assert.throws(() => checkConfig(cfg({ net: "test-tiny" }), ds), /--width must be a positive integer for --net test-tiny/);
  assert.throws(() => checkConfig(cfg({ width: 6 }), ds), /^ConfigError: --width applies to --net test-tiny only$|--width applies to --net test-tiny only/);
  assert.throws(() => checkConfig(cfg({ net: "nope" }), ds), /--net must be one of mlp, rnn, test-tiny, got 'nope'/);
  const c = cfg({ net: "test-tiny", width: 6, theta: { bp: 0.05, oja: 0.01 } });
  checkConfig(c, ds);
  assert.equal(sitesOf(c), 2);
  assert.equal(seqLen(c, ds), 1);
  const { step } = freshStep(c, ds, 0);
  assert.equal(step.name, "composed", "no fast step of its own: the composed reference");
  assert.ok(step.net instanceof TinyNet, "built by its module");
  // The RNN's flags are refused for it, by name.
  assert.throws(() => checkConfig({ ...c, delay: 3 }, ds), /--delay applies to --net rnn only/);
  // Trained: the loss moves, the same seed gives the same bits.
  const r = runTask(c, ds, 0), again = runTask(c, ds, 0);
  assert.deepEqual(r, again);
  assert.ok(Number.isFinite(r.weightNorm) && r.steps === 10);
  // Meta-differentiated: the exact gradient against a central finite difference in θ_bp (float64 on the plain kernels).
  const layout = [{ term: "bp" as const, layers: [1, 2] }];
  const c64 = { ...c, backend: "js" as const, theta: { bp: 0.05 } };
  const g = runEpisode(c64, ds, 0, layout, [0.05], {}, "f64");
  const h = 1e-5, up = runEpisode(c64, ds, 0, layout, [0.05 + h], {}, "f64").loss, dn = runEpisode(c64, ds, 0, layout, [0.05 - h], {}, "f64").loss;
  const fd = (up - dn) / (2 * h);
  assert.ok(Math.abs(g.grad[0] - fd) <= 1e-6 * Math.max(1, Math.abs(fd)), `exact ${g.grad[0]} vs finite difference ${fd}`);
});

test("network modules: export asks the module for its shape; the generic tensors are every site's W", () => {
  const c = cfg({ net: "test-tiny", width: 4 });
  const { step } = freshStep(c, ds, 0);
  step.finish();
  assert.deepEqual(networkShape(step.net), { net: "test-tiny", width: 4 });
  assert.deepEqual(networkTensors(step.net).map((t) => t.name), ["W1", "W2"]);
  // The module that built it is asked by the kind of its configuration (what train's header prints).
  assert.equal(networkOf("test-tiny").describe(c, ds), "test-tiny width 4");
});
