// A browser and a page server together: what the CLI, the tests and the
// benchmarks use to run engine code in a real page from Node.

import type { Page } from 'puppeteer-core';

import {
  launchBrowser,
  type FindBrowserOptions,
  type LaunchedBrowser,
} from './browser';
import { startPageServer, type PageServer } from './server';
import { adapterSearch, type AdapterKind } from '../gpu/adapters';
import { readTuningCache } from './tuningCache';
import { TUNING_GLOBAL } from '../gpu/tuning';

export interface Session {
  launched: LaunchedBrowser;
  server: PageServer;
  /** The adapter route the browser was launched for and pages request. */
  adapter: AdapterKind;
  /**
   * Opens `path` (relative to the project root) in a new page, with the
   * session's adapter in its URL (`?adapter=compat`).
   */
  open(path: string): Promise<Page>;
  close(): Promise<void>;
}

let defaultAdapter: AdapterKind = 'core';

/**
 * The adapter of sessions opened without one: the CLI sets it once, from
 * --adapter (src/host/adapterChoice.ts), for every command that opens one.
 */
export function setDefaultAdapter(kind: AdapterKind): void {
  defaultAdapter = kind;
}

/** Console errors and page exceptions, forwarded so failures carry them. */
function forwardPageErrors(page: Page, log: (line: string) => void): void {
  page.on('pageerror', (error) => log(`[page error] ${String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error') log(`[page console] ${message.text()}`);
  });
}

export async function openSession(
  options: FindBrowserOptions & {
    log?: (line: string) => void;
    /** Buffers the page can fetch at DATA_PREFIX + name (see server.ts). */
    files?: ReadonlyMap<string, Uint8Array>;
    /** The caller handles the signals; others connect (see launchBrowser). */
    ownSignals?: boolean;
    shared?: boolean;
    /** Which adapter pages use: flags and URL (setDefaultAdapter's). */
    adapter?: AdapterKind;
  } = {},
): Promise<Session> {
  const adapter = options.adapter ?? defaultAdapter;
  const launched = await launchBrowser({ ...options, adapter });
  let server: PageServer;
  const sigterm = new Set(process.listeners('SIGTERM'));
  const stdinEnd = new Set(process.stdin.listeners('end'));
  try {
    server = await startPageServer({ files: options.files });
  } catch (error) {
    await launched.close();
    throw error;
  }
  if (options.ownSignals) {
    // vite's dev server exits the process on SIGTERM (and when stdin ends)
    // before the caller can write what it holds: the caller handles them.
    for (const listener of process.listeners('SIGTERM')) {
      if (!sigterm.has(listener)) process.off('SIGTERM', listener);
    }
    for (const listener of process.stdin.listeners('end')) {
      if (!stdinEnd.has(listener))
        process.stdin.off('end', listener as () => void);
    }
  }
  const log = options.log ?? ((line: string) => console.error(line));
  // Every page's runtimes use this machine's tunings (nclab tune).
  const tunings = await readTuningCache(undefined, log);
  return {
    launched,
    server,
    adapter,
    async open(path: string) {
      const page = await launched.browser.newPage();
      forwardPageErrors(page, log);
      await page.evaluateOnNewDocument(
        (name, value) => {
          (globalThis as Record<string, unknown>)[name] = value;
        },
        TUNING_GLOBAL,
        tunings,
      );
      const url = new URL(path, server.url);
      for (const [key, value] of Object.entries(adapterSearch(adapter))) {
        url.searchParams.set(key, value);
      }
      await page.goto(url.href, { waitUntil: 'load' });
      return page;
    },
    async close() {
      await launched.close();
      await server.close();
    },
  };
}
