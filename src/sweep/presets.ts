// Named sweeps. `default` is the main job (README): the memorization-
// dilation picture on the Fashion-MNIST binary subset (classes 0 and 1, as
// in the paper's binary experiments, science.md §10) — CE vs LS(0.1) vs
// MSE under symmetric label noise, on the md model (a grid over its
// expressivity λ), the graph model (a grid over γ) and the ufm control.
// `small` fits a 2-core machine without a GPU in well under 15 minutes;
// `full` is the size for real GPUs. Where they differ from the paper: free
// features instead of a deep network, symmetric instead of uniform noise
// (η is then the flip probability), heavy-ball momentum 0.9 with a constant
// step, weight decay 1e-3 on W and H (none on the bias).

import { InvalidArgumentError } from '../gpu/errors';

const LOSSES = [{ kind: 'ce' }, { kind: 'ls', alpha: 0.1 }, { kind: 'mse' }];

interface Scale {
  perClass: number;
  testPerClass: number;
  etas: number[];
  couplings: number[];
  gammas: number[];
  seeds: number[];
  mdSteps: number;
  graphSteps: number;
  ufmSteps: number;
}

const SCALES: Record<string, Scale> = {
  small: {
    perClass: 300,
    testPerClass: 100,
    etas: [0, 0.2, 0.4],
    couplings: [0, 0.3, 1],
    gammas: [0.3, 1, 3],
    seeds: [0, 1],
    mdSteps: 1000,
    graphSteps: 400,
    ufmSteps: 500,
  },
  full: {
    perClass: 6000,
    testPerClass: 1000,
    etas: [0, 0.1, 0.2, 0.3, 0.4],
    couplings: [0, 0.1, 0.3, 0.5, 1, 2],
    gammas: [0, 0.1, 0.3, 1, 3, 10],
    seeds: [0, 1, 2, 3, 4],
    mdSteps: 5000,
    graphSteps: 2000,
    ufmSteps: 5000,
  },
};

function defaultSpec(scale: Scale, name: string) {
  const trainCount = 2 * scale.perClass;
  const common = {
    loss: LOSSES[0],
    lambdaW: 1e-3,
    lambdaH: 1e-3,
    lr: 0.5,
    // A feature's step is a tenth of N·lr: stable with momentum, and the
    // graph's coupling term stays far from its bound at these γ.
    lrH: 0.1 * trainCount * 0.5,
    optimizer: { kind: 'momentum', beta: 0.9 },
    noise: { kind: 'symmetric', eta: 0.2 },
    d: 2,
  };
  const lossAndNoise = { loss: LOSSES, 'noise.eta': scale.etas };
  return {
    name,
    description:
      'Memorization and dilation on Fashion-MNIST classes 0/1: CE vs LS(0.1) ' +
      'vs MSE under symmetric label noise, md (over λ) and graph (over γ) ' +
      'models, with the ufm as control',
    parts: [
      {
        name: 'md',
        base: {
          ...common,
          model: 'md',
          K: 2,
          n: scale.perClass,
          coupling: 1,
          steps: scale.mdSteps,
        },
        grid: { ...lossAndNoise, coupling: scale.couplings, seed: scale.seeds },
      },
      {
        name: 'graph',
        base: {
          ...common,
          model: 'graph',
          data: {
            kind: 'fashion-mnist',
            classes: [0, 1],
            perClass: scale.perClass,
            testPerClass: scale.testPerClass,
            pca: 50,
          },
          graph: { k: 10 },
          gamma: 1,
          steps: scale.graphSteps,
        },
        grid: { ...lossAndNoise, gamma: scale.gammas },
      },
      {
        name: 'ufm-control',
        base: {
          ...common,
          model: 'ufm',
          K: 2,
          n: scale.perClass,
          steps: scale.ufmSteps,
        },
        grid: lossAndNoise,
      },
    ],
  };
}

export const PRESETS = ['default'] as const;
export const SCALE_NAMES = Object.keys(SCALES);

/** The spec of a preset at a scale (a plain JSON object to expand). */
export function presetSpec(name: string, scale: string): unknown {
  const size = SCALES[scale];
  if (!size) {
    throw new InvalidArgumentError(
      `--scale ${scale} is invalid; expected ${SCALE_NAMES.join(' or ')}`,
    );
  }
  if (name !== 'default') {
    throw new InvalidArgumentError(
      `--preset ${name} is invalid; expected ${PRESETS.join(', ')}`,
    );
  }
  return defaultSpec(
    size,
    scale === 'small' ? 'fashion-binary' : `fashion-binary-${scale}`,
  );
}
