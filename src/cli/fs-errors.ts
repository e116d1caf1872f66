/** A file-system error in plain words, naming the path: never raw errno text. */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException, path = err.path ? ` (${err.path})` : "";
  switch (err.code) {
    case "EEXIST": return `a file is in the way where a directory is needed${path}`;
    case "ENOTDIR": return `a part of the path is a file, not a directory${path}`;
    case "EACCES": case "EPERM": return `permission denied${path}`;
    case "ENOSPC": return `no space left on the device${path}`;
    case "EROFS": return `the file system is read-only${path}`;
    case "ENOENT": return `no such file or directory${path}`;
    case "EISDIR": return `it is a directory${path}`;
    default: return `${err.code ?? "error"}: ${(err.message ?? String(e)).replace(/^\w+: /, "")}`;
  }
}
