// Sweep specs: expansion order, identities, shards and batches, and every
// mistake reported at once with its path in the spec, before any GPU work.

import { describe, expect, test } from 'vitest';

import { presetSpec } from '../src/sweep/presets';
import { canonicalJson, contentId } from '../src/sweep/hash';
import {
  parseShard,
  planBatches,
  shardItems,
  type BatchLimits,
} from '../src/sweep/plan';
import { expandSweep } from '../src/sweep/spec';

const MD = {
  model: 'md',
  K: 2,
  d: 2,
  n: 50,
  loss: { kind: 'ce' },
  lambdaW: 1e-3,
  lambdaH: 1e-3,
  lr: 0.5,
  lrH: 5,
  steps: 100,
  coupling: 1,
  noise: { kind: 'symmetric', eta: 0.2 },
};

const SPEC = {
  name: 'test',
  parts: [
    {
      name: 'md',
      base: MD,
      grid: {
        loss: [{ kind: 'ce' }, { kind: 'ls', alpha: 0.1 }],
        'noise.eta': [0.1, 0.2, 0.3],
      },
    },
    { name: 'ufm', base: { ...MD, model: 'ufm', coupling: undefined } },
  ],
};

function problemsOf(spec: unknown): string {
  try {
    expandSweep(spec);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

describe('sweep expansion', () => {
  test('is the product of each grid, first key outermost, parts in order', () => {
    const { name, items } = expandSweep(SPEC);
    expect(name).toBe('test');
    expect(items.map((i) => [i.index, i.part, i.point])).toEqual([
      [0, 'md', { loss: { kind: 'ce' }, 'noise.eta': 0.1 }],
      [1, 'md', { loss: { kind: 'ce' }, 'noise.eta': 0.2 }],
      [2, 'md', { loss: { kind: 'ce' }, 'noise.eta': 0.3 }],
      [3, 'md', { loss: { kind: 'ls', alpha: 0.1 }, 'noise.eta': 0.1 }],
      [4, 'md', { loss: { kind: 'ls', alpha: 0.1 }, 'noise.eta': 0.2 }],
      [5, 'md', { loss: { kind: 'ls', alpha: 0.1 }, 'noise.eta': 0.3 }],
      [6, 'ufm', {}],
    ]);
    // The grid's value lands in the configuration, defaults filled in.
    expect(items[4]!.config).toMatchObject({
      loss: { kind: 'ls', alpha: 0.1 },
      noise: { kind: 'symmetric', eta: 0.2 },
      optimizer: { kind: 'gd' },
      seed: 0,
    });
  });

  test('names a configuration by its content, whatever the key order', () => {
    const { items } = expandSweep(SPEC);
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    const reordered = Object.fromEntries(
      Object.entries(items[0]!.config).reverse(),
    );
    expect(contentId(reordered)).toBe(items[0]!.id);
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 4, e: 5 }] } })).toBe(
      '{"a":{"c":[3,{"e":5,"f":4}],"d":2},"b":1}',
    );
    // A second expansion gives the same ids (resume depends on it).
    expect(expandSweep(SPEC).items.map((i) => i.id)).toEqual(
      items.map((i) => i.id),
    );
  });

  test('reports five different mistakes at once, each where it was made', () => {
    const message = problemsOf({
      name: 'five mistakes',
      parts: [
        {
          name: 'md',
          base: { ...MD, lambdaW: -1 },
          grid: {
            'noise.eta': [0.1, 1.5],
            lamdaH: [0.1],
            coupling: [0.3, 'strong'],
          },
        },
        { name: 'other', base: { ...MD, steps: 0 } },
      ],
    });
    expect(message).toMatch(/^invalid sweep spec \(6 problems\):\n/);
    for (const expected of [
      'spec.name = "five mistakes" is invalid; expected 1–100 letters, digits, ".", "_" or "-"',
      'spec.parts[0].base.lambdaW = -1 is invalid; expected a number ≥ 0',
      'spec.parts[0].grid["noise.eta"][1] = 1.5 is invalid; expected η in [0, 1]',
      'spec.parts[0].grid["lamdaH"][0]: unknown field',
      'spec.parts[0].grid["coupling"][1] = "strong" is invalid; expected number',
      'spec.parts[1].base.steps = 0 is invalid; expected an integer from 1 to 100000000',
    ]) {
      expect(message).toContain(expected);
    }
  });

  test('refuses duplicate configurations and part names, and empty grids', () => {
    expect(
      problemsOf({
        name: 'dup',
        parts: [{ name: 'a', base: MD, grid: { seed: [1, 1] } }],
      }),
    ).toContain(
      'spec.parts[0] at grid point {"seed":1} repeats the configuration of ' +
        'spec.parts[0] at grid point {"seed":1}',
    );
    // Positions count every grid point, valid or not.
    const message2 = problemsOf({
      name: 'dup',
      parts: [{ name: 'a', base: MD, grid: { lr: [0.5, 0.3], seed: [0, 0] } }],
    });
    expect(message2).toContain(
      'spec.parts[0] at grid point {"lr":0.3,"seed":0} repeats the ' +
        'configuration of spec.parts[0] at grid point {"lr":0.3,"seed":0}',
    );
    expect(
      problemsOf({
        name: 'keys',
        parts: [{ name: 'a', base: MD, grid: { 'noise..eta': [0.1] } }],
      }),
    ).toContain(
      'spec.parts[0].grid["noise..eta"] = [0.1] is invalid; the key "noise..eta" is not a field path',
    );
    const message = problemsOf({
      name: 'dup',
      parts: [
        { name: 'a', base: MD, grid: { seed: [] } },
        { name: 'a', base: MD },
      ],
    });
    expect(message).toContain(
      'spec.parts[0].grid.seed = [] is invalid; expected a non-empty list of values',
    );
    expect(message).toContain(
      'spec.parts[1].name = "a" is invalid; expected a name no other part has',
    );
  });

  test('the default preset expands at both scales', () => {
    const small = expandSweep(presetSpec('default', 'small'));
    const parts = new Map<string, number>();
    for (const item of small.items) {
      parts.set(item.part, (parts.get(item.part) ?? 0) + 1);
    }
    expect(Object.fromEntries(parts)).toEqual({
      md: 54,
      graph: 27,
      'ufm-control': 9,
    });
    expect(expandSweep(presetSpec('default', 'full')).items.length).toBe(
      3 * 5 * 6 * 5 + 3 * 5 * 6 + 3 * 5,
    );
    expect(() => presetSpec('default', 'huge')).toThrow(
      '--scale huge is invalid; expected small or full',
    );
    expect(() => presetSpec('paper', 'small')).toThrow(
      '--preset paper is invalid; expected default',
    );
  });
});

