// Closed-form optima of the ufm (science.md §3) as test expectations, shared
// by the float64 trainer's tests and the GPU trainer's.

import { expect } from 'vitest';

import {
  classMeansReference,
  nc1Reference,
} from '../../src/reference/collapse';
import type { LossSpec } from '../../src/reference/losses';
import {
  crossEntropyOptimum,
  mseOptimum,
  positiveCrossEntropyOptimum,
  type UfmOptimum,
} from '../../src/science/oracles';

const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));
const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

export interface OracleCase {
  name: string;
  K: number;
  d: number;
  n: number;
  lambdaW: number;
  lambdaH: number;
  loss: LossSpec;
  positive: boolean;
}

export function optimumOf(c: OracleCase): UfmOptimum {
  const problem = { K: c.K, n: c.n, lambdaW: c.lambdaW, lambdaH: c.lambdaH };
  const alpha = c.loss.kind === 'ls' ? (c.loss.alpha ?? 0) : 0;
  if (c.loss.kind === 'mse') return mseOptimum(problem);
  return c.positive
    ? positiveCrossEntropyOptimum(problem, alpha)
    : crossEntropyOptimum(problem, alpha);
}

export const PROBLEMS = [
  { K: 3, d: 4, n: 4, lambdaW: 5e-3, lambdaH: 5e-3 },
  { K: 4, d: 6, n: 3, lambdaW: 1e-2, lambdaH: 2e-3 },
  { K: 5, d: 6, n: 2, lambdaW: 2e-3, lambdaH: 8e-3 },
];
// LIMITATION: K = 2 is left out. With nonnegative features and a free bias,
// gradient descent settles with one class's features at 0 and the bias
// carrying its margin (a lower objective than the orthogonal frame). With
// MSE and d = K (seen for K = 2 and 3) it stops at a stationary point whose
// objective is above the closed form's; d = K + 1 converges to it. Both need
// a closer look before those oracles can be asserted.
export const LOSSES: Array<[LossSpec, boolean]> = [
  [{ kind: 'ce' }, false],
  [{ kind: 'ls', alpha: 0.1 }, false],
  [{ kind: 'mse' }, false],
  [{ kind: 'ce' }, true],
  [{ kind: 'ls', alpha: 0.2 }, true],
];
export const ORACLE_CASES: OracleCase[] = PROBLEMS.flatMap((p) =>
  LOSSES.map(([loss, positive]) => ({
    ...p,
    loss,
    positive,
    name:
      `${loss.kind}${loss.kind === 'ls' ? `(${loss.alpha})` : ''}` +
      `${positive ? ' positive' : ''} K=${p.K} d=${p.d} n=${p.n} ` +
      `λW=${p.lambdaW} λH=${p.lambdaH}`,
  })),
);

/** A trained state: W (K×d), H (d×N), b (K), labels (N). */
export interface TrainedState {
  W: ArrayLike<number>;
  H: ArrayLike<number>;
  b: ArrayLike<number>;
  labels: ArrayLike<number>;
}

/** What a trainer reported at its last step (src/train/batch.ts). */
export interface ReportedNorms {
  margin: number;
  featureNorm: number;
  classifierNorm: number;
}

/**
 * Asserts the closed-form optimum to 1e-3 relative: ‖w_k‖, ‖h‖ (centred for
 * MSE), the margin, NC1 < 1e-6, equiangular rows and, for nonnegative
 * features, orthogonal class means; and, when given, that the trajectory's
 * last norms and mean margin (computed on the GPU) say the same.
 */
export function expectOptimum(
  state: TrainedState,
  c: OracleCase,
  reported?: ReportedNorms,
): void {
  const { K, d } = c;
  const N = state.labels.length;
  const optimum = optimumOf(c);
  expect(optimum.collapsedToZero).toBe(false);

  const rows = Array.from({ length: K }, (_, k) =>
    Array.from(state.W).slice(k * d, (k + 1) * d),
  );
  for (const w of rows) {
    expect(relative(norm(w), optimum.classifierNorm)).toBeLessThan(1e-3);
  }
  const { means, globalMean } = classMeansReference(
    state.H,
    state.labels,
    K,
    d,
  );
  for (let n = 0; n < N; n++) {
    const h = Array.from({ length: d }, (_, i) => state.H[i * N + n]!);
    // MSE's closed form is for the centred features.
    const centred =
      c.loss.kind === 'mse' ? h.map((v, i) => v - globalMean[i]!) : h;
    expect(relative(norm(centred), optimum.featureNorm)).toBeLessThan(1e-3);
  }
  expect(nc1Reference(state.H, state.labels, K, d)).toBeLessThan(1e-6);

  // Equiangular classifier rows: cos(w_k, w_j) = −1/(K−1).
  for (let a = 0; a < K; a++) {
    for (let b = a + 1; b < K; b++) {
      const cos =
        rows[a]!.reduce((s, v, i) => s + v * rows[b]![i]!, 0) /
        (norm(rows[a]!) * norm(rows[b]!));
      expect(Math.abs(cos + 1 / (K - 1))).toBeLessThan(1e-3);
    }
  }
  if (c.positive) {
    // Nonnegative features: the class means form an orthogonal frame.
    for (let a = 0; a < K; a++) {
      for (let b = a + 1; b < K; b++) {
        let dot = 0;
        let na = 0;
        let nb = 0;
        for (let i = 0; i < d; i++) {
          dot += means[i * K + a]! * means[i * K + b]!;
          na += means[i * K + a]! ** 2;
          nb += means[i * K + b]! ** 2;
        }
        expect(Math.abs(dot / Math.sqrt(na * nb))).toBeLessThan(1e-3);
      }
    }
  }
  if (reported) {
    // All rows have one norm, so their root mean square is it too.
    expect(
      relative(reported.classifierNorm, optimum.classifierNorm),
    ).toBeLessThan(1e-3);
    if (c.loss.kind !== 'mse') {
      expect(relative(reported.featureNorm, optimum.featureNorm)).toBeLessThan(
        1e-3,
      );
      expect(relative(reported.margin, optimum.margin)).toBeLessThan(1e-3);
    }
  }
  if (c.loss.kind !== 'mse') {
    // Margin z_y − z_j for every example and every j ≠ y.
    for (let n = 0; n < N; n++) {
      const y = state.labels[n]!;
      const z = rows.map(
        (w, k) =>
          state.b[k]! + w.reduce((s, v, i) => s + v * state.H[i * N + n]!, 0),
      );
      for (let j = 0; j < K; j++) {
        if (j !== y)
          expect(relative(z[y]! - z[j]!, optimum.margin)).toBeLessThan(1e-3);
      }
    }
  }
}
