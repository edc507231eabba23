// Per-class sums and counts of the columns of a batch of d×N matrices given
// their labels: the segmented reduction behind class means. Drives
// kernels/class_sums.wgsl.

import template from '../../kernels/class_sums.wgsl?raw';

import { InvalidArgumentError } from '../gpu/errors';
import type { KernelSource } from '../gpu/kernels';
import type { Runtime } from '../gpu/runtime';
import { checkShape, type Shape, type Tensor } from '../gpu/tensor';
import { UniformWriter } from '../gpu/uniforms';
import { grid2d, reduceWorkgroupSize, requireInteger } from './common';

export const classSumsKernel: KernelSource = { name: 'class_sums', template };

/** Most classes the engine handles (labels are u32; sums are d×K). */
export const MAX_CLASSES = 2 ** 20;

export interface ClassSumsTuning {
  /** Threads per workgroup (a power of two). */
  WG: number;
  /** Rows of X per workgroup; they share each label load. */
  ROWS: number;
  /** Class accumulators per row held in registers at a time. */
  KB: number;
  /** Columns per workgroup (the split of N); below 2^24 for exact counts. */
  chunk: number;
}

/**
 * Measured on SwiftShader (bench, d = 64, N = 10^5, K = 10): per-workgroup
 * cost dominates there, so few large workgroups won (chunk 4096 with 256
 * threads was 7× slower). Per-adapter tuning is future work.
 */
export const DEFAULT_CLASS_SUMS_TUNING: ClassSumsTuning = {
  WG: 64,
  ROWS: 4,
  KB: 16,
  chunk: 16384,
};

export interface ClassSumsPlan {
  batch: number;
  d: number;
  N: number;
  K: number;
  splits: number;
  chunk: number;
  labelStride: number;
  rowBlocks: number;
  tuning: ClassSumsTuning;
}

export interface ClassSumsLimits {
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBufferBindingSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupStorageSize: number;
}

export function planClassSums(
  xShape: Shape,
  labelShape: Shape,
  K: number,
  limits: ClassSumsLimits,
  tuning: ClassSumsTuning = DEFAULT_CLASS_SUMS_TUNING,
): ClassSumsPlan {
  const op = 'classSums';
  checkShape(xShape, `${op} X`);
  checkShape(labelShape, `${op} labels`);
  const [batch, d, N] = xShape;
  requireInteger(op, 'K (number of classes)', K, 1, MAX_CLASSES);
  requireInteger(
    op,
    'tuning.WG',
    tuning.WG,
    1,
    limits.maxComputeInvocationsPerWorkgroup,
  );
  if ((tuning.WG & (tuning.WG - 1)) !== 0) {
    throw new InvalidArgumentError(
      `${op}: tuning.WG = ${tuning.WG} is invalid; expected a power of two`,
    );
  }
  requireInteger(op, 'tuning.ROWS', tuning.ROWS, 1, 64);
  requireInteger(op, 'tuning.KB', tuning.KB, 1, 64);
  requireInteger(op, 'tuning.chunk', tuning.chunk, 1, 2 ** 24 - 1);
  const accumulators = tuning.ROWS * tuning.KB;
  if (accumulators > tuning.WG) {
    throw new InvalidArgumentError(
      `${op}: tuning ROWS·KB = ${accumulators} is invalid; one thread ` +
        `finishes each accumulator, so it must be at most WG = ${tuning.WG}`,
    );
  }
  const scratchBytes = accumulators * tuning.WG * 4;
  if (scratchBytes > limits.maxComputeWorkgroupStorageSize) {
    throw new InvalidArgumentError(
      `${op}: tuning ROWS·KB·WG needs ${scratchBytes} bytes of workgroup ` +
        `memory; the adapter allows ${limits.maxComputeWorkgroupStorageSize}`,
    );
  }

  const [labelBatch, labelRows, labelCols] = labelShape;
  if (labelRows !== 1 || labelCols !== N) {
    throw new InvalidArgumentError(
      `${op}: labels have shape [${labelShape.join(', ')}]; expected ` +
        `[1, 1, ${N}]${batch > 1 ? ` or [${batch}, 1, ${N}]` : ''} for ` +
        `X [${xShape.join(', ')}]`,
    );
  }
  if (labelBatch !== 1 && labelBatch !== batch) {
    throw new InvalidArgumentError(
      `${op}: labels have batch ${labelBatch}; expected 1 (shared) or ` +
        `${batch} (one label vector per matrix of X)`,
    );
  }

  const splits = Math.ceil(N / tuning.chunk);
  const rowBlocks = Math.ceil((d + 1) / tuning.ROWS);
  const maxGroups = limits.maxComputeWorkgroupsPerDimension;
  for (const [what, count] of [
    ['column chunks (N / chunk)', splits],
    ['row blocks', rowBlocks],
    ['batches', batch],
  ] as const) {
    if (count > maxGroups) {
      throw new InvalidArgumentError(
        `${op}: X [${xShape.join(', ')}] needs ${count} ${what}; the ` +
          `adapter allows ${maxGroups} workgroups per dimension`,
      );
    }
  }
  const partialBytes = batch * splits * (d + 1) * K * 4;
  if (partialBytes > limits.maxStorageBufferBindingSize) {
    throw new InvalidArgumentError(
      `${op}: partial sums need ${partialBytes} bytes, more than the ` +
        `adapter's maxStorageBufferBindingSize ` +
        `(${limits.maxStorageBufferBindingSize}); raise tuning.chunk or ` +
        `split the batch`,
    );
  }
  return {
    batch,
    d,
    N,
    K,
    splits,
    chunk: tuning.chunk,
    labelStride: labelBatch === 1 ? 0 : N,
    rowBlocks,
    tuning,
  };
}

