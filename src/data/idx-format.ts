/**
 * The IDX format of MNIST, EMNIST, Fashion-MNIST and KMNIST (LeCun et al.):
 * two zero bytes, a dtype byte, a rank byte, rank big-endian uint32
 * dimensions, then the data, big-endian. Files may be gzipped.
 */
export interface IdxArray {
  dtype: IdxDType;
  dims: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

export type IdxDType = "u8" | "i8" | "i16" | "i32" | "f32" | "f64";

const DTYPES: Record<number, { name: IdxDType; size: number }> = {
  0x08: { name: "u8", size: 1 },
  0x09: { name: "i8", size: 1 },
  0x0b: { name: "i16", size: 2 },
  0x0c: { name: "i32", size: 4 },
  0x0d: { name: "f32", size: 4 },
  0x0e: { name: "f64", size: 8 },
};

export class IdxError extends Error {}

/** Whether `b` starts with the gzip magic bytes. */
export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * Parse an IDX buffer; `what` names the source in errors. A gzipped buffer
 * needs `gunzip` (Node's zlib in data/idx.ts; in a browser, decompress first
 * with gunzipIdx below).
 */
export function parseIdx(buf: Uint8Array, what = "IDX data", gunzip?: (b: Uint8Array) => Uint8Array): IdxArray {
  let b = buf;
  if (isGzip(b)) {
    if (gunzip === undefined) throw new IdxError(`${what}: gzipped; decompress it first (gunzipIdx)`);
    try { b = gunzip(b); }
    catch { throw new IdxError(`${what}: corrupt gzip stream`); }
  }
  if (b.length < 4) throw new IdxError(`${what}: truncated (${b.length} bytes, no IDX header)`);
  if (b[0] !== 0 || b[1] !== 0) throw new IdxError(`${what}: bad magic number (not an IDX file)`);
  const dt = DTYPES[b[2]];
  if (dt === undefined) throw new IdxError(`${what}: unknown IDX dtype 0x${b[2].toString(16).padStart(2, "0")}`);
  const rank = b[3];
  if (rank === 0) throw new IdxError(`${what}: IDX rank is 0`);
  const head = 4 + 4 * rank;
  if (b.length < head) throw new IdxError(`${what}: truncated header`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0) throw new IdxError(`${what}: dimension ${i} is 0`);
    dims.push(d);
    count *= d;
  }
  const want = head + count * dt.size;
  if (b.length < want) throw new IdxError(`${what}: truncated (${b.length} bytes, header says ${want})`);
  if (b.length > want) throw new IdxError(`${what}: ${b.length - want} trailing bytes after the data the header describes`);
  let data: IdxArray["data"];
  switch (dt.name) {
    case "u8": data = b.slice(head, want); break;
    case "i8": data = new Int8Array(b.slice(head, want).buffer); break;
    case "i16": data = new Int16Array(count); for (let i = 0; i < count; i++) data[i] = view.getInt16(head + 2 * i, false); break;
    case "i32": data = new Int32Array(count); for (let i = 0; i < count; i++) data[i] = view.getInt32(head + 4 * i, false); break;
    case "f32": data = new Float32Array(count); for (let i = 0; i < count; i++) data[i] = view.getFloat32(head + 4 * i, false); break;
    case "f64": data = new Float64Array(count); for (let i = 0; i < count; i++) data[i] = view.getFloat64(head + 8 * i, false); break;
  }
  return { dtype: dt.name, dims, data };
}

/** Decompress a gzipped IDX buffer with the platform's DecompressionStream (browsers, Node 18+); raw buffers pass through. */
export async function gunzipIdx(buf: Uint8Array, what = "IDX data"): Promise<Uint8Array> {
  if (!isGzip(buf)) return buf;
  try {
    const stream = new Blob([buf as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch { throw new IdxError(`${what}: corrupt gzip stream`); }
}

/** Serialize to IDX (big-endian), the inverse of parseIdx; used by tests and tools. */
export function encodeIdx(a: IdxArray): Uint8Array {
  const code = Number(Object.entries(DTYPES).find(([, v]) => v.name === a.dtype)![0]);
  const size = DTYPES[code].size;
  const count = a.dims.reduce((x, y) => x * y, 1);
  if (a.data.length !== count) throw new IdxError(`encodeIdx: data has ${a.data.length} values, dims say ${count}`);
  const head = 4 + 4 * a.dims.length;
  const out = new Uint8Array(head + count * size);
  const v = new DataView(out.buffer);
  out[2] = code; out[3] = a.dims.length;
  a.dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const x = a.data[i], o = head + i * size;
    switch (a.dtype) {
      case "u8": v.setUint8(o, x); break;
      case "i8": v.setInt8(o, x); break;
      case "i16": v.setInt16(o, x, false); break;
      case "i32": v.setInt32(o, x, false); break;
      case "f32": v.setFloat32(o, x, false); break;
      case "f64": v.setFloat64(o, x, false); break;
    }
  }
  return out;
}
