// `nclab sweep` end to end, as a user runs it: a sweep killed with SIGKILL
// and rerun ends with exactly the rows of an uninterrupted run; two shards
// merged equal one unsharded run; a bad spec is refused before the browser
// starts, with every problem listed.

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { comparable, type ResultRow } from '../src/sweep/row';
import { describeGpu } from './harness/gpu';

const execute = promisify(execFile);
const CLI = fileURLToPath(new URL('../bin/nclab.js', import.meta.url));

const COMMON = {
  d: 2,
  loss: { kind: 'ce' },
  lambdaW: 1e-3,
  lambdaH: 1e-3,
  lr: 0.5,
  optimizer: { kind: 'momentum' },
  noise: { kind: 'symmetric', eta: 0.2 },
};

/** Three models, four batches of two with --max-batch 2. */
const SPEC = {
  name: 'e2e',
  parts: [
    {
      name: 'md',
      base: {
        ...COMMON,
        model: 'md',
        K: 2,
        n: 40,
        lrH: 4,
        coupling: 1,
        steps: 300,
      },
      grid: {
        loss: [{ kind: 'ce' }, { kind: 'ls', alpha: 0.1 }],
        'noise.eta': [0.1, 0.3],
      },
    },
    {
      name: 'ufm',
      base: { ...COMMON, model: 'ufm', K: 2, n: 40, lrH: 4, steps: 300 },
      grid: { 'noise.eta': [0, 0.3] },
    },
    {
      name: 'graph',
      base: {
        ...COMMON,
        model: 'graph',
        lrH: 4,
        steps: 100,
        data: {
          kind: 'mixture',
          K: 2,
          dim: 8,
          perClass: 40,
          testPerClass: 20,
          separation: 3,
        },
        gamma: 1,
      },
      grid: { gamma: [0, 1] },
    },
  ],
};

let dir: string;
let specPath: string;

async function rowsOf(path: string): Promise<ResultRow[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as ResultRow)
    .sort((a, b) => a.index - b.index);
}

function sweep(...args: string[]) {
  return execute(
    'node',
    [CLI, 'sweep', specPath, '--max-batch', '2', ...args],
    {
      maxBuffer: 1 << 24,
    },
  );
}

