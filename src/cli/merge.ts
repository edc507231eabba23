// `nclab merge FILE... --out FILE`: combines the results files of a sweep's
// shards (or of reruns) into one, ordered by index, each configuration once.
// Inputs are all read and checked before anything is written; the output is
// written atomically, so a failed merge leaves no half file.

import {
  combineResults,
  mergeOutputProblem,
  type MergeReport,
} from '../sweep/merge';
import { formatRows } from '../sweep/store';
import { writeAtomically } from './output';

export interface MergeCliOptions {
  out: string;
  quiet?: boolean;
  json?: boolean;
  /** "first": keep the earliest copy of an id whose copies differ. */
  prefer?: string;
  allowOtherSweeps?: boolean;
}

/** Returns the process exit code: 0 merged, 2 bad input, 1 write failed. */
export async function merge(
  files: string[],
  options: MergeCliOptions,
): Promise<number> {
  const fail = (message: string, code: number) => {
    console.error(`nclab merge: ${message}`);
    return code;
  };
  if (options.prefer !== undefined && options.prefer !== 'first')
    return fail(`--prefer is "${options.prefer}"; the one choice is first`, 2);
  const problem = await mergeOutputProblem(options.out);
  if (problem) return fail(`cannot write --out ${options.out}: ${problem}`, 2);

  let merged: Awaited<ReturnType<typeof combineResults>>;
  try {
    merged = await combineResults(files, {
      prefer: options.prefer,
      allowOtherSweeps: options.allowOtherSweeps,
    });
  } catch (error) {
    return fail((error as Error).message, 2);
  }
  const failure = await writeAtomically(options.out, formatRows(merged.rows));
  if (failure) return fail(`cannot write ${options.out}: ${failure}`, 1);

  if (!options.quiet) summarize(merged.report, options.out);
  if (options.json) console.log(JSON.stringify(merged.report, null, 2));
  return 0;
}

function summarize(report: MergeReport, out: string) {
  for (const input of report.inputs) {
    if (input.partialTail > 0)
      console.error(
        `[nclab] ${input.path}: ignored an unfinished last line ` +
          `(${input.partialTail} bytes; its run was killed mid-write)`,
      );
  }
  for (const conflict of report.conflicts) {
    console.error(
      `[nclab] id ${conflict.id}: kept ${conflict.kept}, dropped ` +
        `${conflict.dropped} (different ${conflict.fields.join(', ')})`,
    );
  }
  const copies = (n: number, kind: string) =>
    n === 0 ? [] : [`${n} ${kind} ${n === 1 ? 'copy' : 'copies'}`];
  const dropped = [
    ...copies(report.identical, 'identical'),
    ...copies(report.conflicts.length, 'differing'),
  ];
  console.error(
    `[nclab] merged ${report.inputs.length} files into ${out}: ` +
      `${report.rows} rows` +
      (dropped.length > 0 ? `; dropped ${dropped.join(' and ')}` : '') +
      (report.conflicts.length > 0 ? ' (--prefer first)' : ''),
  );
}
