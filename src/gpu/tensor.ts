// Tensors: a GPU buffer with a shape (batch × rows × cols, row-major) and an
// element type. The buffer may be larger than the tensor (pooled size class);
// bindings always use the tensor's own byte size.

import { InvalidArgumentError } from './errors';

export type DType = 'f32' | 'u32';
export type Shape = readonly [batch: number, rows: number, cols: number];
export type TypedArrayOf<D extends DType> = D extends 'f32'
  ? Float32Array
  : Uint32Array;

export function elementCount(shape: Shape): number {
  return shape[0] * shape[1] * shape[2];
}

export function formatShape(shape: Shape): string {
  return shape.join('×');
}

/** Rejects shapes that are not three positive integers. */
export function checkShape(shape: Shape, what: string): void {
  const ok =
    shape.length === 3 && shape.every((n) => Number.isInteger(n) && n >= 1);
  if (!ok) {
    throw new InvalidArgumentError(
      `${what}: shape [${shape.join(', ')}] is invalid; expected ` +
        `[batch, rows, cols] of positive integers`,
    );
  }
}

export class Tensor<D extends DType = DType> {
  private released = false;

  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: Shape,
    readonly dtype: D,
    private readonly onRelease: (buffer: GPUBuffer) => void,
  ) {}

  get batch(): number {
    return this.shape[0];
  }
  get rows(): number {
    return this.shape[1];
  }
  get cols(): number {
    return this.shape[2];
  }
  get size(): number {
    return elementCount(this.shape);
  }
  get byteSize(): number {
    return this.size * 4;
  }
  get isReleased(): boolean {
    return this.released;
  }

  /** Gives the buffer back to the pool; the tensor is unusable afterwards. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(this.buffer);
  }

  describe(): string {
    return `${this.dtype}[${formatShape(this.shape)}]`;
  }
}
