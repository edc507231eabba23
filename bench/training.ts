// The ufm training-step rows of the benchmark page: nclab's trainUfmBatch
// and the float32 JS step, both checked against the float64 reference
// trainer before anything is timed, then timed per step of the batch.

import type { Runtime, TimingMethod } from '../src/gpu/runtime';
import { trainUfmReference, type UfmState } from '../src/reference/ufm';
import { logSpacedSteps } from '../src/train/batch';
import { trainUfmBatch, type UfmResult } from '../src/train/ufm';
import { measurement, progress, sampleTimes } from './sampling';
import {
  UFM_CHECK_STEPS,
  UFM_TOLERANCE,
  initialUfmStateJs,
  ufmErrors,
  ufmStepJs,
  type UfmBenchConfig,
  type UfmErrors,
  type UfmStateJs,
} from './ufm';
import {
  describeWorkload,
  maxAbsDifference,
  type UfmWorkload,
  type WorkloadResult,
} from './workloads';

/** Shortest runs 5 and 8 steps, longest 257 and 512 (ufmRunLengths). */
const MIN_BRACKET = 2;
const MAX_BRACKET = 8;
/** Untimed JS steps first: the JIT keeps optimising the first few. */
const JS_WARMUP_STEPS = 3;

interface RunLengths {
  short: number;
  long: number;
  extraSteps: number;
}

/**
 * Run lengths 2^m + 1 and 2^(m+1). trainUfmBatch reads the loss back at
 * steps 0, 1, 2, 4, …, 2^m and at its last step in both, so the runs differ
 * by 2^m − 1 steps and nothing else: the initial state, uploads, readbacks
 * (each a full GPU drain) and final downloads cancel in the difference of
 * their wall times, which leaves the steps alone.
 */
function ufmRunLengths(bracket: number): RunLengths {
  const short = 2 ** bracket + 1;
  const long = 2 ** (bracket + 1);
  if (logSpacedSteps(short).length !== logSpacedSteps(long).length) {
    throw new Error(
      `runs of ${short} and ${long} steps read the loss back a different ` +
        `number of times; the difference of their times would not cancel`,
    );
  }
  return { short, long, extraSteps: long - short };
}

/** Wall time of one trainUfmBatch call, from the configs to the results. */
async function trainingRun(
  rt: Runtime,
  configs: readonly UfmBenchConfig[],
  steps: number,
): Promise<{ ms: number; results: UfmResult[] }> {
  await rt.finish();
  const start = performance.now();
  // Without the streamed collapse metrics: the rows time training steps
  // (the metrics have their own row).
  const results = await trainUfmBatch(
    rt,
    configs.map((c) => ({ ...c, steps })),
    undefined,
    { metrics: false },
  );
  await rt.finish();
  const ms = performance.now() - start;
  results.forEach((r, index) => {
    if (r.divergedAtStep !== null) {
      throw new Error(
        `configuration ${index} (seed ${configs[index]!.seed}) diverged at ` +
          `step ${r.divergedAtStep} of ${steps}`,
      );
    }
  });
  return { ms, results };
}

function worstError(errors: UfmErrors): number {
  return Math.max(errors.W, errors.H, errors.b);
}

/**
 * Trains every configuration UFM_CHECK_STEPS steps in float32 JS and
 * compares it and nclab's `gpu` results with the float64 reference.
 * Returns the JS states, which the JS timing goes on from, and the
 * references.
 */
function checkAgainstReference(
  configs: readonly UfmBenchConfig[],
  gpu: readonly UfmResult[],
): {
  errors: { nclab: number; js: number };
  difference: number;
  states: UfmStateJs[];
  references: UfmState[];
} {
  const states = configs.map(initialUfmStateJs);
  const references: UfmState[] = [];
  const errors = { nclab: 0, js: 0 };
  let difference = 0;
  configs.forEach((config, index) => {
    const js = states[index]!;
    for (let step = 0; step < UFM_CHECK_STEPS; step++) ufmStepJs(js);
    const reference = trainUfmReference({ ...config, steps: UFM_CHECK_STEPS });
    references.push(reference);
    const nclab = gpu[index]!;
    errors.nclab = Math.max(
      errors.nclab,
      worstError(ufmErrors(nclab, reference)),
    );
    errors.js = Math.max(errors.js, worstError(ufmErrors(js, reference)));
    difference = Math.max(
      difference,
      maxAbsDifference(nclab.W, js.W),
      maxAbsDifference(nclab.H, js.H),
      maxAbsDifference(nclab.b, js.b),
    );
  });
  return { errors, difference, states, references };
}

/**
 * Per-step samples of nclab: a first one in the shortest bracket sizes the
 * rest, whose runs grow until the extra steps take targetSpanMs.
 */
async function sampleSteps(
  rt: Runtime,
  w: UfmWorkload,
  repeats: number,
): Promise<{ samplesMs: number[]; lengths: RunLengths }> {
  const stepMs = async (lengths: RunLengths): Promise<number> => {
    const short = await trainingRun(rt, w.configs, lengths.short);
    const long = await trainingRun(rt, w.configs, lengths.long);
    return (long.ms - short.ms) / lengths.extraSteps;
  };
  const minBracket = w.minBracket ?? MIN_BRACKET;
  const pilotMs = await stepMs(ufmRunLengths(minBracket));
  let bracket = minBracket;
  while (
    bracket < MAX_BRACKET &&
    ufmRunLengths(bracket).extraSteps * pilotMs < w.targetSpanMs
  ) {
    bracket += 1;
  }
  const lengths = ufmRunLengths(bracket);
  const samplesMs = bracket === minBracket ? [pilotMs] : [];
  while (samplesMs.length < repeats) samplesMs.push(await stepMs(lengths));
  return { samplesMs, lengths };
}

