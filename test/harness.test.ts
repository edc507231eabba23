// The harness's promise about missing adapters, checked by running vitest
// itself on a GPU suite with no browser: under CI the suite fails and says
// why; elsewhere it is skipped and the reason is printed.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, test } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITEST = fileURLToPath(
  new URL('../node_modules/vitest/vitest.mjs', import.meta.url),
);

async function vitestWithoutBrowser(ci: boolean) {
  const env: Record<string, string | undefined> = {
    ...process.env,
    CHROME_PATH: '/nonexistent/chrome',
    CI: ci ? 'true' : '',
    NO_COLOR: '1',
  };
  delete env.FORCE_COLOR;
  // Vitest marks its own workers; a nested run must not inherit that.
  delete env.VITEST;
  delete env.VITEST_WORKER_ID;
  delete env.VITEST_POOL_ID;
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [VITEST, 'run', 'test/runtime.test.ts', '--reporter=default'],
      { cwd: ROOT, env, timeout: 120_000 },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('GPU suites without an adapter', () => {
  test('fail loudly, with the reason, under CI', async () => {
    const { code, output } = await vitestWithoutBrowser(true);
    expect(code).toBe(1);
    expect(output).toContain('GPU tests cannot run: CHROME_PATH is set');
    expect(output).toMatch(/1 failed/);
  });

  test('are skipped, with the reason printed, elsewhere', async () => {
    const { code, output } = await vitestWithoutBrowser(false);
    expect(code).toBe(0);
    expect(output).toContain('skipping GPU suite "GPU runtime"');
    expect(output).toContain('CHROME_PATH is set to "/nonexistent/chrome"');
    expect(output).toMatch(/Tests +\d+ skipped/);
  });
});
