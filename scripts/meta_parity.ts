/**
 * Meta-learning parity with the PyTorch anchor (meta issue, item 7): meta-train
 * θ = (bp, oja) for 100 episodes on MNIST train-split tasks from the published
 * start (bp = 0.001, oja = 0, Adam lr 1e-3), then evaluate the learned θ on
 * test-split tasks; the same with ../shared/anchors/torch_reference.py --mode meta.
 * Writes docs/meta-parity.md and docs/meta-parity.json.
 *
 *   npx tsx scripts/meta_parity.ts [--episodes 100] [--eval 200] [--seeds 1,2,3]
 */
import { writeAtomic } from "../src/core/files.js";
import { DEFAULT_CONFIG } from "../src/experiments/task.js";
import { train } from "../src/experiments/train.js";
import { closePools } from "../src/experiments/pool.js";
import { metaTrain, specOf, type MetaConfig } from "../src/experiments/meta-train.js";
import { anchorAvailable, runAnchor } from "./anchor.js";

const arg = (k: string, d: string) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const episodes = Number(arg("--episodes", "100")), evalTasks = Number(arg("--eval", "200"));
const seeds = arg("--seeds", "1,2,3").split(",").map(Number);
if (!anchorAvailable()) { console.error("meta_parity: needs python3-torch (apt-get install -y python3-torch)"); process.exit(1); }

const rows = [];
for (const seed of seeds) {
  const cfg: MetaConfig = {
    run: { ...DEFAULT_CONFIG, split: "train", theta: { bp: 0.001, oja: 0 }, seed, tasks: 1 },
    learn: ["bp", "oja"], perLayer: false, episodes, metaBatch: 1, metaLr: 1e-3, l1: 0, checkpointEvery: episodes,
  };
  const m = await metaTrain(cfg, 1, null);
  const theta = specOf(cfg, m.state.theta) as { bp: number; oja: number };
  const last = m.log.slice(-20);
  const ev = await train({ ...cfg.run, theta, split: "test", tasks: evalTasks, seed: 1000 + seed }, 2);
  const tm = runAnchor(["--mode", "meta", "--split", "train", "--tasks", String(episodes), "--theta0", "0.001", "--oja", "0", "--seed", String(seed), "--threads", "1"]);
  const tev = runAnchor(["--mode", "online", "--split", "test", "--tasks", String(evalTasks), "--theta0", String(tm.theta0), "--oja", String(tm.oja), "--seed", String(1000 + seed), "--threads", "1"]);
  const z = Math.abs(ev.acc - tev.acc) / Math.hypot(ev.acc_se, tev.acc_se);
  const row = {
    seed,
    ours: { theta, meta_last20_acc: last.reduce((s, l) => s + l.acc, 0) / last.length, eval_acc: ev.acc, eval_se: ev.acc_se, eval_loss: ev.loss, episodes_per_s: m.episodes_per_s, skipped: m.state.skipped },
    torch: { theta: { bp: tm.theta0, oja: tm.oja }, meta_last10_acc: tm.last10_acc, eval_acc: tev.acc, eval_se: tev.acc_se, eval_loss: tev.loss, episodes_per_s: tm.tasks_per_s },
    z, agree: z <= 3, torch_commands: [tm.command, tev.command],
  };
  rows.push(row);
  console.log(`seed ${seed}: ours θ bp=${theta.bp.toFixed(5)} oja=${theta.oja.toFixed(5)} eval ${ev.acc.toFixed(4)}±${ev.acc_se.toFixed(4)} | torch θ bp=${tm.theta0.toFixed(5)} oja=${tm.oja.toFixed(5)} eval ${tev.acc.toFixed(4)}±${tev.acc_se.toFixed(4)} | z=${z.toFixed(2)}`);
}
const f = (x: number, d = 4) => x.toFixed(d);
writeAtomic(new URL("../docs/meta-parity.json", import.meta.url).pathname, JSON.stringify(rows, null, 1) + "\n");
writeAtomic(new URL("../docs/meta-parity.md", import.meta.url).pathname, [
  "# Meta-learning parity with the PyTorch anchor",
  "",
  `Meta-training: ${episodes} episodes, one 5-way 50-shot task each (10 query examples per class) from the MNIST **train** split, paper network 784-170-130-100-70-10,`,
  "θ = (bp, oja) shared by all layers, starting from the published bp = 0.001, oja = 0, Adam with lr 1e-3, backprop feedback.",
  `Evaluation: the learned θ, online learning on ${evalTasks} fresh tasks from the MNIST **test** split (mean query accuracy ± standard error).`,
  "Each side uses its own random streams (tasks, weights), so runs agree in distribution, not bit for bit. Agreement criterion: |Δacc| ≤ 3 · combined standard error.",
  "",
  "Produced by `npx tsx scripts/meta_parity.ts` (needs `apt-get install -y python3-torch`), which also ran the anchor commands listed below.",
  "",
  "| seed | neuroplastic θ (bp, oja) | PyTorch θ (bp, oja) | neuroplastic test acc ± se | PyTorch test acc ± se | z | agree |",
  "|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.seed} | ${f(r.ours.theta.bp, 5)}, ${f(r.ours.theta.oja, 5)} | ${f(r.torch.theta.bp, 5)}, ${f(r.torch.theta.oja, 5)} | ${f(r.ours.eval_acc)} ± ${f(r.ours.eval_se)} | ${f(r.torch.eval_acc)} ± ${f(r.torch.eval_se)} | ${r.z.toFixed(2)} | ${r.agree ? "yes" : "**no**"} |`),
  "",
  "Meta-training speed in the same runs (episodes/s, one thread each): " + rows.map((r) => `seed ${r.seed}: neuroplastic ${r.ours.episodes_per_s.toFixed(2)}, PyTorch ${r.torch.episodes_per_s.toFixed(2)}`).join("; ") + ".",
  "",
  "## Anchor commands",
  "",
  ...rows.flatMap((r) => r.torch_commands.map((c) => `- \`${c}\``)),
  "",
].join("\n"));
await closePools();
