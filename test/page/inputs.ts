// Inputs of the page-side cases, generated from seeds: the page builds them
// for the GPU and the Node tests rebuild the very same arrays for the float64
// reference. Pure code, importable on both sides.

import type { Shape } from '../../src/gpu/tensor';
import type { ClassSumsTuning } from '../../src/kernels/classSums';
import { randomFloats, randomLabels } from '../../src/util/random';

export interface MatmulCase {
  aShape: Shape;
  bShape: Shape;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  splits?: number | 'auto';
  seed: number;
  kind: 'normal' | 'integer';
  /** Run this many times; every output is returned (determinism checks). */
  runs?: number;
}

export function matmulInputs(c: MatmulCase): {
  a: Float32Array;
  b: Float32Array;
} {
  const count = (s: Shape) => s[0] * s[1] * s[2];
  return {
    a: randomFloats(c.seed, count(c.aShape), c.kind),
    b: randomFloats(c.seed + 1, count(c.bShape), c.kind),
  };
}

export interface ClassSumsCase {
  xShape: Shape;
  K: number;
  seed: number;
  kind: 'normal' | 'integer';
  /** One label vector per batch instead of one shared. */
  labelsPerBatch?: boolean;
  tuning?: ClassSumsTuning;
  runs?: number;
}

export function classSumsInputs(c: ClassSumsCase): {
  x: Float32Array;
  labels: Uint32Array;
} {
  const [batch, d, N] = c.xShape;
  return {
    x: randomFloats(c.seed, batch * d * N, c.kind),
    labels: randomLabels(c.seed + 1, c.labelsPerBatch ? batch * N : N, c.K),
  };
}
