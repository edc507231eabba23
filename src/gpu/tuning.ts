// What a runtime knows about tuning without loading any kernel: the shape
// of a tuning and of the tuner's report, the cache key of an adapter, and
// where the tunings known here come from (a host-installed cache or this
// browser's storage). The tuner itself is src/kernels/tuning.ts.

import type { AdapterSummary } from './device';
import type { TimingMethod } from './runtime';
import type { ClassSumsTuning } from '../kernels/classSums';
import type { MatmulTile } from '../kernels/matmul';

export interface EngineTuning {
  /** The tile of every matrix product whose output is wider than 16×16. */
  matmul: MatmulTile;
  classSums: ClassSumsTuning;
}

/** Bumped whenever candidates or kernels change, so old caches are ignored. */
export const TUNING_VERSION = 1;

/** The shapes candidates are measured on. */
export const TUNING_SHAPES = {
  matmul: { M: 256, N: 256, K: 256 },
  classSums: { d: 64, N: 65_536, K: 10 },
} as const;

export interface CandidateResult<T> {
  candidate: T;
  /** Median time of one call; null when the candidate was not timed. */
  ms: number | null;
  /** Why it was not timed: over a limit, or wrong results. */
  problem?: string;
}

export interface KernelTuning<T> {
  shape: string;
  results: CandidateResult<T>[];
  chosen: T;
  defaultMs: number | null;
  chosenMs: number | null;
}

export interface TuningReport {
  version: number;
  /** Identifies the adapter the tuning was measured on (tuningKey). */
  key: string;
  adapter: string;
  method: TimingMethod;
  repeats: number;
  measuredAt: string;
  matmul: KernelTuning<MatmulTile>;
  classSums: KernelTuning<ClassSumsTuning>;
  tuning: EngineTuning;
}

/** The cache key of an adapter: what it is, plus the tuner's version. */
export function tuningKey(summary: AdapterSummary): string {
  const { vendor, architecture, device, description } = summary;
  const fallback = summary.isFallbackAdapter ? 'fallback' : 'hardware';
  const parts = [vendor, architecture, device, description, fallback];
  return `v${TUNING_VERSION}|${parts.join('|')}`;
}

export function describeTile(t: MatmulTile): string {
  return `${t.BM}×${t.BN}×${t.BK} tile, ${t.TM}×${t.TN} per thread`;
}

export function describeClassSums(t: ClassSumsTuning): string {
  return `${t.WG} threads, ${t.ROWS} rows × ${t.KB} classes, chunk ${t.chunk}`;
}

/**
 * The tuning stored for this adapter in a cache object (as read from JSON),
 * or null when there is none, it is for another tuner version, or it is
 * malformed. What it returns is still checked against the device's limits
 * by every kernel that uses it.
 */
export function cachedTuning(
  cache: unknown,
  summary: AdapterSummary,
): EngineTuning | null {
  if (typeof cache !== 'object' || cache === null) return null;
  const entry = (cache as Record<string, unknown>)[tuningKey(summary)];
  if (typeof entry !== 'object' || entry === null) return null;
  const tuning = (entry as { tuning?: unknown }).tuning;
  if (typeof tuning !== 'object' || tuning === null) return null;
  const { matmul: mm, classSums: cs } = tuning as Record<string, unknown>;
  const numbers = (value: unknown, keys: string[]): boolean =>
    typeof value === 'object' &&
    value !== null &&
    keys.every((k) => Number.isInteger((value as Record<string, unknown>)[k]));
  if (!numbers(mm, ['BM', 'BN', 'BK', 'TM', 'TN'])) return null;
  if (!numbers(cs, ['WG', 'ROWS', 'KB', 'chunk'])) return null;
  // Copy the known fields only: the file is user-editable.
  const m = mm as MatmulTile;
  const c = cs as ClassSumsTuning;
  return {
    matmul: { BM: m.BM, BN: m.BN, BK: m.BK, TM: m.TM, TN: m.TN },
    classSums: { WG: c.WG, ROWS: c.ROWS, KB: c.KB, chunk: c.chunk },
  };
}

/** Where a host puts the cache before the page's scripts run. */
export const TUNING_GLOBAL = '__nclabTuningCache';
/** Where a visitor's browser keeps the tunings of its own page. */
export const TUNING_STORAGE_KEY = 'nclab.tuning';

/**
 * The tunings known here: what a host installed (the CLI reads its cache
 * file and sets globalThis[TUNING_GLOBAL] before the page loads), else this
 * browser's localStorage, else none.
 */
export function knownTunings(): unknown {
  const installed = (globalThis as Record<string, unknown>)[TUNING_GLOBAL];
  if (installed !== undefined) return installed;
  try {
    const stored = globalThis.localStorage?.getItem(TUNING_STORAGE_KEY);
    return stored ? (JSON.parse(stored) as unknown) : null;
  } catch {
    // No storage (Node, an opaque origin) or a corrupt entry: no tunings.
    return null;
  }
}

/** The tuning known here for this adapter, or null (use the defaults). */
export function tuningFor(summary: AdapterSummary): EngineTuning | null {
  return cachedTuning(knownTunings(), summary);
}
