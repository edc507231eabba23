// Combines results files (the shards of one sweep, or reruns) into one:
// rows ordered by index, each configuration once. Two copies of a
// configuration that agree on everything but timing are one row; copies that
// disagree are refused, naming both places, unless the first is preferred.

import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import { outputProblem, writeAtomically } from '../cli/output';
import { comparable, type ResultRow } from './row';
import { formatRows, readResults, writerOf } from './store';

export interface MergeOptions {
  /** For an id whose copies differ, keep the copy of the earliest input
   * (file order, then line order) instead of refusing the merge. */
  prefer?: 'first';
  /** Accept rows of several sweeps in one output. */
  allowOtherSweeps?: boolean;
}

export interface MergeReport {
  /** Rows in the output. */
  rows: number;
  inputs: { path: string; rows: number; partialTail: number }[];
  /** Copies dropped because an earlier copy was equal (timing aside). */
  identical: number;
  /** Copies that differed and were dropped under `prefer: 'first'`. */
  conflicts: { id: string; kept: string; dropped: string; fields: string[] }[];
  sweeps: string[];
}

/** Reads and combines `inputs`; throws on an unreadable or corrupt input,
 * on copies that disagree, and on mixed sweeps, unless allowed. */
export async function combineResults(
  inputs: readonly string[],
  options: MergeOptions = {},
): Promise<{ rows: ResultRow[]; report: MergeReport }> {
  if (inputs.length === 0) throw new Error('no results files to merge');
  const report: MergeReport = {
    rows: 0,
    inputs: [],
    identical: 0,
    conflicts: [],
    sweeps: [],
  };
  const kept = new Map<string, { row: ResultRow; where: string }>();
  const sweepSource = new Map<string, string>();

  for (const path of inputs) {
    const file = await readResults(path);
    report.inputs.push({
      path,
      rows: file.rows.length,
      partialTail: file.partialTail,
    });
    file.rows.forEach((row, i) => {
      const where = `${path}:${file.lines[i]}`;
      if (!sweepSource.has(row.sweep)) sweepSource.set(row.sweep, where);
      const first = kept.get(row.id);
      if (!first) {
        kept.set(row.id, { row, where });
        return;
      }
      const fields = differingFields(first.row, row);
      if (fields.length === 0) report.identical++;
      else if (options.prefer === 'first')
        report.conflicts.push({
          id: row.id,
          kept: first.where,
          dropped: where,
          fields,
        });
      else
        throw new Error(
          `id ${row.id} is at ${first.where} and at ${where} with different ` +
            `${fields.join(', ')}; remove one, or keep the first ` +
            '(--prefer first)',
        );
    });
  }

  report.sweeps = [...sweepSource.keys()];
  if (report.sweeps.length > 1 && !options.allowOtherSweeps) {
    const [a, b] = [...sweepSource].map(([name, at]) => `"${name}" (${at})`);
    throw new Error(
      `the inputs hold rows of several sweeps: ${a} and ${b}; ` +
        'merge each sweep on its own, or allow it (--allow-other-sweeps)',
    );
  }
  const rows = [...kept.values()].map(({ row }) => row);
  rows.sort((p, q) => p.index - q.index || (p.id < q.id ? -1 : 1));
  report.rows = rows.length;
  return { rows, report };
}

/** The top-level fields where two copies of a row differ, timing aside. */
function differingFields(a: ResultRow, b: ResultRow): string[] {
  const [p, q] = [comparable(a), comparable(b)] as Record<string, unknown>[];
  const keys = new Set([...Object.keys(p!), ...Object.keys(q!)]);
  return [...keys].filter((key) => !isDeepStrictEqual(p![key], q![key]));
}

/** Combines `inputs` into `out`, written atomically (`out` may be one of
 * the inputs). Throws, writing nothing, on any problem. */
export async function mergeResults(
  inputs: readonly string[],
  out: string,
  options: MergeOptions = {},
): Promise<MergeReport> {
  const problem = await mergeOutputProblem(out);
  if (problem) throw new Error(`cannot write ${out}: ${problem}`);
  const { rows, report } = await combineResults(inputs, options);
  const failure = await writeAtomically(out, formatRows(rows));
  if (failure) throw new Error(`cannot write ${out}: ${failure}`);
  return report;
}

/** Why `out` cannot take merged results, or null. */
export async function mergeOutputProblem(out: string): Promise<string | null> {
  const writer = await writerOf(resolve(out));
  if (writer) return `it is being written by ${writer}`;
  return outputProblem(out);
}
