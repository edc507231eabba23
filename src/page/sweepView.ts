// The sweep page's text parts: the spec's problems, the progress line and
// the table of the latest rows. Everything that comes from the spec or the
// rows goes in as textContent, never as markup.

import { formatDuration, formatNumber } from '../report/rows';
import type { ResultRow } from '../sweep/row';
import type { SweepProgress } from './sweepRun';

/** Rows the table shows at most (the newest); the download has them all. */
export const TABLE_ROWS = 200;

/** An element of sweep.html; a missing one means page and script disagree. */
export function element<T extends HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`sweep.html has no ${selector}`);
  return found;
}

export function showProblems(list: HTMLElement, problems: string[]): void {
  list.replaceChildren(
    ...problems.map((problem) => {
      const item = document.createElement('li');
      item.textContent = problem;
      return item;
    }),
  );
}

/** The problem lines of an expandSweep error ("invalid sweep spec (n
 * problems):" then one indented line each). */
export function problemLines(message: string): string[] {
  const lines = message.split('\n');
  const body = /^invalid sweep spec/.test(lines[0] ?? '')
    ? lines.slice(1)
    : lines;
  return body.map((line) => line.trim()).filter((line) => line !== '');
}

function timeLeft(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '…';
  return ms < 1000 ? '< 1 s' : formatDuration(ms);
}

export function progressText(p: SweepProgress): string {
  const rate =
    p.rate === null
      ? '…'
      : `${formatNumber(Math.round(p.rate))} config-steps/s`;
  const left = p.done === p.total ? 'done' : `ETA ${timeLeft(p.etaMs)}`;
  return (
    `${p.done}/${p.total} configurations · batch ${p.batch}/${p.batches} · ` +
    `${rate} · ${left} · adapter: ${p.adapter ?? 'starting…'}`
  );
}

const COLUMNS: Array<[string, (row: ResultRow) => unknown]> = [
  ['#', (r) => r.index],
  ['part', (r) => r.part],
  ['model', (r) => r.model],
  ['loss', (r) => r.loss],
  ['η', (r) => formatNumber(r.eta)],
  ['λ / γ', (r) => formatNumber(r.coupling ?? r.gamma)],
  ['train acc.', (r) => formatNumber(r.final.trainAccuracy)],
  ['test acc.', (r) => formatNumber(r.final.testAccuracy)],
  ['rel. memorization', (r) => formatNumber(r.final.relativeMemorization)],
  ['rel. dilation', (r) => formatNumber(r.final.relativeDilation)],
  ['NC1', (r) => formatNumber(r.final.nc1)],
  ['diverged at', (r) => r.divergedAtStep ?? '—'],
];

export function tableHeader(table: HTMLTableElement): void {
  const row = document.createElement('tr');
  for (const [title] of COLUMNS) {
    const cell = document.createElement('th');
    cell.textContent = title;
    row.append(cell);
  }
  table.createTHead().replaceChildren(row);
}

/** The newest rows first, at most TABLE_ROWS of them. */
export function showRows(
  table: HTMLTableElement,
  note: HTMLElement,
  rows: readonly ResultRow[],
): void {
  const shown = rows.slice(-TABLE_ROWS).reverse();
  const body = table.tBodies[0] ?? table.createTBody();
  body.replaceChildren(
    ...shown.map((row) => {
      const line = document.createElement('tr');
      for (const [, value] of COLUMNS) {
        const cell = document.createElement('td');
        cell.textContent = String(value(row));
        line.append(cell);
      }
      return line;
    }),
  );
  note.textContent =
    rows.length > shown.length
      ? `the latest ${shown.length} of ${rows.length} rows`
      : `${rows.length} row(s)`;
}

/** The rows as the CLI writes them (src/sweep/store.ts): JSONL, one row a
 * line, each line ending in a newline. */
export function rowsBlob(rows: readonly ResultRow[]): Blob {
  return new Blob(
    rows.map((row) => `${JSON.stringify(row)}\n`),
    { type: 'application/x-ndjson' },
  );
}
