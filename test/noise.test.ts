// The label-noise models of science.md §6 against their definitions: flip
// rates and transition counts within statistical bounds derived here, the
// documented draw order, determinism in the seed, and every invalid input
// rejected with a message naming the field, its value and what is allowed.

import { describe, expect, test } from 'vitest';

import {
  applyLabelNoise,
  expectedFlipRate,
  noiseCounts,
  type NoiseKind,
  type NoiseSpec,
} from '../src/data/noise';
import { InvalidArgumentError } from '../src/gpu/errors';
import { Random, randomLabels } from '../src/util/random';

const KINDS: NoiseKind[] = ['uniform', 'symmetric', 'pair'];
const CLASS_COUNTS = [2, 3, 10];
const ETAS = [0, 0.2, 0.4, 1];

// Every statistical check allows Z standard deviations: a correct model fails
// one with probability about 6e-7, so the ~100 checks here together about
// 1e-4 (and, the seeds being fixed, a pass or a failure is reproducible).
const Z = 5;

// True labels come from their own seeds, far from the noise seeds, so the two
// Random streams are unrelated.
const LABEL_SEED = 1_000_003;

/** Seeds × examples per seed = 40 000 examples per configuration. */
const SEEDS = 8;
const N_PER_SEED = 5000;

/** The model's transition matrix T[t][j] = P(observed j | true t). */
function transition(kind: NoiseKind, K: number, eta: number): number[][] {
  return Array.from({ length: K }, (_, t) =>
    Array.from({ length: K }, (_, j) => {
      if (kind === 'uniform') return (j === t ? 1 - eta : 0) + eta / K;
      if (kind === 'symmetric') return j === t ? 1 - eta : eta / (K - 1);
      if (j === t) return 1 - eta;
      return j === (t + 1) % K ? eta : 0;
    }),
  );
}

/**
 * Upper Z-sigma point of a chi-square with ν degrees of freedom, by the
 * Wilson–Hilferty approximation ((χ²/ν)^(1/3) is close to normal with mean
 * 1 − 2/(9ν) and variance 2/(9ν)); accurate to a few per cent for ν ≥ 1.
 */
function chiSquareBound(nu: number): number {
  const v = 2 / (9 * nu);
  return nu * (1 - v + Z * Math.sqrt(v)) ** 3;
}

/** The error `fn` throws, or undefined when it returns. */
function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectInvalid(fn: () => unknown, message: string): void {
  const error = errorOf(fn);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as Error).message).toBe(message);
}

const configs = KINDS.flatMap((kind) =>
  CLASS_COUNTS.flatMap((K) => ETAS.map((eta) => [kind, K, eta] as const)),
);

describe('flip rates', () => {
  test.each(configs)(
    '%s, K = %i, η = %f: measured rate within 5σ of the expected',
    (kind, K, eta) => {
      const p = expectedFlipRate(K, { kind, eta });
      let flips = 0;
      for (let seed = 0; seed < SEEDS; seed++) {
        const labels = randomLabels(LABEL_SEED + seed, N_PER_SEED, K);
        const { observed, flipRate } = applyLabelNoise(labels, K, {
          kind,
          eta,
          seed,
        });
        const changed = observed.filter((y, i) => y !== labels[i]).length;
        expect(flipRate).toBe(changed / N_PER_SEED);
        flips += changed;
      }

      const N = SEEDS * N_PER_SEED;
      const measured = flips / N;
      if (eta === 0) expect(measured).toBe(0);
      // A binomial proportion has standard deviation sqrt(p(1 − p)/N); at
      // p = 0 or 1 the bound is 0 and the rate must be exact.
      const bound = Z * Math.sqrt((p * (1 - p)) / N);
      expect(Math.abs(measured - p)).toBeLessThanOrEqual(bound);
    },
  );

  test('expectedFlipRate has the closed forms of science.md §6', () => {
    expect(expectedFlipRate(2, { kind: 'uniform', eta: 0.4 })).toBeCloseTo(
      0.2,
      15,
    );
    expect(expectedFlipRate(10, { kind: 'uniform', eta: 1 })).toBeCloseTo(
      0.9,
      15,
    );
    expect(expectedFlipRate(3, { kind: 'symmetric', eta: 0.2 })).toBe(0.2);
    expect(expectedFlipRate(7, { kind: 'pair', eta: 0.4 })).toBe(0.4);
    for (const kind of KINDS) {
      expect(expectedFlipRate(5, { kind, eta: 0 })).toBe(0);
    }
  });

  test('η = 0 returns the true labels unchanged, as a new array', () => {
    const labels = randomLabels(LABEL_SEED, 1000, 4);
    for (const kind of KINDS) {
      const { observed, flipRate } = applyLabelNoise(labels, 4, {
        kind,
        eta: 0,
        seed: 5,
      });
      expect(observed).toEqual(labels);
      expect(observed).not.toBe(labels);
      expect(flipRate).toBe(0);
    }
  });

  test('no examples give no labels and a flip rate of 0', () => {
    const { observed, flipRate } = applyLabelNoise([], 3, {
      kind: 'uniform',
      eta: 0.5,
      seed: 0,
    });
    expect(observed.length).toBe(0);
    expect(flipRate).toBe(0);
  });
});

