/**
 * What each preset's "what to look for" text claims about the layers, held
 * against the engine (issue 24's referee found three texts the diagnostics
 * contradicted): the preset's rules A and B on its first and last task (tasks
 * are independent, so either can run alone), measured at the end of training
 * on the page's probe set (the first 100 images), as the page measures them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cachedDataset, runTask, type LayerDiagnostics } from "../../src/index.js";
import { PRESETS, presetState, runConfig, type PresetId } from "../../web/src/state.js";

/** Rule r's layers at the end of task t of preset id. */
function layers(id: PresetId, r: "a" | "b", t: number): LayerDiagnostics[] {
  const cfg = runConfig(presetState(id), r), ds = cachedDataset(cfg), end = cfg.way * cfg.shots * (cfg.epochs ?? 1);
  const probeIdx = Array.from({ length: 100 }, (_, i) => i);
  const res = runTask(cfg, ds, t, { at: [end], probeIdx, probeLabels: probeIdx.map((i) => ds.labels[i]) });
  return res.diagnostics![0].layers;
}
const ends = (id: PresetId) => [0, presetState(id).tasks - 1];
const hidden = (ls: LayerDiagnostics[]) => ls.slice(0, -1);
const look = (id: PresetId) => PRESETS.find((p) => p.id === id)!.look;

test("Online: B's deeper layers use more dimensions than A's (participation ratio)", () => {
  assert.match(look("online"), /most tasks/);
  for (const t of ends("online")) {
    const a = layers("online", "a", t), b = layers("online", "b", t);
    for (const l of [1, 2, 3]) assert.ok(b[l].pr > a[l].pr, `task ${t}, layer ${l + 1}: B ${b[l].pr} vs A ${a[l].pr}`);
  }
});

test("Depth: A's ‖eₗ‖ grows from input to output, its ‖yₗ‖ dips mildly in the middle, its PR falls to about 1; B keeps ‖yₗ‖ near 7", () => {
  for (const t of ends("depth")) {
    const a = layers("depth", "a", t), b = layers("depth", "b", t);
    for (let l = 1; l < a.length; l++) assert.ok(a[l].errNorm > a[l - 1].errNorm, `task ${t}: ‖e${l + 1}‖ > ‖e${l}‖`);
    const act = hidden(a).map((x) => x.actNorm), low = Math.min(...act.slice(1, -1));
    assert.ok(low < act[0] && low < act.at(-1)! && low > 0.5 * act[0], `task ${t}: a mild dip ${act}`);
    assert.ok(hidden(a).at(-1)!.pr < 1.5, `task ${t}: A's deepest PR ${hidden(a).at(-1)!.pr}`);
    for (const x of hidden(b)) assert.ok(x.actNorm > 6 && x.actNorm < 8, `task ${t}: B's ‖y${x.l}‖ = ${x.actNorm}`);
  }
});

test("Small init: ‖WWᵀ − I‖ about 0.9 in the hidden layers, grown in B's output layer; B's hidden activity about five times A's", () => {
  for (const t of ends("init")) {
    const a = layers("init", "a", t), b = layers("init", "b", t);
    for (const x of [...hidden(a), ...hidden(b)]) assert.ok(x.orthoErr > 0.8 && x.orthoErr < 1, `task ${t}: layer ${x.l} ${x.orthoErr}`);
    assert.ok(b.at(-1)!.orthoErr > 2.5, `task ${t}: B's output ${b.at(-1)!.orthoErr}`);
    hidden(b).forEach((x, l) => assert.ok(x.actNorm > 4 * a[l].actNorm, `task ${t}: layer ${l + 1} B ${x.actNorm} vs A ${a[l].actNorm}`));
  }
});

test("Feedback alignment: A's hidden updates within 30°–70° of the true gradient; B's hidden layers 60°–100°, beyond 90° on the last task", () => {
  const last = presetState("fa").tasks - 1;
  for (const t of ends("fa")) {
    const a = hidden(layers("fa", "a", t)).map((x) => x.faAngle!), b = hidden(layers("fa", "b", t)).map((x) => x.faAngle!);
    for (const x of a) assert.ok(x > 30 && x < 70, `task ${t}: A ${a}`);
    for (const x of b) assert.ok(x > 60 && x < 100, `task ${t}: B ${b}`);
    if (t === last) assert.ok(b.some((x) => x > 90), `task ${t}: B ${b}`);
  }
});
