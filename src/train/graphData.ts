// The engine's side of a graph-model batch's data: take the examples the
// host loaded (Fashion-MNIST; fetched from the page server in a page, from
// memory in the Node host) or draw them (mixtures), project them on their
// principal components, and build the symmetric k-NN graph on the GPU —
// once per (examples, PCA, k), however many batches train on it.

import {
  DATA_PREFIX,
  datasetKey,
  graphKey,
  mixturePoints,
  type DataSpec,
  type LabelledPoints,
} from '../data/datasets';
import type { Runtime } from '../gpu/runtime';
import { knnLists, symmetricGraph } from '../kernels/knn';
import { principalComponents } from '../preprocess/pca';
import type { GraphData } from './graph';

export interface BuiltGraph {
  data: GraphData;
  /** The examples' input dimension the graph was built in. */
  inputDim: number;
  /** Share of the inputs' variance the PCA kept (null without PCA). */
  varianceKept: number | null;
  buildMs: number;
}

/**
 * Where the examples the host loaded come from, by served name
 * (src/host/datasets.ts servedNames): the page fetches them from the page
 * server; the Node host reads them from memory.
 */
export type DataSource = (name: string) => Promise<ArrayBuffer>;

/** The page's source: the page server's DATA_PREFIX routes. */
export const fetchServed: DataSource = async (name) => {
  const url = `${DATA_PREFIX}${name}`;
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(
      `fetching ${url}: ${response.status} (the host serves the data sets ` +
        'of the runs it was given)',
    );
  }
  return response.arrayBuffer();
};

/** The examples of a spec: drawn (mixtures) or from the host (`source`). */
export async function pointsOf(
  spec: DataSpec,
  source: DataSource = fetchServed,
): Promise<LabelledPoints> {
  if (spec.kind === 'mixture') return mixturePoints(spec);
  const key = datasetKey(spec);
  const [points, labels] = await Promise.all([
    source(`${key}.points`),
    source(`${key}.labels`),
  ]);
  const K = spec.classes.length;
  const trainCount = K * spec.perClass;
  const N = trainCount + K * spec.testPerClass;
  return {
    points: new Float32Array(points),
    labels: new Uint32Array(labels),
    N,
    dim: 784,
    trainCount,
    K,
  };
}

/** Builds graphs on demand and keeps them for the batches that follow. */
export class GraphCache {
  private readonly built = new Map<string, Promise<BuiltGraph>>();

  constructor(
    private readonly rt: Runtime,
    private readonly source: DataSource = fetchServed,
  ) {}

  get(spec: DataSpec, k: number): Promise<BuiltGraph> {
    const key = graphKey(spec, k);
    let graph = this.built.get(key);
    if (!graph) {
      graph = this.build(spec, k);
      this.built.set(key, graph);
      // A failed build is not kept: the next batch tries again.
      graph.catch(() => this.built.delete(key));
    }
    return graph;
  }

  private async build(spec: DataSpec, k: number): Promise<BuiltGraph> {
    const start = performance.now();
    const set = await pointsOf(spec, this.source);
    let inputs = set.points;
    let inputDim = set.dim;
    let varianceKept: number | null = null;
    if (spec.pca !== null && spec.pca < set.dim) {
      const pca = await principalComponents(
        this.rt,
        set.points,
        set.N,
        set.dim,
        spec.pca,
      );
      inputs = pca.projected;
      inputDim = spec.pca;
      varianceKept =
        pca.variances.reduce((a, v) => a + v, 0) / totalVariance(set);
    }
    const lists = await knnLists(this.rt, inputs, set.N, inputDim, k);
    return {
      data: {
        N: set.N,
        trainCount: set.trainCount,
        labels: set.labels,
        trueLabels: set.labels,
        graph: symmetricGraph(lists, set.N),
      },
      inputDim,
      varianceKept,
      buildMs: performance.now() - start,
    };
  }
}

/** Σ of the per-coordinate variances of the examples (float64). */
function totalVariance(set: LabelledPoints): number {
  let total = 0;
  for (let c = 0; c < set.dim; c++) {
    let sum = 0;
    let sumSq = 0;
    for (let n = 0; n < set.N; n++) {
      const v = set.points[n * set.dim + c]!;
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / set.N;
    total += sumSq / set.N - mean * mean;
  }
  return total;
}
