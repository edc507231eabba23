// The float64 reference of the collapse metrics (science.md §4, §5): small
// cases worked out by hand, a perfectly collapsed simplex ETF, agreement with
// the K×K NC1 of src/reference/collapse.ts, the decisions for empty classes,
// single examples, K' = 1, coinciding means and K > d + 1, rotation
// invariance, memorization and dilation by hand, and every argument check.

import { describe, expect, test } from 'vitest';

import { InvalidArgumentError } from '../src/gpu/errors';
import { nc1Reference } from '../src/reference/collapse';
import {
  collapseMetricsReference,
  type FeatureSet,
  type GroupingMetrics,
} from '../src/reference/metrics';
import { symmetricEigen } from '../src/util/linalg';
import { Random } from '../src/util/random';

/** H (d×N) from a list of points, point n being column n. */
function featuresDxN(points: number[][]): number[] {
  const d = points[0]!.length;
  const N = points.length;
  const H = new Array<number>(d * N);
  points.forEach((p, n) => p.forEach((v, i) => (H[i * N + n] = v)));
  return H;
}

function featureSet(
  points: number[][],
  labels: number[],
  K: number,
  extra: Partial<FeatureSet> = {},
): FeatureSet {
  return {
    K,
    d: points[0]!.length,
    N: points.length,
    H: featuresDxN(points),
    labels,
    ...extra,
  };
}

/** A random d×d orthogonal matrix (eigenvectors of a random symmetric one). */
function randomOrthogonal(d: number, seed: number): Float64Array {
  const rng = new Random(seed);
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      A[i * d + j] = rng.normal();
      A[j * d + i] = A[i * d + j]!;
    }
  }
  return symmetricEigen(A, d).vectors;
}

/** Q·X for Q d×d and X d×cols. */
function rotate(
  Q: Float64Array,
  X: ArrayLike<number>,
  d: number,
  cols: number,
) {
  const out = new Float64Array(d * cols);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      for (let c = 0; c < cols; c++) {
        out[i * cols + c]! += Q[i * d + k]! * X[k * cols + c]!;
      }
    }
  }
  return out;
}

/** Clustered Gaussian data: every class non-empty, class sizes unequal. */
function clustered(
  K: number,
  d: number,
  N: number,
  seed: number,
  spread = 0.4,
): { H: Float64Array; labels: number[]; rng: Random } {
  const rng = new Random(seed);
  const centres = Array.from({ length: K * d }, () => 3 * rng.normal());
  const labels = Array.from({ length: N }, (_, n) =>
    n < K ? n : rng.integer(K) === 0 ? 0 : rng.integer(K),
  );
  const H = new Float64Array(d * N);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < d; i++) {
      H[i * N + n] = centres[labels[n]! * d + i]! + spread * rng.normal();
    }
  }
  return { H, labels, rng };
}

function expectRelative(actual: number, expected: number, tol: number) {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(
    tol * Math.abs(expected),
  );
}

