// What the benchmark measures and the plain-JavaScript float32 baselines it
// compares nclab with, plus the result types the page hands back to Node.
// Nothing here touches the GPU, so the baselines also run in Node.

import type { AdapterSummary } from '../src/gpu/device';
import { TUNING_SHAPES, type TuningReport } from '../src/gpu/tuning';
import type { TimingMethod } from '../src/gpu/runtime';
import type { Shape } from '../src/gpu/tensor';
import {
  describeSweep,
  sweepWorkloads,
  type SweepWorkload,
} from './sweepSpecs';
import type { UfmBenchConfig } from './ufm';

/** C = A·op(B), one batch: A is M×K, B is K×N, or N×K when transposed. */
export interface MatmulWorkload {
  kind: 'matmul';
  name: string;
  M: number;
  N: number;
  K: number;
  transB: boolean;
  seed: number;
}

export interface ClassSumsWorkload {
  kind: 'classSums';
  name: string;
  /** Feature dimension (rows of X). */
  d: number;
  /** Examples (columns of X). */
  N: number;
  /** Classes. */
  K: number;
  seed: number;
}

/** Training steps of a batch of ufm configurations (trainUfmBatch). */
export interface UfmWorkload {
  kind: 'ufm';
  name: string;
  configs: UfmBenchConfig[];
  /**
   * Shortest time the extra steps of one nclab sample should take; runs
   * grow until they do (bench/training.ts, ufmRunLengths).
   */
  targetSpanMs: number;
  /** Shortest run bracket (default 2: runs of 5 and 8 steps). */
  minBracket?: number;
  /** Timed repeats, when fewer than the run's (slow rows). */
  repeats?: number;
  /** Also run TensorFlow.js's WebGPU and WebGL backends (one config). */
  tfjs?: boolean;
}

/** The full metric set of one feature matrix (src/metrics/collapse.ts). */
export interface MetricsWorkload {
  kind: 'metrics';
  name: string;
  K: number;
  d: number;
  N: number;
  seed: number;
  /** Also run TensorFlow.js's WebGPU and WebGL backends. */
  tfjs?: boolean;
}

/** The k-NN lists of N points in p dimensions (src/kernels/knn.ts). */
export interface KnnWorkload {
  kind: 'knn';
  name: string;
  N: number;
  p: number;
  k: number;
  seed: number;
  /**
   * Why the row runs only when asked for by name (`--only NAME`): it
   * takes too long for every run on a CPU adapter.
   */
  optIn?: string;
  /** Timed repeats (each is seconds long). */
  repeats: number;
}

/** Read and write `floats` floats once: the adapter's bandwidth roof. */
export interface CopyWorkload {
  kind: 'copy';
  name: string;
  floats: number;
}

/**
 * The auto-tuner (src/kernels/tuning.ts): every candidate tile and
 * workgroup shape timed, the default against the choice.
 */
export interface TuningWorkload {
  kind: 'tuning';
  name: string;
}

export type Workload =
  | TuningWorkload
  | MatmulWorkload
  | ClassSumsWorkload
  | UfmWorkload
  | MetricsWorkload
  | CopyWorkload
  | KnnWorkload
  | SweepWorkload;

export type RateUnit = 'GFLOP/s' | 'GB/s' | 'steps/s' | 'configs/s';

function square(size: number, seed: number): MatmulWorkload {
  const name = `matmul ${size}³`;
  return {
    kind: 'matmul',
    name,
    M: size,
    N: size,
    K: size,
    transB: false,
    seed,
  };
}

/**
 * The weight-gradient shape of a linear classifier: a 10×64 output summed
 * over many examples, B stored example-major (transB), so nclab splits K.
 */
function splitK(inner: number, seed: number): MatmulWorkload {
  const name = 'matmul split-K';
  return { kind: 'matmul', name, M: 10, N: 64, K: inner, transB: true, seed };
}

function classSumsWorkload(
  d: number,
  N: number,
  K: number,
  seed: number,
): ClassSumsWorkload {
  return { kind: 'classSums', name: `classSums d=${d}`, d, N, K, seed };
}

