// A trained run's report (src/train/run.ts) turned into the measured part
// of a results row (src/sweep/row.ts): final metrics per model, the
// trajectory, and for d = 2 the features to draw. Runs in the page, so
// that only these compact rows, not the trained parameters, cross to Node.

import type { CollapseMetrics } from '../metrics/collapse';
import type { LossSpec } from '../reference/losses';
import { mdGroups } from '../reference/md';
import type { RunReport } from '../train/run';
import { Random } from '../util/random';
import type { FeatureScatter, FinalMetrics, ResultRow } from './row';

/** What the page measures; the host adds identity, timing and version. */
export type MeasuredRow = Pick<
  ResultRow,
  | 'model'
  | 'loss'
  | 'eta'
  | 'flipRate'
  | 'coupling'
  | 'gamma'
  | 'divergedAtStep'
  | 'deadClasses'
  | 'final'
  | 'trajectory'
  | 'scatter'
>;

/** Most points a scatter keeps (a seeded subsample beyond it). */
export const SCATTER_MAX_POINTS = 2000;

export function lossLabel(loss: LossSpec): string {
  return loss.kind === 'ls' ? `ls(${loss.alpha})` : loss.kind;
}

/** NaN and ±Inf (undefined here) become null: JSON has no such numbers. */
function finite(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value)
    ? null
    : value;
}

function fromMetrics(metrics: CollapseMetrics | null) {
  const observed = metrics?.observed;
  const m = metrics?.memorization;
  return {
    memorization: finite(m?.memorization),
    dilation: finite(m?.dilation),
    relativeMemorization: finite(m?.relativeMemorization),
    relativeDilation: finite(m?.relativeDilation),
    nc1: finite(observed?.nc1),
    nc2: finite(observed?.nc2?.etfDistance),
    nc3: finite(observed?.nc3),
    nc4: finite(observed?.nc4),
    nc1Clean: finite(m?.nc1Clean),
  };
}

/**
 * A scatter of d = 2 features given column-major as H (2×N): a seeded
 * subsample of at most SCATTER_MAX_POINTS columns, and the clean centres
 * (d×K, as the metrics give them).
 */
function scatterOf(
  H: ArrayLike<number>,
  N: number,
  labels: ArrayLike<number>,
  trueLabels: ArrayLike<number>,
  centres: ArrayLike<number> | undefined,
  K: number,
): FeatureScatter {
  let columns = Array.from({ length: N }, (_, n) => n);
  if (N > SCATTER_MAX_POINTS) {
    const rng = new Random(0x5ca77e4);
    for (let i = N - 1; i > 0; i--) {
      const j = rng.integer(i + 1);
      [columns[i], columns[j]] = [columns[j]!, columns[i]!];
    }
    columns = columns.slice(0, SCATTER_MAX_POINTS).sort((a, b) => a - b);
  }
  const centreList: number[] = [];
  for (let k = 0; k < K; k++) {
    centreList.push(
      finite(centres?.[k] ?? null) ?? 0,
      finite(centres?.[K + k] ?? null) ?? 0,
    );
  }
  return {
    points: columns.flatMap((n) => [H[n]!, H[N + n]!]),
    labels: columns.map((n) => labels[n]!),
    trueLabels: columns.map((n) => trueLabels[n]!),
    centres: centreList,
  };
}

/**
 * The md model's feature points for d = 2: each class's clean points
 * c_k ± r_k·e_i (r_k = λ·m_k, the dilation) and one point per mislabelled
 * (true, observed) group, in the trainer's group order.
 */
function mdScatter(
  report: Extract<RunReport, { model: 'md' }>,
  radii: readonly number[],
): FeatureScatter {
  const { K } = report.config;
  const { centres, groups } = report.state;
  const scatter: FeatureScatter = {
    points: [],
    labels: [],
    trueLabels: [],
    centres: centres.slice(0, 2 * K),
  };
  for (let k = 0; k < K; k++) {
    const r = radii[k] ?? 0;
    for (const [dx, dy] of [
      [r, 0],
      [-r, 0],
      [0, r],
      [0, -r],
    ] as const) {
      scatter.points.push(centres[2 * k]! + dx, centres[2 * k + 1]! + dy);
      scatter.labels.push(k);
      scatter.trueLabels.push(k);
    }
  }
  mdGroups({ ...report.config }).forEach((group, g) => {
    scatter.points.push(groups[2 * g]!, groups[2 * g + 1]!);
    scatter.labels.push(group.observed);
    scatter.trueLabels.push(group.trueClass);
  });
  return scatter;
}

function lastPoint(report: RunReport) {
  const last = report.trajectory.at(-1);
  const diverged = report.divergedAtStep !== null;
  return {
    loss: diverged ? null : finite(last?.loss),
    trainAccuracy: diverged ? null : finite(last?.accuracy),
  };
}

/** The measured row of one trained run. */
export function measuredRow(report: RunReport): MeasuredRow {
  const common = {
    model: report.model,
    loss: lossLabel(report.config.loss),
    divergedAtStep: report.divergedAtStep,
    trajectory: report.trajectory,
  };
  const nulls = {
    testAccuracy: null,
    objective: null,
  };
  if (report.model === 'md') {
    const m = report.measures;
    const final: FinalMetrics = {
      ...lastPoint(report),
      ...fromMetrics(null),
      ...nulls,
      testAccuracy: finite(report.testAccuracy),
      memorization: finite(m?.memorization),
      dilation: finite(m?.dilation),
      relativeMemorization: finite(m?.relativeMemorization),
      relativeDilation: finite(m?.relativeDilation),
      objective: finite(report.objective),
    };
    return {
      ...common,
      eta: report.noise?.eta ?? 0,
      flipRate: report.flipRate,
      coupling: report.config.coupling,
      gamma: null,
      deadClasses: [],
      final,
      scatter:
        report.config.d === 2 && m
          ? mdScatter(report, m.dilationPerClass)
          : null,
    };
  }
  const { K, d } = report.config;
  const metrics = report.metrics;
  const final: FinalMetrics = {
    ...lastPoint(report),
    ...nulls,
    ...fromMetrics(metrics),
    testAccuracy: report.model === 'graph' ? finite(report.testAccuracy) : null,
  };
  const drawn = d === 2 && report.divergedAtStep === null;
  if (report.model === 'ufm') {
    const { H, labels, trueLabels } = report.state;
    return {
      ...common,
      eta: report.config.noise?.eta ?? 0,
      flipRate: report.flipRate,
      coupling: null,
      gamma: null,
      deadClasses: report.deadClasses,
      final,
      scatter: drawn
        ? scatterOf(
            H,
            labels.length,
            labels,
            trueLabels,
            metrics?.memorization?.cleanMeans,
            K,
          )
        : null,
    };
  }
  const { H, labels, trueLabels } = report.state;
  const trainCount = labels.length;
  const N = H.length / d;
  // The training columns only: the first trainCount of each row of H.
  const trainH = [...H.slice(0, trainCount), ...H.slice(N, N + trainCount)];
  return {
    ...common,
    eta: report.noise?.eta ?? 0,
    flipRate: report.flipRate,
    coupling: null,
    gamma: report.config.gamma,
    deadClasses: [],
    final,
    scatter: drawn
      ? scatterOf(
          trainH,
          trainCount,
          labels,
          trueLabels,
          metrics?.memorization?.cleanMeans,
          K,
        )
      : null,
  };
}