describe('K = 2, d = 1 by hand', () => {
  // Class 0: {0, 2}, mean 1; class 1: {5, 7, 9}, mean 7; μ_G = 23/5 = 4.6.
  // Σ_W = (1 + 1 + 4 + 0 + 4)/5 = 2; Σ_B = ((1 − 4.6)² + (7 − 4.6)²)/2 = 9.36.
  const set = featureSet([[0], [2], [5], [7], [9]], [0, 0, 1, 1, 1], 2, {
    W: [-1, 1],
    b: [0, -10],
  });
  const m = collapseMetricsReference(set).observed;

  test('means, variances, NC1, trace ratio and CDNV', () => {
    expect(m.counts).toEqual([2, 3]);
    expect(m.emptyClasses).toEqual([]);
    expect(m.means).toEqual([1, 7]);
    expect(m.globalMean[0]).toBeCloseTo(4.6, 14);
    expect(m.classVariances[0]).toBeCloseTo(1, 14);
    expect(m.classVariances[1]).toBeCloseTo(8 / 3, 14);
    expect(m.nc1Rank).toBe(1);
    expectRelative(m.nc1, 2 / 9.36 / 2, 1e-12);
    expectRelative(m.traceRatio, 2 / 9.36, 1e-12);
    // (σ_0² + σ_1²)/(2‖μ_0 − μ_1‖²) = (1 + 8/3)/(2·36).
    expectRelative(m.cdnv, 11 / 216, 1e-12);
    expectRelative(m.nc1, nc1Reference(set.H, set.labels, 2, 1), 1e-12);
  });

  test('NC2 and NC3', () => {
    // Centred means −3.6 and 2.4: norms' mean 3, population std 0.6.
    expectRelative(m.nc2!.equinormMeans, 0.2, 1e-12);
    expect(m.nc2!.equinormClassifier).toBe(0);
    expect(m.nc2!.equiangularity).toBeCloseTo(0, 15);
    // G/‖G‖_F = [9, −6; −6, 4]/13 against [1, −1; −1, 1]/2: √(52/676).
    expectRelative(m.nc2!.etfDistance, 1 / Math.sqrt(13), 1e-12);
    // Wᵀ/‖W‖ = (−1, 1)/√2, M̃/‖M̃‖ = (−3, 2)/√13: ‖a − b‖² = 2 − 2a·b.
    expectRelative(m.nc3!, Math.sqrt(2 - 10 / Math.sqrt(26)), 1e-12);
  });

  test('NC4 and accuracy, with a classifier tie at h = 5', () => {
    // Logits (−h, h − 10): class 1 iff h > 5; h = 5 ties and goes to class
    // 0, while its nearest mean is μ_1 = 7. Everything else agrees.
    expect(m.nc4).toBeCloseTo(1 / 5, 15);
    expect(m.accuracy).toBeCloseTo(4 / 5, 15);
  });
});

test('a nearest-mean tie goes to the smaller class index', () => {
  // Means 0 and 3; h = 1.5 is equidistant.
  const points = [[-1], [1], [1.5], [4.5]];
  const labels = [0, 0, 1, 1];
  const alwaysOne = collapseMetricsReference(
    featureSet(points, labels, 2, { W: [0, 0], b: [0, 1] }),
  ).observed;
  expect(alwaysOne.nc4).toBe(3 / 4); // nearest: 0, 0, 0 (tie), 1
  const alwaysZero = collapseMetricsReference(
    featureSet(points, labels, 2, { W: [0, 0] }), // all logits tie: class 0
  ).observed;
  expect(alwaysZero.nc4).toBe(1 / 4);
  expect(alwaysZero.accuracy).toBe(2 / 4);
});

test('K = 2, d = 2 by hand: the pseudo-inverse ignores directions without between-class spread', () => {
  // Means (−1, 0) and (1, 0), μ_G = 0: Σ_B = diag(1, 0), rank 1.
  // Residuals (−1, 1), (1, −1), (0, 1), (0, −1):
  // Σ_W = [0.5, −0.5; −0.5, 1], so NC1 = (Σ_W)_xx / 2 = 0.25.
  const m = collapseMetricsReference(
    featureSet(
      [
        [-2, 1],
        [0, -1],
        [1, 1],
        [1, -1],
      ],
      [0, 0, 1, 1],
      2,
    ),
  ).observed;
  expect(m.nc1Rank).toBe(1);
  expectRelative(m.nc1, 0.25, 1e-12);
  expectRelative(m.traceRatio, 1.5, 1e-12);
  expect(m.classVariances).toEqual([2, 1]);
  expectRelative(m.cdnv, 3 / 8, 1e-12);
});

