// Batched matrix product C[b] = alpha · op(A[b]) · op(B[b]) and its
// deterministic split-K form. Drives kernels/matmul.wgsl.

import template from '../../kernels/matmul.wgsl?raw';

import { InvalidArgumentError } from '../gpu/errors';
import type { KernelSource } from '../gpu/kernels';
import type { Runtime } from '../gpu/runtime';
import { checkShape, type Shape, type Tensor } from '../gpu/tensor';
import { UniformWriter } from '../gpu/uniforms';
import { grid2d, reduceWorkgroupSize, requireInteger } from './common';

export const matmulKernel: KernelSource = { name: 'matmul', template };

/** Register tiling: BM×BN outputs per workgroup, TM×TN per thread. */
export interface MatmulTile {
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
}

export const DEFAULT_TILE: MatmulTile = {
  BM: 64,
  BN: 64,
  BK: 16,
  TM: 4,
  TN: 4,
};

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  /** Split of the inner dimension: 'auto' (default) or a count ≥ 1. */
  splits?: number | 'auto';
  tile?: MatmulTile;
}

/** The limits a plan must respect (a subset of GPUSupportedLimits). */
export interface MatmulLimits {
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBufferBindingSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupStorageSize: number;
}

/**
 * `tile` with no more threads than the device allows: each thread takes
 * twice the rows (TM), or twice the columns (TN), of outputs until the
 * workgroup fits. The workgroup still covers BM×BN outputs BK inner indices
 * at a time, and each output is still summed over k in the same order, so
 * the results are bit-identical. 64×64 with 4×4 per thread (256 threads)
 * becomes 8×4 (128), what compatibility-mode devices allow.
 */
export function fitTile(tile: MatmulTile, limits: MatmulLimits): MatmulTile {
  const threads = (t: MatmulTile) => (t.BM / t.TM) * (t.BN / t.TN);
  if (threads(tile) <= limits.maxComputeInvocationsPerWorkgroup) return tile;
  const fitted = { ...tile };
  while (threads(fitted) > limits.maxComputeInvocationsPerWorkgroup) {
    const rowsCan = fitted.BM % (2 * fitted.TM) === 0;
    const colsCan = fitted.BN % (2 * fitted.TN) === 0;
    if (rowsCan && (fitted.TM <= fitted.TN || !colsCan)) fitted.TM *= 2;
    else if (colsCan) fitted.TN *= 2;
    else break; // checkTile refuses it, naming the limit
  }
  return fitted;
}

export interface MatmulPlan {
  M: number;
  N: number;
  K: number;
  batch: number;
  strideA: number;
  strideB: number;
  splits: number;
  /** Inner indices per split (a multiple of BK unless splits = 1). */
  chunk: number;
  /** Batches per dispatch, within the workgroup-count and buffer limits. */
  batchesPerDispatch: number;
  tile: MatmulTile;
}

/** Largest finite float32: alpha is applied in float32. */
const F32_MAX = 3.4028234663852886e38;

/** Target number of workgroups when choosing an automatic split. */
const TARGET_WORKGROUPS = 256;
/** Fewest inner indices worth a split of their own. */
const MIN_CHUNK = 1024;

function checkTile(tile: MatmulTile, limits: MatmulLimits): void {
  const op = 'matmul';
  for (const [name, value] of Object.entries(tile)) {
    requireInteger(op, `tile.${name}`, value as number, 1, 1024);
  }
  if (tile.BM % tile.TM !== 0 || tile.BN % tile.TN !== 0) {
    throw new InvalidArgumentError(
      `${op}: tile ${JSON.stringify(tile)} is invalid: BM must be a ` +
        `multiple of TM and BN a multiple of TN`,
    );
  }
  const threads = (tile.BM / tile.TM) * (tile.BN / tile.TN);
  if (threads > limits.maxComputeInvocationsPerWorkgroup) {
    throw new InvalidArgumentError(
      `${op}: tile ${JSON.stringify(tile)} needs ${threads} threads per ` +
        `workgroup; the adapter allows ${limits.maxComputeInvocationsPerWorkgroup}`,
    );
  }
  const bytes = tile.BK * (tile.BM + tile.BN) * 4;
  if (bytes > limits.maxComputeWorkgroupStorageSize) {
    throw new InvalidArgumentError(
      `${op}: tile ${JSON.stringify(tile)} needs ${bytes} bytes of ` +
        `workgroup memory; the adapter allows ${limits.maxComputeWorkgroupStorageSize}`,
    );
  }
}

