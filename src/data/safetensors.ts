import type { NamedArray } from "./npz.js";

/**
 * The safetensors format (github.com/huggingface/safetensors, "Format"): an
 * unsigned little-endian 64-bit header size N; N bytes of UTF-8 JSON mapping
 * each tensor name to {dtype, shape, data_offsets: [begin, end]} (byte
 * offsets into the data that follows, end exclusive) plus an optional
 * "__metadata__" map of strings to strings; then the tensors' bytes,
 * little-endian, C order, contiguous with no gaps. The header is padded with
 * spaces to a multiple of 8 bytes, as the reference writer does, so every
 * tensor starts aligned. `metadata` carries the JSON sidecar.
 */
export function encodeSafetensors(arrays: readonly NamedArray[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const a of arrays) {
    if (a.name in header) throw new RangeError(`safetensors: two tensors named ${a.name}`);
    const count = a.shape.reduce((x, y) => x * y, 1);
    if (count !== a.data.length) throw new RangeError(`safetensors: shape ${a.shape.join("×")} of ${a.name} holds ${count} values, the data ${a.data.length}`);
    const bytes = a.data.length * a.data.BYTES_PER_ELEMENT;
    header[a.name] = { dtype: a.data instanceof Float64Array ? "F64" : "F32", shape: [...a.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) { const p = new Uint8Array(padded).fill(0x20); p.set(json); json = p; }
  const out = new Uint8Array(8 + json.length + offset), v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let o = 8 + json.length;
  for (const a of arrays) {
    if (a.data instanceof Float64Array) for (let i = 0; i < a.data.length; i++) v.setFloat64(o + 8 * i, a.data[i], true);
    else for (let i = 0; i < a.data.length; i++) v.setFloat32(o + 4 * i, a.data[i], true);
    o += a.data.length * a.data.BYTES_PER_ELEMENT;
  }
  return out;
}
