// Float64 reference of every collapse metric, written from the definitions
// (d×d covariances, an explicit pseudo-inverse) so that it shares no algebra
// with the GPU kernels it checks. Definitions: science.md §4 (collapse) and
// §5 (memorization and dilation), after
// - Papyan, Han & Donoho, "Prevalence of neural collapse during the terminal
//   phase of deep learning training", PNAS 2020 (NC1–NC4);
// - Galanti, György & Hutter, "On the role of neural collapse in transfer
//   learning", ICLR 2022 (class-distance normalised variance, CDNV);
// - Nguyen, Levie, Lienen, Kutyniok & Hüllermeier, "Memorization-Dilation:
//   modeling neural collapse under label noise", ICLR 2023 (memorization,
//   dilation).
// NC1 here is Tr(Σ_W Σ_B†)/K' with Σ_B† from pinvSymmetric: the cross-check
// variant of science.md §4, against the K×K form of ./collapse.ts and the GPU.
//
// LIMITATION: Σ_W costs O(N·d²) and the eigensolver O(d³) per sweep; meant
// for test-sized problems (d up to a few hundred), not for sweeps.

import { InvalidArgumentError } from '../gpu/errors';
import { PINV_RELATIVE_CUTOFF, pinvSymmetric } from '../util/linalg';

export interface FeatureSet {
  K: number;
  d: number;
  N: number;
  /** d×N, H[i*N + n] is coordinate i of example n. */
  H: ArrayLike<number>;
  /** Observed labels, integers in [0, K). */
  labels: ArrayLike<number>;
  /** Optional true labels, integers in [0, K). */
  trueLabels?: ArrayLike<number>;
  /** Optional classifier K×d, W[k*d + i]. */
  W?: ArrayLike<number>;
  /** Optional bias (K); 0 when W is given without b. Needs W. */
  b?: ArrayLike<number>;
}

/** NC2 of a grouping (science.md §4), over its non-empty classes. */
export interface Nc2Metrics {
  /** Population std / mean of ‖μ_k − μ_G‖. */
  equinormMeans: number;
  /** Population std / mean of ‖w_k‖ over non-empty k; null without W. */
  equinormClassifier: number | null;
  /** Mean over k ≠ j of |cos(μ̃_k, μ̃_j) + 1/(K'−1)|. */
  equiangularity: number;
  /** ‖G/‖G‖_F − (I − 11ᵀ/K')/√(K'−1)‖_F, G = M̃ᵀM̃ (K'×K'). */
  etfDistance: number;
}

/**
 * Every collapse metric of one grouping of the examples (by observed or by
 * true labels).
 *
 * Decisions where the definitions leave room:
 * - Empty classes (no example with that label) are listed in `emptyClasses`
 *   and excluded from every metric: K' = K − (number of empty classes)
 *   replaces K, Σ_B and the NC2/NC3 matrices have K' columns, and NC3 and
 *   the classifier equinorm use only the rows w_k of non-empty classes.
 *   The classifier's argmax (NC4, accuracy) still runs over all K rows:
 *   that is what the network predicts; a prediction of an empty class
 *   always disagrees with the nearest class mean.
 * - Every example belongs to a non-empty class of its own grouping, so NC4
 *   and accuracy are fractions of all N examples.
 * - Ties in argmax_k(w_k·h + b_k) and argmin_k ‖h − μ_k‖ (exact float64
 *   equality) go to the smallest class index.
 * - K' = 1 (one non-empty class): there is no between-class spread, so nc1,
 *   cdnv and traceRatio are NaN, nc1Rank is 0 and nc2/nc3 are null.
 * - Means that coincide: Σ_B loses rank and the pseudo-inverse simply
 *   drops those directions (nc1Rank says how many remain). If all means
 *   coincide (Σ_B = 0, rank 0) nc1 is NaN rather than the 0 the formula
 *   gives, which would read as perfect collapse. Elsewhere IEEE division
 *   stands: cdnv and traceRatio become Infinity (or NaN for 0/0), and a
 *   centred mean of norm 0 makes the NC2 cosines and ratios NaN.
 *   LIMITATION: "coincide" means equal in float64. Means equal only up to
 *   rounding leave Σ_B with eigenvalues of rounding size; the cutoff is
 *   relative to Σ_B's own largest eigenvalue, so when nothing larger is
 *   present they are kept and nc1 comes out huge. An absolute floor would
 *   need a scale the definition does not give.
 * - NC2 and NC3 are null ("not applicable") when K' > d + 1 (no simplex ETF
 *   exists) or K' < 2. For K' = 2 the means' equinorm and ETF distance are
 *   fixed by the two class counts (0 when balanced): no geometry in them.
 */
