import { statSync } from "node:fs";

/**
 * What a path is when it is neither a regular file nor a directory (a
 * device, a FIFO, a socket), else null (also when nothing is there). Results
 * are written only to regular files: renaming over /dev/null would replace
 * the device node, and writing a FIFO blocks until someone reads it.
 */
export function specialKind(path: string): string | null {
  let st;
  try { st = statSync(path); } catch { return null; }
  if (st.isFile() || st.isDirectory()) return null;
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  return "neither a regular file nor a directory";
}
