// A feature set from outside nclab — a network's penultimate features and
// its labels, as NumPy arrays — checked and laid out for the collapse
// metrics. The layout (documented in README "Measuring your own features"):
//
//   features     (N, d) float32 or float64, one row per example
//   labels       (N,)   integers in [0, K): the labels trained on
//   trueLabels   (N,)   optional, integers in [0, K): the clean labels
//   classifier   (K, d) optional float: the last layer's weights
//   bias         (K,)   optional float: its bias (0 if absent)
//
// K is the classifier's row count when given, else 1 + the largest label.
// Every check runs before any GPU work and names the file.

import { InvalidArgumentError } from '../gpu/errors';
import { parseNpy } from './npy';

/** Most classes the metrics take (their K×K and d×K work grows with K). */
export const MAX_METRIC_CLASSES = 1024;

export interface FeatureFiles<T = Uint8Array> {
  features: T;
  labels: T;
  trueLabels?: T;
  classifier?: T;
  bias?: T;
}

export interface LoadedFeatures {
  K: number;
  d: number;
  N: number;
  /** d×N, as the engine holds features. */
  H: Float32Array;
  labels: Uint32Array;
  trueLabels: Uint32Array | null;
  /** K×d */
  W: Float32Array | null;
  b: Float32Array | null;
}

function shapeText(shape: number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

function requireShape(name: string, shape: number[], expected: number[]) {
  if (
    shape.length !== expected.length ||
    shape.some((n, i) => n !== expected[i])
  ) {
    throw new InvalidArgumentError(
      `${name}: shape ${shapeText(shape)} is invalid; expected ` +
        shapeText(expected),
    );
  }
}

function labelsOf(
  bytes: Uint8Array,
  name: string,
  N: number,
): { values: Uint32Array; max: number } {
  const { dtype, shape, data } = parseNpy(bytes, name);
  requireShape(name, shape, [N]);
  if (!dtype.startsWith('i') && !dtype.startsWith('u')) {
    throw new InvalidArgumentError(
      `${name}: dtype ${dtype} is invalid; expected integer labels`,
    );
  }
  let max = 0;
  const values = new Uint32Array(N);
  for (let n = 0; n < N; n++) {
    const y = data[n]!;
    if (y < 0 || y >= MAX_METRIC_CLASSES) {
      throw new InvalidArgumentError(
        `${name}: entry ${n} = ${y} is invalid; expected a class from 0 to ` +
          `${MAX_METRIC_CLASSES - 1}`,
      );
    }
    values[n] = y;
    max = Math.max(max, y);
  }
  return { values, max };
}

function requireFinite(name: string, data: ArrayLike<number>, cols: number) {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new InvalidArgumentError(
        `${name}: entry (${Math.floor(i / cols)}, ${i % cols}) is ` +
          `${data[i]}; expected finite values`,
      );
    }
  }
}

/** Parses and checks the files of one feature set. */
export function loadFeatures(
  files: FeatureFiles,
  names: FeatureFiles<string>,
): LoadedFeatures {
  const features = parseNpy(files.features, names.features, true);
  if (features.shape.length !== 2 || !features.dtype.startsWith('f')) {
    throw new InvalidArgumentError(
      `${names.features}: a ${features.dtype} array of shape ` +
        `${shapeText(features.shape)} is invalid; expected float features ` +
        'of shape (N, d), one row per example',
    );
  }
  const [N, d] = features.shape as [number, number];
  if (N < 1 || d < 1) {
    throw new InvalidArgumentError(
      `${names.features}: shape ${shapeText(features.shape)} is invalid; ` +
        'expected at least one example and one dimension',
    );
  }
  requireFinite(names.features, features.data, d);

  const labels = labelsOf(files.labels, names.labels, N);
  const truth = files.trueLabels
    ? labelsOf(files.trueLabels, names.trueLabels!, N)
    : null;
  let W: Float32Array | null = null;
  let K = Math.max(labels.max, truth?.max ?? 0) + 1;
  if (files.classifier) {
    const w = parseNpy(files.classifier, names.classifier!, true);
    if (w.shape.length !== 2 || w.shape[1] !== d) {
      throw new InvalidArgumentError(
        `${names.classifier}: shape ${shapeText(w.shape)} is invalid; ` +
          `expected (K, ${d}), one row per class`,
      );
    }
    if (w.shape[0]! > MAX_METRIC_CLASSES) {
      throw new InvalidArgumentError(
        `${names.classifier}: ${w.shape[0]} rows is invalid; expected at ` +
          `most ${MAX_METRIC_CLASSES} classes`,
      );
    }
    if (w.shape[0]! < K) {
      throw new InvalidArgumentError(
        `${names.classifier}: ${w.shape[0]} rows, but the labels go up to ` +
          `${K - 1}; expected at least ${K} rows`,
      );
    }
    requireFinite(names.classifier!, w.data, d);
    K = w.shape[0]!;
    W = w.data;
  }
  if (K < 2) {
    throw new InvalidArgumentError(
      `${names.labels}: every label is 0; expected at least two classes`,
    );
  }
  let b: Float32Array | null = null;
  if (files.bias) {
    if (!W) {
      throw new InvalidArgumentError(
        `${names.bias}: a bias needs the classifier it belongs to ` +
          '(--classifier)',
      );
    }
    const bias = parseNpy(files.bias, names.bias!, true);
    requireShape(names.bias!, bias.shape, [K]);
    requireFinite(names.bias!, bias.data, K);
    b = bias.data;
  } else if (W) {
    b = new Float32Array(K);
  }

  // (N, d) rows → d×N columns.
  const H = new Float32Array(d * N);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < d; i++) H[i * N + n] = features.data[n * d + i]!;
  }
  return {
    K,
    d,
    N,
    H,
    labels: labels.values,
    trueLabels: truth?.values ?? null,
    W,
    b,
  };
}
