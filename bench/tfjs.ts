// TensorFlow.js as an alternative to nclab on the benchmark page: loading
// its WebGPU and WebGL backends (lazily, so nclab's own pages never fetch
// it), and the ufm training step written the way a TF.js user would write
// it: the same objective as src/reference/ufm.ts, differentiated by
// tf.variableGrads and applied by TF.js's SGD optimizers. The timing of the
// ufm rows is here too; the metrics are in bench/tfjsMetrics.ts.

import type * as Tfjs from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

import type { AdapterSummary } from '../src/gpu/device';
import { initialUfmState, type UfmState } from '../src/reference/ufm';
import { measurement, progress } from './sampling';
import { ufmErrors, type UfmBenchConfig } from './ufm';
import {
  maxAbsDifference,
  type AlternativeId,
  type AlternativeResult,
  type Measurement,
  type RateUnit,
} from './workloads';

export type Tf = typeof Tfjs;

/** The TF.js backends the benchmark compares with, in table order. */
export const TFJS_BACKENDS = [
  { id: 'tfjs-webgpu', backend: 'webgpu', label: 'TF.js WebGPU' },
  { id: 'tfjs-webgl', backend: 'webgl', label: 'TF.js WebGL' },
] as const satisfies ReadonlyArray<{
  id: AlternativeId;
  backend: string;
  label: string;
}>;

export type TfjsBackendSpec = (typeof TFJS_BACKENDS)[number];

let loading: Promise<Tf> | null = null;

/**
 * The full @tensorflow/tfjs bundle (TF.js core alone registers no
 * gradients) and the WebGPU backend, loaded once per page.
 */
export function loadTfjs(): Promise<Tf> {
  loading ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-webgpu');
    return tf;
  })();
  return loading;
}

/** A backend TF.js switched to, or why it cannot run here. */
export type TfjsBackend =
  | { ready: true; tf: Tf; device: string; sameAdapter: boolean | null }
  | { ready: false; unavailable: string };

function describeGlRenderer(tf: Tf): string {
  const backend = tf.backend() as Tfjs.MathBackendWebGL;
  const gl = backend.gpgpu.gl;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = info
    ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL))
    : String(gl.getParameter(gl.RENDERER));
  const version = tf.env().getNumber('WEBGL_VERSION');
  // Without float32 render targets TF.js WebGL computes in float16, which
  // cannot match float32 results; the check then says so.
  const floats = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')
    ? 'float32 textures'
    : 'float16 textures only';
  return `WebGL ${version}, ${renderer}, ${floats}`;
}

function describeWebGpu(
  tf: Tf,
  nclabAdapter: AdapterSummary,
): { device: string; sameAdapter: boolean | null } {
  const info = (tf.backend() as WebGPUBackend).device.adapterInfo as
    GPUAdapterInfo | undefined;
  if (!info) return { device: 'adapter not reported', sameAdapter: null };
  const parts = [info.vendor, info.architecture, info.description];
  const device = parts.filter((part) => part !== '').join(' ') || 'unnamed';
  const sameAdapter =
    info.vendor === nclabAdapter.vendor &&
    info.architecture === nclabAdapter.architecture &&
    info.description === nclabAdapter.description;
  return { device, sameAdapter };
}

/**
 * Switches TF.js to `spec`'s backend. TF.js reports a failed start only as
 * a console warning, so the warnings of setBackend are kept as the reason.
 */
export async function useTfjsBackend(
  spec: TfjsBackendSpec,
  nclabAdapter: AdapterSummary,
): Promise<TfjsBackend> {
  if (spec.backend === 'webgpu' && !('gpu' in navigator)) {
    return { ready: false, unavailable: 'this browser has no navigator.gpu' };
  }
  let tf: Tf;
  try {
    tf = await loadTfjs();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ready: false, unavailable: `TF.js did not load: ${message}` };
  }
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    // TF.js warns with the error's stack: its first line says what failed.
    warnings.push(args.map((arg) => String(arg).split('\n')[0]).join(' '));
    warn(...args);
  };
  let ready: boolean;
  try {
    ready = await tf.setBackend(spec.backend);
    await tf.ready();
  } catch (error) {
    warnings.push(error instanceof Error ? error.message : String(error));
    ready = false;
  } finally {
    console.warn = warn;
  }
  if (!ready || tf.getBackend() !== spec.backend) {
    const why = warnings.join('; ') || 'no reason given';
    const hint =
      spec.backend === 'webgpu'
        ? ' (TF.js 4.22 asks for a core, high-performance WebGPU adapter)'
        : '';
    return {
      ready: false,
      unavailable: `${spec.label} did not start: ${why}${hint}`,
    };
  }
  if (spec.backend === 'webgl') {
    return {
      ready: true,
      tf,
      device: describeGlRenderer(tf),
      sameAdapter: null,
    };
  }
  const described = describeWebGpu(tf, nclabAdapter);
  if (described.sameAdapter === false) {
    // TF.js requests its own (core) adapter; timing it on another adapter
    // than nclab's would not be a comparison (and repeats that adapter's
    // own table at length).
    return {
      ready: false,
      unavailable:
        `${spec.label} runs on ${described.device}, not on nclab's adapter ` +
        `here; not timed (see that adapter's table)`,
    };
  }
  return { ready: true, tf, ...described };
}

