// The per-adapter tuner (src/kernels/tuning.ts) and its cache
// (src/host/tuningCache.ts): the choice rule and cache format on the CPU;
// `nclab tune` end to end on the GPU (every candidate it times computed
// exact results, its choice is no slower than the default as it measured
// them, the cache file holds it); a runtime given that tuning computes
// exactly, and one given a tuning over the device's limits says so.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import type { AdapterSummary } from '../src/gpu/device';
import { DEFAULT_CLASS_SUMS_TUNING } from '../src/kernels/classSums';
import { DEFAULT_TILE } from '../src/kernels/matmul';
import {
  CLASS_SUMS_CANDIDATES,
  MATMUL_CANDIDATES,
  choose,
} from '../src/kernels/tuning';
import {
  TUNING_VERSION,
  cachedTuning,
  tuningKey,
  type TuningReport,
} from '../src/gpu/tuning';
import {
  readTuningCache,
  storeTuning,
  tuningCachePath,
} from '../src/host/tuningCache';
import { randomFloats } from '../src/util/random';
import { f32FromBase64 } from '../src/util/base64';
import { describeGpu } from './harness/gpu';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../bin/nclab.js', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nclab-tuning-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const adapter: AdapterSummary = {
  vendor: 'v',
  architecture: 'a',
  device: 'd',
  description: 'desc',
  isFallbackAdapter: true,
  features: [],
  limits: {},
};

describe('choose', () => {
  test('keeps the default unless a candidate is over 5 % faster', () => {
    const results = [
      { candidate: 'default', ms: 10 },
      { candidate: 'close', ms: 9.6 },
    ];
    expect(choose(results)).toEqual({
      chosen: 'default',
      defaultMs: 10,
      chosenMs: 10,
    });
    results.push({ candidate: 'fast', ms: 5 });
    expect(choose(results).chosen).toBe('fast');
  });

  test('skips candidates that were not timed', () => {
    const results = [
      { candidate: 'default', ms: null, problem: 'over a limit' },
      { candidate: 'b', ms: 3 },
      { candidate: 'c', ms: null, problem: 'wrong results' },
    ];
    expect(choose(results)).toEqual({
      chosen: 'b',
      defaultMs: null,
      chosenMs: 3,
    });
  });

  test('refuses an empty candidate list', () => {
    expect(() => choose([])).toThrow('choose: no candidates');
  });
});

describe('tuning cache', () => {
  const tuning = { matmul: DEFAULT_TILE, classSums: DEFAULT_CLASS_SUMS_TUNING };

  test('the key names the adapter and the tuner version', () => {
    expect(tuningKey(adapter)).toBe(`v${TUNING_VERSION}|v|a|d|desc|fallback`);
  });

  test('reads back only a well-formed entry for the same adapter', () => {
    const key = tuningKey(adapter);
    expect(cachedTuning({ [key]: { tuning } }, adapter)).toEqual(tuning);
    const other = { ...adapter, description: 'another' };
    expect(cachedTuning({ [key]: { tuning } }, other)).toBeNull();
    expect(cachedTuning(null, adapter)).toBeNull();
    expect(cachedTuning({ [key]: 3 }, adapter)).toBeNull();
    const broken = { ...tuning, matmul: { ...DEFAULT_TILE, BM: 'big' } };
    expect(cachedTuning({ [key]: { tuning: broken } }, adapter)).toBeNull();
    const extra = { ...tuning, matmul: { ...DEFAULT_TILE, evil: 1 } };
    expect(cachedTuning({ [key]: { tuning: extra } }, adapter)).toEqual(tuning);
  });

  test('the defaults are the first candidates', () => {
    expect(MATMUL_CANDIDATES[0]).toEqual(DEFAULT_TILE);
    expect(CLASS_SUMS_CANDIDATES[0]).toEqual(DEFAULT_CLASS_SUMS_TUNING);
  });
});

