import type { Dataset } from "../data/dataset-core.js";
import { loadPixels } from "../data/pixels.js";
import { sampleTask } from "../data/tasks.js";
import { planStep, planTangentStep } from "../nets/plan.js";
import { makeRule, type ThetaSpec } from "../rules/rule.js";
import { metaLayout, type MetaParam } from "../learn/tangent.js";
import { thetaSpec } from "../meta/theta.js";
import { heapArena, type Buf } from "../core/kernels.js";
import type { PlasticNetwork, SignalNeeds, TangentNetwork } from "../learn/network.js";
import { buildNetwork, sitesOf, taskStreams, type RunConfig } from "./task.js";

/**
 * Rules recovered from data (the validation of MetaLearnPlasticity and
 * Confavreux et al.): a teacher rule trains a network on a task; a student
 * family, from the same initial weights and examples, is fitted to give the
 * teacher's final weights (match "weights") or its hidden activities on the
 * task's query set (match "activity"). The residual is differentiated exactly
 * in forward mode, so the fit is Gauss–Newton with Levenberg damping:
 *   (JᵀJ + μ diag JᵀJ) Δθ = −Jᵀr.
 * weights:  r = W_student(θ) − W_teacher, J = dW/dθ (the tangents of the online
 *           loop), loss = ‖r‖² / ‖W_teacher − W₀‖²;
 * activity: r = h_student(θ) − h_teacher over the query examples and every
 *           site's post-synaptic activity but the output's (the hidden units;
 *           the RNN: its hidden state over time), J = dh/dθ, the tangent
 *           forward pass along dW/dθ; loss = ‖r‖² / ‖h_teacher − h(W₀)‖².
 */
export type RecoverMatch = "weights" | "activity";

export interface RecoverOptions {
  /** Tasks whose residuals are stacked (per seed). */
  tasks: number;
  /** Gauss–Newton iterations. */
  iterations: number;
  /** What the student reproduces (default weights). */
  match?: RecoverMatch;
}

/** No term's extra signal: the activity pass needs the forward pass only (the error pathway runs, unused). */
function noNeeds(S: number): SignalNeeds {
  const f = new Array<boolean>(S + 1).fill(false);
  return { needU: f, needEPre: f, needUE: f };
}

/** The distinct hidden activity buffers of a network's sites (every site's post but the last site's, the output). */
function hiddenOf(sites: readonly { sig: { post: Buf } }[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < sites.length - 1; i++) if (!out.some((j) => sites[j].sig.post === sites[i].sig.post)) out.push(i);
  return out;
}

/** The hidden activities of `net` on query example q, concatenated (a copy). */
function activities(net: PlasticNetwork, ds: Dataset, idx: number, label: number, needs: SignalNeeds): Float64Array {
  loadPixels(net.x, ds.images, idx, ds.dim);
  net.propagate(label, needs);
  return Float64Array.from(hiddenOf(net.sites).flatMap((i) => Array.from(net.sites[i].sig.post)));
}

export interface RecoverFit { theta: number[]; loss: number; losses: number[] }

