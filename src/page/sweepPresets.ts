// Specs the sweep page offers. The page draws its own data, so these use
// the md and ufm models and the graph model on a Gaussian mixture; the
// command line's Fashion-MNIST preset is listed so it can be read and
// edited, and the page says to run it with `nclab sweep`.

import { presetSpec } from '../sweep/presets';

export interface PagePreset {
  label: string;
  spec: () => unknown;
}

/** Step sizes as in the CLI's preset: heavy ball, weight decay 1e-3. */
const COMMON = {
  d: 2,
  loss: { kind: 'ce' },
  lambdaW: 1e-3,
  lambdaH: 1e-3,
  lr: 0.5,
  optimizer: { kind: 'momentum', beta: 0.9 },
  noise: { kind: 'symmetric', eta: 0.2 },
};

const LOSSES = [{ kind: 'ce' }, { kind: 'ls', alpha: 0.1 }, { kind: 'mse' }];

/** A feature's step: a tenth of N·lr, as the CLI's preset takes it. */
const lrH = (trainCount: number) => 0.1 * trainCount * COMMON.lr;

/**
 * Every figure of the report in about a minute on SwiftShader (a CPU
 * emulation; a GPU takes seconds): three losses, two noise levels, two
 * couplings λ and two penalties γ, d = 2 so the features can be drawn.
 */
function demoSpec() {
  const perClass = 60;
  return {
    name: 'demo',
    description:
      'CE vs LS(0.1) vs MSE under symmetric label noise: md (over λ), ' +
      'graph on a Gaussian mixture (over γ) and the ufm as control',
    parts: [
      {
        name: 'md',
        base: {
          ...COMMON,
          model: 'md',
          K: 2,
          n: perClass,
          lrH: lrH(2 * perClass),
          coupling: 1,
          steps: 300,
        },
        grid: { loss: LOSSES, 'noise.eta': [0.1, 0.3], coupling: [0, 1] },
      },
      {
        name: 'graph',
        base: {
          ...COMMON,
          model: 'graph',
          lrH: lrH(2 * perClass),
          data: {
            kind: 'mixture',
            K: 2,
            dim: 8,
            separation: 3,
            perClass,
            testPerClass: 30,
          },
          graph: { k: 8 },
          gamma: 1,
          steps: 100,
        },
        grid: { loss: LOSSES, gamma: [0, 1], 'noise.eta': [0.1, 0.3] },
      },
      {
        name: 'ufm-control',
        base: {
          ...COMMON,
          model: 'ufm',
          K: 2,
          n: perClass,
          lrH: lrH(2 * perClass),
          steps: 150,
        },
        grid: { loss: LOSSES, 'noise.eta': [0, 0.3] },
      },
    ],
  };
}

/** A few configurations in seconds: to try the page, and for its test. */
export function tinySpec() {
  const perClass = 20;
  return {
    name: 'tiny',
    parts: [
      {
        name: 'md',
        base: {
          ...COMMON,
          model: 'md',
          K: 2,
          n: perClass,
          lrH: lrH(2 * perClass),
          coupling: 1,
          steps: 64,
        },
        grid: { coupling: [0, 1] },
      },
      {
        name: 'graph',
        base: {
          ...COMMON,
          model: 'graph',
          lrH: lrH(2 * perClass),
          data: {
            kind: 'mixture',
            K: 2,
            dim: 4,
            perClass,
            testPerClass: 10,
          },
          graph: { k: 4 },
          gamma: 1,
          steps: 32,
        },
        grid: { gamma: [0, 1] },
      },
      {
        name: 'ufm',
        base: {
          ...COMMON,
          model: 'ufm',
          K: 2,
          n: perClass,
          lrH: lrH(2 * perClass),
          steps: 64,
        },
      },
    ],
  };
}

export const PAGE_PRESETS: Record<string, PagePreset> = {
  demo: { label: 'demo: md, graph (mixture), ufm', spec: demoSpec },
  tiny: { label: 'tiny: 5 configurations, seconds', spec: tinySpec },
  'fashion-binary': {
    label: 'fashion-binary: the CLI default (Fashion-MNIST, CLI only)',
    spec: () => presetSpec('default', 'small'),
  },
};
