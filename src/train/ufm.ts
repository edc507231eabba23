// Trains a batch of unconstrained-features-model configurations on the GPU
// (science.md §2), all in the same dispatches: per step the fused loss, the
// loss totals and divergence check, the three gradients (two matrix products
// and a class sum) and the three optimizer updates. Nothing is read back
// during training except the K-sized totals at the logged steps.

import { applyLabelNoise, type NoiseSpec } from '../data/noise';
import type { Runtime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { collapseMetrics, type CollapseMetrics } from '../metrics/collapse';
import { initialUfmState } from '../reference/ufm';
import {
  batchSteps,
  createFreeFeatureBlocks,
  padded,
  releaseBlock,
  trainFreeFeatures,
  trajectoryMetrics,
  trajectoryPoints,
  type TrainingSettings,
  type TrajectoryPoint,
} from './batch';

export interface UfmTrainConfig extends TrainingSettings {
  /** Examples per class; equal counts give the balanced model. */
  countsPerClass: number[];
  /** Label noise: the features are trained on the observed labels, and the
   * final metrics measure memorization against the true ones. */
  noise?: NoiseSpec | null;
}

export interface UfmResult {
  /** K×d */
  W: Float32Array;
  /** d×N */
  H: Float32Array;
  /** K */
  b: Float32Array;
  /** The labels trained on (observed), and the true ones. */
  labels: Uint32Array;
  trueLabels: Uint32Array;
  /** Fraction of labels the noise flipped (0 without noise). */
  flipRate: number;
  /** Collapse metrics, memorization and dilation at the end (null if the
   * run diverged or metrics were turned off). */
  metrics: CollapseMetrics | null;
  trajectory: TrajectoryPoint[];
  /** The step whose loss was first NaN or ±Inf, or null. */
  divergedAtStep: number | null;
  /** Classes whose mean feature is (numerically) zero. */
  deadClasses: number[];
}

function deadClasses(
  H: Float32Array,
  labels: Uint32Array,
  K: number,
  d: number,
): number[] {
  const N = labels.length;
  const meanNorm = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let sq = 0;
    for (let i = 0; i < d; i++) {
      let sum = 0;
      let count = 0;
      for (let n = 0; n < N; n++) {
        if (labels[n] === k) {
          sum += H[i * N + n]!;
          count += 1;
        }
      }
      sq += (sum / Math.max(count, 1)) ** 2;
    }
    meanNorm[k] = Math.sqrt(sq);
  }
  const largest = Math.max(...meanNorm);
  return [...meanNorm.keys()].filter(
    (k) => meanNorm[k]! <= 1e-6 * largest || largest === 0,
  );
}

/**
 * Trains every configuration for the same number of steps in one stream of
 * batched dispatches. Each configuration starts from the same seeded state
 * as the float64 reference trainer (src/reference/ufm.ts).
 */
