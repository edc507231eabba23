// The float64 loss reference against central finite differences, and its
// closed forms: the gradient sums to zero for CE and LS, and LS's minimum
// is the entropy of its target.

import { describe, expect, test } from 'vitest';

import {
  columnLoss,
  smoothedTargetEntropy,
  weightedLossReference,
  type LossSpec,
} from '../src/reference/losses';
import { Random } from '../src/util/random';

const SPECS: LossSpec[] = [
  { kind: 'ce' },
  { kind: 'ls', alpha: 0.1 },
  { kind: 'ls', alpha: 0.5 },
  { kind: 'mse' },
];

function label(spec: LossSpec): string {
  return spec.kind === 'ls' ? `ls(${spec.alpha})` : spec.kind;
}

describe('loss gradients match central finite differences', () => {
  test.each(SPECS.map((s) => [label(s), s] as const))('%s', (_, spec) => {
    const rng = new Random(3);
    for (const K of [2, 3, 10]) {
      const z = Float64Array.from({ length: K }, () => 3 * rng.normal());
      const y = rng.integer(K);
      const { grad } = columnLoss(z, y, spec);
      // h = 1e-5: truncation error O(h²) ≈ 1e-10, rounding O(ε/h) ≈ 1e-11.
      const h = 1e-5;
      for (let k = 0; k < K; k++) {
        const plus = Float64Array.from(z);
        const minus = Float64Array.from(z);
        plus[k]! += h;
        minus[k]! -= h;
        const numeric =
          (columnLoss(plus, y, spec).loss - columnLoss(minus, y, spec).loss) /
          (2 * h);
        const scale = Math.max(1e-3, Math.abs(grad[k]!));
        expect(Math.abs(numeric - grad[k]!) / scale).toBeLessThan(1e-4);
      }
    }
  });

  test('weighted losses scale each column by its count', () => {
    const K = 3;
    const N = 4;
    const rng = new Random(9);
    const Z = Float64Array.from({ length: K * N }, () => rng.normal());
    const labels = [0, 2, 1, 2];
    const spec: LossSpec = { kind: 'ls', alpha: 0.2 };
    const ones = weightedLossReference(Z, K, N, labels, [1, 1, 1, 1], spec);
    const counts = weightedLossReference(Z, K, N, labels, [2, 0, 1, 3], spec);
    let expected = 0;
    const z = new Float64Array(K);
    [2, 0, 1, 3].forEach((c, n) => {
      for (let k = 0; k < K; k++) z[k] = Z[k * N + n]!;
      expected += c * columnLoss(z, labels[n]!, spec).loss;
    });
    expect(counts.lossSum).toBeCloseTo(expected, 12);
    expect(counts.weightSum).toBe(6);
    expect(ones.weightSum).toBe(4);
    expect(counts.weightedGrad[1 * N + 1]).toBe(0); // a zero count
  });
});

describe('closed forms', () => {
  test('CE and LS gradients sum to zero over the classes', () => {
    const z = [0.3, -1.2, 2.5, 0];
    for (const spec of SPECS.filter((s) => s.kind !== 'mse')) {
      const sum = columnLoss(z, 2, spec).grad.reduce((a, g) => a + g, 0);
      expect(Math.abs(sum)).toBeLessThan(1e-15);
    }
  });

  test('LS attains its minimum H(q) at logits log q, where the excess is 0', () => {
    const K = 4;
    const alpha = 0.3;
    const q = Array.from(
      { length: K },
      (_, k) => (k === 1 ? 1 - alpha : 0) + alpha / K,
    );
    const at = columnLoss(q.map(Math.log), 1, { kind: 'ls', alpha });
    expect(at.loss).toBeCloseTo(smoothedTargetEntropy(alpha, K), 14);
    expect(Math.abs(at.excess)).toBeLessThan(1e-14);
    for (const g of at.grad) expect(Math.abs(g)).toBeLessThan(1e-15);
  });

  test('huge logits do not overflow (max-shifted log-sum-exp)', () => {
    const result = columnLoss([1000, 0, -1000], 1, { kind: 'ce' });
    expect(result.loss).toBeCloseTo(1000, 10);
    expect(result.grad[0]).toBeCloseTo(1, 12);
    expect(Number.isFinite(result.loss)).toBe(true);
  });

  test('H(q) is 0 for α = 0 and log K for α = 1', () => {
    expect(Math.abs(smoothedTargetEntropy(0, 5))).toBe(0);
    expect(smoothedTargetEntropy(1, 5)).toBeCloseTo(Math.log(5), 14);
  });
});