/** The stacked normal equations over `tasks` tasks at θ: JᵀJ, Jᵀr, the loss ‖r‖²/scale and its scale (‖ΔW_teacher‖² or ‖Δh_teacher‖²). */
export function normalEquations(
  cfg: RunConfig,
  ds: Dataset,
  teacher: ThetaSpec,
  layout: readonly MetaParam[],
  theta: readonly number[],
  tasks: number,
  match: RecoverMatch = "weights",
): { JtJ: Float64Array; Jtr: Float64Array; loss: number; scale: number } {
  const P = layout.length,
    JtJ = new Float64Array(P * P),
    Jtr = new Float64Array(P);
  let rr = 0,
    dd = 0;
  const learned = [...new Set(layout.map((p) => p.term))];
  for (let t = 0; t < tasks; t++) {
    const task = sampleTask(ds, cfg, taskStreams(cfg.seed, t).sample);
    // The teacher: its rule on a network built from task t's streams (the same W₀ and feedback as the student's).
    const tNet = buildNetwork(cfg, ds, t, heapArena("f64"));
    const w0 = Float64Array.from(tNet.params);
    const tStep = planStep(tNet, makeRule(teacher, tNet.S, { ojaOutput: cfg.ojaOutput }), { batch: cfg.batch, optimizer: cfg.optimizer });
    const sNet = buildNetwork(cfg, ds, t, heapArena("f64"));
    const spec = thetaSpec(layout, theta, {}, sitesOf(cfg));
    const sStep = planTangentStep(
      sNet,
      makeRule(spec, sNet.S, { ojaOutput: cfg.ojaOutput }),
      { always: learned, batch: cfg.batch, optimizer: cfg.optimizer },
      layout,
    );
    for (let ep = 0; ep < (cfg.epochs ?? 1); ep++) {
      for (let i = 0; i < task.trainIdx.length; i++) {
        loadPixels(tStep.x, ds.images, task.trainIdx[i], ds.dim);
        tStep.step(task.trainLabels[i]);
        loadPixels(sStep.primal.x, ds.images, task.trainIdx[i], ds.dim);
        sStep.step(task.trainLabels[i]);
      }
    }
    tStep.finish();
    sStep.finish();
    // One residual row: r, its Jacobian row J[·][q] and the teacher's own change d (the loss's scale).
    const row = (r: number, d: number, J: readonly Buf[], q: number) => {
      rr += r * r;
      dd += d * d;
      for (let a = 0; a < P; a++) {
        const ja = J[a][q];
        Jtr[a] += ja * r;
        for (let b = a; b < P; b++) JtJ[a * P + b] += ja * J[b][q];
      }
    };
    if (match === "weights") {
      const wT = tNet.params, wS = sNet.params, J = sStep.dParams;
      for (let q = 0; q < wT.length; q++) row(wS[q] - wT[q], wT[q] - w0[q], J, q);
      continue;
    }
    // Activities: the student's tangent forward pass along dW/dθ gives dh/dθ exactly.
    const needs = noNeeds(sNet.S), net0 = buildNetwork(cfg, ds, t, heapArena("f64"));
    const sT = sNet as TangentNetwork, pass = sT.tangents(sStep.dParams.map((d) => Float64Array.from(d)));
    const hid = hiddenOf(sT.sites);
    for (let e = 0; e < task.queryIdx.length; e++) {
      const idx = task.queryIdx[e], lab = task.queryLabels[e];
      const hT = activities(tNet, ds, idx, lab, needs), h0 = activities(net0, ds, idx, lab, needs), hS = activities(sT, ds, idx, lab, needs);
      pass.prepare();
      for (let a = 0; a < P; a++) pass.propagate(a, needs);
      const J = Array.from({ length: P }, (_, a) => Float64Array.from(hid.flatMap((i) => Array.from(pass.sig[a][i].post))));
      for (let q = 0; q < hS.length; q++) row(hS[q] - hT[q], hT[q] - h0[q], J, q);
    }
  }
  for (let a = 0; a < P; a++) for (let b = 0; b < a; b++) JtJ[a * P + b] = JtJ[b * P + a];
  const scale = Math.max(dd, 1e-300);
  return { JtJ, Jtr, loss: rr / scale, scale };
}

/** Solve A x = y (P × P, Gaussian elimination with partial pivoting); null if singular. */
function solve(A: Float64Array, y: Float64Array, P: number): Float64Array | null {
  const M = Float64Array.from(A), x = Float64Array.from(y);
  for (let c = 0; c < P; c++) {
    let piv = c;
    for (let r = c + 1; r < P; r++) if (Math.abs(M[r * P + c]) > Math.abs(M[piv * P + c])) piv = r;
    if (!(Math.abs(M[piv * P + c]) > 0)) return null;
    if (piv !== c) { for (let k = 0; k < P; k++) [M[c * P + k], M[piv * P + k]] = [M[piv * P + k], M[c * P + k]]; [x[c], x[piv]] = [x[piv], x[c]]; }
    for (let r = c + 1; r < P; r++) {
      const f = M[r * P + c] / M[c * P + c];
      for (let k = c; k < P; k++) M[r * P + k] -= f * M[c * P + k];
      x[r] -= f * x[c];
    }
  }
  for (let c = P - 1; c >= 0; c--) {
    let s = x[c];
    for (let k = c + 1; k < P; k++) s -= M[c * P + k] * x[k];
    x[c] = s / M[c * P + c];
  }
  return x;
}

/** Fit the student's θ (from 0) to the teacher by damped Gauss–Newton. */
export function recoverFit(cfg: RunConfig, ds: Dataset, teacher: ThetaSpec, learn: readonly string[], opts: RecoverOptions): RecoverFit {
  const layout = metaLayout(learn, sitesOf(cfg), false);
  let theta = layout.map(() => 0), mu = 1e-3;
  const match = opts.match ?? "weights";
  let cur = normalEquations(cfg, ds, teacher, layout, theta, opts.tasks, match);
  const losses = [cur.loss];
  for (let it = 0; it < opts.iterations; it++) {
    const P = layout.length, A = Float64Array.from(cur.JtJ);
    for (let a = 0; a < P; a++) A[a * P + a] += mu * cur.JtJ[a * P + a] + 1e-30;
    const step = solve(A, cur.Jtr.map((v) => -v), P);
    if (step === null) break;
    const next = theta.map((v, a) => v + step[a]);
    const trial = normalEquations(cfg, ds, teacher, layout, next, opts.tasks, match);
    if (Number.isFinite(trial.loss) && trial.loss <= cur.loss) { theta = next; cur = trial; mu = Math.max(mu / 10, 1e-9); }
    else mu *= 10;
    losses.push(cur.loss);
    if (cur.loss < 1e-20) break;
  }
  return { theta, loss: cur.loss, losses };
}