describe('tuning cache file', () => {
  test('lives in $NCLAB_CACHE_DIR, else $XDG_CACHE_HOME/nclab', () => {
    expect(tuningCachePath({ NCLAB_CACHE_DIR: '/c' })).toBe('/c/tuning.json');
    expect(tuningCachePath({ XDG_CACHE_HOME: '/x' })).toBe(
      '/x/nclab/tuning.json',
    );
  });

  test('a missing file is empty; a broken one is empty and reported', async () => {
    const warnings: string[] = [];
    const warn = (line: string) => warnings.push(line);
    expect(await readTuningCache(join(dir, 'none.json'), warn)).toEqual({});
    expect(warnings).toEqual([]);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '[1, 2');
    expect(await readTuningCache(broken, warn)).toEqual({});
    expect(warnings[0]).toContain(
      `ignoring the tuning cache ${broken}: not a JSON object`,
    );
  });

  test('storing keeps the other adapters and replaces the same one', async () => {
    const path = join(dir, 'nested', 'tuning.json');
    const entry = (key: string, measuredAt: string) =>
      ({ key, measuredAt }) as TuningReport;
    expect(await storeTuning(entry('a', '1'), path)).toBeNull();
    expect(await storeTuning(entry('b', '2'), path)).toBeNull();
    expect(await storeTuning(entry('a', '3'), path)).toBeNull();
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      a: { key: 'a', measuredAt: '3' },
      b: { key: 'b', measuredAt: '2' },
    });
  });
});

describe('nclab tune arguments', () => {
  test('a bad --repeats is refused before the browser starts', async () => {
    const failure = await run('node', [CLI, 'tune', '--repeats', '0']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain(
      'nclab tune: --repeats 0 is invalid; expected an integer from 1 to 100',
    );
  });
});

/** C = A·B and the class sums of C's columns, exactly (small integers). */
function expected(): { products: Float32Array; sums: Float32Array } {
  const a = randomFloats(11, 70 * 50, 'integer');
  const b = randomFloats(12, 50 * 90, 'integer');
  const products = new Float32Array(70 * 90);
  for (let i = 0; i < 70; i++)
    for (let k = 0; k < 50; k++)
      for (let j = 0; j < 90; j++)
        products[i * 90 + j]! += a[i * 50 + k]! * b[k * 90 + j]!;
  const sums = new Float32Array(70 * 4);
  for (let i = 0; i < 70; i++)
    for (let j = 0; j < 90; j++)
      sums[i * 4 + ((j * 7) % 4)]! += products[i * 90 + j]!;
  return { products, sums };
}

describeGpu('tuner on the GPU', (gpu) => {
  test('nclab tune times correct candidates only, chooses one no slower than the default and caches it', async () => {
    const cacheDir = join(dir, 'cache');
    const { stdout } = await run(
      'node',
      [CLI, 'tune', '--repeats', '2', '--json'],
      { env: { ...process.env, NCLAB_CACHE_DIR: cacheDir } },
    );
    const report = JSON.parse(stdout) as TuningReport;
    for (const kernel of [report.matmul, report.classSums]) {
      const timed = kernel.results.filter((r) => r.ms !== null);
      expect(timed.length).toBeGreaterThan(1);
      // A candidate is untimed only for a stated reason.
      for (const r of kernel.results) {
        if (r.ms === null) expect(r.problem).toMatch(/adapter allows|invalid/);
      }
      expect(kernel.defaultMs).not.toBeNull();
      expect(kernel.chosenMs!).toBeLessThanOrEqual(kernel.defaultMs!);
      expect(timed.map((r) => r.candidate)).toContainEqual(kernel.chosen);
    }
    expect(report.key).toMatch(/^v\d+\|google\|/);
    const cache = JSON.parse(
      await readFile(join(cacheDir, 'tuning.json'), 'utf8'),
    ) as Record<string, TuningReport>;
    expect(cache[report.key]!.tuning).toEqual(report.tuning);

    // A runtime given the chosen tuning still computes exactly.
    const { errors, products, sums } = await gpu.run('tune', {
      tuning: report.tuning,
    });
    expect(errors.tuned).toBeNull();
    const want = expected();
    expect(f32FromBase64(products!)).toEqual(want.products);
    expect(f32FromBase64(sums!)).toEqual(want.sums);
  }, 180_000);

  test('a tuning over the device limits is refused with the tile named', async () => {
    const tile = { BM: 128, BN: 128, BK: 16, TM: 2, TN: 2 };
    const { errors } = await gpu.run('tune', {
      tuning: { matmul: tile, classSums: DEFAULT_CLASS_SUMS_TUNING },
    });
    expect(errors.tuned?.message).toContain(
      'matmul: tile {"BM":128,"BN":128,"BK":16,"TM":2,"TN":2} needs 4096 threads per workgroup',
    );
  });
});
