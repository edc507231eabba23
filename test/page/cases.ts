// Test cases that run inside the browser page, each on its own device inside
// a validation error scope, releasing every tensor it made (checked). They
// generate their inputs from seeds, so the Node side can rebuild the same
// inputs for the float64 reference; results come back as base64.

import { acquireGpu, type AdapterSummary } from '../../src/gpu/device';
import type { KernelMessage } from '../../src/gpu/errors';
import type { PipelineSpec } from '../../src/gpu/kernels';
import { Runtime } from '../../src/gpu/runtime';
import { classSums, uploadLabels } from '../../src/kernels/classSums';
import { DEFAULT_TILE, matmul, planMatmul } from '../../src/kernels/matmul';
import { toBase64 } from '../../src/util/base64';
import type { EngineTuning } from '../../src/gpu/tuning';
import { randomFloats } from '../../src/util/random';
import { lossForward, lossTotals } from '../../src/kernels/losses';
import {
  mdGradients,
  trainMdBatch,
  type MdTrainConfig,
} from '../../src/train/md';
import { trainUfmBatch, type UfmTrainConfig } from '../../src/train/ufm';
import { gaussianMixture } from '../../src/data/mixtures';
import { knnLists, symmetricGraph } from '../../src/kernels/knn';
import { principalComponents } from '../../src/preprocess/pca';
import { trainGraphBatch, type GraphTrainConfig } from '../../src/train/graph';
import { collapseMetrics } from '../../src/metrics/collapse';
import { f32FromBase64 } from '../../src/util/base64';
import {
  classSumsInputs,
  lossBatchInputs,
  matmulInputs,
  metricsInputs,
  type ClassSumsCase,
  type LossCase,
  type MatmulCase,
  type MetricsCase,
} from './inputs';

interface ErrorInfo {
  name: string;
  message: string;
}

function errorInfo(error: unknown): ErrorInfo {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'unknown', message: String(error) };
}

/** Records, by name, the error each attempted call raised (or null). */
function errorCollector() {
  const errors: Record<string, ErrorInfo | null> = {};
  const attempt = async (name: string, body: () => unknown) => {
    try {
      await body();
      errors[name] = null;
    } catch (error) {
      errors[name] = errorInfo(error);
    }
  };
  return { errors, attempt };
}

/**
 * Runs `body` on a fresh runtime inside a validation error scope, then
 * checks the scope is clean and no tensor was leaked, and destroys it all.
 */
async function withRuntime<T>(body: (rt: Runtime) => Promise<T>): Promise<T> {
  // Poisoned empties: an output element a kernel fails to write reads NaN.
  const rt = await Runtime.create({ poisonEmpty: true });
  rt.device.pushErrorScope('validation');
  try {
    const result = await body(rt);
    await rt.finish();
    const scope = await rt.device.popErrorScope();
    if (scope) throw new Error(`validation error: ${scope.message}`);
    if (rt.pool.liveCount !== 0) {
      throw new Error(`${rt.pool.liveCount} tensors were not released`);
    }
    return result;
  } finally {
    await rt.destroy();
  }
}

