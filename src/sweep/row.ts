// One row of a sweep's results file: what the scheduler writes for each
// trained configuration, what the store resumes and merges by, and what the
// report and the exports read. A row is plain JSON, one per line (JSONL).

import type { TrajectoryPoint } from '../train/batch';

export const RESULT_SCHEMA_VERSION = 1;

export type ModelName = 'ufm' | 'md' | 'graph';

/** Final measurements; null where a model or a diverged run has none. */
export interface FinalMetrics {
  /** Mean training loss and accuracy on the observed labels, last step. */
  loss: number | null;
  trainAccuracy: number | null;
  /** Held-out accuracy (md: the model's test distribution; graph: the
   * test images' features); null for the ufm, which has no test set. */
  testAccuracy: number | null;
  /** science.md §5 (absolute and divided by the clean centres' distance). */
  memorization: number | null;
  dilation: number | null;
  relativeMemorization: number | null;
  relativeDilation: number | null;
  /** science.md §4 on the observed labels (null where undefined). */
  nc1: number | null;
  nc2: number | null;
  nc3: number | null;
  nc4: number | null;
  /** NC1 of the clean examples alone, by their labels. */
  nc1Clean: number | null;
  /** md only: the objective at the final parameters (float64). */
  objective: number | null;
}

/** For d = 2 runs: the features to draw (a seeded subsample). */
export interface FeatureScatter {
  /** x, y pairs, one per example drawn. */
  points: number[];
  /** Observed and true label of each point drawn. */
  labels: number[];
  trueLabels: number[];
  /** x, y pairs, one per class: the clean examples' means. */
  centres: number[];
}

export interface ResultRow {
  schema: typeof RESULT_SCHEMA_VERSION;
  /** Content hash of `config` (hex): the identity resume and merge use. */
  id: string;
  /** The spec's name and the part of it this configuration comes from. */
  sweep: string;
  part: string;
  /** Position in the expanded sweep (stable for a given spec). */
  index: number;
  /** The grid's values for this configuration, by grid key ("noise.eta"). */
  point: Record<string, unknown>;
  /** The full configuration as checked, defaults filled in. */
  config: Record<string, unknown>;
  model: ModelName;
  /** "ce", "ls(0.1)", "mse": the loss as plots label it. */
  loss: string;
  /** η of the label noise (0 without), and the fraction actually flipped. */
  eta: number;
  flipRate: number;
  /** The md coupling λ, the graph γ; null for other models. */
  coupling: number | null;
  gamma: number | null;
  divergedAtStep: number | null;
  deadClasses: number[];
  final: FinalMetrics;
  trajectory: TrajectoryPoint[];
  scatter: FeatureScatter | null;
  timing: {
    /** The batch's wall time divided by its configurations. */
    wallMs: number;
    /** The batch's GPU time (timestamps) divided likewise; null without. */
    gpuMs: number | null;
    /** How many configurations shared this configuration's dispatches. */
    batchSize: number;
  };
  adapter: string;
  version: string;
}

/** The fields two runs of the same configuration agree on (not timing). */
export function comparable(row: ResultRow): Omit<ResultRow, 'timing'> {
  const rest: Partial<ResultRow> = { ...row };
  delete rest.timing;
  return rest as Omit<ResultRow, 'timing'>;
}
