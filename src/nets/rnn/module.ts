import { makeFeedback } from "../../signals/feedback.js";
import { checkDale } from "../../learn/dale.js";
import { own, outputsOf, type NetConfig, type NetworkModule } from "../module.js";
import { probeRnn } from "./probe.js";
import { RNN, SITE_J } from "./rnn.js";

const delayOf = (cfg: NetConfig) => own<number>(cfg, "delay") ?? 0;

/** The rate RNN of PAPER.md's recurrent section (our convention): U, J, W; images row by row, then `delay` steps of zero input. */
export const rnnModule: NetworkModule = {
  kind: "rnn",
  help: "rnn (the rate RNN of PAPER.md, images presented row by row)",
  flags: [
    { key: "delay", flags: "--delay <D>", help: "rnn: steps of zero input between the last image row and the read-out (default: 0)", parse: "int0" },
    { key: "gainRec", flags: "--gain-rec <g>", help: "rnn: initializer gain of the recurrent weights J (default: --gain)", parse: "number" },
    { key: "leak", flags: "--leak <alpha>", help: "rnn: leak α in (0, 1] (default: 1)", parse: "number" },
  ],
  defaultHidden: { widths: [100], help: "rnn: one width, N" },
  rateUnit: "seq",
  display: {
    unitNoun: "sequences", exactName: "BPTT", probe: "recurrent", siteLabels: ["U", "J", "W"], recurrentSite: "J",
    fields: { tensor: "J", layout: "matrix", caption: "J's entries: −max · 0 · +max |J|" },
  },
  check(cfg, ds) {
    if (cfg.hidden.length !== 1)
      throw new RangeError(`--net rnn takes one --hidden width (N recurrent units), got ${cfg.hidden.length} (${cfg.hidden.join(",")})`);
    if (cfg.bias) throw new RangeError("--net rnn has no biases (PAPER.md's convention); drop --bias");
    if (cfg.norm !== "none") throw new RangeError("--net rnn has no normalization layers; drop --norm");
    if (ds.rows * ds.cols !== ds.dim || ds.rows < 1) throw new RangeError(`--net rnn presents images row by row, but ${ds.source} has no 2-D image shape`);
    const delay = delayOf(cfg), leak = own<number>(cfg, "leak") ?? 1, gainRec = own<number>(cfg, "gainRec");
    if (!Number.isInteger(delay) || delay < 0) throw new RangeError(`--delay must be a non-negative integer, got ${delay}`);
    if (!(leak > 0 && leak <= 1)) throw new RangeError(`--leak must be in (0, 1], got ${leak}`);
    // DFA through time would send e straight to every δₜ through one fixed matrix; its credit through J is not the
    // pathway the literature defines (Nøkland 2016 is feedforward), so it is refused rather than guessed.
    if (cfg.feedback === "dfa") throw new RangeError("--feedback dfa is defined for feedforward networks; --net rnn takes sym, random, sign or sign-random");
    checkDale(cfg.dale);
    if (gainRec !== undefined && !(gainRec > 0 && Number.isFinite(gainRec))) throw new RangeError(`--gain-rec must be a positive number, got ${gainRec}`);
  },
  sites: () => 3,
  seqLen: (cfg, ds) => ds.rows + delayOf(cfg),
  weights(cfg, ds) {
    const N = cfg.hidden[0];
    return ds.cols * N + N * N + N * outputsOf(cfg, ds);
  },
  build(cfg, ds, s, arena) {
    const gainRec = own<number>(cfg, "gainRec") ?? cfg.gain;
    const rnn = new RNN({
      nIn: ds.cols,
      rows: ds.rows,
      delay: delayOf(cfg),
      N: cfg.hidden[0],
      nOut: outputsOf(cfg, ds),
      leak: own<number>(cfg, "leak") ?? 1,
      arena,
    }).init(cfg.init, cfg.gain, gainRec, s.init);
    if (cfg.dale !== undefined) rnn.applyDale(cfg.dale); // before the pathway: sign symmetry reads the folded weights
    rnn.feedback = makeFeedback(cfg.feedback, rnn, cfg.init, (i) => (i === SITE_J ? gainRec : cfg.gain), s.feedback);
    return rnn;
  },
  probe: (net, images, dim, idx, labels) => probeRnn(net as RNN, images, dim, idx, labels),
  shape(net) {
    const r = net as RNN;
    return {
      net: "rnn", nIn: r.nIn, rows: r.rows, delay: r.delay, T: r.T, N: r.N, nOut: r.nOut, leak: r.leak,
      forward: "h0 = 0; h_t = (1 - leak) h_{t-1} + leak tanh(J h_{t-1} + U x_t), x_t = image row t for t <= rows, then zeros; z = W h_T",
    };
  },
  describe(cfg, ds) {
    const leak = own<number>(cfg, "leak"), gainRec = own<number>(cfg, "gainRec");
    return `rnn N ${cfg.hidden[0]}, delay ${delayOf(cfg)} (${rnnModule.seqLen(cfg, ds)} steps per ` +
      `sequence)${leak !== undefined && leak !== 1 ? `, leak ${leak}` : ""}${gainRec !== undefined ? `, J gain ${gainRec}` : ""}`;
  },
};
