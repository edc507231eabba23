// Float64 reference of the losses of science.md §2 on logits z = W·h + b:
// cross-entropy, label smoothing LS(α) (with its excess over the entropy of
// the smoothed target) and MSE, per column and over weighted columns.

export type LossKind = 'ce' | 'ls' | 'mse';

export interface LossSpec {
  kind: LossKind;
  /** Label-smoothing α in [0, 1); used by 'ls' only. */
  alpha?: number;
}

export interface ColumnLoss {
  loss: number;
  /** loss − H(q) for LS (the minimum of LS is H(q), not 0); loss otherwise. */
  excess: number;
  /** ∂loss/∂z (length K). */
  grad: Float64Array;
  /** argmax_k z_k equals the label (first index on ties). */
  correct: boolean;
}

/** Entropy of the smoothed target q = (1−α)e_y + (α/K)1, with 0·log 0 = 0. */
export function smoothedTargetEntropy(alpha: number, K: number): number {
  const qy = 1 - alpha + alpha / K;
  const qo = alpha / K;
  const term = (q: number) => (q > 0 ? q * Math.log(q) : 0);
  return -(term(qy) + (K - 1) * term(qo));
}

export function columnLoss(
  z: ArrayLike<number>,
  label: number,
  spec: LossSpec,
): ColumnLoss {
  const K = z.length;
  let zmax = -Infinity;
  let argmax = 0;
  for (let k = 0; k < K; k++) {
    if (z[k]! > zmax) {
      zmax = z[k]!;
      argmax = k;
    }
  }
  const grad = new Float64Array(K);
  const correct = argmax === label;

  if (spec.kind === 'mse') {
    let loss = 0;
    for (let k = 0; k < K; k++) {
      const r = z[k]! - (k === label ? 1 : 0);
      loss += 0.5 * r * r;
      grad[k] = r;
    }
    return { loss, excess: loss, grad, correct };
  }

  // Max-shifted log-sum-exp: never exponentiate a large logit.
  let sum = 0;
  for (let k = 0; k < K; k++) sum += Math.exp(z[k]! - zmax);
  const lse = zmax + Math.log(sum);
  const alpha = spec.kind === 'ls' ? (spec.alpha ?? 0) : 0;
  let loss = 0;
  for (let k = 0; k < K; k++) {
    const q = (k === label ? 1 - alpha : 0) + alpha / K;
    const p = Math.exp(z[k]! - lse);
    loss += q * (lse - z[k]!);
    grad[k] = p - q;
  }
  const excess =
    spec.kind === 'ls' ? loss - smoothedTargetEntropy(alpha, K) : loss;
  return { loss, excess, grad, correct };
}

export interface LogitsInput {
  /** K×d, row-major. */
  W: ArrayLike<number>;
  /** d×N, row-major (column n is feature h_n). */
  H: ArrayLike<number>;
  /** K. */
  b: ArrayLike<number>;
  K: number;
  d: number;
  N: number;
}

/** Z = W·H + b·1ᵀ (K×N) and, per entry, Σ_i |W_ki H_in| + |b_k|. */
export function logitsReference(input: LogitsInput): {
  Z: Float64Array;
  magnitudes: Float64Array;
} {
  const { W, H, b, K, d, N } = input;
  const Z = new Float64Array(K * N);
  const magnitudes = new Float64Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      let z = b[k]!;
      let m = Math.abs(b[k]!);
      for (let i = 0; i < d; i++) {
        const t = W[k * d + i]! * H[i * N + n]!;
        z += t;
        m += Math.abs(t);
      }
      Z[k * N + n] = z;
      magnitudes[k * N + n] = m;
    }
  }
  return { Z, magnitudes };
}

export interface WeightedLoss {
  /** Σ_n c_n ℓ_n, Σ_n c_n (ℓ_n − H(q)), Σ_n c_n [correct_n]. */
  lossSum: number;
  excessSum: number;
  correctSum: number;
  weightSum: number;
  /** c_n ∂ℓ_n/∂z_n (K×N): the mean loss's gradient times Σ c. */
  weightedGrad: Float64Array;
}

/** Losses of every column of Z (K×N) with weights c (a count per column). */
export function weightedLossReference(
  Z: ArrayLike<number>,
  K: number,
  N: number,
  labels: ArrayLike<number>,
  weights: ArrayLike<number>,
  spec: LossSpec,
): WeightedLoss {
  const result: WeightedLoss = {
    lossSum: 0,
    excessSum: 0,
    correctSum: 0,
    weightSum: 0,
    weightedGrad: new Float64Array(K * N),
  };
  const z = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    const c = weights[n]!;
    result.weightSum += c;
    if (c === 0) continue;
    for (let k = 0; k < K; k++) z[k] = Z[k * N + n]!;
    const column = columnLoss(z, labels[n]!, spec);
    result.lossSum += c * column.loss;
    result.excessSum += c * column.excess;
    result.correctSum += column.correct ? c : 0;
    for (let k = 0; k < K; k++) {
      result.weightedGrad[k * N + n] = c * column.grad[k]!;
    }
  }
  return result;
}
