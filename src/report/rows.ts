// How the report reads result rows: which rows count, how a configuration is
// named in legends and tables, and which rows differ only in their loss.

import type { ModelName, ResultRow } from '../sweep/row';
import { isFiniteNumber } from './stats';

export const MODELS: readonly ModelName[] = ['ufm', 'md', 'graph'];

export function diverged(row: ResultRow): boolean {
  return row.divergedAtStep !== null;
}

/** The training seed from the configuration, when it has one. */
export function seedOf(row: ResultRow): number | null {
  const seed = row.config.seed;
  return isFiniteNumber(seed) ? seed : null;
}

/** A number for a table or a legend: four significant digits, or "—". */
export function formatNumber(x: unknown): string {
  if (!isFiniteNumber(x)) return '—';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1e5 || abs < 1e-3) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

/** Milliseconds as the unit a reader takes in at a glance. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}

/** "md · ce · η=0.2 · λ=1 · seed 3": a configuration in legends. */
export function configurationLabel(row: ResultRow): string {
  const parts = [row.model, row.loss, `η=${formatNumber(row.eta)}`];
  if (row.coupling !== null) parts.push(`λ=${formatNumber(row.coupling)}`);
  if (row.gamma !== null) parts.push(`γ=${formatNumber(row.gamma)}`);
  const seed = seedOf(row);
  if (seed !== null) parts.push(`seed ${seed}`);
  return parts.join(' · ');
}

/** JSON with object keys sorted, so equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The identity of a configuration apart from its loss: the model and the
 * full checked configuration without its `loss` entry (seed, noise,
 * coupling, γ, step sizes, … all included), so rows sharing it are
 * matched pairs in the sense of science.md §8.
 */
export function keyWithoutLoss(row: ResultRow): string {
  const rest: Record<string, unknown> = { ...row.config };
  delete rest.loss;
  return `${row.model}|${canonicalJson(rest)}`;
}

/**
 * Representative rows: per model and loss, the non-diverged row with the
 * largest η (the lowest sweep index among ties), in model then loss order.
 */
export function representativeRows(
  rows: readonly ResultRow[],
  keep: (row: ResultRow) => boolean,
  limit: number,
): ResultRow[] {
  const best = new Map<string, ResultRow>();
  for (const row of rows) {
    if (diverged(row) || !keep(row)) continue;
    const key = `${MODELS.indexOf(row.model)}|${row.loss}`;
    const held = best.get(key);
    if (
      !held ||
      row.eta > held.eta ||
      (row.eta === held.eta && row.index < held.index)
    )
      best.set(key, row);
  }
  return [...best.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, row]) => row)
    .slice(0, limit);
}