/**
 * Cross-entropy, plain gradient descent at lr 0.5 with a constant schedule
 * and free features (the setting the JS baseline implements), N·lr for the
 * features. That feature step also multiplies H by 1 − N·lr·λ_H each step,
 * so λ_H must stay well below 2/(N·lr) or H oscillates and overflows: at
 * N = 10 000 and λ_H = 5e-3 the factor is −24 and the loss is NaN within
 * 30 steps.
 */
function ufmConfig(
  K: number,
  d: number,
  perClass: number,
  lambdaW: number,
  lambdaH: number,
  seed: number,
): UfmBenchConfig {
  return {
    K,
    d,
    countsPerClass: new Array<number>(K).fill(perClass),
    loss: { kind: 'ce' },
    positive: false,
    lambdaW,
    lambdaH,
    lambdaB: 0,
    lr: 0.5,
    optimizer: { kind: 'gd' },
    schedule: { kind: 'constant' },
    seed,
    initScale: 0.5,
  };
}

/** `count` configurations over a grid of λ_W × λ_H, each with its own seed. */
function ufmBatch(
  count: number,
  K: number,
  d: number,
  perClass: number,
  lambdasW: readonly number[],
  lambdasH: readonly number[],
): UfmBenchConfig[] {
  return Array.from({ length: count }, (_, index) => {
    const lambdaW = lambdasW[index % lambdasW.length]!;
    const lambdaH =
      lambdasH[Math.floor(index / lambdasW.length) % lambdasH.length]!;
    return ufmConfig(K, d, perClass, lambdaW, lambdaH, index + 1);
  });
}

function ufmWorkload(
  name: string,
  configs: UfmBenchConfig[],
  quick: boolean,
  options: Partial<Pick<UfmWorkload, 'minBracket' | 'repeats' | 'tfjs'>> = {},
): UfmWorkload {
  return {
    kind: 'ufm',
    name,
    configs,
    targetSpanMs: quick ? 50 : 1_000,
    ...options,
  };
}

/**
 * Sized so a full run on SwiftShader (a CPU emulation, ~0.4 GFLOP/s) takes
 * about six and a half minutes on an idle 2-core machine: three for the
 * sweep rows (bench/sweepSpecs.ts), one for the k-NN graph, the rest mostly
 * the ufm training rows (about 0.3 and 0.6 s per step there); quick sizes
 * take seconds, for smoke tests.
 */
export function workloads(quick: boolean): Workload[] {
  if (quick) {
    return [
      square(64, 1),
      splitK(4096, 2),
      classSumsWorkload(16, 4096, 10, 3),
      // K = 4, not 3: with K = 3, TF.js 4.22's WebGL backend (packed
      // textures, its default) gets the features' second step wrong here.
      ufmWorkload(
        'ufm training step',
        [ufmConfig(4, 8, 15, 5e-3, 5e-3, 1)],
        true,
        { tfjs: true },
      ),
      ufmWorkload(
        'ufm training step ×8',
        ufmBatch(8, 3, 4, 20, [1e-3, 5e-3], [1e-3, 5e-3]),
        true,
      ),
      ...sweepWorkloads(true),
      {
        kind: 'metrics',
        name: 'collapse metrics',
        K: 4,
        d: 8,
        N: 2_000,
        seed: 6,
        tfjs: true,
      },
      { kind: 'copy', name: 'copy', floats: 1 << 16 },
      {
        kind: 'knn',
        name: 'knn graph',
        N: 1_000,
        p: 16,
        k: 10,
        seed: 7,
        repeats: 1,
      },
    ];
  }
  return [
    square(256, 1),
    square(512, 2),
    splitK(100_000, 3),
    classSumsWorkload(64, 100_000, 10, 4),
    classSumsWorkload(512, 50_000, 10, 5),
    // N·lr·λ_H = 0.5 (see ufmConfig); λ_W keeps 5e-3.
    ufmWorkload(
      'ufm training step',
      [ufmConfig(10, 64, 1_000, 5e-3, 1e-4, 1)],
      false,
      { tfjs: true },
    ),
    // Three times the examples (N·lr·λ_H = 0.15). About 1 s per nclab step
    // and 6 s per TF.js WebGPU step on SwiftShader, so runs of 3 and 4
    // steps and 3 repeats: the row costs about a minute and a half.
    ufmWorkload(
      'ufm training step N=30000',
      [ufmConfig(10, 64, 3_000, 5e-3, 1e-5, 2)],
      false,
      { tfjs: true, minBracket: 1, repeats: 3 },
    ),
    // N·lr·λ_H ≤ 0.5 over the whole grid.
    ufmWorkload(
      'ufm training step ×64',
      ufmBatch(
        64,
        10,
        16,
        50,
        [1e-4, 5e-4, 1e-3, 5e-3],
        [1e-4, 5e-4, 1e-3, 2e-3],
      ),
      false,
    ),
    ...sweepWorkloads(false),
    {
      kind: 'metrics',
      name: 'collapse metrics',
      K: 10,
      d: 64,
      N: 20_000,
      seed: 6,
      tfjs: true,
    },
    { kind: 'copy', name: 'copy', floats: 1 << 24 },
    { kind: 'tuning', name: 'auto-tuner' },
    // PCA-50-sized points, as for Fashion-MNIST; one timed repeat each.
    {
      kind: 'knn',
      name: 'knn graph N=10000',
      N: 10_000,
      p: 50,
      k: 10,
      seed: 7,
      repeats: 1,
    },
    {
      kind: 'knn',
      name: 'knn graph N=70000',
      N: 70_000,
      p: 50,
      k: 10,
      seed: 8,
      repeats: 1,
      optIn:
        'N² = 4.9·10⁹ distances: about 45 minutes on SwiftShader, so only ' +
        'when asked for',
    },
  ];
}

