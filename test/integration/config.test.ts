/**
 * Config files: the `config` object of every result file is accepted back by
 * --config and resolves to the same configuration (--print-config), as JSON
 * and as YAML; flags on the command line win over the file; and a rerun from
 * the file gives the same results.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import { cli } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "np-config-"));

function printed(args: string[]): unknown {
  const r = cli([...args, "--print-config"]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out);
}

function roundTrip(command: string, config: unknown, expected: unknown): void {
  const json = join(dir, `${command}.json`), yaml = join(dir, `${command}.yaml`);
  writeFileSync(json, JSON.stringify(config));
  writeFileSync(yaml, toYaml(config));
  assert.deepEqual(printed([command, "--config", json]), expected, `${command}: JSON config`);
  assert.deepEqual(printed([command, "--config", yaml]), expected, `${command}: YAML config`);
}

test("train: the config in --json output and in the --out summary round-trips; command-line flags win; the rerun gives the same results", () => {
  const args = ["train", "--tasks", "2", "--hidden", "24,12", "--shots", "4", "--query", "3", "--bias", "--feedback", "random", "--no-oja-output", "--gain", "0.7", "--seed", "5", "--rule", "bp=0.01,oja=0.002:0.001:0"];
  const expected = printed(args);
  const r = cli([...args, "--json", "--out", join(dir, "t.json")]);
  assert.equal(r.code, 0, r.err);
  const line = JSON.parse(r.out.trim());
  roundTrip("train", line.config, expected);
  const summary = JSON.parse(readFileSync(join(dir, "t.json"), "utf8"));
  roundTrip("train", summary.runs[0].config, expected);
  // The command line overrides the file.
  writeFileSync(join(dir, "c.json"), JSON.stringify(line.config));
  assert.equal((printed(["train", "--config", join(dir, "c.json"), "--shots", "6"]) as { shots: number }).shots, 6);
  // The rerun from the file gives the same results.
  const again = cli(["train", "--config", join(dir, "c.json"), "--json"]);
  assert.equal(again.code, 0, again.err);
  const strip = (s: string) => { const { seconds: _s, steps_per_s: _r, ...rest } = JSON.parse(s); return rest; };
  assert.deepEqual(strip(again.out.trim()), strip(r.out.trim()));
});

test("meta: summary.json's config round-trips", () => {
  const args = ["meta", "--episodes", "2", "--hidden", "16", "--shots", "3", "--learn", "bp,oja,hebb", "--per-layer", "--l1", "0.5", "--meta-batch", "2", "--eval-tasks", "0", "--no-figures"];
  const expected = printed([...args, "--out", join(dir, "m")]);
  const r = cli([...args, "--out", join(dir, "m")]);
  assert.equal(r.code, 0, r.err);
  roundTrip("meta", JSON.parse(readFileSync(join(dir, "m/summary.json"), "utf8")).config, expected);
});

test("reproduce: the printed configuration (as results.json holds it) round-trips", () => {
  const expected = printed(["reproduce", "--quick", "--tasks", "7", "--meta-episodes", "3", "--meta-seeds", "2", "--out", join(dir, "r")]);
  roundTrip("reproduce", expected, expected);
});

test("config files: unknown keys and bad values are refused in one line, naming the file", () => {
  writeFileSync(join(dir, "bad.json"), JSON.stringify({ hiden: [10] }));
  const r = cli(["train", "--config", join(dir, "bad.json")]);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown key 'hiden' for train/);
  writeFileSync(join(dir, "bad.yaml"), "hidden: [10\n");
  assert.match(cli(["train", "--config", join(dir, "bad.yaml")]).err, /is not valid YAML/);
});
