// Starts one browser and one page server for the whole vitest run, logs the
// adapter once, and hands their addresses to the test files. When no browser
// or adapter is usable, records why: GPU suites then fail in CI and skip,
// with that reason, elsewhere. A second browser offers the compatibility
// adapter (ANGLE / OpenGL ES) to the suites that also run there.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { TestProject } from 'vitest/node';

import {
  COMPAT_WORKGROUP_INVOCATIONS,
  adapterSearch,
} from '../../src/gpu/adapters';
import { adapterName } from '../../src/gpu/device';
import { launchBrowser, type LaunchedBrowser } from '../../src/host/browser';
import { openSession, type Session } from '../../src/host/session';

declare module 'vitest' {
  export interface ProvidedContext {
    browserWsEndpoint: string;
    pageBaseUrl: string;
    /** Why GPU tests cannot run here; empty when they can. */
    gpuUnavailable: string;
    /** The browser with the compatibility adapter, and its test page. */
    compatWsEndpoint: string;
    compatPagePath: string;
    /** Why compat suites cannot run here; empty when they can. */
    compatUnavailable: string;
  }
}

/**
 * The test page on the compatibility adapter, its device capped at the
 * 128 invocations per workgroup every compatibility-mode device grants
 * (llvmpipe offers 1024): the kernels run as on the smallest such device.
 */
export const COMPAT_PAGE_PATH =
  'test/page/index.html?' +
  new URLSearchParams(
    adapterSearch('compat', COMPAT_WORKGROUP_INVOCATIONS),
  ).toString();

/** Launches the compat browser and checks it really offers that adapter. */
async function startCompat(
  session: Session,
): Promise<{ browser: LaunchedBrowser | null; reason: string }> {
  let browser: LaunchedBrowser | null = null;
  try {
    browser = await launchBrowser({ shared: true, adapter: 'compat' });
    const page = await browser.browser.newPage();
    await page.goto(new URL(COMPAT_PAGE_PATH, session.server.url).href);
    await page.waitForFunction(() => window.nclabTest !== undefined);
    const summary = await page.evaluate(() => window.nclabTest!.adapter());
    await page.close();
    if (summary.featureLevel !== 'compatibility') {
      throw new Error(
        `Chromium with ANGLE / OpenGL ES flags offered ` +
          `"${adapterName(summary)}", not a compatibility adapter`,
      );
    }
    console.log(
      `[nclab] compat suites run on ${adapterName(summary)}, ` +
        `${COMPAT_WORKGROUP_INVOCATIONS} invocations per workgroup`,
    );
    return { browser, reason: '' };
  } catch (error) {
    await browser?.close();
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(
      `[nclab] no compatibility adapter for compat suites: ${reason}`,
    );
    return { browser: null, reason };
  }
}

export default async function setup(project: TestProject) {
  // The machine's own tunings (nclab tune) must not change what the tests
  // compute: the CLIs they start read an empty cache of their own.
  const cacheDir = await mkdtemp(join(tmpdir(), 'nclab-test-cache-'));
  process.env.NCLAB_CACHE_DIR ??= cacheDir;
  // The CLIs the tests start run on the core adapter unless told otherwise
  // (NCLAB_ADAPTER=compat npm test), rather than each measuring both.
  process.env.NCLAB_ADAPTER ??= 'core';
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

  const compat = session
    ? await startCompat(session)
    : { browser: null, reason: `no page server: ${reason}` };
  project.provide(
    'compatWsEndpoint',
    compat.browser?.browser.wsEndpoint() ?? '',
  );
  project.provide('compatPagePath', COMPAT_PAGE_PATH);
  project.provide('compatUnavailable', compat.reason);

  return async () => {
    await compat.browser?.close();
    await session?.close();
    await rm(cacheDir, { recursive: true, force: true });
  };
}
