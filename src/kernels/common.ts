// Helpers shared by the kernel wrappers: argument checks that name the
// argument, and dispatch-grid arithmetic within the adapter's limits.

import { InvalidArgumentError } from '../gpu/errors';
import type { Tensor } from '../gpu/tensor';

export function requireInteger(
  op: string,
  name: string,
  value: number,
  min: number,
  max: number,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `${op}: ${name} = ${value} is invalid; expected an integer from ` +
        `${min} to ${max}`,
    );
  }
}

/**
 * A 2-D grid of workgroups covering `groups` workgroups in total, for
 * one-dimensional kernels that may need more than the per-dimension limit.
 */
export function grid2d(
  groups: number,
  maxPerDimension: number,
): [number, number] {
  const x = Math.max(1, Math.min(groups, maxPerDimension));
  return [x, Math.ceil(groups / x)];
}

/** The workgroup size limits a kernel's shape must respect. */
export interface WorkgroupLimits {
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
}

/**
 * Threads per workgroup of the one-dimensional reductions that finish a
 * split (matmul's reduce_splits, classSums' reduce_main): 256, or the
 * device's limit where it is lower (128 on compatibility-mode devices).
 */
export function reduceWorkgroupSize(limits: WorkgroupLimits): number {
  return Math.min(
    256,
    limits.maxComputeInvocationsPerWorkgroup,
    limits.maxComputeWorkgroupSizeX,
  );
}

/** Refuses a tensor whose shape is not `shape`, naming both. */
export function requireShape(
  op: string,
  name: string,
  t: Tensor,
  shape: readonly number[],
): void {
  if (t.shape.some((n, i) => n !== shape[i])) {
    throw new InvalidArgumentError(
      `${op}: ${name} is ${t.describe()}; expected shape [${shape.join(', ')}]`,
    );
  }
}
