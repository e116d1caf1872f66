/**
 * Parity with the PyTorch anchor (issue: core, item 6): for the same θ and
 * configuration, mean query accuracy over ≥ 200 tasks must agree within
 * 3 × the combined standard error. Writes docs/parity.md (keeping its section
 * "The authors' own code", scripts/authors-parity.py's) and docs/parity.json.
 *
 *   npx tsx scripts/parity.ts [--tasks 200] [--workers 1]
 */
import { existsSync, readFileSync } from "node:fs";
import { writeAtomic } from "../src/cli/common.js";
import { DEFAULT_CONFIG, type RunConfig } from "../src/experiments/task.js";
import { train } from "../src/experiments/train.js";
import { closePools } from "../src/experiments/pool.js";
import type { ThetaSpec } from "../src/rules/rule.js";
import { anchorAvailable, runAnchor } from "./anchor.js";

const arg = (k: string, d: number) => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const tasks = arg("--tasks", 200), workers = arg("--workers", 1);
if (!anchorAvailable()) { console.error("parity: needs python3-torch (apt-get install -y python3-torch)"); process.exit(1); }

const BP = 0.0068, OJA = 0.0053;
interface Row { name: string; hidden: number[]; gain: number; feedback: "sym" | "random"; oja: boolean }
const rows: Row[] = [];
for (const [name, hidden, gain, feedback] of [
  ["paper net 784-170-130-100-70-10", [170, 130, 100, 70], 1, "sym"],
  ["8 hidden layers of width 100", [100, 100, 100, 100, 100, 100, 100, 100], 1, "sym"],
  ["paper net, Xavier gain 0.25", [170, 130, 100, 70], 0.25, "sym"],
  ["paper net, feedback alignment", [170, 130, 100, 70], 1, "random"],
] as const) for (const oja of [false, true]) rows.push({ name, hidden: [...hidden], gain, feedback, oja });

const out = [];
for (const r of rows) {
  const theta: ThetaSpec = r.oja ? { bp: BP, oja: OJA } : { bp: BP };
  const cfg: RunConfig = { ...DEFAULT_CONFIG, hidden: r.hidden, gain: r.gain, feedback: r.feedback, theta, tasks, seed: 1 };
  const ours = await train(cfg, workers);
  const args = ["--mode", "online", "--hidden", r.hidden.join(","), "--gain", String(r.gain), "--theta0", String(BP),
    ...(r.oja ? ["--oja", String(OJA)] : []), "--tasks", String(tasks), "--seed", "1", "--feedback", r.feedback, "--threads", "1"];
  const torch = runAnchor(args);
  const se = Math.hypot(ours.acc_se, torch.acc_se);
  const z = Math.abs(ours.acc - torch.acc) / se;
  const row = {
    config: r.name, rule: r.oja ? `bp=${BP},oja=${OJA}` : `bp=${BP}`,
    ours: { acc: ours.acc, acc_se: ours.acc_se, loss: ours.loss, diverged: ours.diverged, steps_per_s: ours.steps_per_s },
    torch: { acc: torch.acc, acc_se: torch.acc_se, loss: torch.loss, steps_per_s: torch.steps_per_s },
    z, agree: z <= 3,
    ours_command: `node dist/cli/main.js train --hidden ${r.hidden.join(",")} --gain ${r.gain} --feedback ${r.feedback} --rule ${r.oja ? `bp=${BP},oja=${OJA}` : `bp=${BP}`} --tasks ${tasks} --seed 1 --json`,
    torch_command: torch.command,
  };
  out.push(row);
  console.log(`${row.config.padEnd(34)} ${row.rule.padEnd(20)} ours ${ours.acc.toFixed(4)}±${ours.acc_se.toFixed(4)}  torch ${torch.acc.toFixed(4)}±${torch.acc_se.toFixed(4)}  z=${z.toFixed(2)} ${row.agree ? "agree" : "DISAGREE"}`);
}

const f = (x: number) => x.toFixed(4);
const md = [
  "# Parity with the PyTorch anchor",
  "",
  `Online learning (batch 1, one pass), neuroplastic's default backend (${DEFAULT_CONFIG.backend}), MNIST test split, 5-way 50-shot, 10 query examples per class, ${tasks} tasks, seed 1, softplus β = 10, Xavier-uniform init, no biases, output layer of 10 units (whole label set).`,
  "Both sides sample their own tasks and weights from their own generators, so they agree in distribution, not task by task.",
  "Criterion: |acc_ours − acc_torch| ≤ 3 · √(se_ours² + se_torch²).",
  "Every row uses seed 1 on each side, so the rows share their tasks and initial weights within a side and their deviations are correlated (all eight land on the same side here); each row alone is the test.",
  "",
  "Produced by `npx tsx scripts/parity.ts` (needs `apt-get install -y python3-torch`), which ran, for each row, the two commands listed below.",
  "",
  "| configuration | rule | neuroplastic acc ± se | PyTorch acc ± se | z | agree |",
  "|---|---|---|---|---|---|",
  ...out.map((r) => `| ${r.config} | ${r.rule} | ${f(r.ours.acc)} ± ${f(r.ours.acc_se)} | ${f(r.torch.acc)} ± ${f(r.torch.acc_se)} | ${r.z.toFixed(2)} | ${r.agree ? "yes" : "**no**"} |`),
  "",
  "Query cross-entropy (mean over tasks; diverged tasks are scored at chance, ln 5):",
  "",
  "| configuration | rule | neuroplastic loss | PyTorch loss | diverged (ours) |",
  "|---|---|---|---|---|",
  ...out.map((r) => `| ${r.config} | ${r.rule} | ${f(r.ours.loss)} | ${f(r.torch.loss)} | ${r.ours.diverged} |`),
  "",
  "## Commands",
  "",
  ...out.flatMap((r) => [`- ${r.config}, ${r.rule}:`, `  - \`${r.ours_command}\``, `  - \`${r.torch_command}\``]),
  "",
].join("\n");
// The section "The authors' own code" is scripts/authors-parity.py's (a run of hours, not this one's): kept as it stands.
const mdPath = new URL("../docs/parity.md", import.meta.url).pathname;
const AUTHORS = "## The authors' own code";
const before = existsSync(mdPath) ? readFileSync(mdPath, "utf8") : "";
const kept = before.includes(AUTHORS) ? before.slice(before.indexOf(AUTHORS)) : "";
writeAtomic(mdPath, kept ? md + "\n" + kept : md);
writeAtomic(new URL("../docs/parity.json", import.meta.url).pathname, JSON.stringify(out, null, 1) + "\n");
await closePools();
