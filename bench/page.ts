// The benchmark page: times nclab next to a plain-JavaScript float32
// baseline of the same operation on the same inputs, in the same page and
// run, after checking both give the same numbers: the kernels here, the ufm
// training steps in bench/training.ts; the sweep rows (bench/sweep.ts) time
// batched sweeps against one configuration at a time instead. Exposes
// window.nclabBench to bench/run.ts; progress goes to the console as
// "[bench] …" lines.

import { adapterName } from '../src/gpu/device';
import { Runtime, type TimingMethod } from '../src/gpu/runtime';
import type { Tensor } from '../src/gpu/tensor';
import {
  classSums,
  planClassSums,
  uploadLabels,
} from '../src/kernels/classSums';
import { matmul, planMatmul } from '../src/kernels/matmul';
import { randomFloats, randomLabels } from '../src/util/random';
import { measurement, progress, sampleTimes } from './sampling';
import { measureKnn } from './graph';
import { measureCopy, measureMetrics } from './metrics';
import { measureSweep } from './sweep';
import { measureTuning } from './tuning';
import { rooflineWork } from './roofline';
import { measureUfm } from './training';
import { startView } from './view';
import {
  INTEGER_INPUT_MAX,
  classSumsJs,
  describeWorkload,
  matmulJs,
  matmulShapes,
  maxAbsDifference,
  requireExactSums,
  workloads,
  type BenchOptions,
  type BenchResult,
  type ClassSumsWorkload,
  type MatmulWorkload,
  type Workload,
  type WorkloadResult,
} from './workloads';

export interface NclabBenchApi {
  /** The names of the workloads a run covers. */
  workloads(quick: boolean): string[];
  /** Those that run only when asked for by name, each with why. */
  optIn(quick: boolean): Record<string, string>;
  /** Runs them (or `options.only`) on a fresh device. */
  run(options?: BenchOptions): Promise<BenchResult>;
}

declare global {
  interface Window {
    nclabBench?: NclabBenchApi;
  }
}

/** A workload ready to run: inputs uploaded, outputs allocated. */
interface Prepared {
  plan: string;
  /** Records nclab's operation once; returns the tensors it made. */
  gpu: () => Promise<Tensor[]>;
  /**
   * The same kernels on tiny inputs: the first call compiles what gpu()
   * needs, at a cost that is then mostly compilation.
   */
  tiny: () => Promise<Tensor[]>;
  /** Runs the baseline once; returns its outputs, in gpu()'s order. */
  js: () => ArrayLike<number>[];
  /** Releases the input tensors. */
  release: () => void;
}

function prepareMatmul(rt: Runtime, w: MatmulWorkload): Prepared {
  requireExactSums(w.name, INTEGER_INPUT_MAX ** 2, w.K);
  const shapes = matmulShapes(w);
  const aData = randomFloats(w.seed, w.M * w.K, 'integer');
  const bData = randomFloats(w.seed + 1_000, w.K * w.N, 'integer');
  const options = { transB: w.transB };
  const plan = planMatmul(shapes.a, shapes.b, options, rt.device.limits);
  const a = rt.upload(aData, shapes.a, 'f32');
  const b = rt.upload(bData, shapes.b, 'f32');
  const c = new Float32Array(w.M * w.N);

  // Same variant and, by forcing two splits, the same split-K pipelines.
  const tinyShapes = matmulShapes({ ...w, M: 8, N: 8, K: 64 });
  const tinyA = rt.upload(new Float32Array(8 * 64), tinyShapes.a, 'f32');
  const tinyB = rt.upload(new Float32Array(64 * 8), tinyShapes.b, 'f32');
  const tinyOptions = { ...options, splits: plan.splits > 1 ? 2 : 1 };
  return {
    plan:
      plan.splits > 1
        ? `split-K: ${plan.splits} splits of ${plan.chunk}`
        : 'one pass',
    gpu: async () => [await matmul(rt, a, b, options)],
    tiny: async () => [await matmul(rt, tinyA, tinyB, tinyOptions)],
    js: () => {
      matmulJs(aData, bData, c, w.M, w.N, w.K, w.transB);
      return [c];
    },
    release: () => {
      for (const tensor of [a, b, tinyA, tinyB]) tensor.release();
    },
  };
}

