// Collapse metrics on the GPU against the float64 reference written from the
// definitions (src/reference/metrics.ts, d×d covariances and an explicit
// pseudo-inverse), on clustered, collapsed and degenerate feature sets.
//
// Tolerance: the GPU reduces float32 features by blocked sums over at most
// N ≤ 2 000 columns, so a sum has relative error ≤ γ_N·(Σ|terms|/|Σ terms|)
// ≈ 1.2e-4 in the worst case and ~1e-6 in practice; centring subtracts
// float32 means (a few ulps of |h|, with |h|/σ ≤ ~20 here). Every metric is
// a ratio of such sums, so 2e-3 relative (or 1e-6 absolute for values
// near 0) holds with margin, while a wrong formula (a missing 1/K, the
// unweighted global mean, a wrong grouping) is off by far more. Counts are
// integers and exact.

import { describe, expect, test } from 'vitest';

import {
  collapseMetricsReference,
  type CollapseMetrics,
} from '../src/reference/metrics';
import { pinvSymmetric } from '../src/util/linalg';
import { describeGpu } from './harness/gpu';
import { metricsInputs, type MetricsCase } from './page/inputs';

type Json = number | string | null | boolean | Json[] | { [k: string]: Json };
type Metrics = Record<string, Json>;

function revive(value: Json): number {
  return typeof value === 'string' ? Number(value) : (value as number);
}

/** Walks the reference's fields and compares the GPU's values to them. */
function expectClose(
  gpu: Json,
  ref: unknown,
  path: string,
  relative = 2e-3,
  absolute = 1e-6,
): void {
  if (ref === null || ref === undefined) {
    expect(gpu, path).toBeNull();
    return;
  }
  if (typeof ref === 'number') {
    const got = revive(gpu);
    if (Number.isNaN(ref)) {
      expect(Number.isNaN(got), `${path}: ${got}, reference NaN`).toBe(true);
      return;
    }
    const bound = absolute + relative * Math.abs(ref);
    expect(
      Math.abs(got - ref),
      `${path}: gpu ${got}, reference ${ref}`,
    ).toBeLessThanOrEqual(bound);
    return;
  }
  if (Array.isArray(ref)) {
    expect(Array.isArray(gpu), path).toBe(true);
    ref.forEach((r, i) =>
      expectClose((gpu as Json[])[i]!, r, `${path}[${i}]`, relative, absolute),
    );
    return;
  }
  if (typeof ref === 'object') {
    for (const [key, r] of Object.entries(ref)) {
      if (key === 'conventions') continue;
      expectClose(
        (gpu as Record<string, Json>)[key]!,
        r,
        `${path}.${key}`,
        relative,
        absolute,
      );
    }
  }
}

function reference(c: MetricsCase): CollapseMetrics {
  const s = metricsInputs(c);
  return collapseMetricsReference({
    K: s.K,
    d: s.d,
    N: s.N,
    H: s.H,
    labels: s.labels,
    trueLabels: s.trueLabels ?? undefined,
    W: s.W ?? undefined,
    b: s.b ?? undefined,
  });
}

const even = (K: number, n: number) => Array<number>(K).fill(n);

