// The float64 end of the collapse metrics (science.md §4–5): from the few
// numbers the GPU reductions leave per grouping — class counts and sums,
// the projected within-class matrix A = PPᵀ/N (K×K), per-class sums of
// ‖h − μ_k‖ and ‖h − μ_k‖², classification counts — to NC1–NC4, CDNV, the
// trace ratio, memorization and dilation. Everything here is K×K or d×K.
//
// NC1 = Tr((G†)² A) with G = M̃ᵀM̃ (Papyan, Han & Donoho 2020; the projected
// form of science.md §4). G† is the exact rank-one completion
// (G + wwᵀ)⁻¹ − wwᵀ, w ∝ (n_k), when G has rank K' − 1 (affinely independent
// means); otherwise the pseudo-inverse from a symmetric eigendecomposition
// with the relative cutoff PINV_RELATIVE_CUTOFF, and the result says so.

import { invertMatrix } from '../reference/collapse';
import { PINV_RELATIVE_CUTOFF, symmetricEigen } from '../util/linalg';

/** What the GPU leaves for one grouping of one feature set. */
export interface GroupingStatistics {
  K: number;
  d: number;
  /** Examples per class (K). */
  counts: ArrayLike<number>;
  /** Class sums, d×K (entry i·K + k). */
  sums: ArrayLike<number>;
  /** A = Σ_n p_n p_nᵀ with p_n = M̃ᵀ(h_n − μ_(y_n)), K×K (not yet / N). */
  projected: ArrayLike<number>;
  /** Per class: Σ ‖h − μ_k‖ and Σ ‖h − μ_k‖² (2×K: row 0, then row 1). */
  distances: ArrayLike<number>;
  /** The M̃ the GPU projected with (d×K), so that G matches A exactly. */
  centredMeans: ArrayLike<number>;
  /** Σ_n (h_n − μ)(h_n − μ)ᵀ (d×d), when the full covariance was formed. */
  withinScatter?: ArrayLike<number>;
  /** Counts over the grouping's examples: [NC4 mismatches, hits]. */
  classification?: { mismatches: number; correct: number };
  /** Classifier rows (K×d), for NC2's classifier equinorm and NC3. */
  W?: ArrayLike<number>;
  /** The feature dimension before padding (d by default): NC2's test. */
  featureDim?: number;
}

export interface GroupingMetrics {
  counts: number[];
  /** Classes without examples, left out of every metric. */
  emptyClasses: number[];
  /** Class means, d×K (NaN columns for empty classes). */
  means: number[];
  /** The sample-weighted global mean (science.md §4 convention). */
  globalMean: number[];
  nc1: number;
  /** How G† was formed: the exact completion, or eigen with a cutoff. */
  nc1Method: 'rank-one' | 'eigen';
  /** Rank of G = M̃ᵀM̃ (of the between-class scatter). */
  nc1Rank: number;
  /** Tr(Σ_W pinv(Σ_B))/K' from the full d×d matrices, if formed. */
  nc1Pinv: number | null;
  /** Eigenvalues of Σ_W and Σ_B, descending, if the d×d Σ_W was formed. */
  spectra: { within: number[]; between: number[] } | null;
  /** Not applicable (null) when K' > d + 1: no simplex ETF exists. */
  nc2: null | {
    equinormMeans: number;
    equinormClassifier: number | null;
    equiangularity: number;
    etfDistance: number;
  };
  nc3: number | null;
  nc4: number | null;
  accuracy: number | null;
  cdnv: number;
  /** σ_k² = mean ‖h − μ_k‖² (NaN for empty classes). */
  classVariances: number[];
  traceRatio: number;
}

export interface MemorizationMetrics {
  noisyFraction: number;
  /** Mean ‖h − μ^clean_y‖ over noisy examples; 0 without noise, NaN when
   * no noisy example has a clean class centre. */
  memorization: number;
  /** Noisy examples whose true class has no clean example (left out). */
  unmeasuredNoisy: number;
  /** Clean class means μ^clean_k, d×K (NaN columns without clean examples). */
  cleanMeans: number[];
  dilationPerClass: number[];
  dilation: number;
  centreDistance: number;
  relativeMemorization: number;
  relativeDilation: number;
  nc1Clean: number;
}

const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));

function meanAndStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const variance =
    values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

