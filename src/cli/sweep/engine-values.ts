import { SweepError } from "./plan.js";

/**
 * Values that go into job scripts, checked where they enter: a value can
 * never add a line or a field to a script (a newline in --partition would
 * add an #SBATCH line of its own; a space would end the directive early).
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** SLURM's --time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, or UNLIMITED. */
export function slurmTime(v: string): string {
  if (!/^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}|\d+-\d{1,2}:\d{1,2}|\d+-\d{1,2}:\d{1,2}:\d{1,2}|unlimited|infinite)$/i.test(v)) {
    throw new SweepError(`--time must be a SLURM time limit (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, e.g. 02:00:00), got ${JSON.stringify(v)}`);
  }
  return v;
}

/** SLURM's --mem: a whole number with an optional unit K, M, G or T. */
export function slurmMem(v: string): string {
  if (!/^\d+[KMGT]?$/i.test(v)) throw new SweepError(`--mem must be a whole number with an optional unit K, M, G or T (e.g. 4G), got ${JSON.stringify(v)}`);
  return v;
}

/** A partition name, or a comma-separated list of them. */
export function slurmPartition(v: string): string {
  if (!/^[\w.-]+(,[\w.-]+)*$/.test(v))
    throw new SweepError(`--partition must be a partition name (letters, digits, '_', '.', '-'; a comma-separated list for several), got ${JSON.stringify(v)}`);
  return v;
}

/** A path or command word with no control characters (no newline, tab, NUL). */
export function plainText(flag: string, v: string): string {
  if (CONTROL.test(v)) throw new SweepError(`${flag} must not contain control characters (a newline, a tab), got ${JSON.stringify(v)}`);
  return v;
}

/**
 * A path as one #SBATCH argument: sbatch reads a directive's value up to the
 * first space unless it is in double quotes, and has no escape for '"'.
 */
export function sbatchPath(flag: string, v: string): string {
  plainText(flag, v);
  if (v.includes('"')) throw new SweepError(`${flag} ${JSON.stringify(v)} contains '"', which an #SBATCH line cannot hold; use another directory`);
  return /^[\w%@+=:,./-]+$/.test(v) ? v : `"${v}"`;
}

/** A job name from a directory's name: letters, digits, '.', '_' and '-' only. */
export function jobName(v: string): string {
  return v.replace(/[^\w.-]/g, "_").slice(0, 64);
}

/** A Kubernetes name (DNS-1123 subdomain), for --pvc. */
export function k8sName(flag: string, v: string): string {
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(v))
    throw new SweepError(`${flag} must be a Kubernetes name (lower-case letters, digits, '-' and '.'), got ${JSON.stringify(v)}`);
  return v;
}

/** A container image reference: no spaces or control characters. */
export function imageRef(v: string): string {
  if (!/^[^\s\u0000-\u001f\u007f]+$/.test(v))
    throw new SweepError(`--image must be an image reference without spaces (e.g. registry.example/neuroplastic:0.1.0), got ${JSON.stringify(v)}`);
  return v;
}
