import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from "node:fs";
import { hostname } from "node:os";

/**
 * One cell computed once: a process claims cell i by creating
 * DIR/running/<i>.json exclusively (O_EXCL, atomic on a local or NFSv3+
 * file system), keeps it fresh with a heartbeat while it computes, and
 * removes it at the end. A claim is stale — and taken over — when its
 * process is gone: on this host, when its pid no longer runs; from another
 * host, when its heartbeat is older than STALE_MS.
 */
export const HEARTBEAT_MS = 30_000;
export const STALE_MS = 15 * 60_000;

export interface Claim { index: number; host: string; pid: number; log: string; started: string }

export type ClaimResult = { ok: true; release: () => void; recovered?: Claim } | { ok: false; holder: Claim | null };

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === "EPERM"; }
}

/** Why a claim is stale, or null while its process may still be computing. */
export function staleness(c: Claim | null, mtimeMs: number, now = Date.now()): string | null {
  if (c === null) return "an unreadable claim";
  if (c.host === hostname()) return alive(c.pid) ? null : `process ${c.pid} on ${c.host} is no longer running`;
  return now - mtimeMs > STALE_MS ? `no heartbeat from ${c.host} for ${Math.round((now - mtimeMs) / 60_000)} minutes` : null;
}

function read(file: string): { claim: Claim | null; text: string; mtimeMs: number } | null {
  try {
    const text = readFileSync(file, "utf8"), mtimeMs = statSync(file).mtimeMs;
    let claim: Claim | null = null;
    try { const j = JSON.parse(text); if (typeof j?.pid === "number" && typeof j?.host === "string") claim = j; } catch { /* a claim cut short */ }
    return { claim, text, mtimeMs };
  } catch { return null; }
}

function create(file: string, c: Claim): boolean {
  let fd: number;
  try { fd = openSync(file, "wx"); } catch (e) { if ((e as NodeJS.ErrnoException).code === "EEXIST") return false; throw e; }
  try { writeSync(fd, JSON.stringify(c) + "\n"); } finally { closeSync(fd); }
  return true;
}

export function claimCell(file: string, c: Claim): ClaimResult {
  let recovered: Claim | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (create(file, c)) {
      const beat = setInterval(() => { try { const t = new Date(); utimesSync(file, t, t); } catch { /* released */ } }, HEARTBEAT_MS);
      beat.unref();
      return { ok: true, release: () => { clearInterval(beat); try { unlinkSync(file); } catch { /* gone already */ } }, ...(recovered ? { recovered } : {}) };
    }
    const held = read(file);
    if (held === null) continue; // released meanwhile: try again
    if (staleness(held.claim, held.mtimeMs) === null) return { ok: false, holder: held.claim };
    // Take the stale claim aside by renaming it (only one process's rename succeeds); if what was moved is not the
    // claim judged stale (another process took it over in between), put it back and leave the cell to that process.
    const aside = `${file}.stale.${process.pid}`;
    try { renameSync(file, aside); } catch { continue; }
    const moved = read(aside);
    if (moved && moved.text !== held.text) { try { renameSync(aside, file); } catch { /* */ } return { ok: false, holder: moved.claim }; }
    try { unlinkSync(aside); } catch { /* */ }
    recovered = held.claim ?? undefined;
  }
  return { ok: false, holder: read(file)?.claim ?? null };
}
