// How the benchmark page turns timed repeats into one measurement: fast
// operations repeated within a sample and divided, the median of the
// samples, and the rate in the workload's unit at that median.

import type { Measurement, RateUnit } from './workloads';

/**
 * Shortest span one timed sample should cover: fast operations are recorded
 * several times per sample so launch overhead and timer resolution stay
 * small next to the work.
 */
const MIN_SAMPLE_MS = 20;
/** Most operations per sample (each keeps its output until the submit). */
const MAX_OPS_PER_SAMPLE = 64;

/** Work per second in `unit` at `ms` per op (FLOP and bytes in billions). */
function ratePerSecond(unit: RateUnit, workPerOp: number, ms: number): number {
  const perSecond = workPerOp / (ms / 1_000);
  return unit === 'GFLOP/s' || unit === 'GB/s' ? perSecond / 1e9 : perSecond;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Who else hears the progress lines (the page's own view). */
export const progressListeners = new Set<(line: string) => void>();

export function progress(line: string): void {
  console.info(`[bench] ${line}`);
  for (const listener of progressListeners) listener(line);
}

function opsPerSample(singleMs: number): number {
  const wanted = Math.ceil(MIN_SAMPLE_MS / Math.max(singleMs, 1e-3));
  return Math.min(MAX_OPS_PER_SAMPLE, Math.max(1, wanted));
}

export function measurement(
  samplesMs: number[],
  opsPerSample: number,
  unit: RateUnit,
  workPerOp: number,
): Measurement {
  const medianMs = median(samplesMs);
  return {
    medianMs,
    samplesMs,
    opsPerSample,
    rate: ratePerSecond(unit, workPerOp, medianMs),
  };
}

/**
 * `repeats` per-operation times. A first timed operation decides how many
 * operations each sample covers; when that is one, it is the first sample.
 */
export async function sampleTimes(
  timeOps: (ops: number) => Promise<number>,
  repeats: number,
): Promise<{ samplesMs: number[]; ops: number }> {
  const firstMs = await timeOps(1);
  const ops = opsPerSample(firstMs);
  const samplesMs = ops === 1 ? [firstMs] : [];
  while (samplesMs.length < repeats) samplesMs.push((await timeOps(ops)) / ops);
  return { samplesMs, ops };
}