function prepareClassSums(rt: Runtime, w: ClassSumsWorkload): Prepared {
  requireExactSums(w.name, INTEGER_INPUT_MAX, w.N);
  const xData = randomFloats(w.seed, w.d * w.N, 'integer');
  const labelData = randomLabels(w.seed + 1_000, w.N, w.K);
  const plan = planClassSums([1, w.d, w.N], [1, 1, w.N], w.K, rt.device.limits);
  const x = rt.upload(xData, [1, w.d, w.N], 'f32');
  const labels = uploadLabels(rt, labelData, w.K);
  const sums = new Float32Array(w.d * w.K);
  const counts = new Uint32Array(w.K);

  const tinyN = 64;
  const tinyX = rt.upload(new Float32Array(4 * tinyN), [1, 4, tinyN], 'f32');
  const tinyLabels = rt.upload(new Uint32Array(tinyN), [1, 1, tinyN], 'u32');
  return {
    plan: `${plan.splits} column chunks of ${plan.chunk}`,
    gpu: async () => {
      const result = await classSums(rt, x, labels, w.K);
      return [result.sums, result.counts];
    },
    tiny: async () => {
      const result = await classSums(rt, tinyX, tinyLabels, w.K);
      return [result.sums, result.counts];
    },
    js: () => {
      classSumsJs(xData, labelData, w.d, w.N, w.K, sums, counts);
      return [sums, counts];
    },
    release: () => {
      for (const tensor of [x, labels, tinyX, tinyLabels]) tensor.release();
    },
  };
}

async function runAndRelease(op: () => Promise<Tensor[]>): Promise<void> {
  for (const tensor of await op()) tensor.release();
}

/** Wall time of one operation from recording to completion. */
async function wallMs(
  rt: Runtime,
  op: () => Promise<Tensor[]>,
): Promise<number> {
  const start = performance.now();
  await runAndRelease(op);
  await rt.finish();
  return performance.now() - start;
}

async function measureWorkload(
  rt: Runtime,
  w: Workload,
  repeats: number,
  methods: Set<TimingMethod>,
): Promise<WorkloadResult> {
  if (w.kind === 'ufm') return measureUfm(rt, w, repeats, methods);
  if (w.kind === 'metrics') return measureMetrics(rt, w, repeats, methods);
  if (w.kind === 'copy') return measureCopy(rt, w, repeats, methods);
  if (w.kind === 'knn') return measureKnn(rt, w, w.repeats, methods);
  if (w.kind === 'sweep') return measureSweep(rt, w, methods);
  if (w.kind === 'tuning') return measureTuning(rt, w, repeats, methods);
  const { shape, unit, workPerOp } = describeWorkload(w);
  const result: WorkloadResult = {
    name: w.name,
    kind: w.kind,
    shape,
    unit,
    workPerOp,
    verified: false,
    maxAbsDifference: null,
  };
  const prepared =
    w.kind === 'matmul' ? prepareMatmul(rt, w) : prepareClassSums(rt, w);
  result.plan = prepared.plan;
  try {
    progress(`${w.name}: compiling`);
    const pipelinesBefore = rt.kernels.size;
    const tinyColdMs = await wallMs(rt, prepared.tiny);
    const tinyWarmMs = await wallMs(rt, prepared.tiny);
    result.pipelinesCompiled = rt.kernels.size - pipelinesBefore;
    result.compileMs =
      result.pipelinesCompiled > 0 ? Math.max(0, tinyColdMs - tinyWarmMs) : 0;

    // The first full-size call warms up nclab, the first JS call the JIT.
    progress(`${w.name}: checking nclab against JS`);
    const outputs = await prepared.gpu();
    const gpuValues: ArrayLike<number>[] = [];
    for (const tensor of outputs) gpuValues.push(await rt.download(tensor));
    for (const tensor of outputs) tensor.release();
    const jsValues = prepared.js();
    const difference = Math.max(
      ...gpuValues.map((values, i) => maxAbsDifference(values, jsValues[i]!)),
    );
    result.maxAbsDifference = difference;
    // Integer inputs make both sides exact (see requireExactSums).
    if (difference !== 0) {
      result.problem =
        `nclab and JS differ by up to ${difference} where ` +
        `both should be exact; not timed`;
      return result;
    }
    result.verified = true;

    progress(`${w.name}: timing nclab`);
    let method: TimingMethod = 'wall-clock';
    const gpu = await sampleTimes(async (ops) => {
      const timing = await rt.time(async () => {
        for (let op = 0; op < ops; op++) await runAndRelease(prepared.gpu);
      });
      method = timing.method;
      methods.add(method);
      return timing.ms;
    }, repeats);
    result.nclab = {
      ...measurement(gpu.samplesMs, gpu.ops, unit, workPerOp),
      method,
    };

    progress(`${w.name}: timing JS`);
    const js = await sampleTimes((ops) => {
      const start = performance.now();
      for (let op = 0; op < ops; op++) prepared.js();
      return Promise.resolve(performance.now() - start);
    }, repeats);
    result.js = measurement(js.samplesMs, js.ops, unit, workPerOp);
    result.ratio = result.nclab.rate / result.js.rate;
    progress(
      `${w.name}: nclab ${result.nclab.medianMs.toFixed(3)} ms, ` +
        `JS ${result.js.medianMs.toFixed(3)} ms`,
    );
    return result;
  } finally {
    prepared.release();
  }
}