export interface ClassSums {
  /** batch × d × K: column k is the sum of the class-k columns of X. */
  sums: Tensor<'f32'>;
  /** batch × 1 × K: number of columns labelled k. */
  counts: Tensor<'u32'>;
}

/**
 * Checks host labels before they reach the GPU (the kernel ignores labels
 * outside [0, K) rather than corrupt memory) and uploads them as 1×1×N.
 */
export function uploadLabels(
  rt: Runtime,
  labels: ArrayLike<number>,
  K: number,
  batch = 1,
): Tensor<'u32'> {
  requireInteger('uploadLabels', 'K (number of classes)', K, 1, MAX_CLASSES);
  const data = Uint32Array.from({ length: labels.length }, (_, index) => {
    const label = labels[index]!;
    if (!Number.isInteger(label) || label < 0 || label >= K) {
      throw new InvalidArgumentError(
        `labels[${index}] = ${label} is invalid; expected an integer ` +
          `class from 0 to ${K - 1} (K = ${K})`,
      );
    }
    return label;
  });
  if (data.length % batch !== 0) {
    throw new InvalidArgumentError(
      `labels: ${data.length} labels do not split into ${batch} batches`,
    );
  }
  return rt.upload(data, [batch, 1, data.length / batch], 'u32');
}

/** Records the per-class sums and counts of X's columns. */
export async function classSums(
  rt: Runtime,
  x: Tensor,
  labels: Tensor,
  K: number,
  tuning?: ClassSumsTuning,
): Promise<ClassSums> {
  rt.requireTensor('classSums', 'X', x, 'f32');
  rt.requireTensor('classSums', 'labels', labels, 'u32');
  const limits = rt.device.limits;
  const plan = planClassSums(
    x.shape,
    labels.shape,
    K,
    limits,
    tuning ?? rt.tuning.classSums,
  );
  const constants = {
    WG: plan.tuning.WG,
    ROWS: plan.tuning.ROWS,
    KB: plan.tuning.KB,
    REDUCE_WG: reduceWorkgroupSize(limits),
  };
  const [partialsPipeline, reducePipeline] = await Promise.all([
    rt.pipeline({
      kernel: classSumsKernel,
      entryPoint: 'partials_main',
      constants,
    }),
    rt.pipeline({
      kernel: classSumsKernel,
      entryPoint: 'reduce_main',
      constants,
    }),
  ]);

  const { batch, d, splits } = plan;
  const partials = rt.empty([batch * splits, d + 1, K], 'f32');
  const sums = rt.empty([batch, d, K], 'f32');
  const counts = rt.empty([batch, 1, K], 'u32');
  const uniform = new UniformWriter()
    .u32(d)
    .u32(plan.N)
    .u32(K)
    .u32(splits)
    .u32(plan.chunk)
    .u32(plan.labelStride)
    .u32(batch)
    .bytes();

  rt.dispatch({
    label: `classSums partials ${d}×${plan.N} K=${K}`,
    pipeline: partialsPipeline,
    bindings: [x, labels, partials, { uniform }],
    workgroups: [splits, plan.rowBlocks, batch],
  });
  rt.dispatch({
    label: `classSums reduce ${splits} splits`,
    pipeline: reducePipeline,
    bindings: [null, null, partials, { uniform }, sums, counts],
    workgroups: grid2d(
      Math.ceil((batch * (d + 1) * K) / constants.REDUCE_WG),
      limits.maxComputeWorkgroupsPerDimension,
    ),
  });
  partials.release();
  return { sums, counts };
}
