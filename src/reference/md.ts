// Float64 reference of the memorization-dilation (md) feature model of
// science.md §7 (after Nguyen et al., "Memorization-Dilation", ICLR 2023):
//
// - class k has a centre c_k and a radius r_k; its clean examples sit at
//   c_k + r_k·u_s over S fixed unit directions (±e_1 … ±e_d), each with an
//   equal share n_kk/S of the class's clean count;
// - mislabelled examples of true class t observed as j share one feature
//   g_tj, weighted by their count n_tj;
// - memorization of class t: m_t = Σ_j n_tj φ(g_tj − c_t) / Σ_j n_tj over
//   its mislabelled groups (0 when it has none), φ(x) = √(‖x‖² + ε²) − ε a
//   norm smoothed at 0;
// - limited expressivity couples them: r_t = λ·m_t (λ = 0 is the ufm).
//
// F = (1/N) Σ_i w_i ℓ(W h_i + b, ỹ_i) + λ_W/2‖W‖² + λ_H/2 Σ_i w_i‖h_i‖²
//     + λ_b/2‖b‖², over W, b, the centres and the group features.

import { Random } from '../util/random';
import { columnLoss, type LossSpec } from './losses';

export interface MdProblem {
  K: number;
  d: number;
  /** counts[t][j]: examples of true class t observed as j (K×K). */
  counts: number[][];
  /** Coupling λ in r_t = λ·m_t. */
  coupling: number;
  lambdaW: number;
  lambdaH: number;
  lambdaB: number;
  loss: LossSpec;
  /** Smoothing ε of the norm in m_t. */
  smoothing: number;
}

export interface MdParams {
  /** K×d */
  W: Float64Array;
  /** K */
  b: Float64Array;
  /** K×d: row k is c_k. */
  centres: Float64Array;
  /** One row of d per mislabelled group, in the order of mdGroups(). */
  groups: Float64Array;
}

export interface MdGroup {
  trueClass: number;
  observed: number;
  count: number;
}

/** The mislabelled groups: every (t, j ≠ t) with a positive count. */
export function mdGroups(problem: MdProblem): MdGroup[] {
  const groups: MdGroup[] = [];
  problem.counts.forEach((row, t) =>
    row.forEach((count, j) => {
      if (j !== t && count > 0)
        groups.push({ trueClass: t, observed: j, count });
    }),
  );
  return groups;
}

/** ±e_1 … ±e_d as (axis, sign) pairs: S = 2d directions. */
function directions(d: number): Array<[number, number]> {
  return Array.from({ length: 2 * d }, (_, s) => [
    s >> 1,
    s % 2 === 0 ? 1 : -1,
  ]);
}

function smoothNorm(
  x: ArrayLike<number>,
  eps: number,
): { value: number; scale: number } {
  let sq = 0;
  for (let i = 0; i < x.length; i++) sq += x[i]! ** 2;
  const root = Math.sqrt(sq + eps * eps);
  return { value: root - eps, scale: 1 / root };
}

export interface MdState {
  /** m_t per class. */
  memorization: Float64Array;
  /** r_t = λ·m_t per class. */
  radii: Float64Array;
  objective: number;
  gradients: MdParams;
}

