/**
 * The app's cost model (web/src/estimate.ts) in Node: every preset keeps its
 * full probe set (so its diagnostics are the numbers they were), a network
 * whose probe would exceed the budget is probed on fewer images, or not at
 * all, with a note; the time per task counts the network's size. The model's
 * seconds against the probe's measured time: `npm run bench:probe`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cachedDataset, DEFAULT_CONFIG, type RunConfig } from "../../src/index.js";
import { estimate, PROBE_BUDGET, PROBE_FULL, PROBE_MIN, probePlan, probeWork } from "../../web/src/estimate.js";
import { PRESETS, presetState, runConfig } from "../../web/src/state.js";

const cfgOf = (o: Partial<RunConfig>): RunConfig => ({ ...DEFAULT_CONFIG, tasks: 1, ...o });

test("every preset is probed on all 100 images, within the budget and without a note", () => {
  for (const p of PRESETS) for (const r of ["a", "b"] as const) {
    const cfg = runConfig(presetState(p.id), r), plan = probePlan(cfg, cachedDataset(cfg));
    assert.equal(plan.count, PROBE_FULL, p.id);
    assert.equal(plan.note, "", p.id);
    assert.ok(plan.seconds > 0 && plan.seconds < 1, `${p.id}: ${plan.seconds} s`);
  }
});

test("beyond the budget the probe set shrinks (no fewer than PROBE_MIN), then the diagnostics are skipped, each with a note", () => {
  const mid = cfgOf({ hidden: [1024, 1024] }), big = cfgOf({ hidden: [4096, 4096, 4096] }), ds = cachedDataset(mid);
  const m = probePlan(mid, ds);
  assert.ok(m.count >= PROBE_MIN && m.count < PROBE_FULL, `${m.count}`);
  assert.ok(m.seconds <= PROBE_BUDGET);
  assert.match(m.note, new RegExp(`^Diagnostics on ${m.count} of the 100 probe images`));
  const b = probePlan(big, ds);
  assert.deepEqual([b.count, b.seconds], [0, 0]);
  assert.match(b.note, /^Diagnostics skipped for a network this large: one probe would take ≈ \d+ min on one core and \d[\d,]* MB/);
  // The Gram products W Wᵀ dominate a wide network's probe: more than the images' passes at 100 images.
  const w = probeWork(big, ds);
  assert.ok(w.fixed > PROBE_FULL * w.perExample);
  const rnn = cfgOf({ net: "rnn", hidden: [1000], delay: 20 });
  assert.equal(probePlan(rnn, cachedDataset(rnn)).count, 0, "an RNN's per-step outer products would need gigabytes");
});

test("the time per task grows with the network's weights, and a measured rate replaces the model", () => {
  const ds = cachedDataset(DEFAULT_CONFIG);
  const small = estimate(cfgOf({}), ds, 0).seconds, big = estimate(cfgOf({ hidden: [4096, 4096, 4096] }), ds, 0).seconds;
  assert.ok(big > 100 * small, `${small} s, ${big} s`);
  assert.deepEqual(estimate(cfgOf({}), ds, 125), { seconds: 2, basis: "from this run's measured rate" });
});
