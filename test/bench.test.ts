// The benchmark stays runnable: a quick run in the browser verifies every
// workload against plain JS, runs TensorFlow.js's WebGPU and WebGL backends
// on the ufm and metrics rows, puts every row against the roofs measured in
// the same run, and writes its JSON and markdown report. Without a browser:
// the roofline arithmetic, the TF.js ufm step and metrics on TF.js's CPU
// backend (the same code the page runs), and `nclab bench`'s arguments.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import * as tf from '@tensorflow/tfjs';
import puppeteer from 'puppeteer-core';
import {
  afterAll,
  beforeAll,
  describe,
  expect,
  inject,
  test,
  vi,
} from 'vitest';

import { featureSet, metricsJs } from '../bench/metrics';
import { applyRoofline, measuredRoofs, rooflineWork } from '../bench/roofline';
import { cellText, tuningTable } from '../bench/report';
import { formatMarkdown, runBench } from '../bench/run';
import {
  TFJS_BACKENDS,
  measureTfjsUfmBackend,
  type TfjsBackend,
} from '../bench/tfjs';
import { measureTfjsMetricsBackend } from '../bench/tfjsMetrics';
import {
  UFM_CHECK_STEPS,
  UFM_TOLERANCE,
  type UfmBenchConfig,
} from '../bench/ufm';
import type {
  BenchResult,
  Measurement,
  WorkloadResult,
} from '../bench/workloads';
import type { TuningReport } from '../src/gpu/tuning';
import { trainUfmReference } from '../src/reference/ufm';
import { describeGpu } from './harness/gpu';

describeGpu('benchmark (quick)', () => {
  test('verifies and times every workload, and writes the report', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'nclab-bench-'));
    const run = await runBench({ quick: true, outDir, log: () => {} });
    expect(run.failures).toEqual([]);
    const names = run.result.workloads.map((w) => w.name).join(' ');
    expect(names).toMatch(/matmul/);
    expect(names).toMatch(/classSums/);
    for (const workload of run.result.workloads) {
      expect(workload.verified).toBe(true);
      expect(workload.nclab?.rate).toBeGreaterThan(0);
      expect(workload.js?.rate).toBeGreaterThan(0);
    }
    const markdown = await readFile(run.markdownPath, 'utf8');
    expect(markdown).toContain('| workload |');
    expect(markdown).toContain(run.result.adapter.name);
    const json = JSON.parse(await readFile(run.jsonPath, 'utf8')) as unknown;
    expect(json).toMatchObject({ adapter: { name: run.result.adapter.name } });

    // TF.js: both backends on the ufm step and the metrics, each verified
    // and timed, or, where a backend cannot run here, saying why.
    const row = (name: string) =>
      run.result.workloads.find((w) => w.name === name)!;
    expect(markdown).toContain(
      '| TF.js WebGPU ms | nclab/TF.js WebGPU | TF.js WebGL ms | ' +
        'nclab/TF.js WebGL | roof |',
    );
    for (const w of [row('ufm training step'), row('collapse metrics')]) {
      expect(w.alternatives?.map((a) => a.id)).toEqual(
        TFJS_BACKENDS.map((b) => b.id),
      );
      for (const a of w.alternatives!) {
        if (a.unavailable !== undefined) {
          expect(a.unavailable).toMatch(/\w{4}/);
          expect(markdown).toContain(`not run: ${cellText(a.unavailable)}`);
          continue;
        }
        expect(a.problem, `${w.name}, ${a.label}`).toBeUndefined();
        expect(a.verified).toBe(true);
        expect(a.device).toMatch(/\w/);
        expect(a.compileMs).toBeGreaterThanOrEqual(0);
        expect(a.measurement!.rate).toBeGreaterThan(0);
        expect(a.ratio).toBeCloseTo(w.nclab!.rate / a.measurement!.rate, 12);
        expect(markdown).toMatch(
          new RegExp(`\\| ${w.name} \\| ${a.label} \\| .* \\| yes \\(`),
        );
      }
    }

    // The roofs are this run's copy and fastest matmul rows, and every
    // row's fraction is computed from them.
    const roofs = run.result.roofs!;
    expect(roofs.copyGBs).toBe(row('copy').nclab!.rate);
    const matmuls = run.result.workloads.filter((w) => w.kind === 'matmul');
    expect(roofs.matmulGFLOPs).toBe(
      Math.max(...matmuls.map((w) => w.nclab!.rate)),
    );
    const compared = run.result.workloads.filter((w) => w.roofWork);
    expect(compared.length).toBeGreaterThan(5);
    for (const w of compared) {
      const allowedMs = Math.max(
        w.roofWork!.flops / (roofs.matmulGFLOPs * 1e6),
        w.roofWork!.bytes / (roofs.copyGBs * 1e6),
      );
      expect(w.roof!.fraction).toBeCloseTo(allowedMs / w.nclab!.medianMs, 12);
    }
    expect(json).toMatchObject({ roofs: { matmulRow: roofs.matmulRow } });
    await rm(outDir, { recursive: true, force: true });
  });

  test('the page runs for a visitor and shows the report', async () => {
    const browser = await puppeteer.connect({
      browserWSEndpoint: inject('browserWsEndpoint'),
    });
    const page = await browser.newPage();
    try {
      await page.goto(new URL('bench/index.html', inject('pageBaseUrl')).href);
      await page.waitForSelector('#workloads input');
      // Nothing runs before Run is pressed.
      expect(await page.$eval('#report', (e) => e.childElementCount)).toBe(0);
      // The full list's opt-in row (hours on SwiftShader) starts unticked.
      await page.click('#quick');
      const boxes = () =>
        page.$$eval('#workloads input', (inputs) =>
          inputs.map((box) => [box.value, box.checked] as const),
        );
      const full = await boxes();
      expect(full.filter(([, on]) => !on).map(([name]) => name)).toEqual([
        'knn graph N=70000',
      ]);
      await page.click('#quick');
      expect((await boxes()).every(([, on]) => on)).toBe(true);
      const keep = ['matmul 64³', 'copy'];
      await page.$$eval(
        '#workloads input',
        (boxes, names) =>
          boxes.forEach((box) => (box.checked = names.includes(box.value))),
        keep,
      );
      await page.click('#run');
      await page.waitForFunction(
        () =>
          /^(Done|Failed)/.test(document.querySelector('#status')!.textContent),
        { timeout: 120_000 },
      );
      expect(await page.$eval('#status', (e) => e.textContent)).toBe(
        'Done: 2 workloads.',
      );
      const rows = await page.$$eval(
        '#report table:first-of-type tbody tr',
        (trs) => trs.map((tr) => Array.from(tr.cells, (td) => td.textContent)),
      );
      expect(rows.map((cells) => cells[0])).toEqual(keep);
      for (const cells of rows) expect(cells.at(-1)).toBe('yes');
      const text = await page.$eval('#report', (e) => e.textContent);
      expect(text).toMatch(
        /Roofline \(this run, this adapter\): the copy kernel moves/,
      );
      expect(text).toContain('Download: ');
    } finally {
      await page.close();
      await browser.disconnect();
    }
  });
});

