// Float64 reference of the graph-coupled feature model (science.md §7):
// free features H (d×N) for training and test examples together, the loss
// on the N_train training columns only, and the penalty
//   γ/(2 N_train) · tr(H L Hᵀ),  L = I − D^(−1/2) A D^(−1/2),
// over a symmetric k-NN graph A of the inputs with degrees D:
//   F = (1/N_train) Σ_{i ≤ N_train} ℓ(W h_i + b, ỹ_i) + λ_W/2‖W‖²
//       + λ_H/2‖H‖² + λ_b/2‖b‖² + γ/(2 N_train) tr(H L Hᵀ).
// Its gradient in H adds (γ/N_train)·H·L, an SpMM over the neighbour lists.

import type { NeighbourGraph } from '../kernels/knn';
import { Random } from '../util/random';
import { columnLoss, type LossSpec } from './losses';

export interface GraphProblem {
  K: number;
  d: number;
  /** All examples: the first `trainCount` are training examples. */
  N: number;
  trainCount: number;
  /** Observed labels of the training examples (the rest is ignored). */
  labels: ArrayLike<number>;
  graph: NeighbourGraph;
  gamma: number;
  lambdaW: number;
  lambdaH: number;
  lambdaB: number;
  loss: LossSpec;
}

export interface GraphParams {
  /** K×d */
  W: Float64Array;
  /** d×N */
  H: Float64Array;
  /** K */
  b: Float64Array;
}

/** W, H ~ N(0, s²) drawn in that order from the seed; b = 0. */
export function initialGraphParams(
  K: number,
  d: number,
  N: number,
  seed: number,
  initScale: number,
): GraphParams {
  const rng = new Random(seed);
  const draw = (n: number) =>
    Float64Array.from({ length: n }, () => initScale * rng.normal());
  const W = draw(K * d);
  const H = draw(d * N);
  return { W, H, b: new Float64Array(K) };
}

/** (H·S)[:, n] = Σ_{m ~ n} w_nm h_m / √(deg_n deg_m), S = D^(−1/2)AD^(−1/2). */
export function smoothedFeatures(
  H: ArrayLike<number>,
  d: number,
  graph: NeighbourGraph,
): Float64Array {
  const { N, degree, index, weight, degrees } = graph;
  const out = new Float64Array(d * N);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < degree; s++) {
      const m = index[n * degree + s]!;
      if (m >= N) continue;
      const c = weight[n * degree + s]! / Math.sqrt(degrees[n]! * degrees[m]!);
      for (let i = 0; i < d; i++) out[i * N + n]! += c * H[i * N + m]!;
    }
  }
  return out;
}

/** The objective and its gradient at `params`. */
export function graphGradients(
  problem: GraphProblem,
  params: GraphParams,
): GraphParams & { objective: number } {
  const { K, d, N, trainCount, labels, graph, gamma } = problem;
  const { W, H, b } = params;
  const gW = W.map((w) => problem.lambdaW * w);
  const gb = b.map((v) => problem.lambdaB * v);
  const gH = H.map((h) => problem.lambdaH * h);
  let objective =
    (problem.lambdaW / 2) * W.reduce((a, w) => a + w * w, 0) +
    (problem.lambdaH / 2) * H.reduce((a, h) => a + h * h, 0) +
    (problem.lambdaB / 2) * b.reduce((a, v) => a + v * v, 0);

  const z = new Float64Array(K);
  for (let n = 0; n < trainCount; n++) {
    for (let k = 0; k < K; k++) {
      let s = b[k]!;
      for (let i = 0; i < d; i++) s += W[k * d + i]! * H[i * N + n]!;
      z[k] = s;
    }
    const column = columnLoss(z, labels[n]!, problem.loss);
    objective += column.loss / trainCount;
    for (let k = 0; k < K; k++) {
      const g = column.grad[k]! / trainCount;
      gb[k]! += g;
      for (let i = 0; i < d; i++) {
        gW[k * d + i]! += g * H[i * N + n]!;
        gH[i * N + n]! += g * W[k * d + i]!;
      }
    }
  }

  // γ/(2N_train)·tr(H L Hᵀ) = γ/(2N_train)·Σ (‖H‖² − ⟨H, H·S⟩).
  const smoothed = smoothedFeatures(H, d, graph);
  const c = gamma / trainCount;
  let quadratic = 0;
  for (let j = 0; j < d * N; j++) {
    const lh = H[j]! - smoothed[j]!;
    quadratic += H[j]! * lh;
    gH[j]! += c * lh;
  }
  objective += (c / 2) * quadratic;
  return { W: gW, H: gH, b: gb, objective };
}

/**
 * Plain gradient descent from the seeded start: W and b take step lr, the
 * features lr_H (N_train·lr by default, as the ufm's).
 */
export function trainGraphReference(
  problem: GraphProblem,
  options: {
    steps: number;
    lr: number;
    lrH?: number;
    seed: number;
    initScale: number;
  },
): GraphParams {
  const params = initialGraphParams(
    problem.K,
    problem.d,
    problem.N,
    options.seed,
    options.initScale,
  );
  const lrH = options.lrH ?? problem.trainCount * options.lr;
  for (let step = 0; step < options.steps; step++) {
    const g = graphGradients(problem, params);
    params.W.forEach((w, i) => (params.W[i] = w - options.lr * g.W[i]!));
    params.b.forEach((v, i) => (params.b[i] = v - options.lr * g.b[i]!));
    params.H.forEach((h, i) => (params.H[i] = h - lrH * g.H[i]!));
  }
  return params;
}
