// Closed-form global minimisers of the regularised unconstrained features
// model with balanced classes (science.md §3): the test oracles for training.
// Cross-entropy and label smoothing follow the analysis of Zhu et al. (2021)
// and of Nguyen et al. (ICLR 2023) for nonnegative features; MSE follows
// Han, Papyan & Donoho (2022) with an unregularised bias.

export interface UfmProblem {
  K: number;
  /** Examples per class (balanced). */
  n: number;
  lambdaW: number;
  lambdaH: number;
}

export interface UfmOptimum {
  /** Whether the minimiser is W = H = 0 (regularisation wins). */
  collapsedToZero: boolean;
  /** ‖w_k‖, equal for every class. */
  classifierNorm: number;
  /** ‖h_i‖ for CE/LS; ‖h_i − μ_G‖ for MSE. */
  featureNorm: number;
  /** z_y − z_j for j ≠ y (CE/LS only; NaN for MSE). */
  margin: number;
}

const ZERO: UfmOptimum = {
  collapsedToZero: true,
  classifierNorm: 0,
  featureNorm: 0,
  margin: 0,
};

/** q* = 1 − (K−1)α/K − γ, the optimal probability of the true class. */
function optimalProbability(K: number, alpha: number, gamma: number): number {
  return 1 - ((K - 1) * alpha) / K - gamma;
}

function margin(K: number, q: number): number {
  return Math.log(((K - 1) * q) / (1 - q));
}

/**
 * CE (α = 0) or LS(α), features unconstrained, d ≥ K − 1: W a simplex ETF,
 * every class-k feature c·w_k, b = 0.
 */
export function crossEntropyOptimum(p: UfmProblem, alpha = 0): UfmOptimum {
  const { K, n, lambdaW, lambdaH } = p;
  const gamma = (K - 1) * Math.sqrt(n * lambdaW * lambdaH);
  const q = optimalProbability(K, alpha, gamma);
  if (q <= 1 / K) return ZERO;
  const delta = margin(K, q);
  const c = Math.sqrt(lambdaW / (n * lambdaH));
  const classifierNorm = Math.sqrt((delta * (K - 1)) / (K * c));
  return {
    collapsedToZero: false,
    classifierNorm,
    featureNorm: c * classifierNorm,
    margin: delta,
  };
}

/**
 * CE or LS(α) with nonnegative features, d ≥ K: class means a·e_π(k) (an
 * orthogonal frame), w_k = β(e_π(k) − 1/K), with a·β = Δ* and
 * β/a = √(nKλ_H / ((K−1)λ_W)).
 */
export function positiveCrossEntropyOptimum(
  p: UfmProblem,
  alpha = 0,
): UfmOptimum {
  const { K, n, lambdaW, lambdaH } = p;
  const gamma = Math.sqrt(n * K * (K - 1) * lambdaW * lambdaH);
  const q = optimalProbability(K, alpha, gamma);
  if (q <= 1 / K) return ZERO;
  const delta = margin(K, q);
  const ratio = Math.sqrt((n * K * lambdaH) / ((K - 1) * lambdaW));
  const beta = Math.sqrt(delta * ratio);
  const a = Math.sqrt(delta / ratio);
  return {
    collapsedToZero: false,
    classifierNorm: beta * Math.sqrt((K - 1) / K),
    featureNorm: a,
    margin: delta,
  };
}

/**
 * MSE with an unregularised bias: W·H̄ = σ(I − 11ᵀ/K) for the centred
 * features, σ = max(0, 1 − K√(nλ_Wλ_H)).
 */
export function mseOptimum(p: UfmProblem): UfmOptimum {
  const { K, n, lambdaW, lambdaH } = p;
  const sigma = Math.max(0, 1 - K * Math.sqrt(n * lambdaW * lambdaH));
  if (sigma === 0) return { ...ZERO, margin: NaN };
  const share = (K - 1) / K;
  return {
    collapsedToZero: false,
    classifierNorm: Math.sqrt(
      sigma * Math.sqrt((n * lambdaH) / lambdaW) * share,
    ),
    featureNorm: Math.sqrt(sigma * Math.sqrt(lambdaW / (n * lambdaH)) * share),
    margin: NaN,
  };
}
