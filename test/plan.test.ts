// CPU-only checks of the pure parts: shape planning and its error messages,
// limit planning, template preprocessing, pool size classes, error bounds.

import { describe, expect, test } from 'vitest';

import { sizeClass } from '../src/gpu/buffers';
import {
  ENGINE_LIMITS,
  planLimits,
  type AdapterSummary,
} from '../src/gpu/device';
import { pipelineKey, preprocess } from '../src/gpu/kernels';
import type { Runtime } from '../src/gpu/runtime';
import { planClassSums, uploadLabels } from '../src/kernels/classSums';
import { checkLossConfig } from '../src/kernels/losses';
import {
  DEFAULT_TILE,
  NARROW_M_TILE,
  NARROW_N_TILE,
  planMatmul,
  SMALL_TILE,
} from '../src/kernels/matmul';
import { matmulReference } from '../src/reference/matmul';
import { compareWithBound, gamma32 } from '../src/reference/tolerance';
import { randomFloats } from '../src/util/random';

const LIMITS = {
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBufferBindingSize: 2 ** 30,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 32768,
};

describe('planMatmul', () => {
  test('reads M, K, N through the transposes', () => {
    const plan = planMatmul(
      [1, 4, 3],
      [1, 5, 4],
      { transA: true, transB: true },
      LIMITS,
    );
    expect([plan.M, plan.K, plan.N]).toEqual([3, 4, 5]);
  });

  test('broadcasts a batch of 1 with a zero stride', () => {
    const plan = planMatmul([1, 2, 3], [6, 3, 4], {}, LIMITS);
    expect(plan.batch).toBe(6);
    expect(plan.strideA).toBe(0);
    expect(plan.strideB).toBe(12);
  });

  test('splits a long inner dimension automatically into whole BK chunks', () => {
    const plan = planMatmul(
      [1, 10, 1_000_000],
      [1, 64, 1_000_000],
      { transB: true },
      LIMITS,
    );
    expect(plan.splits).toBeGreaterThan(1);
    expect(plan.chunk % DEFAULT_TILE.BK).toBe(0);
    expect(plan.splits).toBe(Math.ceil(1_000_000 / plan.chunk));
    expect((plan.splits - 1) * plan.chunk).toBeLessThan(1_000_000);
  });

  test('does not split short inner dimensions or large outputs', () => {
    expect(planMatmul([1, 10, 300], [1, 300, 10], {}, LIMITS).splits).toBe(1);
    expect(
      planMatmul([1, 2048, 4096], [1, 4096, 2048], {}, LIMITS).splits,
    ).toBe(1);
  });

  test('picks narrow tiles for outputs with few rows or columns', () => {
    expect(
      planMatmul([1, 10, 5000], [1, 64, 5000], { transB: true }, LIMITS).tile,
    ).toBe(NARROW_M_TILE);
    expect(planMatmul([1, 64, 5000], [1, 5000, 10], {}, LIMITS).tile).toBe(
      NARROW_N_TILE,
    );
    expect(planMatmul([1, 10, 9], [1, 9, 8], {}, LIMITS).tile).toBe(SMALL_TILE);
    expect(planMatmul([1, 64, 64], [1, 64, 64], {}, LIMITS).tile).toBe(
      DEFAULT_TILE,
    );
  });

  test('keeps batches × splits within the workgroup-count limit', () => {
    const plan = planMatmul([70_000, 2, 2], [70_000, 2, 2], {}, LIMITS);
    expect(plan.batchesPerDispatch).toBe(65535);
  });

  test.each([
    [
      'inner mismatch',
      () => planMatmul([1, 2, 3], [1, 4, 5], {}, LIMITS),
      'matmul: inner dimensions differ: op(A) is 2×3 (A [1, 2, 3], transA = false) but op(B) is 4×5 (B [1, 4, 5], transB = false)',
    ],
    [
      'batch mismatch',
      () => planMatmul([2, 2, 3], [3, 3, 5], {}, LIMITS),
      'matmul: batch sizes differ: A has 2, B has 3; they must be equal, or one of them 1 to broadcast it',
    ],
    [
      'splits out of range',
      () => planMatmul([1, 2, 3], [1, 3, 5], { splits: 0 }, LIMITS),
      'matmul: options.splits = 0 is invalid; expected an integer from 1 to 3',
    ],
    [
      'alpha not finite',
      () => planMatmul([1, 2, 3], [1, 3, 5], { alpha: NaN }, LIMITS),
      'matmul: alpha = NaN is invalid; expected a finite float32',
    ],
    [
      'alpha beyond float32',
      () => planMatmul([1, 2, 3], [1, 3, 5], { alpha: 1e39 }, LIMITS),
      'matmul: alpha = 1e+39 is invalid; expected a finite float32',
    ],
    [
      'more splits than workgroups along z',
      () =>
        planMatmul([1, 1, 2 ** 21], [1, 2 ** 21, 1], { splits: 65536 }, LIMITS),
      'matmul: options.splits = 65536 is invalid; expected an integer from 1 to 65535',
    ],
    [
      'a shape with a zero',
      () => planMatmul([1, 0, 3], [1, 3, 5], {}, LIMITS),
      'matmul A: shape [1, 0, 3] is invalid; expected [batch, rows, cols] of positive integers',
    ],
    [
      'tile too big for the workgroup',
      () =>
        planMatmul(
          [1, 2, 3],
          [1, 3, 5],
          { tile: { BM: 128, BN: 128, BK: 8, TM: 2, TN: 2 } },
          LIMITS,
        ),
      'needs 4096 threads per workgroup; the adapter allows 256',
    ],
    [
      'tile not divisible',
      () =>
        planMatmul(
          [1, 2, 3],
          [1, 3, 5],
          { tile: { BM: 10, BN: 64, BK: 8, TM: 4, TN: 4 } },
          LIMITS,
        ),
      'BM must be a multiple of TM',
    ],
  ])('rejects %s with a message naming it', (_, plan, message) => {
    expect(plan).toThrow(message);
  });
});

