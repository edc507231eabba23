// `nclab metrics` on the page side: fetch a checked feature set the CLI
// serves (src/host/server.ts DATA_PREFIX), measure it on the GPU, and return
// plain JSON (NaN and ±Inf as null: "undefined here", see the README).

import { adapterName } from '../gpu/device';
import { Runtime } from '../gpu/runtime';
import { collapseMetrics, type CollapseMetrics } from './collapse';

export interface MetricsJob {
  K: number;
  d: number;
  N: number;
  /** Which optional arrays the host serves. */
  trueLabels: boolean;
  classifier: boolean;
  fullCovariance?: boolean;
  /** URL prefix the arrays are served under (H, labels, …). */
  prefix: string;
}

export interface MetricsReport {
  adapter: string;
  /** Wall time of the GPU work and the float64 finish, in ms. */
  gpuMs: number;
  metrics: CollapseMetrics;
}

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url}: ${response.status}`);
  return response.arrayBuffer();
}

/** NaN/±Inf → null, recursively: JSON has no such numbers. */
function plain<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? null : v,
    ),
  ) as T;
}

export async function runMetrics(job: MetricsJob): Promise<MetricsReport> {
  const { K, d, N } = job;
  const [H, labels, truth, W, b] = await Promise.all([
    fetchBytes(`${job.prefix}H`),
    fetchBytes(`${job.prefix}labels`),
    job.trueLabels ? fetchBytes(`${job.prefix}trueLabels`) : null,
    job.classifier ? fetchBytes(`${job.prefix}W`) : null,
    job.classifier ? fetchBytes(`${job.prefix}b`) : null,
  ]);
  const rt = await Runtime.create();
  try {
    const start = performance.now();
    const tensors = {
      H: rt.upload(new Float32Array(H), [1, d, N], 'f32'),
      labels: rt.upload(new Uint32Array(labels), [1, 1, N], 'u32'),
      trueLabels: truth
        ? rt.upload(new Uint32Array(truth), [1, 1, N], 'u32')
        : undefined,
      W: W ? rt.upload(new Float32Array(W), [1, K, d], 'f32') : undefined,
      bias: b ? rt.upload(new Float32Array(b), [1, K, 1], 'f32') : undefined,
    };
    const [metrics] = await collapseMetrics(rt, {
      ...tensors,
      K,
      fullCovariance: job.fullCovariance,
    });
    for (const t of Object.values(tensors)) t?.release();
    return plain({
      adapter: adapterName(rt.gpu.adapterSummary),
      gpuMs: performance.now() - start,
      metrics: metrics!,
    });
  } finally {
    await rt.destroy();
  }
}