export async function trainUfmBatch(
  rt: Runtime,
  configs: readonly UfmTrainConfig[],
  onProgress?: (step: number, steps: number) => void,
  options: { metrics?: boolean } = {},
): Promise<UfmResult[]> {
  const B = configs.length;
  const steps = batchSteps('trainUfmBatch', configs);

  const states = configs.map((c) => initialUfmState(c));
  const Ns = states.map((s) => s.labels.length);
  // The start is drawn as without noise; only the labels trained on change.
  const draws = configs.map((c, b) => {
    const truth = Uint32Array.from(states[b]!.labels);
    if (!c.noise) return { truth, observed: truth, flipRate: 0 };
    const { observed, flipRate } = applyLabelNoise(truth, c.K, c.noise);
    return { truth, observed, flipRate };
  });
  const KMAX = Math.max(...configs.map((c) => c.K));
  const DMAX = Math.max(...configs.map((c) => c.d));
  const NMAX = Math.max(...Ns);

  const lossConfigs = configs.map((c, b) => ({
    K: c.K,
    d: c.d,
    N: Ns[b]!,
    loss: c.loss,
    gradScale: 1 / Ns[b]!,
  }));
  const W0 = padded(B, KMAX, DMAX, (b, k, i) =>
    k < configs[b]!.K && i < configs[b]!.d
      ? states[b]!.W[k * configs[b]!.d + i]
      : 0,
  );
  const H0 = padded(B, DMAX, NMAX, (b, i, n) =>
    i < configs[b]!.d && n < Ns[b]! ? states[b]!.H[i * Ns[b]! + n] : 0,
  );
  // The bias is [B, KMAX, 1]: the layout of its gradient, a class sum.
  const b0 = padded(B, KMAX, 1, (b, k) =>
    k < configs[b]!.K ? states[b]!.b[k] : 0,
  );
  const labelData = new Uint32Array(B * NMAX);
  const weightData = new Float32Array(B * NMAX);
  draws.forEach(({ observed }, b) => {
    labelData.set(observed, b * NMAX);
    weightData.fill(1, b * NMAX, b * NMAX + Ns[b]!);
  });

  const { W, H, bias } = createFreeFeatureBlocks(
    rt,
    configs,
    { W: W0, H: H0, b: b0 },
    { KMAX, DMAX, N: NMAX },
    (b) => Ns[b]!,
  );
  const labels = rt.upload(labelData, [B, 1, NMAX], 'u32');
  const weights = rt.upload(weightData, [B, 1, NMAX], 'f32');
  const zeroLabels = rt.zeros([1, 1, NMAX], 'u32');
  const status = rt.zeros([B, 1, 1], 'u32');
  // For the collapse metrics: padding columns carry label KMAX (excluded).
  const metricLabels =
    options.metrics === false
      ? null
      : rt.upload(
          Uint32Array.from(labelData, (y, i) =>
            i % NMAX < Ns[Math.floor(i / NMAX)]! ? y : KMAX,
          ),
          [B, 1, NMAX],
          'u32',
        );

  const trajectories: TrajectoryPoint[][] = configs.map(() => []);
  const record = async (step: number, totals: Tensor<'f32'>) => {
    const points = await trajectoryPoints(
      rt,
      step,
      totals,
      W.params,
      configs,
      Ns,
    );
    const metrics = metricLabels
      ? await collapseMetrics(rt, {
          H: H.params,
          labels: metricLabels,
          K: KMAX,
          W: W.params,
          bias: bias.params,
          fullCovariance: false,
          sizes: configs,
        })
      : null;
    points.forEach((point, b) =>
      trajectories[b]!.push(
        metrics
          ? { ...point, collapse: trajectoryMetrics(metrics[b]!) }
          : point,
      ),
    );
  };

  await trainFreeFeatures(
    rt,
    { W, H, bias, labels, weights, zeroLabels, status, lossConfigs },
    steps,
    {
      record: async (step, totals) => {
        await record(step, totals);
        onProgress?.(step, steps);
      },
    },
  );

  // The final metrics, with the true labels for memorization and dilation.
  let finalMetrics: CollapseMetrics[] | null = null;
  if (metricLabels) {
    const truth = rt.upload(
      Uint32Array.from({ length: B * NMAX }, (_, i) => {
        const b = Math.floor(i / NMAX);
        const n = i % NMAX;
        return n < Ns[b]! ? draws[b]!.truth[n]! : KMAX;
      }),
      [B, 1, NMAX],
      'u32',
    );
    finalMetrics = await collapseMetrics(rt, {
      H: H.params,
      labels: metricLabels,
      trueLabels: truth,
      K: KMAX,
      W: W.params,
      bias: bias.params,
      fullCovariance: false,
      sizes: configs,
    });
    truth.release();
  }
  const [Wf, Hf, bf, statusF] = await Promise.all([
    rt.download(W.params),
    rt.download(H.params),
    rt.download(bias.params),
    rt.download(status),
  ]);
  [W, H, bias].forEach(releaseBlock);
  for (const t of [labels, weights, zeroLabels, status]) t.release();
  metricLabels?.release();

  return configs.map((c, b) => {
    const N = Ns[b]!;
    const Wb = new Float32Array(c.K * c.d);
    for (let k = 0; k < c.K; k++) {
      for (let i = 0; i < c.d; i++)
        Wb[k * c.d + i] = Wf[(b * KMAX + k) * DMAX + i]!;
    }
    const Hb = new Float32Array(c.d * N);
    for (let i = 0; i < c.d; i++) {
      for (let n = 0; n < N; n++)
        Hb[i * N + n] = Hf[(b * DMAX + i) * NMAX + n]!;
    }
    const bb = bf.slice(b * KMAX, b * KMAX + c.K);
    const { observed, truth, flipRate } = draws[b]!;
    const divergedAtStep = statusF[b]! === 0 ? null : statusF[b]! - 1;
    return {
      W: Wb,
      H: Hb,
      b: bb,
      labels: observed,
      trueLabels: truth,
      flipRate,
      metrics: divergedAtStep === null ? (finalMetrics?.[b] ?? null) : null,
      trajectory: trajectories[b]!,
      divergedAtStep,
      deadClasses: deadClasses(Hb, observed, c.K, c.d),
    };
  });
}
