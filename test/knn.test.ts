// k-NN lists on the GPU against a brute-force float64 CPU graph, on the
// committed Fashion-MNIST fixture (classes 0 and 1, 600 images of 784
// pixels in [0, 1]), in one tile and in several.
//
// Tolerance: the GPU's squared distance ‖x‖² + ‖y‖² − 2xᵀy sums p = 784
// float32 products, so it is within ε = γ_(p+2)·(‖x‖² + ‖y‖² + 2|xᵀy|) of
// the exact one (src/reference/tolerance.ts). A GPU list is right when every
// neighbour it picks is within 2ε of the float64 k-th distance and it
// misses none that is more than 2ε closer: only near-ties may differ.

import { expect, test } from 'vitest';

import { loadFashionMnist } from '../src/data/fashionMnist';
import { symmetricGraph } from '../src/kernels/knn';
import { gamma32 } from '../src/reference/tolerance';
import { toBase64, u32FromBase64 } from '../src/util/base64';
import { describeGpu } from './harness/gpu';

const FIXTURE = new URL('./fixtures/fashion-mnist-mini/', import.meta.url)
  .pathname;
const K_NEIGHBOURS = 10;

function bruteForce(points: Float32Array, N: number, p: number) {
  const norms = Array.from({ length: N }, (_, i) => {
    let s = 0;
    for (let c = 0; c < p; c++) s += points[i * p + c]! ** 2;
    return s;
  });
  const dist = (i: number, j: number) => {
    let s = 0;
    for (let c = 0; c < p; c++)
      s += (points[i * p + c]! - points[j * p + c]!) ** 2;
    return s;
  };
  return { norms, dist };
}

describeGpu('k-NN graph on the GPU', { compat: true }, (gpu) => {
  test('equals brute force in float64 up to near-ties, in one tile or many', async () => {
    const data = loadFashionMnist({ dir: FIXTURE, split: 'train' });
    const { N, dim: p } = data;
    const points = data.images;
    const { norms, dist } = bruteForce(points, N, p);
    const maxNorm = Math.max(...norms);
    for (const tile of [N, 128]) {
      const result = await gpu.run('knn', {
        points: toBase64(points),
        N,
        p,
        k: K_NEIGHBOURS,
        tile,
      });
      const index = u32FromBase64(result.index);
      let exact = 0;
      for (let i = 0; i < N; i++) {
        const ranked = Array.from({ length: N }, (_, j) => j)
          .filter((j) => j !== i)
          .map((j) => ({ j, d: dist(i, j) }))
          .sort((a, b) => a.d - b.d || a.j - b.j);
        const kth = ranked[K_NEIGHBOURS - 1]!.d;
        const eps = gamma32(p + 2) * 2 * (norms[i]! + maxNorm);
        const picked = Array.from(
          index.subarray(i * K_NEIGHBOURS, (i + 1) * K_NEIGHBOURS),
        );
        expect(new Set(picked).size, `row ${i}`).toBe(K_NEIGHBOURS);
        for (const j of picked) {
          expect(j, `row ${i}`).not.toBe(i);
          expect(dist(i, j), `row ${i}, neighbour ${j}`).toBeLessThanOrEqual(
            kth + 2 * eps,
          );
        }
        for (const { j, d } of ranked) {
          if (d >= kth - 2 * eps) break;
          expect(picked, `row ${i} misses ${j}`).toContain(j);
        }
        const want = ranked.slice(0, K_NEIGHBOURS).map((r) => r.j);
        if (want.every((j, s) => picked[s] === j)) exact += 1;
      }
      // Ties aside, the order is the float64 order too.
      expect(exact / N).toBeGreaterThan(0.95);

      const graph = symmetricGraph(
        { k: K_NEIGHBOURS, index, dist: new Float32Array() },
        N,
      );
      for (let i = 0; i < N; i++) {
        expect(graph.degrees[i]).toBeGreaterThanOrEqual(K_NEIGHBOURS);
        for (let s = 0; s < graph.degrees[i]!; s++) {
          const j = graph.index[i * graph.degree + s]!;
          const back = Array.from(
            graph.index.subarray(
              j * graph.degree,
              j * graph.degree + graph.degrees[j]!,
            ),
          );
          expect(back, `edge ${i}–${j} is symmetric`).toContain(i);
        }
      }
    }
  });
});
