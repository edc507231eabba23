// The app page: exposes the engine's page-side entry points to the Node host
// (window.nclab) and shows the doctor's findings to a person who opens it.

import { runDoctor, type DoctorReport } from '../doctor';
import {
  runMetrics,
  type MetricsJob,
  type MetricsReport,
} from '../metrics/run';
import {
  endSweep,
  sweepBatch,
  sweepDevice,
  type BatchResult,
  type SweepDevice,
} from '../sweep/page';
import { runTraining, type TrainReport } from '../train/run';
import { Runtime } from '../gpu/runtime';
import type { TuningReport } from '../gpu/tuning';
import { DEFAULT_TUNING, tuneEngine } from '../kernels/tuning';

/** The tuner on a fresh device that starts from the defaults. */
async function tune(repeats: number): Promise<TuningReport> {
  const rt = await Runtime.create({ tuning: DEFAULT_TUNING });
  try {
    return await tuneEngine(rt, {
      repeats,
      log: (line) => console.info(`[nclab:progress] ${line}`),
    });
  } finally {
    await rt.destroy();
  }
}

export interface NclabPageApi {
  doctor(): Promise<DoctorReport>;
  /** Progress lines go to the console as "[nclab:progress] …". */
  train(input: unknown): Promise<TrainReport>;
  /** Collapse metrics of a feature set the host serves. */
  metrics(job: MetricsJob): Promise<MetricsReport>;
  /** A sweep, batch by batch (src/sweep/page.ts); steps go to the console
   * as "[nclab:step] N". */
  sweepDevice(): Promise<SweepDevice>;
  sweepBatch(configs: unknown[]): Promise<BatchResult>;
  endSweep(): Promise<void>;
  /** Measures tile and workgroup candidates (src/kernels/tuning.ts). */
  tune(repeats: number): Promise<TuningReport>;
}

declare global {
  interface Window {
    nclab?: NclabPageApi;
  }
}

window.nclab = {
  doctor: runDoctor,
  train: (input) =>
    runTraining(input, (line) => console.info(`[nclab:progress] ${line}`)),
  metrics: runMetrics,
  sweepDevice,
  sweepBatch: (configs) =>
    sweepBatch(configs, (step) => console.info(`[nclab:step] ${step}`)),
  endSweep,
  tune,
};

const output = document.querySelector('#doctor');
const button = document.querySelector('#run-doctor');
button?.addEventListener('click', () => {
  if (output) output.textContent = 'running…';
  void runDoctor().then((report) => {
    if (output) output.textContent = JSON.stringify(report, null, 2);
  });
});
