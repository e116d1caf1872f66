import { loadPixels } from "../data/pixels.js";
import type { PlasticNetwork } from "./network.js";
import { correct, crossEntropy } from "../nn/loss.js";

export interface Scores { loss: number; acc: number }

/** Mean cross-entropy and accuracy of `net` on examples `idx` (argmax over all outputs, as published). */
export function evaluate(net: PlasticNetwork, images: Uint8Array, dim: number, idx: ArrayLike<number>, labels: ArrayLike<number>): Scores {
  const nL = net.nOut;
  let loss = 0, hits = 0;
  const logits = net.scorer?.({ logitsOnly: true }) ?? (() => net.logits());
  for (let q = 0; q < idx.length; q++) {
    loadPixels(net.x, images, idx[q], dim);
    const z = logits();
    loss += crossEntropy(z, nL, labels[q]);
    if (correct(z, nL, labels[q])) hits++;
  }
  return { loss: loss / idx.length, acc: hits / idx.length };
}
