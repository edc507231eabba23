// `nclab train` end to end: configurations are checked before the browser
// starts, and a valid file yields trajectories and final states as JSON.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import type { TrainReport } from '../src/train/run';
import { describeGpu } from './harness/gpu';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../bin/nclab.js', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nclab-train-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function nclab(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      timeout: 300_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const BASE = {
  model: 'ufm',
  K: 3,
  d: 4,
  n: 4,
  loss: { kind: 'ce' },
  lambdaW: 5e-3,
  lambdaH: 5e-3,
  lr: 0.5,
  steps: 100,
};

describe('nclab train with bad configurations', () => {
  test('exits 2 and lists every problem of every configuration', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        configs: [{ ...BASE, K: 1 }, BASE, { ...BASE, lr: -1, model: 'md2' }],
      }),
    );
    const result = await nclab(['train', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'configs[0].K = 1 is invalid; expected an integer from 2 to 1024',
    );
    expect(result.stderr).toContain(
      'configs[2].lr = -1 is invalid; expected a number > 0',
    );
    expect(result.stderr).toContain('configs[2].model = "md2" is invalid');
    expect(result.stdout).toBe('');
  });

  test('exits 2 before training when --out cannot be written', async () => {
    const file = join(dir, 'one.json');
    await writeFile(file, JSON.stringify(BASE));
    const missing = join(dir, 'no-such-dir', 'out.json');
    let result = await nclab(['train', file, '--out', missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `nclab train: cannot write --out ${missing}: the directory ` +
        `${join(dir, 'no-such-dir')} does not exist`,
    );
    result = await nclab(['train', file, '--out', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('it is a directory; give a file name');
    expect(result.stderr).not.toContain('[nclab] batch');
  });

  test('exits 2 on a file that is not JSON', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{ "model": ');
    const result = await nclab(['train', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`nclab train: cannot read ${file}`);
  });

  test('exits 2 before the browser when Fashion-MNIST is missing, saying how to get it', async () => {
    const file = join(dir, 'graph.json');
    const graph = {
      model: 'graph',
      d: 2,
      loss: { kind: 'ce' },
      lambdaW: 1e-3,
      lambdaH: 1e-3,
      lr: 0.1,
      steps: 10,
      gamma: 1,
      data: { kind: 'fashion-mnist', perClass: 10, testPerClass: 5 },
    };
    await writeFile(file, JSON.stringify(graph));
    const empty = await mkdtemp(join(tmpdir(), 'nclab-no-fashion-'));
    const previous = process.env.NCLAB_FASHION_MNIST_DIR;
    process.env.NCLAB_FASHION_MNIST_DIR = empty;
    try {
      const result = await nclab(['train', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `${empty}/train-images-idx3-ubyte.gz: no such file. Fashion-MNIST ` +
          "comes from Debian's package: as root, `apt-get install " +
          'dataset-fashion-mnist`',
      );
      expect(result.stderr).toContain(
        'data.source = "fixture" trains on that committed cut instead',
      );
    } finally {
      if (previous === undefined) delete process.env.NCLAB_FASHION_MNIST_DIR;
      else process.env.NCLAB_FASHION_MNIST_DIR = previous;
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describeGpu('nclab train', () => {
  test('writes trajectories and final states for a batch', async () => {
    const file = join(dir, 'good.json');
    const out = join(dir, 'report.json');
    const md = {
      ...BASE,
      model: 'md',
      K: 2,
      d: 2,
      n: 50,
      coupling: 1,
      noise: { kind: 'symmetric', eta: 0.2, seed: 3 },
      lambdaW: 1e-3,
      lambdaH: 1e-3,
      lr: 0.2,
      steps: 50,
    };
    const configs = [
      BASE,
      { ...BASE, loss: { kind: 'ls', alpha: 0.1 }, steps: 50 },
      md,
    ];
    await writeFile(file, JSON.stringify(configs));
    const result = await nclab(['train', file, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      '[nclab] batch 1/3 (ufm, 1 configurations)',
    );
    expect(result.stderr).toContain('[nclab] batch 3/3 (md, 1 configurations)');
    expect(result.stderr).toContain(`[nclab] wrote ${out}`);

    const report = JSON.parse(await readFile(out, 'utf8')) as TrainReport;
    expect(report.runs).toHaveLength(3);
    report.runs.forEach((r, i) => {
      expect(r.config.steps).toBe(configs[i]!.steps);
      expect(r.divergedAtStep).toBeNull();
      expect(r.trajectory.map((p) => p.step)).toEqual(
        i === 0
          ? [0, 1, 2, 4, 8, 16, 32, 64, 100]
          : [0, 1, 2, 4, 8, 16, 32, 50],
      );
      expect(r.trajectory.at(-1)!.loss).toBeLessThan(r.trajectory[0]!.loss);
      if (r.model === 'ufm') {
        expect(r.state.W).toHaveLength(3 * 4);
        expect(r.state.H).toHaveLength(4 * 12);
        expect(r.state.labels).toHaveLength(12);
      }
    });
    const mdRun = report.runs[2]!;
    if (mdRun.model !== 'md') throw new Error('expected the md run third');
    const flips = mdRun.config.counts[0]![1]! + mdRun.config.counts[1]![0]!;
    expect(mdRun.flipRate).toBe(flips / 100);
    expect(mdRun.noise).toEqual(md.noise);
    expect(mdRun.state.groups).toHaveLength(2 * 2); // two groups of d = 2
    expect(mdRun.testAccuracyMethod).toBe('exact');
    expect(mdRun.testAccuracy).toBeGreaterThan(0.5);
    expect(mdRun.measures!.memorization).toBeGreaterThan(0);
  });
});