/** The objective, its gradient, memorization and radii at `params`. */
export function mdEvaluate(problem: MdProblem, params: MdParams): MdState {
  const { K, d, counts, coupling, lambdaW, lambdaH, lambdaB, smoothing } =
    problem;
  const groups = mdGroups(problem);
  const { W, b, centres, groups: G } = params;
  const N = counts.flat().reduce((a, c) => a + c, 0);

  // Memorization and radii from the current centres and group features.
  const memorization = new Float64Array(K);
  const mislabelled = new Float64Array(K);
  const diffs = groups.map((g, q) => {
    const x = Array.from(
      { length: d },
      (_, i) => G[q * d + i]! - centres[g.trueClass * d + i]!,
    );
    const norm = smoothNorm(x, smoothing);
    memorization[g.trueClass]! += g.count * norm.value;
    mislabelled[g.trueClass]! += g.count;
    return { x, scale: norm.scale };
  });
  for (let t = 0; t < K; t++) {
    if (mislabelled[t]! > 0) memorization[t]! /= mislabelled[t]!;
  }
  const radii = memorization.map((m) => coupling * m);

  const grads: MdParams = {
    W: W.map((w) => lambdaW * w),
    b: b.map((v) => lambdaB * v),
    centres: new Float64Array(K * d),
    groups: new Float64Array(G.length),
  };
  const dRadius = new Float64Array(K);
  let objective =
    (lambdaW / 2) * W.reduce((a, w) => a + w * w, 0) +
    (lambdaB / 2) * b.reduce((a, v) => a + v * v, 0);

  // One feature point: adds its loss and penalty, and returns ∂F/∂h.
  const z = new Float64Array(K);
  const point = (
    h: Float64Array,
    weight: number,
    observed: number,
  ): Float64Array => {
    for (let k = 0; k < K; k++) {
      let s = b[k]!;
      for (let i = 0; i < d; i++) s += W[k * d + i]! * h[i]!;
      z[k] = s;
    }
    const column = columnLoss(z, observed, problem.loss);
    let hh = 0;
    for (let i = 0; i < d; i++) hh += h[i]! ** 2;
    objective += (weight / N) * column.loss + (lambdaH / 2) * weight * hh;
    const dh = new Float64Array(d);
    for (let k = 0; k < K; k++) {
      const g = (weight / N) * column.grad[k]!;
      grads.b[k]! += g;
      for (let i = 0; i < d; i++) {
        grads.W[k * d + i]! += g * h[i]!;
        dh[i]! += g * W[k * d + i]!;
      }
    }
    for (let i = 0; i < d; i++) dh[i]! += lambdaH * weight * h[i]!;
    return dh;
  };

  const dirs = directions(d);
  for (let k = 0; k < K; k++) {
    const clean = counts[k]![k]!;
    if (clean === 0) continue;
    for (const [axis, sign] of dirs) {
      const h = Float64Array.from({ length: d }, (_, i) => centres[k * d + i]!);
      h[axis]! += sign * radii[k]!;
      const dh = point(h, clean / dirs.length, k);
      for (let i = 0; i < d; i++) grads.centres[k * d + i]! += dh[i]!;
      dRadius[k]! += sign * dh[axis]!;
    }
  }
  groups.forEach((g, q) => {
    const h = Float64Array.from({ length: d }, (_, i) => G[q * d + i]!);
    const dh = point(h, g.count, g.observed);
    for (let i = 0; i < d; i++) grads.groups[q * d + i]! += dh[i]!;
  });

  // Through r_t = λ·m_t: ∂m_t/∂g_tj = (n_tj/M_t)·∇φ, and −that for c_t.
  groups.forEach((g, q) => {
    const t = g.trueClass;
    const factor = (dRadius[t]! * coupling * g.count) / mislabelled[t]!;
    const { x, scale } = diffs[q]!;
    for (let i = 0; i < d; i++) {
      const v = factor * x[i]! * scale;
      grads.groups[q * d + i]! += v;
      grads.centres[t * d + i]! -= v;
    }
  });

  return { memorization, radii, objective, gradients: grads };
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf; |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly =
    t *
    (0.254829592 +
      t *
        (-0.284496736 +
          t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/**
 * Test accuracy for K = 2, exactly: a test example of class k has feature
 * c_k + r_k·u, u ~ N(0, I/d), so the score difference is normal with mean
 * ±(Δw·c_k + Δb) and standard deviation r_k‖Δw‖/√d. Class-balanced mean.
 */
export function mdTestAccuracyExact(
  problem: MdProblem,
  params: MdParams,
  radii: ArrayLike<number>,
): number {
  if (problem.K !== 2) throw new Error('mdTestAccuracyExact: needs K = 2');
  const { d } = problem;
  const { W, b, centres } = params;
  const dw = Array.from({ length: d }, (_, i) => W[i]! - W[d + i]!);
  const db = b[0]! - b[1]!;
  const dwNorm = Math.hypot(...dw);
  let total = 0;
  for (let k = 0; k < 2; k++) {
    const sign = k === 0 ? 1 : -1;
    const mean =
      sign * (dw.reduce((a, v, i) => a + v * centres[k * d + i]!, 0) + db);
    const sd = (radii[k]! * dwNorm) / Math.sqrt(d);
    total +=
      sd === 0 ? (mean > 0 ? 1 : mean < 0 ? 0 : 0.5) : normalCdf(mean / sd);
  }
  return total / 2;
}

/**
 * Test accuracy for any K by Monte Carlo with a fixed seed: `samples` test
 * features c_k + r_k·u, u ~ N(0, I/d), per class; class-balanced mean.
 */
export function mdTestAccuracyMonteCarlo(
  problem: MdProblem,
  params: MdParams,
  radii: ArrayLike<number>,
  samples: number,
  seed: number,
): number {
  const { K, d } = problem;
  const { W, b, centres } = params;
  const rng = new Random(seed);
  const h = new Float64Array(d);
  let total = 0;
  for (let k = 0; k < K; k++) {
    let correct = 0;
    for (let s = 0; s < samples; s++) {
      for (let i = 0; i < d; i++) {
        h[i] = centres[k * d + i]! + (radii[k]! * rng.normal()) / Math.sqrt(d);
      }
      let best = 0;
      let bestScore = -Infinity;
      for (let j = 0; j < K; j++) {
        let score = b[j]!;
        for (let i = 0; i < d; i++) score += W[j * d + i]! * h[i]!;
        if (score > bestScore) {
          bestScore = score;
          best = j;
        }
      }
      if (best === k) correct += 1;
    }
    total += correct / samples;
  }
  return total / K;
}

export interface MdTrainOptions {
  steps: number;
  lr: number;
  /** Step size of a feature per unit of its weight; N·lr by default. */
  lrH?: number;
  seed: number;
  initScale: number;
  /** Keep centres and group features ≥ 0 (projected after each step). */
  positive?: boolean;
}

/**
 * The seeded start: W ~ N(0, s²), b = 0, centres and group features
 * ~ N(0, s²), or s·(0.5 + U[0, 1)) with positive features (well inside the
 * orthant, as the ufm's). Drawn in that order.
 */
export function initialMdParams(
  problem: MdProblem,
  seed: number,
  initScale: number,
  positive = false,
): MdParams {
  const { K, d } = problem;
  const rng = new Random(seed);
  const s = initScale;
  const feature = () =>
    positive ? s * (0.5 + rng.uniform()) : s * rng.normal();
  const W = Float64Array.from({ length: K * d }, () => s * rng.normal());
  const centres = Float64Array.from({ length: K * d }, feature);
  const groups = Float64Array.from(
    { length: mdGroups(problem).length * d },
    feature,
  );
  return { W, b: new Float64Array(K), centres, groups };
}

/**
 * Gradient descent from the seeded start. W and b take step lr; a centre or
 * a group feature takes lr_H/(its total weight), which is plain gradient
 * descent on the per-example objective when lr_H = N·lr (as in the ufm).
 */
export function trainMdReference(
  problem: MdProblem,
  options: MdTrainOptions,
): MdParams {
  const { d, counts } = problem;
  const groups = mdGroups(problem);
  const N = counts.flat().reduce((a, c) => a + c, 0);
  const params = initialMdParams(
    problem,
    options.seed,
    options.initScale,
    options.positive,
  );
  const lrH = options.lrH ?? options.lr * N;
  const project = (x: number) => (options.positive ? Math.max(x, 0) : x);
  const centreRate = counts.map((row, k) => lrH / Math.max(row[k]!, 1));
  for (let step = 0; step < options.steps; step++) {
    const { gradients: g } = mdEvaluate(problem, params);
    params.W.forEach((w, i) => (params.W[i] = w - options.lr * g.W[i]!));
    params.b.forEach((v, i) => (params.b[i] = v - options.lr * g.b[i]!));
    params.centres.forEach(
      (c, i) =>
        (params.centres[i] = project(
          c - centreRate[Math.floor(i / d)]! * g.centres[i]!,
        )),
    );
    params.groups.forEach((x, i) => {
      const rate = lrH / groups[Math.floor(i / d)]!.count;
      params.groups[i] = project(x - rate * g.groups[i]!);
    });
  }
  return params;
}