export function matmulShapes(w: MatmulWorkload): { a: Shape; b: Shape } {
  return {
    a: [1, w.M, w.K],
    b: w.transB ? [1, w.N, w.K] : [1, w.K, w.N],
  };
}

/** What a workload is, its unit and its work per operation, as reported. */
export function describeWorkload(w: Workload): {
  shape: string;
  unit: RateUnit;
  workPerOp: number;
} {
  if (w.kind === 'ufm') {
    const [first] = w.configs;
    if (!first) throw new Error(`${w.name}: no configurations`);
    const N = first.countsPerClass.reduce((sum, count) => sum + count, 0);
    const loss = first.loss.kind.toUpperCase();
    const one = `K=${first.K}, d=${first.d}, N=${N}, ${loss}`;
    return {
      shape: w.configs.length > 1 ? `${w.configs.length} × (${one})` : one,
      unit: 'steps/s',
      // One operation is one step of the whole batch.
      workPerOp: 1,
    };
  }
  if (w.kind === 'sweep') {
    return {
      shape: describeSweep(w),
      unit: 'configs/s',
      // One operation is the whole sweep.
      workPerOp: w.count,
    };
  }
  if (w.kind === 'metrics') {
    return {
      shape: `H ${w.d}×${w.N}, K=${w.K}, 10 % noisy, with classifier`,
      unit: 'GB/s',
      // The features' bytes per full metric set: a rate comparable with
      // the copy row (each pass reads H or X once; there are several).
      workPerOp: w.d * w.N * 4,
    };
  }
  if (w.kind === 'knn') {
    return {
      shape: `${w.N} points × ${w.p}, k = ${w.k}`,
      unit: 'GFLOP/s',
      // The distances: N² dot products of length p (multiply and add).
      workPerOp: 2 * w.N * w.N * w.p,
    };
  }
  if (w.kind === 'tuning') {
    const { M, N, K } = TUNING_SHAPES.matmul;
    const sums = TUNING_SHAPES.classSums;
    return {
      shape:
        `matmul ${M}×${K} · ${K}×${N}; class sums ${sums.d}×${sums.N}, ` +
        `K=${sums.K}`,
      unit: 'GFLOP/s',
      // The row's rate is the chosen matmul tile's.
      workPerOp: 2 * M * N * K,
    };
  }
  if (w.kind === 'copy') {
    return {
      shape: `${w.floats} floats`,
      unit: 'GB/s',
      // Every byte is read once and written once.
      workPerOp: 2 * w.floats * 4,
    };
  }
  if (w.kind === 'matmul') {
    const transposed = w.transB ? ', B transposed' : '';
    return {
      shape: `${w.M}×${w.K} · ${w.K}×${w.N}${transposed}`,
      unit: 'GFLOP/s',
      // One multiply and one add per inner index and output.
      workPerOp: 2 * w.M * w.N * w.K,
    };
  }
  return {
    shape: `X ${w.d}×${w.N}, K=${w.K}`,
    unit: 'GB/s',
    // X and the labels are each read once; the d×K outputs are negligible.
    workPerOp: w.d * w.N * 4 + w.N * 4,
  };
}

