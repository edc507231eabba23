// Training runs from JSON, the same in the page and from the CLI: check
// every configuration first, group them into batches of one model and one
// length, train each batch in one stream of dispatches, and report plain
// JSON in the order of the input.

import type { NoiseSpec } from '../data/noise';
import { adapterName } from '../gpu/device';
import { Runtime } from '../gpu/runtime';
import type { TrajectoryPoint } from './batch';
import { parseConfigurations, type RunConfig } from './config';
import { trainMdBatch, type MdMeasures, type MdTrainConfig } from './md';
import { trainUfmBatch, type UfmTrainConfig } from './ufm';

interface CommonReport {
  trajectory: TrajectoryPoint[];
  divergedAtStep: number | null;
}

export interface UfmRunReport extends CommonReport {
  model: 'ufm';
  config: UfmTrainConfig;
  deadClasses: number[];
  /** Final parameters: W (K×d), H (d×N), b (K), row-major; labels (N). */
  state: { W: number[]; H: number[]; b: number[]; labels: number[] };
}

export interface MdRunReport extends CommonReport {
  model: 'md';
  /** With counts[t][j], the examples of true class t observed as j. */
  config: MdTrainConfig;
  noise: NoiseSpec | null;
  flipRate: number;
  /** Null (as the objective and test accuracy) when the run diverged. */
  measures: MdMeasures | null;
  /** F at the final parameters (float64): compare seeds by it. */
  objective: number | null;
  testAccuracy: number | null;
  testAccuracyMethod: 'exact' | 'monte-carlo' | null;
  /** Final parameters, row-major: W (K×d), b (K), centres (K×d), one group
   * feature of d per mislabelled (true, observed) group in row order. */
  state: { W: number[]; b: number[]; centres: number[]; groups: number[] };
}

export type RunReport = UfmRunReport | MdRunReport;

export interface TrainReport {
  adapter: string;
  wallMs: number;
  runs: RunReport[];
}

async function trainGroup(
  rt: Runtime,
  runs: readonly RunConfig[],
  onStep: (step: number) => void,
): Promise<RunReport[]> {
  const ufm = runs.filter((r) => r.model === 'ufm');
  const md = runs.filter((r) => r.model === 'md');
  if (ufm.length === runs.length) {
    const results = await trainUfmBatch(
      rt,
      ufm.map((r) => r.config),
      onStep,
    );
    return results.map((r, i) => ({
      model: 'ufm',
      config: ufm[i]!.config,
      trajectory: r.trajectory,
      divergedAtStep: r.divergedAtStep,
      deadClasses: r.deadClasses,
      state: {
        W: Array.from(r.W),
        H: Array.from(r.H),
        b: Array.from(r.b),
        labels: Array.from(r.labels),
      },
    }));
  }
  const results = await trainMdBatch(
    rt,
    md.map((r) => r.config),
    onStep,
  );
  return results.map((r, i) => ({
    model: 'md',
    config: md[i]!.config,
    noise: md[i]!.noise,
    flipRate: md[i]!.flipRate,
    trajectory: r.trajectory,
    divergedAtStep: r.divergedAtStep,
    measures: r.measures,
    objective: r.objective,
    testAccuracy: r.testAccuracy,
    testAccuracyMethod: r.testAccuracyMethod,
    state: {
      W: Array.from(r.W),
      b: Array.from(r.b),
      centres: Array.from(r.centres),
      groups: Array.from(r.groups),
    },
  }));
}

export async function runTraining(
  input: unknown,
  onProgress?: (line: string) => void,
): Promise<TrainReport> {
  const configs = parseConfigurations(input);
  const start = performance.now();
  const rt = await Runtime.create();
  try {
    const runs = new Array<RunReport>(configs.length);
    const batches = new Map<string, number[]>();
    configs.forEach((c, i) => {
      const key = `${c.model} ${c.config.steps}`;
      batches.set(key, [...(batches.get(key) ?? []), i]);
    });
    let batchNumber = 0;
    for (const indices of batches.values()) {
      batchNumber += 1;
      const first = configs[indices[0]!]!;
      const label =
        `batch ${batchNumber}/${batches.size} (${first.model}, ` +
        `${indices.length} configurations)`;
      const steps = first.config.steps;
      const reports = await trainGroup(
        rt,
        indices.map((i) => configs[i]!),
        (step) => onProgress?.(`${label}: step ${step}/${steps}`),
      );
      reports.forEach((report, j) => (runs[indices[j]!] = report));
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
