// The host's side of the data sets: reads Fashion-MNIST (Node's fs and
// zlib) for the graph-model runs of a batch and turns it into the buffers
// the page server hands to the page (src/host/server.ts, DATA_PREFIX).
// Mixtures need nothing from the host: the page draws them.

import { join } from 'node:path';

import {
  datasetKey,
  stack,
  type DataSpec,
  type FashionDataSpec,
  type LabelledPoints,
} from '../data/datasets';
import { FASHION_MNIST_DIR, loadFashionMnist } from '../data/fashionMnist';
import { InvalidArgumentError } from '../gpu/errors';
import { PROJECT_ROOT } from './server';

/** The committed cut of Fashion-MNIST (classes 0 and 1). */
export const FASHION_FIXTURE_DIR = join(
  PROJECT_ROOT,
  'test/fixtures/fashion-mnist-mini',
);

/** Where the package's files are: $NCLAB_FASHION_MNIST_DIR overrides the
 * Debian path (a copy elsewhere, or a test's empty directory). */
export function fashionPackageDir(): string {
  return process.env.NCLAB_FASHION_MNIST_DIR || FASHION_MNIST_DIR;
}

/** Training and test images of a Fashion-MNIST spec, checked and scaled. */
export function loadFashionPoints(spec: FashionDataSpec): LabelledPoints {
  const fixture = spec.source === 'fixture';
  const dir = fixture ? FASHION_FIXTURE_DIR : fashionPackageDir();
  const split = (which: 'train' | 'test', perClass: number) => {
    try {
      const set = loadFashionMnist({
        dir,
        split: which,
        classes: spec.classes,
        perClass,
        seed: spec.seed,
      });
      return { points: set.images, labels: set.labels };
    } catch (error) {
      if (!(error instanceof InvalidArgumentError) || fixture) throw error;
      // Say it the way a configuration is written.
      throw new InvalidArgumentError(
        `${error.message} In a run configuration, data.source = "fixture" ` +
          'trains on that committed cut instead (classes 0 and 1, 300 ' +
          'training and 100 test images of each).',
      );
    }
  };
  const train = split('train', spec.perClass);
  const test =
    spec.testPerClass > 0
      ? split('test', spec.testPerClass)
      : { points: new Float32Array(0), labels: new Uint32Array(0) };
  return stack(train, test, 784, spec.classes.length);
}

/** The served name of a data set's points and labels. */
export function servedNames(spec: DataSpec): {
  points: string;
  labels: string;
} {
  const key = datasetKey(spec);
  return { points: `${key}.points`, labels: `${key}.labels` };
}

/**
 * Loads every Fashion-MNIST data set the specs name (each once) into
 * `files`. Throws, before any GPU work, when the package or the fixture is
 * missing or short of images, with how to get it.
 */
export function serveDatasets(
  specs: readonly DataSpec[],
  files: Map<string, Uint8Array>,
): void {
  for (const spec of specs) {
    if (spec.kind !== 'fashion-mnist') continue;
    const names = servedNames(spec);
    if (files.has(names.points)) continue;
    const data = loadFashionPoints(spec);
    files.set(names.points, new Uint8Array(data.points.buffer));
    files.set(names.labels, new Uint8Array(data.labels.buffer));
  }
}