describe('planClassSums', () => {
  test('splits N into chunks and adds the counts row to the row blocks', () => {
    const tuning = { WG: 64, ROWS: 4, KB: 16, chunk: 4096 };
    const plan = planClassSums(
      [1, 8, 10_000],
      [1, 1, 10_000],
      10,
      LIMITS,
      tuning,
    );
    expect(plan.splits).toBe(3);
    expect(plan.rowBlocks).toBe(3); // rows 0..8 (8 = counts), 4 per block
    expect(plan.labelStride).toBe(0);
  });

  test.each([
    [
      'labels of the wrong length',
      () => planClassSums([1, 8, 100], [1, 1, 99], 3, LIMITS),
      'classSums: labels have shape [1, 1, 99]; expected [1, 1, 100] for X [1, 8, 100]',
    ],
    [
      'a label batch that is neither 1 nor the batch',
      () => planClassSums([3, 8, 100], [2, 1, 100], 3, LIMITS),
      'classSums: labels have batch 2; expected 1 (shared) or 3',
    ],
    [
      'K = 0',
      () => planClassSums([1, 8, 100], [1, 1, 100], 0, LIMITS),
      'classSums: K (number of classes) = 0 is invalid; expected an integer from 1 to 1048576',
    ],
    [
      'a workgroup size that is not a power of two',
      () =>
        planClassSums([1, 8, 100], [1, 1, 100], 3, LIMITS, {
          WG: 100,
          ROWS: 1,
          KB: 1,
          chunk: 10,
        }),
      'classSums: tuning.WG = 100 is invalid; expected a power of two',
    ],
    [
      'more accumulators than threads to finish them',
      () =>
        planClassSums([1, 8, 100], [1, 1, 100], 3, LIMITS, {
          WG: 32,
          ROWS: 4,
          KB: 16,
          chunk: 100,
        }),
      'classSums: tuning ROWS·KB = 64 is invalid; one thread finishes each accumulator, so it must be at most WG = 32',
    ],
    [
      'more workgroup memory than the adapter has',
      () =>
        planClassSums([1, 8, 100], [1, 1, 100], 3, LIMITS, {
          WG: 256,
          ROWS: 8,
          KB: 16,
          chunk: 100,
        }),
      'needs 131072 bytes of workgroup memory; the adapter allows 32768',
    ],
    [
      'partials larger than a binding',
      () =>
        planClassSums([1, 4096, 1_000_000], [1, 1, 1_000_000], 1000, {
          ...LIMITS,
          maxStorageBufferBindingSize: 2 ** 27,
        }),
      "more than the adapter's maxStorageBufferBindingSize (134217728)",
    ],
  ])('rejects %s', (_, plan, message) => {
    expect(plan).toThrow(message);
  });
});

describe('uploadLabels', () => {
  // The checks run before the runtime is touched.
  const noRuntime = {} as Runtime;

  test('rejects K outside 1..2^20', () => {
    expect(() => uploadLabels(noRuntime, [0], 0)).toThrow(
      'uploadLabels: K (number of classes) = 0 is invalid; expected an integer from 1 to 1048576',
    );
  });

  test('names the first label out of range', () => {
    expect(() => uploadLabels(noRuntime, [0, 1, 2, -1], 3)).toThrow(
      'labels[3] = -1 is invalid; expected an integer class from 0 to 2 (K = 3)',
    );
    expect(() => uploadLabels(noRuntime, [0.5], 3)).toThrow(
      'labels[0] = 0.5 is invalid',
    );
  });
});

