// Seeded pseudo-random numbers (SplitMix32-style mixing of a Weyl sequence),
// identical in Node and in the browser, so a test can generate the same
// inputs on both sides from a seed instead of shipping arrays across.

export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextU32() / 2 ** 32;
  }

  /** Uniform integer in [0, n). */
  integer(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/**
 * `count` float32 values from a seed: 'normal' draws N(0, 1); 'integer'
 * draws small integers in [-4, 4], whose products and partial sums are exact
 * in float32 as long as they stay below 2^24.
 */
export function randomFloats(
  seed: number,
  count: number,
  kind: 'normal' | 'integer' = 'normal',
): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = kind === 'normal' ? rng.normal() : rng.integer(9) - 4;
  }
  return out;
}

/** `count` labels uniform in [0, K) from a seed. */
export function randomLabels(
  seed: number,
  count: number,
  K: number,
): Uint32Array {
  const rng = new Random(seed);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.integer(K);
  return out;
}
