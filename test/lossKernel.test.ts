// The fused loss kernel against the float64 reference, for a batch mixing
// losses, sizes and weights, with NaN in every padding slot (a kernel that
// reads padding fails).
//
// Tolerances, per column n with count c and logit scale s = 1 + max_k |z_k|:
// each logit is a dot product of length d plus a bias, so its float32 error
// is at most ε_z = γ_(d+1) · max_k (Σ_i |W_ki h_i| + |b_k|) (see
// src/reference/tolerance.ts); exp and log add a few ulps of s (WGSL: exp
// within 3 + 2|x| ulp, log within 2^-21 absolute near 1), covered by 64·u·s.
// With ε = ε_z + 64·u·s: a softmax probability moves by at most 2ε (the
// logit and the log-sum-exp each by ε), so the CE/LS gradient p − q is
// within c·(2ε + u); the loss Σ q_k (lse − z_k) within c·(2ε + 2K·u·s); an MSE
// gradient z − e_y within c·ε and its loss within c·(ε·Σ|r| + K·u·s²).

import { describe, expect, test } from 'vitest';

import { LOSS_STATS as S, type LossConfig } from '../src/kernels/losses';
import {
  logitsReference,
  weightedLossReference,
} from '../src/reference/losses';
import { F32_UNIT_ROUNDOFF as u, gamma32 } from '../src/reference/tolerance';
import { f32FromBase64 } from '../src/util/base64';
import { describeGpu } from './harness/gpu';
import { lossConfigInputs, type LossCase } from './page/inputs';

interface Violation {
  what: string;
  config: number;
  k?: number;
  n: number;
  gpu: number;
  reference: number;
  bound: number;
}

