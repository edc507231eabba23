// Adapter and device acquisition: asks for the limits the engine needs and
// the optional features it can use, and turns every way of failing into one
// actionable error. Device loss and uncaptured errors become one fatal error.

import { adapterRequestFromSearch } from './adapters';
import { GpuFatalError, GpuLimitError, GpuUnavailableError } from './errors';

const MiB = 1024 * 1024;

/**
 * Minimum limits every nclab kernel relies on. The engine requests the
 * adapter's full value for each, so large problems fit where they can.
 * Workgroups: 128 invocations, what compatibility-mode devices grant by
 * default; kernels whose default shape is wider (the 64×64 matmul tile,
 * the split reductions) fit it to the device's limit (fitTile).
 */
export const ENGINE_LIMITS = {
  maxStorageBufferBindingSize: 128 * MiB,
  maxBufferSize: 256 * MiB,
  maxComputeInvocationsPerWorkgroup: 128,
  maxComputeWorkgroupSizeX: 128,
  maxComputeWorkgroupSizeY: 16,
  maxComputeWorkgroupStorageSize: 16 * 1024,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupsPerDimension: 65535,
} as const satisfies Record<string, number>;

/** Features used when the adapter has them; every kernel works without. */
export const OPTIONAL_FEATURES = [
  'timestamp-query',
  'subgroups',
  'shader-f16',
] as const satisfies readonly string[];

export type OptionalFeature = (typeof OPTIONAL_FEATURES)[number];

export interface GpuOptions {
  /** The WebGPU entry point; `navigator.gpu` by default. */
  gpu?: GPU;
  /** Extra minimum limits on top of {@link ENGINE_LIMITS}. */
  requiredLimits?: Record<string, number>;
  powerPreference?: GPUPowerPreference;
  /**
   * 'compatibility' for OpenGL ES adapters (llvmpipe); 'core' by default.
   * In a page, `?adapter=compat` in its URL sets it (src/gpu/adapters.ts).
   */
  featureLevel?: 'core' | 'compatibility';
  /**
   * Request at most this many invocations per workgroup (and workgroup
   * width and height), even where the adapter allows more: tests use 128
   * to run the kernels as the smallest compatibility-mode devices must.
   */
  maxWorkgroupInvocations?: number;
  /** Called once, with context, when the device is lost or errs uncaught. */
  onFatal?: (error: GpuFatalError) => void;
}

/** What an adapter is and can do, as plain data (JSON-serialisable). */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  /**
   * 'compatibility' for an adapter without `core-features-and-limits` (an
   * OpenGL ES route); absent in summaries made before it was recorded.
   */
  featureLevel?: 'core' | 'compatibility';
  features: string[];
  limits: Record<string, number>;
}

/**
 * A short human name for an adapter, e.g. "google swiftshader 0xc0de
 * (fallback)". Compatibility adapters on ANGLE leave vendor and
 * architecture empty; their description names the driver instead.
 */
export function adapterName(summary: AdapterSummary): string {
  const { vendor, architecture, device, description } = summary;
  let parts = [vendor, architecture, device].filter((part) => part !== '');
  if (vendor === '' && architecture === '' && description !== '') {
    parts = [description];
  }
  let name = parts.length > 0 ? parts.join(' ') : 'unnamed adapter';
  if (summary.isFallbackAdapter) name += ' (fallback)';
  if (summary.featureLevel === 'compatibility') name += ' (compat)';
  return name;
}

function limitsAsRecord(limits: GPUSupportedLimits): Record<string, number> {
  const record: Record<string, number> = {};
  // WebIDL attributes are enumerable getters on the prototype.
  for (const key in limits) {
    const value: unknown = limits[key as keyof GPUSupportedLimits];
    if (typeof value === 'number') record[key] = value;
  }
  return record;
}

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  // Older browsers expose isFallbackAdapter on the adapter, newer on info.
  const fallback =
    (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    false;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: fallback,
    featureLevel: adapter.features.has('core-features-and-limits')
      ? 'core'
      : 'compatibility',
    features: [...adapter.features].sort(),
    limits: limitsAsRecord(adapter.limits),
  };
}

/** The workgroup limits `maxWorkgroupInvocations` caps. */
const WORKGROUP_SIZE_LIMITS = [
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
];

/**
 * Checks that the adapter meets every required minimum and returns the limits
 * to request: the adapter's own value for each engine limit, the workgroup
 * size limits capped at `maxWorkgroupInvocations` when given.
 */