/**
 * Tiles for outputs with few rows and/or columns, so less of each tile is
 * padding: a 10×8 output in a 64×64 tile wastes 98% of the arithmetic.
 */
export const NARROW_M_TILE: MatmulTile = {
  BM: 16,
  BN: 64,
  BK: 16,
  TM: 1,
  TN: 4,
};
export const NARROW_N_TILE: MatmulTile = {
  BM: 64,
  BN: 16,
  BK: 16,
  TM: 4,
  TN: 1,
};
export const SMALL_TILE: MatmulTile = { BM: 16, BN: 16, BK: 16, TM: 1, TN: 1 };

const BUILT_IN_TILES = [DEFAULT_TILE, NARROW_M_TILE, NARROW_N_TILE, SMALL_TILE];

function sameTile(a: MatmulTile, b: MatmulTile): boolean {
  return (
    a.BM === b.BM &&
    a.BN === b.BN &&
    a.BK === b.BK &&
    a.TM === b.TM &&
    a.TN === b.TN
  );
}

function defaultTile(
  aShape: Shape,
  bShape: Shape,
  transA: boolean,
  transB: boolean,
  wide: MatmulTile,
): MatmulTile {
  const M = transA ? aShape[2] : aShape[1];
  const N = transB ? bShape[1] : bShape[2];
  if (M <= 16 && N <= 16) return SMALL_TILE;
  if (M <= 16) return NARROW_M_TILE;
  if (N <= 16) return NARROW_N_TILE;
  return wide;
}

/** Validates shapes and options and chooses splits and dispatch sizes. */
export function planMatmul(
  aShape: Shape,
  bShape: Shape,
  options: MatmulOptions,
  limits: MatmulLimits,
  wideTile: MatmulTile = DEFAULT_TILE,
): MatmulPlan {
  const op = 'matmul';
  const { transA = false, transB = false, alpha = 1 } = options;
  // A tile asked for, or tuned for this adapter, is used as given (or
  // refused); the engine's own defaults are fitted to the device.
  let tile =
    options.tile ?? defaultTile(aShape, bShape, transA, transB, wideTile);
  if (!options.tile && BUILT_IN_TILES.some((t) => sameTile(t, tile))) {
    tile = fitTile(tile, limits);
  }
  checkTile(tile, limits);
  if (!(Math.abs(alpha) <= F32_MAX)) {
    throw new InvalidArgumentError(
      `${op}: alpha = ${alpha} is invalid; expected a finite float32 ` +
        `(|alpha| ≤ ${F32_MAX})`,
    );
  }
  checkShape(aShape, `${op} A`);
  checkShape(bShape, `${op} B`);

  const [batchA, rowsA, colsA] = aShape;
  const [batchB, rowsB, colsB] = bShape;
  const [M, K] = transA ? [colsA, rowsA] : [rowsA, colsA];
  const [KB, N] = transB ? [colsB, rowsB] : [rowsB, colsB];
  if (K !== KB) {
    throw new InvalidArgumentError(
      `${op}: inner dimensions differ: op(A) is ${M}×${K} ` +
        `(A [${aShape.join(', ')}], transA = ${transA}) but op(B) is ` +
        `${KB}×${N} (B [${bShape.join(', ')}], transB = ${transB})`,
    );
  }
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new InvalidArgumentError(
      `${op}: batch sizes differ: A has ${batchA}, B has ${batchB}; they ` +
        `must be equal, or one of them 1 to broadcast it`,
    );
  }
  const batch = Math.max(batchA, batchB);

  const tilesPerBatch = Math.ceil(M / tile.BM) * Math.ceil(N / tile.BN);
  let splits: number;
  if (options.splits === undefined || options.splits === 'auto') {
    const wanted = Math.ceil(TARGET_WORKGROUPS / (tilesPerBatch * batch));
    splits = Math.max(1, Math.min(wanted, Math.floor(K / MIN_CHUNK)));
  } else {
    // Each split is a workgroup along z: at most the per-dimension limit.
    const most = Math.min(K, limits.maxComputeWorkgroupsPerDimension);
    requireInteger(op, 'options.splits', options.splits, 1, most);
    splits = options.splits;
  }
  // Round the chunk to whole BK steps, then drop splits left empty.
  let chunk = K;
  if (splits > 1) {
    chunk = Math.ceil(Math.ceil(K / splits) / tile.BK) * tile.BK;
    splits = Math.ceil(K / chunk);
  }
  if (splits === 1) chunk = K;

  const maxGroups = limits.maxComputeWorkgroupsPerDimension;
  const tooMany = (count: number) =>
    `${op}: output ${M}×${N} needs ${count} workgroups in one dimension; ` +
    `the adapter allows ${maxGroups}`;
  if (Math.ceil(N / tile.BN) > maxGroups) {
    throw new InvalidArgumentError(tooMany(Math.ceil(N / tile.BN)));
  }
  if (Math.ceil(M / tile.BM) > maxGroups) {
    throw new InvalidArgumentError(tooMany(Math.ceil(M / tile.BM)));
  }
  const outputBytes = M * N * 4;
  let batchesPerDispatch = Math.min(batch, Math.floor(maxGroups / splits));
  if (splits > 1) {
    batchesPerDispatch = Math.min(
      batchesPerDispatch,
      Math.floor(limits.maxStorageBufferBindingSize / (splits * outputBytes)),
    );
  }
  if (batchesPerDispatch < 1) {
    throw new InvalidArgumentError(
      `${op}: ${splits} split-K partials of ${M}×${N} exceed the adapter's ` +
        `maxStorageBufferBindingSize; use fewer splits`,
    );
  }

  return {
    M,
    N,
    K,
    batch,
    strideA: batchA === 1 ? 0 : M * K,
    strideB: batchB === 1 ? 0 : K * N,
    splits,
    chunk,
    batchesPerDispatch,
    tile,
  };
}

