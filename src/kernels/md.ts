// The md model's two kernels (kernels/md.wgsl): parameters → feature points
// before the fused loss, and ∂F/∂points → ∂F/∂parameters after it. The
// layout of a batch is fixed once per training run in an MdLayout.

import template from '../../kernels/md.wgsl?raw';

import { InvalidArgumentError } from '../gpu/errors';
import type { KernelSource } from '../gpu/kernels';
import type { Runtime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { UniformWriter } from '../gpu/uniforms';
import { requireShape } from './common';

export const mdKernel: KernelSource = { name: 'md', template };

const WG = 64;
const CONFIG_WORDS = 8;
const GROUP_WORDS = 4;

/** One configuration of the md model, as the kernels see it. */
export interface MdKernelConfig {
  K: number;
  d: number;
  /** Mislabelled groups, in order: (true class, observed class, count). */
  groups: ReadonlyArray<{ trueClass: number; observed: number; count: number }>;
  coupling: number;
  smoothing: number;
  lambdaH: number;
}

/** Padded sizes of a batch and its constant tables on the GPU. */
export interface MdLayout {
  B: number;
  KMAX: number;
  DMAX: number;
  /** Group slots per configuration (at least 1). */
  QMAX: number;
  /** Points per configuration: max over the batch of 2·d·K + Q. */
  PMAX: number;
  configs: Tensor<'u32'>;
  table: Tensor<'u32'>;
}

/** Points of one configuration: 2·d clean ones per class, then the groups. */
export function mdPointCount(c: MdKernelConfig): number {
  return 2 * c.d * c.K + c.groups.length;
}

/** Uploads the per-configuration tables and fixes the padded sizes. */
export function createMdLayout(
  rt: Runtime,
  configs: readonly MdKernelConfig[],
): MdLayout {
  const B = configs.length;
  if (B === 0) throw new InvalidArgumentError('md: no configurations');
  const KMAX = Math.max(...configs.map((c) => c.K));
  const DMAX = Math.max(...configs.map((c) => c.d));
  const QMAX = Math.max(1, ...configs.map((c) => c.groups.length));
  const PMAX = Math.max(...configs.map(mdPointCount));

  const configWords = new Uint32Array(B * CONFIG_WORDS);
  const configView = new DataView(configWords.buffer);
  const tableWords = new Uint32Array(B * QMAX * GROUP_WORDS);
  const tableView = new DataView(tableWords.buffer);
  configs.forEach((c, b) => {
    const base = b * CONFIG_WORDS * 4;
    configView.setUint32(base, c.K, true);
    configView.setUint32(base + 4, c.d, true);
    configView.setUint32(base + 8, c.groups.length, true);
    configView.setUint32(base + 12, mdPointCount(c), true);
    configView.setFloat32(base + 16, c.coupling, true);
    configView.setFloat32(base + 20, c.smoothing, true);
    configView.setFloat32(base + 24, c.lambdaH, true);
    const mislabelled = new Float64Array(c.K);
    for (const g of c.groups) mislabelled[g.trueClass]! += g.count;
    c.groups.forEach((g, q) => {
      const at = (b * QMAX + q) * GROUP_WORDS * 4;
      tableView.setUint32(at, g.trueClass, true);
      tableView.setUint32(at + 4, g.observed, true);
      tableView.setFloat32(at + 8, g.count, true);
      tableView.setFloat32(at + 12, g.count / mislabelled[g.trueClass]!, true);
    });
  });
  return {
    B,
    KMAX,
    DMAX,
    QMAX,
    PMAX,
    configs: rt.upload(configWords, [B, 1, CONFIG_WORDS], 'u32'),
    table: rt.upload(tableWords, [B, QMAX, GROUP_WORDS], 'u32'),
  };
}

function dimsUniform(layout: MdLayout): ArrayBuffer {
  return new UniformWriter()
    .u32(layout.KMAX)
    .u32(layout.DMAX)
    .u32(layout.QMAX)
    .u32(layout.PMAX)
    .u32(layout.B)
    .bytes();
}

/** Records points = the feature points of F ([B, DMAX, KMAX + QMAX]). */
export async function mdPoints(
  rt: Runtime,
  layout: MdLayout,
  features: Tensor,
): Promise<Tensor<'f32'>> {
  const { B, KMAX, DMAX, QMAX, PMAX } = layout;
  rt.requireTensor('mdPoints', 'features', features, 'f32');
  requireShape('mdPoints', 'features', features, [B, DMAX, KMAX + QMAX]);
  const pipeline = await rt.pipeline({
    kernel: mdKernel,
    entryPoint: 'points_main',
    constants: { WG },
  });
  const points = rt.empty([B, DMAX, PMAX], 'f32');
  rt.dispatch({
    label: `md points B=${B} P≤${PMAX}`,
    pipeline,
    bindings: [
      features,
      layout.configs,
      layout.table,
      { uniform: dimsUniform(layout) },
      points,
    ],
    workgroups: [Math.ceil(PMAX / WG), B],
  });
  return points;
}

/**
 * Records ∂F/∂F_params from the loss gradient at the points (Wᵀ·dZ, which
 * carries the counts) and the points' weights, each column divided by its
 * weight (a centre by its clean count, a group by its count).
 */
export async function mdBackward(
  rt: Runtime,
  layout: MdLayout,
  features: Tensor,
  points: Tensor,
  pointGrads: Tensor,
  weights: Tensor,
): Promise<Tensor<'f32'>> {
  const { B, KMAX, DMAX, QMAX, PMAX } = layout;
  const op = 'mdBackward';
  for (const [name, t] of [
    ['features', features],
    ['points', points],
    ['pointGrads', pointGrads],
    ['weights', weights],
  ] as const) {
    rt.requireTensor(op, name, t, 'f32');
  }
  requireShape(op, 'features', features, [B, DMAX, KMAX + QMAX]);
  requireShape(op, 'points', points, [B, DMAX, PMAX]);
  requireShape(op, 'pointGrads', pointGrads, [B, DMAX, PMAX]);
  requireShape(op, 'weights', weights, [B, 1, PMAX]);
  const pipeline = await rt.pipeline({
    kernel: mdKernel,
    entryPoint: 'backward_main',
    constants: { WG },
  });
  const grads = rt.empty([B, DMAX, KMAX + QMAX], 'f32');
  rt.dispatch({
    label: `md backward B=${B} columns=${KMAX + QMAX}`,
    pipeline,
    bindings: [
      features,
      layout.configs,
      layout.table,
      { uniform: dimsUniform(layout) },
      points,
      pointGrads,
      weights,
      grads,
    ],
    workgroups: [Math.ceil((KMAX + QMAX) / WG), B],
  });
  return grads;
}
