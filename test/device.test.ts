// Device acquisition failures that need no GPU: no WebGPU at all, and a
// WebGPU that offers no adapter. (Limit failures run on a real adapter in
// runtime.test.ts.)

import { describe, expect, test } from 'vitest';

import { acquireGpu } from '../src/gpu/device';

describe('acquireGpu without a usable WebGPU', () => {
  test('says WebGPU is missing and where it works', async () => {
    // Node has no navigator.gpu, so the default entry point is missing.
    const error = await acquireGpu().catch((e: unknown) => e as Error);
    expect(error.name).toBe('GpuUnavailableError');
    expect(error.message).toContain('WebGPU is not available here');
    expect(error.message).toContain('--enable-unsafe-webgpu');
  });

  test('says no adapter was found and what a GPU-less machine needs', async () => {
    const noAdapter = {
      requestAdapter: () => Promise.resolve(null),
    } as unknown as GPU;
    const error = await acquireGpu({ gpu: noAdapter }).catch(
      (e: unknown) => e as Error,
    );
    expect(error.name).toBe('GpuUnavailableError');
    expect(error.message).toContain('returned no adapter');
    expect(error.message).toContain('libvk_swiftshader.so');
  });
});
