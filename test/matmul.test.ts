// The batched matrix product on the GPU against the float64 reference: every
// transpose, degenerate and odd shapes, broadcasting, and split-K.
//
// Tolerance: with float32 inputs, each output is a sum of products evaluated
// along a chain of at most chunk + splits + 2 roundings (the per-thread
// chunk, the split reduction, the product and alpha), so
// |gpu − exact| ≤ γ_(chunk+splits+2) · Σ|a·b| (src/reference/tolerance.ts).
// Small-integer inputs make every product and partial sum exact in float32:
// those cases must match bit for bit, which catches a single lost term.

import { describe, expect, test } from 'vitest';

import type { Shape } from '../src/gpu/tensor';
import { matmulReference } from '../src/reference/matmul';
import { compareWithBound } from '../src/reference/tolerance';
import { f32FromBase64 } from '../src/util/base64';
import { describeGpu } from './harness/gpu';
import { matmulInputs, type MatmulCase } from './page/inputs';

interface ShapeCase {
  M: number;
  K: number;
  N: number;
  batchA?: number;
  batchB?: number;
}

// 24 shapes: degenerate (1s), odd, exact tiles, tile ± 1, long inner
// dimensions (automatic split-K), batched and broadcast.
const SHAPES: ShapeCase[] = [
  { M: 1, K: 1, N: 1 },
  { M: 1, K: 1, N: 7 },
  { M: 7, K: 1, N: 1 },
  { M: 1, K: 13, N: 1 },
  { M: 2, K: 3, N: 4 },
  { M: 17, K: 19, N: 23 },
  { M: 64, K: 16, N: 64 },
  { M: 65, K: 17, N: 63 },
  { M: 128, K: 32, N: 128 },
  { M: 3, K: 100, N: 5 },
  { M: 1, K: 1000, N: 1 },
  { M: 100, K: 1, N: 100 },
  { M: 5, K: 300, N: 200 },
  { M: 200, K: 7, N: 3 },
  { M: 33, K: 65, N: 97 },
  { M: 1, K: 257, N: 129 },
  { M: 127, K: 129, N: 1 },
  { M: 10, K: 5000, N: 64 },
  { M: 9, K: 10, N: 11, batchA: 3, batchB: 3 },
  { M: 6, K: 8, N: 5, batchA: 1, batchB: 4 },
  { M: 6, K: 8, N: 5, batchA: 4, batchB: 1 },
  { M: 10, K: 3000, N: 16, batchA: 2, batchB: 2 },
  { M: 70, K: 70, N: 70, batchA: 2, batchB: 2 },
  { M: 1, K: 2, N: 1, batchA: 5, batchB: 5 },
];

function toCase(
  s: ShapeCase,
  transA: boolean,
  transB: boolean,
  extra: Partial<MatmulCase> = {},
): MatmulCase {
  const aShape: Shape = [s.batchA ?? 1, transA ? s.K : s.M, transA ? s.M : s.K];
  const bShape: Shape = [s.batchB ?? 1, transB ? s.N : s.K, transB ? s.K : s.N];
  return {
    aShape,
    bShape,
    transA,
    transB,
    seed: 1000 + s.M * 7 + s.K,
    kind: 'normal',
    ...extra,
  };
}

function reference(c: MatmulCase) {
  const { a, b } = matmulInputs(c);
  return matmulReference(a, c.aShape, b, c.bShape, c);
}

function label(c: MatmulCase): string {
  const op = (t?: boolean) => (t ? 'ᵀ' : '');
  return (
    `A${op(c.transA)}[${c.aShape.join(',')}] · B${op(c.transB)}[${c.bShape.join(',')}]` +
    (c.alpha !== undefined ? ` α=${c.alpha}` : '') +
    (c.splits !== undefined ? ` splits=${c.splits}` : '') +
    ` ${c.kind}`
  );
}

