import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { Buf } from "../src/core/kernels.js";
import { Rng } from "../src/core/rng.js";
import { fromArrays } from "../src/data/dataset.js";
import type { PlasticStep, StepOptions } from "../src/learn/step.js";
import type { MLP } from "../src/nets/mlp/mlp.js";
import { planStep } from "../src/nets/plan.js";
import type { Rule } from "../src/rules/rule.js";
import type { Feedback } from "../src/signals/feedback.js";

/** |a − b| ≤ atol + rtol·|b| elementwise, with the worst offender in the message. */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol = 0, what = "values"): void {
  assert.equal(a.length, b.length, `${what}: length ${a.length} vs ${b.length}`);
  let worst = -1, excess = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) - (atol + rtol * Math.abs(b[i]));
    if (!(d <= 0) && (worst < 0 || d > excess)) { worst = i; excess = d; }
  }
  if (worst >= 0) assert.fail(`${what}[${worst}]: ${a[worst]} vs ${b[worst]} (rtol ${rtol}, atol ${atol})`);
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function diff(a: Buf, b: Buf): Float64Array {
  return Float64Array.from(a, (x, i) => x - b[i]);
}

const root = new URL("..", import.meta.url).pathname;

/** Run the CLI from source (through tsx), as a user would run the built one. */
export function cli(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli/main.ts"), ...args], { encoding: "utf8", cwd: root });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A tiny image set with class structure (class c lights pixel block c), so learning moves the loss. */
export function tinyData(seed = 1) {
  const r = new Rng(seed), n = 80, dim = 9;
  const px = new Uint8Array(n * dim), lab = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    lab[i] = i % 4;
    for (let j = 0; j < dim; j++) px[i * dim + j] = Math.min(255, r.int(90) + (j % 4 === lab[i] ? 150 : 0));
  }
  return fromArrays(px, [n, 3, 3], lab, [n], "tiny", "train");
}


/** A network's planned step with the given error pathway (the form most tests build). */
export function stepFor(net: MLP, fb: Feedback, rule: Rule, opts: StepOptions = {}): PlasticStep {
  net.feedback = fb;
  return planStep(net, rule, opts);
}

/** fast-check's seed: fixed by default (repeatable CI); FUZZ_SEED=<n> replays a run, FUZZ_SEED=random explores new inputs. */
export function fuzzSeed(): number {
  return process.env.FUZZ_SEED === "random" ? Date.now() ^ (Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? 20261122);
}
