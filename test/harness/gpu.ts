// GPU suites: each test file connects to the shared browser and opens the
// test page; each case runs in that page on its own device (see
// test/page/main.ts). Without a usable adapter the suite fails under CI and
// is skipped, with the reason, elsewhere. Suites given `{ compat: true }`
// run a second time on the compatibility adapter (globalSetup.ts).

import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, inject, test } from 'vitest';

import type { AdapterKind } from '../../src/gpu/adapters';
import type { CaseArgs, CaseName, CaseResult } from '../page/cases';

export interface GpuPage {
  /** The adapter this suite runs on (compat: at most 128 invocations). */
  readonly adapter: AdapterKind;
  /** Runs a page-side case; cases without arguments take none here. */
  run<N extends CaseName>(
    name: N,
    ...args: CaseArgs<N> extends undefined ? [] : [CaseArgs<N>]
  ): Promise<CaseResult<N>>;
}

export interface GpuSuiteOptions {
  /**
   * Also run the suite on the compatibility adapter (OpenGL ES, at most 128
   * invocations per workgroup), as "NAME [compat]".
   */
  compat?: boolean;
}

/**
 * A GPU suite: `describeGpu(name, body)`, or
 * `describeGpu(name, { compat: true }, body)` to run it on both adapters.
 */
export function describeGpu(name: string, body: (gpu: GpuPage) => void): void;
export function describeGpu(
  name: string,
  options: GpuSuiteOptions,
  body: (gpu: GpuPage) => void,
): void;
export function describeGpu(
  name: string,
  second: GpuSuiteOptions | ((gpu: GpuPage) => void),
  third?: (gpu: GpuPage) => void,
): void {
  const [options, body] =
    typeof second === 'function' ? [{}, second] : [second, third!];
  describeOn(name, body, {
    adapter: 'core',
    reason: inject('gpuUnavailable'),
    endpoint: inject('browserWsEndpoint'),
    path: 'test/page/index.html',
  });
  if (options.compat) {
    describeOn(`${name} [compat]`, body, {
      adapter: 'compat',
      reason: inject('gpuUnavailable') || inject('compatUnavailable'),
      endpoint: inject('compatWsEndpoint'),
      path: inject('compatPagePath'),
    });
  }
}

function describeOn(
  name: string,
  body: (gpu: GpuPage) => void,
  where: {
    adapter: AdapterKind;
    reason: string;
    endpoint: string;
    path: string;
  },
): void {
  const { reason } = where;
  if (reason) {
    if (process.env.CI) {
      describe(name, () => {
        test('needs a WebGPU adapter', () => {
          throw new Error(`GPU tests cannot run: ${reason}`);
        });
      });
    } else {
      console.warn(`[nclab] skipping GPU suite "${name}": ${reason}`);
      describe.skip(name, () =>
        body({ ...unavailable, adapter: where.adapter }),
      );
    }
    return;
  }

  let browser: Browser;
  let page: Page;
  const gpu: GpuPage = {
    adapter: where.adapter,
    run: (caseName, ...args) =>
      page.evaluate(
        (n, a) => window.nclabTest!.run(n, a),
        caseName,
        args[0],
      ) as never,
  };
  describe(name, () => {
    beforeAll(async () => {
      browser = await puppeteer.connect({
        browserWSEndpoint: where.endpoint,
        // Long trainings run as one page call; vitest's own timeouts apply.
        protocolTimeout: 30 * 60_000,
      });
      page = await browser.newPage();
      page.on('pageerror', (error) => console.error(`[page] ${String(error)}`));
      await page.goto(new URL(where.path, inject('pageBaseUrl')).href);
      await page.waitForFunction(() => window.nclabTest !== undefined);
    });
    afterAll(async () => {
      await page?.close();
      await browser?.disconnect();
    });
    body(gpu);
  });
}

const unavailable: Omit<GpuPage, 'adapter'> = {
  run: () => Promise.reject(new Error('no WebGPU adapter')),
};
