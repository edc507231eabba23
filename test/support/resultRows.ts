// Synthetic results rows for the store's tests: deterministic in their
// index, shaped like the scheduler's rows, with made-up numbers (the tests
// check storage, not science).

import { createHash } from 'node:crypto';

import {
  RESULT_SCHEMA_VERSION,
  type FinalMetrics,
  type ResultRow,
} from '../../src/sweep/row';

export interface SyntheticOptions {
  sweep?: string;
  /** Length of a text field added to the configuration, to make rows as
   * large as a test needs (cheaper to format than a long trajectory). */
  padding?: number;
}

const ETAS = [0, 0.1, 0.2, 0.4];

/** The row of configuration `index`; equal indexes give equal rows. */
export function syntheticRow(
  index: number,
  { sweep = 'synthetic', padding = 0 }: SyntheticOptions = {},
): ResultRow {
  const eta = ETAS[index % ETAS.length]!;
  const d = 2 + (index % 3);
  const config: Record<string, unknown> = {
    model: 'ufm',
    K: 4,
    d,
    noise: { eta },
    seed: index,
  };
  if (padding > 0)
    config.note = `row ${index} `.repeat(padding).slice(0, padding);
  const id = createHash('sha256')
    .update(JSON.stringify(config))
    .digest('hex')
    .slice(0, 16);
  const diverged = index % 7 === 3;
  const final: FinalMetrics = {
    loss: diverged ? null : 1 / (index + 2),
    trainAccuracy: diverged ? null : 1 - eta / 2,
    testAccuracy: null,
    memorization: eta === 0 ? null : eta * 0.37,
    dilation: eta === 0 ? null : eta * 1.9,
    relativeMemorization: null,
    relativeDilation: null,
    nc1: 0.5 ** index,
    nc2: 0.01 * d,
    nc3: 0.125,
    nc4: index % 5 === 0 ? 0 : 1e-7 * index,
    nc1Clean: 0.25,
    objective: null,
  };
  return {
    schema: RESULT_SCHEMA_VERSION,
    id,
    sweep,
    part: index % 2 === 0 ? 'ce' : 'mse',
    index,
    point: { 'noise.eta': eta, 'model.d': d },
    config,
    model: 'ufm',
    loss: index % 2 === 0 ? 'ce' : 'mse',
    eta,
    flipRate: eta * 0.98,
    coupling: null,
    gamma: null,
    divergedAtStep: diverged ? 40 + index : null,
    deadClasses: index % 11 === 0 ? [1, 3] : [],
    final,
    trajectory: Array.from({ length: 3 }, (_, step) => ({
      step: step * 10,
      loss: 2 / (step + 1),
      excessLoss: 0,
      accuracy: Math.min(1, step / 50),
      margin: step * 0.01 - 0.3,
      featureNorm: 1 + step * 1e-3,
      classifierNorm: 0.5 + step * 2e-3,
    })),
    scatter: null,
    timing: {
      wallMs: 12.5 + index,
      gpuMs: index % 2 ? null : 3.25,
      batchSize: 8,
    },
    adapter: 'synthetic adapter',
    version: '0.1.0',
  };
}