describe('shards and batches', () => {
  const { items } = expandSweep(SPEC);

  test('shards are disjoint, deterministic and cover the sweep', () => {
    const shards = [0, 1, 2].map((index) =>
      shardItems(items, parseShard(`${index}/3`)),
    );
    const all = shards.flat().map((i) => i.index);
    expect(all.sort((a, b) => a - b)).toEqual(items.map((i) => i.index));
    expect(shards[1]!.map((i) => i.index)).toEqual([1, 4]);
    for (const bad of ['3/3', '1', '-1/2', 'a/b', '0/0']) {
      expect(() => parseShard(bad)).toThrow(`--shard ${bad} is invalid`);
    }
  });

  test('batches hold one model and length, and split to fit memory', () => {
    const roomy: BatchLimits = {
      maxStorageBufferBindingSize: 2 ** 30,
      maxBufferSize: 2 ** 30,
      maxConfigs: 256,
    };
    const batches = planBatches(items, roomy);
    expect(batches.map((b) => b.items.map((i) => i.index))).toEqual([
      [0, 1, 2, 3, 4, 5],
      [6],
    ]);
    expect(planBatches(items, { ...roomy, maxConfigs: 4 }).length).toBe(3);
    // An md configuration of K = 2, d = 2 needs 4·2·(8 + 2) = 80 bytes in
    // its largest buffer: a 400-byte binding holds 2 (half of it is kept).
    const tight = planBatches(items, {
      ...roomy,
      maxStorageBufferBindingSize: 400,
    });
    expect(tight.map((b) => b.items.length)).toEqual([2, 2, 2, 1]);
  });
});
