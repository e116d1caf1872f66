import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic } from "../core/files.js";

/**
 * TensorBoard event files, written by hand: no npm package writes them
 * without TensorFlow.js's native binding. The format, as TensorBoard reads it
 * (tensorboard/compat/proto/event.proto and summary.proto; the record framing
 * of tensorflow/core/lib/io/record_writer.cc):
 *
 *   record = uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)   (little-endian)
 *   masked_crc32c(x) = ((c >>> 15) | (c << 17)) + 0xa282ead8 mod 2³², c = CRC-32C (Castagnoli) of x
 *   data = a serialized tensorflow.Event:
 *     Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *     Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
 *
 * The first event of a file carries file_version "brain.Event:2" and no
 * summary. Each later event is appended in one write, so a killed run leaves
 * every event it finished (and at most one partial record, which a reader
 * ignores and a resumed run cuts off).
 */

/** The file of a log directory: TensorBoard reads every file whose name contains "tfevents". */
export const EVENTS_FILE = "events.out.tfevents.neuroplastic";

export interface ScalarEvent {
  wallTime: number;
  step: number;
  /** Only on the first event of a file. */
  fileVersion?: string;
  scalars: [tag: string, value: number][];
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1; // 0x82f63b78: the Castagnoli polynomial, bit-reversed
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC32C_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function maskedCrc(b: Uint8Array): number {
  const c = crc32c(b);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

/** Protobuf's base-128 varint of a non-negative integer below 2⁵³. */
function varint(n: number, out: number[]): void {
  while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); }
  out.push(n);
}

function lengthDelimited(field: number, bytes: Uint8Array | number[], out: number[]): void {
  varint((field << 3) | 2, out);
  varint(bytes.length, out);
  for (const x of bytes) out.push(x);
}

export function encodeEvent(e: ScalarEvent): Uint8Array {
  if (!Number.isSafeInteger(e.step) || e.step < 0) throw new RangeError(`tensorboard: step ${e.step} is not a non-negative integer`);
  const out: number[] = [];
  const f64 = new DataView(new ArrayBuffer(8));
  f64.setFloat64(0, e.wallTime, true);
  out.push((1 << 3) | 1, ...new Uint8Array(f64.buffer)); // wall_time: fixed64
  out.push(2 << 3); varint(e.step, out); // step: varint
  const utf8 = new TextEncoder();
  if (e.fileVersion !== undefined) lengthDelimited(3, utf8.encode(e.fileVersion), out);
  if (e.scalars.length) {
    const summary: number[] = [];
    for (const [tag, value] of e.scalars) {
      const v: number[] = [];
      lengthDelimited(1, utf8.encode(tag), v);
      const f32 = new DataView(new ArrayBuffer(4));
      f32.setFloat32(0, value, true);
      v.push((2 << 3) | 5, ...new Uint8Array(f32.buffer)); // simple_value: fixed32
      lengthDelimited(1, v, summary);
    }
    lengthDelimited(5, summary, out);
  }
  return Uint8Array.from(out);
}

export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + data.length), v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(data.length), true);
  v.setUint32(8, maskedCrc(out.subarray(0, 8)), true);
  out.set(data, 12);
  v.setUint32(12 + data.length, maskedCrc(data), true);
  return out;
}

/** The complete, CRC-valid records at the start of a file (a partial or damaged tail ends the list). */
export function readRecords(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 0;
  while (o + 12 <= b.length) {
    const n = Number(v.getBigUint64(o, true));
    if (v.getUint32(o + 8, true) !== maskedCrc(b.subarray(o, o + 8)) || o + 16 + n > b.length) break;
    const data = b.subarray(o + 12, o + 12 + n);
    if (v.getUint32(o + 12 + n, true) !== maskedCrc(data)) break;
    out.push(data);
    o += 16 + n;
  }
  return out;
}

/** The fields of an Event this module writes (others are skipped by their wire type). */
export function decodeEvent(b: Uint8Array): ScalarEvent {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength), text = new TextDecoder();
  const e: ScalarEvent = { wallTime: 0, step: 0, scalars: [] };
  const fields = (from: number, to: number, on: (field: number, wire: number, at: number, len: number) => void) => {
    let o = from;
    const vint = () => { let x = 0, m = 1, c; do { c = b[o++]; x += (c & 0x7f) * m; m *= 128; } while (c & 0x80); return x; };
    while (o < to) {
      const key = vint(), field = Math.floor(key / 8), wire = key & 7;
      if (wire === 0) { const x = vint(); on(field, wire, x, 0); }
      else if (wire === 1) { on(field, wire, o, 8); o += 8; }
      else if (wire === 5) { on(field, wire, o, 4); o += 4; }
      else if (wire === 2) { const n = vint(); on(field, wire, o, n); o += n; }
      else throw new RangeError(`tensorboard: wire type ${wire} in an event`);
    }
  };
  fields(0, b.length, (f, w, at, len) => {
    if (f === 1 && w === 1) e.wallTime = v.getFloat64(at, true);
    else if (f === 2 && w === 0) e.step = at;
    else if (f === 3 && w === 2) e.fileVersion = text.decode(b.subarray(at, at + len));
    else if (f === 5 && w === 2) fields(at, at + len, (f2, w2, at2, len2) => {
      if (f2 !== 1 || w2 !== 2) return;
      let tag = "", value = NaN;
      fields(at2, at2 + len2, (f3, w3, at3, len3) => {
        if (f3 === 1 && w3 === 2) tag = text.decode(b.subarray(at3, at3 + len3));
        else if (f3 === 2 && w3 === 5) value = v.getFloat32(at3, true);
      });
      e.scalars.push([tag, value]);
    });
  });
  return e;
}

/**
 * One TensorBoard run: DIR/events.out.tfevents.neuroplastic. A fresh log
 * replaces any earlier file; a resumed one keeps the earlier events that
 * `keep` accepts (those the resumed run will not write again) and appends
 * after them, so a run interrupted and resumed holds each step once.
 */
export class TensorBoardLog {
  readonly file: string;
  constructor(dir: string, opts: { keep?: (e: ScalarEvent) => boolean } = {}) {
    this.file = join(dir, EVENTS_FILE);
    const kept = opts.keep && existsSync(this.file)
      ? readRecords(readFileSync(this.file)).filter((r, i) => { const e = decodeEvent(r); return i > 0 && e.fileVersion === undefined && opts.keep!(e); })
      : [];
    const head = frameRecord(encodeEvent({ wallTime: Date.now() / 1000, step: 0, fileVersion: "brain.Event:2", scalars: [] }));
    const body = kept.map(frameRecord);
    const all = new Uint8Array(head.length + body.reduce((s, r) => s + r.length, 0));
    let o = 0;
    for (const r of [head, ...body]) { all.set(r, o); o += r.length; }
    writeAtomic(this.file, all);
  }

  /** Scalars at one step, as one event. */
  scalars(step: number, values: Record<string, number>): void {
    const scalars = Object.entries(values);
    if (scalars.length === 0) return;
    appendFileSync(this.file, frameRecord(encodeEvent({ wallTime: Date.now() / 1000, step, scalars })));
  }
}

/** Every event of a log file (the first, file_version, included), for tests and resumption. */
export function readEvents(file: string): ScalarEvent[] {
  return readRecords(readFileSync(file)).map(decodeEvent);
}

/** A TensorBoard run name from free text (a rule such as bp=0.0068,oja=0.0053): path separators and odd characters become '_'. */
export function runName(s: string): string {
  return s.replace(/[^\w.,=:+-]/g, "_");
}
