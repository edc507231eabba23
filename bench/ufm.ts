// The plain-JavaScript float32 baseline of one ufm training step, the full-
// batch gradient-descent step of science.md §2 that trainUfmBatch takes with
// plain GD and a constant schedule, and how far a trained state is from the
// float64 reference trainer. Nothing here touches the GPU.

import type { UfmTrainConfig } from '../src/train/ufm';
import { initialUfmState, type UfmState } from '../src/reference/ufm';

/** Steps of the check against the float64 reference, which is slow JS. */
export const UFM_CHECK_STEPS = 3;
/**
 * Largest |x − reference| allowed, over the largest |reference| entry, for
 * nclab, JS and TF.js alike. Each step's gradients are float32 sums of up
 * to N terms summed in different orders by each engine; the worst-case
 * bound γ_N (6e-4 at N = 10⁴) is far too loose, but rounding errors of
 * either sign grow like √N·u (Higham, 2nd ed., §2.8), about 1e-5 of the
 * largest entry after three steps at N ≤ 6·10⁴. A wrong objective or update
 * is far above: λ_W off by a factor 2 (the classic slip in the derivative
 * of λ/2‖W‖²) changes W by lr·λ_W = 2.5e-3 of itself per step here.
 */
export const UFM_TOLERANCE = 1e-4;

/** A configuration as the benchmark holds it; the run length is set per call. */
export type UfmBenchConfig = Omit<UfmTrainConfig, 'steps'>;

/** One configuration's parameters in float32, with its step's scratch. */
export interface UfmStateJs {
  K: number;
  d: number;
  N: number;
  lambdaW: number;
  lambdaH: number;
  lambdaB: number;
  lr: number;
  lrH: number;
  /** K×d */
  W: Float32Array;
  /** d×N; column n is the feature of example n. */
  H: Float32Array;
  /** K */
  b: Float32Array;
  labels: Uint32Array;
  /** K×N: the logits Z, overwritten in place by dZ. */
  logits: Float32Array;
  gradW: Float32Array;
  gradH: Float32Array;
  gradB: Float32Array;
}

/**
 * The seeded initial state of the float64 reference (and of trainUfmBatch),
 * rounded to float32. Only plain GD with a constant schedule and free
 * features is implemented here; anything else is refused, not approximated.
 */
export function initialUfmStateJs(config: UfmBenchConfig): UfmStateJs {
  if (
    config.optimizer.kind !== 'gd' ||
    config.schedule.kind !== 'constant' ||
    config.loss.kind !== 'ce' ||
    config.positive
  ) {
    throw new Error(
      'the JS ufm baseline implements cross-entropy, plain gradient ' +
        'descent, a constant schedule and free (not positive) features only',
    );
  }
  const state = initialUfmState({ ...config, steps: 0 });
  const { K, d } = config;
  const N = state.labels.length;
  return {
    K,
    d,
    N,
    lambdaW: config.lambdaW,
    lambdaH: config.lambdaH,
    lambdaB: config.lambdaB,
    lr: config.lr,
    lrH: config.lrH ?? N * config.lr,
    W: Float32Array.from(state.W),
    H: Float32Array.from(state.H),
    b: Float32Array.from(state.b),
    labels: state.labels,
    logits: new Float32Array(K * N),
    gradW: new Float32Array(K * d),
    gradH: new Float32Array(d * N),
    gradB: new Float32Array(K),
  };
}

/**
 * One full-batch step: Z = W·H + b, dZ = (softmax(Z) − onehot)/N,
 * ∂W = dZ·Hᵀ + λ_W W, ∂H = Wᵀ·dZ + λ_H H, ∂b = rowsum(dZ) + λ_b b, then
 * W −= lr ∂W, b −= lr ∂b, H −= lr_H ∂H. Every array is float32; JavaScript
 * arithmetic is float64 between the stores, so dot products kept in a local
 * round once, and the row updates (i-k-j order, rows read and written in
 * memory order) round after every addition, as a float32 kernel would.
 */
export function ufmStepJs(s: UfmStateJs): void {
  const { K, d, N, W, H, b, labels, logits, gradW, gradH, gradB } = s;

  for (let k = 0; k < K; k++) {
    const rowZ = k * N;
    logits.fill(b[k]!, rowZ, rowZ + N);
    for (let i = 0; i < d; i++) {
      const wki = W[k * d + i]!;
      const rowH = i * N;
      for (let n = 0; n < N; n++) logits[rowZ + n]! += wki * H[rowH + n]!;
    }
  }

  // Softmax per column, max-shifted so no large logit is exponentiated.
  const invN = 1 / N;
  for (let n = 0; n < N; n++) {
    let zMax = -Infinity;
    for (let k = 0; k < K; k++) zMax = Math.max(zMax, logits[k * N + n]!);
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(logits[k * N + n]! - zMax);
      logits[k * N + n] = e;
      sum += e;
    }
    const label = labels[n]!;
    for (let k = 0; k < K; k++) {
      const p = logits[k * N + n]! / sum;
      logits[k * N + n] = (p - (k === label ? 1 : 0)) * invN;
    }
  }

  for (let k = 0; k < K; k++) {
    const rowZ = k * N;
    for (let i = 0; i < d; i++) {
      const rowH = i * N;
      let dot = 0;
      for (let n = 0; n < N; n++) dot += logits[rowZ + n]! * H[rowH + n]!;
      gradW[k * d + i] = dot + s.lambdaW * W[k * d + i]!;
    }
    let rowSum = 0;
    for (let n = 0; n < N; n++) rowSum += logits[rowZ + n]!;
    gradB[k] = rowSum + s.lambdaB * b[k]!;
  }

  for (let i = 0; i < d; i++) {
    const rowH = i * N;
    for (let n = 0; n < N; n++) gradH[rowH + n] = s.lambdaH * H[rowH + n]!;
    for (let k = 0; k < K; k++) {
      const wki = W[k * d + i]!;
      const rowZ = k * N;
      for (let n = 0; n < N; n++) gradH[rowH + n]! += wki * logits[rowZ + n]!;
    }
  }

  for (let j = 0; j < W.length; j++) W[j]! -= s.lr * gradW[j]!;
  for (let k = 0; k < K; k++) b[k]! -= s.lr * gradB[k]!;
  for (let j = 0; j < H.length; j++) H[j]! -= s.lrH * gradH[j]!;
}

/** Largest |x − reference| over the largest |reference|, per parameter. */
export interface UfmErrors {
  W: number;
  H: number;
  b: number;
}

function relativeError(
  values: ArrayLike<number>,
  reference: ArrayLike<number>,
): number {
  if (values.length !== reference.length) return Infinity;
  let largest = 0;
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    largest = Math.max(largest, Math.abs(reference[i]!));
    const difference = Math.abs(values[i]! - reference[i]!);
    // NaN compares false: count it as an unbounded error.
    if (!(difference <= worst)) {
      worst = Number.isNaN(difference) ? Infinity : difference;
    }
  }
  return largest > 0 ? worst / largest : worst;
}

export function ufmErrors(
  state: { W: ArrayLike<number>; H: ArrayLike<number>; b: ArrayLike<number> },
  reference: UfmState,
): UfmErrors {
  return {
    W: relativeError(state.W, reference.W),
    H: relativeError(state.H, reference.H),
    b: relativeError(state.b, reference.b),
  };
}
