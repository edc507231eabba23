// Principal components of a data set (science.md §7's "PCA to p
// dimensions" before the k-NN graph): the covariance Xᵀ X / N of the
// centred rows by the deterministic split-K matrix product on the GPU, its
// eigenvectors in float64 on the host (Jacobi, src/util/linalg.ts; about
// 20 s for D = 784 here), and the projection of every row on the GPU.

import { InvalidArgumentError } from '../gpu/errors';
import type { Runtime } from '../gpu/runtime';
import { matmul } from '../kernels/matmul';
import { symmetricEigen } from '../util/linalg';

export interface Pca {
  /** D: the mean row that was subtracted. */
  mean: Float64Array;
  /** p×D: the leading eigenvectors of the covariance, as rows. */
  components: Float64Array;
  /** The p leading eigenvalues (variances along the components). */
  variances: number[];
  /** N×p: each centred row's coordinates on the components. */
  projected: Float32Array;
}

/** The p leading principal components of N rows of D values. */
export async function principalComponents(
  rt: Runtime,
  rows: Float32Array,
  N: number,
  D: number,
  p: number,
): Promise<Pca> {
  if (rows.length !== N * D || !(p >= 1 && p <= D && Number.isInteger(p))) {
    throw new InvalidArgumentError(
      `principalComponents: ${rows.length} values for ${N} rows of ${D}, ` +
        `p = ${p}; expected N·D values and an integer p from 1 to ${D}`,
    );
  }
  const mean = new Float64Array(D);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < D; c++) mean[c]! += rows[n * D + c]! / N;
  }
  const centred = Float32Array.from(rows, (v, j) => v - mean[j % D]!);
  const X = rt.upload(centred, [1, N, D], 'f32');
  try {
    const cov = await matmul(rt, X, X, { transA: true, alpha: 1 / N });
    const covData = Float64Array.from(await rt.download(cov));
    cov.release();
    // Symmetrise the float32 rounding before the eigendecomposition.
    for (let a = 0; a < D; a++) {
      for (let b = a + 1; b < D; b++) {
        const v = (covData[a * D + b]! + covData[b * D + a]!) / 2;
        covData[a * D + b] = v;
        covData[b * D + a] = v;
      }
    }
    const { values, vectors } = symmetricEigen(covData, D);
    const components = new Float64Array(p * D);
    for (let j = 0; j < p; j++) {
      for (let c = 0; c < D; c++) components[j * D + c] = vectors[c * D + j]!;
    }
    const V = rt.upload(Float32Array.from(components), [1, p, D], 'f32');
    const Y = await matmul(rt, X, V, { transB: true });
    V.release();
    const projected = await rt.download(Y);
    Y.release();
    return {
      mean,
      components,
      variances: Array.from(values.subarray(0, p)),
      projected,
    };
  } finally {
    X.release();
  }
}