function check(
  c: LossCase,
  result: { dZ: string; stats: string; totals: string },
) {
  const dZ = f32FromBase64(result.dZ);
  const stats = f32FromBase64(result.stats);
  const totals = f32FromBase64(result.totals);
  const { KMAX, NMAX } = c;
  const violations: Violation[] = [];
  const report = (v: Violation) => {
    if (violations.length < 5) violations.push(v);
  };

  c.configs.forEach((config, b) => {
    const { K, d, N, loss } = config;
    const one = lossConfigInputs(c, b);
    const { Z, magnitudes } = logitsReference({
      W: one.W,
      H: one.H,
      b: one.b,
      K,
      d,
      N,
    });
    const ref = weightedLossReference(Z, K, N, one.labels, one.weights, loss);
    let totalBound = 0;

    for (let n = 0; n < NMAX; n++) {
      const weight = n < N ? one.weights[n]! : 0;
      let s = 1;
      let maxMagnitude = 0;
      let sumAbsResidual = 0;
      for (let k = 0; k < K && n < N; k++) {
        s = Math.max(s, 1 + Math.abs(Z[k * N + n]!));
        maxMagnitude = Math.max(maxMagnitude, magnitudes[k * N + n]!);
        sumAbsResidual += Math.abs(
          Z[k * N + n]! - (k === one.labels[n] ? 1 : 0),
        );
      }
      const eps = gamma32(d + 1) * maxMagnitude + 64 * u * s;
      const mse = loss.kind === 'mse';
      const gradBound = weight * (mse ? eps : 2 * eps + u);
      const lossBound =
        weight *
        (mse ? eps * sumAbsResidual + K * u * s * s : 2 * eps + 2 * K * u * s);
      totalBound += lossBound;

      for (let k = 0; k < KMAX; k++) {
        const gpu = dZ[(b * KMAX + k) * NMAX + n]!;
        const reference = k < K && n < N ? ref.weightedGrad[k * N + n]! : 0;
        const bound = k < K && n < N ? gradBound : 0;
        if (!(Math.abs(gpu - reference) <= bound)) {
          report({ what: 'dZ', config: b, k, n, gpu, reference, bound });
        }
      }
      const gpuLoss = stats[(b * S + 0) * NMAX + n]!;
      if (n >= N || weight === 0) {
        for (let j = 0; j < S; j++) {
          const gpu = stats[(b * S + j) * NMAX + n]!;
          if (gpu !== 0)
            report({
              what: `stats[${j}] padding`,
              config: b,
              n,
              gpu,
              reference: 0,
              bound: 0,
            });
        }
      } else {
        const z = Array.from({ length: K }, (_, k) => Z[k * N + n]!);
        const single = weightedLossReference(
          z,
          K,
          1,
          [one.labels[n]!],
          [weight],
          loss,
        );
        if (!(Math.abs(gpuLoss - single.lossSum) <= lossBound)) {
          report({
            what: 'loss',
            config: b,
            n,
            gpu: gpuLoss,
            reference: single.lossSum,
            bound: lossBound,
          });
        }
        const gpuExcess = stats[(b * S + 1) * NMAX + n]!;
        const excessBound =
          lossBound + weight * 8 * u * (1 + Math.abs(single.lossSum));
        if (!(Math.abs(gpuExcess - single.excessSum) <= excessBound)) {
          report({
            what: 'excess',
            config: b,
            n,
            gpu: gpuExcess,
            reference: single.excessSum,
            bound: excessBound,
          });
        }
        const gpuCorrect = stats[(b * S + 2) * NMAX + n]!;
        if (gpuCorrect !== single.correctSum) {
          report({
            what: 'correct',
            config: b,
            n,
            gpu: gpuCorrect,
            reference: single.correctSum,
            bound: 0,
          });
        }
        // Margin: two logits, each within eps.
        const y = one.labels[n]!;
        const rival = Math.max(...z.filter((_, k) => k !== y));
        const margin = weight * (z[y]! - rival);
        const gpuMargin = stats[(b * S + 3) * NMAX + n]!;
        if (!(Math.abs(gpuMargin - margin) <= weight * 2 * eps)) {
          report({
            what: 'margin',
            config: b,
            n,
            gpu: gpuMargin,
            reference: margin,
            bound: weight * 2 * eps,
          });
        }
        // ‖h‖²: a sum of d squares, within γ_d of itself (and c·it rounds).
        let normSq = 0;
        for (let i = 0; i < d; i++) normSq += one.H[i * N + n]! ** 2;
        const normBound = weight * (gamma32(d + 1) * normSq);
        const gpuNorm = stats[(b * S + 4) * NMAX + n]!;
        if (!(Math.abs(gpuNorm - weight * normSq) <= normBound)) {
          report({
            what: 'feature norm',
            config: b,
            n,
            gpu: gpuNorm,
            reference: weight * normSq,
            bound: normBound,
          });
        }
      }
    }

    // Totals: the per-column bounds plus the reduction's own rounding.
    const sumBound = totalBound + gamma32(NMAX + 64) * ref.lossSum;
    const gpuTotal = totals[b * S]!;
    if (!(Math.abs(gpuTotal - ref.lossSum) <= sumBound)) {
      report({
        what: 'total loss',
        config: b,
        n: -1,
        gpu: gpuTotal,
        reference: ref.lossSum,
        bound: sumBound,
      });
    }
    if (totals[b * S + 2] !== ref.correctSum) {
      report({
        what: 'total correct',
        config: b,
        n: -1,
        gpu: totals[b * S + 2]!,
        reference: ref.correctSum,
        bound: 0,
      });
    }
  });
  return violations;
}

const MIXED: LossConfig[] = [
  { K: 2, d: 3, N: 50, loss: { kind: 'ce' } },
  { K: 10, d: 16, N: 200, loss: { kind: 'ls', alpha: 0.1 } },
  { K: 5, d: 1, N: 7, loss: { kind: 'mse' } },
  { K: 7, d: 9, N: 123, loss: { kind: 'ls', alpha: 0.3 } },
  { K: 3, d: 16, N: 200, loss: { kind: 'ce' } },
];

describeGpu('fused loss kernel', { compat: true }, (gpu) => {
  describe('matches the float64 reference on a mixed, padded batch', () => {
    test.each([
      ['unit weights', { weights: 'ones' as const, seed: 1 }],
      ['integer counts (md-style)', { weights: 'counts' as const, seed: 2 }],
      [
        'large logits (max-shift)',
        { weights: 'ones' as const, seed: 3, scale: 6 },
      ],
    ])('%s', async (_, options) => {
      const c: LossCase = {
        configs: MIXED,
        KMAX: 10,
        DMAX: 16,
        NMAX: 200,
        ...options,
      };
      const result = await gpu.run('losses', c);
      expect(check(c, result)).toEqual([]);
    });
  });
});