function spread(values: readonly number[]): string {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? `${low}` : `${low}…${high}`;
}

function ufmPlan(w: UfmWorkload, lengths: RunLengths | null): string {
  const count = w.configs.length;
  const values = (pick: (c: UfmBenchConfig) => number) =>
    spread(w.configs.map(pick));
  const setting =
    `${count} configuration${count > 1 ? 's' : ''}, GD at lr ` +
    `${values((c) => c.lr)} (features N·lr), ` +
    `λ_W ${values((c) => c.lambdaW)}, λ_H ${values((c) => c.lambdaH)}`;
  if (!lengths) return setting;
  return (
    `${setting}; nclab time: trainUfmBatch runs of ${lengths.short} and ` +
    `${lengths.long} steps, difference / ${lengths.extraSteps}`
  );
}

/**
 * Training steps: nclab's whole trainUfmBatch against one float32 JS step
 * per configuration. trainUfmBatch cannot be replayed inside rt.time() (it
 * reads back and waits during training), so its steps are timed by the wall
 * clock, as the difference of two run lengths (ufmRunLengths).
 */
export async function measureUfm(
  rt: Runtime,
  w: UfmWorkload,
  runRepeats: number,
  methods: Set<TimingMethod>,
): Promise<WorkloadResult> {
  const repeats = Math.min(runRepeats, w.repeats ?? runRepeats);
  const { shape, unit, workPerOp } = describeWorkload(w);
  const result: WorkloadResult = {
    name: w.name,
    kind: w.kind,
    shape,
    unit,
    workPerOp,
    configs: w.configs.length,
    verified: false,
    maxAbsDifference: null,
    plan: ufmPlan(w, null),
  };

  // Two identical short runs: the first compiles the pipelines, so its
  // extra time is their cost; the results of the second are checked.
  progress(`${w.name}: compiling, checking nclab and JS against float64`);
  const pipelinesBefore = rt.kernels.size;
  const cold = await trainingRun(rt, w.configs, UFM_CHECK_STEPS);
  const warm = await trainingRun(rt, w.configs, UFM_CHECK_STEPS);
  result.pipelinesCompiled = rt.kernels.size - pipelinesBefore;
  result.compileMs =
    result.pipelinesCompiled > 0 ? Math.max(0, cold.ms - warm.ms) : 0;

  const check = checkAgainstReference(w.configs, warm.results);
  const { errors } = check;
  result.referenceError = errors;
  result.maxAbsDifference = check.difference;
  if (!(errors.nclab <= UFM_TOLERANCE && errors.js <= UFM_TOLERANCE)) {
    result.problem =
      `after ${UFM_CHECK_STEPS} steps nclab is ` +
      `${errors.nclab.toExponential(2)} ` +
      `and JS ${errors.js.toExponential(2)} (relative to the largest entry) ` +
      `from the float64 reference, over ${UFM_TOLERANCE}; not timed`;
    return result;
  }
  result.verified = true;

  progress(`${w.name}: timing nclab`);
  const { samplesMs, lengths } = await sampleSteps(rt, w, repeats);
  result.plan = ufmPlan(w, lengths);
  const nclab = measurement(samplesMs, lengths.extraSteps, unit, workPerOp);
  if (!(nclab.medianMs > 0)) {
    throw new Error(
      `the median step time came out ${nclab.medianMs} ms: the runs' ` +
        `noise exceeds ${lengths.extraSteps} steps; raise targetSpanMs`,
    );
  }
  result.nclab = { ...nclab, method: 'wall-clock' };
  methods.add('wall-clock');

  // The JS states go on from the checked ones; a step costs the same.
  progress(`${w.name}: timing JS`);
  const batchStep = () => {
    for (const state of check.states) ufmStepJs(state);
  };
  for (let step = 0; step < JS_WARMUP_STEPS; step++) batchStep();
  const js = await sampleTimes((ops) => {
    const start = performance.now();
    for (let op = 0; op < ops; op++) batchStep();
    return Promise.resolve(performance.now() - start);
  }, repeats);
  result.js = measurement(js.samplesMs, js.ops, unit, workPerOp);
  result.ratio = result.nclab.rate / result.js.rate;
  progress(
    `${w.name}: nclab ${result.nclab.medianMs.toFixed(3)} ms/step, ` +
      `JS ${result.js.medianMs.toFixed(3)} ms/step`,
  );

  if (w.tfjs) {
    const [config] = w.configs;
    if (w.configs.length !== 1 || !config) {
      throw new Error(`${w.name}: TF.js rows train one configuration`);
    }
    // Loaded only for rows that compare with TF.js.
    const { measureTfjsUfm } = await import('./tfjs');
    result.alternatives = await measureTfjsUfm(w.name, rt.gpu.adapterSummary, {
      check: {
        config,
        steps: UFM_CHECK_STEPS,
        reference: check.references[0]!,
        nclab: warm.results[0]!,
        tolerance: UFM_TOLERANCE,
      },
      timing: {
        unit,
        workPerOp,
        repeats,
        targetSpanMs: w.targetSpanMs,
        nclab: result.nclab,
      },
    });
  }
  return result;
}
