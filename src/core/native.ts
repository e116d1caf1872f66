/**
 * Node only: loads the native kernels (build/native.node, compiled at install by
 * scripts/build-native.mjs) and registers them with the WebAssembly arenas
 * (src/core/wasm.ts), so that `--backend native` runs the heavy sweeps in C on
 * the arena's memory. Importing this file is what makes them available; the
 * browser entry never does. Absent (no compiler at install, NEUROPLASTIC_NATIVE=0
 * at install or here), nothing is registered and the wasm kernels run.
 *
 * Before loading, three checks keep the commonest bad addons from taking a run down
 * with it: a truncated ELF file (an interrupted copy) would die in dlopen with SIGBUS,
 * before any message, so its headers are read first (other corruption of a file of the
 * right length is not detected: only loading it could tell); an addon built from other sources than native/ holds
 * now (a checkout moved on without `npm run build:native`) could call its kernels
 * with other arguments, so it carries the hash of the sources it was built from
 * and must match; and NEUROPLASTIC_NATIVE_ISA must name a path, because the two
 * native-fast paths give different bytes and a typo must not pick one silently.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { registerNative, nativeFastIsa, nativeIsa, type NativeKernels } from "./wasm.js";

/** Why the native kernels are not loaded, or null when they are. */
export let nativeMissing: string | null = null;
/** A bad NEUROPLASTIC_NATIVE_ISA: every command that runs kernels refuses it (src/cli/common.ts resolveBackend). */
export let nativeEnvError: string | null = null;
/** The vector path NEUROPLASTIC_NATIVE_ISA asked for, or null (unset or empty: the widest this CPU has). */
export const nativeIsaForced: string | null = process.env.NEUROPLASTIC_NATIVE_ISA || null;

const ISAS = ["portable", "avx2", "avx512"];

/** The hash scripts/build-native.mjs compiles into the addon (-DNP_SOURCE): sha256 of native/kern.c then native/addon.c, 16 hex digits. */
export function nativeSourceHash(dir: string): string | null {
  const h = createHash("sha256");
  for (const f of ["kern.c", "addon.c"]) {
    try { h.update(readFileSync(`${dir}/${f}`)); } catch { return null; }
  }
  return h.digest("hex").slice(0, 16);
}

/** What is wrong with an ELF file's layout (a header, section table or loaded segment past its end), or null. */
export function elfDamage(file: string): string | null {
  let fd: number;
  try { fd = openSync(file, "r"); } catch (e) { return `unreadable: ${(e as Error).message.split("\n")[0]}`; }
  try {
    const size = fstatSync(fd).size;
    const h = Buffer.alloc(64);
    const got = readSync(fd, h, 0, 64, 0);
    if (got < 4 || h.readUInt32BE(0) !== 0x7f454c46) return null; // not ELF: the loader's own message is clear
    if (got < 64) return `truncated: ${size} bytes, shorter than an ELF header`;
    if (h[4] !== 2 || h[5] !== 1) return null; // only 64-bit little-endian is laid out below
    const phoff = Number(h.readBigUInt64LE(0x20)), shoff = Number(h.readBigUInt64LE(0x28));
    const phentsize = h.readUInt16LE(0x36), phnum = h.readUInt16LE(0x38), shentsize = h.readUInt16LE(0x3a), shnum = h.readUInt16LE(0x3c);
    if (phoff + phnum * phentsize > size || shoff + shnum * shentsize > size) return `truncated: ${size} bytes, its header tables end past it`;
    const ph = Buffer.alloc(phnum * phentsize);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const p = i * phentsize;
      if (ph.readUInt32LE(p) !== 1) continue; // PT_LOAD
      const off = Number(ph.readBigUInt64LE(p + 8)), filesz = Number(ph.readBigUInt64LE(p + 32));
      if (off + filesz > size) return `truncated: ${size} bytes, a loaded segment ends at ${off + filesz}`;
    }
    return null;
  } catch (e) {
    return `unreadable: ${(e as Error).message.split("\n")[0]}`;
  } finally {
    closeSync(fd);
  }
}

