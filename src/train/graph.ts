// Trains a batch of graph-model configurations (science.md §7) that share
// one data set — training and test examples, the observed labels and a
// symmetric k-NN graph of the inputs — in the same dispatches. Per step:
// the fused loss on the training columns (test columns carry weight 0), the
// totals and divergence check, ∂W, ∂H, ∂b as for the ufm, the coupling term
// (γ/N_train)·H·L added to ∂H by kernels/graph.wgsl, and the optimizer
// updates. At the end: the test accuracy of the test examples' features and
// the collapse metrics, memorization and dilation of the training features.

import template from '../../kernels/graph.wgsl?raw';

import { InvalidArgumentError } from '../gpu/errors';
import type { KernelSource } from '../gpu/kernels';
import type { Runtime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { UniformWriter } from '../gpu/uniforms';
import type { NeighbourGraph } from '../kernels/knn';
import { collapseMetrics, type CollapseMetrics } from '../metrics/collapse';
import { initialGraphParams } from '../reference/graph';
import {
  batchSteps,
  createFreeFeatureBlocks,
  padded,
  releaseBlock,
  trainFreeFeatures,
  trajectoryPoints,
  type TrainingSettings,
  type TrajectoryPoint,
} from './batch';

export const graphKernel: KernelSource = { name: 'graph', template };

const WG = 64;

/** What the configurations of a batch share. */
export interface GraphData {
  /** All examples; the first `trainCount` are the training examples. */
  N: number;
  trainCount: number;
  /** Observed labels of every example (test examples: their true label);
   * a configuration may bring its own. */
  labels: Uint32Array;
  /** True labels of every example. */
  trueLabels: Uint32Array;
  graph: NeighbourGraph;
}

export interface GraphTrainConfig extends TrainingSettings {
  /** γ ≥ 0: the coupling's strength (0 is the ufm). */
  gamma: number;
  /** This configuration's observed labels (another noise draw), if not
   * the data's. */
  labels?: ArrayLike<number>;
}

export interface GraphResult {
  /** K×d, d×N, K. */
  W: Float32Array;
  H: Float32Array;
  b: Float32Array;
  trajectory: TrajectoryPoint[];
  divergedAtStep: number | null;
  /** Test examples classified as their true label (null if diverged). */
  testAccuracy: number | null;
  /** Metrics of the training features (null if diverged). */
  metrics: CollapseMetrics | null;
}

function checkStability(
  c: GraphTrainConfig,
  index: number,
  trainCount: number,
) {
  // GD on H contracts only while lr_H·(λ_H + γ/N_train·λ_max(L)) < 2, and
  // λ_max(L) ≤ 2 for the normalised Laplacian (science.md §3).
  if (c.optimizer.kind === 'adam') return;
  const lrH = c.lrH ?? trainCount * c.lr;
  const limit =
    c.optimizer.kind === 'momentum' ? 2 * (1 + c.optimizer.beta) : 2;
  const product = lrH * (c.lambdaH + (2 * c.gamma) / trainCount);
  if (product >= limit) {
    throw new InvalidArgumentError(
      `trainGraphBatch: configs[${index}]: lr_H·(λ_H + 2γ/N_train) = ` +
        `${product} ≥ ${limit}: ${c.optimizer.kind} on the features would ` +
        'diverge; lower lrH, gamma or lambdaH',
    );
  }
}

/** Records G += (γ_b/N_train)·H·L for every configuration b. */
async function addCoupling(
  rt: Runtime,
  H: Tensor,
  G: Tensor,
  graphTensors: { index: Tensor; weight: Tensor; degrees: Tensor },
  scales: Tensor,
  degree: number,
): Promise<void> {
  const [B, rows, N] = H.shape;
  const pipeline = await rt.pipeline({
    kernel: graphKernel,
    constants: { WG },
  });
  rt.dispatch({
    label: `graph coupling B=${B} N=${N}`,
    pipeline,
    bindings: [
      H,
      graphTensors.index,
      graphTensors.weight,
      graphTensors.degrees,
      scales,
      G,
      {
        uniform: new UniformWriter()
          .u32(rows)
          .u32(N)
          .u32(degree)
          .u32(B)
          .bytes(),
      },
    ],
    workgroups: [Math.ceil(N / WG), B * rows],
  });
}

export async function trainGraphBatch(
  rt: Runtime,
  data: GraphData,
  configs: readonly GraphTrainConfig[],
  onProgress?: (step: number, steps: number) => void,
): Promise<GraphResult[]> {
  const B = configs.length;
  const steps = batchSteps('trainGraphBatch', configs);
  const { N, trainCount, graph } = data;
  if (!(trainCount >= 1 && trainCount <= N) || graph.N !== N) {
    throw new InvalidArgumentError(
      `trainGraphBatch: ${trainCount} training examples of ${N}, graph of ` +
        `${graph.N} nodes; expected 1 ≤ N_train ≤ N and a graph over all N`,
    );
  }
  configs.forEach((c, i) => checkStability(c, i, trainCount));
  const KMAX = Math.max(...configs.map((c) => c.K));
  const DMAX = Math.max(...configs.map((c) => c.d));
  const starts = configs.map((c) =>
    initialGraphParams(c.K, c.d, N, c.seed, c.initScale),
  );

  const W0 = padded(B, KMAX, DMAX, (b, k, i) =>
    k < configs[b]!.K && i < configs[b]!.d
      ? starts[b]!.W[k * configs[b]!.d + i]
      : undefined,
  );
  const H0 = padded(B, DMAX, N, (b, i, n) =>
    i < configs[b]!.d ? starts[b]!.H[i * N + n] : undefined,
  );
  const b0 = new Float32Array(B * KMAX);
  const { W, H, bias } = createFreeFeatureBlocks(
    rt,
    configs,
    { W: W0, H: H0, b: b0 },
    { KMAX, DMAX, N },
    () => trainCount,
  );

  const labelData = new Uint32Array(B * N);
  const weightData = new Float32Array(B * N);
  const observedOf = (b: number) => configs[b]!.labels ?? data.labels;
  for (let b = 0; b < B; b++) {
    const observed = observedOf(b);
    if (observed.length !== N) {
      throw new InvalidArgumentError(
        `trainGraphBatch: configs[${b}].labels has ${observed.length} ` +
          `labels; expected ${N}`,
      );
    }
    labelData.set(observed, b * N);
    weightData.fill(1, b * N, b * N + trainCount);
  }
  const labels = rt.upload(labelData, [B, 1, N], 'u32');
  const weights = rt.upload(weightData, [B, 1, N], 'f32');
  const zeroLabels = rt.zeros([1, 1, N], 'u32');
  const status = rt.zeros([B, 1, 1], 'u32');
  const graphTensors = {
    index: rt.upload(graph.index, [1, N, graph.degree], 'u32'),
    weight: rt.upload(graph.weight, [1, N, graph.degree], 'f32'),
    degrees: rt.upload(Float32Array.from(graph.degrees), [1, 1, N], 'f32'),
  };
  const scales = rt.upload(
    Float32Array.from(configs, (c) => c.gamma / trainCount),
    [B, 1, 1],
    'f32',
  );
  const lossConfigs = configs.map((c) => ({
    K: c.K,
    d: c.d,
    N,
    loss: c.loss,
    gradScale: 1 / trainCount,
  }));
  const totalWeights = configs.map(() => trainCount);
  const trajectories: TrajectoryPoint[][] = configs.map(() => []);

  try {
    await trainFreeFeatures(
      rt,
      { W, H, bias, labels, weights, zeroLabels, status, lossConfigs },
      steps,
      {
        record: async (step, totals) => {
          const points = await trajectoryPoints(
            rt,
            step,
            totals,
            W.params,
            configs,
            totalWeights,
          );
          points.forEach((p, b) => trajectories[b]!.push(p));
          onProgress?.(step, steps);
        },
        addToFeatureGradient: (gH) =>
          addCoupling(rt, H.params, gH, graphTensors, scales, graph.degree),
      },
    );

    // Metrics of the training columns only: test columns get label K.
    const only = (source: (b: number) => ArrayLike<number>) =>
      Uint32Array.from({ length: B * N }, (_, j) => {
        const n = j % N;
        return n < trainCount ? source(Math.floor(j / N))[n]! : KMAX;
      });
    const metricLabels = rt.upload(only(observedOf), [B, 1, N], 'u32');
    const metricTruth = rt.upload(
      only(() => data.trueLabels),
      [B, 1, N],
      'u32',
    );
    const metrics = await collapseMetrics(rt, {
      H: H.params,
      labels: metricLabels,
      trueLabels: metricTruth,
      K: KMAX,
      W: W.params,
      bias: bias.params,
      fullCovariance: false,
      sizes: configs,
    });
    metricLabels.release();
    metricTruth.release();

    const [Wf, Hf, bf, statusF] = await Promise.all([
      rt.download(W.params),
      rt.download(H.params),
      rt.download(bias.params),
      rt.download(status),
    ]);
    return configs.map((c, b) => {
      const { K, d } = c;
      const Wb = new Float32Array(K * d);
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < d; i++)
          Wb[k * d + i] = Wf[(b * KMAX + k) * DMAX + i]!;
      }
      const Hb = Hf.slice(b * DMAX * N, (b * DMAX + d) * N);
      const bb = bf.slice(b * KMAX, b * KMAX + K);
      const divergedAtStep = statusF[b]! === 0 ? null : statusF[b]! - 1;
      // Test accuracy: argmax_k (w_k·h + b_k) against the true label.
      let correct = 0;
      for (let n = trainCount; n < N; n++) {
        let best = 0;
        let bestScore = -Infinity;
        for (let k = 0; k < K; k++) {
          let score = bb[k]!;
          for (let i = 0; i < d; i++) score += Wb[k * d + i]! * Hb[i * N + n]!;
          if (score > bestScore) {
            bestScore = score;
            best = k;
          }
        }
        if (best === data.trueLabels[n]) correct += 1;
      }
      const diverged = divergedAtStep !== null;
      return {
        W: Wb,
        H: Hb,
        b: bb,
        trajectory: trajectories[b]!,
        divergedAtStep,
        testAccuracy:
          diverged || N === trainCount ? null : correct / (N - trainCount),
        metrics: diverged ? null : metrics[b]!,
      };
    });
  } finally {
    [W, H, bias].forEach(releaseBlock);
    for (const t of [labels, weights, zeroLabels, status, scales]) t.release();
    for (const t of Object.values(graphTensors)) t.release();
  }
}