describe('a perfectly collapsed simplex ETF', () => {
  /**
   * Features of class k are `scale`·Q·e(m_k), with m_k the simplex-ETF
   * vectors in K − 1 coordinates, e() padding to d and Q a random rotation;
   * W = its transpose (times another scale), b = 0.
   */
  function etfSet(K: number, d: number, perClass: number): FeatureSet {
    // √(K/(K−1))·(I − 11ᵀ/K) has K − 1 eigenvalues √(K/(K−1)) and one 0;
    // its columns in the eigenbasis of the first K − 1 are the ETF vectors.
    const E = new Float64Array(K * K);
    const s = Math.sqrt(K / (K - 1));
    for (let a = 0; a < K; a++) {
      for (let c = 0; c < K; c++)
        E[a * K + c] = s * ((a === c ? 1 : 0) - 1 / K);
    }
    const U = symmetricEigen(E, K).vectors;
    const padded = new Float64Array(d * K);
    for (let j = 0; j < K - 1; j++) {
      for (let k = 0; k < K; k++) {
        let v = 0;
        for (let a = 0; a < K; a++) v += U[a * K + j]! * E[a * K + k]!;
        padded[j * K + k] = v;
      }
    }
    const M = rotate(randomOrthogonal(d, 40 + K + d), padded, d, K);

    const N = K * perClass;
    const labels = Array.from({ length: N }, (_, n) => n % K);
    const H = new Float64Array(d * N);
    for (let i = 0; i < d; i++) {
      for (let n = 0; n < N; n++) H[i * N + n] = 2.5 * M[i * K + labels[n]!]!;
    }
    const W = new Float64Array(K * d);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < d; i++) W[k * d + i] = 0.7 * M[i * K + k]!;
    }
    return { K, d, N, H, labels, W };
  }

  test.each([
    [2, 1],
    [3, 2],
    [4, 3],
    [4, 6],
    [7, 10],
  ])('K = %i, d = %i', (K, d) => {
    const m = collapseMetricsReference(etfSet(K, d, 3)).observed;
    // Σ_W is rounding of the class means only (~(ε·scale)²): 0 for all
    // practical purposes.
    expect(m.nc1).toBeGreaterThanOrEqual(0);
    expect(m.nc1).toBeLessThan(1e-28);
    expect(m.nc1Rank).toBe(K - 1);
    expect(m.cdnv).toBeLessThan(1e-28);
    expect(m.nc2!.etfDistance).toBeLessThan(1e-12);
    expect(m.nc2!.equiangularity).toBeLessThan(1e-12);
    expect(m.nc2!.equinormMeans).toBeLessThan(1e-12);
    expect(m.nc2!.equinormClassifier!).toBeLessThan(1e-12);
    expect(m.nc3!).toBeLessThan(1e-12);
    expect(m.nc4).toBe(0);
    expect(m.accuracy).toBe(1);
  });
});

describe('NC1 agrees with the K×K form of nc1Reference (d ≥ K − 1)', () => {
  test.each([
    [2, 1, 50],
    [3, 2, 60],
    [4, 3, 80],
    [5, 8, 200],
    [10, 12, 400],
  ])('K = %i, d = %i, N = %i', (K, d, N) => {
    const { H, labels } = clustered(K, d, N, 1000 + K * d);
    const m = collapseMetricsReference({ K, d, N, H, labels }).observed;
    expect(m.nc1Rank).toBe(K - 1);
    expect(m.nc1).toBeGreaterThan(0);
    expectRelative(m.nc1, nc1Reference(H, labels, K, d), 1e-9);
  });
});

test('K > d + 1: NC2 and NC3 are not applicable, NC1 uses the rank there is', () => {
  const K = 5;
  const d = 2;
  const N = 100;
  const { H, labels, rng } = clustered(K, d, N, 77);
  const W = Array.from({ length: K * d }, () => rng.normal());
  const m = collapseMetricsReference({ K, d, N, H, labels, W }).observed;
  expect(m.nc2).toBeNull();
  expect(m.nc3).toBeNull();
  expect(m.nc1Rank).toBe(2);
  expect(Number.isFinite(m.nc1)).toBe(true);
  expect(m.nc4).not.toBeNull();
});

test('a class with a single example has variance 0 and its point as mean', () => {
  const points = [
    [0, 0],
    [1, 0],
    [0, 1],
    [4, 4],
    [5, 4],
    [-3, 5],
  ];
  const labels = [0, 0, 0, 1, 1, 2];
  const set = featureSet(points, labels, 3);
  const m = collapseMetricsReference(set).observed;
  expect(m.counts).toEqual([3, 2, 1]);
  expect(m.classVariances[2]).toBe(0);
  expect([m.means[0 * 3 + 2], m.means[1 * 3 + 2]]).toEqual([-3, 5]);
  expectRelative(m.nc1, nc1Reference(set.H, labels, 3, 2), 1e-10);
  expect(Number.isFinite(m.cdnv)).toBe(true);
});

