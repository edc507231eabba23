// Full results rows from a trained batch: the measured part the page
// returns (src/sweep/rows.ts) joined with the configuration's identity in
// the sweep, the batch's timing shared out, the adapter and the nclab
// version. Page-safe, so the CLI host and the sweep page write rows alike.

import type { BatchResult } from './page';
import { RESULT_SCHEMA_VERSION, type ResultRow } from './row';
import type { SweepItem } from './spec';

/**
 * The rows of one batch, in the order of its items (the page returns its
 * measured rows in the order of the configurations it was given).
 */
export function batchRows(
  sweep: string,
  items: readonly SweepItem[],
  batch: BatchResult,
  version: string,
): ResultRow[] {
  if (batch.rows.length !== items.length) {
    throw new Error(
      `a batch of ${items.length} configurations returned ` +
        `${batch.rows.length} rows`,
    );
  }
  const size = items.length;
  return items.map((item, j) => ({
    schema: RESULT_SCHEMA_VERSION,
    id: item.id,
    sweep,
    part: item.part,
    index: item.index,
    point: item.point,
    config: item.config,
    ...batch.rows[j]!,
    // Configurations of a batch share its dispatches: each is charged an
    // equal share of the batch's time.
    timing: {
      wallMs: batch.wallMs / size,
      gpuMs: batch.gpuMs === null ? null : batch.gpuMs / size,
      batchSize: size,
    },
    adapter: batch.adapter,
    version,
  }));
}
