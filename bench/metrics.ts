// Benchmark rows for the collapse metrics and a copy kernel. The metrics
// row times nclab's collapseMetrics (observed and true groupings,
// memorization, classification; read back and finished in float64) next to
// a plain-JS float64 implementation of the same passes, both finished by
// the same float64 code (src/metrics/finalize.ts) and checked to agree. The
// copy row is the bandwidth roof: a kernel that reads and writes every
// float once, next to TypedArray.set.

import type { KernelSource } from '../src/gpu/kernels';
import type { Runtime, TimingMethod } from '../src/gpu/runtime';
import { collapseMetrics, type CollapseMetrics } from '../src/metrics/collapse';
import {
  finalizeGrouping,
  finalizeMemorization,
  type GroupingStatistics,
} from '../src/metrics/finalize';
import { Random } from '../src/util/random';
import { measurement, progress, sampleTimes } from './sampling';
import {
  describeWorkload,
  type CopyWorkload,
  type MetricsWorkload,
  type WorkloadResult,
} from './workloads';

const copyKernel: KernelSource = {
  name: 'bench-copy',
  template: `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>) {
  let i = id.x + id.y * groups.x * 256u;
  if (i < arrayLength(&src)) {
    dst[i] = src[i];
  }
}
`,
};

export interface FeatureSet {
  K: number;
  d: number;
  N: number;
  H: Float32Array;
  labels: Uint32Array;
  truth: Uint32Array;
  W: Float32Array;
  b: Float32Array;
}

/** Clustered classes, 10 % of labels moved to the next class. */
export function featureSet(w: MetricsWorkload): FeatureSet {
  const { K, d, N } = w;
  const rng = new Random(w.seed);
  const centres = Float64Array.from({ length: d * K }, () => 2 * rng.normal());
  const truth = Uint32Array.from({ length: N }, (_, n) => n % K);
  const H = new Float32Array(d * N);
  for (let i = 0; i < d; i++) {
    for (let n = 0; n < N; n++)
      H[i * N + n] = centres[i * K + truth[n]!]! + 0.5 * rng.normal();
  }
  const labels = Uint32Array.from(truth, (y) =>
    rng.uniform() < 0.1 ? (y + 1) % K : y,
  );
  const W = Float32Array.from({ length: K * d }, (_, j) => {
    const k = Math.floor(j / d);
    return centres[(j % d) * K + k]! + 0.3 * rng.normal();
  });
  const b = Float32Array.from({ length: K }, () => 0.1 * rng.normal());
  return { K, d, N, H, labels, truth, W, b };
}

/**
 * One grouping's statistics in float64, by the same passes as the GPU:
 * class sums, centring, P = M̃ᵀX and A = PPᵀ, per-class distance sums.
 */
function groupingJs(
  s: FeatureSet,
  labels: Uint32Array,
): GroupingStatistics & { means: Float64Array } {
  const { K, d, N, H } = s;
  const counts = new Float64Array(K);
  const sums = new Float64Array(d * K);
  for (let n = 0; n < N; n++) if (labels[n]! < K) counts[labels[n]!]! += 1;
  for (let i = 0; i < d; i++) {
    for (let n = 0; n < N; n++) {
      const y = labels[n]!;
      if (y < K) sums[i * K + y]! += H[i * N + n]!;
    }
  }
  const total = counts.reduce((a, c) => a + c, 0);
  const means = new Float64Array(d * K);
  const centred = new Float64Array(d * K);
  for (let i = 0; i < d; i++) {
    let global = 0;
    for (let k = 0; k < K; k++) global += sums[i * K + k]!;
    global /= total;
    for (let k = 0; k < K; k++) {
      if (counts[k] === 0) continue;
      means[i * K + k] = sums[i * K + k]! / counts[k]!;
      centred[i * K + k] = means[i * K + k]! - global;
    }
  }
  const projected = new Float64Array(K * K);
  const distances = new Float64Array(2 * K);
  const x = new Float64Array(d);
  const p = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    const y = labels[n]!;
    if (y >= K) continue;
    let sq = 0;
    for (let i = 0; i < d; i++) {
      x[i] = H[i * N + n]! - means[i * K + y]!;
      sq += x[i]! * x[i]!;
    }
    distances[y]! += Math.sqrt(sq);
    distances[K + y]! += sq;
    p.fill(0);
    for (let i = 0; i < d; i++) {
      for (let k = 0; k < K; k++) p[k]! += centred[i * K + k]! * x[i]!;
    }
    for (let a = 0; a < K; a++) {
      for (let c = 0; c < K; c++) projected[a * K + c]! += p[a]! * p[c]!;
    }
  }
  return {
    K,
    d,
    counts,
    sums,
    projected,
    distances,
    centredMeans: centred,
    means,
  };
}

