// The sweep page (sweep.html) as a visitor uses it, in headless Chromium:
// an invalid spec lists every problem, a tiny sweep runs to the end with
// its rows in the table, the report's figures drawn with their titles and a
// JSONL download the CLI would have written, Stop ends after the batch in
// flight, and the static build (vite build) runs the same sweep.

import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';

import { PROJECT_ROOT } from '../src/host/server';
import { tinySpec } from '../src/page/sweepPresets';
import { reportFigures } from '../src/report/figures';
import type { ResultRow } from '../src/sweep/row';
import { expandSweep } from '../src/sweep/spec';
import { describeGpu } from './harness/gpu';

const SCREENSHOT = join(PROJECT_ROOT, 'test-artifacts', 'sweep-page.png');
const { version } = JSON.parse(
  await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8'),
) as { version: string };

let outDir = '';
let built: Promise<number> | null = null;

/** Builds the static site once (both test groups use it); resolves to the
 * build's time in ms. */
function buildOnce(): Promise<number> {
  built ??= (async () => {
    outDir = await mkdtemp(join(tmpdir(), 'nclab-build-'));
    const start = performance.now();
    await build({
      root: PROJECT_ROOT,
      configFile: join(PROJECT_ROOT, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
    return performance.now() - start;
  })();
  return built;
}

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('vite build', () => {
  test('writes the app, the sweep and the benchmark pages as a static site', async () => {
    const ms = await buildOnce();
    console.log(`[nclab] vite build: ${(ms / 1000).toFixed(1)} s`);
    const html = await readFile(join(outDir, 'sweep.html'), 'utf8');
    expect(html).toContain('<textarea id="spec"');
    const script = /<script type="module"[^>]*src="([^"]+)"/.exec(html)?.[1];
    expect(script, 'sweep.html loads a bundled module').toBeDefined();
    expect(script).not.toMatch(/\.ts$/);
    const index = await readFile(join(outDir, 'index.html'), 'utf8');
    expect(index).toContain('sweep.html');
    const bench = await readFile(join(outDir, 'bench/index.html'), 'utf8');
    expect(bench).toContain('id="workloads"');
  });
});

/** Sets the editor's text as typing would (the page checks on input). */
async function enterSpec(page: Page, spec: unknown): Promise<void> {
  await page.$eval(
    '#spec',
    (area, text) => {
      const editor = area as HTMLTextAreaElement;
      editor.value = text;
      editor.dispatchEvent(new Event('input'));
    },
    typeof spec === 'string' ? spec : JSON.stringify(spec, null, 2),
  );
}

const textsOf = (page: Page, selector: string) =>
  page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent ?? ''));

/** What "Download results" hands the browser, read back as text. */
function downloaded(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const blobs: Blob[] = [];
    const create = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (blob: Blob | MediaSource) => {
      blobs.push(blob as Blob);
      return create(blob);
    };
    // No file is saved: links' click() does nothing while the test reads
    // the blob (an own property shadowing HTMLElement's, deleted after).
    Object.defineProperty(HTMLAnchorElement.prototype, 'click', {
      value: () => {},
      configurable: true,
    });
    try {
      document.querySelector<HTMLButtonElement>('#download')!.click();
    } finally {
      URL.createObjectURL = create;
      Reflect.deleteProperty(HTMLAnchorElement.prototype, 'click');
    }
    return blobs.length === 1 ? blobs[0]!.text() : `${blobs.length} blobs`;
  });
}

/** Picks the tiny preset, runs it to the end and checks what the page shows
 * and downloads; returns the rows. */
async function runTiny(page: Page): Promise<ResultRow[]> {
  await page.select('#preset', 'tiny');
  const text = await page.$eval(
    '#spec',
    (a) => (a as HTMLTextAreaElement).value,
  );
  expect(JSON.parse(text)).toEqual(tinySpec());
  const expected = expandSweep(tinySpec()).items;

  await page.click('#run');
  await page.waitForSelector(
    'body[data-state="done"], body[data-state="failed"]',
    {
      timeout: 110_000,
    },
  );
  expect(await page.$eval('#message', (m) => m.textContent)).toMatch(
    /^Done: 5/,
  );
  expect(await page.$eval('#progress', (p) => p.textContent)).toMatch(
    /^5\/5 configurations .* config-steps\/s · done · adapter: \S/,
  );
  expect(await page.$$('#rows tbody tr')).toHaveLength(expected.length);

  const jsonl = await downloaded(page);
  expect(jsonl.endsWith('\n')).toBe(true);
  const rows = jsonl
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as ResultRow);
  expect(rows.map((r) => r.id).sort()).toEqual(
    expected.map((i) => i.id).sort(),
  );
  for (const row of rows) {
    expect(row).toMatchObject({ schema: 1, sweep: 'tiny', version });
    expect(row.adapter).not.toBe('');
    expect(row.trajectory.length).toBeGreaterThan(1);
  }

  // The page draws what the report would draw from the same rows.
  const figures = reportFigures(rows);
  const shown = await page.$$eval('section.figure', (sections) =>
    sections.map((s) => ({
      name: s.dataset.figure,
      heading: s.querySelector('h3')?.textContent,
      svgText: Array.from(s.querySelectorAll('svg text'), (t) => t.textContent),
      omitted: s.querySelector('.omitted')?.textContent ?? null,
    })),
  );
  expect(shown.map((s) => s.name)).toEqual(figures.map((f) => f.name));
  expect(figures.filter((f) => f.spec).length).toBeGreaterThanOrEqual(4);
  figures.forEach((figure, i) => {
    const section = shown[i]!;
    expect(section.heading).toBe(figure.title);
    if (figure.spec) expect(section.svgText).toContain(figure.title);
    else expect(section.omitted).toContain(figure.omitted);
  });
  return rows;
}

