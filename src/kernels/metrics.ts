// The per-example passes of the collapse metrics (kernels/metrics.wgsl):
// centring by class centres with distances, classification against the
// classifier and the nearest centre, and the clean/noisy split of labels.
// All take a batch [B, d, N] of feature matrices; a label ≥ K excludes a
// column (padding, or a column outside a grouping).

import template from '../../kernels/metrics.wgsl?raw';

import type { KernelSource } from '../gpu/kernels';
import type { Runtime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { UniformWriter } from '../gpu/uniforms';
import { requireShape } from './common';

export const metricsKernel: KernelSource = { name: 'metrics', template };

const WG = 64;

function dims(B: number, d: number, N: number, K: number): ArrayBuffer {
  return new UniformWriter().u32(d).u32(N).u32(K).u32(B).bytes();
}

async function pipeline(rt: Runtime, entryPoint: string) {
  return rt.pipeline({ kernel: metricsKernel, entryPoint, constants: { WG } });
}

/**
 * X = H − centres[:, label] per column and dist [B, 2, N] = (‖x‖, ‖x‖²);
 * excluded columns (label ≥ K) are 0. `centres` is [B, d, K].
 */
export async function centreColumns(
  rt: Runtime,
  H: Tensor,
  labels: Tensor,
  centres: Tensor,
): Promise<{ X: Tensor<'f32'>; dist: Tensor<'f32'> }> {
  const op = 'centreColumns';
  rt.requireTensor(op, 'H', H, 'f32');
  rt.requireTensor(op, 'labels', labels, 'u32');
  rt.requireTensor(op, 'centres', centres, 'f32');
  const [B, d, N] = H.shape;
  const K = centres.cols;
  requireShape(op, 'labels', labels, [B, 1, N]);
  requireShape(op, 'centres', centres, [B, d, K]);
  const X = rt.empty([B, d, N], 'f32');
  const dist = rt.empty([B, 2, N], 'f32');
  rt.dispatch({
    label: `metrics centre ${d}×${N} K=${K}`,
    pipeline: await pipeline(rt, 'centre_main'),
    bindings: [H, labels, centres, { uniform: dims(B, d, N, K) }, X, dist],
    workgroups: [Math.ceil(N / WG), B],
  });
  return { X, dist };
}

/**
 * flags [B, 3, N]: prediction ≠ nearest centre (NC4), prediction = label,
 * prediction = true label. W is [B, K, d], bias [B, K, 1], centres
 * [B, d, K]; classes [B, 1, K] (u32) has bit 1 set for classes with
 * examples (candidates for the nearest centre) and bit 2 for the model's
 * classes (candidates for the prediction; padding classes have neither).
 */
export async function classifyColumns(
  rt: Runtime,
  inputs: {
    H: Tensor;
    labels: Tensor;
    trueLabels: Tensor;
    centres: Tensor;
    classes: Tensor;
    W: Tensor;
    bias: Tensor;
  },
): Promise<Tensor<'f32'>> {
  const op = 'classifyColumns';
  const { H, labels, trueLabels, centres, classes, W, bias } = inputs;
  for (const [name, t] of [
    ['H', H],
    ['centres', centres],
    ['W', W],
    ['bias', bias],
  ] as const)
    rt.requireTensor(op, name, t, 'f32');
  for (const [name, t] of [
    ['labels', labels],
    ['trueLabels', trueLabels],
    ['classes', classes],
  ] as const)
    rt.requireTensor(op, name, t, 'u32');
  const [B, d, N] = H.shape;
  const K = centres.cols;
  requireShape(op, 'labels', labels, [B, 1, N]);
  requireShape(op, 'trueLabels', trueLabels, [B, 1, N]);
  requireShape(op, 'centres', centres, [B, d, K]);
  requireShape(op, 'classes', classes, [B, 1, K]);
  requireShape(op, 'W', W, [B, K, d]);
  requireShape(op, 'bias', bias, [B, K, 1]);
  const flags = rt.empty([B, 3, N], 'f32');
  rt.dispatch({
    label: `metrics classify ${d}×${N} K=${K}`,
    pipeline: await pipeline(rt, 'classify_main'),
    bindings: [
      H,
      labels,
      centres,
      { uniform: dims(B, d, N, K) },
      null,
      null,
      W,
      bias,
      trueLabels,
      classes,
      flags,
    ],
    workgroups: [Math.ceil(N / WG), B],
  });
  return flags;
}

/**
 * The clean grouping (true label where observed = true, else K) and the
 * noisy one (true label where they differ, else K) of [B, 1, N] labels.
 */
export async function splitLabels(
  rt: Runtime,
  labels: Tensor,
  trueLabels: Tensor,
  K: number,
): Promise<{ clean: Tensor<'u32'>; noisy: Tensor<'u32'> }> {
  const op = 'splitLabels';
  rt.requireTensor(op, 'labels', labels, 'u32');
  rt.requireTensor(op, 'trueLabels', trueLabels, 'u32');
  requireShape(op, 'trueLabels', trueLabels, [...labels.shape]);
  const [B, , N] = labels.shape;
  const clean = rt.empty([B, 1, N], 'u32');
  const noisy = rt.empty([B, 1, N], 'u32');
  rt.dispatch({
    label: `metrics split labels N=${N}`,
    pipeline: await pipeline(rt, 'split_main'),
    bindings: [
      null,
      labels,
      null,
      { uniform: dims(B, 0, N, K) },
      null,
      null,
      null,
      null,
      trueLabels,
      null,
      null,
      clean,
      noisy,
    ],
    workgroups: [Math.ceil(N / WG), B],
  });
  return { clean, noisy };
}
