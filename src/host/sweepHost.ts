// Where `nclab sweep` trains its batches, behind one small interface: the
// browser host (headless Chromium, the engine in a page driven through
// puppeteer) or the Node host (the engine in this process on Dawn). The
// scheduler, the results store and the signal handling do not know which.

import type { Page } from 'puppeteer-core';

import { InvalidArgumentError } from '../gpu/errors';
import type { BatchResult, SweepDevice } from '../sweep/page';
import { openSession, type Session } from './session';

export const HOST_KINDS = ['browser', 'node'] as const;

export type HostKind = (typeof HOST_KINDS)[number];

/** The host used when --host is not given. */
export const DEFAULT_HOST: HostKind = 'browser';

export function parseHost(value: string | undefined): HostKind {
  if (value === undefined) return DEFAULT_HOST;
  if ((HOST_KINDS as readonly string[]).includes(value)) {
    return value as HostKind;
  }
  throw new InvalidArgumentError(
    `--host ${value} is invalid; expected ${HOST_KINDS.join(' or ')}`,
  );
}

/** A sweep's engine: one device from the first call to `end`. */
export interface SweepHost {
  readonly kind: HostKind;
  device(): Promise<SweepDevice>;
  batch(
    configs: unknown[],
    onStep: (step: number) => void,
  ): Promise<BatchResult>;
  /** Releases the device (the sweep is done). */
  end(): Promise<void>;
  /** Closes everything; also called from signal handlers, mid-batch. */
  close(): Promise<void>;
}

export interface SweepHostOptions {
  /** The data sets of the sweep's runs, by served name. */
  files: ReadonlyMap<string, Uint8Array>;
  /** Forward page console errors (browser host). */
  verbose?: boolean;
  /** Replaces $NCLAB_NODE_BACKEND (Node host). */
  nodeBackend?: string;
}

async function openBrowserHost(options: SweepHostOptions): Promise<SweepHost> {
  const session: Session = await openSession({
    log: options.verbose ? undefined : () => {},
    files: options.files,
    // Ctrl-C must let the batch in flight finish: puppeteer's own
    // handler would kill the browser and exit at once.
    ownSignals: true,
  });
  let page: Page;
  try {
    page = await session.open('index.html');
    await page.waitForFunction(() => window.nclab !== undefined);
  } catch (error) {
    await session.close();
    throw error;
  }
  page.setDefaultTimeout(0); // a batch may train for a long time
  let onStep: ((step: number) => void) | null = null;
  page.on('console', (message) => {
    const text = message.text();
    if (text.startsWith('[nclab:step] ')) onStep?.(Number(text.slice(13)));
  });
  return {
    kind: 'browser',
    device: () => page.evaluate(() => window.nclab!.sweepDevice()),
    async batch(configs, step) {
      onStep = step;
      try {
        return await page.evaluate((c) => window.nclab!.sweepBatch(c), configs);
      } finally {
        onStep = null;
      }
    },
    end: () => page.evaluate(() => window.nclab!.endSweep()),
    close: () => session.close(),
  };
}

async function openNodeHost(options: SweepHostOptions): Promise<SweepHost> {
  // Loaded only here: the browser host needs neither Dawn nor the kernels.
  const [{ nodeTrainingHost }, { sweepRunner }] = await Promise.all([
    import('./node'),
    import('../sweep/page'),
  ]);
  const runner = sweepRunner(
    nodeTrainingHost({ files: options.files, backend: options.nodeBackend }),
  );
  // Opens the device now, so a missing adapter fails before any batch.
  await runner.sweepDevice();
  return {
    kind: 'node',
    device: () => runner.sweepDevice(),
    batch: (configs, onStep) => runner.sweepBatch(configs, onStep),
    end: () => runner.endSweep(),
    close: () => runner.endSweep(),
  };
}

export function openSweepHost(
  kind: HostKind,
  options: SweepHostOptions,
): Promise<SweepHost> {
  return kind === 'node' ? openNodeHost(options) : openBrowserHost(options);
}
