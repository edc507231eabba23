// Starts one browser and one page server for the whole vitest run, logs the
// adapter once, and hands their addresses to the test files. When no browser
// or adapter is usable, records why: GPU suites then fail in CI and skip,
// with that reason, elsewhere.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { TestProject } from 'vitest/node';

import { adapterName } from '../../src/gpu/device';
import { openSession, type Session } from '../../src/host/session';

declare module 'vitest' {
  export interface ProvidedContext {
    browserWsEndpoint: string;
    pageBaseUrl: string;
    /** Why GPU tests cannot run here; empty when they can. */
    gpuUnavailable: string;
  }
}

export default async function setup(project: TestProject) {
  // The machine's own tunings (nclab tune) must not change what the tests
  // compute: the CLIs they start read an empty cache of their own.
  const cacheDir = await mkdtemp(join(tmpdir(), 'nclab-test-cache-'));
  process.env.NCLAB_CACHE_DIR ??= cacheDir;
  let session: Session | null = null;
  let reason = '';
  try {
    session = await openSession({ shared: true });
    const page = await session.open('test/page/index.html');
    await page.waitForFunction(() => window.nclabTest !== undefined);
    const summary = await page.evaluate(() => window.nclabTest!.adapter());
    await page.close();
    console.log(
      `[nclab] GPU tests run on ${adapterName(summary)} in ` +
        `${session.launched.found.path} (${session.launched.found.source})`,
    );
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
    console.warn(`[nclab] no usable WebGPU for GPU tests: ${reason}`);
  }

  project.provide(
    'browserWsEndpoint',
    session?.launched.browser.wsEndpoint() ?? '',
  );
  project.provide('pageBaseUrl', session?.server.url ?? '');
  project.provide('gpuUnavailable', reason);

  return async () => {
    await session?.close();
    await rm(cacheDir, { recursive: true, force: true });
  };
}
