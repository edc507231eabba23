// Finding and launching a Chromium with WebGPU, from Node. Search order:
// $CHROME_PATH, then a browser installed by puppeteer in its cache, then the
// system's Chromium or Chrome. Launch flags keep it headless, offline and
// able to use SwiftShader's Vulkan when the machine has no GPU.

import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  Browser as BrowserKind,
  getInstalledBrowsers,
} from '@puppeteer/browsers';
import puppeteer, { type Browser } from 'puppeteer-core';

import type { AdapterKind } from '../gpu/adapters';

export type BrowserSource = 'CHROME_PATH' | 'puppeteer cache' | 'system';

export interface FoundBrowser {
  path: string;
  source: BrowserSource;
}

/** The real binaries first: Debian's /usr/bin/chromium is a shell wrapper. */
export const SYSTEM_BROWSER_PATHS = [
  '/usr/lib/chromium/chromium',
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
  '/opt/google/chrome/chrome',
];

export const INSTALL_HINT =
  'Install one: as root on Debian or Ubuntu, `apt-get install -y chromium` ' +
  '(or run `npm test` / `npm start`, which do that for you); elsewhere ' +
  'install Chrome or Chromium and set CHROME_PATH=/path/to/chrome.';

export class BrowserNotFoundError extends Error {
  override name = 'BrowserNotFoundError';
}

export class BrowserLaunchError extends Error {
  override name = 'BrowserLaunchError';
}

export interface FindBrowserOptions {
  env?: Record<string, string | undefined>;
  /** Puppeteer's browser cache; $PUPPETEER_CACHE_DIR or ~/.cache/puppeteer. */
  cacheDir?: string;
  systemPaths?: readonly string[];
}

/** Why `path` cannot be a browser binary, or null if it can. */
function notExecutable(path: string): string | null {
  if (!existsSync(path)) return 'no file exists there';
  if (!statSync(path).isFile()) return 'that is not a file';
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return 'that file is not executable';
  }
  return null;
}

function puppeteerCacheDir(env: Record<string, string | undefined>): string {
  return env.PUPPETEER_CACHE_DIR ?? join(homedir(), '.cache', 'puppeteer');
}

export async function findBrowser(
  options: FindBrowserOptions = {},
): Promise<FoundBrowser> {
  const env = options.env ?? process.env;
  const chromePath = env.CHROME_PATH;
  if (chromePath) {
    const problem = notExecutable(chromePath);
    if (!problem) return { path: chromePath, source: 'CHROME_PATH' };
    throw new BrowserNotFoundError(
      `CHROME_PATH is set to "${chromePath}", but ${problem}. ` +
        `Point it at a Chrome or Chromium binary, or unset it to search ` +
        `the usual places. ${INSTALL_HINT}`,
    );
  }

  const cacheDir = options.cacheDir ?? puppeteerCacheDir(env);
  const looked: string[] = ['CHROME_PATH (unset)'];
  let cached: string[] = [];
  if (existsSync(cacheDir)) {
    const installed = await getInstalledBrowsers({ cacheDir });
    cached = installed
      .filter(
        (browser) =>
          browser.browser === BrowserKind.CHROME ||
          browser.browser === BrowserKind.CHROMIUM,
      )
      .map((browser) => browser.executablePath)
      .filter((path) => existsSync(path));
  }
  if (cached[0]) return { path: cached[0], source: 'puppeteer cache' };
  looked.push(`puppeteer cache ${cacheDir} (no Chrome in it)`);

  const systemPaths = options.systemPaths ?? SYSTEM_BROWSER_PATHS;
  const system = systemPaths.find((path) => notExecutable(path) === null);
  if (system) return { path: system, source: 'system' };
  looked.push(...systemPaths);

  throw new BrowserNotFoundError(
    `No Chrome or Chromium found. Looked at: ${looked.join(', ')}. ${INSTALL_HINT}`,
  );
}

/** Flags for a headless, offline Chromium with WebGPU on any machine. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  // Timestamp queries at full resolution, not quantised to 100 µs.
  '--enable-webgpu-developer-features',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/**
 * Added for the compatibility adapter: WebGPU on ANGLE's OpenGL ES over the
 * system's EGL (Mesa's llvmpipe without a GPU). The page must then request
 * `featureLevel: 'compatibility'`; a plain request still gets the default
 * adapter. WebGL in such a browser also runs on ANGLE's EGL.
 */
export const COMPAT_FLAGS = [
  '--use-gl=angle',
  '--use-angle=gl-egl',
  '--use-webgpu-adapter=opengles',
];

/** Chromium's flags for each adapter route, on top of CHROMIUM_FLAGS. */
export function adapterFlags(kind: AdapterKind): string[] {
  return kind === 'compat' ? [...COMPAT_FLAGS] : [];
}

/** Longest single call into the page: 12 hours. */
export const PROTOCOL_TIMEOUT_MS = 12 * 3600_000;

export interface LaunchedBrowser {
  browser: Browser;
  found: FoundBrowser;
  close(): Promise<void>;
}

export async function launchBrowser(
  options: FindBrowserOptions & {
    extraFlags?: string[];
    /** Which adapter route the browser offers (flags); 'core' by default. */
    adapter?: AdapterKind;
    /** The caller handles SIGINT/SIGTERM/SIGHUP and closes the browser
     * itself (puppeteer would otherwise kill it and exit on Ctrl-C). */
    ownSignals?: boolean;
    /** Other processes connect to it (the test harness): a DevTools port
     * instead of the pipe. */
    shared?: boolean;
  } = {},
): Promise<LaunchedBrowser> {
  const found = await findBrowser(options);
  const userDataDir = await mkdtemp(join(tmpdir(), 'nclab-chromium-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: found.path,
      headless: true,
      userDataDir,
      args: [
        ...CHROMIUM_FLAGS,
        ...adapterFlags(options.adapter ?? 'core'),
        ...(options.extraFlags ?? []),
      ],
      // A training or benchmark is one long page call (puppeteer's default
      // gives up after 3 minutes); progress is reported meanwhile.
      protocolTimeout: PROTOCOL_TIMEOUT_MS,
      // Talk over a pipe, not a port: when Node dies, even by SIGKILL, the
      // pipe closes and Chromium exits instead of living on as an orphan.
      pipe: !options.shared,
      ...(options.ownSignals
        ? { handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false }
        : {}),
    });
  } catch (cause) {
    await rm(userDataDir, { recursive: true, force: true });
    const reason = cause instanceof Error ? cause.message : String(cause);
    const summary = reason.replace(/\s+/g, ' ').split(' TROUBLESHOOTING')[0];
    throw new BrowserLaunchError(
      `could not start the browser ${found.path} (from ${found.source}): ` +
        `${summary!.trim()}. Is it Chrome or Chromium 113 or newer? ` +
        `Set CHROME_PATH to another one, or unset it. ${INSTALL_HINT}`,
    );
  }
  return {
    browser,
    found,
    async close() {
      await browser.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
