// Inputs of the page-side cases, generated from seeds: the page builds them
// for the GPU and the Node tests rebuild the very same arrays for the float64
// reference. Pure code, importable on both sides.

import type { Shape } from '../../src/gpu/tensor';
import type { ClassSumsTuning } from '../../src/kernels/classSums';
import type { LossConfig } from '../../src/kernels/losses';
import { Random, randomFloats, randomLabels } from '../../src/util/random';

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

export interface LossCase {
  configs: LossConfig[];
  KMAX: number;
  DMAX: number;
  NMAX: number;
  seed: number;
  /** 'counts': integer weights 0..3 per column (md-style); else all 1. */
  weights: 'ones' | 'counts';
  /** Scale of W and H (large values test the max-shift). */
  scale?: number;
}

/** One configuration's unpadded inputs. */
export interface LossConfigInputs {
  W: Float32Array;
  H: Float32Array;
  b: Float32Array;
  labels: Uint32Array;
  weights: Float32Array;
}

export function lossConfigInputs(c: LossCase, index: number): LossConfigInputs {
  const { K, d, N } = c.configs[index]!;
  const seed = c.seed + 100 * index;
  const scale = c.scale ?? 1;
  const scaled = (values: Float32Array) => values.map((v) => v * scale);
  const rng = new Random(seed + 5);
  return {
    W: scaled(randomFloats(seed, K * d)),
    H: scaled(randomFloats(seed + 1, d * N)),
    b: randomFloats(seed + 2, K),
    labels: randomLabels(seed + 3, N, K),
    weights: Float32Array.from({ length: N }, () =>
      c.weights === 'counts' ? rng.integer(4) : 1,
    ),
  };
}

/**
 * The batch padded to KMAX × DMAX × NMAX. Padding holds NaN (and label
 * 0xffffffff), so a kernel that reads it produces NaN and fails the test.
 */
export function lossBatchInputs(c: LossCase) {
  const B = c.configs.length;
  const { KMAX, DMAX, NMAX } = c;
  const W = new Float32Array(B * KMAX * DMAX).fill(NaN);
  const H = new Float32Array(B * DMAX * NMAX).fill(NaN);
  const bias = new Float32Array(B * KMAX).fill(NaN);
  const labels = new Uint32Array(B * NMAX).fill(0xffffffff);
  const weights = new Float32Array(B * NMAX).fill(NaN);
  c.configs.forEach(({ K, d, N }, b) => {
    const one = lossConfigInputs(c, b);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < d; i++)
        W[(b * KMAX + k) * DMAX + i] = one.W[k * d + i]!;
      bias[b * KMAX + k] = one.b[k]!;
    }
    for (let i = 0; i < d; i++) {
      for (let n = 0; n < N; n++)
        H[(b * DMAX + i) * NMAX + n] = one.H[i * N + n]!;
    }
    labels.set(one.labels, b * NMAX);
    weights.set(one.weights, b * NMAX);
  });
  return { W, H, bias, labels, weights };
}

/**
 * A feature set for the collapse metrics: K classes in d dimensions,
 * `perClass` examples each (a class may have 0 or 1), generated from a seed.
 * - clustered: class means ~ N(0, 4I), examples mean + N(0, spread²I);
 * - collapsed: every example of class k exactly at a simplex-ETF vertex
 *   (times 3), the classifier its transpose;
 * - coincident: like clustered, but class 1 repeats class 0's examples
 *   (give both the same count), so their means coincide.
 * With `flip` > 0, that fraction of labels moves to the next class (true
 * labels kept). With `classifier`, W (K×d) and b (K) come too.
 */
export interface MetricsCase {
  K: number;
  d: number;
  perClass: number[];
  kind: 'clustered' | 'collapsed' | 'coincident';
  seed: number;
  spread?: number;
  flip?: number;
  classifier?: boolean;
  /** A constant added to every feature (a large common offset). */
  offset?: number;
}

export interface MetricsSet {
  K: number;
  d: number;
  N: number;
  H: Float32Array;
  labels: Uint32Array;
  trueLabels: Uint32Array | null;
  W: Float32Array | null;
  b: Float32Array | null;
}

export function metricsInputs(c: MetricsCase): MetricsSet {
  const { K, d } = c;
  const rng = new Random(c.seed);
  const truth = c.perClass.flatMap((n, k) => Array<number>(n).fill(k));
  const N = truth.length;
  const centres = new Float64Array(d * K);
  if (c.kind === 'collapsed') {
    // Vertex k of the simplex ETF in the first K coordinates (needs d ≥ K).
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < K; i++)
        centres[i * K + k] = 3 * ((i === k ? 1 : 0) - 1 / K);
    }
  } else {
    for (let i = 0; i < d * K; i++) centres[i] = 2 * rng.normal();
    if (c.kind === 'coincident') {
      for (let i = 0; i < d; i++) centres[i * K + 1] = centres[i * K]!;
    }
  }
  const spread = c.kind === 'collapsed' ? 0 : (c.spread ?? 0.5);
  const H = new Float32Array(d * N);
  const offset = c.offset ?? 0;
  truth.forEach((k, n) => {
    for (let i = 0; i < d; i++)
      H[i * N + n] = offset + centres[i * K + k]! + spread * rng.normal();
  });
  if (c.kind === 'coincident') {
    // Class 1 repeats class 0's examples: their means are equal.
    const first = truth.indexOf(0);
    const second = truth.indexOf(1);
    for (let j = 0; j < c.perClass[1]!; j++) {
      for (let i = 0; i < d; i++)
        H[i * N + second + j] = H[i * N + first + (j % c.perClass[0]!)]!;
    }
  }
  const flip = c.flip ?? 0;
  const labels = Uint32Array.from(truth, (k) =>
    rng.uniform() < flip ? (k + 1) % K : k,
  );
  let W: Float32Array | null = null;
  let b: Float32Array | null = null;
  if (c.classifier) {
    W = new Float32Array(K * d);
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < d; i++) {
        W[k * d + i] =
          c.kind === 'collapsed'
            ? centres[i * K + k]!
            : centres[i * K + k]! + 0.3 * rng.normal();
      }
    }
    b = Float32Array.from({ length: K }, () =>
      c.kind === 'collapsed' ? 0 : 0.1 * rng.normal(),
    );
  }
  return {
    K,
    d,
    N,
    H,
    labels,
    trueLabels: flip > 0 ? Uint32Array.from(truth) : null,
    W,
    b,
  };
}