describeGpu('matmul on the GPU', { compat: true }, (gpu) => {
  const TRANSPOSES = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const;

  describe('matches the float64 reference within the float32 bound', () => {
    const all = SHAPES.flatMap((shape) =>
      TRANSPOSES.map(([ta, tb]) => toCase(shape, ta, tb)),
    );
    test.each(all.map((c) => [label(c), c] as const))('%s', async (_, c) => {
      const result = await gpu.run('matmul', c);
      const ref = reference(c);
      const actual = f32FromBase64(result.outputs[0]!);
      expect(actual.length).toBe(ref.values.length);
      const depth = result.chunk + result.splits + 2;
      expect(
        compareWithBound(actual, ref.values, ref.magnitudes, depth),
      ).toEqual([]);
    });
  });

  describe('is exact on small-integer inputs', () => {
    const exact = [
      toCase({ M: 65, K: 17, N: 63 }, false, false, { kind: 'integer' }),
      toCase({ M: 33, K: 65, N: 97 }, true, true, { kind: 'integer' }),
      toCase({ M: 10, K: 5000, N: 64 }, false, true, { kind: 'integer' }),
      toCase({ M: 6, K: 8, N: 5, batchA: 1, batchB: 4 }, true, false, {
        kind: 'integer',
        alpha: 2,
      }),
    ];
    test.each(exact.map((c) => [label(c), c] as const))('%s', async (_, c) => {
      const result = await gpu.run('matmul', c);
      const ref = reference(c);
      expect(Array.from(f32FromBase64(result.outputs[0]!))).toEqual(
        Array.from(ref.values),
      );
    });
  });

  test('scales by alpha', async () => {
    const c = toCase({ M: 17, K: 19, N: 23 }, false, true, { alpha: -0.125 });
    const result = await gpu.run('matmul', c);
    const ref = reference(c);
    const actual = f32FromBase64(result.outputs[0]!);
    expect(
      compareWithBound(actual, ref.values, ref.magnitudes, c.aShape[2] + 2),
    ).toEqual([]);
  });

  describe('split-K', () => {
    // Chunks are whole BK = 16 steps, so 64 splits of K = 1000 (chunks of
    // 15.6) become 63 chunks of 16.
    test.each([
      [1, 1],
      [2, 2],
      [7, 7],
      [64, 63],
    ])(
      'explicit splits = %i (%i after rounding) gives the same numbers',
      async (splits, planned) => {
        const c = toCase({ M: 12, K: 1000, N: 9 }, false, true, { splits });
        const result = await gpu.run('matmul', c);
        expect(result.splits).toBe(planned);
        const ref = reference(c);
        const depth = result.chunk + result.splits + 2;
        const actual = f32FromBase64(result.outputs[0]!);
        expect(
          compareWithBound(actual, ref.values, ref.magnitudes, depth),
        ).toEqual([]);
      },
    );

    // The shape split-K exists for: K×d outputs (∂W = ∂Z·Hᵀ) summed over
    // N = 10^5 and 10^6 examples.
    test.each([
      { K: 10, d: 64, N: 100_000, kind: 'normal' as const },
      { K: 10, d: 64, N: 100_000, kind: 'integer' as const },
      { K: 10, d: 8, N: 1_000_000, kind: 'normal' as const },
    ])(
      'K=$K × d=$d over N=$N ($kind): bit-identical across runs',
      async (s) => {
        const c: MatmulCase = {
          aShape: [1, s.K, s.N],
          bShape: [1, s.d, s.N],
          transB: true,
          seed: 77,
          kind: s.kind,
          runs: 2,
        };
        const result = await gpu.run('matmul', c);
        expect(result.splits).toBeGreaterThan(1);
        expect(result.outputs[1]).toBe(result.outputs[0]);

        const ref = reference(c);
        const actual = f32FromBase64(result.outputs[0]!);
        if (s.kind === 'integer') {
          expect(Array.from(actual)).toEqual(Array.from(ref.values));
        } else {
          const depth = result.chunk + result.splits + 2;
          expect(
            compareWithBound(actual, ref.values, ref.magnitudes, depth),
          ).toEqual([]);
        }
      },
    );
  });
});
