/**
 * What the page draws of a network between two steps: its answer on the
 * example it just trained on, and for the diagram the first few units of
 * every layer with their activity on that example and the weights between
 * them. Computed in the worker from the live network (a forward pass of the
 * current weights; reading them never changes training).
 */
import { loadPixels, networkOf, type Dataset, type PlasticNetwork as Net } from "neuroplastic";

/** Units drawn per hidden layer. */
export const SHOWN = 10;

export interface Snapshot {
  /** The example's dataset index and label; the network's softmax output and its argmax (the prediction). */
  index: number;
  label: number;
  p: number[];
  pred: number;
  /** Columns of units: the input (drawn as the image), hidden layers, the output; n units, of which the first `act.length` are drawn. */
  cols: { n: number; act: number[] }[];
  /** Plastic matrices between drawn units: site name, columns joined, w[i·from + j] (drawn post i, drawn pre j), ‖W‖_F of the whole matrix. */
  links: { name: string; from: number; to: number; rows: number; cols: number; w: number[]; norm: number }[];
}

export function snapshot(net: Net, ds: Dataset, index: number, label: number): Snapshot {
  void net.params; // a fast step's layer written back first (the getter)
  const score = net.scorer?.({}) ?? (() => net.logits());
  loadPixels(net.x, ds.images, index, ds.dim);
  const z = score();
  const nOut = net.nOut;
  let zmax = -Infinity;
  for (let i = 0; i < nOut; i++) zmax = Math.max(zmax, z[i]);
  const e = Array.from({ length: nOut }, (_, i) => Math.exp(z[i] - zmax));
  const sum = e.reduce((a, b) => a + b, 0);
  const p = e.map((v) => v / sum);
  let pred = 0;
  for (let i = 1; i < nOut; i++) if (z[i] > z[pred]) pred = i;
  const loop = networkOf(net.kind).display.recurrentSite;
  const sites = net.sites.filter((s) => s.n > 0);
  // Columns: input, then one per site's output (the RNN's J maps the hidden column onto itself).
  const cols: Snapshot["cols"] = [{ n: sites[0].m, act: [] }];
  const links: Snapshot["links"] = [];
  for (const s of sites) {
    const self = s.name === loop;
    const to = self ? cols.length - 1 : cols.length;
    const from = self ? to : to - 1;
    const isOut = !self && s === sites[sites.length - 1];
    if (!self) {
      const shown = isOut ? s.n : Math.min(SHOWN, s.n);
      const post = s.sig.post, off = post.length - s.n; // the RNN: the last time step's state
      cols.push({ n: s.n, act: isOut ? p.slice(0, shown) : Array.from({ length: shown }, (_, i) => post[off + i]) });
    }
    const rowsShown = cols[to].act.length, colsShown = from === 0 ? 0 : cols[from].act.length;
    const w: number[] = [];
    for (let i = 0; i < rowsShown; i++) for (let j = 0; j < colsShown; j++) w.push(s.W[i * s.m + j]);
    let ss = net.k.sumSq?.(s.W);
    if (ss === undefined) { ss = 0; for (let k = 0; k < s.W.length; k++) ss += s.W[k] * s.W[k]; }
    links.push({ name: s.name, from, to, rows: rowsShown, cols: colsShown, w, norm: Math.sqrt(ss) });
  }
  return { index, label, p, pred, cols, links };
}

/** The network's answers on the first `count` query examples (dataset index, prediction). */
export function answers(net: Net, ds: Dataset, queryIdx: ArrayLike<number>, count: number): { index: number; pred: number }[] {
  void net.params;
  const score = net.scorer?.({ logitsOnly: true }) ?? (() => net.logits());
  const out: { index: number; pred: number }[] = [];
  // Spread over the task's classes: the query set is grouped by class.
  const stride = Math.max(1, Math.floor(queryIdx.length / count));
  for (let q = 0; q < queryIdx.length && out.length < count; q += stride) {
    loadPixels(net.x, ds.images, queryIdx[q], ds.dim);
    const z = score();
    let pred = 0;
    for (let i = 1; i < net.nOut; i++) if (z[i] > z[pred]) pred = i;
    out.push({ index: queryIdx[q], pred });
  }
  return out;
}
