// Training runs from JSON, the same in the page and from the CLI: check
// every configuration first, group them into batches of one model and one
// length, train each batch in one stream of dispatches, and report plain
// JSON in the order of the input.

import type { DataSpec } from '../data/datasets';
import { applyLabelNoise, type NoiseSpec } from '../data/noise';
import { adapterName } from '../gpu/device';
import { Runtime } from '../gpu/runtime';
import type { CollapseMetrics } from '../metrics/collapse';
import type { TrajectoryPoint } from './batch';
import { batchKey, parseConfigurations, type RunConfig } from './config';
import { trainGraphBatch, type GraphTrainConfig } from './graph';
import { GraphCache, type DataSource } from './graphData';
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
  /** Fraction of labels the noise flipped (0 without noise). */
  flipRate: number;
  /** Collapse metrics, memorization and dilation at the end (null if diverged). */
  metrics: CollapseMetrics | null;
  /** Final parameters: W (K×d), H (d×N), b (K), row-major; the labels
   * trained on and the true ones (N each). */
  state: {
    W: number[];
    H: number[];
    b: number[];
    labels: number[];
    trueLabels: number[];
  };
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

export interface GraphRunReport extends CommonReport {
  model: 'graph';
  config: GraphTrainConfig;
  data: DataSpec;
  k: number;
  noise: NoiseSpec | null;
  /** Fraction of training labels the noise flipped. */
  flipRate: number;
  /** Test images whose features the classifier gets right (null if diverged). */
  testAccuracy: number | null;
  /** Collapse metrics, memorization and dilation of the training features. */
  metrics: CollapseMetrics | null;
  /** The graph trained on: its largest degree, the PCA's kept variance. */
  graph: { degree: number; inputDim: number; varianceKept: number | null };
  /** Final parameters, row-major: W (K×d), b (K), H (d×N, training then
   * test columns); observed and true labels of the training examples. */
  state: {
    W: number[];
    b: number[];
    H: number[];
    labels: number[];
    trueLabels: number[];
  };
}

export type RunReport = UfmRunReport | MdRunReport | GraphRunReport;

export interface TrainReport {
  adapter: string;
  wallMs: number;
  runs: RunReport[];
}

/**
 * Trains batches of runs on one runtime, keeping the graphs it builds for
 * later batches. Every run of a batch must have the same batchKey.
 */
export class Trainer {
  private readonly graphs: GraphCache;

  /** `data`: where the host's data sets come from (the page server by
   * default; the Node host passes its own). */
  constructor(
    readonly rt: Runtime,
    data?: DataSource,
  ) {
    this.graphs = new GraphCache(rt, data);
  }

  async train(
    runs: readonly RunConfig[],
    onStep: (step: number) => void,
  ): Promise<RunReport[]> {
    const key = batchKey(runs[0]!);
    if (runs.some((r) => batchKey(r) !== key)) {
      throw new Error(
        'Trainer.train: the runs of a batch must share a batchKey',
      );
    }
    const first = runs[0]!;
    if (first.model === 'ufm') return this.ufm(runs as UfmRun[], onStep);
    if (first.model === 'md') return this.md(runs as MdRun[], onStep);
    return this.graph(runs as GraphRun[], onStep);
  }

  private async ufm(runs: UfmRun[], onStep: (step: number) => void) {
    const results = await trainUfmBatch(
      this.rt,
      runs.map((r) => r.config),
      onStep,
    );
    return results.map((r, i): UfmRunReport => ({
      model: 'ufm',
      config: runs[i]!.config,
      trajectory: r.trajectory,
      divergedAtStep: r.divergedAtStep,
      deadClasses: r.deadClasses,
      flipRate: r.flipRate,
      metrics: r.metrics,
      state: {
        W: Array.from(r.W),
        H: Array.from(r.H),
        b: Array.from(r.b),
        labels: Array.from(r.labels),
        trueLabels: Array.from(r.trueLabels),
      },
    }));
  }

  private async md(runs: MdRun[], onStep: (step: number) => void) {
    const results = await trainMdBatch(
      this.rt,
      runs.map((r) => r.config),
      onStep,
    );
    return results.map((r, i): MdRunReport => ({
      model: 'md',
      config: runs[i]!.config,
      noise: runs[i]!.noise,
      flipRate: runs[i]!.flipRate,
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

  private async graph(runs: GraphRun[], onStep: (step: number) => void) {
    const built = await this.graphs.get(runs[0]!.data, runs[0]!.k);
    const { data } = built;
    const truth = data.trueLabels.subarray(0, data.trainCount);
    // Each run's own noise on the training labels; test labels stay true.
    const draws = runs.map((r) => {
      const labels = Uint32Array.from(data.trueLabels);
      if (!r.noise) return { labels, flipRate: 0 };
      const { observed, flipRate } = applyLabelNoise(
        truth,
        r.config.K,
        r.noise,
      );
      labels.set(observed);
      return { labels, flipRate };
    });
    const results = await trainGraphBatch(
      this.rt,
      data,
      runs.map((r, i) => ({ ...r.config, labels: draws[i]!.labels })),
      (step) => onStep(step),
    );
    return results.map((r, i): GraphRunReport => ({
      model: 'graph',
      config: runs[i]!.config,
      data: runs[i]!.data,
      k: runs[i]!.k,
      noise: runs[i]!.noise,
      flipRate: draws[i]!.flipRate,
      trajectory: r.trajectory,
      divergedAtStep: r.divergedAtStep,
      testAccuracy: r.testAccuracy,
      metrics: r.metrics,
      graph: {
        degree: data.graph.degree,
        inputDim: built.inputDim,
        varianceKept: built.varianceKept,
      },
      state: {
        W: Array.from(r.W),
        b: Array.from(r.b),
        H: Array.from(r.H),
        labels: Array.from(draws[i]!.labels.subarray(0, data.trainCount)),
        trueLabels: Array.from(truth),
      },
    }));
  }
}

type UfmRun = Extract<RunConfig, { model: 'ufm' }>;
type MdRun = Extract<RunConfig, { model: 'md' }>;
type GraphRun = Extract<RunConfig, { model: 'graph' }>;

/** Where trainings run: a device with its name, and the data sets. */
export interface TrainingHost {
  /** A runtime on a new device, and the adapter's name as reports give it. */
  open(): Promise<{ rt: Runtime; adapter: string }>;
  /** Where the host's data sets come from (graph runs on Fashion-MNIST). */
  data?: DataSource;
}

/** The page: `navigator.gpu`, data sets from the page server. */
export const PAGE_HOST: TrainingHost = {
  async open() {
    const rt = await Runtime.create();
    return { rt, adapter: adapterName(rt.gpu.adapterSummary) };
  },
};

export async function runTraining(
  input: unknown,
  onProgress?: (line: string) => void,
  host: TrainingHost = PAGE_HOST,
): Promise<TrainReport> {
  const configs = parseConfigurations(input);
  const start = performance.now();
  const { rt, adapter } = await host.open();
  try {
    const trainer = new Trainer(rt, host.data);
    const runs = new Array<RunReport>(configs.length);
    const batches = new Map<string, number[]>();
    configs.forEach((c, i) => {
      const key = batchKey(c);
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
      const reports = await trainer.train(
        indices.map((i) => configs[i]!),
        (step) => onProgress?.(`${label}: step ${step}/${steps}`),
      );
      reports.forEach((report, j) => (runs[indices[j]!] = report));
    }
    return {
      adapter,
      wallMs: performance.now() - start,
      runs,
    };
  } finally {
    await rt.destroy();
  }
}
