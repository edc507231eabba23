// The page's side of a sweep: one runtime and one graph cache for the whole
// sweep, and a call per batch that trains checked configurations in the
// same dispatches and returns their measured rows (src/sweep/rows.ts).

import { adapterName } from '../gpu/device';
import { Runtime } from '../gpu/runtime';
import { parseConfigurations } from '../train/config';
import { Trainer } from '../train/run';
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

let trainer: Promise<Trainer> | null = null;

function current(): Promise<Trainer> {
  trainer ??= Runtime.create().then((rt) => new Trainer(rt));
  // A failed start is not kept: the next call tries again.
  trainer.catch(() => (trainer = null));
  return trainer;
}

export async function sweepDevice(): Promise<SweepDevice> {
  const { rt } = await current();
  const limits = rt.gpu.device.limits;
  return {
    adapter: adapterName(rt.gpu.adapterSummary),
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxBufferSize: limits.maxBufferSize,
  };
}

/**
 * Trains one batch (configurations of one model, length and data set, as
 * the host's scheduler groups them) and measures every run.
 */
export async function sweepBatch(
  configs: unknown[],
  onStep?: (step: number) => void,
): Promise<BatchResult> {
  const runs = parseConfigurations(configs);
  const t = await current();
  const start = performance.now();
  let reports: Awaited<ReturnType<Trainer['train']>> = [];
  const timing = await t.rt.time(async () => {
    reports = await t.train(runs, (step) => onStep?.(step));
  });
  return {
    rows: reports.map(measuredRow),
    wallMs: performance.now() - start,
    gpuMs: timing.method === 'gpu-timestamp' ? timing.ms : null,
    adapter: adapterName(t.rt.gpu.adapterSummary),
  };
}

/** Releases the GPU (the end of a sweep, or a page about to close). */
export async function endSweep(): Promise<void> {
  const t = trainer;
  trainer = null;
  if (t) await (await t).rt.destroy();
}
