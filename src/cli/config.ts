import { readFileSync } from "node:fs";
import type { Command, Option } from "commander";
import { parse as parseYaml } from "yaml";
import { formatThetaSpec, type ThetaSpec } from "../rules/rule.js";
import { UsageError } from "./errors.js";
import { describeFsError } from "./fs-errors.js";
import { nativeFastIsa } from "../core/native.js";

/**
 * `--config FILE` (JSON or YAML): a flat object whose keys are the command's
 * long flag names (camelCase as in the `config` of every result file, or
 * kebab-case), with values as typed JSON (numbers, booleans, lists) or as the
 * strings one would type. `theta` (an object, as result files hold it) stands
 * for `--rule` (train) or the initial θ (`--init`, meta). The file becomes
 * flags placed before the command line's own, so everything is parsed and
 * checked the same way, and flags given on the command line win.
 */
export function withConfig(argv: readonly string[], program: Command): string[] {
  const at = argv.indexOf("--config");
  if (at < 0) return [...argv];
  const file = argv[at + 1];
  if (file === undefined || file.startsWith("--")) throw new UsageError("--config needs a file (JSON or YAML)");
  const name = argv.find((a) => !a.startsWith("-"));
  const cmd = program.commands.find((c) => c.name() === name);
  if (cmd === undefined) throw new UsageError("--config goes with a command: train, meta or reproduce");
  const rest = [...argv.slice(0, at), ...argv.slice(at + 2)];
  const tokens = configTokens(readConfig(file), cmd, rest, file);
  const i = rest.indexOf(cmd.name());
  return [...rest.slice(0, i + 1), ...tokens, ...rest.slice(i + 1)];
}

export function readConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : describeFsError(e)}`);
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new UsageError(`config file ${file} is not valid ${/\.ya?ml$/i.test(file) ? "YAML" : "JSON"}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new UsageError(`config file ${file} must hold an object of flag names and values`);
  return data as Record<string, unknown>;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The flags a config object stands for, given the command's options; keys the command line also sets are left to it. */
export function configTokens(cfg: Record<string, unknown>, cmd: Command, argv: readonly string[], file: string): string[] {
  const options = cmd.options as readonly Option[];
  const byKey = new Map<string, Option>();
  for (const o of options) {
    if (!o.long) continue;
    byKey.set(o.attributeName(), o);
    byKey.set(o.long.replace(/^--(no-)?/, ""), o);
  }
  const given = new Set(argv.filter((a) => a.startsWith("--")).map((a) => a.split("=")[0]));
  const out: string[] = [];
  for (const [key, value] of Object.entries(cfg)) {
    if (value === undefined || value === null) continue;
    if (key === "theta") {
      // A result file's θ: the rule for train, the initial θ for meta.
      const flag = cmd.name() === "train" ? "--rule" : cmd.name() === "meta" ? "--init" : null;
      if (flag === null) throw new UsageError(`config file ${file}: 'theta' applies to train and meta, not ${cmd.name()}`);
      if (typeof value !== "object" || Array.isArray(value))
        throw new UsageError(`config file ${file}: 'theta' must be an object such as {"bp": 0.0068, "oja": 0.0053}`);
      if (Object.keys(value as object).length === 0) throw new UsageError(`config file ${file}: 'theta' is empty`);
      for (const [term, c] of Object.entries(value as object)) {
        const ok = typeof c === "number" || (Array.isArray(c) && c.length > 0 && c.every((x) => typeof x === "number"));
        if (!ok) throw new UsageError(`config file ${file}: theta.${term} must be a number or a list of numbers, got ${JSON.stringify(c)}`);
      }
      if (!given.has(flag) && !(flag === "--rule" && given.has("--rule-file"))) out.push(flag, formatThetaSpec(value as ThetaSpec));
      continue;
    }
    if (key === "kernels") {
      // native-fast's path, recorded in its results (not a flag: NEUROPLASTIC_NATIVE_ISA picks it). A config of the
      // other path would give other bytes, so it is refused here rather than run on this one.
      const here = nativeFastIsa();
      if (cfg.backend === "native-fast" && typeof value === "string" && here !== null && value !== here && !given.has("--backend"))
        throw new UsageError(
          `config file ${file}: it ran native-fast on ${value}, this process has ${here} (NEUROPLASTIC_NATIVE_ISA=${value.replace("+fma", "")} selects it)`,
        );
      continue;
    }
    const opt = byKey.get(key) ?? byKey.get(kebab(key));
    if (opt === undefined || ["--config", "--print-config"].includes(opt.long!))
      throw new UsageError(`config file ${file}: unknown key '${key}' for ${cmd.name()}`);
    const flag = opt.long!;
    if (given.has(flag) || (opt.negate && given.has(flag.replace("--no-", "--")))) continue;
    const takesValue = opt.required || opt.optional;
    if (!takesValue) {
      if (typeof value !== "boolean") throw new UsageError(`config file ${file}: '${key}' must be true or false, got ${JSON.stringify(value)}`);
      // A negatable flag (--no-oja-output) is set by `ojaOutput: false`; a plain one by `bias: true`.
      if (opt.negate ? value === false : value === true) out.push(flag);
      continue;
    }
    const values = Array.isArray(value) && (opt.variadic || isRepeatable(opt)) ? value : [value];
    for (const v of values) {
      if (Array.isArray(v)) out.push(flag, v.map((x) => String(x)).join(","));
      else if (typeof v === "object") {
        if (key === "init" && v !== null) { const w = (v as { weights?: unknown }).weights; if (typeof w === "string") out.push(flag, w); continue; }
        throw new UsageError(`config file ${file}: '${key}' must be a number, a string or a list, got an object`);
      } else out.push(flag, String(v));
    }
  }
  return out;
}

/** Options whose parser accumulates a list (--rule, --rule-file, --init). */
function isRepeatable(o: Option): boolean {
  return Array.isArray(o.defaultValue) && !["--hidden"].includes(o.long!);
}
