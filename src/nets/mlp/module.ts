import { makeFeedback } from "../../signals/feedback.js";
import { checkDale } from "../../learn/dale.js";
import type { PlasticNetwork, SavedTensor } from "../../learn/network.js";
import { outputsOf, type NetConfig, type NetworkModule } from "../module.js";
import { MLP } from "./mlp.js";
import { planMlpStep, planMlpTangentStep } from "./plan.js";
import { probe } from "./probe.js";

/** The layer widths dₗ: input, hidden widths, outputs. */
function dimsOf(cfg: NetConfig, ds: { dim: number; nClasses: number }): number[] {
  return [ds.dim, ...cfg.hidden, outputsOf(cfg, ds)];
}

/** The multilayer perceptron of the paper (784-170-130-100-70-10 by default): one site per layer. */
export const mlpModule: NetworkModule = {
  kind: "mlp",
  help: "mlp",
  flags: [],
  rateUnit: "steps",
  display: {
    unitNoun: "steps", exactName: "backprop", probe: "layers",
    fields: { tensor: "W1", layout: "rows", caption: "first 16 rows of W₁: −max · 0 · +max of each tile's |w|" },
  },
  check(cfg) { checkDale(cfg.dale); },
  sites: (cfg) => cfg.hidden.length + 1,
  seqLen: () => 1,
  weights(cfg, ds) {
    const d = dimsOf(cfg, ds);
    let w = 0;
    for (let l = 1; l < d.length; l++) w += d[l] * d[l - 1];
    return w;
  },
  build(cfg, ds, s, arena) {
    const net = new MLP({ dims: dimsOf(cfg, ds), activation: cfg.activation, beta: cfg.beta, bias: cfg.bias, norm: cfg.norm, arena }).init(
      cfg.init,
      cfg.gain,
      s.init,
    );
    // Dale's signs fold the drawn weights (no draw) before the pathway is made: sign symmetry reads the folded W.
    if (cfg.dale !== undefined) net.applyDale(cfg.dale);
    net.feedback = makeFeedback(cfg.feedback, net, cfg.init, cfg.gain, s.feedback);
    return net;
  },
  plan: (net, rule, opts) => planMlpStep(net as MLP, rule, opts),
  planTangent: (net, rule, opts, params) => planMlpTangentStep(net as MLP, rule, opts, params),
  probe: (net, images, dim, idx, labels) => ({ layers: probe(net as MLP, images, dim, idx, labels) }),
  tensors(net: PlasticNetwork): SavedTensor[] {
    const m = net as MLP, out: SavedTensor[] = [];
    if (m.norm !== "batch") return out;
    for (let l = 1; l < m.dims.length - 1; l++) {
      out.push({ name: `bn_mean${l}`, shape: [m.dims[l]], data: Float64Array.from(m.bnMean[l]) });
      out.push({ name: `bn_var${l}`, shape: [m.dims[l]], data: Float64Array.from(m.bnVar[l]) });
    }
    return out;
  },
  shape(net) {
    const m = net as MLP;
    return {
      net: "mlp",
      dims: [...m.dims],
      activation: m.activation,
      beta: m.beta,
      bias: m.bias,
      norm: m.norm,
      forward:
        "y0 = x; z_l = W_l y_{l-1} (+ b_l); hidden layers y_l = sigma(z_l) (after layer norm, or batch norm with the running statistics, when norm says " +
          "so); logits z_L",
    };
  },
  describe: (cfg) => `hidden ${cfg.hidden.join("-") || "none"}`,
};
