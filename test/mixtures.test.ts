// The Gaussian mixtures of science.md §9 against their definition: the
// layout, determinism in the seed, means exactly `separation` apart and
// centred, empirical class means and noise variance within statistical
// bounds derived here, and every invalid argument refused with its message.

import { describe, expect, test } from 'vitest';

import { gaussianMixture, type MixtureSpec } from '../src/data/mixtures';
import { InvalidArgumentError } from '../src/gpu/errors';

// Every statistical check allows Z standard deviations: a correct generator
// fails one with probability about 6e-7, so the ~300 checks here together
// about 2e-4 (and, the seeds being fixed, an outcome is reproducible).
const Z = 5;
const EPS64 = 2 ** -52;
const EPS32 = 2 ** -23;

const SPECS: MixtureSpec[] = [
  { K: 2, dim: 1, perClass: 2000, separation: 3, seed: 1 },
  { K: 3, dim: 2, perClass: 1000, separation: 1, seed: 2 },
  { K: 10, dim: 9, perClass: 400, separation: 4, seed: 3 },
  { K: 4, dim: 50, perClass: 300, separation: 0.5, seed: 4 },
];

function distance(means: Float64Array, dim: number, k: number, l: number) {
  let sum = 0;
  for (let i = 0; i < dim; i++) {
    const d = means[k * dim + i]! - means[l * dim + i]!;
    sum += d * d;
  }
  return Math.sqrt(sum);
}