function measured(rate: number, medianMs = 1): Measurement {
  return { medianMs, samplesMs: [medianMs], opsPerSample: 1, rate };
}

function row(
  name: string,
  kind: WorkloadResult['kind'],
  extra: Partial<WorkloadResult>,
): WorkloadResult {
  return {
    name,
    kind,
    shape: '',
    unit: 'GFLOP/s',
    workPerOp: 1,
    verified: true,
    maxAbsDifference: 0,
    ...extra,
  };
}

function benchResult(workloads: WorkloadResult[]): BenchResult {
  return {
    adapter: {
      name: 'test adapter',
      vendor: 'v',
      architecture: 'a',
      device: '',
      description: 'd',
      isFallbackAdapter: false,
      features: [],
      limits: {},
    },
    userAgent: 'test',
    timingMethod: 'wall-clock',
    quick: true,
    repeats: 3,
    startedAt: '2026-01-01T00:00:00.000Z',
    totalMs: 1,
    workloads,
    problems: [],
  };
}

describe('report: roofline and TF.js table', () => {
  const nclab = (rate: number, medianMs = 1) => ({
    ...measured(rate, medianMs),
    method: 'wall-clock' as const,
  });

  test('counts FLOPs and compulsory bytes per operation', () => {
    expect(
      rooflineWork({
        kind: 'matmul',
        name: 'm',
        M: 2,
        N: 4,
        K: 3,
        transB: false,
        seed: 1,
      }),
    ).toEqual({ flops: 2 * 2 * 4 * 3, bytes: 4 * (6 + 12 + 8) });
    expect(rooflineWork({ kind: 'copy', name: 'c', floats: 10 })).toEqual({
      flops: 0,
      bytes: 80,
    });
    const config = {
      K: 2,
      d: 3,
      countsPerClass: [5, 5],
    } as unknown as UfmBenchConfig;
    const ufm = rooflineWork({
      kind: 'ufm',
      name: 'u',
      configs: [config, config],
      targetSpanMs: 1,
    });
    // Two configurations of 6·K·d·N + 4·d·N FLOPs and 8·d·N + 4·N bytes.
    expect(ufm).toEqual({
      flops: 2 * (6 * 2 * 3 * 10 + 4 * 3 * 10),
      bytes: 2 * (8 * 3 * 10 + 4 * 10),
    });
  });

  test('takes the roofs from the copy and the fastest verified matmul', () => {
    const result = benchResult([
      // 2e6 bytes in 1 ms: the copy is its own roof.
      row('copy', 'copy', {
        unit: 'GB/s',
        nclab: nclab(2),
        roofWork: { flops: 0, bytes: 2e6 },
      }),
      row('matmul a', 'matmul', { nclab: nclab(0.4) }),
      row('matmul b', 'matmul', {
        nclab: nclab(0.5),
        roofWork: { flops: 5e5, bytes: 1 },
      }),
      // Faster, but it failed its check: not a roof.
      row('matmul c', 'matmul', { nclab: nclab(9), verified: false }),
      // 1e9 FLOPs at 0.5 GFLOP/s take 2 s, 1e8 bytes at 2 GB/s 50 ms:
      // compute-bound, and 4 s measured is half the roof.
      row('step', 'ufm', {
        nclab: nclab(1, 4_000),
        roofWork: { flops: 1e9, bytes: 1e8 },
      }),
      // 1e9 bytes take 500 ms at 2 GB/s; 1e6 FLOPs 2 ms.
      row('sums', 'classSums', {
        nclab: nclab(1, 2_000),
        roofWork: { flops: 1e6, bytes: 1e9 },
      }),
      row('sweep', 'sweep', { nclab: nclab(1) }),
    ]);
    applyRoofline(result);
    expect(result.roofs).toEqual({
      copyGBs: 2,
      matmulGFLOPs: 0.5,
      matmulRow: 'matmul b',
    });
    const [copy, , matmul, , step, sums, sweep] = result.workloads;
    expect(copy!.roof).toEqual({ bound: 'bandwidth', roofMs: 1, fraction: 1 });
    expect(matmul!.roof).toEqual({ bound: 'compute', roofMs: 1, fraction: 1 });
    expect(step!.roof).toEqual({
      bound: 'compute',
      roofMs: 2_000,
      fraction: 0.5,
    });
    expect(sums!.roof).toEqual({
      bound: 'bandwidth',
      roofMs: 500,
      fraction: 0.25,
    });
    expect(sweep!.roof).toBeUndefined();
    const markdown = formatMarkdown(result, 'test browser');
    expect(markdown).toContain('| 50 % (compute) |');
    expect(markdown).toContain('| 25 % (bandwidth) |');
    expect(markdown).toContain(
      'the copy kernel moves 2.00 GB/s (read + write), the best matrix ' +
        'product reaches 0.500 GFLOP/s (matmul b)',
    );
    expect(markdown).toContain('| 100 % (bandwidth) |');
    expect(markdown).toContain(
      'Not compared, having no roofline count (sweeps time host work ' +
        'too): matmul a, matmul c, sweep.',
    );
  });

  test('a backend that cannot run states why, on one table line', () => {
    const result = benchResult([
      row('step', 'ufm', {
        unit: 'steps/s',
        nclab: nclab(1, 10),
        alternatives: [
          {
            id: 'tfjs-webgl',
            label: 'TF.js WebGL',
            unavailable: 'WebGL is not supported\n    at a | b',
            verified: false,
            maxAbsDifference: null,
          },
        ],
      }),
    ]);
    const markdown = formatMarkdown(result, 'test browser');
    expect(markdown).toContain(
      '| step | TF.js WebGL | – | – | – | – | – | not run: WebGL is not ' +
        'supported at a \\| b |',
    );
    // Not timed, not a failure of the run, and n/a in the main table.
    expect(markdown).toContain('| n/a | – |');
    expect(markdown).not.toContain('Failures:');
  });

  test('has no roofs when the copy row did not run', () => {
    const result = benchResult([
      row('matmul a', 'matmul', { nclab: nclab(0.4) }),
      row('step', 'ufm', {
        nclab: nclab(1, 10),
        roofWork: { flops: 1, bytes: 1 },
      }),
    ]);
    expect(measuredRoofs(result)).toBeNull();
    applyRoofline(result);
    expect(result.workloads[1]!.roof).toBeUndefined();
    expect(formatMarkdown(result, 'test browser')).toContain(
      'Roofline: not computed, the copy or a matmul row was not run or ' +
        'did not verify.',
    );
  });
});

