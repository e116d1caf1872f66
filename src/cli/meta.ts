import { existsSync, mkdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { train } from "../experiments/train.js";
import { metaFigures } from "../report/meta-figures.js";
import {
  BRACKET_DEFAULT,
  layoutOf,
  metaPaths,
  metaTrain,
  readCheckpoint,
  specOf,
  vecOf,
  type MetaConfig,
  type MetaLogLine,
} from "../experiments/meta-train.js";
import { checkConfig } from "../experiments/task.js";
import { cachedDataset } from "../experiments/datasets.js";
import { writeNpy } from "../data/npy.js";
import { describeFsError } from "./fs-errors.js";
import { checkOutTarget } from "./out-target.js";
import { warnIfLong } from "./long-run.js";
import { fixed, seText } from "../report/format.js";
import { episodeSeconds, taskSeconds } from "../experiments/cost.js";
import { whenInterrupted } from "./errors.js";
import { provenance } from "./provenance.js";
import { isTermName, TERM_NAMES, termNames, type TermName } from "../rules/registry.js";
import { formatThetaSpec } from "../rules/rule.js";
import { registerFamily, registerTaylor, ruleFormula } from "../rules/expr/family.js";
import { EXPRESSION_TERMS } from "../rules/expr/compile.js";
import {
  addRunOptions,
  cappedWorkers,
  choice,
  configFrom,
  loadTermsFlag,
  intArg,
  numArg,
  progressBar,
  round,
  UsageError,
  writeAtomic,
  type RunFlags,
} from "./common.js";
import { OUTER_LOOPS, type OuterLoop } from "../meta/outer.js";
import { ARRAY_FORMATS, encodeArrayFile, type ArrayFormat } from "../data/array-file.js";
import { checkTensorBoardDir, metaLog, metaScalars, nameBackend } from "./tensorboard.js";

export type MetaFlags = RunFlags & {
  episodes: number; metaLr: number; metaBatch: number; learn: string; family?: string; l1: number; perLayer: boolean; tail?: number;
  outer: OuterLoop; metaStep: number; thetaFloor: number; sigma: number; bracket: number;
  out?: string; resume: boolean; force: boolean; checkpointEvery: number; evalTasks: number; evalSplit: "train" | "test"; figures: boolean;
  format: ArrayFormat; tensorboard?: string;
};

export function registerMeta(program: Command): void {
  const cmd = addRunOptions(
    program
      .command("meta")
      .description("meta-learn the plasticity coefficients θ with the exact gradient through the online loop")
      .option("--episodes <n>", "meta-training episodes", intArg("--episodes"), 600)
      .option(
        "--outer <loop>",
        "outer loop: robust (smoothed objective, exact + ES gradients, relative trust region; docs/meta-learning.md) | adam (the published Adam loop)",
        choice<OuterLoop>("--outer", OUTER_LOOPS),
        "robust",
      )
      .option("--meta-lr <lr>", "adam: learning rate on θ", numArg("--meta-lr"), 1e-3)
      .option("--meta-step <eta>", "robust: largest relative change of a coefficient per episode (decays linearly to a tenth)", numArg("--meta-step"), 0.1)
      .option("--theta-floor <f>", "robust: magnitude below which steps and perturbations are linear", numArg("--theta-floor"), 3e-3)
      .option("--sigma <s>", "robust: relative scale of the smoothing perturbations", numArg("--sigma"), 0.1)
      .option(
        "--bracket <k>",
        "robust: before the first episode, try the start θ × ¼, ½, 2, 4 (together, then each coefficient) on k train tasks each and start from the best " +
          "(0: off)",
        intArg("--bracket", 0),
        BRACKET_DEFAULT,
      )
      .option("--meta-batch <n>", "tasks per meta-step (gradients averaged, computed in parallel)", intArg("--meta-batch"), 1)
      .option(
        "--learn <terms>",
        `terms whose coefficients are learned, comma-separated (${TERM_NAMES.join(",")}), 'pool' for every term, or 'taylor' for bp and Σ θ_abc preᵃ postᵇ Wᶜ`,
        "bp,oja",
      )
      .option(
        "--family <file>",
        "learn a family of terms written one a line, 'name = formula' or a term's name (overrides --learn; docs/write-your-own-rule.md)",
      )
      .option("--l1 <lambda>", "L1 penalty λ·Σ|θ| on the learned coefficients", numArg("--l1"), 0)
      .option("--tail <n>", "episodes (not skipped) whose θ are averaged into the learned θ (default: the last 10%)", intArg("--tail", 1))
      .option("--per-layer", "one coefficient per term and layer (default: shared across layers)", false)
      .option("--out <dir>", "directory for meta.jsonl, checkpoint.json, theta.json, summary.json and figures", "runs/meta")
      .option("--resume", "continue from the checkpoint in --out", false)
      .option("--force", "overwrite an earlier run in --out", false)
      .option("--checkpoint-every <n>", "episodes between checkpoints", intArg("--checkpoint-every"), 10)
      .option("--eval-tasks <n>", "after meta-training, evaluate the learned θ on this many tasks (0: skip)", intArg("--eval-tasks", 0), 100)
      .option("--eval-split <split>", "split the evaluation tasks come from", "test")
      .option("--no-figures", "skip the SVG/PNG figures")
      .option(
        "--format <fmt>",
        "how the learned θ is also written: npy (theta.npy + theta.npy.json) | npz (theta.npz: 'theta' and the 'sidecar' JSON) | safetensors " +
          "(theta.safetensors, the sidecar in its metadata)",
        choice<ArrayFormat>("--format", ARRAY_FORMATS),
        "npy",
      )
      .option(
        "--tensorboard <dir>",
        "write TensorBoard event files as the run goes: per episode loss, acc, theta/<coefficient>, grad_norm, grad/<coefficient>, skipped",
      )
      .addHelpText("after", "\nExample:\n  neuroplastic meta --learn bp,oja --init bp=0.001,oja=0 --episodes 600 --out runs/meta"),
    // Meta-training draws its tasks from the training split unless told otherwise; it runs one task per
    // meta-batch slot (no --tasks) and differentiates neither normalization layers nor Adam.
    { split: "train" },
    ["--tasks", "--norm", "--optimizer"],
  );
  cmd.action(runMeta);
}

/** The meta-training configuration the flags describe (checked; nothing run). Also how `sweep` resolves a meta cell. */
export function metaConfigOf(o: MetaFlags): MetaConfig {
  const named =
    o.family !== undefined
      ? familyOf(o.family)
      : o.learn
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
          .flatMap((t) => (t === "taylor" ? registerTaylor() : [t]));
  // 'pool': every registered term (PAPER.md's pool, and any of --terms).
  const learn = [...new Set(named.flatMap((t) => (t === "pool" ? termNames() : [t])))];
  for (const t of learn) if (!isTermName(t)) throw new UsageError(`unknown rule term '${t}' in --learn (known terms: ${termNames().join(", ")}, or pool)`);
  if (learn.length === 0) throw new UsageError("--learn names no term");
  if (o.evalSplit !== "train" && o.evalSplit !== "test") throw new UsageError(`--eval-split must be train or test, got '${o.evalSplit}'`);
  const theta0 = o.init.theta ?? { bp: 0.001, ...Object.fromEntries(learn.filter((t) => t !== "bp").map((t) => [t, 0])) };
  for (const t of learn) if (theta0[t as TermName] === undefined) theta0[t as TermName] = 0;
  const cfg: MetaConfig = {
    run: { ...configFrom({ ...o, tasks: 1, norm: "none", optimizer: "sgd" }, theta0), tasks: 1 },
    learn: learn as TermName[],
    perLayer: o.perLayer,
    episodes: o.episodes,
    metaBatch: o.metaBatch,
    metaLr: o.metaLr,
    l1: o.l1,
    checkpointEvery: o.checkpointEvery,
    ...(o.tail !== undefined ? { tail: o.tail } : {}),
    outer: o.outer,
    ...(o.outer === "robust" ? { metaStep: o.metaStep, thetaFloor: o.thetaFloor, sigma: o.sigma, ...(o.bracket > 0 ? { bracket: o.bracket } : {}) } : {}),
  };
  for (const [flag, v] of [["--meta-lr", o.metaLr], ["--meta-step", o.metaStep], ["--theta-floor", o.thetaFloor], ["--sigma", o.sigma]] as const) {
    if (!(v > 0)) throw new UsageError(`${flag} must be positive, got ${v}`);
  }
  if (o.l1 < 0) throw new UsageError(`--l1 must be ≥ 0, got ${o.l1}`);
  return cfg;
}

async function runMeta(o: MetaFlags): Promise<void> {
  await loadTermsFlag(o.terms, o.term);
  if (o.resume && !o.out) throw new UsageError("--resume needs --out DIR (where the checkpoint is)");
  const cfg = metaConfigOf(o);
  if (o.printConfig) { process.stdout.write(JSON.stringify(metaFlatConfig(cfg, o), null, 1) + "\n"); return; }
  // Everything is checked before anything is written: bad input leaves no files or directories behind.
  checkConfig({ ...cfg.run, tasks: 1 }, cachedDataset(cfg.run));
  const workers = cappedWorkers(o.workers);
  const paths = o.out ? metaPaths(o.out) : null;
  if (o.tensorboard) checkTensorBoardDir(o.tensorboard, o.resume, o.force);
  if (paths) {
    checkOutTarget("--out", paths.dir, [
      paths.log,
      paths.checkpoint,
      paths.rule,
      paths.bracket,
      join(paths.dir, "summary.json"),
      join(paths.dir, "theta.npy"),
      join(paths.dir, "theta.npy.json"),
    ]);
    const earlier = [paths.checkpoint, paths.log].filter((f) => existsSync(f));
    if (earlier.length && !o.resume && !o.force) {
      const ep = existsSync(paths.checkpoint)
        ? (() => {
            try {
              return JSON.parse(readFileSync(paths.checkpoint, "utf8")).state.episode;
            } catch {
              return "?";
            }
          })()
        : "?";
      throw new UsageError(
        `${paths.dir} already holds a meta run (${ep} episodes checkpointed, ${earlier.join(", ")}); continue it with --resume, or overwrite it with --force`,
      );
    }
    if (o.force && !o.resume) for (const f of earlier) unlinkSync(f);
    if (o.resume && !existsSync(paths.checkpoint)) process.stderr.write(`neuroplastic: --resume: no checkpoint in ${paths.dir}; starting from episode 0\n`);
    try { mkdirSync(paths.dir, { recursive: true }); } catch (e) { throw new UsageError(`cannot create --out ${paths.dir}: ${describeFsError(e)}`); }
  }
  const P = layoutOf(cfg).length;
  warnIfLong(
    (cfg.episodes * cfg.metaBatch * episodeSeconds(cfg.run, P)) / Math.min(workers, cfg.metaBatch) + (o.evalTasks * taskSeconds(cfg.run)) / workers,
    `${cfg.episodes} episodes of ${cfg.metaBatch} task(s), ${P} coefficient(s) learned`,
    Boolean(paths),
  );
  const tb = o.tensorboard ? metaTensorBoard(o.tensorboard, cfg, paths, o.resume) : null;
  const bar = progressBar(cfg.episodes, !o.json, "meta");
  let accAvg = NaN, lossAvg = NaN;
  let res;
  try {
    res = await metaTrain(cfg, workers, paths, {
      resume: o.resume, whenInterrupted,
      onEpisode: (l, s) => {
        tb?.(l);
        const a = 0.05;
        accAvg = Number.isNaN(accAvg) ? l.acc : (1 - a) * accAvg + a * l.acc;
        if (Number.isFinite(l.loss)) lossAvg = Number.isNaN(lossAvg) ? l.loss : (1 - a) * lossAvg + a * l.loss;
        bar.update(s.episode, {
          info: `acc ${accAvg.toFixed(3)} loss ${lossAvg.toFixed(3)} θ ${formatThetaSpec(l.theta)}${s.skipped ? ` skipped ${s.skipped}` : ""}`,
        });
      },
    });
  } finally { bar.stop(); }
  if (res.state.episode > 0 && res.state.skipped === res.state.episode) {
    throw new Error(
      `every one of the ${res.state.episode} episodes diverged, so no θ was learned; start from smaller coefficients (--init bp=…,oja=…) or a smaller --gain`,
    );
  }
  // The learned θ: the mean of the last --tail (default 10%) finite episodes' θ; the final iterate is reported beside it.
  const theta = specOf(cfg, res.learned), final = specOf(cfg, res.state.theta);
  const last = res.log.slice(-10);
  const summary: Record<string, unknown> = {
    theta, final_theta: final, last10_acc: last.reduce((s, l) => s + l.acc, 0) / Math.max(1, last.length),
    last10_loss: last.reduce((s, l) => s + l.loss, 0) / Math.max(1, last.length),
    episodes: res.state.episode, episodes_per_s: res.episodes_per_s, skipped: res.state.skipped, seconds: res.seconds,
  };
  if (cfg.l1 > 0) summary.l1 = { lambda: cfg.l1, near_zero: nearZero(layoutNames(cfg), res.learned) };
  // The learned rule as one formula, without the terms the penalty drove to about zero at every layer.
  const zero = cfg.l1 > 0 ? nearZero(layoutNames(cfg), res.learned) : [];
  const survive = layoutNames(cfg).filter((n) => !zero.includes(n));
  const rule = ruleFormula(theta, cfg.learn.filter((t) => !survive.some((n) => n === t || n.startsWith(`${t}@`))));
  // Runs that learn only built-in terms keep their summary as it was; those with expression terms carry both.
  if (cfg.learn.some((t) => EXPRESSION_TERMS.some((d) => d.startsWith(`${t} = `)))) Object.assign(summary, { rule, survive });
  if (o.evalTasks > 0) {
    const ev = await train({ ...cfg.run, theta, split: o.evalSplit, tasks: o.evalTasks }, workers);
    summary.eval = { split: o.evalSplit, tasks: ev.tasks, acc: ev.acc, acc_se: ev.acc_se, loss: ev.loss, diverged: ev.diverged };
  }
  // stdout first: a failed write never swallows the results.
  if (o.json) process.stdout.write(JSON.stringify(round(summary)) + "\n");
  else {
    const tail = Math.min(cfg.tail ?? Math.max(1, Math.round(cfg.episodes / 10)), Math.max(1, res.state.episode - res.state.skipped));
    console.log(
      `learned θ: ${formatThetaSpec(theta)}   (${tail === 1 ? "θ after the last episode" : `mean of the last ${tail} episodes`}; final iterate ` +
        `${formatThetaSpec(final)}; ${res.state.episode} episodes, ${res.episodes_per_s.toFixed(2)} episodes/s, ${res.state.skipped} skipped)`,
    );
    if (res.bracket)
      console.log(
        `bracketed start: θ₀ = ${formatThetaSpec(specOf(cfg, res.bracket.theta))}, the best of ${res.bracket.candidates.length} candidates (θ × ¼ … 4) on ` +
          `${cfg.bracket} train tasks each${paths ? ` (${paths.bracket})` : ""}`,
      );
    console.log(
      `${last.length === 1 ? "last episode" : `last ${last.length} episodes`}: query acc ${fixed(summary.last10_acc as number)}, loss ` +
        `${fixed(summary.last10_loss as number)}`,
    );
    const ev = summary.eval as { split: string; tasks: number; acc: number; acc_se: number } | undefined;
    if (ev) console.log(`evaluation on ${ev.tasks} ${ev.split}-split tasks: query acc ${fixed(ev.acc)} ± ${seText(ev.acc_se, ev.acc, ev.tasks)}`);
    const l1 = summary.l1 as { lambda: number; near_zero: string[] } | undefined;
    if (l1)
      console.log(
        `L1 penalty λ = ${l1.lambda}: ` +
          `${l1.near_zero.length ? `driven to about zero (|θ| < 2% of the largest): ${l1.near_zero.join(", ")}` : "no coefficient driven to about zero"}`,
      );
    if (l1) console.log(`surviving the penalty: ${survive.join(", ") || "none"}`);
    console.log(`learned rule: ${rule}`);
  }
  if (paths) {
    const config = metaFlatConfig(cfg, o), prov = provenance();
    const defs = EXPRESSION_TERMS.filter((d) => cfg.learn.some((t) => d.startsWith(`${t} = `)));
    writeAtomic(
      paths.rule,
      JSON.stringify(
        {
          theta,
          ojaOutput: cfg.run.ojaOutput,
          ...(defs.length > 0 ? { terms: defs } : {}),
          meta: { episodes: res.state.episode, learn: cfg.learn, perLayer: cfg.perLayer, seed: cfg.run.seed, outer: cfg.outer, final: final, config: cfg.run },
          provenance: prov,
        },
        null,
        1,
      ) + "\n",
    );
    const thetaSide = JSON.stringify({ names: layoutNames(cfg), theta: res.learned, config }, null, 1) + "\n";
    if (o.format === "npy") {
      writeNpy(join(paths.dir, "theta.npy"), Float32Array.from(res.learned));
      writeAtomic(join(paths.dir, "theta.npy.json"), thetaSide);
    } else
      writeAtomic(
        join(paths.dir, `theta.${o.format}`),
        encodeArrayFile(o.format, [{ name: "theta", shape: [res.learned.length], data: Float32Array.from(res.learned) }], thetaSide),
      );
    if (o.figures) summary.figures = await metaFigures(paths.dir, res.log);
    // summary.json holds no timing (same seed, same bytes); episodes_per_s and seconds are on stdout.
    const { episodes_per_s: _r, seconds: _s, ...kept } = summary;
    writeAtomic(`${paths.dir}/summary.json`, JSON.stringify({ ...kept, config, provenance: prov }, null, 1) + "\n");
    if (!o.json)
      console.log(`wrote ${paths.rule} (use: neuroplastic train --rule-file ${paths.rule}), theta.${o.format}, ${paths.log}${o.figures ? ", figures" : ""}`);
  }
}

/**
 * The --tensorboard log of a meta run (its directory checked before any work). A resumed run
 * continues from its checkpoint's episode: the events before it are kept (and
 * any missing re-emitted from meta.jsonl), the later ones are written again.
 */
function metaTensorBoard(dir: string, cfg: MetaConfig, paths: ReturnType<typeof metaPaths> | null, resume: boolean): (l: MetaLogLine) => void {
  const names = layoutNames(cfg), layout = layoutOf(cfg);
  const from = resume && paths ? readCheckpoint(paths, cfg)?.episode ?? 0 : 0;
  const earlier: MetaLogLine[] = from > 0 && paths && existsSync(paths.log)
    ? readFileSync(paths.log, "utf8").split("\n").filter((s) => s.trim() !== "").slice(0, from).map((s) => JSON.parse(s) as MetaLogLine) : [];
  const scalars = (l: MetaLogLine) => metaScalars(l, names, vecOf(layout, l.theta));
  const log = nameBackend(metaLog(dir, from, earlier, scalars), cfg.run);
  return (l) => log.scalars(l.episode, scalars(l));
}

/** The run's flags as one flat object (long flag names), accepted back by --config. */
export function metaFlatConfig(cfg: MetaConfig, o: MetaFlags): Record<string, unknown> {
  const { tasks: _t, norm: _n, optimizer: _o, ...run } = cfg.run;
  return {
    ...run,
    learn: cfg.learn.join(","),
    perLayer: cfg.perLayer,
    episodes: cfg.episodes,
    metaBatch: cfg.metaBatch,
    metaLr: cfg.metaLr,
    l1: cfg.l1,
    outer: cfg.outer,
    metaStep: o.metaStep,
    thetaFloor: o.thetaFloor,
    sigma: o.sigma,
    bracket: cfg.bracket ?? 0,
    checkpointEvery: cfg.checkpointEvery,
    evalTasks: o.evalTasks,
    evalSplit: o.evalSplit,
  };
}

/** A name per meta-parameter: the term, with its layer when coefficients are per layer. */
export function layoutNames(cfg: MetaConfig): string[] {
  return layoutOf(cfg).map((p) => (p.layers.length === 1 && cfg.perLayer ? `${p.term}@${p.layers[0]}` : p.term));
}

/** The coefficients an L1 penalty drove to about zero: |θ| below 2% of the largest |θ|. */
export function nearZero(names: readonly string[], theta: readonly number[]): string[] {
  const top = Math.max(...theta.map(Math.abs));
  return names.filter((_, k) => Math.abs(theta[k]) < 0.02 * top);
}

/** The terms of a --family file (registered as it is read). */
function familyOf(file: string): string[] {
  let text: string;
  try { text = readFileSync(file, "utf8"); } catch { throw new UsageError(`--family: cannot read ${file}`); }
  try { return registerFamily(text, file); } catch (err) { throw new UsageError(`--family: ${(err as Error).message}`); }
}