export interface GroupingMetrics {
  /** Examples per class (length K). */
  counts: number[];
  /** Classes with no example, ascending: excluded from every metric. */
  emptyClasses: number[];
  /** d×K class means, means[i*K + k]; NaN columns for empty classes. */
  means: number[];
  /** Sample-weighted global mean μ_G = (1/N) Σ_i h_i (length d). */
  globalMean: number[];
  /** Tr(Σ_W Σ_B†)/K', Σ_B† = pinvSymmetric(Σ_B) with PINV_RELATIVE_CUTOFF. */
  nc1: number;
  /** Rank of Σ_B kept by the pseudo-inverse. */
  nc1Rank: number;
  /** Null when K' > d + 1 or K' < 2 (not applicable). */
  nc2: Nc2Metrics | null;
  /** ‖W'ᵀ/‖W'‖_F − M̃/‖M̃‖_F‖_F (W' = rows of non-empty classes). */
  nc3: number | null;
  /** Fraction of examples where argmax_k(w_k·h+b_k) ≠ argmin_k ‖h − μ_k‖. */
  nc4: number | null;
  /** Fraction with argmax_k(w_k·h+b_k) equal to this grouping's label. */
  accuracy: number | null;
  /** Mean over k ≠ j of (σ_k² + σ_j²)/(2‖μ_k − μ_j‖²). */
  cdnv: number;
  /** σ_k² = mean ‖h − μ_k‖² over class k (NaN for empty classes). */
  classVariances: number[];
  /** Tr Σ_W / Tr Σ_B. */
  traceRatio: number;
}

/**
 * Memorization and dilation (science.md §5), from the examples whose
 * observed label equals their true label ("clean") and the others
 * ("noisy"). Decisions:
 * - A noisy example whose true class has no clean example has no clean
 *   centre to be measured from: it is left out of `memorization` and
 *   counted in `unmeasuredNoisy`. memorization is 0 when there is no noisy
 *   example and NaN when there are some but none can be measured.
 * - dilationPerClass is NaN for a class without clean examples; dilation
 *   averages the others. centreDistance averages over unordered pairs of
 *   classes with clean examples (NaN for fewer than two); the relative
 *   forms divide by it (IEEE division if it is 0).
 * - nc1Clean is the `nc1` of {@link GroupingMetrics} over the clean
 *   examples grouped by their label, with the same conventions (NaN when
 *   there is no clean example).
 */
export interface MemorizationMetrics {
  /** Fraction of examples with observed ≠ true label. */
  noisyFraction: number;
  /** Mean over noisy i of ‖h_i − μ^clean_{y_i}‖ (0 if none). */
  memorization: number;
  /** Noisy examples left out of memorization (true class has no clean). */
  unmeasuredNoisy: number;
  /** d×K clean class means μ^clean_k, [i*K + k]; NaN columns if none. */
  cleanMeans: number[];
  /** √(mean ‖h − μ^clean_k‖²) over clean examples of true class k. */
  dilationPerClass: number[];
  /** Mean of dilationPerClass over classes with clean examples. */
  dilation: number;
  /** Mean over pairs of ‖μ^clean_k − μ^clean_j‖. */
  centreDistance: number;
  /** memorization / centreDistance. */
  relativeMemorization: number;
  /** dilation / centreDistance. */
  relativeDilation: number;
  /** NC1 over clean examples only, grouped by their (= true) label. */
  nc1Clean: number;
}

/** Conventions the numbers depend on (science.md §4 asks to state them). */
export interface MetricConventions {
  globalMean: 'sample-weighted';
  nc1: string;
  nc4: 'argmax of W h + b (bias included) vs nearest class mean';
}

