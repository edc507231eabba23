// `nclab sweep`: expands and checks a sweep spec (every problem at once, before
// the browser starts), skips the configurations the results file already
// holds, trains the rest batch by batch on a host (the browser's page, or
// the engine in this process on Dawn: src/host/sweepHost.ts) and appends each
// batch's rows (one write and an fsync) as soon as it is done. Ctrl-C
// finishes the batch in flight and writes it; a second Ctrl-C stops at once
// (the file stays whole: only the batch in flight is lost).

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

import { InvalidArgumentError } from '../gpu/errors';
import { serveDatasets } from '../host/datasets';
import {
  openSweepHost,
  parseHost,
  type HostKind,
  type SweepHost,
} from '../host/sweepHost';
import { batchRows } from '../sweep/assemble';
import {
  DEFAULT_MAX_BATCH,
  parseShard,
  planBatches,
  shardItems,
  stepCost,
  type Shard,
} from '../sweep/plan';
import { presetSpec } from '../sweep/presets';
import { expandSweep, type ExpandedSweep } from '../sweep/spec';
import { ResultsWriter } from '../sweep/store';
import { SweepProgress } from './progress';
import { report } from './report';

const { version } = createRequire(import.meta.url)('../../package.json') as {
  version: string;
};

export interface SweepRunOptions {
  out: string;
  shard?: Shard;
  maxBatch?: number;
  quiet?: boolean;
  verbose?: boolean;
  /** Where batches train: the browser (default) or the Node host. */
  host?: HostKind;
  /** Called after each batch is written (tests use it to kill mid-sweep). */
  onBatchWritten?: (written: number) => void;
}

export interface SweepSummary {
  sweep: string;
  out: string;
  shard: string;
  total: number;
  resumed: number;
  trained: number;
  diverged: number;
  adapter: string | null;
  host: HostKind;
  wallMs: number;
  interrupted: boolean;
}

/**
 * Runs a checked sweep into `options.out`. Throws InvalidArgumentError for
 * bad input found before the browser starts (a data set missing, a results
 * file of another sweep), other errors for failures while training.
 */
