// The graph-coupled feature model (science.md §7): its float64 gradient
// against finite differences, the GPU trainer against the float64 trainer
// step for step, and what it measures on the committed Fashion-MNIST
// fixture (classes 0 and 1) under label noise.

import { describe, expect, test } from 'vitest';

import { loadFashionMnist } from '../src/data/fashionMnist';
import { gaussianMixture } from '../src/data/mixtures';
import { applyLabelNoise } from '../src/data/noise';
import type { NeighbourGraph } from '../src/kernels/knn';
import {
  graphGradients,
  initialGraphParams,
  trainGraphReference,
  type GraphProblem,
} from '../src/reference/graph';
import type { LossSpec } from '../src/reference/losses';
import type { GraphTrainConfig } from '../src/train/graph';
import { f32FromBase64, toBase64, u32FromBase64 } from '../src/util/base64';
import { Random } from '../src/util/random';
import { describeGpu } from './harness/gpu';
import { expectGradient } from './support/gradients';

const FIXTURE = new URL('./fixtures/fashion-mnist-mini/', import.meta.url)
  .pathname;

/** A random symmetric graph with every degree ≥ 1. */
function randomGraph(N: number, seed: number): NeighbourGraph {
  const rng = new Random(seed);
  const sets = Array.from({ length: N }, () => new Set<number>());
  for (let n = 0; n < N; n++) {
    for (let e = 0; e < 3; e++) {
      const m = rng.integer(N);
      if (m === n) continue;
      sets[n]!.add(m);
      sets[m]!.add(n);
    }
    if (sets[n]!.size === 0) {
      const m = (n + 1) % N;
      sets[n]!.add(m);
      sets[m]!.add(n);
    }
  }
  return graphFromSets(sets);
}

function graphFromSets(sets: Array<Set<number>>): NeighbourGraph {
  const N = sets.length;
  const degree = Math.max(...sets.map((s) => s.size));
  const index = new Uint32Array(N * degree).fill(N);
  const weight = new Float32Array(N * degree);
  sets.forEach((set, n) =>
    [...set]
      .sort((a, b) => a - b)
      .forEach((m, s) => {
        index[n * degree + s] = m;
        weight[n * degree + s] = 1;
      }),
  );
  return {
    N,
    degree,
    index,
    weight,
    degrees: Uint32Array.from(sets, (s) => s.size),
  };
}

/** The graph the page built, back as a NeighbourGraph. */
function graphFromPage(g: { index: string; degree: number }, N: number) {
  const index = u32FromBase64(g.index);
  return graphFromSets(
    Array.from(
      { length: N },
      (_, n) =>
        new Set(
          Array.from(index.subarray(n * g.degree, (n + 1) * g.degree)).filter(
            (m) => m < N,
          ),
        ),
    ),
  );
}

describe('graph model gradient (float64)', () => {
  const losses: LossSpec[] = [
    { kind: 'ce' },
    { kind: 'ls', alpha: 0.2 },
    { kind: 'mse' },
  ];
  test.each(losses.map((l) => [l.kind, l] as const))('%s', (_, loss) => {
    const N = 12;
    const problem: GraphProblem = {
      K: 3,
      d: 2,
      N,
      trainCount: 8,
      labels: Array.from({ length: N }, (_, n) => n % 3),
      graph: randomGraph(N, 4),
      gamma: 0.7,
      lambdaW: 1e-2,
      lambdaH: 2e-2,
      lambdaB: 5e-3,
      loss,
    };
    const params = initialGraphParams(3, 2, N, 9, 0.8);
    params.b.set([0.2, -0.1, 0.05]);
    const { W, H, b } = graphGradients(problem, params);
    const objective = () => graphGradients(problem, params).objective;
    expectGradient('W', params.W, W, objective);
    expectGradient('H', params.H, H, objective);
    expectGradient('b', params.b, b, objective);
  });
});