export function planLimits(
  summary: AdapterSummary,
  extra: Record<string, number> = {},
  maxWorkgroupInvocations?: number,
): Record<string, number> {
  const needed: Record<string, number> = { ...ENGINE_LIMITS };
  for (const [limit, value] of Object.entries(extra)) {
    needed[limit] = Math.max(needed[limit] ?? 0, value);
  }

  const request: Record<string, number> = {};
  for (const [limit, value] of Object.entries(needed)) {
    const available = summary.limits[limit];
    if (available === undefined) {
      throw new GpuLimitError(limit, value, 0, adapterName(summary));
    }
    // Limits named max* must be at least the need; min* at most.
    const ok = limit.startsWith('min')
      ? available <= value
      : available >= value;
    if (!ok) {
      throw new GpuLimitError(limit, value, available, adapterName(summary));
    }
    request[limit] = available;
    if (
      maxWorkgroupInvocations !== undefined &&
      WORKGROUP_SIZE_LIMITS.includes(limit)
    ) {
      if (value > maxWorkgroupInvocations) {
        throw new GpuLimitError(
          limit,
          value,
          maxWorkgroupInvocations,
          `${adapterName(summary)}, capped by maxWorkgroupInvocations`,
        );
      }
      request[limit] = Math.min(available, maxWorkgroupInvocations);
    }
  }
  return request;
}

/** A WebGPU device with the engine's limits and a single fatal-error route. */
export class Gpu {
  /** What the runtime was doing last; added to fatal errors as context. */
  context = 'idle';
  private fatal: GpuFatalError | null = null;
  private destroyed = false;

  constructor(
    readonly adapter: GPUAdapter,
    readonly device: GPUDevice,
    readonly adapterSummary: AdapterSummary,
    private readonly onFatal?: (error: GpuFatalError) => void,
  ) {
    device.addEventListener('uncapturederror', (event) => {
      this.fail(`uncaptured WebGPU error: ${event.error.message}`);
    });
    void device.lost.then((info) => {
      if (!this.destroyed) {
        this.fail(`device lost (${info.reason}): ${info.message}`);
      }
    });
  }

  get features(): ReadonlySet<string> {
    return this.device.features;
  }

  has(feature: OptionalFeature): boolean {
    return this.device.features.has(feature);
  }

  get name(): string {
    return adapterName(this.adapterSummary);
  }

  /** Throws the recorded fatal error, if any; call before new GPU work. */
  check(): void {
    if (this.fatal) throw this.fatal;
    if (this.destroyed) {
      throw new GpuFatalError('this GPU device has been destroyed');
    }
  }

  get failure(): GpuFatalError | null {
    return this.fatal;
  }

  destroy(): void {
    this.destroyed = true;
    this.device.destroy();
  }

  private fail(reason: string): void {
    if (this.fatal) return;
    this.fatal = new GpuFatalError(
      `${reason} [adapter: ${this.name}; while: ${this.context}]`,
    );
    this.onFatal?.(this.fatal);
  }
}

/** Obtains an adapter and a device with the engine's limits and features. */
export async function acquireGpu(options: GpuOptions = {}): Promise<Gpu> {
  const gpu =
    options.gpu ??
    (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) {
    throw new GpuUnavailableError(
      'WebGPU is not available here (no navigator.gpu). Use a Chromium-based ' +
        'browser with WebGPU enabled (--enable-unsafe-webgpu on Linux) on a ' +
        'secure origin (http://127.0.0.1 or https), or the Node host.',
    );
  }

  // A page's URL may choose the adapter (src/gpu/adapters.ts); explicit
  // options win. Under Node there is no location.
  const search = globalThis.location?.search ?? '';
  const request = { ...adapterRequestFromSearch(search), ...options };
  const adapter = await gpu.requestAdapter({
    powerPreference: options.powerPreference,
    ...(request.featureLevel ? { featureLevel: request.featureLevel } : {}),
  });
  if (!adapter) {
    throw new GpuUnavailableError(
      request.featureLevel === 'compatibility'
        ? 'WebGPU returned no compatibility-mode adapter. Chromium offers ' +
            'one with --use-gl=angle --use-angle=gl-egl ' +
            '--use-webgpu-adapter=opengles and an EGL driver (Debian: ' +
            'libegl1, libegl-mesa0 and libgl1-mesa-dri for llvmpipe).'
        : 'WebGPU is present but returned no adapter. On a machine without ' +
            'a GPU, Chromium needs its SwiftShader Vulkan driver ' +
            '(libvk_swiftshader.so, shipped in Debian\'s "chromium" package).',
    );
  }

  const summary = summarizeAdapter(adapter);
  const requiredLimits = planLimits(
    summary,
    options.requiredLimits,
    request.maxWorkgroupInvocations,
  );
  const requiredFeatures = OPTIONAL_FEATURES.filter((feature) =>
    adapter.features.has(feature),
  );

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: 'nclab',
      requiredLimits,
      requiredFeatures,
    });
  } catch (cause) {
    throw new GpuUnavailableError(
      `requestDevice failed on "${adapterName(summary)}": ${String(cause)}`,
    );
  }
  return new Gpu(adapter, device, summary, options.onFatal);
}
