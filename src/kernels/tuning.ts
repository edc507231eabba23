// Per-adapter tuning: the matrix product's tile and the class-sum
// reduction's workgroup shape, chosen by measuring a few candidates on the
// adapter at hand. What is fast differs a lot between adapters: SwiftShader
// runs each workgroup as a loop on a CPU core and pays a fixed cost per
// workgroup, a real GPU wants many resident threads, and a compatibility
// adapter allows only 128 threads per workgroup. A runtime uses the tuning it
// was given (Runtime.tuning); the hosts cache the tuner's choice per adapter.

import { InvalidArgumentError } from '../gpu/errors';
import type { AdapterSummary } from '../gpu/device';
import type { Runtime, TimingMethod } from '../gpu/runtime';
import {
  DEFAULT_CLASS_SUMS_TUNING,
  classSums,
  planClassSums,
  type ClassSumsLimits,
  type ClassSumsTuning,
} from './classSums';
import {
  DEFAULT_TILE,
  matmul,
  planMatmul,
  type MatmulLimits,
  type MatmulTile,
} from './matmul';

export interface EngineTuning {
  /** The tile of every matrix product whose output is wider than 16×16. */
  matmul: MatmulTile;
  classSums: ClassSumsTuning;
}

export const DEFAULT_TUNING: EngineTuning = {
  matmul: DEFAULT_TILE,
  classSums: DEFAULT_CLASS_SUMS_TUNING,
};

/** Bumped whenever candidates or kernels change, so old caches are ignored. */
export const TUNING_VERSION = 1;

const tile = (
  BM: number,
  BN: number,
  BK: number,
  TM: number,
  TN: number,
): MatmulTile => ({ BM, BN, BK, TM, TN });

/** Matmul tiles tried, the default first; those over a limit are left out. */
export const MATMUL_CANDIDATES: readonly MatmulTile[] = [
  DEFAULT_TILE,
  tile(64, 64, 8, 4, 4),
  tile(64, 32, 16, 4, 4),
  tile(32, 64, 16, 4, 4),
  tile(32, 32, 16, 4, 4),
  tile(64, 64, 16, 8, 8),
  tile(64, 64, 32, 8, 8),
  tile(64, 128, 16, 8, 8),
  tile(128, 128, 16, 8, 8),
  tile(128, 64, 16, 8, 4),
  tile(128, 128, 8, 8, 8),
  tile(32, 32, 16, 2, 2),
  tile(16, 16, 16, 1, 1),
];

const sums = (
  WG: number,
  ROWS: number,
  KB: number,
  chunk: number,
): ClassSumsTuning => ({ WG, ROWS, KB, chunk });

/** Class-sum shapes tried, the default first. */
export const CLASS_SUMS_CANDIDATES: readonly ClassSumsTuning[] = [
  DEFAULT_CLASS_SUMS_TUNING,
  sums(64, 4, 16, 4096),
  sums(64, 4, 16, 65536),
  sums(32, 2, 16, 65536),
  sums(64, 2, 16, 262144),
  sums(32, 2, 16, 16384),
  sums(128, 4, 16, 16384),
  sums(128, 8, 16, 16384),
  sums(256, 8, 16, 16384),
  sums(64, 1, 16, 16384),
];

/** The shapes candidates are measured on. */
export const TUNING_SHAPES = {
  matmul: { M: 256, N: 256, K: 256 },
  classSums: { d: 64, N: 65_536, K: 10 },
} as const;

/**
 * A candidate must beat the default by this fraction to replace it, so
 * that timing noise never swaps a tile for one that is no faster.
 */
const MARGIN = 0.05;

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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Seeded small integers: every product and sum below is exact in float32. */
function smallIntegers(
  length: number,
  seed: number,
  range: number,
): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state % (2 * range + 1)) - range;
  }
  return out;
}

/** The default unless a candidate beats it by MARGIN; ties keep the first. */
export function choose<T>(results: CandidateResult<T>[]): {
  chosen: T;
  defaultMs: number | null;
  chosenMs: number | null;
} {
  const [first] = results;
  if (!first) throw new InvalidArgumentError('choose: no candidates');
  let best = first;
  for (const r of results) {
    if (r.ms === null) continue;
    if (best.ms === null || r.ms < best.ms) best = r;
  }
  const keepDefault =
    first.ms !== null && best.ms !== null && best.ms > first.ms * (1 - MARGIN);
  const chosen = keepDefault ? first : best;
  return { chosen: chosen.candidate, defaultMs: first.ms, chosenMs: chosen.ms };
}

async function measure(
  rt: Runtime,
  repeats: number,
  call: () => Promise<void>,
): Promise<number> {
  await call(); // compiles the pipelines; not timed
  await rt.finish();
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    samples.push((await rt.time(call)).ms);
  }
  return median(samples);
}

