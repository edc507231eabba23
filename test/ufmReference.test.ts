// The float64 ufm trainer is the oracle for the GPU trainer, so it is held
// to the closed forms of science.md §3: its gradients match finite
// differences of the objective, and training to convergence reproduces
// ‖w_k‖, ‖h‖, the margin, NC1 ≈ 0 and the ETF geometry computed from the
// formulas (src/science/oracles.ts).

import { describe, expect, test } from 'vitest';

import {
  classMeansReference,
  invertMatrix,
  nc1Reference,
} from '../src/reference/collapse';
import type { LossSpec } from '../src/reference/losses';
import {
  initialUfmState,
  trainUfmReference,
  ufmGradients,
  type UfmReferenceConfig,
} from '../src/reference/ufm';
import { crossEntropyOptimum } from '../src/science/oracles';
import { Random } from '../src/util/random';
import { expectGradient } from './support/gradients';
import { expectOptimum, ORACLE_CASES } from './support/oracle';

function config(
  overrides: Partial<UfmReferenceConfig> & { K: number; d: number; n: number },
): UfmReferenceConfig {
  const { n, ...rest } = overrides;
  return {
    countsPerClass: Array.from({ length: overrides.K }, () => n),
    lambdaW: 5e-3,
    lambdaH: 5e-3,
    lambdaB: 0,
    loss: { kind: 'ce' },
    positive: false,
    steps: 20_000,
    lr: 0.5,
    seed: 1,
    initScale: 0.5,
    ...rest,
  };
}

const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));
const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('ufm gradients match central finite differences of the objective', () => {
  const losses: LossSpec[] = [
    { kind: 'ce' },
    { kind: 'ls', alpha: 0.2 },
    { kind: 'mse' },
  ];
  test.each(losses.map((l) => [l.kind, l] as const))('%s', (_, loss) => {
    const c = config({ K: 3, d: 4, n: 2, loss, lambdaB: 0.03 });
    const state = initialUfmState(c);
    const rng = new Random(4);
    state.b.forEach((_, i) => (state.b[i] = rng.normal()));
    const g = ufmGradients(c, state);
    for (const [name, params, grad] of [
      ['W', state.W, g.W],
      ['H', state.H, g.H],
      ['b', state.b, g.b],
    ] as const) {
      expectGradient(
        name,
        params,
        grad,
        () => ufmGradients(c, state).objective,
      );
    }
  });
});

describe('NC1 reference', () => {
  test('equals Tr(Σ_W Σ_B⁻¹)/K computed directly when d = K − 1', () => {
    const K = 4;
    const d = 3;
    const labels = Uint32Array.from([0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 3]);
    const N = labels.length;
    const rng = new Random(8);
    const H = Float64Array.from({ length: d * N }, () => rng.normal());
    const { means, globalMean } = classMeansReference(H, labels, K, d);
    const SW = new Float64Array(d * d);
    const SB = new Float64Array(d * d);
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          const ri = H[i * N + n]! - means[i * K + labels[n]!]!;
          const rj = H[j * N + n]! - means[j * K + labels[n]!]!;
          SW[i * d + j]! += (ri * rj) / N;
        }
      }
    }
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          const mi = means[i * K + k]! - globalMean[i]!;
          const mj = means[j * K + k]! - globalMean[j]!;
          SB[i * d + j]! += (mi * mj) / K;
        }
      }
    }
    const SBinv = invertMatrix(SB, d);
    let trace = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) trace += SW[i * d + j]! * SBinv[j * d + i]!;
    }
    expect(relative(nc1Reference(H, labels, K, d), trace / K)).toBeLessThan(
      1e-10,
    );
  });
});

describe('training to convergence reproduces the closed-form optimum', () => {
  test.each(ORACLE_CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expectOptimum(
      trainUfmReference(config({ ...c, lr: 0.5, steps: 10_000 })),
      c,
    );
  });

  test('strong regularisation drives W and H to zero, as the formula says', () => {
    const c = { K: 3, n: 4, lambdaW: 0.5, lambdaH: 0.5 };
    expect(crossEntropyOptimum(c).collapsedToZero).toBe(true);
    // Stable steps need lr·N·λ_H < 2 for the features: lr = 0.1, N = 12.
    const state = trainUfmReference(
      config({
        K: 3,
        d: 4,
        n: 4,
        lambdaW: 0.5,
        lambdaH: 0.5,
        lr: 0.1,
        steps: 5_000,
      }),
    );
    expect(norm(state.W)).toBeLessThan(1e-6);
    expect(norm(state.H)).toBeLessThan(1e-6);
  });
});
