// Adapter choice: the --adapter values and their errors, the page URL that
// carries the choice, kernels fitted to a 128-invocation workgroup limit
// (and explicit shapes over it refused), the `auto` cache, and, end to end,
// `nclab doctor` surveying both adapters and `nclab train` on each.

import { execFile } from 'node:child_process';
import {
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';

import {
  adapterRequestFromSearch,
  adapterSearch,
  parseAdapterChoice,
} from '../src/gpu/adapters';
import {
  ENGINE_LIMITS,
  adapterName,
  planLimits,
  type AdapterSummary,
} from '../src/gpu/device';
import {
  DEFAULT_CLASS_SUMS_TUNING,
  planClassSums,
} from '../src/kernels/classSums';
import { reduceWorkgroupSize } from '../src/kernels/common';
import {
  DEFAULT_TILE,
  NARROW_M_TILE,
  NARROW_N_TILE,
  SMALL_TILE,
  fitTile,
  planMatmul,
  type MatmulTile,
} from '../src/kernels/matmul';
import {
  adapterCachePath,
  chooseAdapter,
  describeSurvey,
  fastestAdapter,
  type AdapterProbe,
} from '../src/host/adapterChoice';
import { gamma32 } from '../src/reference/tolerance';
import type { TrainReport } from '../src/train/run';
import { toBase64, u32FromBase64 } from '../src/util/base64';
import { randomFloats } from '../src/util/random';
import { describeGpu } from './harness/gpu';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../bin/nclab.js', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nclab-adapters-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function nclab(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      timeout: 180_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A compatibility-mode device's limits, with the engine's other needs. */
const COMPAT_LIMITS = {
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBufferBindingSize: 2 ** 27,
  maxComputeInvocationsPerWorkgroup: 128,
  maxComputeWorkgroupSizeX: 128,
  maxComputeWorkgroupStorageSize: 16384,
};
const CORE_LIMITS = {
  ...COMPAT_LIMITS,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
};

const threads = (t: MatmulTile) => (t.BM / t.TM) * (t.BN / t.TN);

describe('adapter choices', () => {
  test('--adapter takes auto, core or compat', () => {
    for (const value of ['auto', 'core', 'compat']) {
      expect(parseAdapterChoice(value)).toBe(value);
    }
  });

  test('a bad --adapter names the value and the allowed ones', () => {
    expect(() => parseAdapterChoice('swiftshader')).toThrow(
      '--adapter "swiftshader" is invalid; expected one of auto, core, compat',
    );
    expect(() => parseAdapterChoice('')).toThrow('--adapter "" is invalid');
  });

  test('a page URL carries the choice; core needs no parameter', () => {
    const compat = adapterSearch('compat', 128);
    expect(compat).toEqual({ adapter: 'compat', workgroup: '128' });
    expect(
      adapterRequestFromSearch(`?${new URLSearchParams(compat).toString()}`),
    ).toEqual({ featureLevel: 'compatibility', maxWorkgroupInvocations: 128 });
    expect(adapterSearch('core')).toEqual({});
    expect(adapterRequestFromSearch('')).toEqual({});
    expect(adapterRequestFromSearch('?other=1')).toEqual({});
  });

  test('a bad page URL is refused, naming the parameter', () => {
    expect(() => adapterRequestFromSearch('?adapter=gl')).toThrow(
      `the page URL's ?adapter= "gl" is invalid; expected one of core, compat`,
    );
    expect(() => adapterRequestFromSearch('?workgroup=64.5')).toThrow(
      "the page URL's ?workgroup=64.5 is invalid; expected a positive integer",
    );
  });

  test('nclab refuses a bad --adapter before starting anything', async () => {
    const result = await nclab(['--adapter', 'gpu', 'train', 'missing.json']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'nclab: --adapter "gpu" is invalid; expected one of auto, core, compat',
    );
  });

  test('a bad $NCLAB_ADAPTER is refused and named as the source', async () => {
    const result = await nclab(['report', 'missing.jsonl'], {
      NCLAB_ADAPTER: 'vulkan',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--adapter "vulkan" is invalid; expected one of auto, core, compat ' +
        '(from $NCLAB_ADAPTER)',
    );
  });
});

describe('workgroup limits', () => {
  test('the engine asks for no more than compatibility devices grant', () => {
    expect(ENGINE_LIMITS.maxComputeInvocationsPerWorkgroup).toBe(128);
    expect(ENGINE_LIMITS.maxComputeWorkgroupSizeX).toBe(128);
  });

  test('default tiles are fitted to 128 threads, keeping their outputs', () => {
    for (const tile of [DEFAULT_TILE, NARROW_M_TILE, NARROW_N_TILE]) {
      expect(threads(tile)).toBe(256);
      const fitted = fitTile(tile, COMPAT_LIMITS);
      expect(threads(fitted)).toBe(128);
      expect([fitted.BM, fitted.BN, fitted.BK]).toEqual([
        tile.BM,
        tile.BN,
        tile.BK,
      ]);
    }
    expect(fitTile(DEFAULT_TILE, COMPAT_LIMITS)).toEqual({
      ...DEFAULT_TILE,
      TM: 8,
    });
    expect(
      fitTile(SMALL_TILE, {
        ...COMPAT_LIMITS,
        ...{ maxComputeInvocationsPerWorkgroup: 32 },
      }),
    ).toEqual({ BM: 16, BN: 16, BK: 16, TM: 4, TN: 2 });
    // Where 256 threads fit, the tile is kept as it is.
    expect(fitTile(DEFAULT_TILE, CORE_LIMITS)).toEqual(DEFAULT_TILE);
  });

  test('planMatmul fits its default tile and refuses an explicit one', () => {
    const plan = planMatmul([1, 256, 256], [1, 256, 256], {}, COMPAT_LIMITS);
    expect(threads(plan.tile)).toBe(128);
    expect(() =>
      planMatmul(
        [1, 256, 256],
        [1, 256, 256],
        { tile: DEFAULT_TILE },
        COMPAT_LIMITS,
      ),
    ).toThrow(
      'matmul: tile {"BM":64,"BN":64,"BK":16,"TM":4,"TN":4} needs 256 ' +
        'threads per workgroup; the adapter allows 128',
    );
  });

  test('a tuned tile over the limit is refused, not fitted', () => {
    const tuned = { BM: 128, BN: 64, BK: 16, TM: 4, TN: 4 };
    expect(() =>
      planMatmul([1, 256, 256], [1, 256, 256], {}, COMPAT_LIMITS, tuned),
    ).toThrow('needs 512 threads per workgroup; the adapter allows 128');
  });

  test('the default class sums fit; a wider workgroup asked for is refused', () => {
    const plan = planClassSums([1, 64, 1000], [1, 1, 1000], 10, COMPAT_LIMITS);
    expect(plan.tuning).toEqual(DEFAULT_CLASS_SUMS_TUNING);
    const wide = { WG: 256, ROWS: 1, KB: 8, chunk: 16384 };
    expect(() =>
      planClassSums([1, 64, 1000], [1, 1, 1000], 10, COMPAT_LIMITS, wide),
    ).toThrow(
      'classSums: tuning.WG = 256 is invalid; expected an integer from 1 to 128',
    );
  });

  test('the split reductions use 256 threads, or the limit below it', () => {
    expect(reduceWorkgroupSize(CORE_LIMITS)).toBe(256);
    expect(reduceWorkgroupSize(COMPAT_LIMITS)).toBe(128);
    expect(
      reduceWorkgroupSize({
        maxComputeInvocationsPerWorkgroup: 1024,
        maxComputeWorkgroupSizeX: 1024,
      }),
    ).toBe(256);
  });

  const adapter = (limits: Record<string, number>): AdapterSummary => ({
    vendor: '',
    architecture: '',
    device: '0x0000',
    description: 'ANGLE (Mesa, llvmpipe, OpenGL ES 3.2)',
    isFallbackAdapter: false,
    featureLevel: 'compatibility',
    features: [],
    limits,
  });

  test('a workgroup ceiling caps what the device is asked for', () => {
    const limits = Object.fromEntries(
      Object.entries(ENGINE_LIMITS).map(([k, v]) => [k, v * 8]),
    );
    const request = planLimits(adapter(limits), {}, 128);
    expect(request.maxComputeInvocationsPerWorkgroup).toBe(128);
    expect(request.maxComputeWorkgroupSizeX).toBe(128);
    expect(request.maxComputeWorkgroupSizeY).toBe(128);
    expect(request.maxStorageBuffersPerShaderStage).toBe(
      limits.maxStorageBuffersPerShaderStage,
    );
    expect(() => planLimits(adapter(limits), {}, 64)).toThrow(
      'cannot provide maxComputeInvocationsPerWorkgroup = 128: it supports at most 64',
    );
  });

  test('an ANGLE adapter is named by its description', () => {
    expect(adapterName(adapter({}))).toBe(
      'ANGLE (Mesa, llvmpipe, OpenGL ES 3.2) (compat)',
    );
  });
});

describe('auto', () => {
  const probe = (kind: 'core' | 'compat', ms: number | null): AdapterProbe => ({
    kind,
    browser: 'chromium',
    report:
      ms === null
        ? { ok: false, userAgent: '', problem: 'no adapter' }
        : { ok: true, userAgent: '', speed: { workload: 'w', ms } },
  });

  test('picks the usable adapter with the shortest speed probe', () => {
    expect(
      fastestAdapter([probe('core', 200), probe('compat', 50)])?.kind,
    ).toBe('compat');
    expect(fastestAdapter([probe('core', 20), probe('compat', 50)])?.kind).toBe(
      'core',
    );
    expect(
      fastestAdapter([probe('core', 200), probe('compat', null)])?.kind,
    ).toBe('core');
    expect(fastestAdapter([probe('core', null)])).toBeNull();
    expect(
      describeSurvey(
        [
          { kind: 'core', speedMs: 200 },
          { kind: 'compat', speedMs: 50 },
        ],
        'compat',
      ),
    ).toBe('4.0× faster than core');
  });

  test('an explicit choice is taken as it is', async () => {
    expect(await chooseAdapter('compat')).toEqual({
      kind: 'compat',
      why: '--adapter',
    });
  });

  test('uses the cached survey of this browser, until the browser changes', async () => {
    const browser = join(dir, 'chrome');
    await writeFile(browser, '#!/bin/sh\n');
    await chmod(browser, 0o755);
    const env = { CHROME_PATH: browser, NCLAB_CACHE_DIR: join(dir, 'cache') };
    const info = await stat(browser);
    await mkdir(env.NCLAB_CACHE_DIR);
    const entry = {
      browser,
      stamp: `${info.size}|${info.mtimeMs}`,
      measuredAt: '2026-01-02T03:04:05.000Z',
      chosen: 'compat',
      adapters: [
        { kind: 'core', name: 'sw', speedMs: 300, problem: null },
        { kind: 'compat', name: 'gl', speedMs: 100, problem: null },
      ],
    };
    await writeFile(
      adapterCachePath(env),
      JSON.stringify({ [browser]: entry }),
    );
    const chosen = await chooseAdapter('auto', { env });
    expect(chosen.kind).toBe('compat');
    expect(chosen.why).toBe(
      'auto: 3.0× faster than core in the speed probe of 2026-01-02, ' +
        `cached in ${adapterCachePath(env)}; \`nclab doctor\` measures again`,
    );
  });
});

/** A compat suite that needs the adapter: fails in CI, skips elsewhere. */
function compatReason(): string {
  return inject('gpuUnavailable') || inject('compatUnavailable');
}

describeGpu('workgroup limits on the device', { compat: true }, (gpu) => {
  test('kernels fit the device; wider shapes asked for are refused', async () => {
    const result = await gpu.run('workgroupFit');
    const { maxInvocations, defaultTile, errors } = result;
    if (gpu.adapter === 'compat') {
      // The test page caps compat devices at 128 (globalSetup.ts).
      expect(maxInvocations).toBe(128);
      expect(threads(defaultTile)).toBe(128);
      expect(errors.wideTile?.message).toContain(
        'needs 256 threads per workgroup; the adapter allows 128',
      );
      expect(errors.wideClassSums?.message).toContain(
        'tuning.WG = 256 is invalid; expected an integer from 1 to 128',
      );
    } else {
      expect(maxInvocations).toBeGreaterThanOrEqual(256);
      expect(defaultTile).toEqual(DEFAULT_TILE);
      expect(errors).toEqual({ wideTile: null, wideClassSums: null });
    }
  });

  // 6000² Gram floats are 137 MB, over compat's 128 MiB binding: the
  // candidate tiles must shrink to fit (one tile per 256 MiB before). Too
  // slow for SwiftShader, so compat only.
  test.runIf(gpu.adapter === 'compat')(
    'k-NN tiles fit the largest binding of the device',
    async () => {
      const [N, p, k] = [6000, 3, 4];
      const points = randomFloats(31, N * p);
      const result = await gpu.run('knn', {
        points: toBase64(points),
        N,
        p,
        k,
      });
      const index = u32FromBase64(result.index);
      const dist = (i: number, j: number) => {
        let s = 0;
        for (let c = 0; c < p; c++)
          s += (points[i * p + c]! - points[j * p + c]!) ** 2;
        return s;
      };
      // Every 30th row against brute force in float64: a pick is right when
      // within 2ε of the k-th distance, ε = γ_(p+2)·(‖x‖² + ‖y‖² + 2|xᵀy|)
      // bounded by γ_(p+2)·2(‖x‖² + max‖y‖²) (as in knn.test.ts).
      let maxNorm = 0;
      for (let i = 0; i < N; i++) {
        let s = 0;
        for (let c = 0; c < p; c++) s += points[i * p + c]! ** 2;
        maxNorm = Math.max(maxNorm, s);
      }
      for (let i = 0; i < N; i += 30) {
        const ranked = Array.from({ length: N }, (_, j) => j)
          .filter((j) => j !== i)
          .map((j) => dist(i, j))
          .sort((a, b) => a - b);
        let own = 0;
        for (let c = 0; c < p; c++) own += points[i * p + c]! ** 2;
        const eps = gamma32(p + 2) * 2 * (own + maxNorm);
        const picked = Array.from(index.subarray(i * k, (i + 1) * k));
        expect(new Set(picked).size, `row ${i}`).toBe(k);
        for (const j of picked) {
          expect(j, `row ${i}`).not.toBe(i);
          expect(dist(i, j), `row ${i}`).toBeLessThanOrEqual(
            ranked[k - 1]! + 2 * eps,
          );
        }
      }
    },
  );
});

describeGpu('nclab on each adapter', () => {
  let file: string;
  beforeAll(async () => {
    file = join(dir, 'ufm.json');
    await writeFile(
      file,
      JSON.stringify({
        model: 'ufm',
        K: 3,
        d: 4,
        n: 5,
        loss: { kind: 'ce' },
        lambdaW: 5e-3,
        lambdaH: 5e-3,
        lr: 0.5,
        steps: 20,
      }),
    );
  });

  test('doctor surveys both adapters, and auto then uses the faster', async (context) => {
    if (compatReason()) {
      if (process.env.CI)
        throw new Error(`no compat adapter: ${compatReason()}`);
      context.skip(`no compat adapter: ${compatReason()}`);
    }
    const env = { NCLAB_ADAPTER: 'auto', NCLAB_CACHE_DIR: join(dir, 'auto') };
    const doctor = await nclab(['doctor', '--json'], env);
    expect(doctor.code, doctor.stderr).toBe(0);
    const report = JSON.parse(doctor.stdout) as {
      chosen: string;
      adapters: {
        kind: string;
        ok: boolean;
        adapter: { name: string; featureLevel: string };
        speed: { ms: number };
      }[];
    };
    expect(report.adapters.map((a) => [a.kind, a.ok])).toEqual([
      ['core', true],
      ['compat', true],
    ]);
    const [core, compat] = report.adapters;
    expect(core!.adapter.featureLevel).toBe('core');
    expect(compat!.adapter.featureLevel).toBe('compatibility');
    const faster = core!.speed.ms <= compat!.speed.ms ? core! : compat!;
    expect(report.chosen).toBe(faster.kind);
    const cache = JSON.parse(
      await readFile(join(dir, 'auto', 'adapters.json'), 'utf8'),
    ) as Record<string, { chosen: string }>;
    expect(Object.values(cache).map((e) => e.chosen)).toEqual([faster.kind]);

    const out = join(dir, 'auto.json');
    const train = await nclab(['train', file, '-o', out], env);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).toContain(`[nclab] adapter: ${faster.kind} (auto: `);
    const trained = JSON.parse(await readFile(out, 'utf8')) as TrainReport;
    expect(trained.adapter).toBe(faster.adapter.name);
  });

  test('--adapter compat trains on the compatibility adapter', async (context) => {
    if (compatReason()) {
      if (process.env.CI)
        throw new Error(`no compat adapter: ${compatReason()}`);
      context.skip(`no compat adapter: ${compatReason()}`);
    }
    const out = join(dir, 'compat.json');
    const result = await nclab([
      '--adapter',
      'compat',
      'train',
      file,
      '-o',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('[nclab] adapter: compat (--adapter)');
    const trained = JSON.parse(await readFile(out, 'utf8')) as TrainReport;
    expect(trained.adapter).toMatch(/\(compat\)$/);
    expect(trained.runs[0]!.divergedAtStep).toBeNull();
  });
});