/** Waits until `out` holds at least `rows` complete rows. */
async function rowsWritten(out: string, rows: number): Promise<void> {
  for (;;) {
    const text = existsSync(out) ? await readFile(out, 'utf8') : '';
    if (text.split('\n').length - 1 >= rows) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A sweep into `out` sent `signal` once its first batch is written (the
 * next in flight); its exit code and stderr. */
async function signalledSweep(out: string, signal: NodeJS.Signals) {
  const child = spawn(
    'node',
    [CLI, 'sweep', specPath, '--max-batch', '2', '-o', out],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => resolve(code)),
  );
  await rowsWritten(out, 2);
  child.kill(signal);
  return { code: await exited, stderr };
}

/** Starts a sweep, kills its process group (node and the browser) with
 * SIGKILL once `rows` rows are in the file, and waits for it to die. */
async function killedSweep(out: string, rows: number): Promise<void> {
  const child = spawn(
    'node',
    [CLI, 'sweep', specPath, '--max-batch', '2', '-o', out, '--quiet'],
    { detached: true, stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await rowsWritten(out, rows);
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  // The browser talks to Node over a pipe: it must not outlive it.
  for (let tries = 0; ; tries++) {
    const { stdout } = await execute('ps', ['-eo', 'ppid=,args=']);
    const orphans = stdout
      .split('\n')
      .filter((line) => /^\s*1\s.*nclab-chromium-/.test(line));
    if (orphans.length === 0) break;
    if (tries === 50) throw new Error(`orphaned browser: ${orphans[0]}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nclab-sweep-'));
  specPath = join(dir, 'spec.json');
  await writeFile(specPath, JSON.stringify(SPEC));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('nclab sweep with a bad spec', () => {
  test('lists every problem and starts nothing', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({
        ...SPEC,
        parts: [{ ...SPEC.parts[0], grid: { 'noise.eta': [2], lr: [-1] } }],
      }),
    );
    const out = join(dir, 'bad.jsonl');
    const error = await execute('node', [CLI, 'sweep', bad, '-o', out]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(error).toMatchObject({ code: 2 });
    const { stderr } = error as { stderr: string };
    expect(stderr).toContain('invalid sweep spec (2 problems)');
    expect(stderr).toContain(
      'spec.parts[0].grid["noise.eta"][0] = 2 is invalid',
    );
    expect(stderr).toContain('spec.parts[0].grid["lr"][0] = -1 is invalid');
    expect(existsSync(out)).toBe(false);
  });
});

describeGpu('nclab sweep: resume, kill and shards', () => {
  let reference: ResultRow[];

  beforeAll(async () => {
    const out = join(dir, 'reference.jsonl');
    await sweep('-o', out, '--quiet');
    reference = await rowsOf(out);
  }, 300_000);

  test('an uninterrupted run writes one row per configuration', () => {
    expect(reference.map((r) => [r.index, r.part, r.model])).toEqual([
      [0, 'md', 'md'],
      [1, 'md', 'md'],
      [2, 'md', 'md'],
      [3, 'md', 'md'],
      [4, 'ufm', 'ufm'],
      [5, 'ufm', 'ufm'],
      [6, 'graph', 'graph'],
      [7, 'graph', 'graph'],
    ]);
    for (const row of reference) {
      expect(row.divergedAtStep).toBeNull();
      expect(row.timing.batchSize).toBe(2);
    }
    // The ufm control memorizes its flipped labels without dilating.
    const ufm = reference[5]!;
    expect(ufm.eta).toBe(0.3);
    expect(ufm.final.relativeMemorization!).toBeGreaterThan(0.5);
    expect(ufm.final.relativeDilation!).toBeLessThan(0.05);
    expect(reference[7]!.final.testAccuracy).not.toBeNull();
    // An md scatter: 4 clean points per class at the class's radius around
    // its centre (their mean is the dilation), then one point per group.
    const md = reference[3]!;
    const { points, centres, labels, trueLabels } = md.scatter!;
    const radii = [0, 1].map((k) => {
      const [cx, cy] = [centres[2 * k]!, centres[2 * k + 1]!];
      const distances = [0, 1, 2, 3].map((s) =>
        Math.hypot(
          points[8 * k + 2 * s]! - cx,
          points[8 * k + 2 * s + 1]! - cy,
        ),
      );
      for (const r of distances) expect(r).toBeCloseTo(distances[0]!, 5);
      return distances[0]!;
    });
    expect((radii[0]! + radii[1]!) / 2).toBeCloseTo(md.final.dilation!, 5);
    expect(labels.length).toBeGreaterThan(8);
    expect(labels.slice(8).every((y, i) => y !== trueLabels[8 + i])).toBe(true);
  });

  test(
    'killed with SIGKILL twice and rerun, it ends with the same rows',
    { timeout: 600_000 },
    async () => {
      const out = join(dir, 'killed.jsonl');
      await killedSweep(out, 2);
      const first = await rowsOf(out);
      expect(first.length).toBeGreaterThanOrEqual(2);
      expect(first.length).toBeLessThan(reference.length);
      await killedSweep(out, first.length + 2);
      const { stderr } = await sweep('-o', out);
      expect(stderr).toMatch(/configurations to train \(\d+ done already\)/);
      const rows = await rowsOf(out);
      expect(rows.map(comparable)).toEqual(reference.map(comparable));
      // A rerun of a finished sweep trains nothing and changes nothing.
      const again = await sweep('-o', out);
      expect(again.stderr).toContain('all 8 configurations done');
      expect((await rowsOf(out)).map(comparable)).toEqual(
        reference.map(comparable),
      );
    },
  );

  test(
    'Ctrl-C finishes the batch in flight, writes it and exits 130',
    { timeout: 600_000 },
    async () => {
      const out = join(dir, 'interrupted.jsonl');
      const { code, stderr } = await signalledSweep(out, 'SIGINT');
      expect(code).toBe(130);
      expect(stderr).toContain('SIGINT: finishing the batch in flight');
      const rows = await rowsOf(out);
      // Whole batches only, the one in flight included, and right.
      expect(rows.length % 2).toBe(0);
      expect(rows.length).toBeGreaterThanOrEqual(4);
      expect(rows.length).toBeLessThan(8);
      expect(rows.map(comparable)).toEqual(
        rows.map((r) => comparable(reference[r.index]!)),
      );
    },
  );

  test(
    'SIGTERM stops at once, exits 143 and leaves no lock',
    { timeout: 600_000 },
    async () => {
      const out = join(dir, 'terminated.jsonl');
      const { code, stderr } = await signalledSweep(out, 'SIGTERM');
      expect(code).toBe(143);
      expect(stderr).toContain('SIGTERM: stopping now');
      expect(stderr).not.toContain('nclab sweep:');
      expect(existsSync(`${out}.lock`)).toBe(false);
      const rows = await rowsOf(out);
      expect(rows.map(comparable)).toEqual(
        rows.map((r) => comparable(reference[r.index]!)),
      );
    },
  );

  test(
    'two shards merged equal one unsharded run',
    { timeout: 600_000 },
    async () => {
      const out = join(dir, 'sharded.jsonl');
      await sweep('-o', out, '--shard', '0/2', '--quiet');
      await sweep('-o', out, '--shard', '1/2', '--quiet');
      const shards = [0, 1].map((i) =>
        join(dir, `sharded.shard-${i}-of-2.jsonl`),
      );
      const sizes = await Promise.all(
        shards.map(async (s) => (await rowsOf(s)).length),
      );
      expect(sizes).toEqual([4, 4]);
      const merged = join(dir, 'merged.jsonl');
      await execute('node', [CLI, 'merge', ...shards, '-o', merged]);
      expect((await rowsOf(merged)).map(comparable)).toEqual(
        reference.map(comparable),
      );
      // Merging a shard twice keeps each configuration once.
      const twice = join(dir, 'twice.jsonl');
      await execute('node', [CLI, 'merge', ...shards, shards[0]!, '-o', twice]);
      expect((await rowsOf(twice)).length).toBe(8);
    },
  );
});