export const cases = {
  async matmul(c: MatmulCase) {
    return withRuntime(async (rt) => {
      const { a: aData, b: bData } = matmulInputs(c);
      const a = rt.upload(aData, c.aShape, 'f32');
      const b = rt.upload(bData, c.bShape, 'f32');
      const options = {
        transA: c.transA,
        transB: c.transB,
        alpha: c.alpha,
        splits: c.splits,
      };
      const plan = planMatmul(c.aShape, c.bShape, options, rt.device.limits);
      const outputs: string[] = [];
      for (let run = 0; run < (c.runs ?? 1); run++) {
        const out = await matmul(rt, a, b, options);
        outputs.push(toBase64(await rt.download(out)));
        out.release();
      }
      a.release();
      b.release();
      return { outputs, splits: plan.splits, chunk: plan.chunk };
    });
  },

  async classSums(c: ClassSumsCase) {
    return withRuntime(async (rt) => {
      const { x: xData, labels: labelData } = classSumsInputs(c);
      const [batch, , N] = c.xShape;
      const x = rt.upload(xData, c.xShape, 'f32');
      const labels = rt.upload(
        labelData,
        [c.labelsPerBatch ? batch : 1, 1, N],
        'u32',
      );
      const sums: string[] = [];
      const counts: string[] = [];
      for (let run = 0; run < (c.runs ?? 1); run++) {
        const result = await classSums(rt, x, labels, c.K, c.tuning);
        sums.push(toBase64(await rt.download(result.sums)));
        counts.push(toBase64(await rt.download(result.counts)));
        result.sums.release();
        result.counts.release();
      }
      x.release();
      labels.release();
      return { sums, counts };
    });
  },

  /** Asks for extra limits; returns the error the engine raised, if any. */
  async acquire(args: { requiredLimits: Record<string, number> }) {
    try {
      const gpu = await acquireGpu({ requiredLimits: args.requiredLimits });
      gpu.destroy();
      return { error: null };
    } catch (error) {
      return { error: errorInfo(error) };
    }
  },

  /** Compiles a kernel template; returns the compile error, if any. */
  async compile(args: Omit<PipelineSpec, 'kernel'> & { template: string }) {
    return withRuntime(async (rt) => {
      const spec = {
        ...args,
        kernel: { name: 'under_test', template: args.template },
      };
      try {
        await rt.pipeline(spec);
        return {
          error: null,
          messages: [] as KernelMessage[],
          cached: rt.kernels.size,
        };
      } catch (error) {
        const messages =
          (error as { messages?: KernelMessage[] }).messages ?? [];
        return { error: errorInfo(error), messages, cached: rt.kernels.size };
      }
    });
  },

  /** Pipelines are cached by (kernel, entry point, variant, constants). */
  async pipelineCache() {
    return withRuntime(async (rt) => {
      const template =
        'const N: u32 = ${N}u;\n' +
        '@group(0) @binding(0) var<storage, read_write> out: array<u32>;\n' +
        '@compute @workgroup_size(1) fn main() {\n' +
        '#if ${TWICE}\n  out[0] = 2u * N;\n#else\n  out[0] = N;\n#endif\n}\n';
      const kernel = { name: 'cache_probe', template };
      const compile = (TWICE: boolean, N: number) =>
        rt.pipeline({ kernel, variant: { TWICE }, constants: { N } });
      const first = await compile(false, 3);
      const again = await compile(false, 3);
      await compile(true, 3);
      await compile(false, 4);
      const twice = await compile(true, 5);
      const out = rt.zeros([1, 1, 1], 'u32');
      rt.dispatch({
        label: 'cache probe',
        pipeline: twice,
        bindings: [out],
        workgroups: [1],
      });
      const value = (await rt.download(out))[0];
      out.release();
      return { sameObject: first === again, cached: rt.kernels.size, value };
    });
  },

  /** Buffers come back from the pool after a submit, not before. */
  async bufferPool() {
    return withRuntime(async (rt) => {
      const created0 = rt.pool.createdCount;
      const a = rt.zeros([1, 100, 100], 'f32');
      a.release();
      // Not yet submitted: a second tensor must not reuse a's buffer.
      const b = rt.zeros([1, 100, 100], 'f32');
      const beforeSubmit = b.buffer === a.buffer;
      rt.flush();
      b.release();
      rt.flush();
      // Both are free now; same size class, so this one is reused.
      const c = rt.zeros([1, 90, 101], 'f32');
      const reused = c.buffer === a.buffer || c.buffer === b.buffer;
      c.release();
      await rt.finish();
      return {
        beforeSubmit,
        reused,
        created: rt.pool.createdCount - created0,
        live: rt.pool.liveCount,
      };
    });
  },

  /** A dispatch's duration, measured the best way the device allows. */
  async timing() {
    return withRuntime(async (rt) => {
      const a = rt.upload(randomFloats(1, 128 * 128), [1, 128, 128], 'f32');
      (await matmul(rt, a, a)).release(); // compile first
      let out = a;
      const timing = await rt.time(async () => {
        out = await matmul(rt, a, a);
      });
      out.release();
      a.release();
      return { ...timing, hasTimestamps: rt.gpu.has('timestamp-query') };
    });
  },

  /** Device loss becomes one fatal error, with context, raised on next use. */
  async deviceLost() {
    const fatal: string[] = [];
    const rt = await Runtime.create({ onFatal: (e) => fatal.push(e.message) });
    const x = rt.zeros([1, 4, 4], 'f32');
    await rt.download(x);
    rt.device.destroy(); // behind the runtime's back: a loss, not a shutdown
    await rt.device.lost;
    let raised: ErrorInfo | null = null;
    try {
      rt.zeros([1, 4, 4], 'f32');
    } catch (error) {
      raised = errorInfo(error);
    }
    rt.pool.destroyAll();
    return { raised, fatal };
  },

  /** An uncaptured validation error is routed to the same fatal error. */
  async uncapturedError() {
    const fatal: string[] = [];
    const rt = await Runtime.create({ onFatal: (e) => fatal.push(e.message) });
    // MAP_READ may only be combined with COPY_DST: invalid, and no scope.
    rt.device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE,
    });
    await rt.device.queue.onSubmittedWorkDone();
    await new Promise((resolve) => setTimeout(resolve, 50));
    let raised: ErrorInfo | null = null;
    try {
      rt.flush();
      rt.zeros([1, 1, 1], 'f32');
    } catch (error) {
      raised = errorInfo(error);
    }
    await rt.destroy();
    return { raised, fatal };
  },

  /** Argument errors raised by the kernel wrappers before any GPU work. */
  async invalidArguments() {
    return withRuntime(async (rt) => {
      const { errors, attempt } = errorCollector();
      const a = rt.zeros([1, 3, 4], 'f32');
      const labels = rt.zeros([1, 1, 4], 'u32');
      await attempt('innerMismatch', () => matmul(rt, a, a));
      await attempt('dtype', () => matmul(rt, labels, a, { transA: true }));
      await attempt('labelRange', () => uploadLabels(rt, [0, 1, 5], 3));
      const shortLabels = rt.zeros([1, 1, 3], 'u32');
      await attempt('labelsShape', () => classSums(rt, a, shortLabels, 2));
      shortLabels.release();
      await attempt('tooLarge', () => rt.empty([1, 65536, 65536], 'f32'));
      a.release();
      labels.release();
      return { errors };
    });
  },
  async losses(c: LossCase) {
    return withRuntime(async (rt) => {
      const B = c.configs.length;
      const data = lossBatchInputs(c);
      const inputs = {
        W: rt.upload(data.W, [B, c.KMAX, c.DMAX], 'f32'),
        H: rt.upload(data.H, [B, c.DMAX, c.NMAX], 'f32'),
        bias: rt.upload(data.bias, [B, 1, c.KMAX], 'f32'),
        labels: rt.upload(data.labels, [B, 1, c.NMAX], 'u32'),
        weights: rt.upload(data.weights, [B, 1, c.NMAX], 'f32'),
      };
      const { dZ, stats } = await lossForward(rt, inputs, c.configs);
      const totals = await lossTotals(rt, stats);
      const result = {
        dZ: toBase64(await rt.download(dZ)),
        stats: toBase64(await rt.download(stats)),
        totals: toBase64(await rt.download(totals)),
      };
      for (const t of [...Object.values(inputs), dZ, stats, totals])
        t.release();
      return result;
    });
  },

  async trainUfm(args: { configs: UfmTrainConfig[] }) {
    return withRuntime(async (rt) => {
      const results = await trainUfmBatch(rt, args.configs);
      return results.map((r) => ({
        W: toBase64(r.W),
        H: toBase64(r.H),
        b: toBase64(r.b),
        trajectory: r.trajectory,
        divergedAtStep: r.divergedAtStep,
        deadClasses: r.deadClasses,
      }));
    });
  },

  async trainMd(args: { configs: MdTrainConfig[] }) {
    return withRuntime(async (rt) => {
      const results = await trainMdBatch(rt, args.configs);
      return results.map((r) => ({
        W: toBase64(r.W),
        b: toBase64(r.b),
        centres: toBase64(r.centres),
        groups: toBase64(r.groups),
        trajectory: r.trajectory,
        divergedAtStep: r.divergedAtStep,
        measures: r.measures,
        testAccuracy: r.testAccuracy,
        testAccuracyMethod: r.testAccuracyMethod,
      }));
    });
  },

  async mdGradients(args: {
    configs: MdTrainConfig[];
    params: Array<Record<'W' | 'b' | 'centres' | 'groups', number[]>>;
  }) {
    return withRuntime(async (rt) => {
      const params = args.params.map((p) => ({
        W: Float64Array.from(p.W),
        b: Float64Array.from(p.b),
        centres: Float64Array.from(p.centres),
        groups: Float64Array.from(p.groups),
      }));
      const grads = await mdGradients(rt, args.configs, params);
      return grads.map((g) => ({
        W: toBase64(g.W),
        b: toBase64(g.b),
        centres: toBase64(g.centres),
        groups: toBase64(g.groups),
      }));
    });
  },

  /**
   * Collapse metrics of a batch of feature sets (padded to the largest d
   * and N; padding columns carry label K), `runs` times.
   */
  async collapseMetrics(args: {
    cases: MetricsCase[];
    fullCovariance?: boolean;
    runs?: number;
  }) {
    return withRuntime(async (rt) => {
      const sets = args.cases.map(metricsInputs);
      const B = sets.length;
      const K = Math.max(...sets.map((s) => s.K));
      const d = Math.max(...sets.map((s) => s.d));
      const N = Math.max(...sets.map((s) => s.N));
      const H = new Float32Array(B * d * N);
      const labels = new Uint32Array(B * N).fill(K);
      const truth = new Uint32Array(B * N).fill(K);
      const W = new Float32Array(B * K * d);
      const bias = new Float32Array(B * K);
      sets.forEach((s, b) => {
        for (let i = 0; i < s.d; i++)
          H.set(s.H.subarray(i * s.N, (i + 1) * s.N), (b * d + i) * N);
        labels.set(s.labels, b * N);
        truth.set(s.trueLabels ?? s.labels, b * N);
        for (let k = 0; k < s.K; k++) {
          if (s.W) W.set(s.W.subarray(k * s.d, (k + 1) * s.d), (b * K + k) * d);
          if (s.b) bias[b * K + k] = s.b[k]!;
        }
      });
      const withTruth = sets.some((s) => s.trueLabels);
      const withW = sets.some((s) => s.W);
      const tensors = {
        H: rt.upload(H, [B, d, N], 'f32'),
        labels: rt.upload(labels, [B, 1, N], 'u32'),
        trueLabels: withTruth ? rt.upload(truth, [B, 1, N], 'u32') : undefined,
        W: withW ? rt.upload(W, [B, K, d], 'f32') : undefined,
        bias: withW ? rt.upload(bias, [B, K, 1], 'f32') : undefined,
      };
      const results = [];
      for (let r = 0; r < (args.runs ?? 1); r++) {
        results.push(
          await collapseMetrics(rt, {
            ...tensors,
            K,
            fullCovariance: args.fullCovariance,
            sizes: sets.map((s) => ({ K: s.K, d: s.d })),
          }),
        );
      }
      for (const t of Object.values(tensors)) t?.release();
      // JSON cannot carry NaN: mark them.
      return JSON.parse(
        JSON.stringify(results, (_, v: unknown) =>
          typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
        ),
      ) as unknown;
    });
  },

  /** k-NN lists of N points (rows of p values, base64 float32). */
  async knn(args: {
    points: string;
    N: number;
    p: number;
    k: number;
    tile?: number;
  }) {
    return withRuntime(async (rt) => {
      const lists = await knnLists(
        rt,
        f32FromBase64(args.points),
        args.N,
        args.p,
        args.k,
        args.tile,
      );
      return { index: toBase64(lists.index), dist: toBase64(lists.dist) };
    });
  },

  /**
   * The graph model on points (rows, base64 float32): k-NN graph on the GPU,
   * then a batch of configurations trained on it.
   */
  async trainGraph(args: {
    points: string;
    N: number;
    p: number;
    k: number;
    trainCount: number;
    labels: number[];
    trueLabels: number[];
    configs: Array<Omit<GraphTrainConfig, 'labels'> & { labels?: number[] }>;
  }) {
    return withRuntime(async (rt) => {
      const lists = await knnLists(
        rt,
        f32FromBase64(args.points),
        args.N,
        args.p,
        args.k,
      );
      const graph = symmetricGraph(lists, args.N);
      const results = await trainGraphBatch(
        rt,
        {
          N: args.N,
          trainCount: args.trainCount,
          labels: Uint32Array.from(args.labels),
          trueLabels: Uint32Array.from(args.trueLabels),
          graph,
        },
        args.configs.map((c) => ({
          ...c,
          labels: c.labels ? Uint32Array.from(c.labels) : undefined,
        })),
      );
      const plain = JSON.parse(
        JSON.stringify(
          results.map((r) => ({
            ...r,
            W: toBase64(r.W),
            H: toBase64(r.H),
            b: toBase64(r.b),
          })),
          (_, v: unknown) =>
            typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
        ),
      ) as unknown;
      return {
        graph: { index: toBase64(graph.index), degree: graph.degree },
        results: plain,
      };
    });
  },

  /** PCA of a seeded Gaussian mixture (K = 4, rows of D). */
  async pca(args: { perClass: number; D: number; p: number; seed: number }) {
    return withRuntime(async (rt) => {
      const mixture = gaussianMixture({
        K: 4,
        dim: args.D,
        perClass: args.perClass,
        separation: 6,
        seed: args.seed,
      });
      const N = 4 * args.perClass;
      const result = await principalComponents(
        rt,
        mixture.points,
        N,
        args.D,
        args.p,
      );
      return {
        components: Array.from(result.components),
        variances: result.variances,
        projected: toBase64(result.projected),
      };
    });
  },

  /** Misuse of the runtime: errors with names, and nothing leaked. */
  async misuse() {
    const { errors, attempt } = errorCollector();
    const other = await Runtime.create();
    const foreign = other.zeros([1, 2, 2], 'f32');
    const leaks = await withRuntime(async (rt) => {
      const a = rt.zeros([1, 2, 2], 'f32');
      const released = rt.zeros([1, 2, 2], 'f32');
      released.release();
      await attempt('released', () => matmul(rt, released, a));
      await attempt('foreign', () => matmul(rt, a, foreign));
      await attempt('downloadReleased', () => rt.download(released));
      await attempt('badDtype', () => rt.empty([1, 1, 1], 'f64' as 'f32'));
      await attempt('wrongArray', () =>
        rt.upload(
          new Float32Array(4) as unknown as Uint32Array,
          [1, 2, 2],
          'u32',
        ),
      );
      await attempt('nested', () =>
        rt.time(async () => {
          await rt.time(() => undefined);
        }),
      );
      await attempt('throwingRecord', () =>
        rt.time(() => {
          throw new Error('boom');
        }),
      );
      a.release();
      return rt.pool.liveCount;
    });
    foreign.release();
    await other.destroy();
    await attempt('afterDestroy', () =>
      other.upload(new Float32Array(1), [1, 1, 1], 'f32'),
    );
    await attempt('destroyTwice', () => other.destroy());
    return { errors, leaks };
  },

  /** A matmul and a class sum on a runtime given `tuning`. */
  async tune(args: { tuning: EngineTuning }) {
    const { tuning } = args;
    const { errors, attempt } = errorCollector();
    let products: string | null = null;
    let sums: string | null = null;
    await attempt('tuned', async () => {
      const rt = await Runtime.create({ tuning, poisonEmpty: true });
      try {
        const a = rt.upload(
          randomFloats(11, 70 * 50, 'integer'),
          [1, 70, 50],
          'f32',
        );
        const b = rt.upload(
          randomFloats(12, 50 * 90, 'integer'),
          [1, 50, 90],
          'f32',
        );
        const c = await matmul(rt, a, b);
        products = toBase64(await rt.download(c));
        const labels = uploadLabels(
          rt,
          Array.from({ length: 90 }, (_, i) => (i * 7) % 4),
          4,
        );
        const s = await classSums(rt, c, labels, 4);
        sums = toBase64(await rt.download(s.sums));
        for (const t of [a, b, c, labels, s.sums, s.counts]) t.release();
      } finally {
        await rt.destroy();
      }
    });
    return { errors, products, sums };
  },

  /**
   * How the kernels meet the device's workgroup limit: the tile planned by
   * default for a 256×256 product, and the errors of a 256-thread matmul
   * tile and class-sum workgroup asked for explicitly.
   */
  async workgroupFit() {
    return withRuntime(async (rt) => {
      const limits = rt.device.limits;
      const plan = planMatmul(
        [1, 256, 256],
        [1, 256, 256],
        {},
        limits,
        rt.tuning.matmul,
      );
      const { errors, attempt } = errorCollector();
      const a = rt.upload(randomFloats(21, 70 * 50), [1, 70, 50], 'f32');
      const b = rt.upload(randomFloats(22, 50 * 90), [1, 50, 90], 'f32');
      const labels = uploadLabels(rt, new Array<number>(50).fill(1), 4);
      try {
        await attempt('wideTile', async () => {
          (await matmul(rt, a, b, { tile: DEFAULT_TILE })).release();
        });
        await attempt('wideClassSums', async () => {
          const tuning = { WG: 256, ROWS: 1, KB: 8, chunk: 16384 };
          const s = await classSums(rt, a, labels, 4, tuning);
          s.sums.release();
          s.counts.release();
        });
      } finally {
        for (const t of [a, b, labels]) t.release();
      }
      return {
        maxInvocations: limits.maxComputeInvocationsPerWorkgroup,
        defaultTile: plan.tile,
        errors,
      };
    });
  },
};

export type CaseName = keyof typeof cases;
export type CaseArgs<N extends CaseName> = Parameters<(typeof cases)[N]>[0];
export type CaseResult<N extends CaseName> = Awaited<
  ReturnType<(typeof cases)[N]>
>;

/** The adapter this page's runtimes get (its URL may ask for compat). */
export async function adapter(): Promise<AdapterSummary> {
  const gpu = await acquireGpu();
  const summary = gpu.adapterSummary;
  gpu.destroy();
  return summary;
}

export { errorInfo };
