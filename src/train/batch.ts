// Pieces shared by the batched trainers (ufm and md): padding host arrays to
// the batch's common sizes, optimizer blocks on the GPU, and the per-step
// loss totals turned into trajectory points.

import { InvalidArgumentError } from '../gpu/errors';
import type { Runtime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { classSums } from '../kernels/classSums';
import {
  LOSS_STATS,
  lossForward,
  lossTotals,
  type LossConfig,
} from '../kernels/losses';
import { matmul } from '../kernels/matmul';
import type { LossSpec } from '../reference/losses';
import type { CollapseMetrics } from '../metrics/collapse';
import type { GroupingMetrics } from '../metrics/finalize';
import {
  checkFinite,
  optimizerStep,
  packOptimizerConfigs,
  type BlockOptimizer,
  type BlockState,
  type OptimizerSpec,
  type ScheduleSpec,
} from '../kernels/optimizer';

/** What every model's run configuration holds (src/train/config.ts). */
export interface TrainingSettings {
  K: number;
  d: number;
  loss: LossSpec;
  /** Nonnegative features (projected after each step). */
  positive: boolean;
  lambdaW: number;
  lambdaH: number;
  lambdaB: number;
  /** Step size of W and b. */
  lr: number;
  /** Step size of a feature per unit of its weight; N·lr by default. */
  lrH?: number;
  optimizer: OptimizerSpec;
  schedule: ScheduleSpec;
  steps: number;
  seed: number;
  /** Scale of the random start. */
  initScale: number;
}

export interface TrajectoryPoint {
  step: number;
  /** Mean loss, mean excess loss (LS), train accuracy on the labels. */
  loss: number;
  excessLoss: number;
  accuracy: number;
  /** Mean margin z_y − max_{j≠y} z_j over the examples. */
  margin: number;
  /** √(mean ‖h‖²) over the examples. */
  featureNorm: number;
  /** √(‖W‖²/K): the root mean square of the classifier rows' norms. */
  classifierNorm: number;
  /** Collapse metrics of the features, grouped by the labels (ufm runs). */
  collapse?: TrajectoryMetrics;
}

/** The collapse metrics a trajectory keeps at each logged step. */
export type TrajectoryMetrics = Pick<
  GroupingMetrics,
  'nc1' | 'nc1Method' | 'nc2' | 'nc3' | 'nc4' | 'cdnv' | 'traceRatio'
>;

export function trajectoryMetrics(m: CollapseMetrics): TrajectoryMetrics {
  const { nc1, nc1Method, nc2, nc3, nc4, cdnv, traceRatio } = m.observed;
  return { nc1, nc1Method, nc2, nc3, nc4, cdnv, traceRatio };
}

/** 0, 1, 2, 4, 8, … and the last step: where the trajectory is recorded. */
export function logSpacedSteps(steps: number): number[] {
  const points = new Set<number>([0]);
  for (let s = 1; s < steps; s *= 2) points.add(s);
  points.add(steps);
  return [...points].sort((a, b) => a - b);
}

/** The common number of steps of a batch; a mixed batch is refused. */
export function batchSteps(
  op: string,
  configs: ReadonlyArray<{ steps: number }>,
): number {
  if (configs.length === 0)
    throw new InvalidArgumentError(`${op}: no configurations`);
  const steps = configs[0]!.steps;
  configs.forEach((c, i) => {
    if (c.steps !== steps) {
      throw new InvalidArgumentError(
        `${op}: configs[${i}].steps = ${c.steps}, but a batch trains ` +
          `for one number of steps (configs[0].steps = ${steps})`,
      );
    }
  });
  return steps;
}

/** Rows of the batch, padded: entry (b, r, c) of [B, rows, cols]. */
export function padded(
  B: number,
  rows: number,
  cols: number,
  fill: (b: number, r: number, c: number) => number | undefined,
): Float32Array {
  const out = new Float32Array(B * rows * cols);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++)
        out[(b * rows + r) * cols + c] = fill(b, r, c) ?? 0;
    }
  }
  return out;
}

/** How one parameter block of a configuration is stepped. */
export function blockOptimizer(
  c: { optimizer: OptimizerSpec; schedule: ScheduleSpec },
  lr: number,
  lambda: number,
  positive = false,
): BlockOptimizer {
  return { optimizer: c.optimizer, schedule: c.schedule, lr, lambda, positive };
}

/** Parameters, zeroed moments and the packed optimizer of each config. */
export function createBlock(
  rt: Runtime,
  data: Float32Array,
  shape: [number, number, number],
  optimizers: readonly BlockOptimizer[],
): BlockState {
  return {
    params: rt.upload(data, shape, 'f32'),
    moment1: rt.zeros(shape, 'f32'),
    moment2: rt.zeros(shape, 'f32'),
    configs: rt.upload(
      packOptimizerConfigs(optimizers),
      [optimizers.length, 1, 12],
      'u32',
    ),
  };
}

/**
 * The W [B, KMAX, DMAX], H [B, DMAX, N] and bias [B, KMAX, 1] blocks of a
 * free-features batch: W and b step at lr, the features at lr_H (N·lr by
 * default, N the examples that carry the loss), projected when positive.
 */
