/**
 * Node only: loads the native kernels (build/native.node, compiled at install by
 * scripts/build-native.mjs) and registers them with the WebAssembly arenas
 * (src/core/wasm.ts), so that `--backend native` runs the heavy sweeps in C on
 * the arena's memory. Importing this file is what makes them available; the
 * browser entry never does. Absent (no compiler at install, NEUROPLASTIC_NATIVE=0
 * at install or here), nothing is registered and the wasm kernels run.
 */
import { createRequire } from "node:module";
import { registerNative, nativeFastIsa, nativeIsa, type NativeKernels } from "./wasm.js";

/** Why the native kernels are not loaded, or null when they are. */
export let nativeMissing: string | null = null;

function load(): void {
  if (process.env.NEUROPLASTIC_NATIVE === "0") { nativeMissing = "disabled (NEUROPLASTIC_NATIVE=0)"; return; }
  try {
    // ../../build from src/core and from dist/core alike.
    const k = createRequire(import.meta.url)("../../build/native.node") as NativeKernels;
    registerNative(k);
  } catch (e) {
    const code = (e as { code?: string }).code;
    nativeMissing = code === "MODULE_NOT_FOUND"
      ? "not built (no C compiler or Node headers at install)"
      : `failed to load (${(e as Error).message.split("\n")[0]})`;
  }
}
load();

export { nativeFastIsa, nativeIsa };
