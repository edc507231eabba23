// PCA with the covariance on the GPU against a float64 PCA of the same
// float32 rows. The covariance entries are sums of N products, within
// γ_N·Σ|x_a x_b|/N of float64; eigenvalues move by at most the perturbation's
// norm (Weyl), so 1e-4 of the largest variance bounds them with room; the
// leading subspace (K − 1 = 3 directions of the class means, well separated
// from the unit noise) is compared as a projector, since the simplex makes
// its eigenvalues equal and single eigenvectors arbitrary.

import { expect, test } from 'vitest';

import { gaussianMixture } from '../src/data/mixtures';
import { symmetricEigen } from '../src/util/linalg';
import { f32FromBase64 } from '../src/util/base64';
import { describeGpu } from './harness/gpu';

describeGpu('PCA on the GPU', { compat: true }, (gpu) => {
  test('matches a float64 PCA of the same rows', async () => {
    const args = { perClass: 500, D: 20, p: 3, seed: 4 };
    const result = await gpu.run('pca', args);
    const { points } = gaussianMixture({
      K: 4,
      dim: args.D,
      perClass: args.perClass,
      separation: 6,
      seed: args.seed,
    });
    const { D, p } = args;
    const N = 4 * args.perClass;
    const mean = new Float64Array(D);
    for (let n = 0; n < N; n++)
      for (let c = 0; c < D; c++) mean[c]! += points[n * D + c]! / N;
    const cov = new Float64Array(D * D);
    for (let n = 0; n < N; n++) {
      for (let a = 0; a < D; a++) {
        const xa = points[n * D + a]! - mean[a]!;
        for (let b = 0; b < D; b++)
          cov[a * D + b]! += (xa * (points[n * D + b]! - mean[b]!)) / N;
      }
    }
    const { values, vectors } = symmetricEigen(cov, D);
    const largest = values[0]!;
    result.variances.forEach((v, j) =>
      expect(Math.abs(v - values[j]!)).toBeLessThanOrEqual(1e-4 * largest),
    );
    // Projectors onto the leading p directions agree.
    let gap = 0;
    for (let a = 0; a < D; a++) {
      for (let b = 0; b < D; b++) {
        let gpuP = 0;
        let refP = 0;
        for (let j = 0; j < p; j++) {
          gpuP += result.components[j * D + a]! * result.components[j * D + b]!;
          refP += vectors[a * D + j]! * vectors[b * D + j]!;
        }
        gap = Math.max(gap, Math.abs(gpuP - refP));
      }
    }
    expect(gap).toBeLessThan(1e-4);
    // Each row's coordinates on the GPU's own components, in float64.
    const projected = f32FromBase64(result.projected);
    let worst = 0;
    let scale = 0;
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < p; j++) {
        let y = 0;
        for (let c = 0; c < D; c++)
          y += (points[n * D + c]! - mean[c]!) * result.components[j * D + c]!;
        worst = Math.max(worst, Math.abs(projected[n * p + j]! - y));
        scale = Math.max(scale, Math.abs(y));
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-5 * scale);
  });
});