/** G† of a K'×K' Gram matrix with null vector ∝ counts (see header). */
export function gramPseudoInverse(
  G: Float64Array,
  counts: ArrayLike<number>,
  size: number,
): { pinv: Float64Array; method: 'rank-one' | 'eigen'; rank: number } {
  if (size < 2)
    return { pinv: new Float64Array(size * size), method: 'eigen', rank: 0 };
  // G's null vector is w ∝ counts in exact arithmetic; project it out so
  // that rounding cannot leave a spurious eigenvalue along it.
  const scale = norm(counts);
  const w = Array.from(counts, (c) => c / scale);
  const Gw = Array.from({ length: size }, (_, a) => {
    let t = 0;
    for (let b = 0; b < size; b++) t += G[a * size + b]! * w[b]!;
    return t;
  });
  const wGw = Gw.reduce((t, v, a) => t + v * w[a]!, 0);
  const Gp = Float64Array.from(G, (g, i) => {
    const a = Math.floor(i / size);
    const b = i % size;
    return g - w[a]! * Gw[b]! - Gw[a]! * w[b]! + w[a]! * w[b]! * wGw;
  });
  const { values, vectors } = symmetricEigen(Gp, size);
  const largest = Math.max(0, ...Array.from(values, Math.abs));
  const kept = Array.from(values, (v) =>
    largest > 0 && Math.abs(v) > PINV_RELATIVE_CUTOFF * largest ? v : 0,
  );
  const rank = kept.filter((v) => v !== 0).length;
  if (rank === size - 1) {
    const completed = Float64Array.from(Gp, (g, i) => {
      const a = Math.floor(i / size);
      return g + w[a]! * w[i % size]!;
    });
    const inverse = invertMatrix(completed, size);
    return {
      pinv: inverse.map((v, i) => v - w[Math.floor(i / size)]! * w[i % size]!),
      method: 'rank-one',
      rank,
    };
  }
  const pinv = new Float64Array(size * size);
  kept.forEach((v, j) => {
    if (v === 0) return;
    for (let a = 0; a < size; a++) {
      for (let b = 0; b < size; b++)
        pinv[a * size + b]! +=
          (vectors[a * size + j]! * vectors[b * size + j]!) / v;
    }
  });
  return { pinv, method: 'eigen', rank };
}

function traceOfProduct(A: Float64Array, B: Float64Array, n: number): number {
  let trace = 0;
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) trace += A[a * n + b]! * B[b * n + a]!;
  }
  return trace;
}

function matmulSquare(A: Float64Array, B: Float64Array, n: number) {
  const out = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let c = 0; c < n; c++) {
      const v = A[a * n + c]!;
      for (let b = 0; b < n; b++) out[a * n + b]! += v * B[c * n + b]!;
    }
  }
  return out;
}

/** Every metric of one grouping from its GPU statistics. */
export function finalizeGrouping(s: GroupingStatistics): GroupingMetrics {
  const { K, d } = s;
  const counts = Array.from(s.counts);
  const present = counts.flatMap((n, k) => (n > 0 ? [k] : []));
  const Kp = present.length;
  const N = counts.reduce((a, n) => a + n, 0);
  const means = Array.from({ length: d * K }, (_, j) => {
    const k = j % K;
    return counts[k]! > 0 ? s.sums[j]! / counts[k]! : NaN;
  });
  const globalMean = Array.from({ length: d }, (_, i) => {
    let total = 0;
    for (const k of present) total += s.sums[i * K + k]!;
    return total / N;
  });
  const column = (M: ArrayLike<number>, k: number) =>
    Array.from({ length: d }, (_, i) => M[i * K + k]!);
  const centred = present.map((k) => column(s.centredMeans, k));

  // G = M̃ᵀM̃ and A over the present classes.
  const G = new Float64Array(Kp * Kp);
  const A = new Float64Array(Kp * Kp);
  present.forEach((k, a) =>
    present.forEach((j, b) => {
      G[a * Kp + b] = centred[a]!.reduce(
        (t, v, i) => t + v * centred[b]![i]!,
        0,
      );
      A[a * Kp + b] = s.projected[k * K + j]! / N;
    }),
  );
  const presentCounts = present.map((k) => counts[k]!);
  const { pinv, method, rank } = gramPseudoInverse(G, presentCounts, Kp);
  // One class, or means that all coincide: no between-class spread to
  // measure against, and 0 would read as perfect collapse.
  const nc1 =
    Kp < 2 || rank === 0
      ? NaN
      : traceOfProduct(matmulSquare(pinv, pinv, Kp), A, Kp);

  const classVariances = counts.map((n, k) =>
    n > 0 ? s.distances[K + k]! / n : NaN,
  );
  const traceWithin = present.reduce((t, k) => t + s.distances[K + k]!, 0) / N;
  const traceBetween = centred.reduce((t, m) => t + norm(m) ** 2, 0) / Kp;

  let nc1Pinv: number | null = null;
  let spectra: GroupingMetrics['spectra'] = null;
  if (s.withinScatter) {
    const sigmaB = new Float64Array(d * d);
    for (const m of centred) {
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) sigmaB[i * d + j]! += (m[i]! * m[j]!) / Kp;
      }
    }
    const sigmaW = Float64Array.from(s.withinScatter, (v) => v / N);
    const { values, vectors } = symmetricEigen(sigmaB, d);
    const largest = Math.max(0, ...Array.from(values, Math.abs));
    const pinvB = new Float64Array(d * d);
    values.forEach((v, j) => {
      if (!(Math.abs(v) > PINV_RELATIVE_CUTOFF * largest)) return;
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < d; b++)
          pinvB[a * d + b]! += (vectors[a * d + j]! * vectors[b * d + j]!) / v;
      }
    });
    nc1Pinv = traceOfProduct(sigmaW, pinvB, d) / Kp;
    spectra = {
      within: Array.from(symmetricEigen(sigmaW, d).values),
      between: Array.from(values),
    };
  }

  let cdnv = 0;
  let pairs = 0;
  for (const k of present) {
    for (const j of present) {
      if (j === k) continue;
      const gap = Array.from(
        { length: d },
        (_, i) => means[i * K + k]! - means[i * K + j]!,
      );
      cdnv += (classVariances[k]! + classVariances[j]!) / (2 * norm(gap) ** 2);
      pairs += 1;
    }
  }

  const rows = s.W
    ? present.map((k) => Array.from({ length: d }, (_, i) => s.W![k * d + i]!))
    : null;
  const applicable = Kp >= 2 && Kp <= (s.featureDim ?? d) + 1;
  let nc2: GroupingMetrics['nc2'] = null;
  let nc3: number | null = null;
  if (applicable) {
    const meanNorms = meanAndStd(centred.map(norm));
    const classifierNorms = rows ? meanAndStd(rows.map(norm)) : null;
    let angles = 0;
    for (let a = 0; a < Kp; a++) {
      for (let b = 0; b < Kp; b++) {
        if (a === b) continue;
        const cos = G[a * Kp + b]! / Math.sqrt(G[a * Kp + a]! * G[b * Kp + b]!);
        angles += Math.abs(cos + 1 / (Kp - 1));
      }
    }
    const gNorm = norm(G);
    let etf = 0;
    for (let a = 0; a < Kp; a++) {
      for (let b = 0; b < Kp; b++) {
        const target = ((a === b ? 1 : 0) - 1 / Kp) / Math.sqrt(Kp - 1);
        etf += (G[a * Kp + b]! / gNorm - target) ** 2;
      }
    }
    nc2 = {
      equinormMeans: meanNorms.std / meanNorms.mean,
      equinormClassifier: classifierNorms
        ? classifierNorms.std / classifierNorms.mean
        : null,
      equiangularity: angles / (Kp * (Kp - 1)),
      etfDistance: Math.sqrt(etf),
    };
    if (rows) {
      const wNorm = norm(rows.flat());
      const mNorm = norm(centred.flat());
      let gap = 0;
      rows.forEach((w, a) =>
        w.forEach(
          (v, i) => (gap += (v / wNorm - centred[a]![i]! / mNorm) ** 2),
        ),
      );
      nc3 = Math.sqrt(gap);
    }
  }

  return {
    counts,
    emptyClasses: counts.flatMap((n, k) => (n === 0 ? [k] : [])),
    means,
    globalMean,
    nc1,
    nc1Method: method,
    nc1Rank: rank,
    nc1Pinv,
    spectra,
    nc2,
    nc3,
    nc4: s.classification ? s.classification.mismatches / N : null,
    accuracy: s.classification ? s.classification.correct / N : null,
    cdnv: pairs > 0 ? cdnv / pairs : NaN,
    classVariances,
    traceRatio: Kp < 2 ? NaN : traceWithin / traceBetween,
  };
}