describe('gaussianMixture', () => {
  test.each(SPECS)('lays out K = $K, dim = $dim', (spec) => {
    const { K, dim, perClass } = spec;
    const { points, labels, means } = gaussianMixture(spec);
    expect(points.length).toBe(K * perClass * dim);
    expect(labels.length).toBe(K * perClass);
    expect(means.length).toBe(K * dim);
    for (let n = 0; n < labels.length; n++) {
      if (labels[n] !== Math.floor(n / perClass)) {
        throw new Error(`label ${n} = ${labels[n]}; expected class by block`);
      }
    }
    expect(points.every(Number.isFinite)).toBe(true);
  });

  test('is the same for a seed and differs between seeds', () => {
    const spec = SPECS[1]!;
    const a = gaussianMixture(spec);
    const b = gaussianMixture(spec);
    expect(a.points).toEqual(b.points);
    expect(a.means).toEqual(b.means);
    const c = gaussianMixture({ ...spec, seed: spec.seed + 1 });
    expect(c.means).not.toEqual(a.means);
    expect(c.points).not.toEqual(a.points);
  });

  test('draws the means before the points, so perClass leaves them alone', () => {
    const spec = SPECS[2]!;
    const few = gaussianMixture({ ...spec, perClass: 1 });
    expect(few.means).toEqual(gaussianMixture(spec).means);
  });

  test.each(SPECS)(
    'puts every pair of means $separation apart, centred (K = $K)',
    ({ K, dim, separation, ...rest }) => {
      const { means } = gaussianMixture({ K, dim, separation, ...rest });
      // The means come from an orthonormal frame (Gram–Schmidt, twice) and
      // the Helmert basis: each step is a dot product of ≤ dim terms, so
      // their rounding errors are a small multiple of dim·ε64 relative to s.
      const tolerance = 16 * dim * EPS64 * separation;
      for (let k = 0; k < K; k++) {
        for (let l = k + 1; l < K; l++) {
          expect(
            Math.abs(distance(means, dim, k, l) - separation),
          ).toBeLessThanOrEqual(tolerance);
        }
      }
      for (let i = 0; i < dim; i++) {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += means[k * dim + i]!;
        expect(Math.abs(sum)).toBeLessThanOrEqual(K * tolerance);
      }
      const radius = separation * Math.sqrt((K - 1) / (2 * K));
      for (let k = 0; k < K; k++) {
        const norm = Math.hypot(...means.subarray(k * dim, (k + 1) * dim));
        expect(Math.abs(norm - radius)).toBeLessThanOrEqual(tolerance);
      }
    },
  );

  test('separation 0 puts every mean at the origin', () => {
    const { means } = gaussianMixture({
      K: 3,
      dim: 4,
      perClass: 1,
      separation: 0,
      seed: 5,
    });
    expect(means.every((v) => v === 0)).toBe(true);
  });

  test.each(SPECS)(
    'has class means near the true ones and unit noise (K = $K, dim = $dim)',
    (spec) => {
      const { K, dim, perClass } = spec;
      const { points, means } = gaussianMixture(spec);
      // A class's empirical mean minus its true mean is the mean of perClass
      // N(0, 1) draws per coordinate, so its sd is 1/√perClass; float32
      // storage adds at most ε32/2·max|x| per point, far below that.
      let maxAbs = 0;
      for (const v of points) maxAbs = Math.max(maxAbs, Math.abs(v));
      const meanBound = Z / Math.sqrt(perClass) + EPS32 * maxAbs;
      let squares = 0;
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < dim; i++) {
          const mu = means[k * dim + i]!;
          let sum = 0;
          for (let n = k * perClass; n < (k + 1) * perClass; n++) {
            const deviation = points[n * dim + i]! - mu;
            sum += deviation;
            squares += deviation * deviation;
          }
          const error = Math.abs(sum / perClass);
          if (error > meanBound) {
            throw new Error(
              `class ${k}, coordinate ${i}: empirical mean is ${error} from ` +
                `the true one; expected at most ${meanBound}`,
            );
          }
        }
      }
      // Squared deviations from the true means: a χ² with m = N·dim degrees
      // of freedom over m, mean 1 and sd √(2/m).
      const m = K * perClass * dim;
      expect(Math.abs(squares / m - 1)).toBeLessThanOrEqual(
        Z * Math.sqrt(2 / m),
      );
    },
  );

  test('classifies two classes with the Bayes error Φ(−s/2)', () => {
    // With s = 2 the nearest-mean rule errs with probability Φ(−1) ≈ 0.1587:
    // the noise along the line joining the means is N(0, 1), the boundary
    // is s/2 = 1 away.
    const perClass = 20_000;
    const dim = 3;
    const { points, labels, means } = gaussianMixture({
      K: 2,
      dim,
      perClass,
      separation: 2,
      seed: 6,
    });
    const squaredDistance = (n: number, k: number) => {
      let sum = 0;
      for (let i = 0; i < dim; i++) {
        sum += (points[n * dim + i]! - means[k * dim + i]!) ** 2;
      }
      return sum;
    };
    let errors = 0;
    for (let n = 0; n < 2 * perClass; n++) {
      const nearest = squaredDistance(n, 0) < squaredDistance(n, 1) ? 0 : 1;
      if (nearest !== labels[n]) errors++;
    }
    const p = 0.15865525393145707; // Φ(−1)
    const N = 2 * perClass;
    expect(Math.abs(errors / N - p)).toBeLessThanOrEqual(
      Z * Math.sqrt((p * (1 - p)) / N),
    );
  });

  const valid: MixtureSpec = {
    K: 3,
    dim: 2,
    perClass: 5,
    separation: 1,
    seed: 0,
  };
  test.each([
    [{ K: 1 }, 'K = 1 is invalid; expected an integer ≥ 2'],
    [{ K: 2.5 }, 'K = 2.5 is invalid; expected an integer ≥ 2'],
    [
      { K: 4, dim: 2 },
      'dim = 2 is invalid; expected an integer ≥ 3 (K − 1 dimensions hold 4 ' +
        'equidistant means)',
    ],
    [
      { dim: 0 },
      'dim = 0 is invalid; expected an integer ≥ 2 (K − 1 dimensions hold 3 ' +
        'equidistant means)',
    ],
    [{ perClass: 0 }, 'perClass = 0 is invalid; expected an integer ≥ 1'],
    [{ perClass: 1.5 }, 'perClass = 1.5 is invalid; expected an integer ≥ 1'],
    [
      { separation: -1 },
      'separation = -1 is invalid; expected a finite number ≥ 0',
    ],
    [
      { separation: NaN },
      'separation = NaN is invalid; expected a finite number ≥ 0',
    ],
    [
      { separation: Infinity },
      'separation = Infinity is invalid; expected a finite number ≥ 0',
    ],
    [
      { seed: 2 ** 32 },
      'seed = 4294967296 is invalid; expected an integer from 0 to 4294967295',
    ],
    [
      { seed: '1' },
      'seed = "1" is invalid; expected an integer from 0 to 4294967295',
    ],
    [
      { perClass: 2 ** 28 },
      'K·perClass·dim = 1610612736 values are too many; expected at most ' +
        '1073741824',
    ],
  ])('refuses %o', (change, message) => {
    const make = () =>
      gaussianMixture({ ...valid, ...(change as Partial<MixtureSpec>) });
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(`gaussianMixture: ${message}`);
  });
});
