// Device acquisition failures that need no GPU: no WebGPU at all, and a
// WebGPU that offers no adapter. (Limit failures run on a real adapter in
// runtime.test.ts.)

import { describe, expect, test } from 'vitest';

import { acquireGpu } from '../src/gpu/device';

describe('acquireGpu without a usable WebGPU', () => {
  test('says WebGPU is missing and where it works', async () => {
    // Node has no navigator.gpu, so the default entry point is missing.
    const failure = acquireGpu();
    await expect(failure).rejects.toMatchObject({
      name: 'GpuUnavailableError',
    });
    await expect(failure).rejects.toThrow('WebGPU is not available here');
    await expect(failure).rejects.toThrow('--enable-unsafe-webgpu');
  });

  test('says no adapter was found and what a GPU-less machine needs', async () => {
    const noAdapter = {
      requestAdapter: () => Promise.resolve(null),
    } as unknown as GPU;
    const failure = acquireGpu({ gpu: noAdapter });
    await expect(failure).rejects.toMatchObject({
      name: 'GpuUnavailableError',
    });
    await expect(failure).rejects.toThrow('returned no adapter');
    await expect(failure).rejects.toThrow('libvk_swiftshader.so');
  });
});
