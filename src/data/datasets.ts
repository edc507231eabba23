// The data sets a graph-model run trains on (science.md §9), as a
// configuration names them: Fashion-MNIST (Debian's package, or the
// committed fixture when asked for) or a seeded Gaussian mixture. This file
// is page-safe: the host loads Fashion-MNIST files (src/host/datasets.ts)
// and serves them; a mixture is drawn wherever it is needed.

import { gaussianMixture } from './mixtures';

/** Where the host serves data to the page: `${DATA_PREFIX}<name>`. */
export const DATA_PREFIX = '/__nclab/data/';

export interface FashionDataSpec {
  kind: 'fashion-mnist';
  /** The installed package, or the small committed cut (tests, demos). */
  source: 'package' | 'fixture';
  /** Original labels 0–9 kept; class k of the run is classes[k]. */
  classes: number[];
  /** Training and test images per class (seeded subsample). */
  perClass: number;
  testPerClass: number;
  seed: number;
  /** Principal components the k-NN graph is built on; null: raw pixels. */
  pca: number | null;
}

export interface MixtureDataSpec {
  kind: 'mixture';
  K: number;
  dim: number;
  separation: number;
  perClass: number;
  testPerClass: number;
  seed: number;
  pca: number | null;
}

export type DataSpec = FashionDataSpec | MixtureDataSpec;

/** Training and test examples together: the first trainCount rows train. */
export interface LabelledPoints {
  /** N×dim row-major. */
  points: Float32Array;
  /** True labels, 0…K−1. */
  labels: Uint32Array;
  N: number;
  dim: number;
  trainCount: number;
  K: number;
}

export function classCount(spec: DataSpec): number {
  return spec.kind === 'fashion-mnist' ? spec.classes.length : spec.K;
}

export function trainCount(spec: DataSpec): number {
  return classCount(spec) * spec.perClass;
}

/** A name that identifies the examples a spec gives (not the PCA). */
export function datasetKey(spec: DataSpec): string {
  return spec.kind === 'fashion-mnist'
    ? `fashion-${spec.source}-c${spec.classes.join('.')}-n${spec.perClass}` +
        `-t${spec.testPerClass}-s${spec.seed}`
    : `mixture-K${spec.K}-d${spec.dim}-sep${spec.separation}-n${spec.perClass}` +
        `-t${spec.testPerClass}-s${spec.seed}`;
}

/** What identifies a built graph: the examples, the PCA and k. */
export function graphKey(spec: DataSpec, k: number): string {
  return `${datasetKey(spec)}-p${spec.pca ?? 'raw'}-k${k}`;
}

/** Stacks the training split over the test split. */
export function stack(
  train: { points: Float32Array; labels: Uint32Array },
  test: { points: Float32Array; labels: Uint32Array },
  dim: number,
  K: number,
): LabelledPoints {
  const trainN = train.labels.length;
  const N = trainN + test.labels.length;
  const points = new Float32Array(N * dim);
  points.set(train.points);
  points.set(test.points, trainN * dim);
  const labels = new Uint32Array(N);
  labels.set(train.labels);
  labels.set(test.labels, trainN);
  return { points, labels, N, dim, trainCount: trainN, K };
}

/**
 * A mixture's training and test points: one draw of perClass + testPerClass
 * points per class, the first perClass of each class training.
 */
export function mixturePoints(spec: MixtureDataSpec): LabelledPoints {
  const per = spec.perClass + spec.testPerClass;
  const all = gaussianMixture({
    K: spec.K,
    dim: spec.dim,
    perClass: per,
    separation: spec.separation,
    seed: spec.seed,
  });
  const pick = (from: number, count: number) => {
    const points = new Float32Array(spec.K * count * spec.dim);
    const labels = new Uint32Array(spec.K * count);
    for (let k = 0; k < spec.K; k++) {
      const start = (k * per + from) * spec.dim;
      points.set(
        all.points.subarray(start, start + count * spec.dim),
        k * count * spec.dim,
      );
      labels.fill(k, k * count, (k + 1) * count);
    }
    return { points, labels };
  };
  return stack(
    pick(0, spec.perClass),
    pick(spec.perClass, spec.testPerClass),
    spec.dim,
    spec.K,
  );
}
