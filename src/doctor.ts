// `nclab doctor`, page side: acquire a device the way the engine does, report
// the adapter, its features and limits, check one small matrix product
// against the float64 reference, and time a short speed probe (how the CLI
// picks the faster adapter).

import { adapterName, type AdapterSummary } from './gpu/device';
import { Runtime } from './gpu/runtime';
import { classSums, uploadLabels } from './kernels/classSums';
import { matmul } from './kernels/matmul';
import { matmulReference } from './reference/matmul';
import { compareWithBound } from './reference/tolerance';
import { randomFloats } from './util/random';

export interface DoctorReport {
  ok: boolean;
  /** What failed, in words; absent when ok. */
  problem?: string;
  userAgent: string;
  adapter?: AdapterSummary & { name: string };
  device?: {
    features: string[];
    /** The limits the engine requested and got. */
    limits: Record<string, number>;
  };
  check?: {
    kernel: string;
    shape: string;
    maxAbsError: number;
    withinBound: boolean;
    timeMs: number;
    timing: string;
  };
  /** The speed probe: wall-clock time, so every adapter is timed alike. */
  speed?: {
    workload: string;
    /** Median of SPEED_REPEATS runs after a warm-up. */
    ms: number;
  };
}

const SPEED_REPEATS = 3;

/**
 * A short mix of the engine's two main kernel families at sizes where
 * per-dispatch overhead does not dominate: a 256³ matrix product and the
 * class sums of 64×32 768 features (K = 10). Timed from the first submit
 * to completion (performance.now), not by timestamps, which some adapters
 * lack: the probe compares adapters, so it times them all alike.
 */
async function speedProbe(rt: Runtime): Promise<DoctorReport['speed']> {
  const n = 256;
  const [d, N, K] = [64, 32_768, 10];
  const a = rt.upload(randomFloats(3, n * n), [1, n, n], 'f32');
  const b = rt.upload(randomFloats(4, n * n), [1, n, n], 'f32');
  const x = rt.upload(randomFloats(5, d * N), [1, d, N], 'f32');
  const labels = uploadLabels(
    rt,
    Array.from({ length: N }, (_, i) => (i * 7919) % K),
    K,
  );
  const once = async () => {
    (await matmul(rt, a, b)).release();
    const sums = await classSums(rt, x, labels, K);
    sums.sums.release();
    sums.counts.release();
    await rt.finish();
  };
  try {
    await once(); // compiles the pipelines
    const times: number[] = [];
    for (let r = 0; r < SPEED_REPEATS; r++) {
      const start = performance.now();
      await once();
      times.push(performance.now() - start);
    }
    times.sort((p, q) => p - q);
    return {
      workload: `matmul ${n}³ + class sums ${d}×${N} (K = ${K})`,
      ms: times[SPEED_REPEATS >> 1]!,
    };
  } finally {
    for (const t of [a, b, x, labels]) t.release();
  }
}

export async function runDoctor(): Promise<DoctorReport> {
  const report: DoctorReport = { ok: false, userAgent: navigator.userAgent };
  let rt: Runtime | null = null;
  try {
    rt = await Runtime.create();
    const { adapterSummary, device } = rt.gpu;
    report.adapter = { ...adapterSummary, name: adapterName(adapterSummary) };
    const limits: Record<string, number> = {};
    for (const key in device.limits) {
      limits[key] = device.limits[key as keyof GPUSupportedLimits] as number;
    }
    report.device = { features: [...device.features].sort(), limits };

    const [M, K, N] = [37, 53, 29];
    const aData = randomFloats(1, M * K);
    const bData = randomFloats(2, K * N);
    const a = rt.upload(aData, [1, M, K], 'f32');
    const b = rt.upload(bData, [1, K, N], 'f32');
    let c = await matmul(rt, a, b); // compiles and warms the pipeline
    c.release();
    const timing = await rt.time(async () => {
      c = await matmul(rt!, a, b);
    });
    const result = await rt.download(c);
    for (const tensor of [a, b, c]) tensor.release();

    const reference = matmulReference(aData, [1, M, K], bData, [1, K, N]);
    let maxAbsError = 0;
    result.forEach((value, i) => {
      maxAbsError = Math.max(
        maxAbsError,
        Math.abs(value - reference.values[i]!),
      );
    });
    const withinBound =
      compareWithBound(result, reference.values, reference.magnitudes, K + 2)
        .length === 0;
    report.check = {
      kernel: 'matmul',
      shape: `${M}×${K} · ${K}×${N}`,
      maxAbsError,
      withinBound,
      timeMs: timing.ms,
      timing: timing.method,
    };
    if (!withinBound) {
      report.problem =
        `the matmul check is outside its float32 error bound ` +
        `(max |error| ${maxAbsError})`;
    } else {
      report.speed = await speedProbe(rt);
    }
    report.ok = withinBound && !rt.gpu.failure;
  } catch (error) {
    report.problem =
      error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error);
  } finally {
    await rt?.destroy().catch(() => undefined);
  }
  return report;
}