describe('an empty class is listed and excluded', () => {
  // K = 4 with no example of class 2, against the same data with K = 3
  // (class 3 renamed 2). The empty class's classifier row is never chosen.
  const K = 4;
  const d = 3;
  const N = 60;
  const { H, labels: compact, rng } = clustered(3, d, N, 5);
  const labels = compact.map((y) => (y === 2 ? 3 : y));
  const W = Array.from({ length: K * d }, () => rng.normal());
  const b = [0.1, -0.2, -1e6, 0.3];
  const full = collapseMetricsReference({ K, d, N, H, labels, W, b }).observed;
  const reduced = collapseMetricsReference({
    K: 3,
    d,
    N,
    H,
    labels: compact,
    W: [...W.slice(0, 2 * d), ...W.slice(3 * d)],
    b: [0.1, -0.2, 0.3],
  }).observed;

  test('listed, with count 0 and NaN mean and variance', () => {
    expect(full.emptyClasses).toEqual([2]);
    expect(full.counts[2]).toBe(0);
    expect(full.classVariances[2]).toBeNaN();
    for (let i = 0; i < d; i++) expect(full.means[i * K + 2]).toBeNaN();
  });

  test('every metric equals that of the compacted grouping', () => {
    const scalar = (g: GroupingMetrics) => [
      g.nc1,
      g.cdnv,
      g.traceRatio,
      g.nc2!.equinormMeans,
      g.nc2!.equinormClassifier!,
      g.nc2!.equiangularity,
      g.nc2!.etfDistance,
      g.nc3!,
    ];
    const expected = scalar(reduced);
    scalar(full).forEach((v, j) => expectRelative(v, expected[j]!, 1e-12));
    expect(full.nc1Rank).toBe(reduced.nc1Rank);
    expect(full.nc4).toBe(reduced.nc4);
    expect(full.accuracy).toBe(reduced.accuracy);
  });
});

test("K' = 1: no between-class metric", () => {
  const m = collapseMetricsReference(
    featureSet([[0], [1], [3]], [1, 1, 1], 3, { W: [1, 0, -1] }),
  ).observed;
  expect(m.emptyClasses).toEqual([0, 2]);
  expect(m.nc1).toBeNaN();
  expect(m.nc1Rank).toBe(0);
  expect(m.cdnv).toBeNaN();
  expect(m.traceRatio).toBeNaN();
  expect(m.nc2).toBeNull();
  expect(m.nc3).toBeNull();
  // Logits (h, 0, −h) predict class 0 for every h ≥ 0 (h = 0 ties all three:
  // smallest index); the nearest (only) mean is class 1's.
  expect(m.nc4).toBe(1);
  expect(m.accuracy).toBe(0);
});

describe('coinciding class means', () => {
  test('all means equal: NC1 NaN, rank 0, ratios infinite', () => {
    const m = collapseMetricsReference(
      featureSet([[-1], [1], [-2], [2]], [0, 0, 1, 1], 2),
    ).observed;
    expect(m.nc1Rank).toBe(0);
    expect(m.nc1).toBeNaN();
    expect(m.traceRatio).toBe(Infinity);
    expect(m.cdnv).toBe(Infinity);
    expect(m.nc2!.equinormMeans).toBeNaN();
  });

  test('two of three means equal: the rank drops and NC1 stays defined', () => {
    // Means (1, 0), (1, 0), (−2, 0); μ_G = 0; Σ_B = diag(2, 0).
    // Σ_W = diag((1 + 1)/6, (1 + 1 + 4 + 4)/6): NC1 = (1/3 · 1/2)/3.
    const m = collapseMetricsReference(
      featureSet(
        [
          [1, 1],
          [1, -1],
          [1, 2],
          [1, -2],
          [-3, 0],
          [-1, 0],
        ],
        [0, 0, 1, 1, 2, 2],
        3,
      ),
    ).observed;
    expect(m.nc1Rank).toBe(1);
    expectRelative(m.nc1, 1 / 18, 1e-12);
    expect(m.cdnv).toBe(Infinity);
    // cos = 1, −1, −1: (|1 + ½| + 2·|−1 + ½|)/3.
    expectRelative(m.nc2!.equiangularity, 5 / 6, 1e-12);
  });
});

