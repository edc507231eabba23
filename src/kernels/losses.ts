// The fused loss over a batch of configurations: logits, softmax, loss,
// accuracy and the count-weighted gradient ∂loss/∂Z in one pass. Drives
// kernels/losses.wgsl; the per-configuration totals come from a class-sum
// reduction of the per-column statistics.

import template from '../../kernels/losses.wgsl?raw';

import { InvalidArgumentError } from '../gpu/errors';
import type { KernelSource } from '../gpu/kernels';
import type { Runtime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { UniformWriter } from '../gpu/uniforms';
import { smoothedTargetEntropy, type LossSpec } from '../reference/losses';
import { classSums } from './classSums';
import { requireInteger } from './common';

export const lossesKernel: KernelSource = { name: 'losses', template };

const LOSS_CODES = { ce: 0, ls: 1, mse: 2 } as const;
const CONFIG_WORDS = 8;
/** Rows of the per-column statistics (kernels/losses.wgsl STATS). */
export const LOSS_STATS = 5;
const WORKGROUP = 64;

/** One configuration's sizes and loss, within the batch's padded sizes. */
export interface LossConfig {
  K: number;
  d: number;
  N: number;
  loss: LossSpec;
  /** Multiplies the gradient (1/Σc gives the mean loss's); 1 by default. */
  gradScale?: number;
}

/** Inputs of a batch of B configurations padded to KMAX × DMAX × NMAX. */
export interface LossInputs {
  /** [B, KMAX, DMAX] */
  W: Tensor;
  /** [B, DMAX, NMAX] */
  H: Tensor;
  /** [B, 1, KMAX] or [B, KMAX, 1] (the same memory). */
  bias: Tensor;
  /** [B, 1, NMAX] */
  labels: Tensor;
  /** [B, 1, NMAX]: a count per column (0 marks padding). */
  weights: Tensor;
}

export interface LossOutputs {
  /** [B, KMAX, NMAX]: gradScale · c_n · ∂ℓ_n/∂z_n, zero in padding. */
  dZ: Tensor<'f32'>;
  /**
   * [B, LOSS_STATS, NMAX]: c_n·ℓ_n, c_n·(ℓ_n − H(q)), c_n·[argmax z_n = y_n],
   * c_n·(z_y − max_{j≠y} z_j), c_n·‖h_n‖².
   */
  stats: Tensor<'f32'>;
}

export function checkLossConfig(
  config: LossConfig,
  index: number,
  max: {
    K: number;
    d: number;
    N: number;
  },
): void {
  const at = `losses: configs[${index}]`;
  requireInteger(at, 'K', config.K, 2, max.K);
  requireInteger(at, 'd', config.d, 1, max.d);
  requireInteger(at, 'N', config.N, 1, max.N);
  const { kind, alpha } = config.loss;
  if (!(kind in LOSS_CODES)) {
    throw new InvalidArgumentError(
      `${at}: loss.kind = "${String(kind)}" is invalid; expected "ce", ` +
        `"ls" or "mse"`,
    );
  }
  if (kind === 'ls' && !(alpha !== undefined && alpha >= 0 && alpha < 1)) {
    throw new InvalidArgumentError(
      `${at}: loss.alpha = ${alpha} is invalid; label smoothing needs ` +
        `α in [0, 1)`,
    );
  }
}

/** The configurations as the kernel's array<LossConfig> (32 bytes each). */
export function packLossConfigs(configs: readonly LossConfig[]): Uint32Array {
  const words = new Uint32Array(configs.length * CONFIG_WORDS);
  const view = new DataView(words.buffer);
  configs.forEach((config, index) => {
    const base = index * CONFIG_WORDS * 4;
    const alpha = config.loss.kind === 'ls' ? (config.loss.alpha ?? 0) : 0;
    view.setUint32(base, config.K, true);
    view.setUint32(base + 4, config.d, true);
    view.setUint32(base + 8, config.N, true);
    view.setUint32(base + 12, LOSS_CODES[config.loss.kind], true);
    view.setFloat32(base + 16, alpha, true);
    view.setFloat32(base + 20, smoothedTargetEntropy(alpha, config.K), true);
    view.setFloat32(base + 24, config.gradScale ?? 1, true);
  });
  return words;
}

/**
 * Records the fused loss for a batch and returns its per-column outputs.
 * Every configuration is checked against the padded shapes first.
 */
export async function lossForward(
  rt: Runtime,
  inputs: LossInputs,
  configs: readonly LossConfig[],
): Promise<LossOutputs> {
  const op = 'losses';
  const { W, H, bias, labels, weights } = inputs;
  rt.requireTensor(op, 'W', W, 'f32');
  rt.requireTensor(op, 'H', H, 'f32');
  rt.requireTensor(op, 'bias', bias, 'f32');
  rt.requireTensor(op, 'labels', labels, 'u32');
  rt.requireTensor(op, 'weights', weights, 'f32');
  const [B, KMAX, DMAX] = W.shape;
  const NMAX = H.cols;
  const expect = (name: string, t: Tensor, shape: number[]) => {
    if (t.shape.some((n, i) => n !== shape[i])) {
      throw new InvalidArgumentError(
        `${op}: ${name} has shape [${t.shape.join(', ')}]; expected ` +
          `[${shape.join(', ')}] for W [${W.shape.join(', ')}] and ` +
          `H [${H.shape.join(', ')}]`,
      );
    }
  };
  expect('H', H, [B, DMAX, NMAX]);
  if (bias.cols === KMAX) expect('bias', bias, [B, 1, KMAX]);
  else expect('bias', bias, [B, KMAX, 1]);
  expect('labels', labels, [B, 1, NMAX]);
  expect('weights', weights, [B, 1, NMAX]);
  if (configs.length !== B) {
    throw new InvalidArgumentError(
      `${op}: ${configs.length} configurations for a batch of ${B}`,
    );
  }
  configs.forEach((config, index) =>
    checkLossConfig(config, index, { K: KMAX, d: DMAX, N: NMAX }),
  );
  const maxGroups = rt.device.limits.maxComputeWorkgroupsPerDimension;
  requireInteger(op, 'batch', B, 1, maxGroups);

  const pipeline = await rt.pipeline({
    kernel: lossesKernel,
    constants: { WG: WORKGROUP },
  });
  const configTensor = rt.upload(
    packLossConfigs(configs),
    [B, 1, CONFIG_WORDS],
    'u32',
  );
  const dZ = rt.empty([B, KMAX, NMAX], 'f32');
  const stats = rt.empty([B, LOSS_STATS, NMAX], 'f32');
  const uniform = new UniformWriter()
    .u32(KMAX)
    .u32(DMAX)
    .u32(NMAX)
    .u32(B)
    .bytes();
  rt.dispatch({
    label: `losses B=${B} K≤${KMAX} d≤${DMAX} N≤${NMAX}`,
    pipeline,
    bindings: [
      W,
      H,
      bias,
      labels,
      weights,
      configTensor,
      dZ,
      stats,
      { uniform },
    ],
    workgroups: [Math.ceil(NMAX / WORKGROUP), B],
  });
  configTensor.release();
  return { dZ, stats };
}

/**
 * Per-configuration totals [B, LOSS_STATS, 1] of the statistics (Σ c·ℓ,
 * Σ c·excess, Σ c·correct, Σ c·margin, Σ c·‖h‖²; divide by Σ c for means),
 * by a deterministic reduction.
 * `zeroLabels` ([1, 1, NMAX] of zeros) may be passed to save clearing one.
 */
export async function lossTotals(
  rt: Runtime,
  stats: Tensor<'f32'>,
  zeroLabels?: Tensor<'u32'>,
): Promise<Tensor<'f32'>> {
  const zeros = zeroLabels ?? rt.zeros([1, 1, stats.cols], 'u32');
  const { sums, counts } = await classSums(rt, stats, zeros, 1);
  if (!zeroLabels) zeros.release();
  counts.release();
  return sums;
}
