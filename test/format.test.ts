/**
 * Numbers formatted once (src/report/format.ts), for every table, report and
 * figure: significant digits, no float residue, "diverged"/"exploded"
 * markers; and the committed report re-rendered from its results.json.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXPLODED, fixed, fmtPoints, MISSING, noResidue, pct3, seText, sig3 } from "../src/report/format.js";

test("fixed: decimals for table numbers, scientific from 10⁶, markers for NaN and ±Infinity, never -0", () => {
  assert.equal(fixed(0.65261), "0.6526");
  assert.equal(fixed(28576362831544.3203), "2.858e+13");
  assert.equal(fixed(-1e7), "-1.000e+7");
  assert.equal(fixed(999999.4), "999999.4000");
  assert.equal(fixed(NaN), MISSING);
  assert.equal(fixed(Infinity), EXPLODED);
  assert.equal(fixed(-Infinity), EXPLODED);
  assert.equal(fixed(-0.00001), "0.0000");
  assert.equal(fixed(-0), "0.0000");
  assert.equal(fixed(53.049, 2), "53.05");
  assert.equal(fixed(42095.4, 0), "42095");
  assert.equal(fixed(-0.4, 0), "0");
});

test("spreads: float residue is 0, one task has none, real spreads are kept", () => {
  // 200 tasks all at 0.2: the mean is not exactly 0.2 in floating point, and the "se" is 8.8e-18.
  const accs = Array(200).fill(0.2), m = accs.reduce((s, x) => s + x, 0) / 200;
  const se = Math.sqrt(accs.reduce((s, x) => s + (x - m) ** 2, 0) / 200 / 200);
  assert.equal(seText(se, m, 200), "0.0000");
  assert.equal(seText(0.0133, 0.65, 200), "0.0133");
  assert.equal(seText(0, 0.8, 1), "—");
  assert.equal(noResidue(1.93e-17, 0.2), 0);
  assert.equal(noResidue(1e-4, 0.2), 1e-4);
  assert.equal(noResidue(1e-12, 0), 1e-12, "no scale: nothing is residue");
  assert.equal(`${pct3(0.2)}% ± ${sig3(100 * noResidue(1.93e-17, 0.2))}`, "20.0% ± 0");
  assert.equal(fmtPoints({ mean: 0.002, ci95: 1e-19 }), "+0.200 ± 0 points");
  assert.equal(fmtPoints({ mean: 0.0144, ci95: 0.013 }), "+1.44 ± 1.30 points");
});

test("sig3: three significant digits, scientific where large or tiny, markers", () => {
  assert.deepEqual([0, 1, 0.001, 9.996e-4, 12345, 99.96, -0.5].map(sig3), ["0", "1.00", "0.00100", "1.00e-3", "1.23e+4", "100", "-0.500"]);
  assert.equal(sig3(NaN), MISSING);
  assert.equal(sig3(Infinity), EXPLODED);
});

test("the committed report re-renders from its results.json to the same summary.md and index.html; the e-norms legend draws its dashes", async () => {
  const { writeReport } = await import("../src/reproduce/report.js");
  const { withCoordinates } = await import("../src/reproduce/run.js");
  const docs = new URL("../docs/reproduce/", import.meta.url).pathname;
  const d = JSON.parse(readFileSync(join(docs, "results.json"), "utf8")), t = JSON.parse(readFileSync(join(docs, "timing.json"), "utf8"));
  const out = mkdtempSync(join(tmpdir(), "np-rerender-"));
  await writeReport({ ...d.options, out }, withCoordinates(d.cells.map((c: { id: string }) => ({ ...c, key: "", seconds: t.cells[c.id] })), d.options), { command: "neuroplastic reproduce --meta-episodes 100 --out docs/reproduce", seconds: t.seconds, config: d.config, provenance: d.provenance });
  for (const f of ["summary.md", "index.html", "results.csv", "diagnostics.csv"]) assert.equal(readFileSync(join(out, f), "utf8"), readFileSync(join(docs, f), "utf8"), f);
  assert.doesNotMatch(readFileSync(join(out, "summary.md"), "utf8"), /± \d(\.\d+)?e-1\d/, "no float residue as a spread");
  const svg = readFileSync(join(out, "figures/e-norms.svg"), "utf8");
  const dashes = [...svg.matchAll(/role-legend-symbol[^>]*><path [^>]*d="M-[\d.]+,0L[\d.]+,0" stroke="#333"[^>]*stroke-dasharray="([\d,]+)"/g)].map((m) => m[1]);
  assert.ok(dashes.length >= 2 && new Set(dashes).size >= 2, `dash legend entries: ${dashes}`);
});
