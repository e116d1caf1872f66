import { specialKind } from "../core/file-kind.js";
import { UsageError } from "./errors.js";

/**
 * Refuse an output path (or a file the command would write beside or inside
 * it) that is a device, FIFO or socket, with or without --force: results go
 * to regular files and directories only.
 */
export function checkOutTarget(flag: string, out: string, files: readonly string[] = []): void {
  for (const f of [out, ...files]) {
    const kind = specialKind(f);
    if (kind)
      throw new UsageError(
        `${flag} ${out}: ${f === out ? "it" : f} is ${kind}, not a regular file or directory; results are written only to files (give a file path)`,
      );
  }
}
