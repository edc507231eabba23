// Float64 reference of the NC1 collapse metric (science.md §4):
// NC1 = Tr(Σ_W Σ_B†)/K computed without a d×d pseudo-inverse as
// Tr((G†)² A), G = M̃ᵀM̃ (K×K), A = (1/N) P Pᵀ, P = M̃ᵀ(h_i − μ_(y_i)),
// with G† from the exact rank-one completion G† = (G + wwᵀ)⁻¹ − wwᵀ,
// w ∝ (n_1 … n_K) unit. Valid when the class means are affinely
// independent (d ≥ K − 1); the GPU metrics of a later stage are checked
// against this.

/** Inverse of a small nonsingular matrix (Gauss–Jordan, partial pivoting). */
export function invertMatrix(matrix: Float64Array, size: number): Float64Array {
  const a = Float64Array.from(matrix);
  const inv = new Float64Array(size * size);
  for (let i = 0; i < size; i++) inv[i * size + i] = 1;
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let r = col + 1; r < size; r++) {
      if (Math.abs(a[r * size + col]!) > Math.abs(a[pivot * size + col]!))
        pivot = r;
    }
    for (let c = 0; c < size; c++) {
      [a[col * size + c], a[pivot * size + c]] = [
        a[pivot * size + c]!,
        a[col * size + c]!,
      ];
      [inv[col * size + c], inv[pivot * size + c]] = [
        inv[pivot * size + c]!,
        inv[col * size + c]!,
      ];
    }
    const p = a[col * size + col]!;
    for (let c = 0; c < size; c++) {
      a[col * size + c]! /= p;
      inv[col * size + c]! /= p;
    }
    for (let r = 0; r < size; r++) {
      if (r === col) continue;
      const f = a[r * size + col]!;
      for (let c = 0; c < size; c++) {
        a[r * size + c]! -= f * a[col * size + c]!;
        inv[r * size + c]! -= f * inv[col * size + c]!;
      }
    }
  }
  return inv;
}

export interface ClassMeans {
  /** d×K class means (column k is μ_k). */
  means: Float64Array;
  /** d: the sample-weighted global mean. */
  globalMean: Float64Array;
  counts: Float64Array;
}

/** Class means and the sample-weighted global mean of H (d×N). */
export function classMeansReference(
  H: ArrayLike<number>,
  labels: ArrayLike<number>,
  K: number,
  d: number,
): ClassMeans {
  const N = labels.length;
  const means = new Float64Array(d * K);
  const globalMean = new Float64Array(d);
  const counts = new Float64Array(K);
  for (let n = 0; n < N; n++) counts[labels[n]!]! += 1;
  for (let i = 0; i < d; i++) {
    for (let n = 0; n < N; n++) {
      means[i * K + labels[n]!]! += H[i * N + n]!;
      globalMean[i]! += H[i * N + n]! / N;
    }
    for (let k = 0; k < K; k++) means[i * K + k]! /= counts[k]!;
  }
  return { means, globalMean, counts };
}

/** NC1 = Tr(Σ_W Σ_B†)/K, grouped by `labels` (every class non-empty). */
export function nc1Reference(
  H: ArrayLike<number>,
  labels: ArrayLike<number>,
  K: number,
  d: number,
): number {
  const N = labels.length;
  const { means, globalMean, counts } = classMeansReference(H, labels, K, d);
  // M̃ (d×K), centred by the global mean.
  const Mc = new Float64Array(d * K);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < K; k++)
      Mc[i * K + k] = means[i * K + k]! - globalMean[i]!;
  }
  // G + wwᵀ with w = counts/‖counts‖, then G† = (G + wwᵀ)⁻¹ − wwᵀ.
  const norm = Math.hypot(...counts);
  const w = counts.map((c) => c / norm);
  const G = new Float64Array(K * K);
  for (let a = 0; a < K; a++) {
    for (let b = 0; b < K; b++) {
      let g = 0;
      for (let i = 0; i < d; i++) g += Mc[i * K + a]! * Mc[i * K + b]!;
      G[a * K + b] = g + w[a]! * w[b]!;
    }
  }
  const Gpinv = invertMatrix(G, K);
  for (let a = 0; a < K; a++) {
    for (let b = 0; b < K; b++) Gpinv[a * K + b]! -= w[a]! * w[b]!;
  }
  // A = (1/N) Σ_n p_n p_nᵀ, p_n = M̃ᵀ (h_n − μ_(y_n)).
  const A = new Float64Array(K * K);
  const p = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    const y = labels[n]!;
    p.fill(0);
    for (let i = 0; i < d; i++) {
      const r = H[i * N + n]! - means[i * K + y]!;
      for (let k = 0; k < K; k++) p[k]! += Mc[i * K + k]! * r;
    }
    for (let a = 0; a < K; a++) {
      for (let b = 0; b < K; b++) A[a * K + b]! += (p[a]! * p[b]!) / N;
    }
  }
  // Tr(G† G† A).
  let trace = 0;
  for (let a = 0; a < K; a++) {
    for (let b = 0; b < K; b++) {
      let g2 = 0;
      for (let c = 0; c < K; c++) g2 += Gpinv[a * K + c]! * Gpinv[c * K + b]!;
      trace += g2 * A[b * K + a]!;
    }
  }
  return trace;
}
