// The float64 md model (science.md §7): gradients against finite
// differences, memorization from its definition, λ = 0 against the ufm's
// closed form, and its exact K = 2 test accuracy against brute force.

import { describe, expect, test } from 'vitest';

import type { LossSpec } from '../src/reference/losses';
import {
  mdEvaluate,
  mdGroups,
  mdTestAccuracyExact,
  mdTestAccuracyMonteCarlo,
  trainMdReference,
  type MdParams,
  type MdProblem,
} from '../src/reference/md';
import { crossEntropyOptimum } from '../src/science/oracles';
import { Random } from '../src/util/random';
import { expectGradient } from './support/gradients';

function problem(overrides: Partial<MdProblem> = {}): MdProblem {
  return {
    K: 3,
    d: 2,
    counts: [
      [5, 2, 1],
      [0, 6, 0],
      [3, 0, 4],
    ],
    coupling: 0.7,
    lambdaW: 1e-2,
    lambdaH: 2e-2,
    lambdaB: 5e-3,
    loss: { kind: 'ce' },
    smoothing: 1e-6,
    ...overrides,
  };
}

function randomParams(p: MdProblem, seed: number): MdParams {
  const rng = new Random(seed);
  const draw = (n: number) =>
    Float64Array.from({ length: n }, () => rng.normal());
  return {
    W: draw(p.K * p.d),
    b: draw(p.K),
    centres: draw(p.K * p.d),
    groups: draw(mdGroups(p).length * p.d),
  };
}

describe('md gradients match central finite differences', () => {
  const losses: LossSpec[] = [
    { kind: 'ce' },
    { kind: 'ls', alpha: 0.2 },
    { kind: 'mse' },
  ];
  test.each(losses.map((l) => [l.kind, l] as const))('%s', (_, loss) => {
    const p = problem({ loss });
    const params = randomParams(p, 3);
    const { gradients } = mdEvaluate(p, params);
    for (const key of ['W', 'b', 'centres', 'groups'] as const) {
      expectGradient(
        key,
        params[key],
        gradients[key],
        () => mdEvaluate(p, params).objective,
      );
    }
  });
});

test('memorization is the count-weighted mean distance to the clean centre', () => {
  const p = problem({
    counts: [
      [5, 2, 1],
      [0, 6, 0],
      [0, 0, 4],
    ],
    coupling: 0.5,
  });
  const params = randomParams(p, 1);
  params.centres.set([0, 0], 0); // c_0
  params.groups.set([3, 4, 0, 1]); // g_01 (count 2), g_02 (count 1)
  const { memorization, radii } = mdEvaluate(p, params);
  expect(memorization[0]).toBeCloseTo((2 * 5 + 1 * 1) / 3, 5);
  expect(memorization[1]).toBe(0); // no mislabelled examples
  expect(radii[0]).toBeCloseTo(0.5 * memorization[0]!, 12);
});

test('with λ = 0 and no noise, training reaches the ufm closed form', () => {
  const n = 4;
  const p = problem({
    K: 3,
    d: 4,
    counts: [
      [n, 0, 0],
      [0, n, 0],
      [0, 0, n],
    ],
    coupling: 0,
    lambdaW: 5e-3,
    lambdaH: 5e-3,
    lambdaB: 0,
  });
  const params = trainMdReference(p, {
    steps: 12_000,
    lr: 0.5,
    seed: 2,
    initScale: 0.5,
  });
  const optimum = crossEntropyOptimum({
    K: 3,
    n,
    lambdaW: 5e-3,
    lambdaH: 5e-3,
  });
  for (let k = 0; k < 3; k++) {
    const w = Math.hypot(...params.W.slice(k * 4, k * 4 + 4));
    const c = Math.hypot(...params.centres.slice(k * 4, k * 4 + 4));
    expect(
      Math.abs(w - optimum.classifierNorm) / optimum.classifierNorm,
    ).toBeLessThan(1e-3);
    expect(
      Math.abs(c - optimum.featureNorm) / optimum.featureNorm,
    ).toBeLessThan(1e-3);
  }
});

describe('with label noise and coupling (K = 2, d = 2, 20 % flips)', () => {
  // science.md §7's prototype: n = 100 per class, λ_W = λ_H = 1e-3.
  const p = problem({
    K: 2,
    d: 2,
    counts: [
      [80, 20],
      [20, 80],
    ],
    coupling: 1,
    lambdaW: 1e-3,
    lambdaH: 1e-3,
    lambdaB: 0,
  });

  test('memorization and dilation come out positive (measured, not fixed)', () => {
    const params = trainMdReference(p, {
      steps: 3_000,
      lr: 0.5,
      seed: 5,
      initScale: 0.5,
    });
    const { memorization, radii } = mdEvaluate(p, params);
    for (let t = 0; t < 2; t++) {
      expect(memorization[t]).toBeGreaterThan(0);
      expect(radii[t]).toBeGreaterThan(0);
    }
  });

  test('the exact test accuracy agrees with a brute-force Monte Carlo', () => {
    const params = trainMdReference(p, {
      steps: 3_000,
      lr: 0.5,
      seed: 5,
      initScale: 0.5,
    });
    const { radii } = mdEvaluate(p, params);
    const exact = mdTestAccuracyExact(p, params, radii);
    const samples = 200_000;
    const estimate = mdTestAccuracyMonteCarlo(p, params, radii, samples, 9);
    // Balanced mean of two binomial proportions: standard error ≤ √(1/(8·samples)).
    const standardError = Math.sqrt(1 / (8 * samples));
    expect(Math.abs(exact - estimate)).toBeLessThan(5 * standardError);
    expect(exact).toBeGreaterThan(0.5);
    expect(exact).toBeLessThanOrEqual(1);
  });
});
