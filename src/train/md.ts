// Trains a batch of memorization-dilation (md) model configurations on the
// GPU (science.md §7), all in the same dispatches. Per step: the feature
// points from the parameters (kernels/md.wgsl), the ufm's fused loss on them
// with the counts as weights, the loss totals and divergence check, the
// classifier gradients (two matrix products and a class sum), ∂F/∂centres
// and ∂F/∂groups through r = λ·m, and the three optimizer updates. Results
// (memorization, dilation, test accuracy) are finished in float64 on the
// host from the final parameters, which are tiny.

import type { Runtime } from '../gpu/runtime';
import { checkFinite, optimizerStep } from '../kernels/optimizer';
import {
  initialMdParams,
  mdEvaluate,
  mdGroups,
  mdTestAccuracyExact,
  mdTestAccuracyMonteCarlo,
  type MdParams,
  type MdProblem,
} from '../reference/md';
import {
  batchSteps,
  logSpacedSteps,
  trajectoryPoints,
  type TrajectoryPoint,
} from './batch';
import {
  createMdBatch,
  mdForward,
  mdGradientTensors,
  mdProblemOf,
  releaseMdBatch,
  totalCount,
  unpack,
  type MdTrainConfig,
} from './mdBatch';

export { mdProblemOf, type MdTrainConfig };

/** Memorization and dilation (science.md §5) of the md model's features. */
export interface MdMeasures {
  /** Per class: mean ‖g_tj − c_t‖ over its mislabelled examples (0 if none). */
  memorizationPerClass: number[];
  /** Mean over all mislabelled examples (0 without noise). */
  memorization: number;
  /** Per class: √(mean ‖h − c_k‖²) over clean examples, which is |r_k|. */
  dilationPerClass: number[];
  /** Mean of the per-class dilations. */
  dilation: number;
  /** Mean distance between clean class centres: the relative forms' scale. */
  centreDistance: number;
  relativeMemorization: number;
  relativeDilation: number;
}

export interface MdResult {
  /** Final parameters, float32 as trained: W (K×d), b (K), centres (K×d),
   * group features (one row of d per group of mdGroups). */
  W: Float32Array;
  b: Float32Array;
  centres: Float32Array;
  groups: Float32Array;
  trajectory: TrajectoryPoint[];
  divergedAtStep: number | null;
  /** The measures below are null for a diverged configuration. */
  measures: MdMeasures | null;
  /** The objective F at the final parameters, in float64. */
  objective: number | null;
  /** Class-balanced probability that a test example is classified right. */
  testAccuracy: number | null;
  testAccuracyMethod: 'exact' | 'monte-carlo' | null;
}

/** Memorization and dilation from the definitions, in float64. */
export function mdMeasures(problem: MdProblem, params: MdParams): MdMeasures {
  const { K, d } = problem;
  const { centres, groups: G } = params;
  const { radii } = mdEvaluate(problem, params);
  const distance = (x: (i: number) => number) =>
    Math.hypot(...Array.from({ length: d }, (_, i) => x(i)));

  const sums = new Float64Array(K);
  const counts = new Float64Array(K);
  mdGroups(problem).forEach((g, q) => {
    const t = g.trueClass;
    sums[t]! += g.count * distance((i) => G[q * d + i]! - centres[t * d + i]!);
    counts[t]! += g.count;
  });
  const mislabelled = counts.reduce((a, n) => a + n, 0);
  const memorization =
    mislabelled > 0 ? sums.reduce((a, s) => a + s, 0) / mislabelled : 0;
  const dilationPerClass = Array.from(radii, Math.abs);
  const dilation = dilationPerClass.reduce((a, r) => a + r, 0) / K;
  let pairs = 0;
  let total = 0;
  for (let k = 0; k < K; k++) {
    for (let j = k + 1; j < K; j++) {
      total += distance((i) => centres[k * d + i]! - centres[j * d + i]!);
      pairs += 1;
    }
  }
  const centreDistance = total / pairs;
  return {
    memorizationPerClass: Array.from(sums, (s, t) =>
      counts[t]! > 0 ? s / counts[t]! : 0,
    ),
    memorization,
    dilationPerClass,
    dilation,
    centreDistance,
    relativeMemorization: memorization / centreDistance,
    relativeDilation: dilation / centreDistance,
  };
}

/**
 * The gradient of F at the given parameters, one configuration each, as
 * the trainer's step computes it: ∂F/∂W and ∂F/∂b (with the weight decay
 * the optimizer adds), ∂F/∂centres and ∂F/∂groups (mdBackward's per-weight
 * columns multiplied back by their weights). For tests and tools that check
 * the model's gradient.
 */
export async function mdGradients(
  rt: Runtime,
  configs: readonly MdTrainConfig[],
  params: readonly MdParams[],
): Promise<
  Array<{
    W: Float32Array;
    b: Float32Array;
    centres: Float32Array;
    groups: Float32Array;
  }>
