// The GPU ufm trainer against the float64 reference trainer: same seeded
// start, same steps; a batch of mixed configurations; divergence freezing.

import { expect, test } from 'vitest';

import { trainUfmReference } from '../src/reference/ufm';
import type { UfmTrainConfig } from '../src/train/ufm';
import { f32FromBase64 } from '../src/util/base64';
import { describeGpu } from './harness/gpu';
import { expectOptimum, ORACLE_CASES } from './support/oracle';

function ufm(overrides: Partial<UfmTrainConfig>): UfmTrainConfig {
  return {
    K: 3,
    d: 4,
    countsPerClass: [4, 4, 4],
    loss: { kind: 'ce' },
    positive: false,
    lambdaW: 5e-3,
    lambdaH: 5e-3,
    lambdaB: 0,
    lr: 0.5,
    optimizer: { kind: 'gd' },
    schedule: { kind: 'constant' },
    steps: 200,
    seed: 1,
    initScale: 0.5,
    ...overrides,
  };
}

function maxRelativeGap(gpu: Float32Array, ref: Float64Array): number {
  const scale = Math.max(...Array.from(ref, Math.abs));
  let worst = 0;
  ref.forEach((r, i) => {
    worst = Math.max(worst, Math.abs(gpu[i]! - r) / scale);
  });
  return worst;
}

