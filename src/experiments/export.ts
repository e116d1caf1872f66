import type { PlasticNetwork, SavedTensor } from "../learn/network.js";
import { networkOf } from "../nets/registry.js";
import { refreshSign } from "../signals/feedback.js";
import type { Task } from "../data/tasks.js";

export type { SavedTensor } from "../learn/network.js";

/** What `train --save-weights` keeps of a task: the trained arrays and the examples it saw and was scored on. */
export interface SavedTask {
  tensors: SavedTensor[];
  trainIdx: number[];
  trainLabels: number[];
  queryIdx: number[];
  queryLabels: number[];
  /** The network's kind, shape and forward pass (networkShape). */
  network: Record<string, unknown>;
}

/**
 * The trained arrays of a network (read after step.finish(), so every layout
 * is settled): each site's W (n, m) under the site's name (W1 … WL, or U, J,
 * W); biases b1 … bL; the feedback matrix as B_<site> (feedback
 * alignment's fixed B; sign symmetry's sign(W)·s of the final W, with the
 * fixed magnitudes |R| as R_<site> for sign-random; with backprop B is W);
 * DFA's fixed Dₗ (nₗ × n_L) as D0 … D<L−1>; batch normalization's running mean
 * and variance of hidden layer l as bn_mean<l>, bn_var<l> (float64, as kept).
 */
export function networkTensors(net: PlasticNetwork): SavedTensor[] {
  const out: SavedTensor[] = [];
  for (let i = 1; i <= net.S; i++) {
    const s = net.sites[i];
    out.push({ name: s.name, shape: [s.n, s.m], data: Float32Array.from(s.W) });
  }
  for (let i = 1; i <= net.S; i++) {
    const b = net.sites[i].b;
    if (b) out.push({ name: `b${i}`, shape: [b.length], data: Float32Array.from(b) });
  }
  const fb = net.feedback;
  if (fb.name === "dfa") {
    // Dₗ (nₗ × n_L), l = 0 … S − 1: D0 sends e_L to the input, Dl to hidden layer l.
    for (let l = 0; l < net.S; l++) out.push({ name: `D${l}`, shape: [fb.B[l].length / net.nOut, net.nOut], data: Float32Array.from(fb.B[l]) });
  } else if (fb.name !== "sym") {
    for (let i = 1; i <= net.S; i++) {
      const s = net.sites[i];
      refreshSign(fb, i, s.W); // sign symmetry: B of the final W
      out.push({ name: `B_${s.name}`, shape: [s.n, s.m], data: Float32Array.from(fb.B[i]) });
      const mag = fb.mag?.[i];
      if (mag !== undefined && typeof mag !== "number") out.push({ name: `R_${s.name}`, shape: [s.n, s.m], data: Float32Array.from(mag) });
    }
  }
  out.push(...(networkOf(net.kind).tensors?.(net) ?? []));
  return out;
}

export function savedTask(net: PlasticNetwork, task: Task): SavedTask {
  return {
    tensors: networkTensors(net),
    trainIdx: Array.from(task.trainIdx),
    trainLabels: Array.from(task.trainLabels),
    queryIdx: Array.from(task.queryIdx),
    queryLabels: Array.from(task.queryLabels),
    network: networkShape(net),
  };
}

/** The network's shape and conventions, for the sidecar a reader needs to rebuild the forward pass. */
export function networkShape(net: PlasticNetwork): Record<string, unknown> {
  return networkOf(net.kind).shape(net);
}