export interface CollapseMetrics {
  /** Grouped by the observed labels (what training sees). */
  observed: GroupingMetrics;
  /** Grouped by the true labels; null without trueLabels. */
  true: GroupingMetrics | null;
  /** Null without trueLabels. */
  memorization: MemorizationMetrics | null;
  conventions: MetricConventions;
}

const OP = 'collapseMetricsReference';

function invalid(field: string, value: unknown, expected: string): never {
  throw new InvalidArgumentError(
    `${OP}: ${field} = ${String(value)} is invalid; expected ${expected}`,
  );
}

function requireSize(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    invalid(name, value, 'an integer ≥ 1');
  }
}

function requireFinite(
  name: string,
  values: ArrayLike<number>,
  length: number,
  shape: string,
): void {
  if (values.length !== length) {
    invalid(`${name}.length`, values.length, `${shape} = ${length}`);
  }
  for (let i = 0; i < length; i++) {
    if (!Number.isFinite(values[i])) {
      invalid(`${name}[${i}]`, values[i], 'a finite number');
    }
  }
}

function requireLabels(
  name: string,
  values: ArrayLike<number>,
  N: number,
  K: number,
): void {
  if (values.length !== N) {
    invalid(`${name}.length`, values.length, `N = ${N}`);
  }
  for (let n = 0; n < N; n++) {
    const y = values[n]!;
    if (!Number.isInteger(y) || y < 0 || y >= K) {
      invalid(`${name}[${n}]`, y, `an integer from 0 to K − 1 = ${K - 1}`);
    }
  }
}

function validate(set: FeatureSet): void {
  const { K, d, N } = set;
  requireSize('K', K);
  requireSize('d', d);
  requireSize('N', N);
  requireFinite('H', set.H, d * N, `d·N (d = ${d}, N = ${N})`);
  requireLabels('labels', set.labels, N, K);
  if (set.trueLabels !== undefined) {
    requireLabels('trueLabels', set.trueLabels, N, K);
  }
  if (set.W !== undefined) {
    requireFinite('W', set.W, K * d, `K·d (K = ${K}, d = ${d})`);
  }
  if (set.b !== undefined) {
    if (set.W === undefined) {
      throw new InvalidArgumentError(
        `${OP}: b is given without W; expected W (K×d) with b, or neither`,
      );
    }
    requireFinite('b', set.b, K, `K`);
  }
}

/** Population std / mean. */
function relativeStd(values: number[]): number {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance =
    values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  return Math.sqrt(variance) / mean;
}

/** The classifier's prediction for example n (ties: smallest index). */
function predict(
  W: ArrayLike<number>,
  b: ArrayLike<number> | undefined,
  H: ArrayLike<number>,
  K: number,
  d: number,
  N: number,
  n: number,
): number {
  let best = 0;
  let bestLogit = -Infinity;
  for (let k = 0; k < K; k++) {
    let z = b === undefined ? 0 : b[k]!;
    for (let i = 0; i < d; i++) z += W[k * d + i]! * H[i * N + n]!;
    if (z > bestLogit) {
      bestLogit = z;
      best = k;
    }
  }
  return best;
}

