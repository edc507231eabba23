// Training runs from JSON, the same in the page and from the CLI: check
// every configuration first, group them into batches of equal length, train
// each batch in one stream of dispatches, and report plain JSON.

import { adapterName } from '../gpu/device';
import { Runtime } from '../gpu/runtime';
import { parseConfigurations } from './config';
import type { TrajectoryPoint } from './batch';
import { trainUfmBatch, type UfmTrainConfig } from './ufm';

export interface RunReport {
  config: UfmTrainConfig;
  trajectory: TrajectoryPoint[];
  divergedAtStep: number | null;
  deadClasses: number[];
  /** Final parameters: W (K×d), H (d×N), b (K), row-major; labels (N). */
  state: { W: number[]; H: number[]; b: number[]; labels: number[] };
}

export interface TrainReport {
  adapter: string;
  wallMs: number;
  runs: RunReport[];
}

export async function runTraining(
  input: unknown,
  onProgress?: (line: string) => void,
): Promise<TrainReport> {
  const configs = parseConfigurations(input);
  const start = performance.now();
  const rt = await Runtime.create();
  try {
    const runs: RunReport[] = new Array<RunReport>(configs.length);
    const bySteps = new Map<number, number[]>();
    configs.forEach((c, i) =>
      bySteps.set(c.steps, [...(bySteps.get(c.steps) ?? []), i]),
    );
    let batchNumber = 0;
    for (const [steps, indices] of bySteps) {
      batchNumber += 1;
      const label = `batch ${batchNumber}/${bySteps.size} (${indices.length} configurations)`;
      const results = await trainUfmBatch(
        rt,
        indices.map((i) => configs[i]!),
        (step) => onProgress?.(`${label}: step ${step}/${steps}`),
      );
      results.forEach((r, j) => {
        const i = indices[j]!;
        runs[i] = {
          config: configs[i]!,
          trajectory: r.trajectory,
          divergedAtStep: r.divergedAtStep,
          deadClasses: r.deadClasses,
          state: {
            W: Array.from(r.W),
            H: Array.from(r.H),
            b: Array.from(r.b),
            labels: Array.from(r.labels),
          },
        };
      });
    }
    return {
      adapter: adapterName(rt.gpu.adapterSummary),
      wallMs: performance.now() - start,
      runs,
    };
  } finally {
    await rt.destroy();
  }
}
