// The runtime ties a device to its kernel registry and buffer pool and owns
// the command stream: dispatches are recorded into one compute pass and
// submitted in chunks, or when a result is read back or a timing ends.

import { acquireGpu, type Gpu, type GpuOptions } from './device';
import { BufferPool } from './buffers';
import { InvalidArgumentError } from './errors';
import { KernelRegistry, type PipelineSpec } from './kernels';
import { tuningFor, type EngineTuning } from './tuning';
import {
  Tensor,
  checkShape,
  elementCount,
  type DType,
  type Shape,
  type TypedArrayOf,
} from './tensor';

// Read lazily: the Node host installs the WebGPU globals after import.
const usage = {
  get storage() {
    return (
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST
    );
  },
  get uniform() {
    return GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
  },
  get readback() {
    return GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
  },
  get timestamps() {
    return GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC;
  },
};

/** Dispatches per submit; the engines before us flush around 15. */
const DISPATCHES_PER_SUBMIT = 16;

/** A binding: a tensor, or raw uniform bytes (copied to a fresh buffer). */
export type Binding = Tensor | { uniform: ArrayBuffer };

export interface Dispatch {
  pipeline: GPUComputePipeline;
  /** By binding number; null for a binding this entry point does not use. */
  bindings: readonly (Binding | null)[];
  workgroups: readonly [number, number?, number?];
  label: string;
}

/** How a duration was measured: on the GPU's clock, or around a submit. */
export type TimingMethod = 'gpu-timestamp' | 'wall-clock';

export interface Timing {
  ms: number;
  method: TimingMethod;
}

export interface RuntimeOptions extends GpuOptions {
  /**
   * Fill every tensor from `empty()` with all-ones bits (NaN as f32) instead
   * of leaving old pool contents: tests use it so that an output a kernel
   * forgot to write shows up, even where the right answer is 0.
   */
  poisonEmpty?: boolean;
  /**
   * Tile and workgroup shapes for this adapter (the tuner's choice, see
   * src/kernels/tuning.ts); each kernel's default where a field is absent.
   */
  tuning?: Partial<EngineTuning>;
}

const POISON_WORD = 0xffffffff;

export class Runtime {
  readonly kernels: KernelRegistry;
  readonly pool: BufferPool;
  /** The tile and workgroup shapes the kernels use unless told otherwise. */
  readonly tuning: Partial<EngineTuning>;
  /** Whether `tuning` was given, cached for this adapter, or the default. */
  tuningSource: 'given' | 'cached' | 'default';
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dispatchesInEncoder = 0;
  private timestamps: {
    querySet: GPUQuerySet;
    resolve: GPUBuffer;
    beginPending: boolean;
  } | null = null;
  private destroyed = false;
  private timing = false;

  constructor(
    readonly gpu: Gpu,
    private readonly options: RuntimeOptions = {},
  ) {
    this.kernels = new KernelRegistry(gpu);
    this.pool = new BufferPool(gpu.device, gpu.device.limits.maxBufferSize);
    this.tuning = options.tuning ?? {};
    this.tuningSource = options.tuning ? 'given' : 'default';
  }