const CASES: Array<[string, MetricsCase]> = [
  [
    'clustered, noisy, with a classifier',
    {
      K: 4,
      d: 6,
      perClass: [120, 80, 100, 60],
      kind: 'clustered',
      seed: 1,
      flip: 0.15,
      classifier: true,
    },
  ],
  [
    'random (no cluster structure)',
    {
      K: 3,
      d: 4,
      perClass: [100, 100, 100],
      kind: 'clustered',
      seed: 11,
      spread: 20,
      classifier: true,
    },
  ],
  ['K = 2', { K: 2, d: 3, perClass: [50, 70], kind: 'clustered', seed: 2 }],
  [
    'd < K − 1 (the eigen path)',
    { K: 5, d: 2, perClass: even(5, 40), kind: 'clustered', seed: 3 },
  ],
  [
    'a class with one example',
    {
      K: 3,
      d: 4,
      perClass: [1, 30, 30],
      kind: 'clustered',
      seed: 4,
      classifier: true,
    },
  ],
  [
    'an empty class',
    {
      K: 4,
      d: 4,
      perClass: [20, 0, 25, 30],
      kind: 'clustered',
      seed: 5,
      classifier: true,
    },
  ],
  [
    'two classes with the same mean',
    {
      K: 4,
      d: 5,
      perClass: even(4, 200),
      kind: 'coincident',
      seed: 6,
      spread: 0.5,
    },
  ],
  [
    'a large common offset (+10 000)',
    {
      K: 3,
      d: 8,
      perClass: even(3, 1000),
      kind: 'clustered',
      seed: 12,
      spread: 0.1,
      offset: 10_000,
    },
  ],
  [
    'every label flipped (no clean example)',
    {
      K: 3,
      d: 4,
      perClass: even(3, 30),
      kind: 'clustered',
      seed: 13,
      flip: 1,
      classifier: true,
    },
  ],
  [
    'noisy, large N',
    {
      K: 10,
      d: 16,
      perClass: even(10, 200),
      kind: 'clustered',
      seed: 7,
      flip: 0.3,
      classifier: true,
    },
  ],
];

