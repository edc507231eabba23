// The collapse metrics of the benchmark's metrics row in TensorFlow.js: the
// passes over the N examples that nclab runs on the GPU (class counts and
// sums, centred features, their norms, P = XM̃ and A = PᵀP, per-class
// distance sums, the classifier's and the nearest class mean's predictions,
// the noisy examples' distances to the clean means), written with TF.js
// ops on features stored [N, d]. What is left is K×K-sized and is finished
// by the same float64 code as nclab's and the JS baseline's
// (src/metrics/finalize.ts): TF.js has no eigendecomposition or
// pseudo-inverse for NC1's G†, and those are a few K×K numbers anyway.

import type * as Tfjs from '@tensorflow/tfjs';

import type { AdapterSummary } from '../src/gpu/device';
import type { CollapseMetrics } from '../src/metrics/collapse';
import {
  finalizeGrouping,
  finalizeMemorization,
  type GroupingStatistics,
} from '../src/metrics/finalize';
import { AGREEMENT, metricsGap, type FeatureSet } from './metrics';
import { measurement, progress, sampleTimes } from './sampling';
import {
  TFJS_BACKENDS,
  alternativeRepeats,
  transpose,
  unavailableResult,
  useTfjsBackend,
  type Tf,
  type TfjsBackend,
  type TfjsBackendSpec,
} from './tfjs';
import type { AlternativeResult, Measurement, RateUnit } from './workloads';

/** The feature set as TF.js tensors (uploaded once, not timed). */
interface TfFeatures {
  K: number;
  d: number;
  N: number;
  /** [N, d] */
  H: Tfjs.Tensor2D;
  /** [K, d] and [K] */
  W: Tfjs.Tensor2D;
  b: Tfjs.Tensor1D;
  /** Observed and true labels, int32 [N]. */
  labels: Tfjs.Tensor1D;
  truth: Tfjs.Tensor1D;
}

export function uploadFeatures(tf: Tf, s: FeatureSet): TfFeatures {
  return {
    K: s.K,
    d: s.d,
    N: s.N,
    H: tf.tensor2d(transpose(s.H, s.d, s.N), [s.N, s.d]),
    W: tf.tensor2d(s.W, [s.K, s.d]),
    b: tf.tensor1d(s.b),
    labels: tf.tensor1d(Int32Array.from(s.labels), 'int32'),
    truth: tf.tensor1d(Int32Array.from(s.truth), 'int32'),
  };
}

async function download(tf: Tf, tensors: Tfjs.Tensor[]) {
  const data = await Promise.all(tensors.map((t) => t.data<'float32'>()));
  tf.dispose(tensors);
  return data;
}

interface Grouping {
  statistics: GroupingStatistics;
  /** Class means [K, d] in float32, for the later passes; the caller
   * disposes them. */
  means: Tfjs.Tensor2D;
}

/**
 * One grouping's statistics. Labels ≥ K belong to no class: their one-hot
 * rows are zero, which drops them from every sum.
 */
