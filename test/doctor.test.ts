// `nclab doctor` end to end, as a user runs it: a real process, a real
// browser. With no browser it must fail with the reason and exit 1.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, test } from 'vitest';

import { describeGpu } from './harness/gpu';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../bin/nclab.js', import.meta.url));

async function nclab(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describeGpu('nclab doctor', () => {
  test('--json reports the adapter, features and limits and exits 0', async () => {
    const result = await nclab(['doctor', '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      browser: string;
      adapter: {
        name: string;
        architecture: string;
        isFallbackAdapter: boolean;
      };
      device: { features: string[]; limits: Record<string, number> };
      check: { withinBound: boolean; timing: string };
    };
    expect(report.ok).toBe(true);
    expect(report.browser).toMatch(/chrom/i);
    expect(report.adapter.name.length).toBeGreaterThan(0);
    expect(
      report.device.limits.maxStorageBufferBindingSize,
    ).toBeGreaterThanOrEqual(2 ** 27);
    expect(
      report.device.limits.maxComputeInvocationsPerWorkgroup,
    ).toBeGreaterThanOrEqual(256);
    expect(report.check.withinBound).toBe(true);
  });

  test('the plain report ends by saying WebGPU is usable', async () => {
    const result = await nclab(['doctor']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/adapter: +\S+/);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('WebGPU is usable.');
  });
});

describeGpu('nclab doctor with something that is not a browser', () => {
  test('exits 1 and names the binary it could not start', async () => {
    const result = await nclab(['doctor'], { CHROME_PATH: '/bin/true' });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'WebGPU is NOT usable: could not start the browser /bin/true (from CHROME_PATH)',
    );
  });
});

describe('nclab doctor without a browser', () => {
  test('exits 1 and says how to get one', async () => {
    const result = await nclab(['doctor', '--json'], {
      CHROME_PATH: '/nonexistent/chrome',
    });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      problem: string;
    };
    expect(report.ok).toBe(false);
    expect(report.problem).toContain(
      'CHROME_PATH is set to "/nonexistent/chrome"',
    );
    expect(report.problem).toContain('apt-get install -y chromium');
  });
});
