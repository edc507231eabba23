// Per-adapter tuning: the matrix product's tile and the class-sum
// reduction's workgroup shape, chosen by measuring a few candidates on the
// adapter at hand. What is fast differs a lot between adapters: SwiftShader
// runs each workgroup as a loop on a CPU core and pays a fixed cost per
// workgroup, a real GPU wants many resident threads, and a compatibility
// adapter allows only 128 threads per workgroup. A runtime uses the tuning it
// was given (Runtime.tuning); the hosts cache the tuner's choice per adapter.

import { InvalidArgumentError } from '../gpu/errors';
import type { Runtime } from '../gpu/runtime';
import {
  TUNING_SHAPES,
  TUNING_VERSION,
  describeClassSums,
  describeTile,
  tuningKey,
  type CandidateResult,
  type EngineTuning,
  type KernelTuning,
  type TuningReport,
} from '../gpu/tuning';
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

export const DEFAULT_TUNING: EngineTuning = {
  matmul: DEFAULT_TILE,
  classSums: DEFAULT_CLASS_SUMS_TUNING,
};

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

/**
 * A candidate must beat the default by this fraction to replace it, so
 * that timing noise never swaps a tile for one that is no faster.
 */
const MARGIN = 0.05;

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

/** One kernel's candidates: each planned, checked for exact output, timed. */
interface CandidateTrial<T> {
  name: string;
  candidates: readonly T[];
  describe(candidate: T): string;
  /** Throws when the candidate does not fit the device. */
  plan(candidate: T): void;
  /** One call: its output (downloaded) and nothing left allocated. */
  output(candidate: T): Promise<Float32Array>;
  /** One call, as timed. */
  call(candidate: T): Promise<void>;
  expected: Float32Array;
}

async function tryCandidates<T>(
  rt: Runtime,
  trial: CandidateTrial<T>,
  repeats: number,
  log: (line: string) => void,
): Promise<CandidateResult<T>[]> {
  const results: CandidateResult<T>[] = [];
  for (const candidate of trial.candidates) {
    try {
      trial.plan(candidate);
    } catch (error) {
      results.push({ candidate, ms: null, problem: (error as Error).message });
      continue;
    }
    const got = await trial.output(candidate);
    const wrong = got.findIndex((v, i) => v !== trial.expected[i]);
    if (wrong >= 0) {
      const problem =
        `${trial.name} output[${wrong}] = ${got[wrong]}, expected ` +
        `${trial.expected[wrong]}`;
      results.push({ candidate, ms: null, problem });
      continue;
    }
    const ms = await measure(rt, repeats, () => trial.call(candidate));
    log(`${trial.name} ${trial.describe(candidate)}: ${ms.toFixed(2)} ms`);
    results.push({ candidate, ms });
  }
  return results;
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
  try {
    const results = await tryCandidates(
      rt,
      {
        name: 'matmul',
        candidates: MATMUL_CANDIDATES,
        describe: describeTile,
        plan: (tile) => planMatmul(a.shape, b.shape, { tile }, limits),
        output: async (tile) => {
          const c = await matmul(rt, a, b, { tile });
          const got = await rt.download(c);
          c.release();
          return got;
        },
        call: async (tile) => (await matmul(rt, a, b, { tile })).release(),
        expected,
      },
      repeats,
      log,
    );
    return { shape: `${M}×${K} · ${K}×${N}`, results, ...choose(results) };
  } finally {
    a.release();
    b.release();
  }
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
  try {
    const results = await tryCandidates(
      rt,
      {
        name: 'classSums',
        candidates: CLASS_SUMS_CANDIDATES,
        describe: describeClassSums,
        plan: (t) => planClassSums(x.shape, labels.shape, K, limits, t),
        output: async (t) => {
          const out = await classSums(rt, x, labels, K, t);
          const got = await rt.download(out.sums);
          out.sums.release();
          out.counts.release();
          return got;
        },
        call: async (t) => {
          const out = await classSums(rt, x, labels, K, t);
          out.sums.release();
          out.counts.release();
        },
        expected,
      },
      repeats,
      log,
    );
    return { shape: `X ${d}×${N}, K = ${K}`, results, ...choose(results) };
  } finally {
    x.release();
    labels.release();
  }
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
