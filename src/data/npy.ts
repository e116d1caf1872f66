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
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const f8 = data instanceof Float64Array, size = f8 ? 8 : 4;
  let header = `{'descr': '${f8 ? "<f8" : "<f4"}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pre = 6 + 2 + 2; // magic, version, header length
  header += " ".repeat((64 - ((pre + header.length + 1) % 64)) % 64) + "\n";
  const out = new Uint8Array(pre + header.length + size * count), v = new DataView(out.buffer);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY, version 1.0
  v.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  const o = pre + header.length;
  if (f8) for (let i = 0; i < count; i++) v.setFloat64(o + 8 * i, data[i], true);
  else for (let i = 0; i < count; i++) v.setFloat32(o + 4 * i, data[i], true);
  return out;
}

export function writeNpy(file: string, data: Float32Array | Float64Array, shape?: readonly number[]): void {
  writeAtomic(file, encodeNpy(data, shape));
}
