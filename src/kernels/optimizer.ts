// Optimizer steps (gradient descent, heavy-ball momentum, Adam) with weight
// decay, step-size schedules and projection onto P ≥ 0, for a parameter block
// of a batch of configurations; and the per-step divergence check that
// freezes a configuration whose loss is not finite. Drives
// kernels/optimizer.wgsl.

import template from '../../kernels/optimizer.wgsl?raw';

import { InvalidArgumentError } from '../gpu/errors';
import type { KernelSource } from '../gpu/kernels';
import type { Runtime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { UniformWriter } from '../gpu/uniforms';
import type { OptimizerSpec, ScheduleSpec } from '../reference/optimizer';
import { grid2d } from './common';

export type { OptimizerSpec, ScheduleSpec };

export const optimizerKernel: KernelSource = { name: 'optimizer', template };

const WG = 64;
const CONFIG_WORDS = 12;

/** How one parameter block of one configuration is updated. */
export interface BlockOptimizer {
  lr: number;
  /** Weight decay λ (the gradient of λ/2 ‖P‖²). */
  lambda: number;
  optimizer: OptimizerSpec;
  schedule: ScheduleSpec;
  /** Project onto P ≥ 0 after the step. */
  positive: boolean;
}

const KIND_CODES = { gd: 0, momentum: 1, adam: 2 } as const;
const SCHEDULE_CODES = { constant: 0, step: 1, cosine: 2 } as const;

/** The blocks as the kernel's array<OptimizerConfig> (48 bytes each). */
export function packOptimizerConfigs(
  blocks: readonly BlockOptimizer[],
): Uint32Array {
  const words = new Uint32Array(blocks.length * CONFIG_WORDS);
  const view = new DataView(words.buffer);
  blocks.forEach((block, index) => {
    const base = index * CONFIG_WORDS * 4;
    const o = block.optimizer;
    const s = block.schedule;
    view.setFloat32(base, block.lr, true);
    view.setFloat32(base + 4, block.lambda, true);
    view.setUint32(base + 8, KIND_CODES[o.kind], true);
    view.setUint32(base + 12, block.positive ? 1 : 0, true);
    view.setFloat32(
      base + 16,
      o.kind === 'momentum' ? o.beta : o.kind === 'adam' ? o.beta1 : 0,
      true,
    );
    view.setFloat32(base + 20, o.kind === 'adam' ? o.beta2 : 0, true);
    view.setFloat32(base + 24, o.kind === 'adam' ? o.epsilon : 0, true);
    view.setUint32(base + 28, SCHEDULE_CODES[s.kind], true);
    view.setUint32(base + 32, s.kind === 'step' ? s.every : 0, true);
    view.setFloat32(base + 36, s.kind === 'step' ? s.factor : 1, true);
    view.setUint32(base + 40, s.kind === 'cosine' ? s.totalSteps : 0, true);
  });
  return words;
}

/** Optimizer state of one parameter block of a batch. */
export interface BlockState {
  params: Tensor<'f32'>;
  moment1: Tensor<'f32'>;
  moment2: Tensor<'f32'>;
  /** packOptimizerConfigs(...) uploaded as u32 [B, 1, 12]. */
  configs: Tensor<'u32'>;
}

function dims(shape: readonly number[], step: number): ArrayBuffer {
  const [batch, rows, cols] = shape as [number, number, number];
  return new UniformWriter().u32(rows).u32(cols).u32(batch).u32(step).bytes();
}

/** Records one update of a block from its gradient (without the λ term). */
export async function optimizerStep(
  rt: Runtime,
  block: BlockState,
  grads: Tensor,
  status: Tensor,
  step: number,
): Promise<void> {
  const op = 'optimizerStep';
  rt.requireTensor(op, 'gradient', grads, 'f32');
  rt.requireTensor(op, 'status', status, 'u32');
  if (grads.shape.some((n, i) => n !== block.params.shape[i])) {
    throw new InvalidArgumentError(
      `${op}: gradient ${grads.describe()} does not match parameters ` +
        `${block.params.describe()}`,
    );
  }
  const pipeline = await rt.pipeline({
    kernel: optimizerKernel,
    entryPoint: 'update',
    constants: { WG },
  });
  rt.dispatch({
    label: `optimizer ${block.params.describe()}`,
    pipeline,
    bindings: [
      block.params,
      grads,
      block.moment1,
      block.moment2,
      block.configs,
      status,
      { uniform: dims(block.params.shape, step) },
    ],
    workgroups: grid2d(
      Math.ceil(block.params.size / WG),
      rt.device.limits.maxComputeWorkgroupsPerDimension,
    ),
  });
}

/**
 * Records the divergence check: a configuration whose loss total
 * (totals [B, S, 1], first entry) is NaN or ±Inf gets status = step + 1.
 */
export async function checkFinite(
  rt: Runtime,
  totals: Tensor,
  status: Tensor,
  step: number,
): Promise<void> {
  rt.requireTensor('checkFinite', 'totals', totals, 'f32');
  rt.requireTensor('checkFinite', 'status', status, 'u32');
  const pipeline = await rt.pipeline({
    kernel: optimizerKernel,
    entryPoint: 'check_finite',
    constants: { WG },
  });
  rt.dispatch({
    label: 'check finite',
    pipeline,
    bindings: [
      null,
      null,
      null,
      null,
      null,
      status,
      { uniform: dims([status.size, totals.rows, 1], step) },
      totals,
    ],
    workgroups: [Math.ceil(status.size / WG)],
  });
}