export function createFreeFeatureBlocks(
  rt: Runtime,
  configs: readonly TrainingSettings[],
  start: { W: Float32Array; H: Float32Array; b: Float32Array },
  sizes: { KMAX: number; DMAX: number; N: number },
  lossExamples: (b: number) => number,
): { W: BlockState; H: BlockState; bias: BlockState } {
  const B = configs.length;
  const { KMAX, DMAX, N } = sizes;
  const pick = (block: 'W' | 'H' | 'b') =>
    configs.map((c, b) =>
      block === 'W'
        ? blockOptimizer(c, c.lr, c.lambdaW)
        : block === 'b'
          ? blockOptimizer(c, c.lr, c.lambdaB)
          : blockOptimizer(
              c,
              c.lrH ?? lossExamples(b) * c.lr,
              c.lambdaH,
              c.positive,
            ),
    );
  return {
    W: createBlock(rt, start.W, [B, KMAX, DMAX], pick('W')),
    H: createBlock(rt, start.H, [B, DMAX, N], pick('H')),
    bias: createBlock(rt, start.b, [B, KMAX, 1], pick('b')),
  };
}

export function releaseBlock(block: BlockState): void {
  for (const t of Object.values(block)) (t as Tensor).release();
}

/**
 * Records the trajectory point of every configuration at `step`: the loss
 * totals [B, LOSS_STATS, 1] (weighted sums, divided by each configuration's
 * total weight) and the classifier W [B, KMAX, DMAX] (padded with zeros)
 * are read back, K-sized per configuration.
 */
export async function trajectoryPoints(
  rt: Runtime,
  step: number,
  totals: Tensor<'f32'>,
  W: Tensor<'f32'>,
  configs: ReadonlyArray<{ K: number }>,
  totalWeights: readonly number[],
): Promise<TrajectoryPoint[]> {
  const [t, w] = await Promise.all([rt.download(totals), rt.download(W)]);
  const S = LOSS_STATS;
  const rowsPerConfig = W.rows * W.cols;
  return totalWeights.map((N, b) => {
    let normSq = 0;
    for (let i = b * rowsPerConfig; i < (b + 1) * rowsPerConfig; i++)
      normSq += w[i]! ** 2;
    return {
      step,
      loss: t[b * S]! / N,
      excessLoss: t[b * S + 1]! / N,
      accuracy: t[b * S + 2]! / N,
      margin: t[b * S + 3]! / N,
      featureNorm: Math.sqrt(t[b * S + 4]! / N),
      classifierNorm: Math.sqrt(normSq / configs[b]!.K),
    };
  });
}

/** The GPU state of a batch of free-features models (ufm, graph). */
export interface FreeFeatureBatch {
  W: BlockState;
  H: BlockState;
  bias: BlockState;
  labels: Tensor<'u32'>;
  /** Per column: its weight in the loss (0 for padding and test columns). */
  weights: Tensor<'f32'>;
  zeroLabels: Tensor<'u32'>;
  status: Tensor<'u32'>;
  lossConfigs: LossConfig[];
}

/**
 * Runs steps 0…`steps` of full-batch training: the fused loss and its
 * totals (handed to `record` at the logged steps), the divergence check,
 * ∂W = dZ·Hᵀ, ∂H = Wᵀ·dZ, ∂b = Σ_n dZ (dZ already carries its scale), an
 * optional extra term added to ∂H (the graph coupling), and the three
 * optimizer updates. Nothing is read back except in `record`.
 */
export async function trainFreeFeatures(
  rt: Runtime,
  batch: FreeFeatureBatch,
  steps: number,
  hooks: {
    record: (step: number, totals: Tensor<'f32'>) => Promise<void>;
    addToFeatureGradient?: (gH: Tensor<'f32'>) => Promise<void>;
  },
): Promise<void> {
  const { W, H, bias, status, zeroLabels } = batch;
  const logged = new Set(logSpacedSteps(steps));
  const inputs = {
    W: W.params,
    H: H.params,
    bias: bias.params,
    labels: batch.labels,
    weights: batch.weights,
  };
  for (let step = 0; step <= steps; step++) {
    const { dZ, stats } = await lossForward(rt, inputs, batch.lossConfigs);
    const totals = await lossTotals(rt, stats, zeroLabels);
    stats.release();
    if (logged.has(step)) await hooks.record(step, totals);
    if (step === steps) {
      totals.release();
      dZ.release();
      return;
    }
    await checkFinite(rt, totals, status, step);
    totals.release();
    const gW = await matmul(rt, dZ, H.params, { transB: true });
    const gH = await matmul(rt, W.params, dZ, { transA: true });
    const gb = await classSums(rt, dZ, zeroLabels, 1);
    gb.counts.release();
    dZ.release();
    await hooks.addToFeatureGradient?.(gH);
    await optimizerStep(rt, W, gW, status, step);
    await optimizerStep(rt, H, gH, status, step);
    await optimizerStep(rt, bias, gb.sums, status, step);
    for (const t of [gW, gH, gb.sums]) t.release();
  }
}
