// The Node host: the engine in this process on Dawn (src/host/nodeGpu.ts),
// no browser. The same Trainer, kernels and measures as the page, with the
// tuning cached for this adapter as in a page (src/host/tuningCache.ts);
// the data sets the CLI loaded come from memory instead of the page server.

import { Runtime } from '../gpu/runtime';
import { cachedTuning } from '../gpu/tuning';
import type { DataSource } from '../train/graphData';
import type { TrainingHost } from '../train/run';
import { openNodeGpu, type NodeGpu, type NodeGpuOptions } from './nodeGpu';
import { readTuningCache } from './tuningCache';

export interface NodeHostOptions extends NodeGpuOptions {
  /** Data sets by served name (src/host/datasets.ts serveDatasets). */
  files?: ReadonlyMap<string, Uint8Array>;
  /** Called with each device the host opens (the CLI names the adapter). */
  onOpen?: (gpu: NodeGpu) => void;
}

/** Reads the data sets the CLI loaded, by the names the page would fetch. */
export function memoryDataSource(
  files: ReadonlyMap<string, Uint8Array>,
): DataSource {
  return (name) => {
    const bytes = files.get(name);
    if (!bytes) {
      return Promise.reject(
        new Error(
          `the Node host holds no data set "${name}" (the CLI loads the ` +
            'data sets of the runs it was given)',
        ),
      );
    }
    const copy = bytes.buffer.slice(
      bytes.byteOffset,
      bytes.byteOffset + bytes.byteLength,
    ) as ArrayBuffer;
    return Promise.resolve(copy);
  };
}

/** Trainings on a Dawn device in this process. */
export function nodeTrainingHost(options: NodeHostOptions = {}): TrainingHost {
  return {
    async open() {
      const node = await openNodeGpu(options);
      options.onOpen?.(node);
      const tuning = cachedTuning(
        await readTuningCache(),
        node.gpu.adapterSummary,
      );
      const rt = new Runtime(node.gpu, tuning ? { tuning } : {});
      if (tuning) rt.tuningSource = 'cached';
      return { rt, adapter: node.name };
    },
    data: memoryDataSource(options.files ?? new Map()),
  };
}
