// Synthetic Gaussian mixtures (science.md §9): K classes whose means are
// exactly `separation` apart, each with unit-variance isotropic noise, drawn
// from a seed. Pure TypeScript, so the browser and Node draw the same points.

import { InvalidArgumentError } from '../gpu/errors';
import { Random } from '../util/random';

export interface MixtureSpec {
  /** Number of classes, at least 2. */
  K: number;
  /** Dimension of the points, at least K − 1 (room for K equidistant means). */
  dim: number;
  /** Points per class, at least 1. */
  perClass: number;
  /** Distance between any two class means, finite and ≥ 0. */
  separation: number;
  /** Seed of the `Random` stream: an integer from 0 to 2^32 − 1. */
  seed: number;
}

export interface Mixture {
  /** N×dim row-major, N = K·perClass: class 0's points, then class 1's… */
  points: Float32Array;
  /** N labels: perClass zeros, then perClass ones, and so on. */
  labels: Uint32Array;
  /** K×dim row-major: the true class means. */
  means: Float64Array;
}

const MAX_SEED = 2 ** 32 - 1;
// Labels are Uint32; the points must fit a Float32Array that can be made.
const MAX_VALUES = 2 ** 30;

/**
 * A seeded mixture of K Gaussians N(μ_k, I_dim), perClass points each.
 *
 * The means are a randomly rotated regular simplex centred at the origin:
 * μ_k = (s/√2)·Q·b_k, where b_k is row k of the Helmert basis B of the
 * sum-zero subspace of R^K (B·Bᵀ = I − 𝟙𝟙ᵀ/K, so ‖b_k − b_l‖ = √2 for
 * k ≠ l and Σ_k b_k = 0) and Q is a dim×(K − 1) orthonormal frame obtained
 * by Gram–Schmidt from Gaussian columns, hence uniformly random. So every
 * pair of means is exactly s = separation apart (up to float64 rounding),
 * ‖μ_k‖ = s·√((K − 1)/(2K)), and the means sum to 0. Along the line
 * joining two means the noise has unit variance, so for two classes the
 * Bayes error is Φ(−s/2).
 *
 * Draw order, fixed so that a seed always gives the same mixture: from
 * `new Random(seed)`, dim·(K − 1) normals for Q, column by column; then, for
 * each class in turn and each of its points, dim normals for the noise. So
 * the means depend only on the seed, K and dim, not on perClass.
 */
export function gaussianMixture(spec: MixtureSpec): Mixture {
  checkSpec(spec);
  const { K, dim, perClass, separation, seed } = spec;
  const rng = new Random(seed);

  const frame = randomFrame(rng, dim, K - 1);
  const scale = separation / Math.SQRT2;
  const means = new Float64Array(K * dim);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < K - 1; j++) {
      const b = scale * helmert(k, j);
      if (b === 0) continue;
      const column = frame[j]!;
      for (let i = 0; i < dim; i++) means[k * dim + i]! += b * column[i]!;
    }
  }

  const N = K * perClass;
  const points = new Float32Array(N * dim);
  const labels = new Uint32Array(N);
  for (let n = 0; n < N; n++) {
    const k = Math.floor(n / perClass);
    labels[n] = k;
    for (let i = 0; i < dim; i++) {
      points[n * dim + i] = means[k * dim + i]! + rng.normal();
    }
  }
  return { points, labels, means };
}

/**
 * Entry (k, j) of the K×(K − 1) Helmert basis: column j has 1/√((j+1)(j+2))
 * in rows 0..j, −(j+1)/√((j+1)(j+2)) in row j + 1 and 0 below. Its columns
 * are orthonormal and orthogonal to 𝟙.
 */
function helmert(k: number, j: number): number {
  const norm = Math.sqrt((j + 1) * (j + 2));
  if (k <= j) return 1 / norm;
  if (k === j + 1) return -(j + 1) / norm;
  return 0;
}

/**
 * `count` orthonormal vectors of R^dim (count ≤ dim) from Gaussian draws, by
 * modified Gram–Schmidt run twice per vector so that orthogonality holds to
 * float64 rounding even when a draw is nearly dependent on earlier ones.
 */
function randomFrame(rng: Random, dim: number, count: number): Float64Array[] {
  const frame: Float64Array[] = [];
  while (frame.length < count) {
    const v = new Float64Array(dim);
    for (let i = 0; i < dim; i++) v[i] = rng.normal();
    for (let pass = 0; pass < 2; pass++) {
      for (const u of frame) {
        let dot = 0;
        for (let i = 0; i < dim; i++) dot += u[i]! * v[i]!;
        for (let i = 0; i < dim; i++) v[i]! -= dot * u[i]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm);
    // A Gaussian vector lies in the span of the others with probability 0;
    // should rounding bring one close, draw again rather than divide by ~0.
    if (!(norm > 1e-8)) continue;
    for (let i = 0; i < dim; i++) v[i]! /= norm;
    frame.push(v);
  }
  return frame;
}

function checkSpec(spec: MixtureSpec): void {
  const { K, dim, perClass, separation, seed } = spec;
  if (!Number.isInteger(K) || K < 2) {
    fail(`K = ${show(K)} is invalid; expected an integer ≥ 2`);
  }
  if (!Number.isInteger(dim) || dim < Math.max(1, K - 1)) {
    fail(
      `dim = ${show(dim)} is invalid; expected an integer ≥ ` +
        `${Math.max(1, K - 1)} (K − 1 dimensions hold ${K} equidistant means)`,
    );
  }
  if (!Number.isInteger(perClass) || perClass < 1) {
    fail(`perClass = ${show(perClass)} is invalid; expected an integer ≥ 1`);
  }
  if (!Number.isFinite(separation) || separation < 0) {
    fail(
      `separation = ${show(separation)} is invalid; expected a finite ` +
        'number ≥ 0',
    );
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    fail(
      `seed = ${show(seed)} is invalid; expected an integer from 0 to ` +
        `${MAX_SEED}`,
    );
  }
  if (K * perClass * dim > MAX_VALUES) {
    fail(
      `K·perClass·dim = ${K * perClass * dim} values are too many; ` +
        `expected at most ${MAX_VALUES}`,
    );
  }
}

function fail(problem: string): never {
  throw new InvalidArgumentError(`gaussianMixture: ${problem}`);
}

/** A value as it should read in a message: strings quoted, numbers bare. */
function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