/** All metrics of one grouping; inputs already validated. */
function groupingMetrics(
  H: ArrayLike<number>,
  labels: ArrayLike<number>,
  K: number,
  d: number,
  N: number,
  W: ArrayLike<number> | undefined,
  b: ArrayLike<number> | undefined,
): GroupingMetrics {
  const counts = new Array<number>(K).fill(0);
  for (let n = 0; n < N; n++) counts[labels[n]!]!++;
  const present: number[] = [];
  const emptyClasses: number[] = [];
  for (let k = 0; k < K; k++) (counts[k]! > 0 ? present : emptyClasses).push(k);
  const Kp = present.length;

  // Class means (d×K) and the sample-weighted global mean.
  const means = new Array<number>(d * K).fill(0);
  const globalMean = new Array<number>(d).fill(0);
  for (let i = 0; i < d; i++) {
    for (let n = 0; n < N; n++) {
      means[i * K + labels[n]!]! += H[i * N + n]!;
      globalMean[i]! += H[i * N + n]!;
    }
    globalMean[i]! /= N;
    for (let k = 0; k < K; k++) {
      means[i * K + k] = counts[k]! > 0 ? means[i * K + k]! / counts[k]! : NaN;
    }
  }

  // Σ_W = (1/N) Σ_i r_i r_iᵀ, r_i = h_i − μ_(y_i); σ_k² from the same r_i.
  const sigmaW = new Float64Array(d * d);
  const squaredSums = new Array<number>(K).fill(0);
  const r = new Float64Array(d);
  for (let n = 0; n < N; n++) {
    const y = labels[n]!;
    for (let i = 0; i < d; i++) r[i] = H[i * N + n]! - means[i * K + y]!;
    for (let i = 0; i < d; i++) {
      squaredSums[y]! += r[i]! * r[i]!;
      for (let j = i; j < d; j++) sigmaW[i * d + j]! += r[i]! * r[j]!;
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      sigmaW[i * d + j]! /= N;
      sigmaW[j * d + i] = sigmaW[i * d + j]!;
    }
  }
  const classVariances = counts.map((c, k) =>
    c > 0 ? squaredSums[k]! / c : NaN,
  );

  // M̃ (d×K'): centred means of the non-empty classes; Σ_B = M̃M̃ᵀ/K'.
  const centred = new Float64Array(d * Kp);
  for (let i = 0; i < d; i++) {
    for (let c = 0; c < Kp; c++) {
      centred[i * Kp + c] = means[i * K + present[c]!]! - globalMean[i]!;
    }
  }
  const sigmaB = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let c = 0; c < Kp; c++)
        s += centred[i * Kp + c]! * centred[j * Kp + c]!;
      sigmaB[i * d + j] = s / Kp;
      sigmaB[j * d + i] = s / Kp;
    }
  }

  // NC1 = Tr(Σ_W Σ_B†)/K'.
  const { pinv, rank } = pinvSymmetric(sigmaB, d, PINV_RELATIVE_CUTOFF);
  let traceProduct = 0;
  let traceW = 0;
  let traceB = 0;
  for (let i = 0; i < d; i++) {
    traceW += sigmaW[i * d + i]!;
    traceB += sigmaB[i * d + i]!;
    for (let j = 0; j < d; j++) {
      traceProduct += sigmaW[i * d + j]! * pinv[j * d + i]!;
    }
  }
  const between = Kp >= 2;
  const nc1 = between && rank > 0 ? traceProduct / Kp : NaN;
  const traceRatio = between ? traceW / traceB : NaN;

  // CDNV over unordered pairs of non-empty classes (= ordered k ≠ j).
  let cdnvSum = 0;
  for (let c = 0; c < Kp; c++) {
    for (let e = c + 1; e < Kp; e++) {
      const k = present[c]!;
      const j = present[e]!;
      let distance2 = 0;
      for (let i = 0; i < d; i++) {
        distance2 += (means[i * K + k]! - means[i * K + j]!) ** 2;
      }
      cdnvSum += (classVariances[k]! + classVariances[j]!) / (2 * distance2);
    }
  }
  const cdnv = between ? cdnvSum / ((Kp * (Kp - 1)) / 2) : NaN;

  const applicable = between && Kp <= d + 1;
  const nc2 = applicable ? nc2Metrics(centred, Kp, d, present, W) : null;
  const nc3 =
    applicable && W !== undefined
      ? selfDuality(centred, Kp, d, present, W)
      : null;

  let nc4: number | null = null;
  let accuracy: number | null = null;
  if (W !== undefined) {
    let disagree = 0;
    let correct = 0;
    for (let n = 0; n < N; n++) {
      const predicted = predict(W, b, H, K, d, N, n);
      let nearest = present[0]!;
      let nearestDistance = Infinity;
      for (const k of present) {
        let distance2 = 0;
        for (let i = 0; i < d; i++) {
          distance2 += (H[i * N + n]! - means[i * K + k]!) ** 2;
        }
        if (distance2 < nearestDistance) {
          nearestDistance = distance2;
          nearest = k;
        }
      }
      if (predicted !== nearest) disagree++;
      if (predicted === labels[n]) correct++;
    }
    nc4 = disagree / N;
    accuracy = correct / N;
  }

  return {
    counts,
    emptyClasses,
    means,
    globalMean,
    nc1,
    nc1Rank: rank,
    nc2,
    nc3,
    nc4,
    accuracy,
    cdnv,
    classVariances,
    traceRatio,
  };
}

