import { writeAtomic } from "../core/files.js";

/**
 * An array as a NumPy .npy file, format version 1.0: the magic string, the
 * version, a little-endian u16 header length, a Python-literal header
 * ({'descr': '<f4', 'fortran_order': False, 'shape': (…), }) padded with
 * spaces to a multiple of 64 bytes and ended by a newline, then the values,
 * little-endian float32 (or float64) in C order. `numpy.load` and
 * `torch.from_numpy` read it.
 */
export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[] = [data.length]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`npy: shape ${shape.join("×")} holds ${count} values, the data ${data.length}`);
  const f8 = data instanceof Float64Array, size = f8 ? 8 : 4;
  const head = npyHeader(f8 ? "<f8" : "<f4", shape);
  const out = new Uint8Array(head.length + size * count), v = new DataView(out.buffer);
  out.set(head, 0);
  const o = head.length;
  if (f8) for (let i = 0; i < count; i++) v.setFloat64(o + 8 * i, data[i], true);
  else for (let i = 0; i < count; i++) v.setFloat32(o + 4 * i, data[i], true);
  return out;
}

/**
 * A string as a 0-d .npy array of dtype '<U n' (NumPy's fixed-width unicode:
 * n UTF-32LE code points), so `str(np.load(f)[name])` gives the text back
 * without pickling (np.load's allow_pickle=False default reads it).
 */
export function encodeNpyText(text: string): Uint8Array {
  const cps = Array.from(text, (c) => c.codePointAt(0)!);
  const head = npyHeader(`<U${Math.max(1, cps.length)}`, []);
  const out = new Uint8Array(head.length + 4 * Math.max(1, cps.length)), v = new DataView(out.buffer);
  out.set(head, 0);
  cps.forEach((c, i) => v.setUint32(head.length + 4 * i, c, true));
  return out;
}

/** The magic, version 1.0, header length and the header itself, padded so the data starts at a multiple of 64 bytes. */
function npyHeader(descr: string, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pre = 6 + 2 + 2; // magic, version, header length
  header += " ".repeat((64 - ((pre + header.length + 1) % 64)) % 64) + "\n";
  const out = new Uint8Array(pre + header.length), v = new DataView(out.buffer);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY, version 1.0
  v.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  return out;
}

export function writeNpy(file: string, data: Float32Array | Float64Array, shape?: readonly number[]): void {
  writeAtomic(file, encodeNpy(data, shape));
}
