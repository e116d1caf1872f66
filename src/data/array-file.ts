import { encodeNpz, type NamedArray } from "./npz.js";
import { encodeSafetensors } from "./safetensors.js";

/** How exported arrays are written: one .npy per array with a JSON sidecar beside them, or one file holding both. */
export const ARRAY_FORMATS = ["npy", "npz", "safetensors"] as const;
export type ArrayFormat = (typeof ARRAY_FORMATS)[number];

/**
 * Every array and the JSON sidecar in one file: an .npz whose entry
 * 'sidecar' is the JSON text (a 0-d unicode array), or a .safetensors whose
 * metadata 'sidecar' is.
 */
export function encodeArrayFile(format: Exclude<ArrayFormat, "npy">, arrays: readonly NamedArray[], sidecar: string): Uint8Array {
  if (arrays.some((a) => a.name === "sidecar")) throw new RangeError("an exported array may not be named 'sidecar'");
  return format === "npz" ? encodeNpz(arrays, { sidecar }) : encodeSafetensors(arrays, { sidecar });
}