/** NC2 from the centred means M̃ (d×K'); 2 ≤ K' ≤ d + 1. */
function nc2Metrics(
  centred: Float64Array,
  Kp: number,
  d: number,
  present: number[],
  W: ArrayLike<number> | undefined,
): Nc2Metrics {
  // G = M̃ᵀM̃ (K'×K').
  const G = new Float64Array(Kp * Kp);
  for (let c = 0; c < Kp; c++) {
    for (let e = 0; e < Kp; e++) {
      let s = 0;
      for (let i = 0; i < d; i++)
        s += centred[i * Kp + c]! * centred[i * Kp + e]!;
      G[c * Kp + e] = s;
    }
  }
  const norms = Array.from({ length: Kp }, (_, c) => Math.sqrt(G[c * Kp + c]!));

  let angleSum = 0;
  for (let c = 0; c < Kp; c++) {
    for (let e = c + 1; e < Kp; e++) {
      const cos = G[c * Kp + e]! / (norms[c]! * norms[e]!);
      angleSum += Math.abs(cos + 1 / (Kp - 1));
    }
  }
  const equiangularity = angleSum / ((Kp * (Kp - 1)) / 2);

  // The target (I − 11ᵀ/K')/√(K'−1) has unit Frobenius norm.
  let gNorm2 = 0;
  for (const g of G) gNorm2 += g * g;
  const gNorm = Math.sqrt(gNorm2);
  const targetScale = 1 / Math.sqrt(Kp - 1);
  let etf2 = 0;
  for (let c = 0; c < Kp; c++) {
    for (let e = 0; e < Kp; e++) {
      const target = ((c === e ? 1 : 0) - 1 / Kp) * targetScale;
      etf2 += (G[c * Kp + e]! / gNorm - target) ** 2;
    }
  }

  let equinormClassifier: number | null = null;
  if (W !== undefined) {
    equinormClassifier = relativeStd(
      present.map((k) => {
        let s = 0;
        for (let i = 0; i < d; i++) s += W[k * d + i]! ** 2;
        return Math.sqrt(s);
      }),
    );
  }

  return {
    equinormMeans: relativeStd(norms),
    equinormClassifier,
    equiangularity,
    etfDistance: Math.sqrt(etf2),
  };
}

/** NC3 = ‖W'ᵀ/‖W'‖_F − M̃/‖M̃‖_F‖_F over the non-empty classes. */
function selfDuality(
  centred: Float64Array,
  Kp: number,
  d: number,
  present: number[],
  W: ArrayLike<number>,
): number {
  let wNorm2 = 0;
  let mNorm2 = 0;
  for (let c = 0; c < Kp; c++) {
    for (let i = 0; i < d; i++) {
      wNorm2 += W[present[c]! * d + i]! ** 2;
      mNorm2 += centred[i * Kp + c]! ** 2;
    }
  }
  const wNorm = Math.sqrt(wNorm2);
  const mNorm = Math.sqrt(mNorm2);
  let distance2 = 0;
  for (let c = 0; c < Kp; c++) {
    for (let i = 0; i < d; i++) {
      distance2 +=
        (W[present[c]! * d + i]! / wNorm - centred[i * Kp + c]! / mNorm) ** 2;
    }
  }
  return Math.sqrt(distance2);
}

