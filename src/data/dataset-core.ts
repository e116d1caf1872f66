import { IdxError } from "./idx-format.js";

/** A labelled image set held as raw bytes; pixels are scaled to [0, 1] as examples are used. */
export interface Dataset {
  /** Where it came from, for reports. */
  source: string;
  split: Split;
  /** n × dim pixel bytes, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  /** Pixels per image (784 for 28 × 28). */
  dim: number;
  /** Image rows and columns (dim = rows × cols): a sequential task presents the rows one per time step. */
  rows: number;
  cols: number;
  /** Whether the images were transposed on loading (EMNIST). */
  transposed?: boolean;
  /** Size of the label set (max label + 1): the published output width. */
  nClasses: number;
  /** Example indices of each class. */
  byClass: Int32Array[];
}

export type Split = "train" | "test";

export interface LoadOptions {
  /** EMNIST stores images transposed; set this to flip them to the MNIST orientation. */
  transpose?: boolean;
  /** Accept labels with gaps (a class below the largest label with no example). Refused by default: one corrupt label would widen the output. */
  sparseLabels?: boolean;
}

/** Build a Dataset from parsed IDX arrays, checking that they fit together. */
export function fromArrays(
  images: ArrayLike<number>, imgDims: number[], labels: ArrayLike<number>, lblDims: number[],
  source: string, split: Split, opts: LoadOptions = {}, imgWhat = "images", lblWhat = "labels",
): Dataset {
  if (!(images instanceof Uint8Array)) throw new IdxError(`${imgWhat}: images must be unsigned bytes (IDX dtype 0x08)`);
  if (!(labels instanceof Uint8Array)) throw new IdxError(`${lblWhat}: labels must be unsigned bytes (IDX dtype 0x08)`);
  if (imgDims.length !== 3) throw new IdxError(`${imgWhat}: images must have 3 dimensions (n, rows, cols), found ${imgDims.length}`);
  if (lblDims.length !== 1) throw new IdxError(`${lblWhat}: labels must have 1 dimension, found ${lblDims.length}`);
  const [n, rows, cols] = imgDims;
  if (lblDims[0] !== n) throw new IdxError(`${lblWhat}: ${lblDims[0]} labels for ${n} images`);
  const dim = rows * cols;
  let px = images, shape = { rows, cols };
  if (opts.transpose) {
    shape = { rows: cols, cols: rows };
    px = new Uint8Array(images.length);
    for (let k = 0; k < n; k++) {
      const o = k * dim;
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) px[o + c * rows + r] = images[o + r * cols + c];
    }
  }
  let nClasses = 0, top = 0;
  for (let i = 0; i < n; i++) if (labels[i] + 1 > nClasses) { nClasses = labels[i] + 1; top = i; }
  const counts = new Int32Array(nClasses);
  for (let i = 0; i < n; i++) counts[labels[i]]++;
  // The output layer is as wide as the largest label + 1 (as published): a label set with gaps is
  // usually a corrupt label, which would silently widen it.
  const missing = counts.findIndex((c) => c === 0);
  if (missing >= 0 && !opts.sparseLabels) {
    throw new IdxError(
      `${lblWhat}: class ${missing} has no example, yet label ${nClasses - 1} (at index ${top}) makes the output ${nClasses} units wide; pass ` +
        `--sparse-labels to accept a label set with gaps`,
    );
  }
  const byClass = Array.from(counts, (c) => new Int32Array(c));
  counts.fill(0);
  for (let i = 0; i < n; i++) { const c = labels[i]; byClass[c][counts[c]++] = i; }
  return { source, split, images: px, labels, n, dim, ...shape, nClasses, byClass, transposed: opts.transpose ?? false };
}
