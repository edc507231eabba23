// `nclab report RESULTS.jsonl`: the HTML report of a sweep's results file
// (figures as SVG and PNG, the paper's claims evaluated, summary and row
// tables) in a directory beside it. The file is read and checked first
// (exit 2 on a missing, empty or corrupt file); writing failures exit 1.

import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

import { buildReport, ReportWriteError } from '../report/build';
import type { ResultRow } from '../sweep/row';
import { readResults, type ResultsFile } from '../sweep/store';

export interface ReportCommandOptions {
  /** The report directory; `<results basename>-report/` beside the file. */
  out?: string;
  /** Only errors on stderr. */
  quiet?: boolean;
  /** A summary of what was written, and the claims, as JSON on stdout. */
  json?: boolean;
}

/** `runs/sweep.jsonl` → `runs/sweep-report`. */
export function defaultReportDir(file: string): string {
  const stem = basename(file, extname(file)) || basename(file);
  return join(dirname(file), `${stem}-report`);
}

/** The last row of each id: a configuration rerun replaces its old row. */
function latestById(rows: readonly ResultRow[]): ResultRow[] {
  const byId = new Map<string, ResultRow>();
  for (const row of rows) {
    byId.delete(row.id);
    byId.set(row.id, row);
  }
  return [...byId.values()];
}

/** Returns the process exit code. */
export async function report(
  file: string,
  options: ReportCommandOptions,
): Promise<number> {
  const log = options.quiet
    ? () => {}
    : (message: string) => console.error(`[nclab] ${message}`);

  let results: ResultsFile;
  try {
    results = await readResults(file);
  } catch (error) {
    console.error(`nclab report: ${(error as Error).message}`);
    return 2;
  }
  const unfinished =
    results.partialTail > 0
      ? `an unfinished last line (${results.partialTail} bytes, left by a ` +
        'writer that was stopped) was skipped'
      : null;
  if (results.rows.length === 0) {
    console.error(
      `nclab report: ${file} holds no complete result row` +
        (unfinished ? `; ${unfinished}` : ''),
    );
    return 2;
  }
  const rows = latestById(results.rows);
  const notes: string[] = [];
  if (unfinished) notes.push(`${file}: ${unfinished}.`);
  if (rows.length < results.rows.length) {
    notes.push(
      `${file}: ${results.rows.length - rows.length} row(s) repeat an id ` +
        'found on a later line; the later row is reported.',
    );
  }
  log(`read ${rows.length} row(s) from ${file}`);
  for (const note of notes) log(note);

  const outDir = options.out ?? defaultReportDir(file);
  const existing = await stat(outDir).catch(() => null);
  if (existing && !existing.isDirectory()) {
    console.error(
      `nclab report: cannot write to ${outDir}: it exists and is not a ` +
        'directory',
    );
    return 2;
  }

  try {
    const result = await buildReport(rows, outDir, {
      source: file,
      notes,
      onWrite: (path) => log(`wrote ${path}`),
    });
    for (const { name, why } of result.omitted)
      log(`figure ${name} omitted: ${why}`);
    if (!result.pngFont.drawsText) log(`PNG figures: ${result.pngFont.source}`);
    for (const claim of result.claims) {
      const details = claim.details.length
        ? ` (${claim.details.join('; ')})`
        : '';
      log(`claim (${claim.id}): ${claim.verdict}: ${claim.reason}${details}`);
    }
    log(`report: ${result.html}`);
    if (options.json) {
      console.log(
        JSON.stringify({
          results: file,
          rows: rows.length,
          skippedBytes: results.partialTail,
          report: result.html,
          files: result.files,
          omitted: result.omitted,
          claims: result.claims,
          pngFont: result.pngFont,
        }),
      );
    }
    return 0;
  } catch (error) {
    if (!(error instanceof ReportWriteError)) throw error;
    console.error(`nclab report: ${error.message}`);
    return 1;
  }
}