/** Largest |value| randomFloats(…, 'integer') draws. */
export const INTEGER_INPUT_MAX = 4;

/**
 * The inputs are small integers, so every product and partial sum is an
 * integer; while their magnitude stays below 2^24 each float32 addition is
 * exact, in any order. Then nclab and the baseline must agree bit for bit,
 * whatever their summation order, and a difference is a bug, not rounding.
 */
export function requireExactSums(
  name: string,
  maxTerm: number,
  terms: number,
): void {
  if (maxTerm * terms >= 2 ** 24) {
    throw new Error(
      `${name}: sums of ${terms} terms up to ${maxTerm} can reach 2^24, ` +
        `where float32 stops being exact; use a smaller shape`,
    );
  }
}

/**
 * C = op(A)·op(B) for one batch, row-major, in the i-k-j order: the inner
 * loop runs along a row of C (and of B when B is not transposed). C is
 * stored as float32 after every addition, as a float32 kernel keeps it.
 */
export function matmulJs(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  M: number,
  N: number,
  K: number,
  transB: boolean,
): void {
  c.fill(0);
  for (let i = 0; i < M; i++) {
    const rowC = i * N;
    for (let k = 0; k < K; k++) {
      const aik = a[i * K + k]!;
      if (transB) {
        for (let j = 0; j < N; j++) c[rowC + j]! += aik * b[j * K + k]!;
      } else {
        const rowB = k * N;
        for (let j = 0; j < N; j++) c[rowC + j]! += aik * b[rowB + j]!;
      }
    }
  }
}

/**
 * Per-class column sums (d×K) and counts of X (d×N, row-major). Each row is
 * streamed once in memory order; walking X column by column would stride
 * by N floats and time cache misses instead of the additions.
 */
export function classSumsJs(
  x: Float32Array,
  labels: Uint32Array,
  d: number,
  N: number,
  K: number,
  sums: Float32Array,
  counts: Uint32Array,
): void {
  sums.fill(0);
  counts.fill(0);
  for (let j = 0; j < N; j++) counts[labels[j]!]! += 1;
  for (let i = 0; i < d; i++) {
    const row = i * N;
    const rowSums = i * K;
    for (let j = 0; j < N; j++) sums[rowSums + labels[j]!]! += x[row + j]!;
  }
}

/** Largest |a[i] − b[i]|; Infinity when the lengths differ or NaN appears. */
export function maxAbsDifference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const difference = Math.abs(a[i]! - b[i]!);
    if (!(difference <= max))
      max = Number.isNaN(difference) ? Infinity : difference;
  }
  return max;
}

export interface Measurement {
  /** Median time of one operation. */
  medianMs: number;
  /** Per-operation time of each repeat. */
  samplesMs: number[];
  /**
   * Operations inside one timed region, which the time is divided by (ufm:
   * the extra steps of the longer run).
   */
  opsPerSample: number;
  /** GFLOP/s, GB/s, steps/s or configs/s at the median time. */
  rate: number;
}

