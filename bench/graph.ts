// The k-NN graph row of the benchmark: nclab's knnLists (Gram blocks by
// the matrix product, per-row selection on the GPU) against a plain-JS
// float32 brute force. The JS side runs on the first rows only and is
// scaled to all N rows (its cost is linear in the rows), which the plan
// says; both must pick the same neighbours on those rows, near-ties aside.

import type { Runtime, TimingMethod } from '../src/gpu/runtime';
import { knnLists } from '../src/kernels/knn';
import { gaussianMixture } from '../src/data/mixtures';
import { measurement, progress } from './sampling';
import {
  describeWorkload,
  type KnnWorkload,
  type WorkloadResult,
} from './workloads';

/** Rows the JS brute force runs on before scaling. */
const JS_ROWS = 200;
/** Rows whose neighbour lists may differ by a near-tie. */
const ALLOWED_MISMATCH = 0.02;

function knnJs(
  points: Float32Array,
  N: number,
  p: number,
  k: number,
  rows: number,
): Uint32Array {
  const out = new Uint32Array(rows * k);
  const dist = new Float32Array(N);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let c = 0; c < p; c++) {
        const diff = points[i * p + c]! - points[j * p + c]!;
        s += diff * diff;
      }
      dist[j] = j === i ? Infinity : s;
    }
    const order = Array.from({ length: N }, (_, j) => j).sort(
      (a, b) => dist[a]! - dist[b]! || a - b,
    );
    out.set(order.slice(0, k), i * k);
  }
  return out;
}

export async function measureKnn(
  rt: Runtime,
  w: KnnWorkload,
  repeats: number,
  methods: Set<TimingMethod>,
): Promise<WorkloadResult> {
  const { shape, unit, workPerOp } = describeWorkload(w);
  const rows = Math.min(JS_ROWS, w.N);
  const result: WorkloadResult = {
    name: w.name,
    kind: w.kind,
    shape,
    unit,
    workPerOp,
    verified: false,
    maxAbsDifference: null,
    plan:
      `knnLists, one tile per 2^26 Gram floats, wall clock to the lists on ` +
      `the host, the first call's included (its compilation is small next ` +
      `to it); JS: brute force on the first ${rows} rows, time × N/${rows}`,
  };
  const mixture = gaussianMixture({
    K: 10,
    dim: w.p,
    perClass: Math.ceil(w.N / 10),
    separation: 4,
    seed: w.seed,
  });
  const points = mixture.points.subarray(0, w.N * w.p);
  progress(`${w.name}: compiling, checking nclab against JS`);
  const coldStart = performance.now();
  const gpu = await knnLists(rt, points, w.N, w.p, w.k);
  const coldMs = performance.now() - coldStart;
  const js = knnJs(points, w.N, w.p, w.k, rows);
  let mismatched = 0;
  for (let i = 0; i < rows; i++) {
    const a = new Set(gpu.index.subarray(i * w.k, (i + 1) * w.k));
    if (!Array.from(js.subarray(i * w.k, (i + 1) * w.k)).every((j) => a.has(j)))
      mismatched += 1;
  }
  result.maxAbsDifference = mismatched / rows;
  if (mismatched / rows > ALLOWED_MISMATCH) {
    result.problem = `${mismatched} of ${rows} rows pick other neighbours than JS; not timed`;
    return result;
  }
  result.verified = true;
  progress(`${w.name}: timing nclab`);
  const samples = [coldMs];
  for (let r = 1; r < repeats; r++) {
    const start = performance.now();
    await knnLists(rt, points, w.N, w.p, w.k);
    samples.push(performance.now() - start);
  }
  result.nclab = {
    ...measurement(samples, 1, unit, workPerOp),
    method: 'wall-clock',
  };
  methods.add('wall-clock');
  progress(`${w.name}: timing JS on ${rows} rows`);
  const jsSamples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    knnJs(points, w.N, w.p, w.k, rows);
    jsSamples.push(((performance.now() - start) * w.N) / rows);
  }
  result.js = measurement(jsSamples, 1, unit, workPerOp);
  result.ratio = result.nclab.rate / result.js.rate;
  return result;
}
