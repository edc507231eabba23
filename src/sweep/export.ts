// Results rows as one flat table, for pandas and polars: CSV (RFC 4180) and
// Parquet (typed columns, through hyparquet-writer). One row per
// configuration; the trajectory, the scatter and the full configuration stay
// in the JSONL file, as they are not columns.

import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';

import type { FinalMetrics, ResultRow } from './row';

/** How a column is stored: JSON is text holding a JSON value. */
export type ColumnKind =
  'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'STRING' | 'JSON';

export interface TableColumn {
  name: string;
  kind: ColumnKind;
  /** One value per row; null where the row has none. */
  values: unknown[];
}

const FINAL_KEYS = [
  'loss',
  'trainAccuracy',
  'testAccuracy',
  'memorization',
  'dilation',
  'relativeMemorization',
  'relativeDilation',
  'nc1',
  'nc2',
  'nc3',
  'nc4',
  'nc1Clean',
  'objective',
] as const satisfies readonly (keyof FinalMetrics)[];

// A compile-time check that FINAL_KEYS names every field of FinalMetrics.
const everyFinalKey: Exclude<
  keyof FinalMetrics,
  (typeof FINAL_KEYS)[number]
> extends never
  ? true
  : false = true;
void everyFinalKey;

type Preferred = 'INT32' | 'DOUBLE' | 'STRING';

/** The fixed columns, with the kind each is stored as when its values fit
 * (a value that does not fit widens the column rather than being lost). */
const FIXED: [string, Preferred | undefined, (row: ResultRow) => unknown][] = [
  ['id', 'STRING', (row) => row.id],
  ['sweep', 'STRING', (row) => row.sweep],
  ['part', 'STRING', (row) => row.part],
  ['index', 'INT32', (row) => row.index],
  ['model', 'STRING', (row) => row.model],
  ['loss', 'STRING', (row) => row.loss],
  ['eta', 'DOUBLE', (row) => row.eta],
  ['flipRate', 'DOUBLE', (row) => row.flipRate],
  ['coupling', 'DOUBLE', (row) => row.coupling],
  ['gamma', 'DOUBLE', (row) => row.gamma],
  ['divergedAtStep', 'INT32', (row) => row.divergedAtStep],
  ['deadClasses', undefined, (row) => row.deadClasses],
];

const TIMING: [string, Preferred, (row: ResultRow) => unknown][] = [
  ['timing.wallMs', 'DOUBLE', (row) => row.timing?.wallMs],
  ['timing.gpuMs', 'DOUBLE', (row) => row.timing?.gpuMs],
  ['timing.batchSize', 'INT32', (row) => row.timing?.batchSize],
  ['adapter', 'STRING', (row) => row.adapter],
  ['version', 'STRING', (row) => row.version],
];

/** The rows as columns: the fixed fields, every `final.*` field, timing,
 * `point.KEY` for each grid key (in the order first met), then every leaf
 * of the configurations as `config.PATH`. */
export function resultsTable(rows: readonly ResultRow[]): TableColumn[] {
  const column = (
    name: string,
    read: (row: ResultRow) => unknown,
    preferred?: Preferred,
  ): TableColumn => {
    const values = rows.map((row) => read(row) ?? null);
    return { name, kind: kindOf(values, preferred), values };
  };
  const keysOf = (pick: (row: ResultRow) => object | null | undefined) => [
    ...new Set(rows.flatMap((row) => Object.keys(pick(row) ?? {}))),
  ];

  const finalKeys = [...new Set([...FINAL_KEYS, ...keysOf((r) => r.final)])];
  const own = (value: object | null | undefined, key: string) =>
    value && Object.hasOwn(value, key)
      ? (value as Record<string, unknown>)[key]
      : null;
  return [
    ...FIXED.map(([name, kind, read]) => column(name, read, kind)),
    ...finalKeys.map((key) =>
      column(`final.${key}`, (row) => own(row.final, key), 'DOUBLE'),
    ),
    ...TIMING.map(([name, kind, read]) => column(name, read, kind)),
    ...keysOf((r) => r.point).map((key) =>
      column(`point.${key}`, (row) => own(row.point, key)),
    ),
    // Every field of the configuration as a leaf column (config.noise.kind,
    // config.seed, config.loss.alpha, …): group by what the grid held fixed.
    ...configLeaves(rows).map((path) =>
      column(`config.${path.join('.')}`, (row) => leafAt(row.config, path)),
    ),
  ];
}

