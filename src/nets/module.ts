import type { Arena } from "../core/kernels.js";
import type { Rng } from "../core/rng.js";
import type { Dataset } from "../data/dataset-core.js";
import type { StepOptions, PlasticStep } from "../learn/step.js";
import type { MetaParam, TangentStep } from "../learn/tangent.js";
import type { ActivationName } from "../nn/activations.js";
import type { InitName } from "../nn/init.js";
import type { Rule } from "../rules/rule.js";
import type { FeedbackName } from "../signals/feedback.js";
import type { Norm } from "./mlp/mlp.js";
import type { LayerDiagnostics } from "./mlp/probe.js";
import type { PlasticNetwork, SavedTensor } from "../learn/network.js";
import type { RnnDiagnostics } from "./rnn/probe.js";

/**
 * The keys of a run's flat configuration (experiments/task.ts RunConfig) that
 * every network reads; a network's own keys (the RNN's delay, gainRec, leak)
 * are read by name from the same flat object with `own`. The wire format
 * stays flat: results, checkpoints and cell keys are stringified configs.
 */
export interface NetConfig {
  net?: string;
  hidden: number[];
  activation: ActivationName;
  beta: number;
  bias: boolean;
  init: InitName;
  gain: number;
  feedback: FeedbackName;
  norm: Norm;
  /** Dale's law: the fraction of excitatory hidden units (absent: no constraint; src/learn/dale.ts). */
  dale?: number;
  batch: number;
  remap: boolean;
  way: number;
}

/** A network's own key of the flat configuration (absent when the user did not give its flag). */
export function own<T>(cfg: NetConfig, key: string): T | undefined {
  return (cfg as unknown as Record<string, T | undefined>)[key];
}

/** A network's own command-line flag: the key it sets in the flat configuration, and how its value is read. */
export interface NetFlag {
  readonly key: string;
  /** Commander's spelling, e.g. "--delay <D>". */
  readonly flags: string;
  readonly help: string;
  readonly parse: "int0" | "number";
}

/** The random streams a network's construction draws from (experiments/task.ts taskStreams: children 1 and 2 of task t). */
export interface NetStreams { init: Rng; feedback: Rng }

/** What a user interface needs to present a network (the app reads it; the engine never does). */
export interface NetDisplay {
  /** What one online step consumes, plural ("steps", "sequences"). */
  readonly unitNoun: string;
  /** The exact error pathway's name with symmetric feedback ("backprop", "BPTT"). */
  readonly exactName: string;
  /** Receptive fields: the exported tensor shown, as one tile per row ("rows") or as one image ("matrix"), and its caption. */
  readonly fields: { tensor: string; layout: "rows" | "matrix"; caption: string };
  /** Names of the sites for per-site series (absent: l1, l2, …). */
  readonly siteLabels?: readonly string[];
  /** A site that maps a layer onto itself (drawn as a loop). */
  readonly recurrentSite?: string;
  /** Which diagnostics its probe gives: per layer, or a recurrent network's through time. */
  readonly probe: "layers" | "recurrent";
}

/** Per-layer diagnostics on a probe set (and a recurrent network's own, through time). */
export interface ProbeResult { layers: LayerDiagnostics[]; rnn?: RnnDiagnostics }

/**
 * A kind of network, as one module: its flags, its checks, its construction,
 * its plan of fast steps and tangent steps, its probe and its export. The
 * layers above (experiments, cli, reproduce) ask the module; none tests a
 * kind by name. Every member is called once per task or plan, never per example.
 */
export interface NetworkModule {
  readonly kind: string;
  /** One phrase for --net's help. */
  readonly help: string;
  /** Its own flags (keys of the flat configuration; refused for other kinds). */
  readonly flags: readonly NetFlag[];
  /** --hidden when the user left it at the global default (the RNN's N = 100), and the phrase for --hidden's help. */
  readonly defaultHidden?: { widths: number[]; help: string };
  /** What one online step consumes, for rates ("steps" for an example, "seq" for a sequence). */
  readonly rateUnit: string;
  /** Refuse a configuration this network cannot run: a RangeError with one line naming the flag. */
  check(cfg: NetConfig, ds: Dataset): void;
  /** Plastic sites (the rule's layers). */
  sites(cfg: NetConfig): number;
  /** Time steps per example (1 for a feedforward network). */
  seqLen(cfg: NetConfig, ds: Dataset): number;
  /** Plastic weights, for the memory estimate made before anything is allocated. */
  weights(cfg: NetConfig, ds: Dataset): number;
  /** Fresh weights and the error pathway, drawn from `s.init` then `s.feedback`, allocated on `arena`. */
  build(cfg: NetConfig, ds: Dataset, s: NetStreams, arena: Arena): PlasticNetwork;
  /** Its fast step where one applies (held equal to the composed reference by tests); absent: the composed step. */
  plan?(net: PlasticNetwork, rule: Rule, opts: StepOptions): PlasticStep;
  /** Its tangent step where it has a fast one; absent: the composed tangent step. */
  planTangent?(net: PlasticNetwork, rule: Rule, opts: StepOptions, params: readonly MetaParam[]): TangentStep;
  /** Diagnostics on a probe set; absent: none measured. */
  probe?(net: PlasticNetwork, images: Uint8Array, dim: number, idx: ArrayLike<number>, labels: ArrayLike<number>): ProbeResult;
  /** Arrays to export beyond every site's W, b and fixed feedback B (batch norm's running statistics). */
  tensors?(net: PlasticNetwork): SavedTensor[];
  /** The shape and forward pass, for an export's sidecar. */
  shape(net: PlasticNetwork): Record<string, unknown>;
  /** The network part of a results table's header line. */
  describe(cfg: NetConfig, ds: Dataset): string;
  readonly display: NetDisplay;
}

/** Output units: N with remapped labels, else the dataset's whole label set (as published). */
export function outputsOf(cfg: Pick<NetConfig, "remap" | "way">, ds: Pick<Dataset, "nClasses">): number {
  return cfg.remap ? cfg.way : ds.nClasses;
}