/** NC4 mismatches and correct predictions against `labels`, over a grouping. */
function classifyJs(
  s: FeatureSet,
  means: Float64Array,
  counts: ArrayLike<number>,
  labels: Uint32Array,
) {
  const { K, d, N, H, W, b } = s;
  let mismatches = 0;
  let correct = 0;
  for (let n = 0; n < N; n++) {
    let best = 0;
    let bestScore = -Infinity;
    let nearest = 0;
    let nearestSq = Infinity;
    for (let k = 0; k < K; k++) {
      let score = b[k]!;
      let sq = 0;
      for (let i = 0; i < d; i++) {
        const h = H[i * N + n]!;
        score += W[k * d + i]! * h;
        sq += (h - means[i * K + k]!) ** 2;
      }
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
      if (counts[k]! > 0 && sq < nearestSq) {
        nearestSq = sq;
        nearest = k;
      }
    }
    if (best !== nearest) mismatches += 1;
    if (best === labels[n]) correct += 1;
  }
  return { mismatches, correct };
}

/** The metrics nclab computes, the same way, in plain JS float64. */
export function metricsJs(s: FeatureSet) {
  const { K, N } = s;
  const observed = groupingJs(s, s.labels);
  const observedMetrics = finalizeGrouping({
    ...observed,
    W: s.W,
    classification: classifyJs(s, observed.means, observed.counts, s.labels),
  });
  const truth = groupingJs(s, s.truth);
  const trueMetrics = finalizeGrouping({
    ...truth,
    W: s.W,
    classification: classifyJs(s, truth.means, truth.counts, s.truth),
  });
  const clean = Uint32Array.from(s.truth, (y, n) =>
    s.labels[n] === y ? y : K,
  );
  const cleanRun = groupingJs(s, clean);
  const cleanMetrics = finalizeGrouping(cleanRun);
  const noisySums = new Float64Array(K);
  const noisyCounts = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    const y = s.truth[n]!;
    if (s.labels[n] === y) continue;
    let sq = 0;
    for (let i = 0; i < s.d; i++)
      sq += (s.H[i * N + n]! - cleanRun.means[i * K + y]!) ** 2;
    noisySums[y]! += Math.sqrt(sq);
    noisyCounts[y]! += 1;
  }
  return {
    observed: observedMetrics,
    true: trueMetrics,
    memorization: finalizeMemorization(
      cleanRun,
      cleanMetrics,
      noisySums,
      noisyCounts,
      N,
    ),
  };
}

/** Largest relative gap over the headline metrics. */
export function metricsGap(a: CollapseMetrics, b: CollapseMetrics): number {
  const pairs: Array<[number | null, number | null]> = [
    [a.observed.nc1, b.observed.nc1],
    [a.observed.cdnv, b.observed.cdnv],
    [a.observed.traceRatio, b.observed.traceRatio],
    [a.observed.nc4, b.observed.nc4],
    [a.true?.nc1 ?? null, b.true?.nc1 ?? null],
    [
      a.memorization?.memorization ?? null,
      b.memorization?.memorization ?? null,
    ],
    [a.memorization?.dilation ?? null, b.memorization?.dilation ?? null],
  ];
  return Math.max(
    ...pairs.map(([x, y]) =>
      x === null || y === null
        ? Infinity
        : Math.abs(x - y) / Math.max(Math.abs(y), 1e-12),
    ),
  );
}

/** Largest relative gap allowed between two engines' headline metrics. */
export const AGREEMENT = 1e-3;