function params(
  plan: MatmulPlan,
  alpha: number,
  batchOffset: number,
  batchCount: number,
): ArrayBuffer {
  return new UniformWriter()
    .u32(plan.M)
    .u32(plan.N)
    .u32(plan.K)
    .u32(plan.splits)
    .u32(plan.chunk)
    .u32(plan.strideA)
    .u32(plan.strideB)
    .u32(batchOffset)
    .f32(alpha)
    .u32(batchCount)
    .bytes();
}

/**
 * Records C = alpha · op(A) · op(B) and returns C (batch × M × N). A batch of
 * 1 in A or B is broadcast. With splits > 1 the inner dimension is cut into
 * chunks whose partial products are summed in a fixed order.
 */
export async function matmul(
  rt: Runtime,
  a: Tensor,
  b: Tensor,
  options: MatmulOptions = {},
): Promise<Tensor<'f32'>> {
  rt.requireTensor('matmul', 'A', a, 'f32');
  rt.requireTensor('matmul', 'B', b, 'f32');
  const limits = rt.device.limits;
  const plan = planMatmul(a.shape, b.shape, options, limits, rt.tuning.matmul);
  const alpha = options.alpha ?? 1;
  const spec = {
    kernel: matmulKernel,
    variant: {
      TRANS_A: options.transA ?? false,
      TRANS_B: options.transB ?? false,
    },
    constants: { ...plan.tile, REDUCE_WG: reduceWorkgroupSize(limits) },
  };
  const main = await rt.pipeline(spec);
  const reduce =
    plan.splits > 1
      ? await rt.pipeline({ ...spec, entryPoint: 'reduce_splits' })
      : null;

  const { M, N, tile } = plan;
  const out = rt.empty([plan.batch, M, N], 'f32');
  const partial = reduce
    ? rt.empty([plan.batchesPerDispatch * plan.splits, M, N], 'f32')
    : null;
  const groupsX = Math.ceil(N / tile.BN);
  const groupsY = Math.ceil(M / tile.BM);

  for (let first = 0; first < plan.batch; first += plan.batchesPerDispatch) {
    const count = Math.min(plan.batchesPerDispatch, plan.batch - first);
    const uniform = params(plan, alpha, first, count);
    rt.dispatch({
      label: `matmul ${M}×${N}×${plan.K}`,
      pipeline: main,
      bindings: [a, b, partial ?? out, { uniform }],
      workgroups: [groupsX, groupsY, count * plan.splits],
    });
    if (reduce && partial) {
      rt.dispatch({
        label: `matmul reduce ${plan.splits} splits`,
        pipeline: reduce,
        bindings: [partial, null, out, { uniform }],
        workgroups: grid2d(
          Math.ceil((count * M * N) / spec.constants.REDUCE_WG),
          limits.maxComputeWorkgroupsPerDimension,
        ),
      });
    }
  }
  partial?.release();
  return out;
}
