// The auto-tuner row: src/kernels/tuning.ts's tuneEngine on the bench's
// device. Its time column is the chosen matmul tile's; the tuned-vs-default
// ratios of both kernels go to the report's tuning table (bench/report.ts).

import type { Runtime, TimingMethod } from '../src/gpu/runtime';
import { tuneEngine } from '../src/kernels/tuning';
import { progress } from './sampling';
import {
  describeWorkload,
  type TuningWorkload,
  type WorkloadResult,
} from './workloads';

export async function measureTuning(
  rt: Runtime,
  w: TuningWorkload,
  repeats: number,
  methods: Set<TimingMethod>,
): Promise<WorkloadResult> {
  const { shape, unit, workPerOp } = describeWorkload(w);
  const report = await tuneEngine(rt, {
    repeats,
    log: (line) => progress(`${w.name}: ${line}`),
  });
  methods.add(report.method);
  const result: WorkloadResult = {
    name: w.name,
    kind: w.kind,
    shape,
    unit,
    workPerOp,
    // Every timed candidate computed exact results first (tuneEngine).
    verified: true,
    maxAbsDifference: 0,
    plan:
      `every candidate within the device's limits, checked for exact ` +
      `results on small integers, then median of ${repeats}; a candidate ` +
      `replaces the default only when over 5 % faster (see the tuning table)`,
    tuning: report,
  };
  const ms = report.matmul.chosenMs;
  if (ms !== null) {
    result.nclab = {
      medianMs: ms,
      samplesMs: [ms],
      opsPerSample: 1,
      rate: workPerOp / ms / 1e6,
      method: report.method,
    };
  }
  return result;
}
