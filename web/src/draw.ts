/**
 * Canvas drawings of what is learning: the network (layers as columns, units
 * as dots coloured by their activity on the current example, weights between
 * the drawn units as lines), a digit, the network's output, the learning
 * curve inside a task, and the receptive fields with their colour scale.
 * Signed values use one diverging scale everywhere: blue negative, white 0,
 * red positive.
 */
import type { Snapshot } from "./snapshot.js";

/** v in [−1, 1] → blue (−1), white (0), red (+1). */
export function diverging(v: number): [number, number, number] {
  const c = Math.max(-1, Math.min(1, v));
  return [c > 0 ? 255 : Math.round(255 * (1 + c)), Math.round(255 * (1 - Math.abs(c))), c < 0 ? 255 : Math.round(255 * (1 - c))];
}
const rgb = (v: number, alpha = 1) => { const [r, g, b] = diverging(v); return `rgba(${r},${g},${b},${alpha})`; };

/** Canvas widths in CSS pixels, read once (a read forces a layout) and again only after a resize. */
const widths = new WeakMap<HTMLCanvasElement, number>();
export function forgetSizes(): void { for (const c of document.querySelectorAll("canvas")) widths.delete(c); }

/** Size the canvas to its CSS width (device pixels for sharp lines); returns the context in CSS pixels. */
function fit(canvas: HTMLCanvasElement, height: number): { g: CanvasRenderingContext2D; w: number; h: number } {
  let w = widths.get(canvas);
  if (w === undefined) { w = Math.max(200, canvas.parentElement?.clientWidth ?? 300); widths.set(canvas, w); }
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(height * dpr);
    canvas.style.width = `${w}px`; canvas.style.height = `${height}px`;
  }
  const g = canvas.getContext("2d")!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, height);
  return { g, w, h: height };
}

let scratch: { c: OffscreenCanvas; img: ImageData } | null = null;
/** A grey-scale image (28×28 digit, or any rows×cols bytes) into a square of side `size` at (x, y). */
function image(g: CanvasRenderingContext2D, pixels: Uint8Array, rows: number, cols: number, x: number, y: number, size: number): void {
  if (!scratch || scratch.img.width !== cols || scratch.img.height !== rows) scratch = { c: new OffscreenCanvas(cols, rows), img: new ImageData(cols, rows) };
  const d = scratch.img.data;
  for (let i = 0; i < rows * cols; i++) { const v = 255 - pixels[i]; d[4 * i] = v; d[4 * i + 1] = v; d[4 * i + 2] = v; d[4 * i + 3] = 255; }
  scratch.c.getContext("2d")!.putImageData(scratch.img, 0, 0);
  g.imageSmoothingEnabled = false;
  g.drawImage(scratch.c, x, y, size, size);
  g.strokeStyle = "#999"; g.strokeRect(x - 0.5, y - 0.5, size + 1, size + 1);
}

/**
 * The network: the input image, then one column per layer; each drawn unit a
 * dot coloured by its activity (scaled to the column's largest |y|; the
 * output by its probability), each weight between drawn units a line whose
 * colour is its sign and whose opacity is |w| over the matrix's largest drawn
 * |w|; a self-loop marks the RNN's J. Below each column, n and ‖W‖_F.
 */
export function drawNetwork(canvas: HTMLCanvasElement, s: Snapshot, pixels: Uint8Array, rows: number, cols: number, classNames: string[]): void {
  const { g, w, h } = fit(canvas, 210);
  const C = s.cols.length, top = 14, bottom = 30, left = 8;
  const imgSize = Math.min(64, h - top - bottom);
  const x0 = left + imgSize + 34, dx = (w - x0 - 24) / Math.max(1, C - 2);
  const xs = s.cols.map((_, c) => (c === 0 ? left + imgSize / 2 : x0 + (c - 1) * dx));
  const ys = s.cols.map((col) => col.act.map((_, i) => top + ((i + 0.5) * (h - top - bottom)) / col.act.length));
  image(g, pixels, rows, cols, left, top + (h - top - bottom - imgSize) / 2, imgSize);
  g.lineWidth = 1;
  for (const l of s.links) {
    let m = 1e-12;
    for (const v of l.w) m = Math.max(m, Math.abs(v));
    if (l.from === l.to) {
      // J: recurrent, hidden → hidden; drawn as one loop above the column.
      g.strokeStyle = "#666"; g.beginPath(); g.arc(xs[l.to], top - 2, 8, Math.PI * 0.1, Math.PI * 0.9, true); g.stroke();
      g.font = "10px system-ui, sans-serif"; g.textAlign = "left"; g.fillStyle = "#333";
      g.fillText(`‖${l.name}‖ ${l.norm.toFixed(1)}`, xs[l.to] + 12, top + 2);
      continue;
    }
    if (l.from === 0) {
      // From the image: a fan to the drawn units (their weights are the receptive fields below).
      for (const y of ys[l.to]) { g.strokeStyle = "rgba(120,120,120,0.25)"; g.beginPath(); g.moveTo(left + imgSize, top + (h - top - bottom) / 2); g.lineTo(xs[l.to], y); g.stroke(); }
      continue;
    }
    // Lines in 8 shades per sign, one path per shade (a stroke per line would cost a frame).
    const B = 8, paths = Array.from({ length: 2 * B }, () => new Path2D());
    for (let i = 0; i < l.rows; i++) for (let j = 0; j < l.cols; j++) {
      const v = l.w[i * l.cols + j] / m, k = Math.min(B - 1, Math.floor(Math.abs(v) * B)) + (v < 0 ? B : 0);
      paths[k].moveTo(xs[l.from], ys[l.from][j]); paths[k].lineTo(xs[l.to], ys[l.to][i]);
    }
    paths.forEach((path, k) => { const a = ((k % B) + 0.5) / B; g.strokeStyle = rgb(k < B ? a : -a, Math.min(1, 0.1 + a * 0.9)); g.stroke(path); });
  }
  g.font = "10px system-ui, sans-serif"; g.textAlign = "center"; g.fillStyle = "#333";
  for (let c = 1; c < C; c++) {
    const col = s.cols[c], out = c === C - 1;
    let m = 1e-12;
    for (const v of col.act) m = Math.max(m, Math.abs(v));
    col.act.forEach((v, i) => {
      g.beginPath(); g.arc(xs[c], ys[c][i], out ? 5 : 4.5, 0, 2 * Math.PI);
      g.fillStyle = out ? `rgba(224,123,0,${Math.max(0.05, v)})` : rgb(v / m);
      g.fill(); g.strokeStyle = out && i === s.pred ? "#000" : "#888"; g.lineWidth = out && i === s.pred ? 2 : 1; g.stroke(); g.lineWidth = 1;
      if (out) { g.fillStyle = i === s.label ? "#000" : "#777"; g.textAlign = "left"; g.fillText(classNames[i] ?? String(i), xs[c] + 8, ys[c][i] + 3); g.textAlign = "center"; }
    });
    const link = s.links.find((l) => l.to === c && l.from !== l.to);
    g.fillStyle = "#333";
    g.fillText(col.act.length < col.n ? `${col.act.length} of ${col.n}` : `${col.n}`, xs[c], h - bottom + 12);
    // ‖W‖ under the weights it measures; the input layer's under the image.
    if (link && link.from === 0) g.fillText(`‖${link.name}‖ ${link.norm.toFixed(1)}`, left + imgSize / 2, top + (h - top - bottom + imgSize) / 2 + 24);
    else if (link) g.fillText(`‖${link.name}‖ ${link.norm.toFixed(1)}`, out && C === 3 ? xs[c] : xs[c] - dx / 2, h - bottom + 24);
  }
  g.fillText(`${rows}×${cols}`, left + imgSize / 2, top + (h - top - bottom + imgSize) / 2 + 12);
}

