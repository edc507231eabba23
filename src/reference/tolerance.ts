// Error bounds for float32 sums, from the standard analysis of floating-point
// summation (Higham, "Accuracy and Stability of Numerical Algorithms", §3.1,
// §4.2): a sum evaluated in float32 along any tree of depth n has
// |error| ≤ γ_n · Σ|terms|, γ_n = n·u / (1 − n·u), u = 2^-24. Products add one
// rounding each (one more level). The float64 reference's own error is
// negligible next to this.

/** Unit roundoff of float32. */
export const F32_UNIT_ROUNDOFF = 2 ** -24;

/** γ_n for float32; Infinity when n·u ≥ 1 (no bound). */
export function gamma32(n: number): number {
  const nu = n * F32_UNIT_ROUNDOFF;
  return nu >= 1 ? Infinity : nu / (1 - nu);
}

/** Smallest positive normal float32: absorbs underflow in the bound. */
export const F32_MIN_NORMAL = 2 ** -126;

export interface Mismatch {
  index: number;
  actual: number;
  expected: number;
  bound: number;
}

/**
 * Compares float32 results with a float64 reference under
 * |actual − expected| ≤ γ_depth · magnitude + F32_MIN_NORMAL per element, where
 * `depth` is the longest chain of roundings behind one result. Returns the
 * first few violations (an empty list means every element is within bound).
 */
export function compareWithBound(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  magnitudes: ArrayLike<number>,
  depth: number,
  maxReported = 5,
): Mismatch[] {
  if (actual.length !== expected.length) {
    return [
      { index: -1, actual: actual.length, expected: expected.length, bound: 0 },
    ];
  }
  const gamma = gamma32(depth);
  const mismatches: Mismatch[] = [];
  for (let i = 0; i < actual.length; i++) {
    const bound = gamma * magnitudes[i]! + F32_MIN_NORMAL;
    const error = Math.abs(actual[i]! - expected[i]!);
    if (!(error <= bound)) {
      mismatches.push({
        index: i,
        actual: actual[i]!,
        expected: expected[i]!,
        bound,
      });
      if (mismatches.length >= maxReported) break;
    }
  }
  return mismatches;
}
