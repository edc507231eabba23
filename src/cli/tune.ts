// `nclab tune`: measures the matrix-product tiles and class-sum workgroup
// shapes on this machine's adapter (src/kernels/tuning.ts), prints what it
// measured, and stores the choice in the tuning cache that every later
// session's runtimes use (src/host/tuningCache.ts).

import { openSession } from '../host/session';
import { storeTuning, tuningCachePath } from '../host/tuningCache';
import {
  describeClassSums,
  describeTile,
  type KernelTuning,
  type TuningReport,
} from '../gpu/tuning';

export interface TuneOptions {
  repeats?: string;
  json?: boolean;
  verbose?: boolean;
}

function table<T>(
  title: string,
  kernel: KernelTuning<T>,
  describe: (candidate: T) => string,
): string[] {
  const lines = [`${title} (${kernel.shape}):`];
  kernel.results.forEach((r, index) => {
    // The report crossed from the page as JSON: compare by value.
    const chosen =
      JSON.stringify(r.candidate) === JSON.stringify(kernel.chosen);
    const mark = chosen ? '→' : ' ';
    const time =
      r.ms === null ? `not timed: ${r.problem}` : `${r.ms.toFixed(3)} ms`;
    const label = index === 0 ? ' (default)' : '';
    lines.push(`  ${mark} ${describe(r.candidate)}${label}: ${time}`);
  });
  if (kernel.defaultMs !== null && kernel.chosenMs !== null) {
    const ratio = kernel.defaultMs / kernel.chosenMs;
    lines.push(`  chosen vs default: ${ratio.toFixed(2)}× as fast`);
  }
  return lines;
}

export function formatTuning(report: TuningReport): string {
  return [
    `adapter: ${report.adapter}`,
    `timing:  ${report.method}, median of ${report.repeats} after a warm-up; ` +
      `a candidate replaces the default only when over 5 % faster`,
    ...table('matmul', report.matmul, describeTile),
    ...table('class sums', report.classSums, describeClassSums),
  ].join('\n');
}

/** Returns the process exit code. */
export async function tune(options: TuneOptions): Promise<number> {
  const repeats = Number(options.repeats ?? '5');
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 100) {
    console.error(
      `nclab tune: --repeats ${options.repeats} is invalid; expected an ` +
        `integer from 1 to 100`,
    );
    return 2;
  }
  let report: TuningReport;
  try {
    const session = await openSession({
      log: options.verbose ? undefined : () => {},
    });
    try {
      const page = await session.open('index.html');
      if (!options.json) {
        page.on('console', (message) => {
          const text = message.text();
          if (text.startsWith('[nclab:progress] '))
            console.error(text.slice('[nclab:progress] '.length));
        });
      }
      await page.waitForFunction(() => window.nclab !== undefined);
      report = await page.evaluate((n) => window.nclab!.tune(n), repeats);
    } finally {
      await session.close();
    }
  } catch (error) {
    console.error(
      `nclab tune: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
  const path = tuningCachePath();
  const problem = await storeTuning(report, path);
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else console.log(formatTuning(report));
  if (problem) {
    console.error(
      `nclab tune: could not write the tuning cache ${path}: ${problem}`,
    );
    return 1;
  }
  console.error(`stored in ${path}; later sessions on this adapter use it`);
  return 0;
}
