// Float64 reference of the batched matrix product, with the magnitude
// Σ_k |alpha·a_mk·b_kn| of every output, which bounds the float32 error.

import type { Shape } from '../gpu/tensor';

export interface MatmulReference {
  /** batch × M × N, row-major, in float64. */
  values: Float64Array;
  /** Σ over the inner index of |alpha · a · b|, same layout. */
  magnitudes: Float64Array;
  shape: Shape;
}

export function matmulReference(
  a: ArrayLike<number>,
  aShape: Shape,
  b: ArrayLike<number>,
  bShape: Shape,
  options: { transA?: boolean; transB?: boolean; alpha?: number } = {},
): MatmulReference {
  const { transA = false, transB = false, alpha = 1 } = options;
  const [batchA, rowsA, colsA] = aShape;
  const [batchB, rowsB, colsB] = bShape;
  const [M, K] = transA ? [colsA, rowsA] : [rowsA, colsA];
  const N = transB ? rowsB : colsB;
  const batch = Math.max(batchA, batchB);
  const values = new Float64Array(batch * M * N);
  const magnitudes = new Float64Array(batch * M * N);

  for (let bi = 0; bi < batch; bi++) {
    const baseA = batchA === 1 ? 0 : bi * M * K;
    const baseB = batchB === 1 ? 0 : bi * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let sum = 0;
        let magnitude = 0;
        for (let k = 0; k < K; k++) {
          const av = a[baseA + (transA ? k * M + m : m * K + k)]!;
          const bv = b[baseB + (transB ? n * K + k : k * N + n)]!;
          sum += av * bv;
          magnitude += Math.abs(av * bv);
        }
        const out = (bi * M + m) * N + n;
        values[out] = alpha * sum;
        magnitudes[out] = Math.abs(alpha) * magnitude;
      }
    }
  }
  return { values, magnitudes, shape: [batch, M, N] };
}
