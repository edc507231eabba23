// A sweep writer for the SIGKILL test, run as its own Node process:
//   node --import tsx test/support/appendRows.ts FILE TOTAL BATCH PADDING
// Opens FILE, skips the configurations already done, appends the rest of
// the synthetic rows 0..TOTAL-1 in batches, and prints "ready" before the
// first batch and "batch" after each, so that the test can time its kills.

import { ResultsWriter } from '../../src/sweep/store';
import { syntheticRow } from './resultRows';

const [path, total, batch, padding] = process.argv.slice(2);
const writer = await ResultsWriter.open(path!, { sweep: 'kill-test' });
for (const note of writer.notes) console.error(note);
const todo = Array.from({ length: Number(total) }, (_, index) =>
  syntheticRow(index, { sweep: 'kill-test', padding: Number(padding) }),
).filter((row) => !writer.has(row.id));
process.stdout.write('ready\n');
for (let start = 0; start < todo.length; start += Number(batch)) {
  await writer.append(todo.slice(start, start + Number(batch)));
  process.stdout.write('batch\n');
}
await writer.close();
