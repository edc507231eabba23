// The benchmark stays runnable: a quick run in the browser verifies every
// workload against plain JS and writes its JSON and markdown report.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, test } from 'vitest';

import { runBench } from '../bench/run';
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
    await rm(outDir, { recursive: true, force: true });
  });
});
