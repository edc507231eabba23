// Finding a browser: $CHROME_PATH, then puppeteer's cache, then the system;
// and the message when there is none. No browser is launched here.

import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { findBrowser, INSTALL_HINT } from '../src/host/browser';

let dir: string;
let fakeChrome: string;
let cacheDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nclab-browser-test-'));
  fakeChrome = join(dir, 'my-chrome');
  await writeFile(fakeChrome, '#!/bin/sh\n');
  await chmod(fakeChrome, 0o755);
  // The layout puppeteer's own installer leaves in its cache.
  cacheDir = join(dir, 'cache');
  const binDir = join(
    cacheDir,
    'chrome',
    'linux-131.0.6778.85',
    'chrome-linux64',
  );
  await mkdir(binDir, { recursive: true });
  await writeFile(join(binDir, 'chrome'), '#!/bin/sh\n');
  await chmod(join(binDir, 'chrome'), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('findBrowser', () => {
  test('prefers CHROME_PATH', async () => {
    const found = await findBrowser({
      env: { CHROME_PATH: fakeChrome },
      cacheDir,
      systemPaths: ['/bin/sh'],
    });
    expect(found).toEqual({ path: fakeChrome, source: 'CHROME_PATH' });
  });

  test('rejects a CHROME_PATH that does not exist, naming it', async () => {
    await expect(
      findBrowser({ env: { CHROME_PATH: join(dir, 'nope') }, systemPaths: [] }),
    ).rejects.toThrow(
      `CHROME_PATH is set to "${join(dir, 'nope')}", but no file exists there`,
    );
  });

  test('rejects a CHROME_PATH that is a folder', async () => {
    await expect(
      findBrowser({ env: { CHROME_PATH: dir }, systemPaths: [] }),
    ).rejects.toThrow(`CHROME_PATH is set to "${dir}", but that is not a file`);
  });

  test("then takes a browser from puppeteer's cache", async () => {
    const found = await findBrowser({
      env: {},
      cacheDir,
      systemPaths: ['/bin/sh'],
    });
    expect(found.source).toBe('puppeteer cache');
    expect(found.path).toContain(join('chrome-linux64', 'chrome'));
  });

  test('then a system browser', async () => {
    const found = await findBrowser({
      env: {},
      cacheDir: join(dir, 'empty-cache'),
      systemPaths: [join(dir, 'missing'), fakeChrome],
    });
    expect(found).toEqual({ path: fakeChrome, source: 'system' });
  });

  test('says where it looked and how to install one when none exists', async () => {
    const error = await findBrowser({
      env: {},
      cacheDir: join(dir, 'empty-cache'),
      systemPaths: ['/nowhere/chromium'],
    }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('BrowserNotFoundError');
    expect((error as Error).message).toBe(
      `No Chrome or Chromium found. Looked at: CHROME_PATH (unset), ` +
        `puppeteer cache ${join(dir, 'empty-cache')} (no Chrome in it), ` +
        `/nowhere/chromium. ${INSTALL_HINT}`,
    );
    expect(INSTALL_HINT).toContain('apt-get install -y chromium');
  });
});
