// `nclab export FILE --out FILE.csv|FILE.parquet`: a results file as one
// flat table (one row per configuration) for pandas and polars, ordered by
// index. The input is read and checked before anything is written, and the
// table is written atomically.

import { extname, resolve } from 'node:path';

import { exportCsv, exportParquet } from '../sweep/export';
import { readResults, type ResultsFile } from '../sweep/store';
import { outputProblem, writeAtomically } from './output';

export type ExportFormat = 'csv' | 'parquet';

export interface ExportOptions {
  out: string;
  /** Overrides the format the extension of `out` names. */
  format?: ExportFormat;
}

const EXTENSIONS: Record<string, ExportFormat> = {
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};

/** Returns the process exit code: 0 written, 2 bad input, 1 failure. */
export async function exportResults(
  file: string,
  options: ExportOptions,
): Promise<number> {
  const fail = (message: string, code: number) => {
    console.error(`nclab export: ${message}`);
    return code;
  };
  const format: string | undefined =
    options.format ?? EXTENSIONS[extname(options.out).toLowerCase()];
  if (format !== 'csv' && format !== 'parquet') {
    const asked = format ?? `the extension of ${options.out}`;
    return fail(
      `cannot tell the format from ${asked}; ` +
        'give --format csv or --format parquet (or .csv, .parquet, .pq)',
      2,
    );
  }
  const problem =
    resolve(options.out) === resolve(file)
      ? 'it is the input file'
      : await outputProblem(options.out);
  if (problem) return fail(`cannot write --out ${options.out}: ${problem}`, 2);

  let results: ResultsFile;
  try {
    results = await readResults(file);
  } catch (error) {
    return fail((error as Error).message, 2);
  }
  if (results.duplicates.length > 0) {
    const { id, lines } = results.duplicates[0]!;
    return fail(
      `${file}: id ${id} is on lines ${lines.join(', ')}; ` +
        '`nclab merge` the file first to keep each configuration once',
      2,
    );
  }
  if (results.partialTail > 0)
    console.error(
      `[nclab] ${file}: ignored an unfinished last line ` +
        `(${results.partialTail} bytes; its run was killed mid-write)`,
    );

  const rows = results.rows.sort(
    (p, q) => p.index - q.index || (p.id < q.id ? -1 : 1),
  );
  let failure: string | null;
  try {
    failure =
      format === 'csv'
        ? await writeAtomically(options.out, exportCsv(rows))
        : await writeAtomically(options.out, exportParquet(rows));
  } catch (error) {
    failure = (error as Error).message;
  }
  if (failure) return fail(`cannot write ${options.out}: ${failure}`, 1);
  console.error(`[nclab] wrote ${rows.length} rows to ${options.out}`);
  return 0;
}
