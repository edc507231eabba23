// Float64 reference of the per-class column sums and counts, with the
// magnitude Σ|x| of every sum, which bounds the float32 error.

import type { Shape } from '../gpu/tensor';

export interface ClassSumsReference {
  /** batch × d × K sums in float64. */
  sums: Float64Array;
  /** batch × d × K sums of |x| over the same columns. */
  magnitudes: Float64Array;
  /** batch × K counts. */
  counts: Float64Array;
}

/** Labels are [N] (shared by every batch) or [batch·N]. */
export function classSumsReference(
  x: ArrayLike<number>,
  xShape: Shape,
  labels: ArrayLike<number>,
  K: number,
): ClassSumsReference {
  const [batch, d, N] = xShape;
  const shared = labels.length === N;
  const sums = new Float64Array(batch * d * K);
  const magnitudes = new Float64Array(batch * d * K);
  const counts = new Float64Array(batch * K);

  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < N; j++) {
      const label = labels[shared ? j : b * N + j]!;
      if (!(label >= 0 && label < K)) continue;
      counts[b * K + label]! += 1;
      for (let i = 0; i < d; i++) {
        const value = x[(b * d + i) * N + j]!;
        sums[(b * d + i) * K + label]! += value;
        magnitudes[(b * d + i) * K + label]! += Math.abs(value);
      }
    }
  }
  return { sums, magnitudes, counts };
}