export async function runSweep(
  sweep: ExpandedSweep,
  options: SweepRunOptions,
): Promise<SweepSummary> {
  const start = performance.now();
  const shard = options.shard ?? { index: 0, count: 1 };
  const mine = shardItems(sweep.items, shard);
  // Data sets are read (and checked) before anything is written.
  const files = new Map<string, Uint8Array>();
  serveDatasets(
    mine.flatMap((item) => (item.run.model === 'graph' ? [item.run.data] : [])),
    files,
  );
  let writer: ResultsWriter;
  try {
    writer = await ResultsWriter.open(options.out, { sweep: sweep.name });
  } catch (error) {
    // A results file that is corrupt, another sweep's or in use: the
    // command's input is wrong, nothing was trained.
    throw new InvalidArgumentError((error as Error).message);
  }
  const say = (line: string) => {
    if (!options.quiet) console.error(line);
  };
  writer.notes.forEach((note) => say(`[nclab] ${note}`));
  const inSpec = sweep.items.filter((item) => writer.has(item.id)).length;
  if (writer.doneCount > inSpec) {
    say(
      `[nclab] ${options.out} holds ${writer.doneCount - inSpec} row(s) of ` +
        'configurations this spec no longer has (was it edited?); they stay ' +
        'in the file and in its report: write to a new file to keep them apart',
    );
  }
  const todo = mine.filter((item) => !writer.has(item.id));
  const summary: SweepSummary = {
    sweep: sweep.name,
    out: options.out,
    shard: `${shard.index}/${shard.count}`,
    total: mine.length,
    resumed: mine.length - todo.length,
    trained: 0,
    diverged: 0,
    adapter: null,
    host: options.host ?? 'browser',
    wallMs: 0,
    interrupted: false,
  };
  if (todo.length === 0) {
    await writer.close();
    say(`[nclab] ${options.out}: all ${mine.length} configurations done`);
    summary.wallMs = performance.now() - start;
    return summary;
  }

  let host: SweepHost | null = null;
  let stopping = false;
  let stoppingNow = false;
  let progress: SweepProgress | undefined;
  const interrupt = (signal: NodeJS.Signals) => {
    if (!stopping && signal === 'SIGINT') {
      stopping = true;
      console.error(
        '[nclab] SIGINT: finishing the batch in flight and writing it; ' +
          'Ctrl-C again to stop now',
      );
      return;
    }
    stoppingNow = true;
    progress?.stop();
    console.error(
      `[nclab] ${signal}: stopping now; the results written so far are ` +
        'kept, a rerun resumes',
    );
    const codes: Partial<Record<NodeJS.Signals, number>> = {
      SIGINT: 130,
      SIGHUP: 129,
      SIGTERM: 143,
    };
    void Promise.allSettled([writer.close(), host?.close()]).then(() =>
      process.exit(codes[signal] ?? 1),
    );
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  process.on('SIGHUP', interrupt);
  try {
    host = await openSweepHost(summary.host, {
      files,
      verbose: options.verbose,
    });
    const device = await host.device();
    summary.adapter = device.adapter;
    const batches = planBatches(todo, {
      ...device,
      maxConfigs: options.maxBatch ?? DEFAULT_MAX_BATCH,
    });
    say(
      `[nclab] ${sweep.name}: ${todo.length} of ${mine.length} configurations ` +
        `to train (${summary.resumed} done already) in ${batches.length} ` +
        `batch${batches.length === 1 ? '' : 'es'} on ${device.adapter}`,
    );
    const bar = new SweepProgress({
      total: mine.length,
      done: summary.resumed,
      work: todo.reduce(
        (a, item) => a + item.run.config.steps * stepCost(item.run),
        0,
      ),
      quiet: options.quiet,
    });
    progress = bar;
    let inFlight = 0;
    let inFlightCost = 0;
    const onStep = (step: number) => bar.step(step, inFlight, inFlightCost);
    try {
      for (const batch of batches) {
        if (stopping) break;
        inFlight = batch.items.length;
        inFlightCost = batch.items.reduce((a, i) => a + stepCost(i.run), 0);
        const configs = batch.items.map((item) => item.config);
        const result = await host.batch(configs, onStep);
        const rows = batchRows(sweep.name, batch.items, result, version);
        await writer.append(rows);
        summary.trained += rows.length;
        summary.diverged += rows.filter(
          (r) => r.divergedAtStep !== null,
        ).length;
        bar.batch(
          rows.length,
          batch.items[0]!.run.config.steps,
          inFlightCost,
          `${batch.items[0]!.run.model}, ${rows.length} configurations`,
        );
        options.onBatchWritten?.(summary.trained);
      }
    } finally {
      bar.stop();
    }
    summary.interrupted = stopping;
    await host.end();
  } catch (error) {
    // Stopping at once closes the host under the batch in flight: the
    // signal handler reports and exits; this failure is its echo.
    if (stoppingNow) await new Promise(() => {});
    throw error;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    process.off('SIGHUP', interrupt);
    await writer.close();
    await host?.close();
  }
  summary.wallMs = performance.now() - start;
  return summary;
}

export interface SweepCommandOptions {
  out?: string;
  preset?: string;
  scale?: string;
  shard?: string;
  maxBatch?: string;
  report?: boolean;
  quiet?: boolean;
  json?: boolean;
  verbose?: boolean;
  host?: string;
}

/** `nclab sweep [SPEC]`: returns the exit code (0 done, 1 failed, 2 bad
 * input, 130 interrupted). */
export async function sweep(
  file: string | undefined,
  options: SweepCommandOptions,
): Promise<number> {
  const fail = (message: string, code = 2) => {
    console.error(`nclab sweep: ${message}`);
    return code;
  };
  let spec: unknown;
  let shard: Shard | undefined;
  let maxBatch: number | undefined;
  let host: HostKind;
  if (file && (options.preset || options.scale)) {
    return fail('give a spec file or --preset (with --scale), not both');
  }
  try {
    host = parseHost(options.host);
    if (options.shard) shard = parseShard(options.shard);
  } catch (error) {
    return fail((error as Error).message);
  }
  try {
    if (file) {
      spec = JSON.parse(await readFile(file, 'utf8'));
    } else {
      spec = presetSpec(options.preset ?? 'default', options.scale ?? 'small');
    }
    if (options.maxBatch !== undefined) {
      maxBatch = Number(options.maxBatch);
      if (!Number.isInteger(maxBatch) || maxBatch < 1) {
        return fail(
          `--max-batch ${options.maxBatch} is invalid; expected an integer ≥ 1`,
        );
      }
    }
  } catch (error) {
    return fail(`${file ?? 'preset'}: ${(error as Error).message}`);
  }
  let expanded: ExpandedSweep;
  try {
    expanded = expandSweep(spec);
  } catch (error) {
    return fail(
      `${file ?? `preset ${options.preset ?? 'default'}`}: ${(error as Error).message}`,
    );
  }
  const out = options.out ?? `results/${expanded.name}.jsonl`;
  const outFile =
    shard && shard.count > 1
      ? out.replace(
          /(\.jsonl)?$/,
          `.shard-${shard.index}-of-${shard.count}.jsonl`,
        )
      : out;
  let summary: SweepSummary;
  try {
    summary = await runSweep(expanded, {
      out: outFile,
      shard,
      maxBatch,
      quiet: options.quiet,
      verbose: options.verbose,
      host,
    });
  } catch (error) {
    const bad = error instanceof InvalidArgumentError;
    return fail((error as Error).message, bad ? 2 : 1);
  }
  if (options.json) console.log(JSON.stringify(summary));
  if (!options.quiet) {
    console.error(
      `[nclab] ${summary.interrupted ? 'stopped' : 'done'}: ` +
        `${summary.resumed + summary.trained}/${summary.total} configurations ` +
        `in ${outFile} (${summary.trained} trained now, ${summary.diverged} ` +
        `diverged) in ${(summary.wallMs / 1000).toFixed(1)} s`,
    );
  }
  if (summary.interrupted) return 130;
  if (options.report && shard && shard.count > 1) {
    console.error(
      '[nclab] --report skipped: this is one shard; report on the merged ' +
        'file (nclab merge, then nclab report)',
    );
  } else if (options.report) {
    return report(outFile, { quiet: options.quiet });
  }
  return 0;
}