/**
 * Memorization and dilation (science.md §5; Nguyen et al., ICLR 2023) from
 * the clean grouping's statistics and the per-true-class sums of
 * ‖h − μ^clean_y‖ over noisy examples.
 */
export function finalizeMemorization(
  clean: GroupingStatistics,
  cleanMetrics: GroupingMetrics,
  noisyDistance: ArrayLike<number>,
  noisyCounts: ArrayLike<number>,
  N: number,
): MemorizationMetrics {
  const { K, d } = clean;
  const withClean = cleanMetrics.counts.flatMap((n, k) => (n > 0 ? [k] : []));
  // Noisy examples of a class without clean examples have no clean centre:
  // they are left out of the memorization.
  let noisy = 0;
  let total = 0;
  for (const k of withClean) {
    noisy += noisyCounts[k]!;
    total += noisyDistance[k]!;
  }
  const allNoisy = Array.from(noisyCounts).reduce((a, n) => a + n, 0);
  const memorization = noisy > 0 ? total / noisy : allNoisy > 0 ? NaN : 0;
  const dilationPerClass = cleanMetrics.classVariances.map((v) =>
    Number.isNaN(v) ? NaN : Math.sqrt(v),
  );
  const dilation =
    withClean.reduce((a, k) => a + dilationPerClass[k]!, 0) / withClean.length;
  let distance = 0;
  let pairs = 0;
  for (const k of withClean) {
    for (const j of withClean) {
      if (j <= k) continue;
      const gap = Array.from(
        { length: d },
        (_, i) =>
          cleanMetrics.means[i * K + k]! - cleanMetrics.means[i * K + j]!,
      );
      distance += norm(gap);
      pairs += 1;
    }
  }
  const centreDistance = pairs > 0 ? distance / pairs : NaN;
  return {
    noisyFraction: allNoisy / N,
    memorization,
    unmeasuredNoisy: allNoisy - noisy,
    cleanMeans: cleanMetrics.means,
    dilationPerClass,
    dilation,
    centreDistance,
    relativeMemorization: memorization / centreDistance,
    relativeDilation: dilation / centreDistance,
    nc1Clean: cleanMetrics.nc1,
  };
}