/**
 * The addon at `file`, checked against the sources in `srcDir` (its damage, its sources' hash, the forced
 * path), or why it may not be used. Exported for test/native.test.ts, which hands it damaged and stale copies.
 */
export function inspectAddon(file: string, srcDir: string): { k: NativeKernels } | { missing: string; envError?: string } {
  const rebuild = "; rebuild it with npm run build:native";
  const damage = elfDamage(file);
  if (damage !== null) return { missing: `not loaded (build/native.node is ${damage.startsWith("unreadable") ? "" : "damaged, "}${damage}${rebuild})` };
  let k: NativeKernels;
  try {
    k = createRequire(import.meta.url)(file) as NativeKernels;
  } catch (e) {
    return { missing: `not loaded (${(e as Error).message.split("\n")[0]})` };
  }
  const want = nativeSourceHash(srcDir);
  const have = typeof k.source === "function" ? k.source() : null;
  if (want !== null && have !== want) return { missing: `not loaded (build/native.node was built from other sources than native/ holds${rebuild})` };
  const isa = k.isa();
  if (nativeIsaForced !== null && nativeIsaForced !== isa) {
    return {
      missing: "not loaded (NEUROPLASTIC_NATIVE_ISA asks for a path this CPU lacks)",
      envError: `NEUROPLASTIC_NATIVE_ISA=${nativeIsaForced}: this CPU lacks ${nativeIsaForced === "avx512" ? "AVX-512F" : "AVX2"} (its widest path is ${isa})`,
    };
  }
  return { k };
}

function load(): void {
  if (process.env.NEUROPLASTIC_NATIVE === "0") { nativeMissing = "disabled (NEUROPLASTIC_NATIVE=0)"; return; }
  if (nativeIsaForced !== null && !ISAS.includes(nativeIsaForced)) {
    nativeEnvError = `NEUROPLASTIC_NATIVE_ISA=${JSON.stringify(nativeIsaForced)}: expected portable, avx2 or avx512 (unset: the widest this CPU has)`;
    nativeMissing = "not loaded (a bad NEUROPLASTIC_NATIVE_ISA)";
    return;
  }
  // ../../build and ../../native from src/core and from dist/core alike.
  const file = fileURLToPath(new URL("../../build/native.node", import.meta.url));
  if (!existsSync(file)) {
    // The install step leaves its reason beside the addon it did not build.
    let why = "no C compiler or Node headers at install";
    try { why = readFileSync(`${file}.skipped`, "utf8").trim() || why; } catch { /* an older install step wrote none */ }
    nativeMissing = `not built (${why})`;
    return;
  }
  const r = inspectAddon(file, fileURLToPath(new URL("../../native", import.meta.url)));
  if ("k" in r) registerNative(r.k);
  else { nativeMissing = r.missing; nativeEnvError = r.envError ?? null; }
}

function loadAndSay(): void {
  load();
  if (nativeMissing !== null) registerNative(null, nativeMissing);
}
loadAndSay();

/**
 * Why `backend` cannot run in this process, with what to use instead, or null when it can: a bad
 * NEUROPLASTIC_NATIVE_ISA refuses every backend; native needs the addon; native-fast also its path.
 * The CLI (src/cli/common.ts resolveBackend) and the dev scripts give this one line.
 */
export function backendRefusal(backend: string): string | null {
  if (nativeEnvError !== null) return nativeEnvError;
  if (backend === "native" && nativeIsa() === null) return `--backend native: the native kernels are ${nativeMissing}; use --backend wasm`;
  if (backend === "native-fast" && nativeFastIsa() === null) {
    const why = nativeIsa() === null ? `the native kernels are ${nativeMissing}; use --backend wasm`
      : nativeIsaForced === "portable" ? "NEUROPLASTIC_NATIVE_ISA=portable turns its kernels off; use --backend native or wasm"
      : "this CPU lacks AVX2 + FMA; use --backend native or wasm";
    return `--backend native-fast: ${why}`;
  }
  return null;
}

export { nativeFastIsa, nativeIsa };