async function tuneMatmul(
  rt: Runtime,
  repeats: number,
  log: (line: string) => void,
): Promise<KernelTuning<MatmulTile>> {
  const { M, N, K } = TUNING_SHAPES.matmul;
  const aData = smallIntegers(M * K, 1, 2);
  const bData = smallIntegers(K * N, 2, 2);
  const expected = new Float32Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) {
      const aik = aData[i * K + k]!;
      for (let j = 0; j < N; j++)
        expected[i * N + j]! += aik * bData[k * N + j]!;
    }
  }
  const a = rt.upload(aData, [1, M, K], 'f32');
  const b = rt.upload(bData, [1, K, N], 'f32');
  const limits: MatmulLimits = rt.device.limits;
  const results: CandidateResult<MatmulTile>[] = [];
  try {
    for (const candidate of MATMUL_CANDIDATES) {
      try {
        planMatmul(a.shape, b.shape, { tile: candidate }, limits);
      } catch (error) {
        results.push({
          candidate,
          ms: null,
          problem: (error as Error).message,
        });
        continue;
      }
      const check = await matmul(rt, a, b, { tile: candidate });
      const got = await rt.download(check);
      check.release();
      const wrong = got.findIndex((v, i) => v !== expected[i]);
      if (wrong >= 0) {
        results.push({
          candidate,
          ms: null,
          problem: `C[${wrong}] = ${got[wrong]}, expected ${expected[wrong]}`,
        });
        continue;
      }
      const ms = await measure(rt, repeats, async () => {
        (await matmul(rt, a, b, { tile: candidate })).release();
      });
      log(`matmul ${describeTile(candidate)}: ${ms.toFixed(2)} ms`);
      results.push({ candidate, ms });
    }
  } finally {
    a.release();
    b.release();
  }
  return { shape: `${M}×${K} · ${K}×${N}`, results, ...choose(results) };
}

async function tuneClassSums(
  rt: Runtime,
  repeats: number,
  log: (line: string) => void,
): Promise<KernelTuning<ClassSumsTuning>> {
  const { d, N, K } = TUNING_SHAPES.classSums;
  const xData = smallIntegers(d * N, 3, 3);
  const labelData = Uint32Array.from(
    smallIntegers(N, 4, 1000),
    (v) => Math.abs(v) % K,
  );
  const expected = new Float32Array(d * K);
  for (let r = 0; r < d; r++) {
    for (let n = 0; n < N; n++)
      expected[r * K + labelData[n]!]! += xData[r * N + n]!;
  }
  const x = rt.upload(xData, [1, d, N], 'f32');
  const labels = rt.upload(labelData, [1, 1, N], 'u32');
  const limits: ClassSumsLimits = rt.device.limits;
  const results: CandidateResult<ClassSumsTuning>[] = [];
  try {
    for (const candidate of CLASS_SUMS_CANDIDATES) {
      try {
        planClassSums(x.shape, labels.shape, K, limits, candidate);
      } catch (error) {
        results.push({
          candidate,
          ms: null,
          problem: (error as Error).message,
        });
        continue;
      }
      const check = await classSums(rt, x, labels, K, candidate);
      const got = await rt.download(check.sums);
      check.sums.release();
      check.counts.release();
      const wrong = got.findIndex((v, i) => v !== expected[i]);
      if (wrong >= 0) {
        results.push({
          candidate,
          ms: null,
          problem: `sums[${wrong}] = ${got[wrong]}, expected ${expected[wrong]}`,
        });
        continue;
      }
      const ms = await measure(rt, repeats, async () => {
        const out = await classSums(rt, x, labels, K, candidate);
        out.sums.release();
        out.counts.release();
      });
      log(`classSums ${describeClassSums(candidate)}: ${ms.toFixed(2)} ms`);
      results.push({ candidate, ms });
    }
  } finally {
    x.release();
    labels.release();
  }
  return { shape: `X ${d}×${N}, K = ${K}`, results, ...choose(results) };
}

/**
 * Measures every candidate that fits the device's limits and computes the
 * right numbers (exact small-integer inputs), and chooses per kernel the
 * fastest, or the default unless a candidate beats it by 5 %.
 */
export async function tuneEngine(
  rt: Runtime,
  options: { repeats?: number; log?: (line: string) => void } = {},
): Promise<TuningReport> {
  const repeats = options.repeats ?? 5;
  const log = options.log ?? (() => {});
  const mm = await tuneMatmul(rt, repeats, log);
  const cs = await tuneClassSums(rt, repeats, log);
  const summary = rt.gpu.adapterSummary;
  return {
    version: TUNING_VERSION,
    key: tuningKey(summary),
    adapter: rt.gpu.name,
    method: rt.gpu.has('timestamp-query') ? 'gpu-timestamp' : 'wall-clock',
    repeats,
    measuredAt: new Date().toISOString(),
    matmul: mm,
    classSums: cs,
    tuning: { matmul: mm.chosen, classSums: cs.chosen },
  };
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

/** The tuning a new runtime on this adapter uses, and where it came from. */
export function tuningFor(summary: AdapterSummary): {
  tuning: EngineTuning;
  source: 'cached' | 'default';
} {
  const cached = cachedTuning(knownTunings(), summary);
  return cached
    ? { tuning: cached, source: 'cached' }
    : { tuning: DEFAULT_TUNING, source: 'default' };
}
