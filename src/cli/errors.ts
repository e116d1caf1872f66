/** A usage error (a bad flag, value or combination): one line, no stack, exit code 2. */
export class UsageError extends Error {}

/** Work an interrupted command must save before the process exits (meta's checkpoint). */
const onInterrupt: (() => void)[] = [];
export function whenInterrupted(f: () => void): () => void {
  onInterrupt.push(f);
  return () => { const i = onInterrupt.indexOf(f); if (i >= 0) onInterrupt.splice(i, 1); };
}
/** What the interrupted message tells the user to do next (a command without saved state says how to get one). */
let nextStep = "resume with --resume";
export function setInterruptNote(s: string): void { nextStep = s; }
export function interruptNote(): string { return nextStep; }

export function runInterruptHooks(): void {
  for (const f of onInterrupt.splice(0)) { try { f(); } catch { /* the exit must not fail */ } }
}

/** Cursor shown, line wrapping back on (progress bars hide and disable them). */
export function restoreTerminal(): void {
  if (process.stderr.isTTY) process.stderr.write("\x1b[?25h\x1b[?7h");
}
