#!/usr/bin/env node
import "../core/native.js"; // the native kernels, where built (registers them for --backend native)
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerMeta } from "./meta.js";
import { registerTrain } from "./train.js";
import { registerReproduce } from "./reproduce.js";
import { registerSweep } from "./sweep.js";
import { registerRecover } from "./recover.js";
import { SweepError } from "./sweep/plan.js";
import { closePools } from "../experiments/pool.js";
import { ConfigError } from "../experiments/task.js";
import { TermError } from "../rules/registry.js";
import { RuleError } from "../rules/rule.js";
import { withConfig } from "./config.js";
import { describeFsError } from "./fs-errors.js";
import { interruptNote, restoreTerminal, runInterruptHooks, UsageError } from "./errors.js";

const program = new Command()
  .name("neuroplastic")
  .description("Deep networks trained one example at a time with backprop or feedback alignment plus Oja's rule")
  .version(version())
  .exitOverride()
  // Commander's message on one line, its "(Did you mean --tasks?)" kept.
  .configureOutput({ outputError: (s, write) => write(s.trim().split("\n").map((l) => l.trim()).filter(Boolean).join(" ") + "\n") });
registerTrain(program);
registerMeta(program);
registerReproduce(program);
registerSweep(program);
registerRecover(program);

// `… --json | head -1`: the reader went away; stop quietly, as a Unix tool does.
// Any other failure to write stdout (`> /dev/full`: ENOSPC) is one line on stderr and exit 1, not a stack trace.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  process.stderr.write(`neuroplastic: cannot write the output: ${describeFsError(e)}\n`);
  restoreTerminal();
  process.exit(1);
});
// Interrupted: save what there is to save, put the terminal back, say how to go on, exit 128 + signal.
for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  process.on(sig, () => {
    runInterruptHooks();
    restoreTerminal();
    process.stderr.write(`\nneuroplastic: interrupted — ${interruptNote()}\n`);
    process.exit(code);
  });
}
// A readiness signal for scripts and tests that interrupt a run: from here on, signals are handled.
if (process.env.NEUROPLASTIC_TRACE) process.stderr.write("neuroplastic: trace: signal handlers installed\n");

try {
  await program.parseAsync(withConfig(process.argv.slice(2), program), { from: "user" });
  await closePools();
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander printed its own one-line message; help and version exit 0, its usage errors 2.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`neuroplastic: ${msg.split("\n")[0]}\n`);
    if (process.env.NEUROPLASTIC_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    // Usage errors (a flag, a value, a combination of them) exit 2; everything that went wrong at run time exits 1.
    process.exitCode =
      e instanceof UsageError || e instanceof ConfigError || e instanceof TermError || e instanceof RuleError || e instanceof SweepError ? 2 : 1;
  }
  restoreTerminal();
  await closePools().catch(() => {});
}

function version(): string {
  try { return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version; } catch { return "unknown"; }
}
