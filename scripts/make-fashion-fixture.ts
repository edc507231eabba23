// Regenerates test/fixtures/fashion-mnist-mini/ from Debian's Fashion-MNIST:
//
//   npx tsx scripts/make-fashion-fixture.ts [SOURCE_DIR]
//
// (SOURCE_DIR defaults to /usr/share/datasets/fashion-mnist). The fixture
// holds, in the order of the originals, the first 300 train and the first
// 100 test images of each of classes 0 and 1, as gzipped IDX files named
// like the originals, so that loadFashionMnist({ dir }) reads it unchanged.
// The gzip settings are fixed and Node writes no name and a zero timestamp,
// so a run gives the same bytes every time with the same zlib build.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

import {
  FASHION_MNIST_DIR,
  FASHION_MNIST_FILES,
  IMAGE_DIM,
  IMAGE_SIDE,
  readFashionMnistRaw,
  type FashionSplit,
} from '../src/data/fashionMnist';
import { encodeIdx } from '../src/data/idx';

export const FIXTURE_DIR = fileURLToPath(
  new URL('../test/fixtures/fashion-mnist-mini/', import.meta.url),
);
export const FIXTURE_CLASSES: readonly number[] = [0, 1];
export const FIXTURE_PER_CLASS: Record<FashionSplit, number> = {
  train: 300,
  test: 100,
};

/**
 * The fixture's four files as uncompressed IDX bytes, by file name: for each
 * split, the first FIXTURE_PER_CLASS images of each fixture class, in the
 * order of the source files.
 */
export function cutFashionFixture(sourceDir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const split of ['train', 'test'] as const) {
    const raw = readFashionMnistRaw(sourceDir, split);
    const limit = FIXTURE_PER_CLASS[split];
    const taken = new Map(FIXTURE_CLASSES.map((y) => [y, 0]));
    const kept: number[] = [];
    raw.labels.forEach((y, n) => {
      const count = taken.get(y);
      if (count !== undefined && count < limit) {
        taken.set(y, count + 1);
        kept.push(n);
      }
    });
    for (const [y, count] of taken) {
      if (count < limit) {
        throw new Error(
          `${raw.labelsPath}: class ${y} has ${count} images; the fixture ` +
            `needs ${limit}`,
        );
      }
    }

    const pixels = new Uint8Array(kept.length * IMAGE_DIM);
    kept.forEach((n, i) =>
      pixels.set(
        raw.images.data.subarray(n * IMAGE_DIM, (n + 1) * IMAGE_DIM),
        i * IMAGE_DIM,
      ),
    );
    const labels = Uint8Array.from(kept, (n) => raw.labels[n]!);
    const names = FASHION_MNIST_FILES[split];
    files.set(
      names.images,
      encodeIdx(pixels, [kept.length, IMAGE_SIDE, IMAGE_SIDE]),
    );
    files.set(names.labels, encodeIdx(labels, [kept.length]));
  }
  return files;
}

/**
 * gzip with every setting fixed. Node's gzip header carries no file name and
 * a zero modification time, so the output depends only on the input and on
 * the zlib build (Node bundles its own; another build may pick different
 * matches, which changes the compressed bytes but never what they inflate to).
 */
export function gzipFixed(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes, {
    level: 9,
    memLevel: 8,
    windowBits: 15,
    strategy: 0, // Z_DEFAULT_STRATEGY
  });
}

function main(): number {
  const sourceDir = process.argv[2] ?? FASHION_MNIST_DIR;
  try {
    const files = cutFashionFixture(sourceDir);
    mkdirSync(FIXTURE_DIR, { recursive: true });
    for (const [name, bytes] of files) {
      const gzipped = gzipFixed(bytes);
      writeFileSync(join(FIXTURE_DIR, name), gzipped);
      const sha = createHash('sha256').update(gzipped).digest('hex');
      console.log(`${name}\t${gzipped.length} bytes\tsha256 ${sha}`);
    }
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`[fixture] could not make the fixture: ${message}`);
    return 1;
  }
}

// Run only as a script, so a test can import the functions.
if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  process.exitCode = main();
}
