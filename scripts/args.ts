/**
 * The dev scripts' flags (bench, bench:jax, bench:ramp, profile), read strictly with node:util's parseArgs:
 * an unknown flag, a flag without its value or a number that is not one is a line on stderr and exit 2,
 * before any measuring starts (a bench runs for minutes, and a typo must not cost them); --help prints
 * the script's usage line and exits 0.
 */
import { parseArgs } from "node:util";

export interface ScriptFlags {
  /** A string flag's value, or `d` when absent. */
  str(k: string, d: string): string;
  /** A string flag's value, or undefined when absent. */
  maybe(k: string): string | undefined;
  /** A whole number ≥ `min`, or `d` when absent. */
  int(k: string, d: number, min?: number): number;
  /** A boolean flag. */
  has(k: string): boolean;
  /** One line on stderr, exit 2. */
  fail(msg: string): never;
  /** The words that are not flags (only where `positionals` allows them; otherwise any is an error). */
  readonly words: readonly string[];
}

export function scriptFlags(name: string, usage: string, spec: Record<string, "string" | "boolean">, args = process.argv.slice(2), positionals = false): ScriptFlags {
  const fail = (msg: string): never => { process.stderr.write(`${name}: ${msg}\n`); process.exit(2); };
  let values: Record<string, string | boolean | undefined>, words: string[];
  try {
    ({ values, positionals: words } = parseArgs({
      args, options: { ...Object.fromEntries(Object.entries(spec).map(([k, type]) => [k, { type }])), help: { type: "boolean" } }, strict: true, allowPositionals: positionals,
    }));
  } catch (e) {
    return fail(`${(e as Error).message.split("\n")[0]} (usage: ${usage})`);
  }
  if (values.help) { process.stdout.write(`usage: ${usage}\n`); process.exit(0); }
  const maybe = (k: string) => values[k] as string | undefined;
  return {
    maybe,
    str: (k, d) => maybe(k) ?? d,
    int: (k, d, min = 1) => {
      const v = maybe(k);
      if (v === undefined) return d;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) fail(`--${k} must be a whole number ≥ ${min}, got '${v}'`);
      return n;
    },
    has: (k) => values[k] === true,
    fail,
    words,
  };
}