async function run(options: BenchOptions = {}): Promise<BenchResult> {
  const quick = options.quick ?? false;
  const repeats = options.repeats ?? (quick ? 3 : 5);
  const startedAt = new Date().toISOString();
  const start = performance.now();
  const rt = await Runtime.create();
  try {
    const summary = rt.gpu.adapterSummary;
    rt.device.pushErrorScope('validation');
    const methods = new Set<TimingMethod>();
    const results: WorkloadResult[] = [];
    const selected = workloads(quick).filter(
      (w) => !options.only || options.only.includes(w.name),
    );
    for (const w of selected) {
      const roofWork = rooflineWork(w) ?? undefined;
      if ('optIn' in w && w.optIn && !options.asked?.includes(w.name)) {
        results.push({
          name: w.name,
          kind: w.kind,
          ...describeWorkload(w),
          verified: false,
          maxAbsDifference: null,
          skipped: `${w.optIn}: run it with --only "${w.name}"`,
          roofWork,
        });
        continue;
      }
      try {
        const measured = await measureWorkload(rt, w, repeats, methods);
        results.push({ ...measured, roofWork });
      } catch (error) {
        const message =
          error instanceof Error
            ? `${error.name}: ${error.message}`
            : String(error);
        progress(`${w.name}: failed: ${message}`);
        results.push({
          name: w.name,
          kind: w.kind,
          ...describeWorkload(w),
          verified: false,
          maxAbsDifference: null,
          problem: message,
          roofWork,
        });
      }
    }

    await rt.finish();
    const problems: string[] = [];
    const scope = await rt.device.popErrorScope();
    if (scope) problems.push(`WebGPU validation error: ${scope.message}`);
    if (rt.pool.liveCount !== 0) {
      problems.push(`${rt.pool.liveCount} buffers were not released`);
    }
    const expected = rt.gpu.has('timestamp-query')
      ? 'gpu-timestamp'
      : 'wall-clock';
    return {
      adapter: { ...summary, name: adapterName(summary) },
      userAgent: navigator.userAgent,
      timingMethod: methods.size > 1 ? 'mixed' : ([...methods][0] ?? expected),
      quick,
      repeats,
      startedAt,
      totalMs: performance.now() - start,
      workloads: results,
      problems,
    };
  } finally {
    await rt.destroy();
  }
}

window.nclabBench = {
  workloads: (quick) => workloads(quick).map((w) => w.name),
  optIn: (quick) =>
    Object.fromEntries(
      workloads(quick).flatMap((w) =>
        'optIn' in w && w.optIn ? [[w.name, w.optIn]] : [],
      ),
    ),
  run,
};
startView(window.nclabBench);