> {
  const batch = createMdBatch(rt, configs, params);
  try {
    const { points, dZ, totals } = await mdForward(rt, batch);
    totals.release();
    const { gW, gb, gF } = await mdGradientTensors(rt, batch, points, dZ);
    const [Wg, bg, Fg] = await Promise.all(
      [gW, gb, gF].map((t) => rt.download(t)),
    );
    for (const t of [gW, gb, gF]) t.release();
    return unpack(batch, configs, Wg!, bg!, Fg!).map((g, b) => {
      const c = configs[b]!;
      // The optimizer adds the classifier's and the bias's weight decay.
      g.W.forEach((v, i) => (g.W[i] = v + c.lambdaW * params[b]!.W[i]!));
      g.b.forEach((v, k) => (g.b[k] = v + c.lambdaB * params[b]!.b[k]!));
      batch.kernelConfigs[b]!.groups.forEach((group, q) => {
        for (let i = 0; i < c.d; i++) g.groups[q * c.d + i]! *= group.count;
      });
      for (let k = 0; k < c.K; k++) {
        const clean = Math.max(c.counts[k]![k]!, 1);
        for (let i = 0; i < c.d; i++) g.centres[k * c.d + i]! *= clean;
      }
      return g;
    });
  } finally {
    releaseMdBatch(batch);
  }
}

/**
 * Trains every configuration for the same number of steps in one stream of
 * batched dispatches, from the same seeded start as the float64 reference
 * trainer (src/reference/md.ts).
 */
export async function trainMdBatch(
  rt: Runtime,
  configs: readonly MdTrainConfig[],
  onProgress?: (step: number, steps: number) => void,
): Promise<MdResult[]> {
  const B = configs.length;
  const steps = batchSteps('trainMdBatch', configs);
  const problems = configs.map(mdProblemOf);
  const starts = configs.map((c, b) =>
    initialMdParams(problems[b]!, c.seed, c.initScale, c.positive),
  );
  const Ns = configs.map(totalCount);
  const batch = createMdBatch(rt, configs, starts);
  const { W, bias, F } = batch;
  const status = rt.zeros([B, 1, 1], 'u32');

  const logged = new Set(logSpacedSteps(steps));
  const trajectories: TrajectoryPoint[][] = configs.map(() => []);
  try {
    for (let step = 0; step <= steps; step++) {
      const { points, dZ, totals } = await mdForward(rt, batch);
      if (logged.has(step)) {
        const recorded = await trajectoryPoints(
          rt,
          step,
          totals,
          W.params,
          configs,
          Ns,
        );
        recorded.forEach((point, b) => trajectories[b]!.push(point));
        onProgress?.(step, steps);
      }
      if (step === steps) {
        for (const t of [totals, dZ, points]) t.release();
        break;
      }
      await checkFinite(rt, totals, status, step);
      totals.release();
      const { gW, gb, gF } = await mdGradientTensors(rt, batch, points, dZ);
      await optimizerStep(rt, W, gW, status, step);
      await optimizerStep(rt, F, gF, status, step);
      await optimizerStep(rt, bias, gb, status, step);
      for (const t of [gW, gF, gb]) t.release();
    }

    const [Wf, bf, Ff, statusF] = await Promise.all([
      rt.download(W.params),
      rt.download(bias.params),
      rt.download(F.params),
      rt.download(status),
    ]);
    return unpack(batch, configs, Wf, bf, Ff).map((final, b) => {
      const c = configs[b]!;
      const params: MdParams = {
        W: Float64Array.from(final.W),
        b: Float64Array.from(final.b),
        centres: Float64Array.from(final.centres),
        groups: Float64Array.from(final.groups),
      };
      const problem = problems[b]!;
      const divergedAtStep = statusF[b]! === 0 ? null : statusF[b]! - 1;
      const base = {
        ...final,
        trajectory: trajectories[b]!,
        divergedAtStep,
      };
      // A diverged configuration is frozen where its loss first failed:
      // measures of those parameters would mean nothing.
      if (divergedAtStep !== null) {
        return {
          ...base,
          measures: null,
          objective: null,
          testAccuracy: null,
          testAccuracyMethod: null,
        };
      }
      const { radii, objective } = mdEvaluate(problem, params);
      const exact = c.K === 2;
      return {
        ...base,
        measures: mdMeasures(problem, params),
        objective,
        testAccuracy: exact
          ? mdTestAccuracyExact(problem, params, radii)
          : mdTestAccuracyMonteCarlo(
              problem,
              params,
              radii,
              c.testSamples,
              c.seed,
            ),
        testAccuracyMethod: exact ? 'exact' : 'monte-carlo',
      };
    });
  } finally {
    releaseMdBatch(batch);
    status.release();
  }
}
