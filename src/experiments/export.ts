import type { PlasticNetwork, SavedTensor } from "../learn/network.js";
import { networkOf } from "../nets/registry.js";
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
 * W); biases b1 … bL; a fixed random feedback matrix as B_<site> (feedback
 * alignment only: with backprop B is W); batch normalization's running mean
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
  if (net.feedback.name !== "sym") {
    for (let i = 1; i <= net.S; i++) {
      const s = net.sites[i];
      out.push({ name: `B_${s.name}`, shape: [s.n, s.m], data: Float32Array.from(net.feedback.B[i]) });
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
