import { mkdirSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { specialKind } from "./file-kind.js";

/**
 * Write a file atomically: a temporary beside it, then rename, so a crash or
 * kill leaves the old file or the new one, never half of either.
 */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  // The rename would replace a device node or FIFO with a regular file.
  const kind = specialKind(file);
  if (kind) throw new Error(`refusing to replace ${file}: it is ${kind}, not a regular file`);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    // No *.tmp is left behind by a failed write (a full disk, a read-only directory).
    try { unlinkSync(tmp); } catch { /* it was never created */ }
    throw e;
  }
}