function memorizationMetrics(
  H: ArrayLike<number>,
  labels: ArrayLike<number>,
  trueLabels: ArrayLike<number>,
  K: number,
  d: number,
  N: number,
): MemorizationMetrics {
  const clean: number[] = [];
  const noisy: number[] = [];
  for (let n = 0; n < N; n++) {
    (labels[n] === trueLabels[n] ? clean : noisy).push(n);
  }

  // Clean class means μ^clean_k (d×K, NaN for classes without clean).
  const cleanCounts = new Array<number>(K).fill(0);
  for (const n of clean) cleanCounts[trueLabels[n]!]!++;
  const cleanMeans = new Array<number>(d * K).fill(0);
  for (let i = 0; i < d; i++) {
    for (const n of clean) cleanMeans[i * K + trueLabels[n]!]! += H[i * N + n]!;
    for (let k = 0; k < K; k++) {
      cleanMeans[i * K + k] =
        cleanCounts[k]! > 0 ? cleanMeans[i * K + k]! / cleanCounts[k]! : NaN;
    }
  }
  const distanceToCentre = (n: number, k: number): number => {
    let s = 0;
    for (let i = 0; i < d; i++)
      s += (H[i * N + n]! - cleanMeans[i * K + k]!) ** 2;
    return Math.sqrt(s);
  };

  let memorizationSum = 0;
  let measured = 0;
  for (const n of noisy) {
    const t = trueLabels[n]!;
    if (cleanCounts[t] === 0) continue;
    memorizationSum += distanceToCentre(n, t);
    measured++;
  }
  const memorization =
    noisy.length === 0 ? 0 : measured === 0 ? NaN : memorizationSum / measured;

  const squaredSums = new Array<number>(K).fill(0);
  for (const n of clean)
    squaredSums[trueLabels[n]!]! += distanceToCentre(n, trueLabels[n]!) ** 2;
  const withClean: number[] = [];
  const dilationPerClass = cleanCounts.map((c, k) => {
    if (c === 0) return NaN;
    withClean.push(k);
    return Math.sqrt(squaredSums[k]! / c);
  });
  const dilation =
    withClean.length === 0
      ? NaN
      : withClean.reduce((s, k) => s + dilationPerClass[k]!, 0) /
        withClean.length;

  let centreSum = 0;
  let pairs = 0;
  for (let a = 0; a < withClean.length; a++) {
    for (let c = a + 1; c < withClean.length; c++) {
      let s = 0;
      for (let i = 0; i < d; i++) {
        s +=
          (cleanMeans[i * K + withClean[a]!]! -
            cleanMeans[i * K + withClean[c]!]!) **
          2;
      }
      centreSum += Math.sqrt(s);
      pairs++;
    }
  }
  const centreDistance = pairs === 0 ? NaN : centreSum / pairs;

  // NC1 of the clean examples alone, grouped by their label.
  let nc1Clean = NaN;
  if (clean.length > 0) {
    const Nc = clean.length;
    const cleanH = new Float64Array(d * Nc);
    for (let i = 0; i < d; i++) {
      clean.forEach((n, m) => (cleanH[i * Nc + m] = H[i * N + n]!));
    }
    const cleanLabels = clean.map((n) => trueLabels[n]!);
    nc1Clean = groupingMetrics(
      cleanH,
      cleanLabels,
      K,
      d,
      Nc,
      undefined,
      undefined,
    ).nc1;
  }

  return {
    noisyFraction: noisy.length / N,
    memorization,
    unmeasuredNoisy: noisy.length - measured,
    cleanMeans,
    dilationPerClass,
    dilation,
    centreDistance,
    relativeMemorization: memorization / centreDistance,
    relativeDilation: dilation / centreDistance,
    nc1Clean,
  };
}

/**
 * Every collapse metric of a feature set, grouped by observed labels and,
 * when `trueLabels` is given, by true labels, with memorization and
 * dilation. Validates the input first; throws InvalidArgumentError naming
 * the field, its value and what is allowed.
 */
export function collapseMetricsReference(set: FeatureSet): CollapseMetrics {
  validate(set);
  const { K, d, N, H, labels, trueLabels, W, b } = set;
  return {
    observed: groupingMetrics(H, labels, K, d, N, W, b),
    true:
      trueLabels === undefined
        ? null
        : groupingMetrics(H, trueLabels, K, d, N, W, b),
    memorization:
      trueLabels === undefined
        ? null
        : memorizationMetrics(H, labels, trueLabels, K, d, N),
    conventions: {
      globalMean: 'sample-weighted',
      nc1:
        `Tr(Σ_W Σ_B†)/K' with Σ_B† = d×d eigen-pseudo-inverse, relative ` +
        `cutoff ${PINV_RELATIVE_CUTOFF}`,
      nc4: 'argmax of W h + b (bias included) vs nearest class mean',
    },
  };
}
