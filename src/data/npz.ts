import { zipSync } from "fflate";
import { encodeNpy, encodeNpyText } from "./npy.js";

/** A named array for a one-file export: C order, `shape` as NumPy reads it. */
export interface NamedArray {
  name: string;
  shape: readonly number[];
  data: Float32Array | Float64Array;
}

/**
 * NumPy's .npz: a ZIP archive of one `<name>.npy` per array, stored
 * uncompressed as `np.savez` writes it (numpy.lib.format; np.load returns a
 * dict-like of arrays). `text` entries become 0-d unicode arrays (the JSON
 * sidecar). Every entry carries the same fixed timestamp, so the same arrays
 * give the same bytes.
 */
export function encodeNpz(arrays: readonly NamedArray[], text: Record<string, string> = {}): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0; mtime: Date }]> = {};
  const add = (name: string, bytes: Uint8Array) => {
    if (`${name}.npy` in files) throw new RangeError(`npz: two entries named ${name}`);
    files[`${name}.npy`] = [bytes, { level: 0, mtime: ZIP_EPOCH }];
  };
  for (const a of arrays) add(a.name, encodeNpy(a.data, a.shape));
  for (const [name, s] of Object.entries(text)) add(name, encodeNpyText(s));
  return zipSync(files);
}

/** The earliest time a ZIP entry can hold (MS-DOS dates start in 1980), in local time as ZIP stores it. */
const ZIP_EPOCH = new Date(1980, 0, 1, 0, 0, 0);
