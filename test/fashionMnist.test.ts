// The Fashion-MNIST loader on the committed two-class fixture: counts,
// class renumbering, scaling to [0, 1], the seeded per-class subsample, and
// every refusal (missing data, files that disagree, bad options) with a
// message naming the file or option. When Debian's dataset-fashion-mnist is
// installed, also the full set and the fixture against a fresh cut of it;
// otherwise those are skipped and the reason printed.

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

import { afterAll, describe, expect, test } from 'vitest';

import {
  cutFashionFixture,
  FIXTURE_DIR,
  gzipFixed,
} from '../scripts/make-fashion-fixture';
import {
  FASHION_MNIST_DIR,
  FASHION_MNIST_FILES,
  loadFashionMnist,
  readFashionMnistRaw,
  type FashionMnist,
  type FashionMnistOptions,
} from '../src/data/fashionMnist';
import { encodeIdx } from '../src/data/idx';
import { InvalidArgumentError } from '../src/gpu/errors';

const FIXTURE = fileURLToPath(
  new URL('./fixtures/fashion-mnist-mini/', import.meta.url),
);

const scratch = mkdtempSync(join(tmpdir(), 'nclab-fashion-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function countsOf(labels: ArrayLike<number>, K: number): number[] {
  const counts = new Array<number>(K).fill(0);
  for (let n = 0; n < labels.length; n++) counts[labels[n]!]!++;
  return counts;
}

/** Whether two arrays hold the same bytes (fast, unlike toEqual on 10^5+). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const bytes = (v: ArrayBufferView) =>
    Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return bytes(a).equals(bytes(b));
}

/** Image n as a string, to find the same image in another load. */
function imageKey(set: FashionMnist, n: number): string {
  return set.images.subarray(n * set.dim, (n + 1) * set.dim).join(',');
}

/** Positions in `full` of the images of `part`, which must all occur. */
function positionsIn(full: FashionMnist, part: FashionMnist): number[] {
  const where = new Map<string, number>();
  for (let n = 0; n < full.N; n++) where.set(imageKey(full, n), n);
  return Array.from({ length: part.N }, (_, n) => {
    const at = where.get(imageKey(part, n));
    expect(at, `image ${n} of the subsample`).toBeDefined();
    return at!;
  });
}

/** A fresh directory whose train split is the given (gzipped) files. */
function trainDir(
  name: string,
  images: Uint8Array | null,
  labels: Uint8Array | null,
): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const files = FASHION_MNIST_FILES.train;
  if (images) writeFileSync(join(dir, files.images), images);
  if (labels) writeFileSync(join(dir, files.labels), labels);
  return dir;
}

const gz = (values: ArrayLike<number>, shape: number[]) =>
  gzipSync(encodeIdx(values, shape));

