import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where a result file came from: the package version, Node's, and the git commit when run from a checkout. */
export interface Provenance { neuroplastic: string; node: string; commit?: string }

const root = fileURLToPath(new URL("../..", import.meta.url));

export function provenance(): Provenance {
  let version = "unknown";
  try { version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version; } catch { /* not packaged */ }
  const commit = gitCommit(join(root, ".git"));
  return { neuroplastic: version, node: process.version, ...(commit ? { commit } : {}) };
}

/** HEAD's commit, read from the repository's files (no git process): a detached HEAD, a loose ref, or packed-refs. */
function gitCommit(git: string): string | null {
  try {
    if (!existsSync(join(git, "HEAD"))) return null;
    const head = readFileSync(join(git, "HEAD"), "utf8").trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = head.match(/^ref: (.+)$/)?.[1];
    if (!ref) return null;
    if (existsSync(join(git, ref))) return readFileSync(join(git, ref), "utf8").trim();
    const packed = existsSync(join(git, "packed-refs")) ? readFileSync(join(git, "packed-refs"), "utf8") : "";
    return packed.split("\n").find((l) => l.endsWith(` ${ref}`))?.split(" ")[0] ?? null;
  } catch { return null; }
}
