// The report's tables: the sweep at a glance (configurations by model, loss
// and η; divergences, adapters, time spent) and every row's final metrics.

import type { ResultRow } from '../sweep/row';
import { htmlList, htmlTable } from './markup';
import { diverged, formatDuration, formatNumber, MODELS, seedOf } from './rows';
import { isFiniteNumber, mean } from './stats';

const distinct = (values: readonly string[]) => [...new Set(values)].sort();

const byModelLossEta = (a: ResultRow, b: ResultRow) =>
  MODELS.indexOf(a.model) - MODELS.indexOf(b.model) ||
  (a.loss < b.loss ? -1 : a.loss > b.loss ? 1 : 0) ||
  a.eta - b.eta;

/** Totals over the sweep, then one line per model × loss × η. */
export function summaryTables(rows: readonly ResultRow[]): string {
  const walls = rows.map((r) => r.timing?.wallMs).filter(isFiniteNumber);
  const gpus = rows.map((r) => r.timing?.gpuMs).filter(isFiniteNumber);
  const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
  const parts = distinct(rows.map((r) => `${r.sweep} / ${r.part}`));
  const totals = htmlList([
    `configurations: ${rows.length}, of which diverged: ` +
      `${rows.filter(diverged).length}`,
    `sweeps / parts: ${parts.join(', ')}`,
    `adapter(s): ${distinct(rows.map((r) => String(r.adapter))).join('; ')}`,
    `nclab version(s): ${distinct(rows.map((r) => String(r.version))).join(', ')}`,
    `total wall time: ${formatDuration(sum(walls))} (the batches' wall ` +
      `time, shared out over their configurations)`,
    gpus.length > 0
      ? `total GPU time: ${formatDuration(sum(gpus))} (timestamps of ` +
        `${gpus.length} of ${rows.length} configurations)`
      : 'total GPU time: not measured (no timestamps on this adapter)',
  ]);

  const groups = new Map<string, ResultRow[]>();
  for (const row of [...rows].sort(byModelLossEta)) {
    const key = `${row.model}\u0000${row.loss}\u0000${row.eta}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const body = [...groups.values()].map((g) => {
    const first = g[0]!;
    const meanOf = (f: (r: ResultRow) => number | null) =>
      formatNumber(
        mean(
          g
            .filter((r) => !diverged(r))
            .map(f)
            .filter(isFiniteNumber),
        ),
      );
    return [
      first.model,
      first.loss,
      formatNumber(first.eta),
      g.length,
      g.filter(diverged).length,
      meanOf((r) => r.flipRate),
      meanOf((r) => r.final.relativeMemorization),
      meanOf((r) => r.final.relativeDilation),
      meanOf((r) => r.final.testAccuracy),
    ];
  });
  const table = htmlTable(
    [
      'model',
      'loss',
      'η',
      'configurations',
      'diverged',
      'mean flip rate',
      'mean rel. memorization',
      'mean rel. dilation',
      'mean test accuracy',
    ],
    body,
  );
  return `${totals}\n<p>Means are over the configurations that did not diverge.</p>\n${table}`;
}

/** The grid values of a row as "key=value" pairs (JSON for non-scalars). */
function gridPoint(row: ResultRow): string {
  return Object.entries(row.point ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('; ');
}

const ROW_COLUMNS: Array<[string, (r: ResultRow) => string | number]> = [
  ['sweep / part', (r) => `${r.sweep} / ${r.part}`],
  ['index', (r) => r.index],
  ['grid point', gridPoint],
  ['model', (r) => r.model],
  ['loss', (r) => r.loss],
  ['η', (r) => formatNumber(r.eta)],
  ['flip rate', (r) => formatNumber(r.flipRate)],
  ['λ', (r) => formatNumber(r.coupling)],
  ['γ', (r) => formatNumber(r.gamma)],
  ['seed', (r) => seedOf(r) ?? '—'],
  ['diverged at step', (r) => r.divergedAtStep ?? '—'],
  ['dead classes', (r) => (r.deadClasses ?? []).join(', ') || '—'],
  ['loss (final)', (r) => formatNumber(r.final.loss)],
  ['train acc.', (r) => formatNumber(r.final.trainAccuracy)],
  ['test acc.', (r) => formatNumber(r.final.testAccuracy)],
  ['memorization', (r) => formatNumber(r.final.memorization)],
  ['dilation', (r) => formatNumber(r.final.dilation)],
  ['rel. memorization', (r) => formatNumber(r.final.relativeMemorization)],
  ['rel. dilation', (r) => formatNumber(r.final.relativeDilation)],
  ['NC1', (r) => formatNumber(r.final.nc1)],
  ['NC1 clean', (r) => formatNumber(r.final.nc1Clean)],
  ['NC2', (r) => formatNumber(r.final.nc2)],
  ['NC3', (r) => formatNumber(r.final.nc3)],
  ['NC4', (r) => formatNumber(r.final.nc4)],
  [
    'wall time',
    (r) =>
      isFiniteNumber(r.timing?.wallMs) ? formatDuration(r.timing.wallMs) : '—',
  ],
];

/** Every row's main final metrics, in sweep order. */
export function allRowsTable(rows: readonly ResultRow[]): string {
  const sorted = [...rows].sort(
    (a, b) =>
      (a.sweep < b.sweep ? -1 : a.sweep > b.sweep ? 1 : 0) ||
      (a.part < b.part ? -1 : a.part > b.part ? 1 : 0) ||
      a.index - b.index,
  );
  return htmlTable(
    ROW_COLUMNS.map(([h]) => h),
    sorted.map((r) => ROW_COLUMNS.map(([, f]) => f(r))),
  );
}
