import { argmax, logSumExp, type Buf } from "../core/kernels.js";

/**
 * Softmax cross-entropy, written once for every network (PAPER.md: p =
 * softmax(z), loss = cross-entropy).
 */

/** e(n) = p − onehot(label): the gradient of the cross-entropy at the logits. */
export function outputError(e: Buf, p: Buf, label: number, n: number): void {
  for (let i = 0; i < n; i++) e[i] = p[i];
  e[label] -= 1;
}

/** CE = log Σ exp z − z_label, stable in the logits z(n). */
export function crossEntropy(z: Buf, n: number, label: number): number {
  return logSumExp(z, n) - z[label];
}

/** Whether the arg max of z(n) is the label (ties to the first, as torch.argmax). */
export function correct(z: Buf, n: number, label: number): boolean {
  return argmax(z, n) === label;
}

/** Σ z(n): finite exactly when every logit is (the divergence sentinel of a step). */
export function logitSum(z: Buf, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += z[i];
  return s;
}