test('every metric is invariant under a rotation of the features', () => {
  const K = 4;
  const d = 6;
  const N = 120;
  const { H, labels, rng } = clustered(K, d, N, 9, 1.5);
  const trueLabels = labels.map((y) => (rng.uniform() < 0.2 ? (y + 1) % K : y));
  const W = Array.from({ length: K * d }, () => rng.normal());
  const b = Array.from({ length: K }, () => 0.1 * rng.normal());
  const Q = randomOrthogonal(d, 31);
  // W' = W Qᵀ, i.e. W'ᵀ = Q Wᵀ.
  const Wt = new Float64Array(d * K);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < d; i++) Wt[i * K + k] = W[k * d + i]!;
  }
  const rotatedWt = rotate(Q, Wt, d, K);
  const rotatedW = new Float64Array(K * d);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < d; i++) rotatedW[k * d + i] = rotatedWt[i * K + k]!;
  }

  const before = collapseMetricsReference({
    K,
    d,
    N,
    H,
    labels,
    trueLabels,
    W,
    b,
  });
  const after = collapseMetricsReference({
    K,
    d,
    N,
    H: rotate(Q, H, d, N),
    labels,
    trueLabels,
    W: rotatedW,
    b,
  });
  for (const key of ['observed', 'true'] as const) {
    const x = before[key]!;
    const y = after[key]!;
    expectRelative(y.nc1, x.nc1, 1e-9);
    expectRelative(y.cdnv, x.cdnv, 1e-9);
    expectRelative(y.traceRatio, x.traceRatio, 1e-9);
    expectRelative(y.nc2!.etfDistance, x.nc2!.etfDistance, 1e-9);
    expectRelative(y.nc2!.equiangularity, x.nc2!.equiangularity, 1e-9);
    expectRelative(y.nc2!.equinormMeans, x.nc2!.equinormMeans, 1e-9);
    expectRelative(y.nc3!, x.nc3!, 1e-9);
    y.classVariances.forEach((v, k) =>
      expectRelative(v, x.classVariances[k]!, 1e-9),
    );
    expect(y.nc4).toBe(x.nc4);
    expect(y.accuracy).toBe(x.accuracy);
  }
  expectRelative(
    after.memorization!.nc1Clean,
    before.memorization!.nc1Clean,
    1e-9,
  );
  expectRelative(
    after.memorization!.memorization,
    before.memorization!.memorization,
    1e-9,
  );
  expectRelative(
    after.memorization!.dilation,
    before.memorization!.dilation,
    1e-9,
  );
});

describe('memorization and dilation by hand (K = 2, d = 1)', () => {
  // Clean: true 0 at {0, 2} (centre 1), true 1 at {10, 12, 14} (centre 12).
  // Noisy: h = 8 (true 0, observed 1) is 7 from its centre; h = 3 (true 1,
  // observed 0) is 9 from its centre.
  const points = [[0], [2], [10], [12], [14], [8], [3]];
  const observed = [0, 0, 1, 1, 1, 1, 0];
  const truth = [0, 0, 1, 1, 1, 0, 1];
  const result = collapseMetricsReference(
    featureSet(points, observed, 2, {
      trueLabels: truth,
      W: [-1, 1],
      b: [0, -6.5],
    }),
  );
  const mem = result.memorization!;

  test('memorization, dilation and their relative forms', () => {
    expect(mem.noisyFraction).toBe(2 / 7);
    expect(mem.memorization).toBe(8);
    expect(mem.unmeasuredNoisy).toBe(0);
    expect(mem.cleanMeans).toEqual([1, 12]);
    expect(mem.dilationPerClass[0]).toBeCloseTo(1, 14);
    expect(mem.dilationPerClass[1]).toBeCloseTo(Math.sqrt(8 / 3), 14);
    const dilation = (1 + Math.sqrt(8 / 3)) / 2;
    expect(mem.dilation).toBeCloseTo(dilation, 14);
    expect(mem.centreDistance).toBe(11);
    expect(mem.relativeMemorization).toBeCloseTo(8 / 11, 14);
    expect(mem.relativeDilation).toBeCloseTo(dilation / 11, 14);
  });

  test('NC1 of the clean examples', () => {
    // Σ_W = (1 + 1 + 4 + 0 + 4)/5 = 2; μ_G = 7.6;
    // Σ_B = ((1 − 7.6)² + (12 − 7.6)²)/2 = 31.46; NC1 = (2/31.46)/2.
    expectRelative(mem.nc1Clean, 1 / 31.46, 1e-12);
  });

  test('both groupings, and accuracy on observed and on true labels', () => {
    // Class 1 iff h > 3.25: the classifier fits the observed labels.
    expect(result.observed.counts).toEqual([3, 4]);
    expect(result.true!.counts).toEqual([3, 4]);
    expect(result.observed.accuracy).toBe(1);
    expect(result.true!.accuracy).toBe(5 / 7);
    expect(result.conventions.globalMean).toBe('sample-weighted');
  });
});