/** Row-major rows×cols → cols×rows. */
export function transpose(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  }
  return out;
}

export interface UfmParameters {
  /** K×d */
  W: Float32Array;
  /** d×N, nclab's layout */
  H: Float32Array;
  /** K */
  b: Float32Array;
}

export interface TfjsUfm {
  /** Queues one optimizer step; keeps no tensor. */
  step(): void;
  /** Waits for every queued step (reads W back, which the last one wrote). */
  sync(): Promise<void>;
  /** The parameters in nclab's layouts, after every queued step. */
  read(): Promise<UfmParameters>;
  dispose(): void;
}

let nextModel = 0;

/**
 * The ufm of src/reference/ufm.ts in TF.js, features stored [N, d] (one
 * example per row, TF.js's convention): the objective
 *   (1/N) Σ CE(W h_n + b, y_n) + λ_W/2 ‖W‖² + λ_H/2 ‖H‖² + λ_b/2 ‖b‖²
 * by tf.losses.softmaxCrossEntropy (the mean over examples) plus the
 * penalties, its gradients by tf.variableGrads, and plain gradient descent
 * by tf.train.sgd. TF.js optimizers have one step size for all variables,
 * so W and b take one at lr and H another at lr_H (N·lr by default), as
 * nclab does. Starts from the seeded state of the float64 reference.
 */
export function createTfjsUfm(tf: Tf, config: UfmBenchConfig): TfjsUfm {
  if (
    config.optimizer.kind !== 'gd' ||
    config.schedule.kind !== 'constant' ||
    config.loss.kind !== 'ce' ||
    config.positive
  ) {
    throw new Error(
      'the TF.js ufm implements cross-entropy, plain gradient descent, a ' +
        'constant schedule and free (not positive) features only',
    );
  }
  const initial = initialUfmState({ ...config, steps: 0 });
  const { K, d } = config;
  const N = initial.labels.length;
  const name = `nclab-bench-ufm-${nextModel++}`;
  // tf.variable keeps its own reference to the initial values: the tidy
  // disposes the tensors they were made from.
  const { W, H, b, targets } = tf.tidy(() => ({
    W: tf.variable(
      tf.tensor2d(Float32Array.from(initial.W), [K, d]),
      true,
      `${name}-W`,
    ),
    H: tf.variable(
      tf.tensor2d(transpose(initial.H, d, N), [N, d]),
      true,
      `${name}-H`,
    ),
    b: tf.variable(
      tf.tensor1d(Float32Array.from(initial.b)),
      true,
      `${name}-b`,
    ),
    targets: tf
      .oneHot(tf.tensor1d(Int32Array.from(initial.labels), 'int32'), K)
      .toFloat(),
  }));
  const sgdWb = tf.train.sgd(config.lr);
  const sgdH = tf.train.sgd(config.lrH ?? N * config.lr);
  const penalties: Array<[number, Tfjs.Variable]> = [
    [config.lambdaW, W],
    [config.lambdaH, H],
    [config.lambdaB, b],
  ];

  const objective = (): Tfjs.Scalar => {
    const logits = tf.add(tf.matMul(H, W, false, true), b);
    let value = tf.losses.softmaxCrossEntropy(targets, logits);
    for (const [lambda, variable] of penalties) {
      if (lambda === 0) continue;
      value = tf.add(value, tf.mul(lambda / 2, tf.sum(tf.square(variable))));
    }
    return value as Tfjs.Scalar;
  };

  return {
    step: () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(objective, [W, H, b]);
        sgdWb.applyGradients({
          [W.name]: grads[W.name]!,
          [b.name]: grads[b.name]!,
        });
        sgdH.applyGradients({ [H.name]: grads[H.name]! });
      }),
    sync: async () => {
      await W.data();
    },
    read: async () => ({
      W: Float32Array.from(await W.data()),
      H: transpose(await H.data(), N, d),
      b: Float32Array.from(await b.data()),
    }),
    dispose: () => {
      for (const tensor of [W, H, b, targets]) tensor.dispose();
      sgdWb.dispose();
      sgdH.dispose();
    },
  };
}

/** Wall time of `steps` queued steps and the readback that waits for them. */
async function timeSteps(model: TfjsUfm, steps: number): Promise<number> {
  const start = performance.now();
  for (let step = 0; step < steps; step++) model.step();
  await model.sync();
  return performance.now() - start;
}

/** Largest |x − reference| over the largest |reference|, worst block. */
export function tfjsUfmError(
  state: UfmParameters,
  reference: UfmState,
): number {
  const errors = ufmErrors(state, reference);
  return Math.max(errors.W, errors.H, errors.b);
}

