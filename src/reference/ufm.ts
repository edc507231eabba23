// Float64 reference trainer of the unconstrained features model (science.md
// §2): full-batch gradient descent on
//   F = (1/N) Σ ℓ(W h_i + b, y_i) + λ_W/2 ‖W‖² + λ_H/2 ‖H‖² + λ_b/2 ‖b‖²,
// with features optionally projected onto h ≥ 0 after each step. Small and
// slow by design: it is the oracle the GPU trainer is checked against.

import { Random } from '../util/random';
import { weightedLossReference, type LossSpec } from './losses';
import {
  optimizerStepReference,
  type OptimizerSpec,
  type ScheduleSpec,
} from './optimizer';

export interface UfmReferenceConfig {
  K: number;
  d: number;
  /** Examples per class. */
  countsPerClass: number[];
  lambdaW: number;
  lambdaH: number;
  lambdaB: number;
  loss: LossSpec;
  positive: boolean;
  steps: number;
  /** Step size of W and b; features take N times it (science.md §3). */
  lr: number;
  /** Features' step size; N·lr by default. */
  lrH?: number;
  /** Plain gradient descent by default. */
  optimizer?: OptimizerSpec;
  /** Constant by default. */
  schedule?: ScheduleSpec;
  seed: number;
  /** Standard deviation of the initial W and H. */
  initScale: number;
}

export interface UfmState {
  /** K×d */
  W: Float64Array;
  /** d×N */
  H: Float64Array;
  /** K */
  b: Float64Array;
  labels: Uint32Array;
}

export interface UfmGradients {
  W: Float64Array;
  H: Float64Array;
  b: Float64Array;
  /** The objective F at the given point. */
  objective: number;
}

/** Labels in class order: countsPerClass[k] copies of k. */
export function balancedLabels(countsPerClass: readonly number[]): Uint32Array {
  const labels: number[] = [];
  countsPerClass.forEach((count, k) => {
    for (let i = 0; i < count; i++) labels.push(k);
  });
  return Uint32Array.from(labels);
}

/**
 * Initial state: W, b ~ N(0, s²), H ~ N(0, s²); with positive features H is
 * drawn from s·(0.5 + U[0, 1)) instead, well inside the orthant, so no class
 * starts at the dead point h = 0.
 */
export function initialUfmState(config: UfmReferenceConfig): UfmState {
  const { K, d, initScale: s } = config;
  const labels = balancedLabels(config.countsPerClass);
  const N = labels.length;
  const rng = new Random(config.seed);
  const W = Float64Array.from({ length: K * d }, () => s * rng.normal());
  const b = new Float64Array(K);
  const H = Float64Array.from({ length: d * N }, () =>
    config.positive ? s * (0.5 + rng.uniform()) : s * rng.normal(),
  );
  return { W, H, b, labels };
}

export function ufmGradients(
  config: UfmReferenceConfig,
  state: UfmState,
): UfmGradients {
  const { K, d, lambdaW, lambdaH, lambdaB } = config;
  const { W, H, b, labels } = state;
  const N = labels.length;
  const Z = new Float64Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      let z = b[k]!;
      for (let i = 0; i < d; i++) z += W[k * d + i]! * H[i * N + n]!;
      Z[k * N + n] = z;
    }
  }
  const ones = new Float64Array(N).fill(1);
  const loss = weightedLossReference(Z, K, N, labels, ones, config.loss);
  const dZ = loss.weightedGrad;

  const gW = new Float64Array(K * d);
  const gH = new Float64Array(d * N);
  const gb = new Float64Array(K);
  let penalty = 0;
  for (let k = 0; k < K; k++) {
    let sum = 0;
    for (let n = 0; n < N; n++) sum += dZ[k * N + n]!;
    gb[k] = sum / N + lambdaB * b[k]!;
    penalty += lambdaB * b[k]! ** 2;
    for (let i = 0; i < d; i++) {
      let g = 0;
      for (let n = 0; n < N; n++) g += dZ[k * N + n]! * H[i * N + n]!;
      gW[k * d + i] = g / N + lambdaW * W[k * d + i]!;
      penalty += lambdaW * W[k * d + i]! ** 2;
    }
  }
  for (let i = 0; i < d; i++) {
    for (let n = 0; n < N; n++) {
      let g = 0;
      for (let k = 0; k < K; k++) g += W[k * d + i]! * dZ[k * N + n]!;
      gH[i * N + n] = g / N + lambdaH * H[i * N + n]!;
      penalty += lambdaH * H[i * N + n]! ** 2;
    }
  }
  return { W: gW, H: gH, b: gb, objective: loss.lossSum / N + penalty / 2 };
}

/**
 * Runs `steps` optimizer steps from the initial state. The gradients from
 * ufmGradients include the λ terms, so the blocks' own λ is 0 here.
 */
export function trainUfmReference(config: UfmReferenceConfig): UfmState {
  const state = initialUfmState(config);
  const N = state.labels.length;
  const common = {
    optimizer: config.optimizer ?? { kind: 'gd' as const },
    schedule: config.schedule ?? { kind: 'constant' as const },
    lambda: 0,
  };
  const blocks = [
    { params: state.W, lr: config.lr, positive: false, key: 'W' as const },
    {
      params: state.H,
      lr: config.lrH ?? config.lr * N,
      positive: config.positive,
      key: 'H' as const,
    },
    { params: state.b, lr: config.lr, positive: false, key: 'b' as const },
  ].map((b) => ({
    ...b,
    moments: {
      m1: new Float64Array(b.params.length),
      m2: new Float64Array(b.params.length),
    },
  }));
  for (let step = 0; step < config.steps; step++) {
    const g = ufmGradients(config, state);
    for (const block of blocks) {
      optimizerStepReference(
        block.params,
        g[block.key],
        block.moments,
        { ...common, ...block },
        step,
      );
    }
  }
  return state;
}