/** The output probabilities as bars, the label's outlined, the prediction dark. */
export function drawOutput(canvas: HTMLCanvasElement, s: Snapshot, pixels: Uint8Array, rows: number, cols: number, classNames: string[]): void {
  const { g, w, h } = fit(canvas, 64);
  image(g, pixels, rows, cols, 2, 4, 56);
  const n = s.p.length, x0 = 70, bw = Math.min(22, (w - x0 - 4) / n);
  g.font = "10px system-ui, sans-serif"; g.textAlign = "center";
  for (let i = 0; i < n; i++) {
    const bh = s.p[i] * (h - 18);
    g.fillStyle = i === s.pred ? "#333" : "#bbb";
    g.fillRect(x0 + i * bw + 2, h - 14 - bh, bw - 4, bh);
    if (i === s.label) { g.strokeStyle = "#0a7d2c"; g.lineWidth = 2; g.strokeRect(x0 + i * bw + 1, 2, bw - 2, h - 16); g.lineWidth = 1; }
    g.fillStyle = "#333"; g.fillText(classNames[i] ?? String(i), x0 + i * bw + bw / 2, h - 3);
  }
}

/** Query accuracy inside the current task (the --curve points so far), 0 to 1 against examples done. */
export function drawCurve(canvas: HTMLCanvasElement, curve: { step: number; acc: number }[], total: number, chance: number, color: string): void {
  const { g, w, h } = fit(canvas, 40);
  g.strokeStyle = "#ccc"; g.setLineDash([3, 3]);
  g.beginPath(); g.moveTo(0, h - 2 - chance * (h - 4)); g.lineTo(w, h - 2 - chance * (h - 4)); g.stroke(); g.setLineDash([]);
  if (curve.length === 0) return;
  g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
  curve.forEach((c, i) => { const x = (c.step / total) * (w - 4) + 2, y = h - 2 - c.acc * (h - 4); if (i) g.lineTo(x, y); else g.moveTo(x, y); });
  g.stroke(); g.lineWidth = 1;
}

/** Receptive fields: rows of W₁ as images (each scaled to its own largest |w|), or the RNN's J as one image. */
export function drawFields(canvas: HTMLCanvasElement, f: { data: Float32Array; rows: number; cols: number; count: number }, rnn: boolean): void {
  const g = canvas.getContext("2d")!;
  const perRow = rnn ? 1 : 8, scale = rnn ? Math.max(1, Math.floor(168 / f.rows)) : 2;
  const tileW = f.cols * scale, tileH = f.rows * scale, pad = 2;
  const W = perRow * (tileW + pad), H = Math.ceil(f.count / perRow) * (tileH + pad);
  if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H; }
  const size = f.rows * f.cols;
  for (let k = 0; k < f.count; k++) {
    const row = f.data.subarray(k * size, (k + 1) * size);
    let m = 1e-12;
    for (const v of row) m = Math.max(m, Math.abs(v));
    const img = g.createImageData(tileW, tileH), d = img.data;
    for (let y = 0; y < tileH; y++) for (let x = 0; x < tileW; x++) {
      const c = Math.max(-1, Math.min(1, row[Math.floor(y / scale) * f.cols + Math.floor(x / scale)] / m)), o = 4 * (y * tileW + x);
      d[o] = c > 0 ? 255 : 255 * (1 + c); d[o + 1] = 255 * (1 - Math.abs(c)); d[o + 2] = c < 0 ? 255 : 255 * (1 - c); d[o + 3] = 255;
    }
    g.putImageData(img, (k % perRow) * (tileW + pad), Math.floor(k / perRow) * (tileH + pad));
  }
}
