import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { Buf } from "../src/core/kernels.js";

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
