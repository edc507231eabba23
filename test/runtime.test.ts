// The GPU runtime in a real page: device acquisition and its errors, kernel
// compilation errors and the pipeline cache, the buffer pool, timing, and
// the single fatal-error route for device loss and uncaptured errors.

import { describe, expect, test } from 'vitest';

import { describeGpu } from './harness/gpu';

describeGpu('GPU runtime', (gpu) => {
  describe('device acquisition', () => {
    test('an impossible limit names the limit, the need and the adapter value', async () => {
      const { error } = await gpu.run('acquire', {
        requiredLimits: { maxStorageBufferBindingSize: 2 ** 40 },
      });
      expect(error?.name).toBe('GpuLimitError');
      expect(error?.message).toMatch(
        /cannot provide maxStorageBufferBindingSize = 1099511627776: it supports at most \d+/,
      );
      expect(error?.message).toContain('swiftshader');
    });

    test('a limit the adapter has never heard of is refused by name', async () => {
      const { error } = await gpu.run('acquire', {
        requiredLimits: { maxWarpDrive: 1 },
      });
      expect(error?.name).toBe('GpuLimitError');
      expect(error?.message).toContain('maxWarpDrive = 1');
    });

    test('reachable limits are granted', async () => {
      const { error } = await gpu.run('acquire', {
        requiredLimits: { maxComputeInvocationsPerWorkgroup: 256 },
      });
      expect(error).toBeNull();
    });
  });

  describe('kernel compilation', () => {
    test('a WGSL error reports the kernel, the preprocessed line and the message', async () => {
      const template = [
        '@group(0) @binding(0) var<storage, read_write> out: array<f32>;',
        '@compute @workgroup_size(${WG}) fn main() {',
        '#if ${BROKEN}',
        '  out[0] = undefined_thing * 2.0;',
        '#else',
        '  out[0] = 1.0;',
        '#endif',
        '}',
      ].join('\n');
      const result = await gpu.run('compile', {
        template,
        variant: { BROKEN: true },
        constants: { WG: 64 },
      });
      expect(result.error?.name).toBe('KernelCompileError');
      expect(result.error?.message).toContain(
        'kernel "under_test" failed to compile',
      );
      expect(result.error?.message).toContain(
        'out[0] = undefined_thing * 2.0;',
      );
      // Line 4 of the preprocessed source: the #if line stays as an empty line.
      expect(result.error?.message).toMatch(/line 4:\d+: .*undefined_thing/);
      const first = result.messages.find((m) => m.type === 'error');
      expect(first?.lineNum).toBe(4);
      expect(first?.sourceLine).toContain('undefined_thing');
      expect(result.cached).toBe(0); // failures are not cached

      const fixed = await gpu.run('compile', {
        template,
        variant: { BROKEN: false },
        constants: { WG: 64 },
      });
      expect(fixed.error).toBeNull();
    });

    test('a template placeholder without a value is named', async () => {
      const result = await gpu.run('compile', {
        template: '@compute @workgroup_size(${WG}) fn main() {}',
        constants: {},
      });
      expect(result.error?.name).toBe('KernelCompileError');
      expect(result.error?.message).toContain('template uses ${WG}');
    });

    test('unbalanced #if is reported by the preprocessor', async () => {
      const result = await gpu.run('compile', {
        template: '#if ${A}\n@compute @workgroup_size(1) fn main() {}\n',
        variant: { A: true },
      });
      expect(result.error?.message).toContain('Mismatched #if/#endif');
    });

    test('pipelines are cached by kernel, variant and constants', async () => {
      const result = await gpu.run('pipelineCache');
      expect(result.sameObject).toBe(true);
      expect(result.cached).toBe(4);
      expect(result.value).toBe(10);
    });
  });

  test('the buffer pool reuses buffers only after a submit', async () => {
    const result = await gpu.run('bufferPool');
    expect(result.beforeSubmit).toBe(false);
    expect(result.reused).toBe(true);
    expect(result.created).toBe(2);
    expect(result.live).toBe(0);
  });

  test('timing uses GPU timestamps when the device has them', async () => {
    const result = await gpu.run('timing');
    expect(result.method).toBe(
      result.hasTimestamps ? 'gpu-timestamp' : 'wall-clock',
    );
    expect(result.ms).toBeGreaterThan(0);
    expect(result.ms).toBeLessThan(60_000);
  });

  describe('fatal errors', () => {
    test('device loss is reported once, with context, and stops further work', async () => {
      const result = await gpu.run('deviceLost');
      expect(result.fatal).toHaveLength(1);
      expect(result.fatal[0]).toMatch(/^device lost \(destroyed\)/);
      expect(result.fatal[0]).toContain('while: reading back f32[1×4×4]');
      expect(result.raised?.name).toBe('GpuFatalError');
      expect(result.raised?.message).toBe(result.fatal[0]);
    });

    test('an uncaptured validation error becomes the fatal error', async () => {
      const result = await gpu.run('uncapturedError');
      expect(result.fatal).toHaveLength(1);
      expect(result.fatal[0]).toContain('uncaptured WebGPU error');
      expect(result.raised?.name).toBe('GpuFatalError');
    });
  });

  test('invalid arguments are rejected before GPU work, naming what is wrong', async () => {
    const { errors } = await gpu.run('invalidArguments');
    expect(errors.innerMismatch?.message).toBe(
      'matmul: inner dimensions differ: op(A) is 3×4 (A [1, 3, 4], transA = false) ' +
        'but op(B) is 3×4 (B [1, 3, 4], transB = false)',
    );
    expect(errors.dtype?.message).toBe('matmul: A must be f32, got u32[1×1×4]');
    expect(errors.labelRange?.message).toBe(
      'labels[2] = 5 is invalid; expected an integer class from 0 to 2 (K = 3)',
    );
    expect(errors.labelsShape?.message).toContain(
      'classSums: labels have shape [1, 1, 3]; expected [1, 1, 4]',
    );
    expect(errors.tooLarge?.message).toMatch(
      /needs 17179869184 bytes, more than this adapter's maxStorageBufferBindingSize/,
    );
  });
});

describeGpu('GPU runtime misuse', (gpu) => {
  test('is refused with a message and leaks nothing', async () => {
    const { errors, leaks } = await gpu.run('misuse');
    expect(leaks).toBe(0);
    expect(errors.released?.message).toBe(
      'matmul: A (f32[1×2×2]) was released',
    );
    expect(errors.foreign?.message).toBe(
      'matmul: B (f32[1×2×2]) belongs to another runtime; tensors cannot ' +
        'move between devices (download and upload it)',
    );
    expect(errors.downloadReleased?.message).toBe(
      'download: the tensor (f32[1×2×2]) was released',
    );
    expect(errors.badDtype?.message).toBe(
      'tensor: dtype "f64" is invalid; expected "f32" or "u32"',
    );
    expect(errors.wrongArray?.message).toBe(
      'upload: u32 data must be a Uint32Array, got Float32Array',
    );
    expect(errors.nested?.message).toBe(
      'time: calls cannot be nested; time the outer work only',
    );
    expect(errors.throwingRecord?.message).toBe('boom');
    expect(errors.afterDestroy?.message).toBe(
      'this GPU device has been destroyed',
    );
    expect(errors.destroyTwice).toBeNull();
  });
});