describe('transitions follow each model', () => {
  const N = 40_000;
  const noisy = configs.filter(([, , eta]) => eta > 0);

  // Given the class sizes n_t, row t of the counts is multinomial(n_t, T[t]):
  // cells with T = 0 must stay empty, and the Pearson statistic over the
  // others is chi-square with Σ_t (cells in row t − 1) degrees of freedom.
  // At N = 40 000 the smallest expected cell (symmetric, K = 10, η = 0.2) is
  // about 90 examples, well inside the approximation's range.
  test.each(noisy)(
    '%s, K = %i, η = %f: counts match the transition matrix',
    (kind, K, eta) => {
      const labels = randomLabels(LABEL_SEED, N, K);
      const { observed } = applyLabelNoise(labels, K, { kind, eta, seed: 11 });
      const counts = noiseCounts(labels, observed, K);
      const T = transition(kind, K, eta);

      let chiSquare = 0;
      let dof = 0;
      counts.forEach((row, t) => {
        const size = row.reduce((a, c) => a + c, 0);
        let cells = 0;
        row.forEach((count, j) => {
          if (T[t]![j] === 0) {
            expect(count).toBe(0);
            return;
          }
          const expected = size * T[t]![j]!;
          chiSquare += (count - expected) ** 2 / expected;
          cells++;
        });
        dof += cells - 1;
      });

      if (dof === 0) expect(chiSquare).toBe(0);
      else expect(chiSquare).toBeLessThanOrEqual(chiSquareBound(dof));
    },
  );

  test('pair noise only ever maps y to (y + 1) mod K, wrapping at K − 1', () => {
    for (const K of CLASS_COUNTS) {
      const labels = randomLabels(LABEL_SEED, 5000, K);
      const { observed } = applyLabelNoise(labels, K, {
        kind: 'pair',
        eta: 0.4,
        seed: 3,
      });
      let wrapped = 0;
      labels.forEach((y, i) => {
        if (observed[i] === y) return;
        expect(observed[i]).toBe((y + 1) % K);
        if (y === K - 1) wrapped++;
      });
      expect(wrapped).toBeGreaterThan(0);
    }
  });

  test('symmetric noise changes every corrupted label: ~η·N flips', () => {
    const N = 20_000;
    const K = 3;
    const labels = randomLabels(LABEL_SEED, N, K);
    for (const eta of [0.2, 0.4]) {
      const { observed } = applyLabelNoise(labels, K, {
        kind: 'symmetric',
        eta,
        seed: 4,
      });
      const changed = observed.filter((y, i) => y !== labels[i]).length;
      // Were a corruption allowed to keep the true class, the count would
      // sit near η(K − 1)/K·N instead, more than 40σ below η·N here.
      const bound = Z * Math.sqrt(N * eta * (1 - eta));
      expect(Math.abs(changed - eta * N)).toBeLessThanOrEqual(bound);
    }

    const { observed } = applyLabelNoise(labels, K, {
      kind: 'symmetric',
      eta: 1,
      seed: 4,
    });
    labels.forEach((y, i) => expect(observed[i]).not.toBe(y));
    const binary = randomLabels(LABEL_SEED, 100, 2);
    const flipped = applyLabelNoise(binary, 2, {
      kind: 'symmetric',
      eta: 1,
      seed: 4,
    }).observed;
    binary.forEach((y, i) => expect(flipped[i]).toBe(1 - y));
  });

  test("uniform's redrawn labels are uniform over all K classes", () => {
    // At η = 1 every label is redrawn, so the observed class totals are
    // multinomial(N, 1/K) whatever the true labels: a chi-square with K − 1
    // degrees of freedom. All-zero true labels make any leak of the true
    // class into the redraw show up as an excess of class 0.
    const N = 50_000;
    const K = 10;
    const { observed } = applyLabelNoise(new Uint32Array(N), K, {
      kind: 'uniform',
      eta: 1,
      seed: 8,
    });
    const totals = new Array<number>(K).fill(0);
    observed.forEach((j) => totals[j]!++);
    const expected = N / K;
    const chiSquare = totals.reduce(
      (a, c) => a + (c - expected) ** 2 / expected,
      0,
    );
    expect(chiSquare).toBeLessThanOrEqual(chiSquareBound(K - 1));
  });
});

