import { test } from "node:test";
import assert from "node:assert/strict";
import { normalEquations, recoverFit } from "../src/experiments/recover.js";
import { cachedDataset } from "../src/experiments/datasets.js";
import { DEFAULT_CONFIG, sitesOf, type RunConfig } from "../src/experiments/task.js";
import { metaLayout } from "../src/learn/tangent.js";
import { TERM_NAMES } from "../src/rules/registry.js";
import { cli } from "./helpers.js";

// recover --match activity (issue 27, item 3): the student reproduces the teacher's hidden activities on the query set.
const cfg: RunConfig = { ...DEFAULT_CONFIG, hidden: [8], way: 3, shots: 3, query: 2, backend: "js" };
const ds = cachedDataset(cfg);
const teacher = { bp: 0.0068, oja: 0.0053 };

const rnn: RunConfig = { ...cfg, net: "rnn", hidden: [6], delay: 2, shots: 2 };
for (const [match, net, c] of [["weights", "MLP", cfg], ["activity", "MLP", cfg], ["activity", "RNN", rnn]] as const) {
  test(`recover (${match}, ${net}): the Gauss–Newton gradient 2·Jᵀr/scale is the exact derivative of the loss (central differences, float64)`, () => {
    const cfg = c, ds = cachedDataset(c);
    const learn = ["bp", "oja", "hebb", "decay"];
    const layout = metaLayout(learn, sitesOf(cfg), false);
    const theta = [0.004, 0.002, 0.001, 0.0005];
    const at = normalEquations(cfg, ds, teacher, layout, theta, 1, match);
    assert.ok(at.loss > 1e-3, `the check is not vacuous (loss ${at.loss})`);
    const h = 1e-6;
    learn.forEach((t, k) => {
      const p = [...theta], m = [...theta];
      p[k] += h; m[k] -= h;
      const fd = (normalEquations(cfg, ds, teacher, layout, p, 1, match).loss - normalEquations(cfg, ds, teacher, layout, m, 1, match).loss) / (2 * h);
      const exact = (2 * at.Jtr[k]) / at.scale;
      assert.ok(Math.abs(exact - fd) <= 1e-5 * Math.abs(fd) + 1e-9, `${t}: exact ${exact} vs fd ${fd}`);
    });
  });
}

test("recover --match activity: from the 7-term pool, the teacher bp = 0.0068, oja = 0.0053 is recovered within 5%, the other terms near 0", () => {
  const fit = recoverFit(cfg, ds, teacher, TERM_NAMES, { tasks: 2, iterations: 10, match: "activity" });
  const th = Object.fromEntries(TERM_NAMES.map((t, k) => [t, fit.theta[k]]));
  assert.ok(Math.abs(th.bp / 0.0068 - 1) < 0.05 && Math.abs(th.oja / 0.0053 - 1) < 0.05, JSON.stringify(th));
  for (const t of TERM_NAMES.filter((t) => t !== "bp" && t !== "oja")) assert.ok(Math.abs(th[t]) < 0.05 * 0.0053, `${t} = ${th[t]}`);
  assert.ok(fit.loss < fit.losses[0] * 1e-4, `residual ${fit.loss} from ${fit.losses[0]}`);
});

test("recover CLI: --match activity prints the recovered coefficients as JSON keyed by term; an unknown --match is one line, non-zero", () => {
  const r = cli(["recover", "--teacher", "bp=0.0068,oja=0.0053", "--family", "pool", "--match", "activity", "--hidden", "8",
    "--shots", "3", "--query", "2", "--seeds", "1", "--iterations", "8", "--json"]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out.trim());
  assert.equal(j.match, "activity");
  assert.deepEqual(Object.keys(j.recovered), TERM_NAMES);
  assert.ok(j.loss.length === 1 && j.loss[0] < 1e-3, r.out); // the fit (its accuracy is the test above's)
  assert.equal(j.teacher.oja, 0.0053);
  const bad = cli(["recover", "--teacher", "bp=0.0068", "--match", "spikes"]);
  assert.notEqual(bad.code, 0);
  assert.equal(bad.err.trim().split("\n").length, 1, bad.err);
  assert.match(bad.err, /--match must be weights or activity, got 'spikes'/);
});
