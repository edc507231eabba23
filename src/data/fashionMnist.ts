// Fashion-MNIST (science.md §9) from the gzipped IDX files of Debian's
// `dataset-fashion-mnist`, or from any directory laid out the same way (the
// committed two-class fixture, test/fixtures/fashion-mnist-mini). Node only:
// it reads and gunzips files. Loads one split, keeps the classes asked for,
// optionally a seeded subsample of each, and returns images scaled to [0, 1]
// with labels renumbered 0..K−1. Every check names the file it concerns.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { InvalidArgumentError } from '../gpu/errors';
import { Random } from '../util/random';
import { parseIdx, type IdxArray } from './idx';

/** Where Debian's `dataset-fashion-mnist` puts the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export type FashionSplit = 'train' | 'test';

/** The file names of each split, as Zalando and Debian ship them. */
export const FASHION_MNIST_FILES: Record<
  FashionSplit,
  { images: string; labels: string }
> = {
  train: {
    images: 'train-images-idx3-ubyte.gz',
    labels: 'train-labels-idx1-ubyte.gz',
  },
  test: {
    images: 't10k-images-idx3-ubyte.gz',
    labels: 't10k-labels-idx1-ubyte.gz',
  },
};

/** Zalando's names of labels 0–9. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const IMAGE_SIDE = 28;
/** Pixels per image, 28 × 28. */
export const IMAGE_DIM = 784;
const CLASS_COUNT = 10;
const MAX_SEED = 2 ** 32 - 1;

const HOW_TO_GET =
  "Fashion-MNIST comes from Debian's package: as root, " +
  '`apt-get install dataset-fashion-mnist` (it fills ' +
  `${FASHION_MNIST_DIR}); or pass dir: ` +
  "'test/fixtures/fashion-mnist-mini', the committed subset of classes 0 " +
  'and 1.';

export interface FashionMnistOptions {
  /** The directory holding the four .gz files; FASHION_MNIST_DIR if absent. */
  dir?: string;
  split: FashionSplit;
  /**
   * Original labels (0–9) to keep, distinct; label `classes[k]` becomes k.
   * All the labels that occur in the split, ascending, if absent.
   */
  classes?: number[];
  /** Keep a seeded subsample of this many images of each class. */
  perClass?: number;
  /** Seed of the subsample (an integer from 0 to 2^32 − 1); 0 if absent. */
  seed?: number;
}

export interface FashionMnist {
  /** N×784 row-major, one image per row (pixels row by row), in [0, 1]. */
  images: Float32Array;
  /** Renumbered labels: k for an image of original label classes[k]. */
  labels: Uint32Array;
  /** Labels as in the files, 0–9. */
  originalLabels: Uint32Array;
  N: number;
  dim: typeof IMAGE_DIM;
  /** The original labels kept, in the order that defines `labels`. */
  classes: number[];
}

/** One split as stored: N×28×28 pixel bytes and N labels, checked. */
export interface FashionMnistRaw {
  images: IdxArray;
  labels: Uint8Array;
  imagesPath: string;
  labelsPath: string;
}

/** Reads and gunzips one file; a missing file says how to get the data. */
function readGzipped(path: string): Uint8Array {
  let compressed: Uint8Array;
  try {
    compressed = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InvalidArgumentError(`${path}: no such file. ${HOW_TO_GET}`);
    }
    throw error;
  }
  try {
    return gunzipSync(compressed);
  } catch (error) {
    throw new InvalidArgumentError(
      `${path}: cannot be decompressed (${(error as Error).message}); ` +
        'expected a gzipped IDX file',
    );
  }
}

/**
 * The images and labels of one split, with the files checked against each
 * other: images of shape (N, 28, 28), labels of shape (N) and in 0–9.
 */
export function readFashionMnistRaw(
  dir: string,
  split: FashionSplit,
): FashionMnistRaw {
  if (split !== 'train' && split !== 'test') {
    throw new InvalidArgumentError(
      `Fashion-MNIST: split = ${show(split)} is invalid; expected "train" ` +
        'or "test"',
    );
  }
  if (!existsSync(dir)) {
    throw new InvalidArgumentError(
      `Fashion-MNIST: directory ${dir} does not exist. ${HOW_TO_GET}`,
    );
  }
  const imagesPath = join(dir, FASHION_MNIST_FILES[split].images);
  const labelsPath = join(dir, FASHION_MNIST_FILES[split].labels);
  const images = parseIdx(readGzipped(imagesPath), imagesPath);
  const labelFile = parseIdx(readGzipped(labelsPath), labelsPath);

  const [N, rows, cols] = images.shape;
  if (images.shape.length !== 3 || rows !== IMAGE_SIDE || cols !== IMAGE_SIDE) {
    throw new InvalidArgumentError(
      `${imagesPath}: shape (${images.shape.join(', ')}) is invalid; ` +
        `expected (N, ${IMAGE_SIDE}, ${IMAGE_SIDE})`,
    );
  }
  if (labelFile.shape.length !== 1) {
    throw new InvalidArgumentError(
      `${labelsPath}: shape (${labelFile.shape.join(', ')}) is invalid; ` +
        'expected (N), one label per image',
    );
  }
  if (labelFile.shape[0] !== N) {
    throw new InvalidArgumentError(
      `${labelsPath}: ${labelFile.shape[0]} labels, but ${imagesPath} ` +
        `holds ${N} images; expected as many labels as images`,
    );
  }
  const labels = labelFile.data;
  for (let n = 0; n < labels.length; n++) {
    if (labels[n]! >= CLASS_COUNT) {
      throw new InvalidArgumentError(
        `${labelsPath}: label ${n} = ${labels[n]} is invalid; expected 0 ` +
          `to ${CLASS_COUNT - 1}`,
      );
    }
  }
  return { images, labels, imagesPath, labelsPath };
}