describe('seeds and draw order', () => {
  test('the same seed gives identical labels; another seed, other labels', () => {
    const K = 5;
    const labels = randomLabels(LABEL_SEED, 2000, K);
    const copy = Uint32Array.from(labels);
    for (const kind of KINDS) {
      const spec: NoiseSpec = { kind, eta: 0.3, seed: 42 };
      const first = applyLabelNoise(labels, K, spec);
      const again = applyLabelNoise(Array.from(labels), K, { ...spec });
      expect(again.observed).toEqual(first.observed);
      expect(again.flipRate).toBe(first.flipRate);

      const other = applyLabelNoise(labels, K, { ...spec, seed: 43 });
      const differing = other.observed.filter(
        (y, i) => y !== first.observed[i],
      ).length;
      expect(differing).toBeGreaterThan(0);
    }
    expect(labels).toEqual(copy);
  });

  test('draws follow the documented order', () => {
    // One uniform() per example decides; a corrupted example then draws
    // integer(K) (uniform) or integer(K − 1) skipping the true class
    // (symmetric); pair draws nothing more.
    const K = 5;
    const eta = 0.3;
    const seed = 17;
    const labels = randomLabels(LABEL_SEED, 500, K);
    for (const kind of KINDS) {
      const rng = new Random(seed);
      const expected = Array.from(labels, (y) => {
        if (rng.uniform() >= eta) return y;
        if (kind === 'uniform') return rng.integer(K);
        if (kind === 'pair') return (y + 1) % K;
        const other = rng.integer(K - 1);
        return other < y ? other : other + 1;
      });
      const { observed } = applyLabelNoise(labels, K, { kind, eta, seed });
      expect(Array.from(observed)).toEqual(expected);
    }
  });
});