test('a noisy example whose true class has no clean example is not measured', () => {
  const mem = collapseMetricsReference(
    featureSet(
      [[0], [2], [10], [12], [14], [8], [3], [5]],
      [0, 0, 1, 1, 1, 1, 0, 0],
      3,
      { trueLabels: [0, 0, 1, 1, 1, 0, 1, 2] },
    ),
  ).memorization!;
  expect(mem.unmeasuredNoisy).toBe(1);
  expect(mem.memorization).toBe(8);
  expect(mem.noisyFraction).toBe(3 / 8);
  expect(mem.dilationPerClass[2]).toBeNaN();
  expect(mem.cleanMeans[2]).toBeNaN();
  expect(mem.centreDistance).toBe(11);
});

test('no noise: memorization 0; no true labels or W: those parts are null', () => {
  const points = [[0], [2], [10], [12]];
  const labels = [0, 0, 1, 1];
  const clean = collapseMetricsReference(
    featureSet(points, labels, 2, { trueLabels: labels }),
  );
  expect(clean.memorization!.memorization).toBe(0);
  expect(clean.memorization!.noisyFraction).toBe(0);
  expectRelative(clean.memorization!.nc1Clean, clean.observed.nc1, 1e-15);

  const bare = collapseMetricsReference(featureSet(points, labels, 2));
  expect(bare.true).toBeNull();
  expect(bare.memorization).toBeNull();
  expect(bare.observed.nc3).toBeNull();
  expect(bare.observed.nc4).toBeNull();
  expect(bare.observed.accuracy).toBeNull();
  expect(bare.observed.nc2!.equinormClassifier).toBeNull();
});

describe('invalid inputs name the field, the value and what is allowed', () => {
  const valid: FeatureSet = {
    K: 2,
    d: 2,
    N: 3,
    H: [0, 1, 2, 3, 4, 5],
    labels: [0, 1, 1],
  };
  const prefix = 'collapseMetricsReference: ';
  test.each<[Partial<FeatureSet>, string]>([
    [{ K: 0 }, 'K = 0 is invalid; expected an integer ≥ 1'],
    [{ d: 1.5 }, 'd = 1.5 is invalid; expected an integer ≥ 1'],
    [{ N: -1 }, 'N = -1 is invalid; expected an integer ≥ 1'],
    [
      { H: [0, 1, 2, 3, 4] },
      'H.length = 5 is invalid; expected d·N (d = 2, N = 3) = 6',
    ],
    [
      { H: [0, 1, 2, 3, Infinity, 5] },
      'H[4] = Infinity is invalid; expected a finite number',
    ],
    [{ labels: [0, 1] }, 'labels.length = 2 is invalid; expected N = 3'],
    [
      { labels: [0, 2, 1] },
      'labels[1] = 2 is invalid; expected an integer from 0 to K − 1 = 1',
    ],
    [
      { labels: [0.5, 1, 1] },
      'labels[0] = 0.5 is invalid; expected an integer from 0 to K − 1 = 1',
    ],
    [
      { labels: [0, 1, -1] },
      'labels[2] = -1 is invalid; expected an integer from 0 to K − 1 = 1',
    ],
    [
      { labels: [NaN, 1, 1] },
      'labels[0] = NaN is invalid; expected an integer from 0 to K − 1 = 1',
    ],
    [
      { trueLabels: [0, 1] },
      'trueLabels.length = 2 is invalid; expected N = 3',
    ],
    [
      { trueLabels: [7, 1, 1] },
      'trueLabels[0] = 7 is invalid; expected an integer from 0 to K − 1 = 1',
    ],
    [
      { W: [1, 2, 3] },
      'W.length = 3 is invalid; expected K·d (K = 2, d = 2) = 4',
    ],
    [{ W: [1, NaN, 3, 4] }, 'W[1] = NaN is invalid; expected a finite number'],
    [{ W: [1, 2, 3, 4], b: [0] }, 'b.length = 1 is invalid; expected K = 2'],
    [
      { W: [1, 2, 3, 4], b: [-Infinity, 0] },
      'b[0] = -Infinity is invalid; expected a finite number',
    ],
    [
      { b: [0, 0] },
      'b is given without W; expected W (K×d) with b, or neither',
    ],
  ])('%o', (override, message) => {
    const call = () => collapseMetricsReference({ ...valid, ...override });
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(prefix + message);
  });
});
