import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeReport } from "../src/reproduce/report.js";
import { cells, withCoordinates, type CellResult, type ReproduceOptions } from "../src/reproduce/run.js";

/**
 * Refactors keep results: the grid of cells of every scenario, and the committed report re-rendered from its
 * own results.json, stay byte for byte what they were. Issue 21 froze them at cf882f7; issue 28 changed them on
 * purpose (the matched-step, published-protocol and ablation controls, Adam's label, the tuning protocol in
 * every cell's key; the report re-rendered under the per-condition decision rule). A change that means to alter
 * them updates the hashes here, or re-renders docs/reproduce, and says why.
 */
const root = new URL("..", import.meta.url).pathname;
const committed = join(root, "docs/reproduce");
const saved = JSON.parse(readFileSync(join(committed, "results.json"), "utf8")) as { options: ReproduceOptions; config: Record<string, unknown>; provenance: object; cells: Omit<CellResult, "at" | "key" | "seconds">[] };

/** sha256 of cells(o) as JSON (indent 1) without the coordinates (kept out, as cf882f7 had none). */
const CELLS_SHA256 = {
  full: "f63425c2ccddd6ef9f5494feef98adc51e211629867f03e82ba041ea3334c2fa",
  quick: "69335aa8c2d6259fd11f05e168a77bd99fb5c2a611381700833291a4e9b18bdd",
};

test("cells() of every scenario, full and quick, are those frozen by issue 28 (ids, labels, configurations, order)", () => {
  for (const quick of [false, true]) {
    const cs = cells({ ...saved.options, quick });
    const json = JSON.stringify(cs.map(({ at: _a, ...c }) => c), null, 1);
    assert.equal(createHash("sha256").update(json).digest("hex"), CELLS_SHA256[quick ? "quick" : "full"], `cells(${quick ? "quick" : "full"})`);
    assert.ok(cs.every((c) => Object.keys(c.at).length > 0), "every cell has coordinates");
    assert.equal(new Set(cs.map((c) => c.id)).size, cs.length, "ids are unique");
  }
});

test("the committed report, re-rendered from its results.json, is byte for byte the committed one", async () => {
  const out = mkdtempSync(join(tmpdir(), "np-guard-"));
  const timing = JSON.parse(readFileSync(join(committed, "timing.json"), "utf8")) as { seconds: number; cells: Record<string, number> };
  const rs = withCoordinates(saved.cells.map((c) => ({ ...c, key: "", seconds: timing.cells[c.id] })), saved.options);
  const command = /^Command: `([^`]+)`/m.exec(readFileSync(join(committed, "summary.md"), "utf8"))![1];
  await writeReport({ ...saved.options, out }, rs, { command, seconds: timing.seconds, config: saved.config, provenance: saved.provenance });
  for (const f of ["summary.md", "index.html", "verdicts.json", "results.csv", "diagnostics.csv", ...readdirSync(join(committed, "figures")).filter((f) => f.endsWith(".svg")).map((f) => `figures/${f}`)]) {
    assert.equal(readFileSync(join(out, f), "utf8"), readFileSync(join(committed, f), "utf8"), f);
  }
});
