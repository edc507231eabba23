// Central finite differences of a float64 objective, the check behind every
// hand-written gradient in src/reference.

import { expect } from 'vitest';

/**
 * Perturbs each entry of `values` in place by ±h and asserts that
 * (F(+h) − F(−h)) / 2h matches `analytic` to 1e-4 relative (absolute below
 * 1e-4). With h = 1e-6 in float64 the truncation error is O(h²) ≈ 1e-12
 * and the rounding error O(ε·|F|/h) ≈ 1e-10, both far inside that.
 */
export function expectGradient(
  name: string,
  values: Float64Array,
  analytic: ArrayLike<number>,
  objective: () => number,
  h = 1e-6,
): void {
  for (let i = 0; i < values.length; i++) {
    const saved = values[i]!;
    values[i] = saved + h;
    const plus = objective();
    values[i] = saved - h;
    const minus = objective();
    values[i] = saved;
    const numeric = (plus - minus) / (2 * h);
    const scale = Math.max(1e-4, Math.abs(analytic[i]!));
    expect(
      Math.abs(numeric - analytic[i]!) / scale,
      `${name}[${i}]`,
    ).toBeLessThan(1e-4);
  }
}
