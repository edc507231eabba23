// The sweep rows of the benchmark: configurations per second of a whole
// sweep, trained batched as `nclab sweep` plans it against the same trainer
// given one configuration at a time. One at a time is slow, so it runs on a
// seeded sample and its time is scaled to the sweep (each configuration
// costs about the same), which the plan says. Batching must not change a
// result: the sample's results must be bit-identical both ways before any
// figure is reported.

import type { Runtime, TimingMethod } from '../src/gpu/runtime';
import { Random } from '../src/util/random';
import { planBatches, type Batch } from '../src/sweep/plan';
import type { RunConfig } from '../src/train/config';
import { trainMdBatch, type MdResult } from '../src/train/md';
import { trainUfmBatch, type UfmResult } from '../src/train/ufm';
import { measurement, progress } from './sampling';
import { describeGrid, sweepItems, type SweepWorkload } from './sweepSpecs';
import { describeWorkload, type WorkloadResult } from './workloads';

/** Steps of the warm-up runs, which compile every pipeline. */
const WARMUP_STEPS = 2;

type TrainResult = MdResult | UfmResult;

/**
 * One batch through the trainer a sweep uses for its model, called as
 * src/train/run.ts calls it (the ufm's streamed collapse metrics included).
 */
async function trainBatch(
  rt: Runtime,
  runs: readonly RunConfig[],
  steps?: number,
): Promise<TrainResult[]> {
  const md = runs.flatMap((r) => (r.model === 'md' ? [r.config] : []));
  const ufm = runs.flatMap((r) => (r.model === 'ufm' ? [r.config] : []));
  const length = <T extends { steps: number }>(c: T): T => ({
    ...c,
    steps: steps ?? c.steps,
  });
  if (md.length === runs.length) return trainMdBatch(rt, md.map(length));
  if (ufm.length === runs.length) return trainUfmBatch(rt, ufm.map(length));
  throw new Error('a sweep row trains batches of md or of ufm configurations');
}

/** Wall time of `op`, from an idle queue to its results on the host. */
async function wallMs<T>(
  rt: Runtime,
  op: () => Promise<T>,
): Promise<{ ms: number; value: T }> {
  await rt.finish();
  const start = performance.now();
  const value = await op();
  await rt.finish();
  return { ms: performance.now() - start, value };
}

/** `size` distinct indices below `count`, seeded, in increasing order. */
function sampleIndices(count: number, size: number, seed: number): number[] {
  const rng = new Random(seed);
  const indices = Array.from({ length: count }, (_, i) => i);
  // A partial Fisher–Yates shuffle: the first `size` places are the sample.
  for (let i = 0; i < size; i++) {
    const j = i + rng.integer(count - i);
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  return indices.slice(0, size).sort((a, b) => a - b);
}

/**
 * Walks two results side by side: how many numbers differ bit for bit
 * (Object.is: NaN equals NaN, 0 is not −0), and the largest |a − b| among
 * them. A difference in shape or in anything else counts as unbounded.
 */
function compareResults(
  a: unknown,
  b: unknown,
): { differing: number; maxAbs: number; compared: number } {
  const tally = { differing: 0, maxAbs: 0, compared: 0 };
  const differ = (by: number) => {
    tally.differing += 1;
    tally.maxAbs = Math.max(tally.maxAbs, Number.isNaN(by) ? Infinity : by);
  };
  const isList = (v: unknown): v is ArrayLike<unknown> =>
    Array.isArray(v) || ArrayBuffer.isView(v);
  const walk = (x: unknown, y: unknown): void => {
    if (typeof x === 'number' && typeof y === 'number') {
      tally.compared += 1;
      if (!Object.is(x, y)) differ(Math.abs(x - y));
    } else if (isList(x)) {
      if (!isList(y) || y.length !== x.length) return differ(Infinity);
      for (let i = 0; i < x.length; i++) walk(x[i], y[i]);
    } else if (x !== null && typeof x === 'object') {
      if (y === null || typeof y !== 'object') return differ(Infinity);
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const key of keys) {
        walk(
          (x as Record<string, unknown>)[key],
          (y as Record<string, unknown>)[key],
        );
      }
    } else if (!Object.is(x, y)) {
      differ(Infinity);
    }
  };
  walk(a, b);
  return tally;
}