// The TF.js code of the benchmark page, run on TF.js's CPU backend in Node:
// the same objective, optimizers, metric passes and checks.
describe('report: tuning table', () => {
  const tile = (BM: number, TM: number) => ({ BM, BN: 64, BK: 16, TM, TN: 4 });
  const sums = (chunk: number) => ({ WG: 64, ROWS: 4, KB: 16, chunk });
  const tuning: TuningReport = {
    version: 1,
    key: 'v1|x',
    adapter: 'test adapter',
    method: 'gpu-timestamp',
    repeats: 5,
    measuredAt: '2026-12-05T00:00:00Z',
    matmul: {
      shape: '256×256 · 256×256',
      results: [
        { candidate: tile(64, 4), ms: 80 },
        { candidate: tile(128, 8), ms: 50 },
        { candidate: tile(256, 8), ms: null, problem: 'over a limit' },
      ],
      chosen: tile(128, 8),
      defaultMs: 80,
      chosenMs: 50,
    },
    classSums: {
      shape: 'X 64×65536, K = 10',
      results: [{ candidate: sums(16384), ms: 10 }],
      chosen: sums(16384),
      defaultMs: 10,
      chosenMs: 10,
    },
    tuning: { matmul: tile(128, 8), classSums: sums(16384) },
  };
  const row = (extra: Partial<WorkloadResult>): WorkloadResult => ({
    name: 'auto-tuner',
    kind: 'tuning',
    shape: '',
    unit: 'GFLOP/s',
    workPerOp: 1,
    verified: true,
    maxAbsDifference: 0,
    ...extra,
  });

  test('one line per kernel: default, choice and their ratio', () => {
    const lines = tuningTable({ workloads: [row({ tuning })] } as BenchResult);
    expect(lines).toContain(
      '| matmul | 256×256 · 256×256 | 2 of 3 | 64×64×16 tile, 4×4 per thread | ' +
        '80.0 | 128×64×16 tile, 8×4 per thread | 50.0 | 1.60× |',
    );
    expect(lines).toContain(
      '| class sums | X 64×65536, K = 10 | 1 of 1 | 64 threads, 4 rows × 16 ' +
        'classes, chunk 16384 | 10.0 | 64 threads, 4 rows × 16 classes, ' +
        'chunk 16384 | 10.0 | 1.00× |',
    );
  });

  test('no table without a tuner row', () => {
    expect(tuningTable({ workloads: [row({})] } as BenchResult)).toEqual([]);
  });
});

