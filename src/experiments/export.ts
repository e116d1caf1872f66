import type { PlasticNetwork } from "../nets/network.js";
import { MLP } from "../nets/mlp/mlp.js";
import { RNN } from "../nets/rnn/rnn.js";
import type { Task } from "../data/tasks.js";

/** One array of a trained network, copied out of the arena: C order, `shape` as NumPy reads it. */
export interface SavedTensor {
  name: string;
  shape: number[];
  data: Float32Array | Float64Array;
}

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
    for (let i = 1; i <= net.S; i++) { const s = net.sites[i]; out.push({ name: `B_${s.name}`, shape: [s.n, s.m], data: Float32Array.from(net.feedback.B[i]) }); }
  }
  if (net instanceof MLP && net.norm === "batch") {
    for (let l = 1; l < net.dims.length - 1; l++) {
      out.push({ name: `bn_mean${l}`, shape: [net.dims[l]], data: Float64Array.from(net.bnMean[l]) });
      out.push({ name: `bn_var${l}`, shape: [net.dims[l]], data: Float64Array.from(net.bnVar[l]) });
    }
  }
  return out;
}

export function savedTask(net: PlasticNetwork, task: Task): SavedTask {
  return { tensors: networkTensors(net), trainIdx: Array.from(task.trainIdx), trainLabels: Array.from(task.trainLabels), queryIdx: Array.from(task.queryIdx), queryLabels: Array.from(task.queryLabels), network: networkShape(net) };
}

/** The network's shape and conventions, for the sidecar a reader needs to rebuild the forward pass. */
export function networkShape(net: PlasticNetwork): Record<string, unknown> {
  if (net instanceof RNN) {
    return {
      net: "rnn", nIn: net.nIn, rows: net.rows, delay: net.delay, T: net.T, N: net.N, nOut: net.nOut, leak: net.leak,
      forward: "h0 = 0; h_t = (1 - leak) h_{t-1} + leak tanh(J h_{t-1} + U x_t), x_t = image row t for t <= rows, then zeros; z = W h_T",
    };
  }
  const m = net as MLP;
  return {
    net: "mlp", dims: [...m.dims], activation: m.activation, beta: m.beta, bias: m.bias, norm: m.norm,
    forward: "y0 = x; z_l = W_l y_{l-1} (+ b_l); hidden layers y_l = sigma(z_l) (after layer norm, or batch norm with the running statistics, when norm says so); logits z_L",
  };
}
