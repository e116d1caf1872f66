import { duration } from "../experiments/cost.js";

/** Runs estimated to take longer than this are announced before they start. */
const WARN_S = 600;

/** Say so before a very long run starts: roughly how long, and how to stop it (src/experiments/cost.ts). */
export function warnIfLong(seconds: number, what: string, resumable: boolean): void {
  if (!(seconds > WARN_S)) return;
  process.stderr.write(
    `neuroplastic: a long run: ${what}, roughly ${duration(seconds)} by a rough estimate; Ctrl-C stops it${resumable ? " (--resume continues it)" : ""}\n`,
  );
}
