// A sweep run in the visitor's page: the checked spec planned into batches
// for this adapter, trained batch by batch, each batch's rows handed on as
// soon as they are measured. Stop lets the batch in flight finish, as the
// CLI's first Ctrl-C does. No DOM here: the page draws what it is told.

import { batchRows } from '../sweep/assemble';
import { endSweep, sweepBatch, sweepDevice } from '../sweep/page';
import { planBatches } from '../sweep/plan';
import type { ResultRow } from '../sweep/row';
import type { ExpandedSweep, SweepItem } from '../sweep/spec';

/**
 * Most configurations per batch. Smaller than the CLI's default so rows and
 * figures arrive every few seconds, and Stop loses little; a batch still
 * shares its dispatches among this many configurations.
 */
export const PAGE_MAX_BATCH = 32;

export interface SweepProgress {
  /** Configurations finished, of the total. */
  done: number;
  total: number;
  /** Configuration-steps trained (steps × configurations), of the total. */
  work: number;
  workTotal: number;
  /** Configuration-steps per second since training began; null at first. */
  rate: number | null;
  /** Time left at that rate; null while the rate is unknown. */
  etaMs: number | null;
  adapter: string | null;
  batch: number;
  batches: number;
}

export interface SweepHandlers {
  onProgress(progress: SweepProgress): void;
  onRows(rows: ResultRow[]): void;
}

/** Configurations the page cannot train: their data only the CLI serves. */
export function hostOnlyItems(items: readonly SweepItem[]): SweepItem[] {
  return items.filter(
    (item) =>
      item.run.model === 'graph' && item.run.data.kind === 'fashion-mnist',
  );
}

export function hostOnlyMessage(items: readonly SweepItem[]): string {
  const parts = [...new Set(items.map((item) => item.part))];
  return (
    `${items.length} configuration(s) (part ${parts.join(', ')}) train on ` +
    'Fashion-MNIST, which this page cannot read: the images come from ' +
    "Debian's dataset-fashion-mnist, served only by the command line. Run " +
    'this spec with `npx nclab sweep spec.json` (it writes the same JSONL ' +
    'rows), or use data with "kind": "mixture" here.'
  );
}

export class PageSweep {
  private stopping = false;
  private readonly rows: ResultRow[] = [];

  constructor(
    private readonly sweep: ExpandedSweep,
    private readonly version: string,
    private readonly handlers: SweepHandlers,
  ) {}

  /** Ends the sweep after the batch in flight (its rows are kept). */
  stop(): void {
    this.stopping = true;
  }

  /** Trains every batch (or until stopped); releases the GPU at the end. */
  async run(): Promise<{ rows: ResultRow[]; stopped: boolean }> {
    const items = this.sweep.items;
    const workTotal = items.reduce((a, i) => a + i.run.config.steps, 0);
    const progress: SweepProgress = {
      done: 0,
      total: items.length,
      work: 0,
      workTotal,
      rate: null,
      etaMs: null,
      adapter: null,
      batch: 0,
      batches: 0,
    };
    const report = () => this.handlers.onProgress({ ...progress });
    report();
    try {
      const device = await sweepDevice();
      progress.adapter = device.adapter;
      const batches = planBatches(items, {
        ...device,
        maxConfigs: PAGE_MAX_BATCH,
      });
      progress.batches = batches.length;
      report();

      // The rate counts from here: the device and its limits are ready.
      const start = performance.now();
      const update = (work: number) => {
        const seconds = (performance.now() - start) / 1000;
        progress.work = work;
        if (work > 0 && seconds > 0) {
          progress.rate = work / seconds;
          progress.etaMs = ((workTotal - work) / progress.rate) * 1000;
        }
        report();
      };
      let workDone = 0;
      for (const batch of batches) {
        if (this.stopping) break;
        progress.batch += 1;
        report();
        const size = batch.items.length;
        const result = await sweepBatch(
          batch.items.map((item) => item.config),
          (step) => update(workDone + step * size),
        );
        const rows = batchRows(
          this.sweep.name,
          batch.items,
          result,
          this.version,
        );
        this.rows.push(...rows);
        // One batch, one run length (planBatches groups by it).
        workDone += batch.items[0]!.run.config.steps * size;
        progress.done += size;
        this.handlers.onRows(rows);
        update(workDone);
      }
    } finally {
      await endSweep();
    }
    // A Stop during the last batch stops nothing.
    const stopped = this.stopping && this.rows.length < items.length;
    return { rows: this.rows, stopped };
  }
}