  /**
   * A runtime on a new device. Unless `options.tuning` is given, it uses
   * the tuning known for this adapter (src/gpu/tuning.ts, tuningFor).
   */
  static async create(options: RuntimeOptions = {}): Promise<Runtime> {
    const gpu = await acquireGpu(options);
    if (options.tuning) return new Runtime(gpu, options);
    const cached = tuningFor(gpu.adapterSummary);
    if (!cached) return new Runtime(gpu, options);
    const rt = new Runtime(gpu, { ...options, tuning: cached });
    rt.tuningSource = 'cached';
    return rt;
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  pipeline(spec: PipelineSpec): Promise<GPUComputePipeline> {
    return this.kernels.pipeline(spec);
  }

  /**
   * Checks that `tensor` can be used by `op` here: the right element type,
   * not released, and made by this runtime (a buffer of another device would
   * only fail later, as a WebGPU validation error).
   */
  requireTensor(op: string, name: string, tensor: Tensor, dtype: DType): void {
    if (!(tensor instanceof Tensor)) {
      throw new InvalidArgumentError(`${op}: ${name} is not a Tensor`);
    }
    if (tensor.isReleased) {
      throw new InvalidArgumentError(
        `${op}: ${name} (${tensor.describe()}) was released`,
      );
    }
    if (!this.pool.owns(tensor.buffer)) {
      throw new InvalidArgumentError(
        `${op}: ${name} (${tensor.describe()}) belongs to another runtime; ` +
          `tensors cannot move between devices (download and upload it)`,
      );
    }
    if (tensor.dtype !== dtype) {
      throw new InvalidArgumentError(
        `${op}: ${name} must be ${dtype}, got ${tensor.describe()}`,
      );
    }
  }

  /**
   * An uninitialised tensor: pooled memory may hold old values (or, with
   * `poisonEmpty`, all-ones bits).
   */
  empty<D extends DType>(shape: Shape, dtype: D): Tensor<D> {
    const tensor = this.allocate(shape, dtype, 'tensor');
    if (this.options.poisonEmpty) {
      const poison = new Uint32Array(tensor.size).fill(POISON_WORD);
      this.device.queue.writeBuffer(tensor.buffer, 0, poison);
    }
    return tensor;
  }

  private allocate<D extends DType>(
    shape: Shape,
    dtype: D,
    op: string,
  ): Tensor<D> {
    this.gpu.check();
    checkShape(shape, op);
    if (dtype !== 'f32' && dtype !== 'u32') {
      throw new InvalidArgumentError(
        `${op}: dtype "${String(dtype)}" is invalid; expected "f32" or "u32"`,
      );
    }
    const byteSize = elementCount(shape) * 4;
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (byteSize > limit) {
      throw new InvalidArgumentError(
        `${op}: shape [${shape.join(', ')}] needs ${byteSize} bytes, more ` +
          `than this adapter's maxStorageBufferBindingSize (${limit}); ` +
          `split the work into smaller batches`,
      );
    }
    const buffer = this.pool.acquire(
      byteSize,
      usage.storage,
      `${dtype} tensor`,
    );
    return new Tensor(buffer, shape, dtype, (b) => this.pool.release(b));
  }

  /** A tensor filled with zeros (cleared on the GPU, in command order). */
  zeros<D extends DType>(shape: Shape, dtype: D): Tensor<D> {
    const tensor = this.empty(shape, dtype);
    this.endPass();
    this.commandEncoder().clearBuffer(tensor.buffer, 0, tensor.byteSize);
    return tensor;
  }

  upload<D extends DType>(
    data: TypedArrayOf<D>,
    shape: Shape,
    dtype: D,
  ): Tensor<D> {
    checkShape(shape, 'upload');
    const expected = dtype === 'f32' ? Float32Array : Uint32Array;
    if (!(data instanceof expected)) {
      throw new InvalidArgumentError(
        `upload: ${dtype} data must be a ${expected.name}, got ` +
          `${(data as object)?.constructor?.name ?? typeof data}`,
      );
    }
    if (data.length !== elementCount(shape)) {
      throw new InvalidArgumentError(
        `upload: data has ${data.length} elements but shape ` +
          `[${shape.join(', ')}] needs ${elementCount(shape)}`,
      );
    }
    // A fresh pooled buffer is referenced by no unsubmitted command, so the
    // write cannot be seen by dispatches recorded before it.
    const tensor = this.allocate(shape, dtype, 'upload');
    this.device.queue.writeBuffer(
      tensor.buffer,
      0,
      data.buffer,
      data.byteOffset,
      data.byteLength,
    );
    return tensor;
  }

  /** Copies a tensor back to the host; flushes the recorded commands. */
  async download<D extends DType>(tensor: Tensor<D>): Promise<TypedArrayOf<D>> {
    this.gpu.check();
    this.requireTensor('download', 'the tensor', tensor, tensor.dtype);
    const staging = this.pool.acquire(
      tensor.byteSize,
      usage.readback,
      'readback',
    );
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(
      tensor.buffer,
      0,
      staging,
      0,
      tensor.byteSize,
    );
    this.flush();
    this.gpu.context = `reading back ${tensor.describe()}`;
    await staging.mapAsync(GPUMapMode.READ, 0, tensor.byteSize);
    const bytes = staging.getMappedRange(0, tensor.byteSize).slice(0);
    staging.unmap();
    this.pool.release(staging);
    this.gpu.check();
    return (
      tensor.dtype === 'f32' ? new Float32Array(bytes) : new Uint32Array(bytes)
    ) as TypedArrayOf<D>;
  }

  /** Records one dispatch; submits every {@link DISPATCHES_PER_SUBMIT}. */
  dispatch(spec: Dispatch): void {
    this.gpu.check();
    const maxGroups = this.device.limits.maxComputeWorkgroupsPerDimension;
    const [x, y = 1, z = 1] = spec.workgroups;
    for (const count of [x, y, z]) {
      if (!Number.isInteger(count) || count < 0 || count > maxGroups) {
        throw new InvalidArgumentError(
          `${spec.label}: workgroup count ${count} is outside 0..${maxGroups}`,
        );
      }
    }

    // A uniform buffer fresh from the pool is referenced by no unsubmitted
    // command (released buffers return only after a submit), so writing it
    // now cannot change what earlier recorded dispatches read.
    const uniforms: GPUBuffer[] = [];
    const entries: GPUBindGroupEntry[] = [];
    spec.bindings.forEach((binding, index) => {
      if (binding === null) return;
      if (binding instanceof Tensor) {
        this.requireTensor(
          spec.label,
          `binding ${index}`,
          binding,
          binding.dtype,
        );
        entries.push({
          binding: index,
          resource: { buffer: binding.buffer, size: binding.byteSize },
        });
        return;
      }
      const size = binding.uniform.byteLength;
      const buffer = this.pool.acquire(size, usage.uniform, 'uniforms');
      this.device.queue.writeBuffer(buffer, 0, binding.uniform);
      uniforms.push(buffer);
      entries.push({ binding: index, resource: { buffer, size } });
    });

    const bindGroup = this.device.createBindGroup({
      label: spec.label,
      layout: spec.pipeline.getBindGroupLayout(0),
      entries,
    });
    const pass = this.computePass();
    pass.setPipeline(spec.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.gpu.context = `dispatch ${spec.label}`;
    for (const buffer of uniforms) this.pool.release(buffer);

    this.dispatchesInEncoder += 1;
    if (this.dispatchesInEncoder >= DISPATCHES_PER_SUBMIT && !this.timestamps) {
      this.flush();
    }
  }

  /** Submits everything recorded so far. */
  flush(): void {
    this.endPass();
    if (!this.encoder) return;
    this.gpu.check();
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.dispatchesInEncoder = 0;
    this.pool.submitted();
  }

  /** Submits and waits until the GPU has finished all of it. */
  async finish(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.gpu.check();
  }

  /**
   * Measures the GPU time of the work `record` records, with timestamp
   * queries when the device has them (from the start of its first compute
   * pass to the end of a marker pass after its last: copies and clears
   * recorded before the first dispatch are not counted), else by the wall
   * clock around a submit and its completion. Calls cannot be nested.
   */
  async time(record: () => void | Promise<void>): Promise<Timing> {
    this.gpu.check();
    if (this.timing) {
      throw new InvalidArgumentError(
        'time: calls cannot be nested; time the outer work only',
      );
    }
    this.timing = true;
    try {
      return this.gpu.has('timestamp-query')
        ? await this.timeWithTimestamps(record)
        : await this.timeWithClock(record);
    } finally {
      this.timing = false;
    }
  }

  private async timeWithClock(
    record: () => void | Promise<void>,
  ): Promise<Timing> {
    await this.finish();
    const start = performance.now();
    await record();
    await this.finish();
    return { ms: performance.now() - start, method: 'wall-clock' };
  }

  private async timeWithTimestamps(
    record: () => void | Promise<void>,
  ): Promise<Timing> {
    this.flush();
    const querySet = this.device.createQuerySet({
      type: 'timestamp',
      count: 2,
    });
    const resolve = this.pool.acquire(16, usage.timestamps, 'timestamps');
    const staging = this.pool.acquire(16, usage.readback, 'timestamp readback');
    try {
      this.timestamps = { querySet, resolve, beginPending: true };
      await record();
      this.endPass();
      const markerWrites: GPUComputePassTimestampWrites = {
        querySet,
        endOfPassWriteIndex: 1,
      };
      // If nothing was recorded, the marker pass writes both timestamps.
      if (this.timestamps.beginPending) {
        markerWrites.beginningOfPassWriteIndex = 0;
      }
      this.timestamps = null;
      const encoder = this.commandEncoder();
      encoder.beginComputePass({ timestampWrites: markerWrites }).end();
      encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, staging, 0, 16);
      this.flush();
      await staging.mapAsync(GPUMapMode.READ, 0, 16);
      const [begin, end] = new BigUint64Array(staging.getMappedRange(0, 16));
      staging.unmap();
      this.gpu.check();
      return { ms: Number(end! - begin!) / 1e6, method: 'gpu-timestamp' };
    } finally {
      this.timestamps = null;
      // Whatever `record` left recorded is submitted before the query set
      // goes, so no pending command refers to a destroyed query set.
      if (!this.gpu.failure) this.flush();
      this.pool.release(staging);
      this.pool.release(resolve);
      querySet.destroy();
    }
  }

  /** Waits for the GPU, then destroys every buffer and the device. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      if (!this.gpu.failure) await this.finish();
    } finally {
      this.pool.destroyAll();
      this.gpu.destroy();
    }
  }

  private commandEncoder(): GPUCommandEncoder {
    this.gpu.check();
    this.encoder ??= this.device.createCommandEncoder({ label: 'nclab' });
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    if (this.pass) return this.pass;
    const descriptor: GPUComputePassDescriptor = { label: 'nclab' };
    if (this.timestamps?.beginPending) {
      descriptor.timestampWrites = {
        querySet: this.timestamps.querySet,
        beginningOfPassWriteIndex: 0,
      };
      this.timestamps.beginPending = false;
    }
    this.pass = this.commandEncoder().beginComputePass(descriptor);
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }
}
