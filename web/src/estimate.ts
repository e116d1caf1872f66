/**
 * How long a task will take, before it runs, and what its diagnostics will
 * cost. Rough figures (within a factor of about two; the machine's load
 * moves them as much), measured on the 2-core Intel Xeon (AVX-512) development
 * machine, whose other core was busy; `npm run bench:probe` prints the probe's.
 *
 * Training: the weights a step touches (times the sequence's time steps for
 * the RNN) over a throughput measured with `neuroplastic train --workers 1`
 * (wasm) on that machine: the paper's network (176k weights) ran 11,000 to
 * 13,000 steps/s (IN_CACHE: 2e9 weight·steps/s), 784-4096-4096-4096-10
 * (36.8M weights) 17 to 23 steps/s (BEYOND, for the weights past a few
 * million: 1.1e9). Once a run has measured its own rate, that is used instead.
 *
 * Diagnostics: the probe (src/nets/mlp/probe.ts, src/nets/rnn/probe.ts) runs
 * plain float64 loops, counted here in multiply-adds over PROBE_RATE:
 * per probe example a forward and a backward pass (a second backward and two
 * outer products under any pathway but backprop) and the n × n activation
 * outer product of every layer (every time step of the RNN); once per probe,
 * W Wᵀ of every layer (n² m / 2: ‖WWᵀ − I‖) and the RNN's spectral radius
 * (up to 24 squarings of J, N³ each). Past a few million weights the Gram
 * products dominate: the 4096-wide network's probe costs minutes.
 */
import { dims, networkOf, type Dataset, type RunConfig } from "neuroplastic";

const IN_CACHE = 2e9, BEYOND = 1.1e9, CACHE_WEIGHTS = 2e6;
/** Multiply-adds per second of the probe's float64 loops (one core). */
export const PROBE_RATE = 4e8;
/** The probe set's size (the first this many query-split images), and the fewest a shrunk probe keeps. */
export const PROBE_FULL = 100, PROBE_MIN = 20;
/** Longest an end-of-task probe may take (s): beyond it the probe set shrinks, then the diagnostics are skipped. */
export const PROBE_BUDGET = 3;
/** The RNN's probe keeps an N × N outer product per time step (float64): skipped beyond this many bytes. */
const PROBE_BYTES = 256e6;

export function estimate(cfg: RunConfig, ds: Dataset, measuredStepsPerSec: number): { seconds: number; basis: string } {
  const steps = cfg.way * cfg.shots * (cfg.epochs ?? 1);
  if (measuredStepsPerSec > 0) return { seconds: steps / measuredStepsPerSec, basis: "from this run's measured rate" };
  // The network's module knows its weights and its time steps per example (an RNN: one per image row, then the delay).
  const net = networkOf(cfg.net), weights = net.weights(cfg, ds), T = net.seqLen(cfg, ds);
  const perStep = T * (weights / IN_CACHE + Math.max(0, weights - CACHE_WEIGHTS) / BEYOND);
  return { seconds: steps * perStep, basis: "estimated from its size" };
}

/** The probe's multiply-adds: `fixed` once per probe, `perExample` for each probe image; `bytes`: its largest buffers. */
export function probeWork(cfg: RunConfig, ds: Dataset): { fixed: number; perExample: number; bytes: number } {
  const net = networkOf(cfg.net), weights = net.weights(cfg, ds), T = net.seqLen(cfg, ds);
  // Backprop: forward and backward; other pathways: a second backward (the true gradient) and both updates' outer products.
  const passes = cfg.feedback === "sym" ? 2 : 5;
  if (net.display.probe === "recurrent") {
    const N = cfg.hidden[0], C = 10, step = N * N + ds.cols * N;
    // Once: ‖JJᵀ − I‖ twice (as a site and as J's own), U's and W's Grams, the T participation ratios, and the spectral
    // radius's squarings (N³ each, up to 24; its scattered inner loop runs at about two thirds of the others' rate: 36).
    const fixed = N * N * N + (N * N * ds.cols) / 2 + (C * C * N) / 2 + T * N * N + 36 * N * N * N;
    // Each example: the passes through time and the N × N outer product of hₜ at every step (measured: about 4 (N² + cN) per step).
    return { fixed, perExample: T * (passes + 2) * step, bytes: (T + 1) * N * N * 8 };
  }
  const d = dims(cfg, ds);
  let gram = 0, outer = 0;
  for (let l = 1; l < d.length; l++) { gram += (d[l] * d[l] * d[l - 1]) / 2; outer += d[l] * d[l]; }
  // A float64 copy of the weights, the layers' Σyyᵀ, and under other pathways both summed updates.
  return { fixed: gram + outer, perExample: passes * weights + outer, bytes: 8 * (weights + outer + (passes > 2 ? 2 * weights : 0)) };
}

/** What the end-of-task diagnostics will measure: `count` probe images (0: none), their cost, and why fewer than PROBE_FULL. */
export interface ProbePlan { count: number; seconds: number; note: string }

/**
 * The probe within PROBE_BUDGET: all PROBE_FULL images when they fit (every preset: well under a second), else as many
 * as fit (no fewer than PROBE_MIN: a participation ratio over P images is at most P − 1), else none, with a note.
 */
export function probePlan(cfg: RunConfig, ds: Dataset): ProbePlan {
  const w = probeWork(cfg, ds), n = Math.min(PROBE_FULL, ds.n);
  const cost = (p: number) => (w.fixed + p * w.perExample) / PROBE_RATE;
  if (!networkOf(cfg.net).probe) return { count: 0, seconds: 0, note: "" };
  if (cost(n) <= PROBE_BUDGET && w.bytes <= PROBE_BYTES) return { count: n, seconds: cost(n), note: "" };
  const fit = Math.min(n, Math.floor((PROBE_BUDGET * PROBE_RATE - w.fixed) / w.perExample));
  const full = `≈ ${fmtTime(cost(n))} on one core`;
  if (fit >= PROBE_MIN && w.bytes <= PROBE_BYTES) {
    return { count: fit, seconds: cost(fit), note: `Diagnostics on ${fit} of the ${n} probe images (all ${n} would take ${full} after each measured task).` };
  }
  const mb = w.bytes > PROBE_BYTES ? ` and ${Math.round(w.bytes / 1e6).toLocaleString("en-US")} MB` : "";
  return { count: 0, seconds: 0, note: `Diagnostics skipped for a network this large: one probe would take ${full}${mb}. Accuracies, diagram and receptive fields are as usual.` };
}

export function fmtTime(sec: number): string {
  if (sec < 90) return `${sec.toPrecision(2)} s`;
  if (sec < 5400) return `${Math.round(sec / 60)} min`;
  return `${(sec / 3600).toPrecision(2)} h`;
}
