// Training configurations: bad ones are rejected before any GPU work with
// every problem listed, each naming its path, the value and what is allowed.

import { describe, expect, test } from 'vitest';

import {
  parseConfig,
  parseConfigurations,
  parseUfmConfig,
} from '../src/train/config';

const VALID = {
  model: 'ufm',
  K: 3,
  d: 4,
  n: 4,
  loss: { kind: 'ce' },
  lambdaW: 5e-3,
  lambdaH: 5e-3,
  lr: 0.5,
  steps: 100,
};

function problems(config: unknown): string {
  try {
    parseUfmConfig(config);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

describe('parseUfmConfig', () => {
  test('fills in the defaults', () => {
    const c = parseUfmConfig(VALID);
    expect(c.countsPerClass).toEqual([4, 4, 4]);
    expect(c.optimizer).toEqual({ kind: 'gd' });
    expect(c.schedule).toEqual({ kind: 'constant' });
    expect(c.lambdaB).toBe(0);
    expect(c.positive).toBe(false);
  });

  test('gives the cosine schedule the run length by default', () => {
    const c = parseUfmConfig({ ...VALID, schedule: { kind: 'cosine' } });
    expect(c.schedule).toEqual({ kind: 'cosine', totalSteps: 100 });
  });

  test.each([
    [{ lambdaW: -1 }, 'config.lambdaW = -1 is invalid; expected a number ≥ 0'],
    [
      { lambdaH: -0.1 },
      'config.lambdaH = -0.1 is invalid; expected a number ≥ 0',
    ],
    [
      { loss: { kind: 'ls', alpha: 1 } },
      'config.loss.alpha = 1 is invalid; expected α in [0, 1)',
    ],
    [
      { loss: { kind: 'ls', alpha: -0.1 } },
      'config.loss.alpha = -0.1 is invalid; expected α in [0, 1)',
    ],
    [{ K: 1 }, 'config.K = 1 is invalid; expected an integer from 2 to 1024'],
    [{ d: 0 }, 'config.d = 0 is invalid; expected an integer from 1 to 65536'],
    [
      { n: [4, 0, 4] },
      'config.n[1] = 0 is invalid; expected an integer from 1 to 16777216 (no class empty or fractional)',
    ],
    [
      { n: [4, 4] },
      'config.n = [4,4] is invalid; expected one count per class (K = 3)',
    ],
    [{ lr: 0 }, 'config.lr = 0 is invalid; expected a number > 0'],
    [{ lr: -0.5 }, 'config.lr = -0.5 is invalid; expected a number > 0'],
    [
      { loss: { kind: 'hinge' } },
      'config.loss.kind = "hinge" is invalid; expected a loss with kind "ce", "ls" (with alpha) or "mse"',
    ],
    [
      { model: 'resnet' },
      'config.model = "resnet" is invalid; expected "ufm", "md" or "graph"',
    ],
    [
      { steps: 2.5 },
      'config.steps = 2.5 is invalid; expected an integer from 1 to 100000000',
    ],
    [
      { optimizer: { kind: 'momentum', beta: 1.5 } },
      'config.optimizer.beta = 1.5 is invalid; expected β in [0, 1)',
    ],
    [
      { schedule: { kind: 'step', every: 0, factor: 0.5 } },
      'config.schedule.every = 0 is invalid; expected an integer ≥ 1',
    ],
    [{ colour: 'blue' }, 'config: unknown field(s) "colour"'],
  ])('rejects %j', (change, message) => {
    expect(problems({ ...VALID, ...change })).toContain(message);
  });

  test('names a missing field', () => {
    const noLr: Partial<typeof VALID> = { ...VALID };
    delete noLr.lr;
    expect(problems(noLr)).toContain('config.lr is missing; expected number');
  });

  test('refuses a feature step that weight decay alone would blow up', () => {
    // N = 12, lr = 0.5: lr_H = N·lr = 6, and 6 · 0.5 = 3 ≥ 2.
    expect(problems({ ...VALID, lambdaH: 0.5 })).toContain(
      'config.lambdaH = 0.5 is invalid; with lr_H = 6 (N·lr), the product ' +
        'with lambdaH is 3 ≥ 2: gd on the features would diverge; lower the ' +
        'step size or lambdaH',
    );
    // Momentum allows up to 2(1 + β); Adam is not limited this way.
    expect(
      problems({
        ...VALID,
        lambdaH: 0.5,
        optimizer: { kind: 'momentum', beta: 0.9 },
      }),
    ).toBe('');
    expect(
      problems({ ...VALID, lambdaH: 0.5, optimizer: { kind: 'adam' } }),
    ).toBe('');
  });

  test('refuses a classifier or bias step that weight decay would blow up', () => {
    expect(problems({ ...VALID, lambdaW: 5 })).toContain(
      'config.lambdaW = 5 is invalid; with lr = 0.5, the product with ' +
        'lambdaW is 2.5 ≥ 2: gd on the classifier would diverge',
    );
    expect(problems({ ...VALID, lambdaB: 4 })).toContain(
      'config.lambdaB = 4 is invalid; with lr = 0.5, the product with ' +
        'lambdaB is 2 ≥ 2: gd on the bias would diverge',
    );
  });

  test('refuses sizes the engine cannot hold, before any work', () => {
    expect(problems({ ...VALID, K: 100_000 })).toContain(
      'config.K = 100000 is invalid; expected an integer from 2 to 1024',
    );
    expect(problems({ ...VALID, n: 2 ** 53 })).toContain(
      'config.n = 9007199254740992 is invalid; expected an integer from 1 to 16777216',
    );
    expect(problems({ ...VALID, n: 10_000_000 })).toContain(
      'config.n = 10000000 is invalid; 30000000 examples in all; expected at most 16777216',
    );
    expect(problems({ ...VALID, d: 60_000, n: 10_000 })).toContain(
      'config.d = 60000 is invalid; the features would take 60000×30000 = ' +
        '1800000000 floats; expected at most 268435456 (1 GiB): lower d or n',
    );
  });

  test('names a value of the wrong type', () => {
    expect(problems({ ...VALID, K: 'three' })).toContain(
      'config.K = "three" is invalid; expected number',
    );
  });

  test('lists every problem at once', () => {
    const message = problems({ ...VALID, K: 1, lambdaW: -1, lr: 0 });
    expect(message).toMatch(/^invalid training configuration \(3 problems\):/);
    expect(message).toContain('config.K = 1');
    expect(message).toContain('config.lambdaW = -1');
    expect(message).toContain('config.lr = 0');
  });
});

const MD = {
  ...VALID,
  model: 'md',
  K: 2,
  d: 2,
  n: 100,
  coupling: 0.5,
  noise: { kind: 'symmetric', eta: 0.2 },
};

function mdProblems(config: unknown): string {
  try {
    parseConfig(config);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

describe('md configurations', () => {
  test('draw the noise into counts and fill in the defaults', () => {
    const run = parseConfig(MD);
    if (run.model !== 'md') throw new Error('expected an md run');
    const { counts } = run.config;
    expect(counts.map((row) => row[0]! + row[1]!)).toEqual([100, 100]);
    const flipped = counts[0]![1]! + counts[1]![0]!;
    expect(run.flipRate).toBe(flipped / 200);
    expect(flipped).toBeGreaterThan(0);
    // The noise seed is derived from the run's seed, and stated.
    expect(run.noise).toEqual({
      kind: 'symmetric',
      eta: 0.2,
      seed: 0x9e3779b9,
    });
    expect(run.config.smoothing).toBe(1e-6);
    expect(run.config.testSamples).toBe(10_000);
    // Same configuration, same counts; another noise seed, other counts.
    const again = parseConfig(MD);
    expect(again.model === 'md' && again.config.counts).toEqual(counts);
    const other = parseConfig({ ...MD, noise: { ...MD.noise, seed: 5 } });
    expect(other.model === 'md' && other.config.counts).not.toEqual(counts);
  });

  test('without noise every example is clean', () => {
    const run = parseConfig({ ...MD, noise: undefined });
    expect(run.model === 'md' && run.config.counts).toEqual([
      [100, 0],
      [0, 100],
    ]);
  });

  test.each([
    [
      { coupling: -1 },
      'config.coupling = -1 is invalid; expected a number ≥ 0',
    ],
    [{ coupling: undefined }, 'config.coupling is missing; expected number'],
    [
      { noise: { kind: 'symmetric', eta: 1.5 } },
      'config.noise.eta = 1.5 is invalid; expected η in [0, 1]',
    ],
    [
      { noise: { kind: 'random', eta: 0.1 } },
      'config.noise.kind = "random" is invalid; expected "uniform", "symmetric" or "pair"',
    ],
    [
      { noise: { kind: 'pair', eta: 0.1, seed: -3 } },
      'config.noise.seed = -3 is invalid; expected an integer from 0 to 4294967295',
    ],
    [
      { smoothing: 0 },
      'config.smoothing = 0 is invalid; expected a number > 0',
    ],
    [
      { testSamples: 0 },
      'config.testSamples = 0 is invalid; expected an integer ≥ 1',
    ],
    [
      { n: [100, 0] },
      'config.n[1] = 0 is invalid; expected an integer from 1 to 16777216 (no class empty or fractional)',
    ],
    [{ graph: 3 }, 'config: unknown field(s) "graph"'],
  ])('rejects %j', (change, message) => {
    expect(mdProblems({ ...MD, ...change })).toContain(message);
  });

  test('refuses noise that leaves a class without clean examples', () => {
    expect(
      mdProblems({ ...MD, noise: { kind: 'pair', eta: 1, seed: 1 } }),
    ).toContain(
      'config.noise = {"kind":"pair","eta":1,"seed":1} is invalid here; the ' +
        'noise drawn leaves class(es) 0, 1 without a clean example',
    );
  });

  test('a ufm configuration does not take md fields', () => {
    expect(problems({ ...VALID, coupling: 1 })).toContain(
      'config: unknown field(s) "coupling"',
    );
    expect(problems(MD)).toContain(
      'config.model = "md" is invalid here; expected "ufm"',
    );
  });
});

describe('configuration files', () => {
  test('name each configuration of a list by its index', () => {
    let message = '';
    try {
      parseConfigurations([{ ...VALID, K: 1 }, VALID, { ...VALID, lr: -1 }]);
    } catch (error) {
      message = (error as Error).message;
    }
    // One header with the total, then every problem with its path.
    expect(message).toMatch(/^invalid training configuration \(2 problems\):/);
    expect(message).toContain('configs[0].K = 1 is invalid');
    expect(message).toContain('configs[2].lr = -1 is invalid');
    expect(() => parseConfigurations([{ model: 'md' }])).toThrow(
      'configs[0].K is missing',
    );
  });

  test('refuse unknown top-level fields and a file that is not an object', () => {
    expect(() => parseConfigurations({ configs: [VALID], name: 'x' })).toThrow(
      'unknown top-level field(s) "name"',
    );
    let message = '';
    try {
      parseConfigurations(42);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'invalid training configuration (1 problem):\n  config = 42 is invalid; expected object',
    );
  });

  test('report the resolved feature step size', () => {
    const [run] = parseConfigurations(VALID);
    expect(run!.config.lrH).toBe(12 * 0.5);
  });
});

const GRAPH = {
  model: 'graph',
  d: 2,
  loss: { kind: 'ce' },
  lambdaW: 1e-3,
  lambdaH: 1e-3,
  lr: 0.5,
  steps: 100,
  gamma: 1,
  data: { kind: 'fashion-mnist', source: 'fixture', perClass: 100 },
  noise: { kind: 'symmetric', eta: 0.2 },
};

describe('graph configurations', () => {
  test('take K and the training count from their data', () => {
    const run = parseConfig({ ...GRAPH, lrH: 50 });
    if (run.model !== 'graph') throw new Error('expected a graph run');
    expect(run.config.K).toBe(2);
    expect(run.config.lrH).toBe(50);
    expect(run.data).toEqual({
      kind: 'fashion-mnist',
      source: 'fixture',
      classes: [0, 1],
      perClass: 100,
      testPerClass: 250,
      seed: 0,
      pca: 50,
    });
    expect(run.k).toBe(10);
    // The noise seed is derived from the run's seed unless given.
    expect(run.noise).toEqual({
      kind: 'symmetric',
      eta: 0.2,
      seed: 0x9e3779b9,
    });
  });

  test.each([
    [
      // lr_H = N_train·lr = 200: the coupling's curvature 2γ/N_train
      // alone takes the step to the edge of stability.
      { lr: 1, lambdaH: 0 },
      'config.gamma = 1 is invalid; with lr_H = 200 (N_train·lr), ' +
        'lr_H·(λ_H + 2γ/N_train) = 2 ≥ 2: gd on the features would diverge',
    ],
    [
      { lrH: 50, graph: { k: 100 } },
      'config.graph.k = 100 is invalid; expected an integer from 1 to 64',
    ],
    [
      { lrH: 50, data: { kind: 'fashion-mnist', pca: 800 } },
      'config.data.pca = 800 is invalid; expected at most 784 components',
    ],
    [
      { lrH: 50, data: { kind: 'mixture', K: 5, dim: 3 } },
      'config.data.dim = 3 is invalid; expected dim ≥ K − 1 = 4',
    ],
    [
      { lrH: 50, data: { kind: 'imagenet' } },
      'config.data.kind = "imagenet" is invalid; expected data with kind "fashion-mnist" or "mixture"',
    ],
    [
      { lrH: 50, data: { kind: 'fashion-mnist', classes: [0, 0] } },
      'config.data.classes = [0,0] is invalid; expected distinct classes',
    ],
    [
      { lrH: 50, data: { kind: 'fashion-mnist', source: 'web' } },
      'config.data.source = "web" is invalid; expected "package"',
    ],
    [
      { lrH: 50, gamma: -1 },
      'config.gamma = -1 is invalid; expected a number ≥ 0',
    ],
  ])('%j is refused with its path', (change, message) => {
    expect(mdProblems({ ...GRAPH, ...change })).toContain(message);
  });
});