describeGpu('ufm training on the GPU', { compat: true }, (gpu) => {
  test('follows the float64 trainer, step for step, for every loss', async () => {
    const configs = [
      ufm({}),
      ufm({ loss: { kind: 'ls', alpha: 0.1 }, seed: 2 }),
      ufm({ loss: { kind: 'mse' }, seed: 3 }),
      ufm({ positive: true, seed: 4 }),
      ufm({ K: 4, d: 6, countsPerClass: [3, 2, 4, 3], lambdaB: 0.01, seed: 5 }),
      ufm({ optimizer: { kind: 'momentum', beta: 0.9 }, lr: 0.05, seed: 6 }),
      ufm({
        optimizer: { kind: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
        lr: 0.01,
        lrH: 0.01,
        seed: 7,
      }),
      ufm({ schedule: { kind: 'step', every: 50, factor: 0.5 }, seed: 8 }),
      ufm({
        schedule: { kind: 'cosine', totalSteps: 200 },
        positive: true,
        seed: 9,
      }),
    ];
    const results = await gpu.run('trainUfm', { configs });
    configs.forEach((c, b) => {
      const ref = trainUfmReference(c);
      const r = results[b]!;
      expect(r.divergedAtStep).toBeNull();
      // Float32 rounding of each step (a few ulps of the parameters) adds
      // up over 200 contracting steps; 1e-4 of the largest entry is far above
      // that and far below the gap a wrong gradient or step leaves.
      expect(maxRelativeGap(f32FromBase64(r.W), ref.W)).toBeLessThan(1e-4);
      expect(maxRelativeGap(f32FromBase64(r.H), ref.H)).toBeLessThan(1e-4);
      expect(r.trajectory.at(-1)?.step).toBe(c.steps);
    });
  });

  // Every closed-form case of science.md §3 at once: 15 configurations of
  // different K, d, n, λ, loss and sign constraint in one batch. (Plain
  // gradient descent reaches them too: test/ufmReference.test.ts shows it
  // for the float64 trainer, which the GPU follows step for step above.)
  test(
    'reaches the closed-form optimum of every oracle case',
    { timeout: 900_000 },
    async () => {
      const configs = ORACLE_CASES.map((c) =>
        ufm({
          K: c.K,
          d: c.d,
          countsPerClass: Array.from({ length: c.K }, () => c.n),
          lambdaW: c.lambdaW,
          lambdaH: c.lambdaH,
          loss: c.loss,
          positive: c.positive,
          // Heavy-ball momentum at a tenth of the feature step converges in
          // 2 000 steps where plain gradient descent needs ~10^4.
          optimizer: { kind: 'momentum', beta: 0.9 },
          lrH: 0.1 * c.K * c.n * 0.5,
          steps: 2_000,
        }),
      );
      const results = await gpu.run('trainUfm', { configs });
      ORACLE_CASES.forEach((c, b) => {
        const r = results[b]!;
        expect(r.divergedAtStep).toBeNull();
        expectOptimum(
          {
            W: f32FromBase64(r.W),
            H: f32FromBase64(r.H),
            b: f32FromBase64(r.b),
            labels: configs[b]!.countsPerClass.flatMap((n, k) =>
              Array<number>(n).fill(k),
            ),
          },
          c,
          r.trajectory.at(-1),
        );
        // The streamed collapse metrics at the optimum (science.md §3–4).
        const collapse = r.trajectory.at(-1)!.collapse!;
        expect(collapse.nc1, c.name).toBeLessThan(1e-6);
        expect(collapse.nc2!.etfDistance, c.name).toBeLessThan(1e-3);
        expect(collapse.nc4, c.name).toBe(0);
      });
    },
  );

  test('trains 256 configurations together exactly as each alone', async () => {
    const losses = [
      { kind: 'ce' as const },
      { kind: 'ls' as const, alpha: 0.05 },
      { kind: 'ls' as const, alpha: 0.3 },
      { kind: 'mse' as const },
    ];
    const configs = Array.from({ length: 256 }, (_, i) =>
      ufm({
        K: 2 + (i % 4),
        d: 2 + (i % 5),
        countsPerClass: Array.from(
          { length: 2 + (i % 4) },
          (_, k) => 2 + ((i + k) % 3),
        ),
        loss: losses[i % 4]!,
        positive: i % 7 === 0,
        lambdaW: 1e-3 * (1 + (i % 6)),
        lambdaH: 1e-3 * (1 + (i % 5)),
        lr: 0.1 + 0.05 * (i % 3),
        steps: 40,
        seed: 1000 + i,
      }),
    );
    const together = await gpu.run('trainUfm', { configs });
    for (const i of [0, 37, 101, 255]) {
      const [alone] = await gpu.run('trainUfm', { configs: [configs[i]!] });
      // Same kernels and the same summation order inside each configuration:
      // padding only adds exact zeros, so the results agree bit for bit.
      expect(together[i]!.W, `configuration ${i}`).toBe(alone!.W);
      expect(together[i]!.H, `configuration ${i}`).toBe(alone!.H);
      expect(together[i]!.b, `configuration ${i}`).toBe(alone!.b);
    }
  });

  // With nonnegative features and a free bias, K = 2 training sends one
  // class's features to exactly 0 (the bias carries its margin): the result
  // must say so. A K = 3 run from the same kind of start stays healthy.
  test('flags a class whose features died', async () => {
    const configs = [
      ufm({
        K: 2,
        d: 2,
        countsPerClass: [5, 5],
        lambdaW: 2e-3,
        lambdaH: 8e-3,
        positive: true,
        steps: 500,
      }),
      ufm({ positive: true, steps: 500 }),
    ];
    const [dead, healthy] = await gpu.run('trainUfm', { configs });
    expect(dead!.deadClasses).toEqual([1]);
    expect(healthy!.deadClasses).toEqual([]);
  });

  test('freezes a diverging configuration at its step and trains the rest', async () => {
    const configs = [
      ufm({ seed: 11 }),
      ufm({ lr: 1e4, seed: 12 }),
      ufm({ seed: 13 }),
    ];
    const results = await gpu.run('trainUfm', { configs });
    expect(results[1]!.divergedAtStep).not.toBeNull();
    expect(results[1]!.divergedAtStep).toBeLessThan(configs[1]!.steps);
    for (const b of [0, 2]) {
      expect(results[b]!.divergedAtStep).toBeNull();
      const ref = trainUfmReference(configs[b]!);
      expect(maxRelativeGap(f32FromBase64(results[b]!.W), ref.W)).toBeLessThan(
        1e-4,
      );
    }
  });
});
