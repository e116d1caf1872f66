#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerMeta } from "./meta.js";
import { registerTrain } from "./train.js";
import { registerReproduce } from "./reproduce.js";
import { closePools } from "../experiments/pool.js";

const program = new Command()
  .name("neuroplastic")
  .description("Deep networks trained one example at a time with backprop or feedback alignment plus Oja's rule")
  .version(version())
  .exitOverride();
registerTrain(program);
registerMeta(program);
registerReproduce(program);

try {
  await program.parseAsync(process.argv);
  await closePools();
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander printed its own one-line message; help and version exit 0.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`neuroplastic: ${msg.split("\n")[0]}\n`);
    if (process.env.NEUROPLASTIC_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  }
  await closePools().catch(() => {});
}

function version(): string {
  try { return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version; } catch { return "unknown"; }
}