/** The paths of every non-object value in the rows' configurations, in the
 * order first met (arrays are leaves). */
function configLeaves(rows: readonly ResultRow[]): string[][] {
  const seen = new Map<string, string[]>();
  const walk = (value: unknown, path: string[]) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) {
        walk(inner, [...path, key]);
      }
    } else if (path.length > 0) {
      seen.set(path.join('\u0000'), path);
    }
  };
  for (const row of rows) walk(row.config, []);
  return [...seen.values()];
}

function leafAt(value: unknown, path: readonly string[]): unknown {
  let at = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, key)) {
      return null;
    }
    at = (at as Record<string, unknown>)[key];
  }
  return at !== null && typeof at === 'object' && !Array.isArray(at)
    ? null
    : at;
}

/** The narrowest kind holding every value (JSON when mixed or nested);
 * `preferred` for a column with no value, or DOUBLE for numbers. */
function kindOf(values: unknown[], preferred?: Preferred): ColumnKind {
  const present = values.filter((value) => value !== null);
  if (present.length === 0) return preferred ?? 'STRING';
  const all = (test: (value: unknown) => boolean) => present.every(test);
  let kind: ColumnKind = 'JSON';
  if (all((value) => typeof value === 'number')) {
    const numbers = present as number[];
    if (numbers.every((n) => Number.isInteger(n) && Math.abs(n) < 2 ** 31))
      kind = 'INT32';
    else if (numbers.every((n) => Number.isSafeInteger(n))) kind = 'INT64';
    else kind = 'DOUBLE';
  } else if (all((value) => typeof value === 'boolean')) kind = 'BOOLEAN';
  else if (all((value) => typeof value === 'string')) kind = 'STRING';

  // Measurements that happen to be whole numbers stay DOUBLE, so that one
  // column has one type whatever the sweep.
  const numeric = kind === 'INT32' || kind === 'INT64' || kind === 'DOUBLE';
  return preferred === 'DOUBLE' && numeric ? 'DOUBLE' : kind;
}

/** The table as CSV (RFC 4180: CRLF line ends, fields holding a comma, a
 * quote or a line break quoted, quotes doubled). Null is an empty field;
 * objects and arrays are written as JSON. */
export function exportCsv(rows: readonly ResultRow[]): string {
  const table = resultsTable(rows);
  const lines = [table.map((column) => csvField(column.name))];
  rows.forEach((_, i) =>
    lines.push(table.map((column) => csvField(column.values[i]))),
  );
  return lines.map((fields) => `${fields.join(',')}\r\n`).join('');
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number'
        ? String(value) // NaN, Infinity: JSON has no spelling for them
        : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The table as a Parquet file: INT32, INT64 (integral), DOUBLE, BOOLEAN
 * and UTF8 STRING columns, every one nullable; JSON columns are strings. */
export function exportParquet(rows: readonly ResultRow[]): Uint8Array {
  const columnData: ColumnSource[] = resultsTable(rows).map((column) => {
    const { name, kind, values } = column;
    if (kind === 'INT64') {
      const data = values.map((v) => (v === null ? null : BigInt(v as number)));
      return { name, type: 'INT64', data };
    }
    if (kind === 'JSON') {
      const data = values.map((v) => (v === null ? null : JSON.stringify(v)));
      return { name, type: 'STRING', data };
    }
    const data = values as (string | number | boolean | null)[];
    return { name, type: kind, data };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData, createdBy: 'nclab' }));
}
