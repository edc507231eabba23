// `nclab metrics` end to end: malformed feature files are refused before
// the browser starts (exit 2, the file named, nothing written), and a valid
// set is measured on the GPU with the float64 reference's values.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { encodeNpy } from '../src/data/npy';
import { collapseMetricsReference } from '../src/reference/metrics';
import { describeGpu } from './harness/gpu';
import { metricsInputs } from './page/inputs';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../bin/nclab.js', import.meta.url));
let dir: string;

const SET = metricsInputs({
  K: 3,
  d: 5,
  perClass: [40, 30, 50],
  kind: 'clustered',
  seed: 21,
  flip: 0.1,
  classifier: true,
});

/** Rows (N, d) of the set's d×N features. */
function rows(H: Float32Array, d: number, N: number): Float32Array {
  const out = new Float32Array(N * d);
  for (let i = 0; i < d; i++) {
    for (let n = 0; n < N; n++) out[n * d + i] = H[i * N + n]!;
  }
  return out;
}

async function files(changes: Record<string, Uint8Array> = {}) {
  const { K, d, N } = SET;
  const all: Record<string, Uint8Array> = {
    features: encodeNpy(rows(SET.H, d, N), [N, d], 'f4'),
    labels: encodeNpy(SET.labels, [N], 'i8'),
    trueLabels: encodeNpy(SET.trueLabels!, [N], 'i4'),
    classifier: encodeNpy(SET.W!, [K, d], 'f4'),
    bias: encodeNpy(SET.b!, [K], 'f8'),
    ...changes,
  };
  const paths: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(all)) {
    paths[name] = join(dir, `${name}.npy`);
    await writeFile(paths[name], bytes);
  }
  return paths;
}

async function nclab(paths: Record<string, string>, out: string) {
  const args = [
    CLI,
    'metrics',
    paths.features!,
    '--labels',
    paths.labels!,
    '--true-labels',
    paths.trueLabels!,
    '--classifier',
    paths.classifier!,
    '--bias',
    paths.bias!,
    '-o',
    out,
  ];
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      timeout: 300_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nclab-metrics-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('nclab metrics with malformed files', () => {
  const { K, d, N } = SET;
  const nan = rows(SET.H, d, N);
  nan[7 * d + 2] = NaN;
  const outOfRange = Int32Array.from(SET.labels);
  outOfRange[11] = -1;
  test.each([
    [
      'not a .npy file',
      { features: new Uint8Array([1, 2, 3]) },
      'features.npy: not a .npy file',
    ],
    [
      'a truncated file',
      { features: encodeNpy(rows(SET.H, d, N), [N, d], 'f4').subarray(0, 500) },
      'features.npy: truncated: shape (120, 5) of f4 needs 2400 bytes of data',
    ],
    [
      'NaN in the features',
      { features: encodeNpy(nan, [N, d], 'f4') },
      'features.npy: entry (7, 2) is NaN; expected finite values',
    ],
    [
      'labels of the wrong length',
      { labels: encodeNpy(SET.labels.subarray(1), [N - 1], 'i8') },
      'labels.npy: shape (119,) is invalid; expected (120,)',
    ],
    [
      'a label out of range',
      { labels: encodeNpy(outOfRange, [N], 'i4') },
      'labels.npy: entry 11 = -1 is invalid; expected a class from 0 to 1023',
    ],
    [
      'float labels',
      { labels: encodeNpy(SET.labels, [N], 'f4') },
      'labels.npy: dtype f4 is invalid; expected integer labels',
    ],
    [
      'a classifier of the wrong width',
      { classifier: encodeNpy(new Float32Array(K * 4), [K, 4], 'f4') },
      'classifier.npy: shape (3, 4) is invalid; expected (K, 5), one row per class',
    ],
    [
      'a bias of the wrong length',
      { bias: encodeNpy([0, 0], [2], 'f4') },
      'bias.npy: shape (2,) is invalid; expected (3,)',
    ],
  ])('%s', async (_, change, message) => {
    const out = join(dir, 'never.json');
    const result = await nclab(await files(change), out);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`nclab metrics: ${join(dir, '')}`);
    expect(result.stderr).toContain(message);
    await expect(stat(out)).rejects.toThrow();
  });
});

describe('nclab metrics refuses before any work', () => {
  test('a label beyond the class limit', async () => {
    const big = Int32Array.from(SET.labels);
    big[5] = 5000;
    const out = join(dir, 'never.json');
    const result = await nclab(
      await files({ labels: encodeNpy(big, [SET.N], 'i4') }),
      out,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'labels.npy: entry 5 = 5000 is invalid; expected a class from 0 to 1023',
    );
  });

  test('an output that is a directory or one of the inputs', async () => {
    const paths = await files();
    let result = await nclab(paths, join(dir, 'new') + '/');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('it names a directory; give a file name');
    result = await nclab(paths, paths.features!);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('it is one of the input files');
  });

  test('a missing file', async () => {
    const paths = await files();
    const result = await nclab(
      { ...paths, labels: join(dir, 'nope.npy') },
      join(dir, 'x.json'),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `${join(dir, 'nope.npy')}: cannot be read (ENOENT)`,
    );
  });
});

describeGpu('nclab metrics', () => {
  test('measures a feature set as the float64 reference does', async () => {
    const out = join(dir, 'metrics.json');
    const result = await nclab(await files(), out);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('[nclab] 120 examples, d = 5, K = 3');
    const report = JSON.parse(await readFile(out, 'utf8')) as {
      metrics: Record<string, Record<string, number>>;
    };
    const ref = collapseMetricsReference({
      K: SET.K,
      d: SET.d,
      N: SET.N,
      H: SET.H,
      labels: SET.labels,
      trueLabels: SET.trueLabels!,
      W: SET.W!,
      b: SET.b!,
    });
    // The tolerance of test/metrics.test.ts.
    for (const key of [
      'nc1',
      'cdnv',
      'traceRatio',
      'nc4',
      'accuracy',
    ] as const) {
      const got = report.metrics.observed![key]!;
      const want = ref.observed[key]!;
      expect(Math.abs(got - want), key).toBeLessThanOrEqual(
        1e-6 + 2e-3 * Math.abs(want),
      );
    }
    const memorization = report.metrics.memorization!.memorization!;
    expect(
      Math.abs(memorization - ref.memorization!.memorization),
    ).toBeLessThanOrEqual(1e-6 + 2e-3 * ref.memorization!.memorization);
  });
});
