/**
 * Adam (Kingma & Ba 2015) as a pair of pure functions, optax-style: the state
 * is plain data (it goes into checkpoints), `update` returns the step to add.
 * Matches torch.optim.Adam's defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8, bias
 * correction on m̂ and v̂, ε added to √v̂.
 */
export interface AdamState {
  t: number;
  m: number[];
  v: number[];
}

export interface AdamOptions {
  lr: number;
  b1?: number;
  b2?: number;
  eps?: number;
}

export function adamInit(n: number): AdamState {
  return { t: 0, m: new Array(n).fill(0), v: new Array(n).fill(0) };
}

/** Returns [Δθ, new state] for gradient g (descent: Δθ = −lr · m̂ / (√v̂ + ε)). */
export function adamUpdate(g: readonly number[], s: AdamState, o: AdamOptions): [number[], AdamState] {
  const b1 = o.b1 ?? 0.9, b2 = o.b2 ?? 0.999, eps = o.eps ?? 1e-8;
  const t = s.t + 1;
  const m = s.m.map((mi, i) => b1 * mi + (1 - b1) * g[i]);
  const v = s.v.map((vi, i) => b2 * vi + (1 - b2) * g[i] * g[i]);
  const c1 = 1 - b1 ** t, c2 = 1 - b2 ** t;
  const step = m.map((mi, i) => -o.lr * (mi / c1) / (Math.sqrt(v[i] / c2) + eps));
  return [step, { t, m, v }];
}
