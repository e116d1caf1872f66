import type { Dataset } from "../data/dataset-core.js";
import { loadPixels } from "../data/pixels.js";
import { sampleTask } from "../data/tasks.js";
import { planStep, planTangentStep } from "../nets/plan.js";
import { makeRule, type ThetaSpec } from "../rules/rule.js";
import { metaLayout, type MetaParam } from "../learn/tangent.js";
import { thetaSpec } from "../meta/theta.js";
import { heapArena } from "../core/kernels.js";
import { buildNetwork, sitesOf, taskStreams, type RunConfig } from "./task.js";

/**
 * Rules recovered from data (the validation of MetaLearnPlasticity and
 * Confavreux et al.): a teacher rule trains a network on a task; a student
 * family, from the same initial weights and examples, is fitted to give the
 * teacher's final weights. The residual r(θ) = W_student(θ) − W_teacher is
 * differentiated exactly in forward mode (J = dW/dθ, the tangents of the
 * online loop), so the fit is Gauss–Newton with Levenberg damping:
 *   (JᵀJ + μ diag JᵀJ) Δθ = −Jᵀr,  loss = ‖r‖² / ‖W_teacher − W₀‖².
 */
export interface RecoverOptions {
  /** Tasks whose residuals are stacked (per seed). */
  tasks: number;
  /** Gauss–Newton iterations. */
  iterations: number;
}

export interface RecoverFit { theta: number[]; loss: number; losses: number[] }

/** The stacked normal equations over `tasks` tasks at θ: JᵀJ, Jᵀr and ‖r‖²/‖ΔW_teacher‖². */
export function normalEquations(
  cfg: RunConfig,
  ds: Dataset,
  teacher: ThetaSpec,
  layout: readonly MetaParam[],
  theta: readonly number[],
  tasks: number,
): { JtJ: Float64Array; Jtr: Float64Array; loss: number } {
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
    const wT = tNet.params,
      wS = sNet.params,
      J = sStep.dParams;
    for (let q = 0; q < wT.length; q++) {
      const r = wS[q] - wT[q],
        d = wT[q] - w0[q];
      rr += r * r;
      dd += d * d;
      for (let a = 0; a < P; a++) {
        const ja = J[a][q];
        Jtr[a] += ja * r;
        for (let b = a; b < P; b++) JtJ[a * P + b] += ja * J[b][q];
      }
    }
  }
  for (let a = 0; a < P; a++) for (let b = 0; b < a; b++) JtJ[a * P + b] = JtJ[b * P + a];
  return { JtJ, Jtr, loss: rr / Math.max(dd, 1e-300) };
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
  let cur = normalEquations(cfg, ds, teacher, layout, theta, opts.tasks);
  const losses = [cur.loss];
  for (let it = 0; it < opts.iterations; it++) {
    const P = layout.length, A = Float64Array.from(cur.JtJ);
    for (let a = 0; a < P; a++) A[a * P + a] += mu * cur.JtJ[a * P + a] + 1e-30;
    const step = solve(A, cur.Jtr.map((v) => -v), P);
    if (step === null) break;
    const next = theta.map((v, a) => v + step[a]);
    const trial = normalEquations(cfg, ds, teacher, layout, next, opts.tasks);
    if (Number.isFinite(trial.loss) && trial.loss <= cur.loss) { theta = next; cur = trial; mu = Math.max(mu / 10, 1e-9); }
    else mu *= 10;
    losses.push(cur.loss);
    if (cur.loss < 1e-20) break;
  }
  return { theta, loss: cur.loss, losses };
}
