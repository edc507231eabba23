// GPU suites: each test file connects to the shared browser and opens the
// test page; each case runs in that page on its own device (see
// test/page/main.ts). Without a usable adapter the suite fails under CI and
// is skipped, with the reason, elsewhere.

import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, inject, test } from 'vitest';

import type { CaseArgs, CaseName, CaseResult } from '../page/cases';

export interface GpuPage {
  /** Runs a page-side case; cases without arguments take none here. */
  run<N extends CaseName>(
    name: N,
    ...args: CaseArgs<N> extends undefined ? [] : [CaseArgs<N>]
  ): Promise<CaseResult<N>>;
}

export function describeGpu(name: string, body: (gpu: GpuPage) => void): void {
  const reason = inject('gpuUnavailable');
  if (reason) {
    if (process.env.CI) {
      describe(name, () => {
        test('needs a WebGPU adapter', () => {
          throw new Error(`GPU tests cannot run: ${reason}`);
        });
      });
    } else {
      console.warn(`[nclab] skipping GPU suite "${name}": ${reason}`);
      describe.skip(name, () => body(unavailable));
    }
    return;
  }

  let browser: Browser;
  let page: Page;
  const gpu: GpuPage = {
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
        browserWSEndpoint: inject('browserWsEndpoint'),
        // Long trainings run as one page call; vitest's own timeouts apply.
        protocolTimeout: 30 * 60_000,
      });
      page = await browser.newPage();
      page.on('pageerror', (error) => console.error(`[page] ${String(error)}`));
      await page.goto(
        new URL('test/page/index.html', inject('pageBaseUrl')).href,
      );
      await page.waitForFunction(() => window.nclabTest !== undefined);
    });
    afterAll(async () => {
      await page?.close();
      await browser?.disconnect();
    });
    body(gpu);
  });
}

const unavailable: GpuPage = {
  run: () => Promise.reject(new Error('no WebGPU adapter')),
};
