// The new pathways and --dale through every layer above the engine (issue 25, item 6): config files (JSON and YAML),
// sweeps, the app's URL and the command it offers; bad values refused with one line.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import { closePools } from "../../src/experiments/pool.js";
import { planSweep } from "../../src/cli/sweep/plan.js";
import { cliCommand, DEFAULTS, fromHash, runConfig, toHash, type AppState } from "../../web/src/state.js";
import { cli } from "../helpers.js";

after(closePools);
const dir = mkdtempSync(join(tmpdir(), "np-credit-"));
const printed = (args: string[]) => {
  const r = cli([...args, "--print-config"]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Record<string, unknown>;
};

test("config files: --feedback and --dale from JSON and YAML resolve as the flags do; the command line wins", () => {
  const flags = ["train", "--tasks", "2", "--hidden", "12", "--feedback", "sign-random", "--dale", "0.8"];
  const expected = printed(flags);
  assert.equal(expected.feedback, "sign-random");
  assert.equal(expected.dale, 0.8);
  const obj = { tasks: 2, hidden: "12", feedback: "sign-random", dale: 0.8 };
  writeFileSync(join(dir, "c.json"), JSON.stringify(obj));
  writeFileSync(join(dir, "c.yaml"), toYaml(obj));
  assert.deepEqual(printed(["train", "--config", join(dir, "c.json")]), expected);
  assert.deepEqual(printed(["train", "--config", join(dir, "c.yaml")]), expected);
  const over = printed(["train", "--config", join(dir, "c.json"), "--feedback", "dfa", "--dale", "0.5"]);
  assert.deepEqual([over.feedback, over.dale], ["dfa", 0.5]);
  // --dale alone is the usual 80 : 20.
  assert.equal(printed(["train", "--tasks", "2", "--dale"]).dale, 0.8);
  // Without --dale the key is absent: every configuration made before it keeps its bytes (cell keys, hashes).
  assert.ok(!("dale" in printed(["train", "--tasks", "2"])));
});

test("bad values: one line naming the flag, non-zero exit", () => {
  for (const [args, re] of [
    [["--dale", "1.5"], /--dale takes the excitatory fraction in \[0, 1\], got '1\.5'/],
    [["--net", "rnn", "--feedback", "dfa"], /--feedback dfa is defined for feedforward networks/],
  ] as const) {
    const r = cli(["train", "--tasks", "1", ...args]);
    assert.notEqual(r.code, 0, args.join(" "));
    assert.match(r.err, re);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
  }
});

test("a run under each new pathway and Dale's law trains and reports its pathway (CLI --json)", () => {
  const r = cli(["train", "--tasks", "2", "--hidden", "12", "--shots", "3", "--feedback", "dfa", "--dale", "0.8", "--rule", "bp=0.05,oja=0.01", "--json", "--workers", "1"]);
  assert.equal(r.code, 0, r.err);
  const line = JSON.parse(r.out.trim().split("\n")[0]);
  assert.equal(line.config.feedback, "dfa");
  assert.equal(line.config.dale, 0.8);
  assert.ok(line.acc >= 0 && line.acc <= 1);
});

test("sweeps: feedback and dale as grid axes; each cell's configuration is what train --print-config gives for its flags", async () => {
  const f = join(dir, "grid.yaml");
  writeFileSync(f, "base:\n  tasks: 2\n  hidden: \"12\"\n  shots: 3\n  rule: \"bp=0.01\"\ngrid:\n  feedback: [dfa, sign, sign-random]\n  dale: [0.8, 0.5]\n");
  const lines = await planSweep(f, join(dir, "g"));
  assert.equal(lines.length, 6);
  assert.deepEqual(lines[5].axes, { feedback: "sign-random", dale: 0.5 });
  const want = printed(["train", "--tasks", "2", "--hidden", "12", "--shots", "3", "--feedback", "sign-random", "--dale", "0.5", "--rule", "bp=0.01"]);
  assert.deepEqual(lines[5].config, want);
});

test("the app's URL: every pathway and Dale's fraction round-trip; the offered command and the run's config carry them; a bad one is named", () => {
  for (const feedback of ["sym", "random", "dfa", "sign", "sign-random"] as const) for (const dale of [null, 0.8]) {
    const s: AppState = { ...structuredClone(DEFAULTS), preset: "custom", feedback, dale };
    const back = fromHash(toHash(s));
    assert.deepEqual(back.problems, []);
    assert.deepEqual(back.state, s);
    assert.equal(runConfig(s, "a").feedback, feedback);
    assert.equal(runConfig(s, "b").dale, dale ?? undefined);
    assert.match(cliCommand(s), new RegExp(`--feedback ${feedback}( |$)`));
    assert.equal(cliCommand(s).includes(`--dale ${dale}`), dale !== null);
    assert.equal(toHash(s).includes("dale="), dale !== null, "a link without Dale stays as it was");
  }
  const bad = fromHash("#preset=custom&fb=sign&dale=2");
  assert.equal(bad.state.feedback, "sign");
  assert.equal(bad.state.dale, null);
  assert.match(bad.problems.join("; "), /dale must be the excitatory fraction/);
  // The command the page offers resolves to the page's configuration.
  const s: AppState = { ...structuredClone(DEFAULTS), preset: "custom", feedback: "sign", dale: 0.8, tasks: 2, b: { bp: 0.0068 } };
  const cmd = cliCommand(s).replace(/^neuroplastic /, "").split(" ");
  const got = printed(cmd);
  const want = runConfig(s, "a") as unknown as Record<string, unknown>;
  for (const k of ["feedback", "dale", "hidden", "tasks", "seed", "gain", "epochs"]) assert.deepEqual(got[k], want[k], k);
});
