// Kernel registry: a kernel family is one WGSL template in kernels/. It is
// specialised by wgsl-preprocessor (`#if ${FLAG}` variants) and by constants
// substituted where the template says `${NAME}` (workgroup and tile sizes),
// compiled once per (kernel, entry point, variant, constants) and cached.

import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';

import type { Gpu } from './device';
import { KernelCompileError, type KernelMessage } from './errors';

/** A kernel family: its name and WGSL template text. */
export interface KernelSource {
  name: string;
  template: string;
}

export interface PipelineSpec {
  kernel: KernelSource;
  /** Entry point in the template; 'main' by default. */
  entryPoint?: string;
  /** Flags read by `#if ${FLAG}` in the template. */
  variant?: Readonly<Record<string, boolean>>;
  /** Numbers substituted for `${NAME}` in the template. */
  constants?: Readonly<Record<string, number>>;
}

const PLACEHOLDER = /\$\{(\w+)\}/g;

function formatParams(params: Readonly<Record<string, unknown>> = {}): string {
  return Object.keys(params)
    .sort()
    .map((key) => `${key}=${String(params[key])}`)
    .join(',');
}

/** The cache key of a pipeline: kernel, entry point, variant, constants. */
export function pipelineKey(spec: PipelineSpec): string {
  return [
    spec.kernel.name,
    spec.entryPoint ?? 'main',
    formatParams(spec.variant),
    formatParams(spec.constants),
  ].join('|');
}

/**
 * Expands a template: placeholders take the variant flag or constant of the
 * same name, then `#if` blocks are resolved. Unknown names are an error.
 */
export function preprocess(spec: PipelineSpec): string {
  const { kernel } = spec;
  const values: Record<string, boolean | number> = {
    ...spec.variant,
    ...spec.constants,
  };
  for (const [name, value] of Object.entries(spec.constants ?? {})) {
    if (!Number.isFinite(value)) {
      throw new KernelCompileError(
        kernel.name,
        [],
        `constant ${name} = ${value} is not a finite number`,
      );
    }
  }

  const pieces = kernel.template.split(PLACEHOLDER);
  // split() with a capture group alternates text and captured names.
  const strings = pieces.filter((_, index) => index % 2 === 0);
  const names = pieces.filter((_, index) => index % 2 === 1);
  const missing = [...new Set(names.filter((name) => !(name in values)))];
  if (missing.length > 0) {
    throw new KernelCompileError(
      kernel.name,
      [],
      `template uses \${${missing.join('}, ${')}} but no variant flag or ` +
        `constant of that name was given (given: ${Object.keys(values).join(', ') || 'none'})`,
    );
  }
  try {
    return wgsl(strings, ...names.map((name) => values[name]));
  } catch (cause) {
    throw new KernelCompileError(
      kernel.name,
      [],
      `preprocessor: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

function toKernelMessages(
  info: GPUCompilationInfo,
  code: string,
): KernelMessage[] {
  const lines = code.split('\n');
  return info.messages.map((message) => ({
    type: message.type,
    lineNum: message.lineNum,
    linePos: message.linePos,
    message: message.message,
    sourceLine: lines[message.lineNum - 1] ?? '',
  }));
}

/** Compiles and caches compute pipelines for one device. */
export class KernelRegistry {
  private readonly cache = new Map<string, Promise<GPUComputePipeline>>();

  constructor(private readonly gpu: Gpu) {}

  /** Number of distinct pipelines compiled (or being compiled). */
  get size(): number {
    return this.cache.size;
  }

  pipeline(spec: PipelineSpec): Promise<GPUComputePipeline> {
    const key = pipelineKey(spec);
    let pipeline = this.cache.get(key);
    if (!pipeline) {
      pipeline = this.compile(spec, key);
      // A failed compile is not cached: the next call reports it again.
      void pipeline.catch(() => this.cache.delete(key));
      this.cache.set(key, pipeline);
    }
    return pipeline;
  }

  private async compile(
    spec: PipelineSpec,
    key: string,
  ): Promise<GPUComputePipeline> {
    this.gpu.check();
    const code = preprocess(spec);
    const { device } = this.gpu;
    const name = spec.kernel.name;

    // Push, create and pop with no await in between: the scope then holds
    // this module's errors only, never those of work running meanwhile.
    // Pipeline creation reports through its own promise instead.
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: key, code });
    const moduleError = device.popErrorScope();
    const messages = toKernelMessages(await module.getCompilationInfo(), code);
    const scopeError = await moduleError;
    const hasErrors = messages.some((m) => m.type === 'error');
    if (hasErrors || scopeError) {
      // With compiler messages, the scope's error only repeats them.
      const detail = hasErrors ? undefined : scopeError?.message;
      throw new KernelCompileError(name, messages, detail);
    }

    let pipeline: GPUComputePipeline;
    try {
      pipeline = await device.createComputePipelineAsync({
        label: key,
        layout: 'auto',
        compute: { module, entryPoint: spec.entryPoint ?? 'main' },
      });
    } catch (cause) {
      throw new KernelCompileError(
        name,
        messages,
        cause instanceof Error ? cause.message : String(cause),
      );
    }
    return pipeline;
  }
}
