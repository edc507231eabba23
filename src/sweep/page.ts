// The engine's side of a sweep: one runtime and one graph cache for the
// whole sweep, and a call per batch that trains checked configurations in
// the same dispatches and returns their measured rows (src/sweep/rows.ts).
// The page runs it on navigator.gpu; the Node host on Dawn, in process.

import { parseConfigurations } from '../train/config';
import { PAGE_HOST, Trainer, type TrainingHost } from '../train/run';
import { measuredRow, type MeasuredRow } from './rows';

export interface BatchResult {
  rows: MeasuredRow[];
  /** Wall time of the batch in the page, and the GPU's span of it. */
  wallMs: number;
  gpuMs: number | null;
  adapter: string;
}

/** What the host needs to size batches: the adapter and its limits. */
export interface SweepDevice {
  adapter: string;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/** A sweep's three calls, on one device kept from the first to the end. */
export interface SweepRunner {
  sweepDevice: () => Promise<SweepDevice>;
  /**
   * Trains one batch (configurations of one model, length and data set, as
   * the host's scheduler groups them) and measures every run.
   */
  sweepBatch: (
    configs: unknown[],
    onStep?: (step: number) => void,
  ) => Promise<BatchResult>;
  /** Releases the GPU (the end of a sweep, or a page about to close). */
  endSweep: () => Promise<void>;
}

/** The sweep calls on `host`'s device: the page's, or the Node host's. */
export function sweepRunner(host: TrainingHost): SweepRunner {
  let trainer: Promise<{ trainer: Trainer; adapter: string }> | null = null;

  const current = () => {
    trainer ??= host.open().then(({ rt, adapter }) => ({
      trainer: new Trainer(rt, host.data),
      adapter,
    }));
    // A failed start is not kept: the next call tries again.
    trainer.catch(() => (trainer = null));
    return trainer;
  };

  return {
    async sweepDevice() {
      const { trainer: t, adapter } = await current();
      const limits = t.rt.gpu.device.limits;
      return {
        adapter,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
      };
    },

    async sweepBatch(configs, onStep) {
      const runs = parseConfigurations(configs);
      const { trainer: t, adapter } = await current();
      const start = performance.now();
      let reports: Awaited<ReturnType<Trainer['train']>> = [];
      const timing = await t.rt.time(async () => {
        reports = await t.train(runs, (step) => onStep?.(step));
      });
      return {
        rows: reports.map(measuredRow),
        wallMs: performance.now() - start,
        gpuMs: timing.method === 'gpu-timestamp' ? timing.ms : null,
        adapter,
      };
    },

    async endSweep() {
      const t = trainer;
      trainer = null;
      if (t) await (await t).trainer.rt.destroy();
    },
  };
}

/** The page's sweep (the app page and the sweep page). */
export const { sweepDevice, sweepBatch, endSweep } = sweepRunner(PAGE_HOST);