describe('planLimits', () => {
  const adapter = (limits: Record<string, number>): AdapterSummary => ({
    vendor: 'test',
    architecture: 'virtual',
    device: '',
    description: '',
    isFallbackAdapter: false,
    features: [],
    limits,
  });

  test("requests the adapter's own value for every engine limit", () => {
    const limits = Object.fromEntries(
      Object.entries(ENGINE_LIMITS).map(([k, v]) => [k, v * 2]),
    );
    expect(planLimits(adapter(limits))).toEqual(limits);
  });

  test('names the missing limit, the need and what the adapter has', () => {
    const limits: Record<string, number> = {
      ...ENGINE_LIMITS,
      maxComputeWorkgroupStorageSize: 8192,
    };
    expect(() => planLimits(adapter(limits))).toThrow(
      'adapter "test virtual" cannot provide maxComputeWorkgroupStorageSize = 16384: it supports at most 8192',
    );
  });
});

describe('kernel templates', () => {
  const kernel = {
    name: 'k',
    template: 'const A: u32 = ${A}u;\n#if ${F}\nyes\n#else\nno\n#endif\n',
  };

  // Directive lines stay as blank lines, so compiler line numbers keep
  // pointing near the template's own lines.
  test('substitute constants and resolve #if variants', () => {
    expect(
      preprocess({ kernel, variant: { F: true }, constants: { A: 7 } }),
    ).toBe('const A: u32 = 7u;\n\nyes\n\n');
    expect(
      preprocess({ kernel, variant: { F: false }, constants: { A: 7 } }),
    ).toBe('const A: u32 = 7u;\n\nno\n\n');
  });

  test('reject a non-finite constant', () => {
    expect(() =>
      preprocess({ kernel, variant: { F: true }, constants: { A: Infinity } }),
    ).toThrow('constant A = Infinity is not a finite number');
  });

  test('key pipelines independently of the order of their parameters', () => {
    const a = pipelineKey({
      kernel,
      variant: { F: true, G: false },
      constants: { A: 1, B: 2 },
    });
    const b = pipelineKey({
      kernel,
      variant: { G: false, F: true },
      constants: { B: 2, A: 1 },
    });
    expect(a).toBe(b);
    expect(a).toBe('k|main|F=true,G=false|A=1,B=2');
  });
});

describe('buffer size classes', () => {
  test.each([
    [1, 256],
    [256, 256],
    [257, 384],
    [384, 384],
    [385, 512],
    [40_000, 49_152],
    [2 ** 20, 2 ** 20],
  ])('%i bytes → %i', (bytes, size) => {
    expect(sizeClass(bytes)).toBe(size);
  });

  test('never leave more than a third of a buffer unused', () => {
    for (let bytes = 256; bytes < 1e7; bytes = Math.ceil(bytes * 1.37)) {
      const size = sizeClass(bytes);
      expect(size).toBeGreaterThanOrEqual(bytes);
      expect((size - bytes) / size).toBeLessThanOrEqual(1 / 3);
    }
  });
});

describe('float32 error bounds', () => {
  test('γ_n grows like n·u and is infinite once n·u ≥ 1', () => {
    expect(gamma32(1)).toBe(2 ** -24 / (1 - 2 ** -24));
    expect(gamma32(2 ** 24)).toBe(Infinity);
  });

  test('accept a float32 evaluation of a dot product and reject a lost term', () => {
    const K = 500;
    const a = randomFloats(5, K);
    const b = randomFloats(6, K);
    const ref = matmulReference(a, [1, 1, K], b, [1, K, 1]);
    let f32 = 0;
    for (let k = 0; k < K; k++)
      f32 = Math.fround(f32 + Math.fround(a[k]! * b[k]!));
    expect(compareWithBound([f32], ref.values, ref.magnitudes, K + 1)).toEqual(
      [],
    );
    const lost = f32 - Math.fround(a[K - 1]! * b[K - 1]!);
    expect(
      compareWithBound([lost], ref.values, ref.magnitudes, K + 1),
    ).toHaveLength(1);
  });
});

describe('loss configurations', () => {
  const max = { K: 10, d: 16, N: 100 };
  const valid = { K: 3, d: 4, N: 50, loss: { kind: 'ce' as const } };

  test.each([
    [
      { ...valid, K: 1 },
      'losses: configs[0]: K = 1 is invalid; expected an integer from 2 to 10',
    ],
    [
      { ...valid, d: 17 },
      'losses: configs[0]: d = 17 is invalid; expected an integer from 1 to 16',
    ],
    [
      { ...valid, N: 0 },
      'losses: configs[0]: N = 0 is invalid; expected an integer from 1 to 100',
    ],
    [
      { ...valid, loss: { kind: 'ls' as const, alpha: 1 } },
      'losses: configs[0]: loss.alpha = 1 is invalid; label smoothing needs α in [0, 1)',
    ],
    [
      { ...valid, loss: { kind: 'hinge' as 'ce' } },
      'losses: configs[0]: loss.kind = "hinge" is invalid; expected "ce", "ls" or "mse"',
    ],
  ])('rejects %j', (config, message) => {
    expect(() => checkLossConfig(config, 0, max)).toThrow(message);
  });

  test('accepts label smoothing with α = 0', () => {
    expect(() =>
      checkLossConfig({ ...valid, loss: { kind: 'ls', alpha: 0 } }, 0, max),
    ).not.toThrow();
  });
});