export interface UfmCheck {
  /** One configuration, as nclab trained it. */
  config: UfmBenchConfig;
  /** Steps both were checked after. */
  steps: number;
  /** The float64 reference after those steps. */
  reference: UfmState;
  /** nclab's parameters after those steps. */
  nclab: UfmParameters;
  /** Largest relative error allowed (the bound nclab and JS are held to). */
  tolerance: number;
}

export interface UfmTiming {
  unit: RateUnit;
  workPerOp: number;
  repeats: number;
  /** Shortest span of steps one sample covers. */
  targetSpanMs: number;
  /** nclab's rate, for the ratio. */
  nclab: Measurement;
}

/** Most steps one sample queues before it waits. */
const MAX_STEPS_PER_SAMPLE = 256;

/** An operation this slow (ms) gets at most SLOW_REPEATS samples. */
const SLOW_OPERATION_MS = 1_000;
const SLOW_REPEATS = 3;

/**
 * Timed samples for an alternative whose warm operation took `warmMs`:
 * the run's repeats, but at most 3 when one operation takes over a second
 * (TF.js's WebGPU backend on a CPU emulation takes several), which keeps a
 * full run within its time budget.
 */
export function alternativeRepeats(repeats: number, warmMs: number): number {
  return warmMs >= SLOW_OPERATION_MS
    ? Math.min(repeats, SLOW_REPEATS)
    : repeats;
}

/**
 * One TF.js backend on a ufm row: the first step (compiling its shaders)
 * minus the second is the compile time; after `check.steps` steps the
 * parameters must match the float64 reference as closely as nclab's do,
 * else the backend is reported as disagreeing and not timed. A sample
 * queues m steps and waits for them with one readback of W (a few hundred
 * floats), m chosen so a sample spans targetSpanMs: the readback is then a
 * small part of it.
 */
export async function measureTfjsUfmBackend(
  rowName: string,
  spec: TfjsBackendSpec,
  backend: Extract<TfjsBackend, { ready: true }>,
  check: UfmCheck,
  timing: UfmTiming,
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
      'tf.variableGrads of softmaxCrossEntropy + λ/2‖·‖² penalties, two ' +
      'tf.train.sgd (lr for W and b, N·lr for H), features [N, d]; m steps ' +
      'queued, then one readback of W, divided by m',
  };
  const tensorsBefore = tf.memory().numTensors;
  let model: TfjsUfm | null = null;
  try {
    progress(`${rowName}: ${spec.label}: compiling, checking against float64`);
    model = createTfjsUfm(tf, check.config);
    const coldMs = await timeSteps(model, 1);
    const warmMs = await timeSteps(model, 1);
    result.compileMs = Math.max(0, coldMs - warmMs);
    for (let step = 2; step < check.steps; step++) await timeSteps(model, 1);
    const state = await model.read();
    result.referenceError = tfjsUfmError(state, check.reference);
    result.maxAbsDifference = Math.max(
      maxAbsDifference(state.W, check.nclab.W),
      maxAbsDifference(state.H, check.nclab.H),
      maxAbsDifference(state.b, check.nclab.b),
    );
    if (!(result.referenceError <= check.tolerance)) {
      result.problem =
        `after ${check.steps} steps ${spec.label} is ` +
        `${result.referenceError.toExponential(2)} (relative to the largest ` +
        `entry) from the float64 reference, over ${check.tolerance}; not timed`;
      return result;
    }
    result.verified = true;

    progress(`${rowName}: timing ${spec.label}`);
    const steps = Math.min(
      MAX_STEPS_PER_SAMPLE,
      Math.max(1, Math.ceil(timing.targetSpanMs / Math.max(warmMs, 1e-3))),
    );
    const repeats = alternativeRepeats(timing.repeats, warmMs);
    const samplesMs: number[] = [];
    while (samplesMs.length < repeats) {
      samplesMs.push((await timeSteps(model, steps)) / steps);
    }
    result.measurement = measurement(
      samplesMs,
      steps,
      timing.unit,
      timing.workPerOp,
    );
    result.ratio = timing.nclab.rate / result.measurement.rate;
    progress(
      `${rowName}: ${spec.label} ${result.measurement.medianMs.toFixed(3)} ` +
        `ms/step`,
    );
    return result;
  } catch (error) {
    result.verified = false;
    result.problem = error instanceof Error ? error.message : String(error);
    return result;
  } finally {
    model?.dispose();
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked !== 0 && !result.problem) {
      result.verified = false;
      result.problem = `${spec.label} left ${leaked} tensors undisposed`;
    }
  }
}

/** Every TF.js backend on one ufm row, in TFJS_BACKENDS order. */
export async function measureTfjsUfm(
  rowName: string,
  nclabAdapter: AdapterSummary,
  { check, timing }: { check: UfmCheck; timing: UfmTiming },
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
      await measureTfjsUfmBackend(rowName, spec, backend, check, timing),
    );
  }
  return results;
}

export function unavailableResult(
  spec: TfjsBackendSpec,
  unavailable: string,
): AlternativeResult {
  return {
    id: spec.id,
    label: spec.label,
    unavailable,
    verified: false,
    maxAbsDifference: null,
  };
}
