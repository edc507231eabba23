// What the sweep rows of the benchmark train: sweep specs in the form
// `nclab sweep` reads, expanded by the same expandSweep, so each row times
// configurations a real sweep would run. The md row reuses the default
// preset's md part; the ufm row is a grid of the ufm rows' setting. Nothing
// here touches the GPU.

import { DEFAULT_MAX_BATCH } from '../src/sweep/plan';
import { presetSpec } from '../src/sweep/presets';
import { expandSweep, type SweepItem } from '../src/sweep/spec';

/** A sweep trained batched and one configuration at a time (bench/sweep.ts). */
export interface SweepWorkload {
  kind: 'sweep';
  name: string;
  model: 'md' | 'ufm';
  /** Configurations in the sweep. */
  count: number;
  /** Steps each configuration trains. */
  steps: number;
  /** ufm only: classes, feature dimension, examples per class (md: the preset's). */
  ufm?: { K: number; d: number; perClass: number };
  /** Configurations also trained one at a time: a seeded sample. */
  sampled: number;
  /** Seed of the sample's choice. */
  seed: number;
  /** Most configurations per batch. */
  maxBatch: number;
}

interface SweepSpecJson {
  name: string;
  parts: SpecPart[];
}

interface SpecPart {
  name: string;
  base: Record<string, unknown>;
  grid: Record<string, unknown[]>;
}

function defaultPresetPart(name: string): SpecPart {
  const spec = presetSpec('default', 'small') as { parts?: SpecPart[] };
  const part = spec.parts?.find((p) => p.name === name);
  if (!part) throw new Error(`the default preset has no "${name}" part`);
  return part;
}

function gridSize(grid: Record<string, unknown[]>): number {
  return Object.values(grid).reduce((n, values) => n * values.length, 1);
}

/** Seeds 0, 1, … outermost, as many as it takes to reach `count`. */
function withSeeds(grid: Record<string, unknown[]>, count: number) {
  const { seed: _, ...rest } = grid;
  const seeds = Math.ceil(count / gridSize(rest));
  return { seed: Array.from({ length: seeds }, (_, s) => s), ...rest };
}

/**
 * The small default preset's md part (its base, losses, η and λ grids),
 * run `steps` steps instead of its own, with seeds outermost so the first
 * `count` configurations cover every loss, η and λ.
 */
function mdSpec(w: SweepWorkload): SweepSpecJson {
  const part = defaultPresetPart('md');
  return {
    name: 'bench-sweep-md',
    parts: [
      {
        name: 'md',
        base: { ...part.base, steps: w.steps },
        grid: withSeeds(part.grid, w.count),
      },
    ],
  };
}

/**
 * The ufm rows' setting (cross-entropy, GD at lr 0.5, features at N·lr)
 * over symmetric label noise η and feature weight decay λ_H. The feature
 * step multiplies H by 1 − N·lr·λ_H, so λ_H is set by that product
 * (0.05 … 0.5), which keeps every configuration stable at any N.
 */
function ufmSpec(w: SweepWorkload): SweepSpecJson {
  const size = w.ufm;
  if (!size) throw new Error(`${w.name}: a ufm sweep needs its sizes`);
  const lr = 0.5;
  const N = size.K * size.perClass;
  return {
    name: 'bench-sweep-ufm',
    parts: [
      {
        name: 'ufm',
        base: {
          model: 'ufm',
          K: size.K,
          d: size.d,
          n: size.perClass,
          loss: { kind: 'ce' },
          lambdaW: 5e-3,
          lambdaH: 1e-4,
          lr,
          optimizer: { kind: 'gd' },
          noise: { kind: 'symmetric', eta: 0 },
          steps: w.steps,
        },
        grid: withSeeds(
          {
            'noise.eta': [0, 0.1, 0.2, 0.4],
            lambdaH: [0.05, 0.1, 0.25, 0.5].map((f) => f / (N * lr)),
          },
          w.count,
        ),
      },
    ],
  };
}

export function sweepSpec(w: SweepWorkload): SweepSpecJson {
  return w.model === 'md' ? mdSpec(w) : ufmSpec(w);
}

/** The first `count` configurations of the row's spec, checked. */
export function sweepItems(w: SweepWorkload): SweepItem[] {
  const { items } = expandSweep(sweepSpec(w));
  if (items.length < w.count) {
    throw new Error(
      `${w.name}: the spec makes ${items.length} configurations, ` +
        `fewer than ${w.count}`,
    );
  }
  return items.slice(0, w.count);
}

/** A grid value in words: numbers to 3 digits, losses as CE or LS(0.1). */
function describeValue(value: unknown): string {
  if (typeof value === 'number') return `${+value.toPrecision(3)}`;
  const loss = value as { kind?: unknown; alpha?: unknown } | null;
  if (typeof loss?.kind === 'string') {
    const kind = loss.kind.toUpperCase();
    return typeof loss.alpha === 'number' ? `${kind}(${loss.alpha})` : kind;
  }
  return JSON.stringify(value);
}

/** The grid, in words: "seeds 0–37 × loss CE, LS(0.1), MSE × …". */
export function describeGrid(w: SweepWorkload): string {
  const { grid } = sweepSpec(w).parts[0]!;
  return Object.entries(grid)
    .map(([key, values]) => {
      if (key === 'seed' && values.length > 1)
        return `seeds 0–${values.length - 1}`;
      const shown = values.map(describeValue);
      return `${key} ${shown.join(', ')}`;
    })
    .join(' × ');
}

export function describeSweep(w: SweepWorkload): string {
  const { base } = sweepSpec(w).parts[0]!;
  const [K, d, n] = [base.K, base.d, base.n].map(describeValue);
  return (
    `${w.count} × ${w.model} (K=${K}, d=${d}, n=${n} per class), ` +
    `${w.steps} steps`
  );
}

/**
 * Sized so both rows take about three minutes on SwiftShader on an idle
 * 2-core machine, the batched md sweep most of it (about 100 s). The ufm
 * sweep keeps the ×64 step row's N = 500: at the single step row's
 * N = 10 000 its steps alone would take about 20 minutes there. Quick sizes
 * take seconds.
 */
export function sweepWorkloads(quick: boolean): SweepWorkload[] {
  const common = { kind: 'sweep' as const, maxBatch: DEFAULT_MAX_BATCH };
  return [
    {
      ...common,
      name: 'sweep md ×1000',
      model: 'md',
      count: quick ? 12 : 1_000,
      steps: quick ? 5 : 50,
      sampled: quick ? 2 : 12,
      seed: 11,
    },
    {
      ...common,
      name: 'sweep ufm ×64',
      model: 'ufm',
      count: quick ? 4 : 64,
      steps: quick ? 5 : 50,
      ufm: quick
        ? { K: 3, d: 4, perClass: 20 }
        : { K: 10, d: 16, perClass: 50 },
      sampled: quick ? 2 : 8,
      seed: 12,
    },
  ];
}
