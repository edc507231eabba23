// Buffer pool: buffers are reused by (usage, size class). A released buffer
// only becomes reusable once the commands that used it have been submitted:
// queue.writeBuffer runs at call time on the queue timeline, so reusing a
// buffer before the earlier dispatch is submitted would overwrite its input.

/** Classes 2^k and 1.5·2^k: at most a third of a buffer goes unused. */
export function sizeClass(byteSize: number): number {
  const size = Math.max(256, Math.ceil(byteSize / 4) * 4);
  const power = 2 ** Math.ceil(Math.log2(size));
  return size <= power * 0.75 ? power * 0.75 : power;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  private readonly live = new Set<GPUBuffer>();
  private readonly all = new Set<GPUBuffer>();
  private created = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
  ) {}

  /** Buffers handed out and not yet released. */
  get liveCount(): number {
    return this.live.size;
  }

  /** Whether this pool made `buffer` (and has not destroyed it). */
  owns(buffer: GPUBuffer): boolean {
    return this.all.has(buffer);
  }

  /** GPU buffers ever created by this pool (reuse keeps this low). */
  get createdCount(): number {
    return this.created;
  }

  acquire(byteSize: number, usage: GPUBufferUsageFlags, label = ''): GPUBuffer {
    let size = sizeClass(byteSize);
    // Near the adapter's limit, do not round past it.
    if (size > this.maxBufferSize) size = Math.ceil(byteSize / 4) * 4;
    const key = `${usage}:${size}`;
    const buffer =
      this.free.get(key)?.pop() ??
      this.create(size, usage, label || `pool ${key}`);
    this.live.add(buffer);
    return buffer;
  }

  /** Returns a buffer; it is reused only after the next submit. */
  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) return;
    this.pending.push(buffer);
  }

  /** Call right after queue.submit: pending releases become reusable. */
  submitted(): void {
    for (const buffer of this.pending) {
      const key = `${buffer.usage}:${buffer.size}`;
      let list = this.free.get(key);
      if (!list) this.free.set(key, (list = []));
      list.push(buffer);
    }
    this.pending = [];
  }

  /** Destroys every buffer the pool created, live or not. */
  destroyAll(): void {
    for (const buffer of this.all) buffer.destroy();
    this.all.clear();
    this.live.clear();
    this.free.clear();
    this.pending = [];
  }

  private create(size: number, usage: number, label: string): GPUBuffer {
    const buffer = this.device.createBuffer({ size, usage, label });
    this.created += 1;
    this.all.add(buffer);
    return buffer;
  }
}