describe('loadFashionMnist on the fixture', () => {
  const train = loadFashionMnist({ dir: FIXTURE, split: 'train' });

  test('holds 300 + 300 train and 100 + 100 test images', () => {
    expect(train.N).toBe(600);
    expect(train.dim).toBe(784);
    expect(train.images.length).toBe(600 * 784);
    expect(train.classes).toEqual([0, 1]);
    expect(countsOf(train.labels, 2)).toEqual([300, 300]);

    const testSplit = loadFashionMnist({ dir: FIXTURE, split: 'test' });
    expect(testSplit.N).toBe(200);
    expect(testSplit.classes).toEqual([0, 1]);
    expect(countsOf(testSplit.labels, 2)).toEqual([100, 100]);
  });

  test('scales byte v to v/255, image by image in file order', () => {
    const raw = readFashionMnistRaw(FIXTURE, 'train');
    expect(raw.images.shape).toEqual([600, 28, 28]);
    const expected = Float32Array.from(raw.images.data, (v) => v / 255);
    expect(sameBytes(train.images, expected)).toBe(true);
    expect(Array.from(train.originalLabels)).toEqual(Array.from(raw.labels));

    let min = Infinity;
    let max = -Infinity;
    for (const v of train.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    // Fashion-MNIST images use the full byte range: black 0, white 255.
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  test('renumbers labels in the order the classes are given', () => {
    const swapped = loadFashionMnist({
      dir: FIXTURE,
      split: 'train',
      classes: [1, 0],
    });
    expect(swapped.classes).toEqual([1, 0]);
    expect(sameBytes(swapped.images, train.images)).toBe(true);
    expect(sameBytes(swapped.originalLabels, train.originalLabels)).toBe(true);
    expect(Array.from(swapped.labels)).toEqual(
      Array.from(train.originalLabels, (y) => 1 - y),
    );

    const trousers = loadFashionMnist({
      dir: FIXTURE,
      split: 'train',
      classes: [1],
    });
    expect(trousers.N).toBe(300);
    expect(trousers.labels.every((k) => k === 0)).toBe(true);
    expect(trousers.originalLabels.every((y) => y === 1)).toBe(true);
  });

  test('subsamples perClass images of each class, the same for a seed', () => {
    const options: FashionMnistOptions = {
      dir: FIXTURE,
      split: 'train',
      perClass: 40,
      seed: 7,
    };
    const a = loadFashionMnist(options);
    const b = loadFashionMnist(options);
    expect(a.N).toBe(80);
    expect(countsOf(a.labels, 2)).toEqual([40, 40]);
    expect(sameBytes(a.images, b.images)).toBe(true);
    expect(sameBytes(a.labels, b.labels)).toBe(true);

    // Images of the split, kept in file order.
    const at = positionsIn(train, a);
    expect(at).toEqual([...at].sort((x, y) => x - y));
    expect(new Set(at).size).toBe(80);
    at.forEach((n, i) => expect(a.labels[i]).toBe(train.labels[n]));

    // Another seed gives another subsample.
    const other = loadFashionMnist({ ...options, seed: 8 });
    expect(countsOf(other.labels, 2)).toEqual([40, 40]);
    expect(sameBytes(other.images, a.images)).toBe(false);
  });

  test('a subsample is nested in larger ones and independent of the other classes', () => {
    const base = { dir: FIXTURE, split: 'train' as const, seed: 11 };
    const small = loadFashionMnist({ ...base, perClass: 20 });
    const large = loadFashionMnist({ ...base, perClass: 120 });
    const inLarge = new Set(positionsIn(large, small));
    expect(inLarge.size).toBe(40);

    const both = loadFashionMnist({ ...base, perClass: 20, classes: [0, 1] });
    const onlyOne = loadFashionMnist({ ...base, perClass: 20, classes: [1] });
    const classOne = both.images.filter(
      (_, p) => both.originalLabels[Math.floor(p / both.dim)] === 1,
    );
    expect(sameBytes(onlyOne.images, classOne)).toBe(true);
  });

  test('perClass equal to a class size keeps the whole class', () => {
    const all = loadFashionMnist({
      dir: FIXTURE,
      split: 'test',
      perClass: 100,
      seed: 3,
    });
    const whole = loadFashionMnist({ dir: FIXTURE, split: 'test' });
    expect(sameBytes(all.images, whole.images)).toBe(true);
  });

  test.each([
    [
      { perClass: 301 },
      'train-labels-idx1-ubyte.gz: class 0 has 300 train images; expected ' +
        'at least 301 (perClass = 301)',
    ],
    [
      { classes: [0, 2] },
      'train-labels-idx1-ubyte.gz: class 2 has 0 train images; expected at ' +
        'least 1',
    ],
    [
      { classes: [] },
      'Fashion-MNIST: classes = [] is invalid; expected a non-empty array ' +
        'of labels from 0 to 9',
    ],
    [
      { classes: [0, 0] },
      'Fashion-MNIST: classes = [0,0] is invalid; expected distinct labels',
    ],
    [
      { classes: [0, 10] },
      'Fashion-MNIST: classes = [0,10] is invalid; expected integers from 0 ' +
        'to 9',
    ],
    [
      { classes: [0.5] },
      'Fashion-MNIST: classes = [0.5] is invalid; expected integers from 0 ' +
        'to 9',
    ],
    [
      { perClass: 0 },
      'Fashion-MNIST: perClass = 0 is invalid; expected a positive integer',
    ],
    [
      { perClass: 2.5 },
      'Fashion-MNIST: perClass = 2.5 is invalid; expected a positive integer',
    ],
    [
      { perClass: 10, seed: -1 },
      'Fashion-MNIST: seed = -1 is invalid; expected an integer from 0 to ' +
        '4294967295',
    ],
    [
      { split: 'validation' },
      'Fashion-MNIST: split = "validation" is invalid; expected "train" or ' +
        '"test"',
    ],
  ])('refuses %j', (options, message) => {
    const load = () =>
      loadFashionMnist({
        dir: FIXTURE,
        split: 'train',
        ...(options as Partial<FashionMnistOptions>),
      });
    expect(load).toThrow(InvalidArgumentError);
    expect(load).toThrow(message);
  });
});

describe('loadFashionMnist on bad data', () => {
  const images = (n: number) => gz(new Uint8Array(n * 784), [n, 28, 28]);

  test('a missing directory says how to get the data', () => {
    const dir = join(scratch, 'absent');
    const load = () => loadFashionMnist({ dir, split: 'train' });
    expect(load).toThrow(InvalidArgumentError);
    expect(load).toThrow(`Fashion-MNIST: directory ${dir} does not exist.`);
    expect(load).toThrow('`apt-get install dataset-fashion-mnist`');
    expect(load).toThrow("dir: 'test/fixtures/fashion-mnist-mini'");
  });

  test('a missing file says how to get the data', () => {
    const dir = trainDir('no-labels', images(2), null);
    const load = () => loadFashionMnist({ dir, split: 'train' });
    expect(load).toThrow(
      `${join(dir, 'train-labels-idx1-ubyte.gz')}: no such file. ` +
        "Fashion-MNIST comes from Debian's package: as root, " +
        '`apt-get install dataset-fashion-mnist`',
    );
    // The test split's files are looked for under their own names.
    expect(() => loadFashionMnist({ dir, split: 'test' })).toThrow(
      `${join(dir, 't10k-images-idx3-ubyte.gz')}: no such file.`,
    );
  });

  test('a file that is not gzip, or is cut short, names the file', () => {
    const full = gz([0, 1, 1], [3]);
    const notGzip = trainDir('not-gzip', images(3), encodeIdx([0, 1, 1], [3]));
    expect(() => loadFashionMnist({ dir: notGzip, split: 'train' })).toThrow(
      new RegExp(
        `${join(notGzip, 'train-labels-idx1-ubyte.gz')}: cannot be ` +
          'decompressed \\(.+\\); expected a gzipped IDX file',
      ),
    );
    const cut = trainDir('cut', images(3), full.subarray(0, full.length - 6));
    expect(() => loadFashionMnist({ dir: cut, split: 'train' })).toThrow(
      `${join(cut, 'train-labels-idx1-ubyte.gz')}: cannot be decompressed`,
    );
  });

  test('an IDX error inside a good gzip names the file', () => {
    const labels = gzipSync(encodeIdx([0, 1, 1], [3]).subarray(0, 9));
    const dir = trainDir('short-idx', images(3), labels);
    expect(() => loadFashionMnist({ dir, split: 'train' })).toThrow(
      `${join(dir, 'train-labels-idx1-ubyte.gz')}: truncated: shape (3) ` +
        'needs 3 bytes of data, the file has 1',
    );
  });

  // DIR stands for the directory of the case.
  test.each([
    [
      'count',
      images(3),
      gz([0, 1], [2]),
      'DIR/train-labels-idx1-ubyte.gz: 2 labels, but ' +
        'DIR/train-images-idx3-ubyte.gz holds 3 images; expected as many ' +
        'labels as images',
    ],
    [
      'image-size',
      gz(new Uint8Array(2 * 27 * 28), [2, 27, 28]),
      gz([0, 1], [2]),
      'DIR/train-images-idx3-ubyte.gz: shape (2, 27, 28) is invalid; ' +
        'expected (N, 28, 28)',
    ],
    [
      'image-rank',
      gz(new Uint8Array(2 * 784), [2, 784]),
      gz([0, 1], [2]),
      'DIR/train-images-idx3-ubyte.gz: shape (2, 784) is invalid; expected ' +
        '(N, 28, 28)',
    ],
    [
      'label-rank',
      images(2),
      gz([0, 1], [2, 1]),
      'DIR/train-labels-idx1-ubyte.gz: shape (2, 1) is invalid; expected ' +
        '(N), one label per image',
    ],
    [
      'label-range',
      images(3),
      gz([0, 10, 1], [3]),
      'DIR/train-labels-idx1-ubyte.gz: label 1 = 10 is invalid; expected 0 ' +
        'to 9',
    ],
  ])(
    'refuses files that disagree (%s)',
    (name, imageFile, labelFile, message) => {
      const dir = trainDir(name, imageFile, labelFile);
      const load = () => loadFashionMnist({ dir, split: 'train' });
      expect(load).toThrow(InvalidArgumentError);
      expect(load).toThrow(message.replaceAll('DIR', dir));
    },
  );
});

const debianFiles = Object.values(FASHION_MNIST_FILES).flatMap((f) => [
  join(FASHION_MNIST_DIR, f.images),
  join(FASHION_MNIST_DIR, f.labels),
]);
const missing = debianFiles.filter((path) => !existsSync(path));
const describeDebian = missing.length === 0 ? describe : describe.skip;
if (missing.length > 0) {
  console.warn(
    '[nclab] skipping the full Fashion-MNIST tests: ' +
      `${missing.join(', ')} not found ` +
      '(as root: apt-get install dataset-fashion-mnist)',
  );
}

describeDebian("Debian's Fashion-MNIST", () => {
  test('holds 60 000 train images, 6 000 of each class', () => {
    const train = loadFashionMnist({ split: 'train' });
    expect(train.N).toBe(60_000);
    expect(train.images.length).toBe(60_000 * 784);
    expect(train.classes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(countsOf(train.labels, 10)).toEqual(new Array(10).fill(6000));
    expect(sameBytes(train.labels, train.originalLabels)).toBe(true);
  });

  test('holds 10 000 test images, 1 000 of each class', () => {
    const raw = readFashionMnistRaw(FASHION_MNIST_DIR, 'test');
    expect(raw.images.shape).toEqual([10_000, 28, 28]);
    expect(countsOf(raw.labels, 10)).toEqual(new Array(10).fill(1000));
  });

  test('the committed fixture is a fresh cut of it', () => {
    expect(FIXTURE_DIR).toBe(FIXTURE);
    for (const [name, idx] of cutFashionFixture(FASHION_MNIST_DIR)) {
      const committed = readFileSync(join(FIXTURE, name));
      // The IDX content must match exactly; the compressed bytes may differ
      // under another zlib build, so only the gzip round trip is checked.
      expect(sameBytes(gunzipSync(committed), idx), name).toBe(true);
      const gzipped = gzipFixed(idx);
      expect(sameBytes(gunzipSync(gzipped), idx), name).toBe(true);
      expect(sameBytes(gzipFixed(idx), gzipped), name).toBe(true);
    }
  });
});