export async function measureMetrics(
  rt: Runtime,
  w: MetricsWorkload,
  repeats: number,
  methods: Set<TimingMethod>,
): Promise<WorkloadResult> {
  const { shape, unit, workPerOp } = describeWorkload(w);
  const result: WorkloadResult = {
    name: w.name,
    kind: w.kind,
    shape,
    unit,
    workPerOp,
    verified: false,
    maxAbsDifference: null,
    plan:
      'collapseMetrics: observed and true groupings, clean/noisy split, ' +
      'NC4 and accuracy, read back and finished in float64 (wall clock); ' +
      'JS: the same passes in float64, same finish',
  };
  const s = featureSet(w);
  const tensors = {
    H: rt.upload(s.H, [1, s.d, s.N], 'f32'),
    labels: rt.upload(s.labels, [1, 1, s.N], 'u32'),
    trueLabels: rt.upload(s.truth, [1, 1, s.N], 'u32'),
    W: rt.upload(s.W, [1, s.K, s.d], 'f32'),
    bias: rt.upload(s.b, [1, s.K, 1], 'f32'),
  };
  const nclab = async () => {
    const [m] = await collapseMetrics(rt, {
      ...tensors,
      K: s.K,
      fullCovariance: false,
    });
    return m!;
  };
  try {
    progress(`${w.name}: compiling, checking nclab against JS float64`);
    const pipelinesBefore = rt.kernels.size;
    const coldStart = performance.now();
    await nclab();
    const coldMs = performance.now() - coldStart;
    const warmStart = performance.now();
    const gpu = await nclab();
    const warmMs = performance.now() - warmStart;
    result.pipelinesCompiled = rt.kernels.size - pipelinesBefore;
    result.compileMs = Math.max(0, coldMs - warmMs);
    const js = metricsJs(s);
    const gap = metricsGap(gpu, js);
    result.maxAbsDifference = gap;
    if (!(gap <= AGREEMENT)) {
      result.problem =
        `nclab and JS differ by ${gap} (relative) on NC1, CDNV, trace ` +
        `ratio, NC4 or memorization, over ${AGREEMENT}; not timed`;
      return result;
    }
    result.verified = true;

    progress(`${w.name}: timing nclab`);
    const timed = await sampleTimes(async (ops) => {
      const start = performance.now();
      for (let op = 0; op < ops; op++) await nclab();
      return performance.now() - start;
    }, repeats);
    result.nclab = {
      ...measurement(timed.samplesMs, timed.ops, unit, workPerOp),
      method: 'wall-clock',
    };
    methods.add('wall-clock');
    progress(`${w.name}: timing JS`);
    const jsTimed = await sampleTimes((ops) => {
      const start = performance.now();
      for (let op = 0; op < ops; op++) metricsJs(s);
      return Promise.resolve(performance.now() - start);
    }, repeats);
    result.js = measurement(jsTimed.samplesMs, jsTimed.ops, unit, workPerOp);
    result.ratio = result.nclab.rate / result.js.rate;

    if (w.tfjs) {
      // Loaded only for rows that compare with TF.js.
      const { measureTfjsMetrics } = await import('./tfjsMetrics');
      result.alternatives = await measureTfjsMetrics(
        w.name,
        rt.gpu.adapterSummary,
        s,
        gpu,
        { unit, workPerOp, repeats, nclab: result.nclab },
      );
    }
    return result;
  } finally {
    for (const t of Object.values(tensors)) t.release();
  }
}

/** The copy kernel's GB/s (bytes read plus written), next to TypedArray.set. */
export async function measureCopy(
  rt: Runtime,
  w: CopyWorkload,
  repeats: number,
  methods: Set<TimingMethod>,
): Promise<WorkloadResult> {
  const { shape, unit, workPerOp } = describeWorkload(w);
  const data = Float32Array.from({ length: w.floats }, (_, i) => i % 1021);
  const src = rt.upload(data, [1, 1, w.floats], 'f32');
  const pipeline = await rt.pipeline({ kernel: copyKernel });
  const groups = Math.ceil(w.floats / 4 / 256);
  const x = Math.min(groups, rt.device.limits.maxComputeWorkgroupsPerDimension);
  const copy = () => {
    const dst = rt.empty([1, 1, w.floats], 'f32');
    rt.dispatch({
      label: 'bench copy',
      pipeline,
      bindings: [src, dst],
      workgroups: [x, Math.ceil(groups / x)],
    });
    return dst;
  };
  const result: WorkloadResult = {
    name: w.name,
    kind: w.kind,
    shape,
    unit,
    workPerOp,
    verified: false,
    maxAbsDifference: null,
    plan: 'vec4 loads and stores, one per thread',
  };
  try {
    const out = copy();
    const copied = await rt.download(out);
    out.release();
    const target = new Float32Array(w.floats);
    target.set(data);
    let difference = 0;
    copied.forEach(
      (v, i) => (difference = Math.max(difference, Math.abs(v - target[i]!))),
    );
    result.maxAbsDifference = difference;
    if (difference !== 0) {
      result.problem = 'the copy differs from its source; not timed';
      return result;
    }
    result.verified = true;
    let method: TimingMethod = 'wall-clock';
    const timed = await sampleTimes(async (ops) => {
      const outs: ReturnType<typeof copy>[] = [];
      const timing = await rt.time(() => {
        for (let op = 0; op < ops; op++) outs.push(copy());
      });
      for (const t of outs) t.release();
      method = timing.method;
      return timing.ms;
    }, repeats);
    methods.add(method);
    result.nclab = {
      ...measurement(timed.samplesMs, timed.ops, unit, workPerOp),
      method,
    };
    const jsTimed = await sampleTimes((ops) => {
      const start = performance.now();
      for (let op = 0; op < ops; op++) target.set(data);
      return Promise.resolve(performance.now() - start);
    }, repeats);
    result.js = measurement(jsTimed.samplesMs, jsTimed.ops, unit, workPerOp);
    result.ratio = result.nclab.rate / result.js.rate;
    return result;
  } finally {
    src.release();
  }
}