export interface WorkloadResult {
  name: string;
  kind: Workload['kind'];
  shape: string;
  unit: RateUnit;
  /** Floating-point operations, bytes read or steps per operation. */
  workPerOp: number;
  /** Configurations trained together (ufm); a step is one step of each. */
  configs?: number;
  /**
   * What the js measurement is when it is not plain JavaScript (sweep
   * rows: nclab given one configuration at a time).
   */
  baseline?: string;
  /** nclab and the JS baseline gave the same numbers (checked first). */
  verified: boolean;
  /** Largest |nclab − JS| over every output; null if never compared. */
  maxAbsDifference: number | null;
  /**
   * ufm: after a few steps, the largest |x − float64 reference| over the
   * largest |reference| entry, worst parameter block and configuration.
   */
  referenceError?: { nclab: number; js: number };
  /** Why the workload failed; absent when it ran and verified. */
  problem?: string;
  /** Why it was not run on this adapter (not a failure). */
  skipped?: string;
  /** How nclab planned it, e.g. the split-K count. */
  plan?: string;
  /** Pipelines this workload compiled (0: cached by an earlier one). */
  pipelinesCompiled?: number;
  /**
   * First-use cost of those pipelines: wall time of a first call on tiny
   * inputs minus a second one.
   */
  compileMs?: number;
  nclab?: Measurement & { method: TimingMethod };
  js?: Measurement;
  /** nclab rate / JS rate (above 1: nclab is faster). */
  ratio?: number;
  /** Other engines on the same inputs in the same page (TF.js backends). */
  alternatives?: AlternativeResult[];
  /** Arithmetic and compulsory traffic per operation (bench/roofline.ts). */
  roofWork?: RooflineWork;
  /** nclab's time against the roofline of this run's measured roofs. */
  roof?: RoofFraction;
  /** The tuner's measurements (the auto-tuner row). */
  tuning?: TuningReport;
}

export type AlternativeId = 'tfjs-webgpu' | 'tfjs-webgl';

/** Another engine on a workload: checked first, then timed like nclab. */
export interface AlternativeResult {
  id: AlternativeId;
  /** As the table shows it, e.g. "TF.js WebGPU". */
  label: string;
  /** What it ran on, as it reports it (adapter, or WebGL renderer). */
  device?: string;
  /** WebGPU: whether its adapter is nclab's; null when not applicable. */
  sameAdapter?: boolean | null;
  /** Why it cannot run here; not a failure, and nothing is timed. */
  unavailable?: string;
  /** It ran and gave the same numbers as the reference (checked first). */
  verified: boolean;
  /** Why it failed or disagreed; not timed, and a failure of the run. */
  problem?: string;
  /**
   * ufm: largest |x − float64 reference| over the largest |reference|
   * entry; metrics: largest relative gap to nclab's headline metrics.
   */
  referenceError?: number;
  /** Largest |alternative − nclab| over the checked outputs. */
  maxAbsDifference: number | null;
  /** How it was written and timed. */
  plan?: string;
  /** First use minus second use: its shader compilation. */
  compileMs?: number;
  measurement?: Measurement;
  /** nclab rate / this rate (above 1: nclab is faster). */
  ratio?: number;
}

/** Per operation: floating-point operations and compulsory bytes moved. */
export interface RooflineWork {
  flops: number;
  bytes: number;
}

/** Where nclab's time stands against the roofline of the measured roofs. */
export interface RoofFraction {
  /** The roof that limits this workload: the matmul or the copy. */
  bound: 'compute' | 'bandwidth';
  /** The time the roofline allows: max(flops / matmul, bytes / copy). */
  roofMs: number;
  /** roofMs / nclab's median time (1: at the roof). */
  fraction: number;
}

/** The roofs measured in this run, on this adapter. */
export interface Roofs {
  /** The copy row's GB/s (bytes read plus written). */
  copyGBs: number;
  /** The best matmul row's GFLOP/s, and which row it was. */
  matmulGFLOPs: number;
  matmulRow: string;
}

export interface BenchResult {
  adapter: AdapterSummary & { name: string };
  userAgent: string;
  /** How nclab's times were taken; 'mixed' if calls differed. */
  timingMethod: TimingMethod | 'mixed';
  quick: boolean;
  repeats: number;
  startedAt: string;
  totalMs: number;
  workloads: WorkloadResult[];
  /** Problems of the run as a whole: validation errors, leaked tensors. */
  problems: string[];
  /**
   * The copy and best matmul rates of this run (set in Node once every row
   * is in); null when a roof row was not run or did not verify.
   */
  roofs?: Roofs | null;
}

export interface BenchOptions {
  quick?: boolean;
  /** Names of the workloads to run; all of them by default. */
  only?: string[];
  /**
   * Names the user asked for explicitly: an opt-in row (KnnWorkload.optIn)
   * runs only when named here, else it is listed as skipped.
   */
  asked?: string[];
  /** Timed repeats per workload and side; the median is reported. */
  repeats?: number;
}