type GraphRun = {
  graph: { index: string; degree: number };
  results: Array<{
    W: string;
    H: string;
    b: string;
    trajectory: Array<{ accuracy: number; loss: number }>;
    divergedAtStep: number | null;
    testAccuracy: number | null;
    metrics: {
      observed: Record<string, unknown>;
      memorization: Record<string, number | string>;
    } | null;
  }>;
};

function config(overrides: Partial<GraphTrainConfig>): GraphTrainConfig {
  return {
    K: 2,
    d: 2,
    loss: { kind: 'ce' },
    positive: false,
    lambdaW: 1e-3,
    lambdaH: 1e-3,
    lambdaB: 0,
    lr: 0.2,
    optimizer: { kind: 'gd' },
    schedule: { kind: 'constant' },
    steps: 100,
    seed: 1,
    initScale: 0.5,
    gamma: 1,
    ...overrides,
  };
}

describeGpu('graph model on the GPU', { compat: true }, (gpu) => {
  test('follows the float64 trainer, step for step', async () => {
    const mixture = gaussianMixture({
      K: 2,
      dim: 5,
      perClass: 20,
      separation: 3,
      seed: 3,
    });
    const N = 40;
    // Interleave the classes so the 30 training examples hold both.
    const order = Array.from({ length: N }, (_, j) => (j % 2) * 20 + (j >> 1));
    const points = new Float32Array(N * 5);
    order.forEach((src, dst) =>
      points.set(mixture.points.subarray(src * 5, src * 5 + 5), dst * 5),
    );
    const truth = Uint32Array.from(order, (src) => mixture.labels[src]!);
    const trainCount = 30;
    const { observed } = applyLabelNoise(truth.subarray(0, trainCount), 2, {
      kind: 'symmetric',
      eta: 0.2,
      seed: 5,
    });
    const labels = Uint32Array.from(truth);
    labels.set(observed);
    const configs = [
      config({}),
      config({ loss: { kind: 'ls', alpha: 0.1 }, gamma: 3, seed: 2 }),
      config({ loss: { kind: 'mse' }, gamma: 0, seed: 3 }),
      config({ K: 2, d: 3, gamma: 0.5, seed: 4 }),
    ];
    const run = (await gpu.run('trainGraph', {
      points: toBase64(points),
      N,
      p: 5,
      k: 4,
      trainCount,
      labels: Array.from(labels),
      trueLabels: Array.from(truth),
      configs: configs.map(({ labels: _, ...c }) => c),
    })) as GraphRun;
    const graph = graphFromPage(run.graph, N);
    configs.forEach((c, b) => {
      const ref = trainGraphReference(
        { ...c, N, trainCount, labels, graph },
        c,
      );
      const r = run.results[b]!;
      expect(r.divergedAtStep).toBeNull();
      const got = { W: f32FromBase64(r.W), H: f32FromBase64(r.H) };
      let scale = 0;
      let worst = 0;
      for (const key of ['W', 'H'] as const) {
        ref[key].forEach((v, i) => {
          scale = Math.max(scale, Math.abs(v));
          worst = Math.max(worst, Math.abs(got[key][i]! - v));
        });
      }
      // As for the ufm: float32 rounding per step over 100 steps stays far
      // below 1e-4 of the largest entry; a wrong coupling term does not.
      expect(worst / scale, `configuration ${b}`).toBeLessThan(1e-4);
    });
  });

  test('refuses a feature step the coupling would make diverge', async () => {
    const mixture = gaussianMixture({
      K: 2,
      dim: 3,
      perClass: 10,
      separation: 3,
      seed: 1,
    });
    // lr_H = N_train·lr = 2 and γ = 5: 2·(1e-3 + 2·5/20) = 1.002 is fine;
    // γ = 20 gives 2·(1e-3 + 2) = 4.002 ≥ 2.
    const run = (gamma: number) =>
      gpu.run('trainGraph', {
        points: toBase64(mixture.points),
        N: 20,
        p: 3,
        k: 3,
        trainCount: 20,
        labels: Array.from(mixture.labels),
        trueLabels: Array.from(mixture.labels),
        configs: [config({ gamma, lr: 0.1, steps: 5 })].map(
          ({ labels: _, ...c }) => c,
        ),
      });
    await expect(run(5)).resolves.toBeDefined();
    await expect(run(20)).rejects.toThrow(
      'trainGraphBatch: configs[0]: lr_H·(λ_H + 2γ/N_train) = 4.002 ≥ 2: ' +
        'gd on the features would diverge; lower lrH, gamma or lambdaH',
    );
  });

  test(
    'on Fashion-MNIST 0/1: γ = 0 is the ufm, γ > 0 gives the test images features',
    { timeout: 900_000 },
    async () => {
      const train = loadFashionMnist({ dir: FIXTURE, split: 'train' });
      const testSet = loadFashionMnist({ dir: FIXTURE, split: 'test' });
      const N = train.N + testSet.N;
      const points = new Float32Array(N * train.dim);
      points.set(train.images);
      points.set(testSet.images, train.N * train.dim);
      const truth = new Uint32Array(N);
      truth.set(train.labels);
      truth.set(testSet.labels, train.N);
      const losses: LossSpec[] = [
        { kind: 'ce' },
        { kind: 'ls', alpha: 0.1 },
        { kind: 'mse' },
      ];
      // One batch: every η (its own noise draw) × loss × γ.
      const draws = [0, 0.2, 0.4].map((eta) => {
        const { observed, flipRate } = applyLabelNoise(train.labels, 2, {
          kind: 'symmetric',
          eta,
          seed: 11,
        });
        const labels = Uint32Array.from(truth);
        labels.set(observed);
        return { eta, flipRate, labels };
      });
      const grid = draws.flatMap((draw) =>
        losses.flatMap((loss) =>
          [0, 1].map((gamma) => ({ draw, loss, gamma })),
        ),
      );
      const configs = grid.map(({ draw, loss, gamma }) =>
        config({
          loss,
          gamma,
          labels: draw.labels,
          lr: 0.5,
          lrH: 0.1 * train.N * 0.5,
          optimizer: { kind: 'momentum', beta: 0.9 },
          steps: 400,
        }),
      );
      const run = (await gpu.run('trainGraph', {
        points: toBase64(points),
        N,
        p: train.dim,
        k: 10,
        trainCount: train.N,
        labels: Array.from(truth),
        trueLabels: Array.from(truth),
        configs: configs.map((c) => ({ ...c, labels: Array.from(c.labels!) })),
      })) as GraphRun;
      const rows = run.results.map((r, b) => {
        const { draw, loss, gamma } = grid[b]!;
        expect(r.divergedAtStep).toBeNull();
        const m = r.metrics!.memorization;
        const trainAccuracy = r.trajectory.at(-1)!.accuracy;
        if (gamma === 0) {
          // The ufm: every training label fitted (noisy ones memorized),
          // and the test features, pulled only by weight decay, carry no
          // information: chance accuracy on the balanced test set.
          expect(trainAccuracy).toBe(1);
          expect(Math.abs(r.testAccuracy! - 0.5)).toBeLessThanOrEqual(0.05);
          if (draw.eta > 0) expect(Number(m.memorization)).toBeGreaterThan(0);
          // …and the clean examples of each class collapse onto their mean.
          expect(Number(m.nc1Clean)).toBeLessThan(1e-3);
        } else if (draw.eta === 0) {
          // The coupling carries the labels to the test images.
          expect(r.testAccuracy!).toBeGreaterThan(0.8);
        }
        return (
          `η=${draw.eta} (flips ${draw.flipRate.toFixed(3)}) ${loss.kind}` +
          `${loss.kind === 'ls' ? `(${loss.alpha})` : ''} γ=${gamma}: ` +
          `train acc ${trainAccuracy.toFixed(3)}, test acc ` +
          `${r.testAccuracy!.toFixed(3)}, memorization ` +
          `${Number(m.relativeMemorization).toFixed(3)}, dilation ` +
          `${Number(m.relativeDilation).toFixed(3)}, NC1 clean ` +
          `${Number(m.nc1Clean).toExponential(1)}`
        );
      });
      console.info(rows.join('\n'));
    },
  );
});