async function grouping(
  tf: Tf,
  f: TfFeatures,
  labels: Tfjs.Tensor1D,
  classify: boolean,
): Promise<Grouping> {
  const { K, d } = f;
  const [countData, sumData] = await download(
    tf,
    tf.tidy(() => {
      const onehot = tf.oneHot(labels, K).toFloat();
      return [tf.sum(onehot, 0), tf.matMul(onehot, f.H, true, false)];
    }),
  );
  // Means and M̃ in float64 as nclab forms them; sums arrive [K, d].
  const counts = Float64Array.from(countData!);
  const total = counts.reduce((a, n) => a + n, 0);
  const sums = new Float64Array(d * K);
  const means = new Float32Array(K * d);
  const centred = new Float64Array(d * K);
  for (let i = 0; i < d; i++) {
    let global = 0;
    for (let k = 0; k < K; k++) {
      sums[i * K + k] = sumData![k * d + i]!;
      global += sums[i * K + k]!;
    }
    global /= total;
    for (let k = 0; k < K; k++) {
      if (counts[k] === 0) continue;
      means[k * d + i] = sums[i * K + k]! / counts[k]!;
      centred[i * K + k] = sums[i * K + k]! / counts[k]! - global;
    }
  }
  const meansT = tf.tensor2d(means, [K, d]);

  const outputs = tf.tidy(() => {
    const onehot = tf.oneHot(labels, K).toFloat();
    const inGrouping = tf.sum(onehot, 1, true);
    const centredT = tf.tensor2d(transpose(centred, d, K), [K, d]);
    const X = tf.mul(tf.sub(f.H, tf.matMul(onehot, meansT)), inGrouping);
    const squares = tf.sum(tf.square(X), 1);
    const norms = tf.sqrt(squares);
    const distances = tf.matMul(tf.stack([norms, squares]), onehot);
    const P = tf.matMul(X, centredT, false, true);
    const A = tf.matMul(P, P, true, false);
    if (!classify) return [A, distances];

    // NC4: the classifier's prediction against the nearest class mean
    // (classes with examples only); ‖h − μ‖² = ‖μ‖² − 2μᵀh + ‖h‖², and
    // ‖h‖² is the same for every class.
    const scores = tf.add(tf.matMul(f.H, f.W, false, true), f.b);
    const best = tf.argMax(scores, 1);
    const empty = tf.mul(tf.equal(tf.sum(onehot, 0), 0).toFloat(), 1e30);
    const toMeans = tf.add(
      tf.sub(
        tf.sum(tf.square(meansT), 1),
        tf.mul(2, tf.matMul(f.H, meansT, false, true)),
      ),
      empty,
    );
    const nearest = tf.argMin(toMeans, 1);
    const column = tf.reshape(inGrouping, [-1]);
    const mismatches = tf.sum(
      tf.mul(tf.notEqual(best, nearest).toFloat(), column),
    );
    const correct = tf.sum(tf.mul(tf.equal(best, labels).toFloat(), column));
    return [A, distances, mismatches, correct];
  });
  const [A, distances, mismatches, correct] = await download(tf, outputs);
  return {
    statistics: {
      K,
      d,
      counts,
      sums,
      projected: A!,
      distances: distances!,
      centredMeans: centred,
      ...(classify
        ? {
            classification: {
              mismatches: mismatches![0]!,
              correct: correct![0]!,
            },
          }
        : {}),
    },
    means: meansT,
  };
}

/** Every metric nclab's metrics row computes, from TF.js's passes. */
export async function tfjsMetrics(
  tf: Tf,
  f: TfFeatures,
  W: Float32Array,
): Promise<CollapseMetrics> {
  const observed = await grouping(tf, f, f.labels, true);
  observed.means.dispose();
  const truth = await grouping(tf, f, f.truth, true);
  truth.means.dispose();

  // Clean: the true label where it was kept, K (no class) where flipped;
  // noisy: the true label where it was flipped.
  const [clean, noisy] = tf.tidy(() => {
    const kept = tf.equal(f.labels, f.truth);
    const none = tf.fill([f.N], f.K, 'int32');
    return [tf.where(kept, f.truth, none), tf.where(kept, none, f.truth)];
  }) as [Tfjs.Tensor1D, Tfjs.Tensor1D];
  const cleanRun = await grouping(tf, f, clean, false);
  const [noisySums, noisyCounts] = await download(
    tf,
    tf.tidy(() => {
      const onehot = tf.oneHot(noisy, f.K).toFloat();
      const toClean = tf.sub(f.H, tf.matMul(onehot, cleanRun.means));
      const distance = tf.sqrt(tf.sum(tf.square(toClean), 1));
      return [tf.matMul(tf.expandDims(distance, 0), onehot), tf.sum(onehot, 0)];
    }),
  );
  tf.dispose([clean, noisy, cleanRun.means]);

  const observedMetrics = finalizeGrouping({ ...observed.statistics, W });
  const cleanMetrics = finalizeGrouping(cleanRun.statistics);
  const inGrouping = Array.from(observed.statistics.counts).reduce(
    (a, n) => a + n,
    0,
  );
  return {
    observed: observedMetrics,
    true: finalizeGrouping({ ...truth.statistics, W }),
    memorization: finalizeMemorization(
      cleanRun.statistics,
      cleanMetrics,
      noisySums!,
      noisyCounts!,
      inGrouping,
    ),
  };
}

