// `nclab doctor`, page side: acquire a device the way the engine does, report
// the adapter, its features and limits, and check one small matrix product
// against the float64 reference.

import { adapterName, type AdapterSummary } from './gpu/device';
import { Runtime } from './gpu/runtime';
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
    report.ok = withinBound && !rt.gpu.failure;
    if (!withinBound) {
      report.problem =
        `the matmul check is outside its float32 error bound ` +
        `(max |error| ${maxAbsError})`;
    }
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