function sweepPlan(
  w: SweepWorkload,
  batches: readonly Batch[],
  sample: readonly number[],
): string {
  const sizes = batches.map((b) => b.items.length).join(', ');
  const source =
    w.model === 'md'
      ? `the small default preset's md part with ${w.steps} steps instead of its own`
      : `cross-entropy, GD at lr 0.5 (features N·lr), λ_W 0.005`;
  return (
    `${w.count} configurations, ${source}: the first ${w.count} of ` +
    `${describeGrid(w)}. Batched: planned by planBatches as nclab sweep ` +
    `plans them, at most ${w.maxBatch} per batch (the CLI's default ` +
    `--max-batch): ${batches.length} batch${batches.length > 1 ? 'es' : ''} ` +
    `(${sizes}). One at a time: the same trainer on ${sample.length} ` +
    `seeded configurations (indices ${sample.join(', ')}), their total ` +
    `time × ${w.count}/${sample.length}. Wall clock from the checked ` +
    `configurations to the results on the host, one timed pass per side, ` +
    `after a ${WARMUP_STEPS}-step warm-up (batched and alone) that is not counted`
  );
}

export async function measureSweep(
  rt: Runtime,
  w: SweepWorkload,
  methods: Set<TimingMethod>,
): Promise<WorkloadResult> {
  const { shape, unit, workPerOp } = describeWorkload(w);
  const items = sweepItems(w);
  const runs = items.map((item) => item.run);
  const limits = rt.device.limits;
  const batches = planBatches(items, {
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxBufferSize: limits.maxBufferSize,
    maxConfigs: w.maxBatch,
  });
  const sample = sampleIndices(w.count, Math.min(w.sampled, w.count), w.seed);
  const result: WorkloadResult = {
    name: w.name,
    kind: w.kind,
    shape,
    unit,
    workPerOp,
    verified: false,
    maxAbsDifference: null,
    baseline: 'one at a time',
    plan: sweepPlan(w, batches, sample),
  };

  // The same warm-up twice, so the first one's extra time is compilation.
  // A batch and a single configuration may pick different kernel variants,
  // so both are warmed up.
  progress(`${w.name}: compiling (a ${WARMUP_STEPS}-step warm-up)`);
  const warmup = async () => {
    await trainBatch(rt, runs.slice(0, 2), WARMUP_STEPS);
    await trainBatch(rt, runs.slice(0, 1), WARMUP_STEPS);
  };
  const pipelinesBefore = rt.kernels.size;
  const cold = await wallMs(rt, warmup);
  const warm = await wallMs(rt, warmup);
  result.pipelinesCompiled = rt.kernels.size - pipelinesBefore;
  result.compileMs =
    result.pipelinesCompiled > 0 ? Math.max(0, cold.ms - warm.ms) : 0;

  progress(`${w.name}: ${sample.length} configurations one at a time`);
  const alone: TrainResult[] = [];
  let aloneMs = 0;
  for (const index of sample) {
    const run = await wallMs(rt, () => trainBatch(rt, [runs[index]!]));
    alone.push(run.value[0]!);
    aloneMs += run.ms;
  }

  const batched = new Array<TrainResult | undefined>(w.count);
  const batchedRun = await wallMs(rt, async () => {
    for (const [number, batch] of batches.entries()) {
      progress(
        `${w.name}: batch ${number + 1}/${batches.length} ` +
          `(${batch.items.length} configurations)`,
      );
      const results = await trainBatch(
        rt,
        batch.items.map((item) => item.run),
      );
      batch.items.forEach((item, j) => (batched[item.index] = results[j]));
    }
  });

  // Both passes are long, so the timed runs' own results are compared;
  // nothing is reported unless they agree.
  let differing = 0;
  let compared = 0;
  let maxAbs = 0;
  sample.forEach((index, k) => {
    const tally = compareResults(batched[index], alone[k]);
    differing += tally.differing;
    compared += tally.compared;
    maxAbs = Math.max(maxAbs, tally.maxAbs);
  });
  result.maxAbsDifference = maxAbs;
  if (differing > 0 || compared === 0) {
    result.problem =
      `batched and one at a time, the sampled configurations' results ` +
      `differ in ${differing} of ${compared} numbers (by up to ${maxAbs}); ` +
      `batching must not change a result`;
    return result;
  }
  result.verified = true;
  const diverged = batched.filter((r) => r?.divergedAtStep !== null).length;
  if (diverged > 0) result.plan += `. ${diverged} configurations diverged`;

  const batchedMs = batchedRun.ms;
  const scaledMs = (aloneMs * w.count) / sample.length;
  result.nclab = {
    ...measurement([batchedMs], 1, unit, workPerOp),
    method: 'wall-clock',
  };
  methods.add('wall-clock');
  result.js = measurement([scaledMs], 1, unit, workPerOp);
  result.ratio = result.nclab.rate / result.js.rate;
  progress(
    `${w.name}: batched ${(batchedMs / 1000).toFixed(1)} s, one at a time ` +
      `${(aloneMs / 1000).toFixed(1)} s for ${sample.length} ` +
      `(${(scaledMs / 1000).toFixed(0)} s scaled)`,
  );
  return result;
}
