// Collapse metrics on the GPU for a batch of feature matrices (science.md
// §4–5): per grouping (observed labels; true labels; clean examples) the
// class sums, the centred features X = H − M[:, y], the projection
// P = M̃ᵀX and A = PPᵀ by the deterministic split-K product, per-class sums
// of ‖x‖ and ‖x‖², and, when d is small, the full scatter XXᵀ. Only these
// K×K / d×K results are read back; src/metrics/finalize.ts turns them into
// metrics in float64.

import { InvalidArgumentError } from '../gpu/errors';
import type { Runtime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { classSums } from '../kernels/classSums';
import { matmul } from '../kernels/matmul';
import {
  centreColumns,
  classifyColumns,
  splitLabels,
} from '../kernels/metrics';
import {
  finalizeGrouping,
  finalizeMemorization,
  type GroupingMetrics,
  type GroupingStatistics,
  type MemorizationMetrics,
} from './finalize';

/** Largest d for which the d×d within-class scatter is formed by default. */
export const FULL_COVARIANCE_MAX_D = 128;

export interface MetricsInputs {
  /** [B, d, N] */
  H: Tensor;
  /** [B, 1, N] observed labels; a label ≥ K excludes the column (padding). */
  labels: Tensor;
  K: number;
  /** [B, 1, N] true labels: adds the true grouping and memorization. */
  trueLabels?: Tensor;
  /** [B, K, d] and [B, K, 1]: adds NC2's classifier part, NC3, NC4, accuracy. */
  W?: Tensor;
  bias?: Tensor;
  /** Form the d×d scatter for the pinv cross-check (default d ≤ 128). */
  fullCovariance?: boolean;
  /**
   * The real sizes of each set of a padded batch (default: the tensors'):
   * classes ≥ K_b are never predicted, and NC2/NC3 apply when K' ≤ d_b + 1.
   */
  sizes?: ReadonlyArray<{ K: number; d: number }>;
}

export interface CollapseMetrics {
  observed: GroupingMetrics;
  true: GroupingMetrics | null;
  memorization: MemorizationMetrics | null;
}

interface GroupingRun {
  statistics: GroupingStatistics[];
  /** Class means [B, d, K] as uploaded (for classification and memorization). */
  means: Tensor<'f32'>;
}

async function downloadAll(rt: Runtime, tensors: Tensor[]) {
  const data = await Promise.all(tensors.map((t) => rt.download(t)));
  for (const t of tensors) t.release();
  return data;
}

/** The GPU statistics of one grouping of every feature set of the batch. */
async function groupingStatistics(
  rt: Runtime,
  H: Tensor,
  labels: Tensor,
  K: number,
  full: boolean,
  sizes?: MetricsInputs['sizes'],
): Promise<GroupingRun> {
  const [B, d] = H.shape;
  const { sums, counts } = await classSums(rt, H, labels, K);
  const [sumData, countData] = await downloadAll(rt, [sums, counts]);
  // Means and M̃ in float64 (uploaded in float32 for the passes below). The
  // float64 M̃ goes to the finish: its columns, weighted by the counts, sum
  // to 0 to float64 rounding, which keeps G's null vector; float32 columns
  // would not, and with a large common offset in the features the rounding
  // leaves an eigenvalue above any cutoff that then dominates NC1.
  const means = new Float32Array(B * d * K);
  const centred = new Float64Array(B * d * K);
  for (let b = 0; b < B; b++) {
    const n = Array.from({ length: K }, (_, k) => countData![b * K + k]!);
    const total = n.reduce((a, c) => a + c, 0);
    for (let i = 0; i < d; i++) {
      const row = (b * d + i) * K;
      let global = 0;
      for (let k = 0; k < K; k++) global += sumData![row + k]!;
      global /= total;
      for (let k = 0; k < K; k++) {
        if (n[k] === 0) continue;
        const mean = sumData![row + k]! / n[k]!;
        means[row + k] = mean;
        centred[row + k] = mean - global;
      }
    }
  }
  const meansT = rt.upload(means, [B, d, K], 'f32');
  const centredT = rt.upload(Float32Array.from(centred), [B, d, K], 'f32');
  const { X, dist } = await centreColumns(rt, H, labels, meansT);
  const P = await matmul(rt, centredT, X, { transA: true });
  const A = await matmul(rt, P, P, { transB: true });
  P.release();
  const perClass = await classSums(rt, dist, labels, K);
  perClass.counts.release();
  dist.release();
  const scatter = full ? await matmul(rt, X, X, { transB: true }) : null;
  X.release();
  centredT.release();
  const [AData, distData, scatterData] = await downloadAll(
    rt,
    scatter ? [A, perClass.sums, scatter] : [A, perClass.sums],
  );
  const statistics = Array.from({ length: B }, (_, b) => ({
    K,
    d,
    counts: countData!.subarray(b * K, (b + 1) * K),
    sums: sumData!.subarray(b * d * K, (b + 1) * d * K),
    projected: AData!.subarray(b * K * K, (b + 1) * K * K),
    distances: distData!.subarray(b * 2 * K, (b + 1) * 2 * K),
    centredMeans: centred.subarray(b * d * K, (b + 1) * d * K),
    withinScatter: scatterData?.subarray(b * d * d, (b + 1) * d * d),
    featureDim: sizes?.[b]?.d,
  }));
  return { statistics, means: meansT };
}

/** NC4 and accuracy counts of one grouping, over its own columns. */
async function classification(
  rt: Runtime,
  inputs: MetricsInputs,
  groupLabels: Tensor,
  trueLabels: Tensor,
  run: GroupingRun,
  row: 1 | 2,
): Promise<Array<{ mismatches: number; correct: number }>> {
  const { H, labels, K, W, bias } = inputs;
  const [B] = H.shape;
  const classData = new Uint32Array(B * K);
  run.statistics.forEach((s, b) => {
    const modelClasses = inputs.sizes?.[b]?.K ?? K;
    for (let k = 0; k < K; k++) {
      classData[b * K + k] =
        (s.counts[k]! > 0 ? 1 : 0) | (k < modelClasses ? 2 : 0);
    }
  });
  const classes = rt.upload(classData, [B, 1, K], 'u32');
  const flags = await classifyColumns(rt, {
    H,
    labels,
    trueLabels,
    centres: run.means,
    classes,
    W: W!,
    bias: bias!,
  });
  classes.release();
  // Sum the flags over the grouping's columns only (labels ≥ K drop out).
  const totals = await classSums(rt, flags, groupLabels, K);
  totals.counts.release();
  flags.release();
  const [data] = await downloadAll(rt, [totals.sums]);
  return Array.from({ length: B }, (_, b) => {
    const sum = (r: number) => {
      let t = 0;
      for (let k = 0; k < K; k++) t += data![(b * 3 + r) * K + k]!;
      return t;
    };
    return { mismatches: sum(0), correct: sum(row) };
  });
}

/** Every collapse metric of every feature set of the batch. */
export async function collapseMetrics(
  rt: Runtime,
  inputs: MetricsInputs,
): Promise<CollapseMetrics[]> {
  const { H, labels, K, trueLabels, W, bias } = inputs;
  rt.requireTensor('collapseMetrics', 'H', H, 'f32');
  if ((W === undefined) !== (bias === undefined)) {
    throw new InvalidArgumentError(
      'collapseMetrics: W and bias go together; pass both or neither',
    );
  }
  const d = H.rows;
  const full = inputs.fullCovariance ?? d <= FULL_COVARIANCE_MAX_D;
  const wData = W ? await rt.download(W) : null;
  const rowsOf = (b: number) => wData?.subarray(b * K * d, (b + 1) * K * d);

  const observed = await groupingStatistics(
    rt,
    H,
    labels,
    K,
    full,
    inputs.sizes,
  );
  const observedClass = W
    ? await classification(
        rt,
        inputs,
        labels,
        trueLabels ?? labels,
        observed,
        1,
      )
    : null;
  const observedMetrics = observed.statistics.map((s, b) =>
    finalizeGrouping({
      ...s,
      W: rowsOf(b),
      classification: observedClass?.[b],
    }),
  );

  let trueMetrics: GroupingMetrics[] | null = null;
  let memorization: MemorizationMetrics[] | null = null;
  if (trueLabels) {
    const truth = await groupingStatistics(
      rt,
      H,
      trueLabels,
      K,
      full,
      inputs.sizes,
    );
    const trueClass = W
      ? await classification(rt, inputs, trueLabels, trueLabels, truth, 2)
      : null;
    trueMetrics = truth.statistics.map((s, b) =>
      finalizeGrouping({ ...s, W: rowsOf(b), classification: trueClass?.[b] }),
    );
    truth.means.release();

    const { clean, noisy } = await splitLabels(rt, labels, trueLabels, K);
    const cleanRun = await groupingStatistics(
      rt,
      H,
      clean,
      K,
      false,
      inputs.sizes,
    );
    const cleanMetrics = cleanRun.statistics.map((s) => finalizeGrouping(s));
    // ‖h − μ^clean_y‖ of each noisy example, summed per true class.
    const { X, dist } = await centreColumns(rt, H, noisy, cleanRun.means);
    X.release();
    const perClass = await classSums(rt, dist, noisy, K);
    dist.release();
    const [distData, countData] = await downloadAll(rt, [
      perClass.sums,
      perClass.counts,
    ]);
    cleanRun.means.release();
    clean.release();
    noisy.release();
    const inGrouping = observed.statistics.map((s) =>
      Array.from(s.counts).reduce((a, n) => a + n, 0),
    );
    memorization = cleanRun.statistics.map((s, b) =>
      finalizeMemorization(
        s,
        cleanMetrics[b]!,
        distData!.subarray(b * 2 * K, b * 2 * K + K),
        countData!.subarray(b * K, (b + 1) * K),
        inGrouping[b]!,
      ),
    );
  }
  observed.means.release();
  return observedMetrics.map((o, b) => ({
    observed: o,
    true: trueMetrics?.[b] ?? null,
    memorization: memorization?.[b] ?? null,
  }));
}