describeGpu('collapse metrics on the GPU', { compat: true }, (gpu) => {
  describe('agree with the float64 reference', () => {
    test.each(CASES)('%s', async (_, c) => {
      const result = (
        (await gpu.run('collapseMetrics', {
          cases: [c],
          fullCovariance: true,
        })) as Metrics[][]
      )[0]![0]!;
      const ref = reference(c);
      expectClose(result, ref, 'metrics');
      // The projected NC1 and the full-covariance pinv cross-check agree
      // on well-conditioned inputs.
      const observed = result.observed as Metrics;
      const nc1 = revive(observed.nc1!);
      const pinv = revive(observed.nc1Pinv!);
      if (c.kind === 'clustered') {
        expect(Math.abs(nc1 - pinv)).toBeLessThanOrEqual(1e-3 * nc1 + 1e-9);
      }
      // Σ_W and Σ_B spectra: their sums are the traces.
      const spectra = observed.spectra as Record<string, number[]>;
      const sum = (v: number[]) => v.reduce((a, x) => a + x, 0);
      const ratio = sum(spectra.within!) / sum(spectra.between!);
      const traceRatio = revive(observed.traceRatio!);
      expect(Math.abs(ratio - traceRatio)).toBeLessThanOrEqual(
        1e-3 * traceRatio,
      );
      expect(observed.nc1Method).toBe(
        c.d < c.K - 1 || c.kind === 'coincident' ? 'eigen' : 'rank-one',
      );
    });
  });

  // Nearly collapsed (within-class spread 1e-3 around well-separated
  // means): NC1 ≈ 2.6e-8. The projected form stays ≥ 0 and accurate; the
  // d×d form Tr(Σ_W pinv(Σ_B))/K, with Σ_B accumulated in float32 as public
  // float32 code does, inverts rounding noise in Σ_B's null space and
  // returns huge or negative values.
  test('near collapse, the projected NC1 stays accurate where pinv fails', async () => {
    const c: MetricsCase = {
      K: 4,
      d: 32,
      perClass: [50, 60, 70, 80],
      kind: 'clustered',
      seed: 5,
      spread: 1e-3,
    };
    const result = (
      (await gpu.run('collapseMetrics', { cases: [c] })) as Metrics[][]
    )[0]![0]!;
    const nc1 = revive((result.observed as Metrics).nc1!);
    const want = reference(c).observed.nc1;
    expect(nc1).toBeGreaterThanOrEqual(0);
    expect(Math.abs(nc1 - want)).toBeLessThanOrEqual(1e-2 * want);

    const { K, d, N, H, labels } = metricsInputs(c);
    const f32 = Math.fround;
    const counts = new Float64Array(K);
    for (const y of labels) counts[y]! += 1;
    const means = new Float32Array(d * K);
    labels.forEach((y, n) => {
      for (let i = 0; i < d; i++)
        means[i * K + y] = f32(means[i * K + y]! + H[i * N + n]! / counts[y]!);
    });
    const global = Array.from({ length: d }, (_, i) =>
      f32(labels.reduce((t, y) => t + means[i * K + y]!, 0) / N),
    );
    const sigmaB = new Float64Array(d * d);
    const sigmaW = new Float64Array(d * d);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          const term = f32(
            ((means[i * K + k]! - global[i]!) *
              (means[j * K + k]! - global[j]!)) /
              K,
          );
          sigmaB[i * d + j] = f32(sigmaB[i * d + j]! + term);
        }
      }
    }
    labels.forEach((y, n) => {
      for (let i = 0; i < d; i++) {
        const xi = H[i * N + n]! - means[i * K + y]!;
        for (let j = 0; j < d; j++)
          sigmaW[i * d + j]! += (xi * (H[j * N + n]! - means[j * K + y]!)) / N;
      }
    });
    // numpy's pinv default: singular values below 1e-15 × the largest are 0.
    const { pinv } = pinvSymmetric(sigmaB, d, 1e-15);
    let naive = 0;
    for (let i = 0; i < d * d; i++)
      naive += sigmaW[i]! * pinv[(i % d) * d + Math.floor(i / d)]!;
    naive /= K;
    expect(naive < 0 || Math.abs(naive) > 100 * want).toBe(true);
  });

  test('a collapsed simplex ETF has ideal metrics', async () => {
    const c: MetricsCase = {
      K: 4,
      d: 6,
      perClass: even(4, 50),
      kind: 'collapsed',
      seed: 8,
      classifier: true,
    };
    const result = (
      (await gpu.run('collapseMetrics', {
        cases: [c],
      })) as Metrics[][]
    )[0]![0]!;
    const o = result.observed as Metrics;
    const nc2 = o.nc2 as Record<string, number>;
    expect(revive(o.nc1!)).toBeLessThan(1e-10);
    expect(nc2.etfDistance).toBeLessThan(1e-6);
    expect(nc2.equiangularity).toBeLessThan(1e-6);
    expect(nc2.equinormMeans).toBeLessThan(1e-6);
    expect(revive(o.nc3!)).toBeLessThan(1e-6);
    expect(o.nc4).toBe(0);
    expect(o.accuracy).toBe(1);
  });

  test('is bit-identical from run to run; a padded set keeps its metrics', async () => {
    const cases: MetricsCase[] = [
      {
        K: 5,
        d: 8,
        perClass: [300, 200, 250, 100, 150],
        kind: 'clustered',
        seed: 9,
        flip: 0.2,
        classifier: true,
      },
      {
        K: 3,
        d: 8,
        perClass: [40, 50, 60],
        kind: 'clustered',
        seed: 10,
        classifier: true,
      },
    ];
    const [first, second] = (await gpu.run('collapseMetrics', {
      cases,
      runs: 2,
    })) as Metrics[][];
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    // The second set is padded to K = 5 (two empty classes) and to the
    // first set's N; its metrics are those of its own three classes.
    const padded = first![1]!.observed as Metrics;
    expect(padded.emptyClasses).toEqual([3, 4]);
    const ref = reference(cases[1]!).observed;
    const scalars = {
      nc1: ref.nc1,
      nc2: ref.nc2,
      nc3: ref.nc3,
      nc4: ref.nc4,
      accuracy: ref.accuracy,
      cdnv: ref.cdnv,
      traceRatio: ref.traceRatio,
    };
    expectClose(padded, scalars, 'padded');
  });
});
