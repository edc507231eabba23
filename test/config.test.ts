// Training configurations: bad ones are rejected before any GPU work with
// every problem listed, each naming its path, the value and what is allowed.

import { describe, expect, test } from 'vitest';

import { parseUfmConfig } from '../src/train/config';

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
    [{ K: 1 }, 'config.K = 1 is invalid; expected an integer ≥ 2'],
    [{ d: 0 }, 'config.d = 0 is invalid; expected an integer ≥ 1'],
    [
      { n: [4, 0, 4] },
      'config.n[1] = 0 is invalid; class 1 would be empty or fractional; expected an integer ≥ 1',
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
    [{ model: 'resnet' }, 'config.model = "resnet" is invalid; expected "ufm"'],
    [{ steps: 2.5 }, 'config.steps = 2.5 is invalid; expected an integer ≥ 1'],
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
      'config.lambdaH = 0.5 is invalid; with lr_H = 6 (N·lr), lr_H·λ_H = 3 ≥ 2: ' +
        'gd on the features would diverge; lower lr, lrH or lambdaH',
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
