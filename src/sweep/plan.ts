// The host's scheduler: which configurations this shard runs, which of them
// are done already, and how the rest are packed into batches — one model,
// one run length and one data set per batch (so a graph is built once), and
// no more configurations than the adapter's buffers hold. A batch too big
// for memory is split, never failed.

import { trainCount as dataTrainCount } from '../data/datasets';
import { InvalidArgumentError } from '../gpu/errors';
import { batchKey, type RunConfig } from '../train/config';
import type { SweepItem } from './spec';

/** Most configurations per batch unless --max-batch says otherwise: the
 * work a kill can lose, and what the page and the benchmark also use. */
export const DEFAULT_MAX_BATCH = 256;

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

/** Parses "i/n" (1-based i, as schedulers count; 0/n is taken too). */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const problem = () =>
    new InvalidArgumentError(
      `--shard ${text} is invalid; expected i/n with 0 ≤ i < n (a 0-based ` +
        'index such as a Kubernetes completion index), e.g. 0/4',
    );
  if (!match) throw problem();
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (!(count >= 1 && index < count)) throw problem();
  return { index, count };
}

/** This shard's slice: every count-th configuration from its index. */
export function shardItems(items: readonly SweepItem[], shard: Shard) {
  return items.filter((item) => item.index % shard.count === shard.index);
}

/** The adapter's limits that bound a batch. */
export interface BatchLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** Most configurations in one batch: the work a kill can lose. */
  maxConfigs: number;
}

/** Bytes of the largest [B, rows, columns] buffer one configuration adds. */
export function bytesPerConfig(run: RunConfig): number {
  const { K, d } = run.config;
  let columns: number;
  if (run.model === 'ufm') {
    columns = run.config.countsPerClass.reduce((a, n) => a + n, 0);
  } else if (run.model === 'md') {
    columns = 2 * d * K + K * (K - 1);
  } else {
    const data = run.data;
    columns = dataTrainCount(data) + K * data.testPerClass;
  }
  return 4 * Math.max(d, K) * columns;
}

/**
 * A rough relative cost of one training step of a configuration, for the
 * time-left estimate: a fixed part (the dispatches) plus the examples or
 * points it trains (measured on SwiftShader: an md step over 10 points
 * ~2 ms a configuration, a graph step over 800 examples ~26 ms).
 */
export function stepCost(run: RunConfig): number {
  const { K, d } = run.config;
  const columns = bytesPerConfig(run) / (4 * Math.max(d, K));
  return 1 + columns / 50;
}

/** Half the largest binding: room for padding and the split-K partials. */
function configsThatFit(run: RunConfig, limits: BatchLimits): number {
  const largest = Math.min(
    limits.maxStorageBufferBindingSize,
    limits.maxBufferSize,
  );
  return Math.max(1, Math.floor(largest / 2 / bytesPerConfig(run)));
}

export interface Batch {
  key: string;
  items: SweepItem[];
}

/**
 * Packs items into batches: items with one batch key (model, steps, data)
 * together, in order of first appearance, each group cut into batches that
 * fit the limits.
 */
export function planBatches(
  items: readonly SweepItem[],
  limits: BatchLimits,
): Batch[] {
  const groups = new Map<string, SweepItem[]>();
  for (const item of items) {
    const key = batchKey(item.run);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  const batches: Batch[] = [];
  for (const [key, group] of groups) {
    const size = Math.min(
      limits.maxConfigs,
      ...group.map((item) => configsThatFit(item.run, limits)),
    );
    for (let start = 0; start < group.length; start += size) {
      batches.push({ key, items: group.slice(start, start + size) });
    }
  }
  return batches;
}