describe('noiseCounts', () => {
  test('counts a small case by hand', () => {
    expect(noiseCounts([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)).toEqual([
      [1, 1, 0],
      [0, 1, 0],
      [1, 0, 2],
    ]);
  });

  test('rows sum to the class sizes; the diagonal holds the clean counts', () => {
    const K = 4;
    const N = 3000;
    const labels = randomLabels(LABEL_SEED, N, K);
    const { observed } = applyLabelNoise(labels, K, {
      kind: 'uniform',
      eta: 0.4,
      seed: 9,
    });
    const counts = noiseCounts(labels, observed, K);

    const sizes = new Array<number>(K).fill(0);
    const clean = new Array<number>(K).fill(0);
    labels.forEach((y, i) => {
      sizes[y]!++;
      if (observed[i] === y) clean[y]!++;
    });
    expect(counts.map((row) => row.reduce((a, c) => a + c, 0))).toEqual(sizes);
    expect(counts.map((row, t) => row[t])).toEqual(clean);
    expect(sizes.reduce((a, c) => a + c, 0)).toBe(N);
  });
});

describe('invalid inputs are rejected with the field, value and range', () => {
  const labels = [0, 1, 2, 1];
  const spec: NoiseSpec = { kind: 'uniform', eta: 0.2, seed: 1 };
  // Overrides may hold values the type forbids, as untyped callers could.
  const apply =
    (overrides: Record<string, unknown>, K = 3, y = labels) =>
    () => {
      const bad: unknown = { ...spec, ...overrides };
      return applyLabelNoise(y, K, bad as NoiseSpec);
    };

  const etaRange = 'is invalid; expected a number in [0, 1]';
  const kindRange = 'is invalid; expected "uniform", "symmetric" or "pair"';
  const seedRange = 'is invalid; expected an integer from 0 to 4294967295';
  const kRange = 'is invalid; expected an integer from 2 to 4294967296';

  test.each([
    [{ eta: 1.5 }, `label noise: eta = 1.5 ${etaRange}`],
    [{ eta: -0.1 }, `label noise: eta = -0.1 ${etaRange}`],
    [{ eta: NaN }, `label noise: eta = NaN ${etaRange}`],
    [{ eta: Infinity }, `label noise: eta = Infinity ${etaRange}`],
    [{ eta: '0.2' }, `label noise: eta = "0.2" ${etaRange}`],
    [{ kind: 'flip' }, `label noise: kind = "flip" ${kindRange}`],
    [{ kind: undefined }, `label noise: kind = undefined ${kindRange}`],
    [{ seed: -1 }, `label noise: seed = -1 ${seedRange}`],
    [{ seed: 1.5 }, `label noise: seed = 1.5 ${seedRange}`],
    [{ seed: 2 ** 32 }, `label noise: seed = 4294967296 ${seedRange}`],
    [{ seed: NaN }, `label noise: seed = NaN ${seedRange}`],
  ])('spec %o', (overrides, message) => {
    expectInvalid(apply(overrides), message);
  });

  test.each([1, 0, 2.5, NaN, 2 ** 32 + 1])('K = %f', (K) => {
    expectInvalid(apply({}, K), `label noise: K = ${K} ${kRange}`);
    expectInvalid(
      () => expectedFlipRate(K, spec),
      `label noise: K = ${K} ${kRange}`,
    );
    expectInvalid(
      () => noiseCounts([0], [0], K),
      `label noise: K = ${K} ${kRange}`,
    );
  });

  test.each([
    [[0, 1, 3], 2, '3'],
    [[-1, 0], 0, '-1'],
    [[0, 0.5], 1, '0.5'],
    [[NaN], 0, 'NaN'],
  ])('true labels %j: index %i holds %s', (bad, index, value) => {
    expectInvalid(
      apply({}, 3, bad),
      `label noise: trueLabels[${index}] = ${value} is invalid; expected ` +
        'an integer in [0, 3) for K = 3',
    );
  });

  test('expectedFlipRate checks kind and eta', () => {
    expectInvalid(
      () => expectedFlipRate(3, { kind: 'pair', eta: 2 }),
      `label noise: eta = 2 ${etaRange}`,
    );
    expectInvalid(
      () => expectedFlipRate(3, { kind: 'flip' as NoiseKind, eta: 0.1 }),
      `label noise: kind = "flip" ${kindRange}`,
    );
  });

  test('noiseCounts checks lengths and both label arrays', () => {
    expectInvalid(
      () => noiseCounts([0, 1, 2], [0, 1], 3),
      'label noise: observed has length 2; expected 3, the length of ' +
        'trueLabels',
    );
    expectInvalid(
      () => noiseCounts([0, 1, 2], [0, 1, 3], 3),
      'label noise: observed[2] = 3 is invalid; expected an integer in ' +
        '[0, 3) for K = 3',
    );
    expectInvalid(
      () => noiseCounts([0, 4, 2], [0, 1, 2], 3),
      'label noise: trueLabels[1] = 4 is invalid; expected an integer in ' +
        '[0, 3) for K = 3',
    );
  });
});
