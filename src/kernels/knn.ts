// k-nearest-neighbour lists on the GPU (kernels/knn.wgsl): the Gram block of
// every point against a tile of candidates by the batched matrix product,
// then a per-row selection that keeps each point's k best, tile after tile,
// so that N = 70 000 points never need an N×N matrix.

import template from '../../kernels/knn.wgsl?raw';

import { InvalidArgumentError } from '../gpu/errors';
import type { KernelSource } from '../gpu/kernels';
import type { Runtime } from '../gpu/runtime';
import { UniformWriter } from '../gpu/uniforms';
import { requireInteger } from './common';
import { matmul } from './matmul';

export const knnKernel: KernelSource = { name: 'knn', template };

const WG = 64;
/**
 * Most floats of one Gram block (N × tile): 256 MiB, or the device's largest
 * binding where it is smaller (128 MiB on compatibility-mode devices).
 */
const MAX_BLOCK_FLOATS = 2 ** 26;
const NO_INDEX = 0xffffffff;

export interface KnnLists {
  k: number;
  /** N×k neighbour indices, nearest first (ties: lower index first). */
  index: Uint32Array;
  /** N×k squared distances, as float32 computed them. */
  dist: Float32Array;
}

/**
 * The k nearest neighbours (squared Euclidean distance) of each of the N
 * points, given as rows of `points` (N×p), excluding the point itself.
 */
export async function knnLists(
  rt: Runtime,
  points: Float32Array,
  N: number,
  p: number,
  k: number,
  tile?: number,
): Promise<KnnLists> {
  requireInteger('knnLists', 'N', N, 2, 2 ** 24);
  requireInteger('knnLists', 'p', p, 1, 2 ** 16);
  requireInteger('knnLists', 'k', k, 1, Math.min(64, N - 1));
  if (points.length !== N * p) {
    throw new InvalidArgumentError(
      `knnLists: ${points.length} values for ${N} points of dimension ${p}`,
    );
  }
  const { maxStorageBufferBindingSize, maxBufferSize } = rt.device.limits;
  const blockFloats = Math.min(
    MAX_BLOCK_FLOATS,
    Math.floor(Math.min(maxStorageBufferBindingSize, maxBufferSize) / 4),
  );
  const T = tile ?? Math.max(1, Math.min(N, Math.floor(blockFloats / N)));
  requireInteger('knnLists', 'tile', T, 1, N);

  const norms = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let c = 0; c < p; c++) s += points[i * p + c]! ** 2;
    norms[i] = s;
  }
  const X = rt.upload(points, [1, N, p], 'f32');
  const normT = rt.upload(norms, [1, 1, N], 'f32');
  const bestDist = rt.upload(
    new Float32Array(N * k).fill(Infinity),
    [1, N, k],
    'f32',
  );
  const bestIndex = rt.upload(
    new Uint32Array(N * k).fill(NO_INDEX),
    [1, N, k],
    'u32',
  );
  const pipeline = await rt.pipeline({
    kernel: knnKernel,
    constants: { WG, K: k },
  });
  try {
    for (let start = 0; start < N; start += T) {
      const size = Math.min(T, N - start);
      const candidates = rt.upload(
        points.subarray(start * p, (start + size) * p),
        [1, size, p],
        'f32',
      );
      let gram;
      try {
        gram = await matmul(rt, X, candidates, { transB: true });
      } finally {
        candidates.release();
      }
      rt.dispatch({
        label: `knn select tile ${start}+${size}`,
        pipeline,
        bindings: [
          gram,
          normT,
          bestDist,
          bestIndex,
          {
            uniform: new UniformWriter()
              .u32(N)
              .u32(start)
              .u32(size)
              .u32(k)
              .bytes(),
          },
        ],
        workgroups: [Math.ceil(N / WG)],
      });
      gram.release();
    }
    const [index, dist] = await Promise.all([
      rt.download(bestIndex),
      rt.download(bestDist),
    ]);
    return { k, index, dist };
  } finally {
    for (const t of [X, normT, bestDist, bestIndex]) t.release();
  }
}

/** A symmetric graph as fixed-degree neighbour lists (for the SpMM). */
export interface NeighbourGraph {
  N: number;
  /** Columns per row: the largest degree. */
  degree: number;
  /** N×degree neighbour indices; N marks an empty slot. */
  index: Uint32Array;
  /** N×degree edge weights (1 per edge, 0 in empty slots). */
  weight: Float32Array;
  /** Each point's number of neighbours. */
  degrees: Uint32Array;
}

/**
 * The symmetric k-NN graph: i ~ j when j is among i's k nearest or i among
 * j's. Each row lists its neighbours in increasing index order.
 */
export function symmetricGraph(lists: KnnLists, N: number): NeighbourGraph {
  const { k, index } = lists;
  const sets = Array.from({ length: N }, () => new Set<number>());
  for (let i = 0; i < N; i++) {
    for (let s = 0; s < k; s++) {
      const j = index[i * k + s]!;
      if (j >= N) continue;
      sets[i]!.add(j);
      sets[j]!.add(i);
    }
  }
  const degree = Math.max(1, ...sets.map((s) => s.size));
  const graph: NeighbourGraph = {
    N,
    degree,
    index: new Uint32Array(N * degree).fill(N),
    weight: new Float32Array(N * degree),
    degrees: Uint32Array.from(sets, (s) => s.size),
  };
  sets.forEach((set, i) => {
    [...set]
      .sort((a, b) => a - b)
      .forEach((j, slot) => {
        graph.index[i * degree + slot] = j;
        graph.weight[i * degree + slot] = 1;
      });
  });
  return graph;
}
