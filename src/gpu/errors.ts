// Error types of the engine. Each carries enough context to act on without a
// debugger: which limit, kernel or field, what was needed and what was found.

/** WebGPU is absent or no adapter could be obtained. */
export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

/** The adapter cannot provide a limit or feature the engine requires. */
export class GpuLimitError extends Error {
  override name = 'GpuLimitError';
  constructor(
    readonly limit: string,
    readonly needed: number,
    readonly available: number,
    adapterName: string,
  ) {
    super(
      `adapter "${adapterName}" cannot provide ${limit} = ${needed}: ` +
        `it supports at most ${available}. Use a smaller problem, or run on ` +
        `an adapter with a larger ${limit} (see \`nclab doctor\`).`,
    );
  }
}

/** A compiler message tied to a line of the preprocessed WGSL source. */
export interface KernelMessage {
  type: GPUCompilationMessageType;
  lineNum: number;
  linePos: number;
  message: string;
  /** The offending line of the preprocessed source, as compiled. */
  sourceLine: string;
}

/** A kernel failed to preprocess, compile or link into a pipeline. */
export class KernelCompileError extends Error {
  override name = 'KernelCompileError';
  constructor(
    readonly kernel: string,
    readonly messages: KernelMessage[],
    detail?: string,
  ) {
    const lines = messages
      .filter((m) => m.type === 'error')
      .map(
        (m) =>
          `  line ${m.lineNum}:${m.linePos}: ${m.message}\n` +
          `    ${m.sourceLine.trim()}`,
      );
    super(
      `kernel "${kernel}" failed to compile` +
        (lines.length > 0 ? `:\n${lines.join('\n')}` : '') +
        (detail ? `\n  ${detail}` : ''),
    );
  }
}

/** The device was lost or raised an error nobody captured: fatal. */
export class GpuFatalError extends Error {
  override name = 'GpuFatalError';
}

/** An argument (shape, dtype, option) is invalid; raised before GPU work. */
export class InvalidArgumentError extends Error {
  override name = 'InvalidArgumentError';
}
