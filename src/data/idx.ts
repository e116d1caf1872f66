import { gunzipSync } from "node:zlib";
import { parseIdx as parseIdxWith, type IdxArray } from "./idx-format.js";

export { encodeIdx, gunzipIdx, IdxError, isGzip, type IdxArray, type IdxDType } from "./idx-format.js";

/** Parse an IDX buffer, gzipped (through Node's zlib) or raw; `what` names the source in errors. */
export function parseIdx(buf: Uint8Array, what = "IDX data"): IdxArray {
  return parseIdxWith(buf, what, (b) => new Uint8Array(gunzipSync(b)));
}