export interface MetricsTiming {
  unit: RateUnit;
  workPerOp: number;
  repeats: number;
  nclab: Measurement;
}

/**
 * One backend on the metrics row, timed like nclab's: wall time of a whole
 * metric set, readbacks included; the first set minus the second is the
 * compile time. Its metrics must agree with nclab's as closely as the JS
 * baseline's must.
 */
export async function measureTfjsMetricsBackend(
  rowName: string,
  spec: TfjsBackendSpec,
  backend: Extract<TfjsBackend, { ready: true }>,
  s: FeatureSet,
  nclab: CollapseMetrics,
  timing: MetricsTiming,
): Promise<AlternativeResult> {
  const { tf } = backend;
  const result: AlternativeResult = {
    id: spec.id,
    label: spec.label,
    device: backend.device,
    sameAdapter: backend.sameAdapter,
    verified: false,
    maxAbsDifference: null,
    plan:
      'oneHot + matMul class sums, centring, P and A by matMul, norms by ' +
      'tf.sum, argMax/argMin predictions, read back and finished in ' +
      'float64 like nclab (wall clock)',
  };
  const tensorsBefore = tf.memory().numTensors;
  const f = uploadFeatures(tf, s);
  const once = () => tfjsMetrics(tf, f, s.W);
  try {
    progress(`${rowName}: ${spec.label}: compiling, checking against nclab`);
    const coldStart = performance.now();
    await once();
    const coldMs = performance.now() - coldStart;
    const warmStart = performance.now();
    const metrics = await once();
    const warmMs = performance.now() - warmStart;
    result.compileMs = Math.max(0, coldMs - warmMs);
    const gap = metricsGap(metrics, nclab);
    result.referenceError = gap;
    result.maxAbsDifference = gap;
    if (!(gap <= AGREEMENT)) {
      result.problem =
        `${spec.label} and nclab differ by ${gap} (relative) on NC1, CDNV, ` +
        `trace ratio, NC4 or memorization, over ${AGREEMENT}; not timed`;
      return result;
    }
    result.verified = true;

    progress(`${rowName}: timing ${spec.label}`);
    const timed = await sampleTimes(
      async (ops) => {
        const start = performance.now();
        for (let op = 0; op < ops; op++) await once();
        return performance.now() - start;
      },
      alternativeRepeats(timing.repeats, warmMs),
    );
    result.measurement = measurement(
      timed.samplesMs,
      timed.ops,
      timing.unit,
      timing.workPerOp,
    );
    result.ratio = timing.nclab.rate / result.measurement.rate;
    return result;
  } catch (error) {
    result.verified = false;
    result.problem = error instanceof Error ? error.message : String(error);
    return result;
  } finally {
    tf.dispose([f.H, f.W, f.b, f.labels, f.truth]);
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked !== 0 && !result.problem) {
      result.verified = false;
      result.problem = `${spec.label} left ${leaked} tensors undisposed`;
    }
  }
}

/** Every TF.js backend on the metrics row, in TFJS_BACKENDS order. */
export async function measureTfjsMetrics(
  rowName: string,
  nclabAdapter: AdapterSummary,
  s: FeatureSet,
  nclab: CollapseMetrics,
  timing: MetricsTiming,
): Promise<AlternativeResult[]> {
  const results: AlternativeResult[] = [];
  for (const spec of TFJS_BACKENDS) {
    const backend = await useTfjsBackend(spec, nclabAdapter);
    if (!backend.ready) {
      progress(`${rowName}: ${backend.unavailable}`);
      results.push(unavailableResult(spec, backend.unavailable));
      continue;
    }
    results.push(
      await measureTfjsMetricsBackend(rowName, spec, backend, s, nclab, timing),
    );
  }
  return results;
}