describeGpu('sweep page', () => {
  let browser: Browser;
  let page: Page;

  const open = async (url: string) => {
    page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`[sweep page] ${String(e)}`));
    await page.setViewport({ width: 1300, height: 900 });
    await page.goto(url);
    await page.waitForSelector('#preset option');
    await page.waitForFunction(
      () => document.querySelector('#gpu')?.textContent !== 'Checking WebGPU…',
    );
  };

  beforeAll(async () => {
    browser = await puppeteer.connect({
      browserWSEndpoint: inject('browserWsEndpoint'),
    });
    await open(new URL('sweep.html', inject('pageBaseUrl')).href);
  });
  afterAll(async () => {
    await page?.close();
    await browser?.disconnect();
  });

  test('names the adapter', async () => {
    expect(await page.$eval('#gpu', (p) => p.textContent)).toMatch(
      /^WebGPU adapter: \S/,
    );
  });

  test('an invalid spec lists every problem and does not run', async () => {
    const bad = {
      name: 'bad name!',
      parts: [
        {
          name: 'md',
          base: { ...tinySpec().parts[0]!.base, K: 1, lr: -1 },
          grid: { 'noise.eta': [0.2, 2] },
        },
      ],
    };
    let message = '';
    try {
      expandSweep(bad);
    } catch (error) {
      message = (error as Error).message;
    }
    const problems = message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
    expect(problems.length).toBeGreaterThanOrEqual(3);

    await enterSpec(page, bad);
    await page.click('#run');
    expect(await textsOf(page, '#problems li')).toEqual(problems);
    expect(await page.$eval('#message', (m) => m.textContent)).toMatch(
      /problems listed above/,
    );
    expect(await page.$eval('body', (b) => b.dataset.state)).toBe('idle');

    await enterSpec(page, '{"name": "x", ');
    await page.click('#run');
    expect(await textsOf(page, '#problems li')).toEqual([
      expect.stringMatching(/^spec: not valid JSON/),
    ]);
  });

  test('a Fashion-MNIST spec is refused with the CLI to use', async () => {
    await page.select('#preset', 'fashion-binary');
    await page.click('#run');
    expect(await page.$eval('#message', (m) => m.textContent)).toMatch(
      /Fashion-MNIST.*nclab sweep/,
    );
    expect(await page.$eval('body', (b) => b.dataset.state)).toBe('idle');
  });

  test('runs a tiny sweep: rows, figures and the JSONL download', async () => {
    await runTiny(page);
    await mkdir(join(PROJECT_ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({
      path: SCREENSHOT,
      fullPage: true,
    });
  });

  test('Stop ends the sweep after the batch in flight', async () => {
    await page.select('#preset', 'tiny');
    await page.click('#run');
    await page.click('#stop');
    await page.waitForSelector('body[data-state="stopped"]', {
      timeout: 60_000,
    });
    const rows = (await page.$$('#rows tbody tr')).length;
    expect(rows).toBeLessThan(5);
    expect(await page.$eval('#message', (m) => m.textContent)).toMatch(
      new RegExp(`^Stopped: ${rows} of 5 configurations`),
    );
  });

  /** Serves the static build (vite preview on 127.0.0.1) during `body`. */
  async function withPreview(body: (base: string) => Promise<void>) {
    await buildOnce();
    let server: PreviewServer | null = null;
    try {
      server = await preview({
        root: PROJECT_ROOT,
        configFile: join(PROJECT_ROOT, 'vite.config.ts'),
        logLevel: 'warn',
        build: { outDir },
        preview: { host: '127.0.0.1', port: 0, strictPort: false },
      });
      const base = server.resolvedUrls?.local[0];
      expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      await body(base!);
    } finally {
      await server?.close();
    }
  }

  test('the static build runs the same sweep', async () => {
    await withPreview(async (base) => {
      await page.close();
      await open(new URL('sweep.html', base).href);
      await runTiny(page);
    });
  });

  test("the static build's benchmark page runs for a visitor", async () => {
    await withPreview(async (base) => {
      await page.close();
      page = await browser.newPage();
      await page.goto(new URL('bench/index.html', base).href);
      await page.waitForSelector('#workloads input');
      await page.$$eval('#workloads input', (boxes) =>
        boxes.forEach((box) => (box.checked = box.value === 'copy')),
      );
      await page.click('#run');
      await page.waitForFunction(
        () =>
          /^(Done|Failed)/.test(document.querySelector('#status')!.textContent),
        { timeout: 120_000 },
      );
      expect(await page.$eval('#status', (e) => e.textContent)).toBe(
        'Done: 1 workloads.',
      );
      const cells = await page.$$eval(
        '#report table:first-of-type tbody tr td',
        (tds) => tds.map((td) => td.textContent),
      );
      expect(cells[0]).toBe('copy');
      expect(cells.at(-1)).toBe('yes');
    });
  });
});
