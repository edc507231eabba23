// Per-class sums and counts on the GPU against the float64 reference.
//
// Tolerance: each sum is accumulated per thread over ⌈chunk/WG⌉ columns,
// then over the WG threads in order, then over the splits, so
// |gpu − exact| ≤ γ_depth · Σ|x| with depth = ⌈chunk/WG⌉ + WG + splits.
// Counts are integers and must be exact; small-integer inputs make the sums
// exact too.

import { describe, expect, test } from 'vitest';

import {
  DEFAULT_CLASS_SUMS_TUNING,
  type ClassSumsTuning,
} from '../src/kernels/classSums';
import { classSumsReference } from '../src/reference/classSums';
import { compareWithBound } from '../src/reference/tolerance';
import { f32FromBase64, u32FromBase64 } from '../src/util/base64';
import { describeGpu } from './harness/gpu';
import { classSumsInputs, type ClassSumsCase } from './page/inputs';

function depth(c: ClassSumsCase): number {
  const t = c.tuning ?? DEFAULT_CLASS_SUMS_TUNING;
  const splits = Math.ceil(c.xShape[2] / t.chunk);
  return Math.ceil(t.chunk / t.WG) + t.WG + splits;
}

function reference(c: ClassSumsCase) {
  const { x, labels } = classSumsInputs(c);
  return classSumsReference(x, c.xShape, labels, c.K);
}

const SMALL_TUNING: ClassSumsTuning = { WG: 8, ROWS: 3, KB: 2, chunk: 100 };

const CASES: Array<[string, ClassSumsCase]> = [
  [
    'one column, one class',
    { xShape: [1, 1, 1], K: 1, seed: 1, kind: 'normal' },
  ],
  ['K=2, d=2, N=200', { xShape: [1, 2, 200], K: 2, seed: 2, kind: 'normal' }],
  [
    'K=10, d=64, N=10 000',
    { xShape: [1, 64, 10_000], K: 10, seed: 3, kind: 'normal' },
  ],
  [
    'K=3, d=5, N=9 999 (odd)',
    { xShape: [1, 5, 9_999], K: 3, seed: 4, kind: 'normal' },
  ],
  [
    'K=100 > N=50 (empty classes)',
    { xShape: [1, 7, 50], K: 100, seed: 5, kind: 'normal' },
  ],
  [
    'K=37, d=33, N=5 000',
    { xShape: [1, 33, 5_000], K: 37, seed: 6, kind: 'normal' },
  ],
  [
    'batch 3, shared labels',
    { xShape: [3, 6, 1_000], K: 4, seed: 7, kind: 'normal' },
  ],
  [
    'batch 3, labels per batch',
    {
      xShape: [3, 6, 1_000],
      K: 4,
      seed: 8,
      kind: 'normal',
      labelsPerBatch: true,
    },
  ],
  [
    'small tuning: many splits, rows and class blocks',
    {
      xShape: [2, 10, 1_234],
      K: 5,
      seed: 9,
      kind: 'normal',
      tuning: SMALL_TUNING,
    },
  ],
  [
    'K=10, d=512, N=20 000',
    { xShape: [1, 512, 20_000], K: 10, seed: 10, kind: 'normal' },
  ],
];

describeGpu('classSums on the GPU', { compat: true }, (gpu) => {
  describe('matches the float64 reference', () => {
    test.each(CASES)('%s', async (_, c) => {
      const result = await gpu.run('classSums', c);
      const ref = reference(c);
      const sums = f32FromBase64(result.sums[0]!);
      const counts = u32FromBase64(result.counts[0]!);
      expect(Array.from(counts)).toEqual(Array.from(ref.counts));
      expect(
        compareWithBound(sums, ref.sums, ref.magnitudes, depth(c)),
      ).toEqual([]);
    });
  });

  test.each([
    ['default tuning', undefined],
    ['small tuning', SMALL_TUNING],
  ])('is exact on small-integer inputs (%s)', async (_, tuning) => {
    const c: ClassSumsCase = {
      xShape: [2, 9, 3_001],
      K: 6,
      seed: 11,
      kind: 'integer',
      tuning,
    };
    const result = await gpu.run('classSums', c);
    const ref = reference(c);
    expect(Array.from(f32FromBase64(result.sums[0]!))).toEqual(
      Array.from(ref.sums),
    );
    expect(Array.from(u32FromBase64(result.counts[0]!))).toEqual(
      Array.from(ref.counts),
    );
  });

  test('is bit-identical from run to run (N = 200 000)', async () => {
    const c: ClassSumsCase = {
      xShape: [1, 16, 200_000],
      K: 10,
      seed: 12,
      kind: 'normal',
      runs: 2,
    };
    const result = await gpu.run('classSums', c);
    expect(result.sums[1]).toBe(result.sums[0]);
    expect(result.counts[1]).toBe(result.counts[0]);
    const ref = reference(c);
    const sums = f32FromBase64(result.sums[0]!);
    expect(compareWithBound(sums, ref.sums, ref.magnitudes, depth(c))).toEqual(
      [],
    );
  });
});