/**
 * One split of Fashion-MNIST, restricted to `classes` and, with `perClass`,
 * subsampled. Images keep the order of the files.
 *
 * The subsample, fixed so that a seed always gives the same images: one
 * `nextU32()` key per image of the split, all classes, in file order, from
 * `new Random(seed)`; each class keeps its `perClass` images of smallest
 * key (ties to the earlier image). So a class's subsample depends only on
 * the seed, the split and `perClass`, not on the other classes asked for,
 * and a smaller `perClass` gives a subset of a larger one.
 */
export function loadFashionMnist(options: FashionMnistOptions): FashionMnist {
  const { split, perClass, seed = 0 } = options;
  const dir = options.dir ?? FASHION_MNIST_DIR;
  if (perClass !== undefined && (!Number.isInteger(perClass) || perClass < 1)) {
    throw new InvalidArgumentError(
      `Fashion-MNIST: perClass = ${show(perClass)} is invalid; expected a ` +
        'positive integer',
    );
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new InvalidArgumentError(
      `Fashion-MNIST: seed = ${show(seed)} is invalid; expected an integer ` +
        `from 0 to ${MAX_SEED}`,
    );
  }
  if (options.classes !== undefined) checkClasses(options.classes);

  const raw = readFashionMnistRaw(dir, split);
  const { labels: fileLabels } = raw;
  const counts = new Array<number>(CLASS_COUNT).fill(0);
  for (const y of fileLabels) counts[y]!++;
  const classes = options.classes
    ? [...options.classes]
    : counts.flatMap((count, y) => (count > 0 ? [y] : []));
  for (const y of classes) {
    const available = counts[y]!;
    if (available === 0 || (perClass !== undefined && available < perClass)) {
      throw new InvalidArgumentError(
        `${raw.labelsPath}: class ${y} has ${available} ${split} images; ` +
          `expected at least ${perClass ?? 1}` +
          (perClass !== undefined ? ` (perClass = ${perClass})` : ''),
      );
    }
  }

  const kept = selectImages(fileLabels, classes, perClass, seed);
  const newLabel = new Int32Array(CLASS_COUNT).fill(-1);
  classes.forEach((y, k) => (newLabel[y] = k));

  // Byte v becomes v/255, rounded once to float32.
  const scale = new Float32Array(256);
  for (let v = 0; v < 256; v++) scale[v] = v / 255;
  const N = kept.length;
  const images = new Float32Array(N * IMAGE_DIM);
  const labels = new Uint32Array(N);
  const originalLabels = new Uint32Array(N);
  const pixels = raw.images.data;
  for (let i = 0; i < N; i++) {
    const n = kept[i]!;
    const source = pixels.subarray(n * IMAGE_DIM, (n + 1) * IMAGE_DIM);
    for (let p = 0; p < IMAGE_DIM; p++) {
      images[i * IMAGE_DIM + p] = scale[source[p]!]!;
    }
    originalLabels[i] = fileLabels[n]!;
    labels[i] = newLabel[fileLabels[n]!]!;
  }
  return { images, labels, originalLabels, N, dim: IMAGE_DIM, classes };
}

/** Indices, in file order, of the images kept (see loadFashionMnist). */
function selectImages(
  fileLabels: Uint8Array,
  classes: number[],
  perClass: number | undefined,
  seed: number,
): number[] {
  const wanted = new Set(classes);
  if (perClass === undefined) {
    const kept: number[] = [];
    fileLabels.forEach((y, n) => {
      if (wanted.has(y)) kept.push(n);
    });
    return kept;
  }

  const rng = new Random(seed);
  const keys = new Uint32Array(fileLabels.length);
  for (let n = 0; n < keys.length; n++) keys[n] = rng.nextU32();
  const byClass = new Map<number, number[]>(classes.map((y) => [y, []]));
  fileLabels.forEach((y, n) => byClass.get(y)?.push(n));
  const kept: number[] = [];
  for (const indices of byClass.values()) {
    indices.sort((a, b) => keys[a]! - keys[b]! || a - b);
    kept.push(...indices.slice(0, perClass));
  }
  return kept.sort((a, b) => a - b);
}

function checkClasses(classes: unknown): void {
  const problem = (detail: string) =>
    new InvalidArgumentError(
      `Fashion-MNIST: classes = ${JSON.stringify(classes)} is invalid; ` +
        `expected ${detail}`,
    );
  if (!Array.isArray(classes) || classes.length === 0) {
    throw problem('a non-empty array of labels from 0 to 9');
  }
  for (const y of classes) {
    if (!Number.isInteger(y) || (y as number) < 0 || (y as number) > 9) {
      throw problem('integers from 0 to 9');
    }
  }
  if (new Set(classes).size !== classes.length) {
    throw problem('distinct labels');
  }
}

/** A value as it should read in a message: strings quoted, numbers bare. */
function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