describe('TF.js alternatives (CPU backend)', () => {
  const cpu: Extract<TfjsBackend, { ready: true }> = {
    ready: true,
    tf,
    device: 'TF.js CPU',
    sameAdapter: null,
  };
  // Any backend's label will do: the results carry the label they are given.
  const spec = TFJS_BACKENDS[0];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
    // The page's progress lines, and TF.js's advice to install its Node
    // backend (the CPU backend is what is under test).
    vi.spyOn(console, 'info').mockImplementation(() => {});
    const warn = console.warn.bind(console);
    vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      if (!String(args[0]).includes('running TensorFlow.js in Node.js')) {
        warn(...args);
      }
    });
  });
  afterAll(() => vi.restoreAllMocks());

  const config: UfmBenchConfig = {
    K: 4,
    d: 8,
    countsPerClass: [15, 15, 15, 15],
    loss: { kind: 'ce' },
    positive: false,
    lambdaW: 5e-3,
    lambdaH: 5e-3,
    lambdaB: 1e-3,
    lr: 0.5,
    optimizer: { kind: 'gd' },
    schedule: { kind: 'constant' },
    seed: 3,
    initScale: 0.5,
  };
  const steps = UFM_CHECK_STEPS;
  const timing = {
    unit: 'steps/s' as const,
    workPerOp: 1,
    repeats: 3,
    targetSpanMs: 5,
    nclab: measured(100),
  };
  const check = (reference: UfmBenchConfig) => {
    const state = trainUfmReference({ ...reference, steps });
    return {
      config,
      steps,
      reference: state,
      nclab: {
        W: Float32Array.from(state.W),
        H: Float32Array.from(state.H),
        b: Float32Array.from(state.b),
      },
      tolerance: UFM_TOLERANCE,
    };
  };

  test('the ufm step matches the float64 reference and is timed', async () => {
    const before = tf.memory().numTensors;
    const result = await measureTfjsUfmBackend(
      'ufm',
      spec,
      cpu,
      check(config),
      timing,
    );
    expect(result.problem).toBeUndefined();
    expect(result.verified).toBe(true);
    // Float32 with short sums: far inside the tolerance.
    expect(result.referenceError).toBeLessThan(1e-6);
    expect(result.measurement!.samplesMs).toHaveLength(3);
    expect(result.ratio).toBeCloseTo(100 / result.measurement!.rate, 12);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a different objective is reported as disagreeing, not timed', async () => {
    // The reference with twice the weight decay: what a slip in the
    // derivative of λ/2‖W‖² would compute.
    const result = await measureTfjsUfmBackend(
      'ufm',
      spec,
      cpu,
      check({ ...config, lambdaW: 2 * config.lambdaW }),
      timing,
    );
    expect(result.verified).toBe(false);
    expect(result.problem).toMatch(
      /^after 3 steps TF\.js WebGPU is \d\.\d\de-\d \(relative to the largest entry\) from the float64 reference, over 0\.0001; not timed$/,
    );
    expect(result.referenceError).toBeGreaterThan(UFM_TOLERANCE);
    expect(result.measurement).toBeUndefined();
  });

  test('refuses settings it does not implement', async () => {
    const result = await measureTfjsUfmBackend(
      'ufm',
      spec,
      cpu,
      {
        ...check(config),
        config: { ...config, optimizer: { kind: 'momentum', beta: 0.9 } },
      },
      timing,
    );
    expect(result.verified).toBe(false);
    expect(result.problem).toBe(
      'the TF.js ufm implements cross-entropy, plain gradient descent, a ' +
        'constant schedule and free (not positive) features only',
    );
  });

  const metricsWorkload = {
    kind: 'metrics' as const,
    name: 'metrics',
    K: 4,
    d: 8,
    N: 400,
    seed: 6,
  };

  test('the metrics match the float64 passes and are timed', async () => {
    const s = featureSet(metricsWorkload);
    const before = tf.memory().numTensors;
    const result = await measureTfjsMetricsBackend(
      'metrics',
      spec,
      cpu,
      s,
      metricsJs(s),
      { ...timing, unit: 'GB/s' },
    );
    expect(result.problem).toBeUndefined();
    expect(result.verified).toBe(true);
    expect(result.referenceError).toBeLessThan(1e-4);
    expect(result.measurement!.rate).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('metrics of other features are reported as disagreeing', async () => {
    const s = featureSet(metricsWorkload);
    const other = featureSet({ ...metricsWorkload, seed: 7 });
    const result = await measureTfjsMetricsBackend(
      'metrics',
      spec,
      cpu,
      s,
      metricsJs(other),
      { ...timing, unit: 'GB/s' },
    );
    expect(result.verified).toBe(false);
    expect(result.problem).toMatch(
      /^TF\.js WebGPU and nclab differ by [\d.e-]+ \(relative\) on NC1, CDNV, trace ratio, NC4 or memorization, over 0\.001; not timed$/,
    );
    expect(result.measurement).toBeUndefined();
  });
});

describe('nclab bench', () => {
  const CLI = fileURLToPath(new URL('../bin/nclab.js', import.meta.url));
  const nclab = async (args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [CLI, ...args],
        { timeout: 60_000 },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  test('--help lists its options', async () => {
    const result = await nclab(['bench', '--help']);
    expect(result.code).toBe(0);
    for (const option of ['--quick', '--only <name>', '--out <dir>']) {
      expect(result.stdout).toContain(option);
    }
  });

  test('an unknown workload exits 2 before any browser starts', async () => {
    const result = await nclab(['bench', '--quick', '--only', 'matmul 9³']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[bench] no workload is named "matmul 9³"');
    expect(result.stderr).toContain('"ufm training step"');
    expect(result.stderr).not.toContain('[bench] browser');
  });
});
