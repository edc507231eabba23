// The md model's batch on the GPU (science.md §7): its configuration type,
// the padded layout, the constant point labels and weights, the optimizer
// blocks, and one forward and backward pass. src/train/md.ts runs the steps
// and finishes the results.

import type { Runtime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { classSums } from '../kernels/classSums';
import { lossForward, lossTotals, type LossConfig } from '../kernels/losses';
import { matmul } from '../kernels/matmul';
import {
  createMdLayout,
  mdBackward,
  mdPointCount,
  mdPoints,
  type MdKernelConfig,
  type MdLayout,
} from '../kernels/md';
import type { BlockState } from '../kernels/optimizer';
import { mdGroups, type MdParams, type MdProblem } from '../reference/md';
import {
  blockOptimizer,
  createBlock,
  padded,
  releaseBlock,
  type TrainingSettings,
} from './batch';

export interface MdTrainConfig extends TrainingSettings {
  /** counts[t][j]: examples of true class t observed as j (K×K). */
  counts: number[][];
  /** λ in r_t = λ·m_t (0 is the ufm). */
  coupling: number;
  /** ε of the norm smoothed at 0 in m_t. */
  smoothing: number;
  /** Monte Carlo test samples per class when K > 2. */
  testSamples: number;
}

export function mdProblemOf(c: MdTrainConfig): MdProblem {
  return {
    K: c.K,
    d: c.d,
    counts: c.counts,
    coupling: c.coupling,
    lambdaW: c.lambdaW,
    lambdaH: c.lambdaH,
    lambdaB: c.lambdaB,
    loss: c.loss,
    smoothing: c.smoothing,
  };
}

export function totalCount(c: MdTrainConfig): number {
  return c.counts.flat().reduce((a, n) => a + n, 0);
}

function blockOptimizers(c: MdTrainConfig) {
  return {
    W: blockOptimizer(c, c.lr, c.lambdaW),
    b: blockOptimizer(c, c.lr, c.lambdaB),
    // The features' weight decay is in mdBackward's gradient (it acts on
    // the points, each with its weight), so the block adds none.
    F: blockOptimizer(c, c.lrH ?? totalCount(c) * c.lr, 0, c.positive),
  };
}

function kernelConfig(c: MdTrainConfig): MdKernelConfig {
  return {
    K: c.K,
    d: c.d,
    groups: mdGroups(mdProblemOf(c)),
    coupling: c.coupling,
    smoothing: c.smoothing,
    lambdaH: c.lambdaH,
  };
}

/** A batch on the GPU: layout, constant point labels and weights, blocks. */
export interface MdBatch {
  layout: MdLayout;
  lossConfigs: LossConfig[];
  kernelConfigs: MdKernelConfig[];
  W: BlockState;
  bias: BlockState;
  /** F = [C | G]: column k the centre c_k, column KMAX + q the group g_q. */
  F: BlockState;
  labels: Tensor<'u32'>;
  weights: Tensor<'f32'>;
  zeroLabels: Tensor<'u32'>;
}

export function createMdBatch(
  rt: Runtime,
  configs: readonly MdTrainConfig[],
  starts: readonly MdParams[],
): MdBatch {
  const B = configs.length;
  const kernelConfigs = configs.map(kernelConfig);
  const layout = createMdLayout(rt, kernelConfigs);
  const { KMAX, DMAX, QMAX, PMAX } = layout;
  const CMAX = KMAX + QMAX;

  // Labels and weights of the points: clean points of class k carry label
  // k and an equal share of n_kk; group q carries its observed class and
  // count. Padding points have weight 0 (inactive in the loss).
  const labelData = new Uint32Array(B * PMAX);
  const weightData = new Float32Array(B * PMAX);
  kernelConfigs.forEach((c, b) => {
    const S = 2 * c.d;
    for (let k = 0; k < c.K; k++) {
      for (let s = 0; s < S; s++) {
        labelData[b * PMAX + k * S + s] = k;
        weightData[b * PMAX + k * S + s] = configs[b]!.counts[k]![k]! / S;
      }
    }
    c.groups.forEach((g, q) => {
      labelData[b * PMAX + S * c.K + q] = g.observed;
      weightData[b * PMAX + S * c.K + q] = g.count;
    });
  });

  const W0 = padded(B, KMAX, DMAX, (b, k, i) =>
    k < configs[b]!.K && i < configs[b]!.d
      ? starts[b]!.W[k * configs[b]!.d + i]
      : undefined,
  );
  const b0 = padded(B, KMAX, 1, (b, k) =>
    k < configs[b]!.K ? starts[b]!.b[k] : undefined,
  );
  const F0 = padded(B, DMAX, CMAX, (b, i, j) => {
    const { K, d } = configs[b]!;
    const Q = kernelConfigs[b]!.groups.length;
    if (i >= d) return undefined;
    if (j < K) return starts[b]!.centres[j * d + i];
    if (j >= KMAX && j - KMAX < Q) return starts[b]!.groups[(j - KMAX) * d + i];
    return undefined;
  });
  const blocks = configs.map(blockOptimizers);
  return {
    layout,
    kernelConfigs,
    lossConfigs: configs.map((c, b) => ({
      K: c.K,
      d: c.d,
      N: mdPointCount(kernelConfigs[b]!),
      loss: c.loss,
      gradScale: 1 / totalCount(c),
    })),
    W: createBlock(
      rt,
      W0,
      [B, KMAX, DMAX],
      blocks.map((x) => x.W),
    ),
    bias: createBlock(
      rt,
      b0,
      [B, KMAX, 1],
      blocks.map((x) => x.b),
    ),
    F: createBlock(
      rt,
      F0,
      [B, DMAX, CMAX],
      blocks.map((x) => x.F),
    ),
    labels: rt.upload(labelData, [B, 1, PMAX], 'u32'),
    weights: rt.upload(weightData, [B, 1, PMAX], 'f32'),
    zeroLabels: rt.zeros([1, 1, PMAX], 'u32'),
  };
}

export function releaseMdBatch(batch: MdBatch): void {
  [batch.W, batch.bias, batch.F].forEach(releaseBlock);
  batch.layout.configs.release();
  batch.layout.table.release();
  for (const t of [batch.labels, batch.weights, batch.zeroLabels]) t.release();
}

/** Records the feature points, the loss and its totals [B, LOSS_STATS, 1]. */
export async function mdForward(rt: Runtime, batch: MdBatch) {
  const points = await mdPoints(rt, batch.layout, batch.F.params);
  const { dZ, stats } = await lossForward(
    rt,
    {
      W: batch.W.params,
      H: points,
      bias: batch.bias.params,
      labels: batch.labels,
      weights: batch.weights,
    },
    batch.lossConfigs,
  );
  const totals = await lossTotals(rt, stats, batch.zeroLabels);
  stats.release();
  return { points, dZ, totals };
}

/**
 * Records ∂F/∂W, ∂F/∂b and the weight-scaled ∂F/∂[C | G] (mdBackward) from
 * a forward pass; releases its points and dZ.
 */
export async function mdGradientTensors(
  rt: Runtime,
  batch: MdBatch,
  points: Tensor<'f32'>,
  dZ: Tensor<'f32'>,
) {
  const gW = await matmul(rt, dZ, points, { transB: true });
  const gPoints = await matmul(rt, batch.W.params, dZ, { transA: true });
  const gb = await classSums(rt, dZ, batch.zeroLabels, 1);
  gb.counts.release();
  dZ.release();
  const gF = await mdBackward(
    rt,
    batch.layout,
    batch.F.params,
    points,
    gPoints,
    batch.weights,
  );
  gPoints.release();
  points.release();
  return { gW, gb: gb.sums, gF };
}

/** Unpads [B, KMAX, DMAX] W, [B, KMAX, 1] b and F into per-config params. */
export function unpack(
  batch: MdBatch,
  configs: readonly MdTrainConfig[],
  Wf: Float32Array,
  bf: Float32Array,
  Ff: Float32Array,
): Array<{
  W: Float32Array;
  b: Float32Array;
  centres: Float32Array;
  groups: Float32Array;
}> {
  const { KMAX, DMAX, QMAX } = batch.layout;
  const CMAX = KMAX + QMAX;
  return configs.map((c, b) => {
    const { K, d } = c;
    const Q = batch.kernelConfigs[b]!.groups.length;
    const W = new Float32Array(K * d);
    const centres = new Float32Array(K * d);
    const groups = new Float32Array(Q * d);
    for (let i = 0; i < d; i++) {
      const row = (b * DMAX + i) * CMAX;
      for (let k = 0; k < K; k++) {
        W[k * d + i] = Wf[(b * KMAX + k) * DMAX + i]!;
        centres[k * d + i] = Ff[row + k]!;
      }
      for (let q = 0; q < Q; q++) groups[q * d + i] = Ff[row + KMAX + q]!;
    }
    return { W, b: bf.slice(b * KMAX, b * KMAX + K), centres, groups };
  });
}
