// Seeded label-noise models (science.md §6): turn true labels into observed
// ones by the `uniform`, `symmetric` or `pair` model, report the flip rate
// that actually came out, and count the true→observed transitions. Pure
// TypeScript, so the browser and Node draw the same noise from a seed.

import { InvalidArgumentError } from '../gpu/errors';
import { Random } from '../util/random';

/**
 * - `uniform` (the paper's code): with probability η the label is redrawn
 *   uniformly from all K classes, the true one included.
 * - `symmetric`: with probability η the label is replaced by a uniformly
 *   drawn other class.
 * - `pair`: with probability η, y → (y + 1) mod K.
 */
export type NoiseKind = 'uniform' | 'symmetric' | 'pair';

/** A noise model, its corruption probability η and the seed of its draws. */
export interface NoiseSpec {
  kind: NoiseKind;
  /** Probability in [0, 1] that an example's label is corrupted. */
  eta: number;
  /** Seed of the `Random` stream: an integer from 0 to 2^32 − 1. */
  seed: number;
}

const KINDS: readonly NoiseKind[] = ['uniform', 'symmetric', 'pair'];
const MAX_SEED = 2 ** 32 - 1;
// Labels are returned as Uint32Array, so no label may reach 2^32.
const MAX_K = 2 ** 32;

/**
 * Observed labels for `trueLabels` under `spec`, and the actual flip rate:
 * the fraction of examples whose observed label differs from the true one
 * (0 for no examples). `trueLabels` is left untouched.
 *
 * Draw order, fixed so that a seed always gives the same labels: for each
 * example in index order, one `uniform()` decides (corrupt when it is < η);
 * a corrupted example then draws `integer(K)` for `uniform`, or
 * `integer(K − 1)` for `symmetric` (mapped onto the classes other than the
 * true one, in increasing order); `pair` draws nothing more.
 *
 * The stream is `new Random(spec.seed)` itself: give the noise a seed of its
 * own, since another consumer seeded with the same value (the labels, say)
 * would draw the same numbers and be correlated with the noise.
 */
export function applyLabelNoise(
  trueLabels: ArrayLike<number>,
  K: number,
  spec: NoiseSpec,
): { observed: Uint32Array; flipRate: number } {
  checkSpec(spec);
  checkK(K);
  checkLabels('trueLabels', trueLabels, K);

  const { kind, eta } = spec;
  const rng = new Random(spec.seed);
  const N = trueLabels.length;
  const observed = new Uint32Array(N);
  let flips = 0;
  for (let i = 0; i < N; i++) {
    const y = trueLabels[i]!;
    let label = y;
    if (rng.uniform() < eta) {
      if (kind === 'uniform') {
        label = rng.integer(K);
      } else if (kind === 'symmetric') {
        const other = rng.integer(K - 1);
        label = other >= y ? other + 1 : other;
      } else {
        label = y + 1 === K ? 0 : y + 1;
      }
    }
    observed[i] = label;
    if (label !== y) flips++;
  }

  return { observed, flipRate: N === 0 ? 0 : flips / N };
}

/**
 * The flip rate a model is expected to produce: η(K − 1)/K for `uniform`
 * (a redraw lands on the true class with probability 1/K), η for
 * `symmetric` and `pair` (every corruption changes the label).
 */
export function expectedFlipRate(
  K: number,
  spec: Pick<NoiseSpec, 'kind' | 'eta'>,
): number {
  checkKind(spec.kind);
  checkEta(spec.eta);
  checkK(K);
  return spec.kind === 'uniform' ? (spec.eta * (K - 1)) / K : spec.eta;
}

/**
 * The K×K transition counts: counts[t][j] is the number of examples of true
 * class t observed as class j. Row t sums to the size of true class t; the
 * diagonal holds the clean examples.
 */
export function noiseCounts(
  trueLabels: ArrayLike<number>,
  observed: ArrayLike<number>,
  K: number,
): number[][] {
  checkK(K);
  if (observed.length !== trueLabels.length) {
    throw new InvalidArgumentError(
      `label noise: observed has length ${observed.length}; expected ` +
        `${trueLabels.length}, the length of trueLabels`,
    );
  }
  checkLabels('trueLabels', trueLabels, K);
  checkLabels('observed', observed, K);

  const counts = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < trueLabels.length; i++) {
    counts[trueLabels[i]!]![observed[i]!]!++;
  }
  return counts;
}

function checkSpec(spec: NoiseSpec): void {
  checkKind(spec.kind);
  checkEta(spec.eta);
  const { seed } = spec;
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new InvalidArgumentError(
      `label noise: seed = ${show(seed)} is invalid; expected an integer ` +
        `from 0 to ${MAX_SEED}`,
    );
  }
}

function checkKind(kind: unknown): void {
  if (!KINDS.includes(kind as NoiseKind)) {
    throw new InvalidArgumentError(
      `label noise: kind = ${show(kind)} is invalid; expected "uniform", ` +
        `"symmetric" or "pair"`,
    );
  }
}

function checkEta(eta: unknown): void {
  // Number.isFinite is false for non-numbers as well as NaN and ±Infinity.
  if (!Number.isFinite(eta) || (eta as number) < 0 || (eta as number) > 1) {
    throw new InvalidArgumentError(
      `label noise: eta = ${show(eta)} is invalid; expected a number in ` +
        `[0, 1]`,
    );
  }
}

function checkK(K: unknown): void {
  if (!Number.isInteger(K) || (K as number) < 2 || (K as number) > MAX_K) {
    throw new InvalidArgumentError(
      `label noise: K = ${show(K)} is invalid; expected an integer from 2 ` +
        `to ${MAX_K}`,
    );
  }
}

function checkLabels(name: string, labels: ArrayLike<number>, K: number) {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y! < 0 || y! >= K) {
      throw new InvalidArgumentError(
        `label noise: ${name}[${i}] = ${show(y)} is invalid; expected an ` +
          `integer in [0, ${K}) for K = ${K}`,
      );
    }
  }
}

/** A value as it should read in a message: strings quoted, numbers bare. */
function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
