// The float64 eigensolver and pseudo-inverse behind the metric references:
// eigenpairs of random symmetric matrices, orthonormality and reconstruction,
// the Moore–Penrose conditions on rank-deficient and indefinite matrices,
// diagonal and 1×1 inputs, the cutoff, and every argument check.

import { describe, expect, test } from 'vitest';

import { InvalidArgumentError } from '../src/gpu/errors';
import {
  EIGEN_TOLERANCE,
  EigenConvergenceError,
  PINV_RELATIVE_CUTOFF,
  pinvSymmetric,
  symmetricEigen,
} from '../src/util/linalg';
import { Random } from '../src/util/random';

function multiply(
  A: Float64Array,
  B: Float64Array,
  rows: number,
  inner: number,
  cols: number,
): Float64Array {
  const C = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < inner; k++) {
      const a = A[i * inner + k]!;
      for (let j = 0; j < cols; j++) C[i * cols + j]! += a * B[k * cols + j]!;
    }
  }
  return C;
}

function transpose(A: Float64Array, rows: number, cols: number): Float64Array {
  const T = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) T[j * rows + i] = A[i * cols + j]!;
  }
  return T;
}

function frobenius(A: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < A.length; i++) s += A[i]! ** 2;
  return Math.sqrt(s);
}

function difference(A: ArrayLike<number>, B: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < A.length; i++) s += (A[i]! - B[i]!) ** 2;
  return Math.sqrt(s);
}

function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = new Random(seed);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = rng.normal();
      A[i * n + j] = v;
      A[j * n + i] = v;
    }
  }
  return A;
}

/** B Bᵀ for a random n×r B: symmetric positive semidefinite of rank r. */
function randomLowRank(n: number, r: number, seed: number): Float64Array {
  const rng = new Random(seed);
  const B = Float64Array.from({ length: n * r }, () => rng.normal());
  return multiply(B, transpose(B, n, r), n, r, n);
}

function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

describe('symmetricEigen on random symmetric matrices', () => {
  test.each([1, 2, 3, 5, 8, 17, 40])('n = %i', (n) => {
    const A = randomSymmetric(n, 100 + n);
    const { values, vectors } = symmetricEigen(A, n);
    const scale = frobenius(A);
    // Backward error of a converged Jacobi: O(EIGEN_TOLERANCE + n·ε)·‖A‖_F.
    const tol = (EIGEN_TOLERANCE + 1e-14 * n) * scale * 10;

    for (let j = 1; j < n; j++) {
      expect(values[j]!).toBeLessThanOrEqual(values[j - 1]!);
    }
    for (let j = 0; j < n; j++) {
      let residual = 0;
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += A[i * n + k]! * vectors[k * n + j]!;
        residual += (av - values[j]! * vectors[i * n + j]!) ** 2;
      }
      expect(Math.sqrt(residual)).toBeLessThan(tol);
    }

    const VtV = multiply(transpose(vectors, n, n), vectors, n, n, n);
    expect(difference(VtV, identity(n))).toBeLessThan(1e-13 * n);

    const Lambda = new Float64Array(n * n);
    for (let j = 0; j < n; j++) Lambda[j * n + j] = values[j]!;
    const reconstructed = multiply(
      multiply(vectors, Lambda, n, n, n),
      transpose(vectors, n, n),
      n,
      n,
      n,
    );
    expect(difference(reconstructed, A)).toBeLessThan(tol);

    let trace = 0;
    for (let i = 0; i < n; i++) trace += A[i * n + i]!;
    expect(values.reduce((s, v) => s + v, 0)).toBeCloseTo(trace, 12);
  });

  test('repeated eigenvalues still give an orthonormal basis', () => {
    const n = 6;
    const { vectors: Q } = symmetricEigen(randomSymmetric(n, 7), n);
    const Lambda = new Float64Array(n * n);
    [3, 3, 3, 1, 0, 0].forEach((v, j) => (Lambda[j * n + j] = v));
    const A = multiply(
      multiply(Q, Lambda, n, n, n),
      transpose(Q, n, n),
      n,
      n,
      n,
    );
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) A[i * n + j] = A[j * n + i]!;
    }
    const { values, vectors } = symmetricEigen(A, n);
    [3, 3, 3, 1, 0, 0].forEach((v, j) => expect(values[j]!).toBeCloseTo(v, 13));
    const VtV = multiply(transpose(vectors, n, n), vectors, n, n, n);
    expect(difference(VtV, identity(n))).toBeLessThan(1e-13);
  });

  test('a diagonal matrix gives its sorted diagonal and unit vectors', () => {
    const A = new Float64Array([2, 0, 0, 0, -1, 0, 0, 0, 5]);
    const { values, vectors } = symmetricEigen(A, 3);
    expect(Array.from(values)).toEqual([5, 2, -1]);
    // Columns e_2, e_0, e_1, each with a positive largest entry.
    expect(Array.from(vectors)).toEqual([0, 1, 0, 0, 0, 1, 1, 0, 0]);
  });

  test('a 1×1 matrix is its own eigenvalue with vector [1]', () => {
    const { values, vectors } = symmetricEigen([-3.5], 1);
    expect(Array.from(values)).toEqual([-3.5]);
    expect(Array.from(vectors)).toEqual([1]);
  });

  test('the zero matrix has zero eigenvalues and the identity as vectors', () => {
    const { values, vectors } = symmetricEigen(new Float64Array(9), 3);
    expect(Array.from(values)).toEqual([0, 0, 0]);
    expect(Array.from(vectors)).toEqual(Array.from(identity(3)));
  });

  test('too few sweeps raise EigenConvergenceError', () => {
    const A = randomSymmetric(8, 3);
    expect(() => symmetricEigen(A, 8, { maxSweeps: 1 })).toThrow(
      EigenConvergenceError,
    );
    expect(() => symmetricEigen(A, 8, { maxSweeps: 1 })).toThrow(
      /symmetricEigen: no convergence after 1 sweeps \(n = 8\)/,
    );
  });
});

/** The four Moore–Penrose conditions, to `tol` relative to ‖A‖ and ‖A†‖. */
function expectMoorePenrose(
  A: Float64Array,
  P: Float64Array,
  n: number,
  tol: number,
): void {
  const AP = multiply(A, P, n, n, n);
  const PA = multiply(P, A, n, n, n);
  const scaleA = frobenius(A);
  const scaleP = frobenius(P);
  expect(difference(multiply(AP, A, n, n, n), A)).toBeLessThan(tol * scaleA);
  expect(difference(multiply(PA, P, n, n, n), P)).toBeLessThan(tol * scaleP);
  expect(difference(AP, transpose(AP, n, n))).toBeLessThan(tol * n);
  expect(difference(PA, transpose(PA, n, n))).toBeLessThan(tol * n);
}

describe('pinvSymmetric', () => {
  test('rank-deficient positive semidefinite: rank and Moore–Penrose', () => {
    const n = 7;
    const A = randomLowRank(n, 3, 11);
    const { pinv, rank } = pinvSymmetric(A, n);
    expect(rank).toBe(3);
    expectMoorePenrose(A, pinv, n, 1e-11);
  });

  test('rank-deficient indefinite matrix: rank and Moore–Penrose', () => {
    const n = 6;
    const A = randomLowRank(n, 2, 5);
    const B = randomLowRank(n, 2, 6);
    for (let i = 0; i < n * n; i++) A[i]! -= B[i]!;
    const { pinv, rank } = pinvSymmetric(A, n);
    expect(rank).toBe(4);
    expectMoorePenrose(A, pinv, n, 1e-10);
  });

  test('a full-rank matrix gets its inverse', () => {
    const n = 5;
    const A = randomLowRank(n, n, 21);
    for (let i = 0; i < n; i++) A[i * n + i]! += 1;
    const { pinv, rank } = pinvSymmetric(A, n);
    expect(rank).toBe(n);
    expect(difference(multiply(A, pinv, n, n, n), identity(n))).toBeLessThan(
      1e-12,
    );
  });

  test('the result is exactly symmetric', () => {
    const n = 9;
    const { pinv } = pinvSymmetric(randomLowRank(n, 4, 2), n);
    expect(Array.from(pinv)).toEqual(Array.from(transpose(pinv, n, n)));
  });

  test('diagonal input: reciprocals above the cutoff, zeros below', () => {
    const A = new Float64Array([4, 0, 0, 0, 1e-12, 0, 0, 0, -0.5]);
    const kept = pinvSymmetric(A, 3);
    expect(kept.rank).toBe(2);
    expect(Array.from(kept.pinv)).toEqual([0.25, 0, 0, 0, 0, 0, 0, 0, -2]);

    // With no cutoff the tiny eigenvalue is inverted too.
    const all = pinvSymmetric(A, 3, 0);
    expect(all.rank).toBe(3);
    expect(all.pinv[4]).toBeCloseTo(1e12, 0);
  });

  test('the default cutoff is PINV_RELATIVE_CUTOFF', () => {
    expect(PINV_RELATIVE_CUTOFF).toBe(1e-10);
    const A = new Float64Array([1, 0, 0, 1e-10]);
    expect(pinvSymmetric(A, 2).rank).toBe(1); // |λ| ≤ cutoff·max|λ| is 0
    expect(pinvSymmetric(A, 2, 1e-11).rank).toBe(2);
  });

  test('1×1 inputs', () => {
    expect(Array.from(pinvSymmetric([4], 1).pinv)).toEqual([0.25]);
    expect(pinvSymmetric([4], 1).rank).toBe(1);
    expect(Array.from(pinvSymmetric([0], 1).pinv)).toEqual([0]);
    expect(pinvSymmetric([0], 1).rank).toBe(0);
  });

  test('the zero matrix has pseudo-inverse 0 and rank 0', () => {
    const { pinv, rank } = pinvSymmetric(new Float64Array(16), 4);
    expect(rank).toBe(0);
    expect(Array.from(pinv)).toEqual(new Array<number>(16).fill(0));
  });
});

describe('argument checks', () => {
  test.each([
    [
      () => symmetricEigen([1], 0),
      'symmetricEigen: n = 0 is invalid; expected an integer ≥ 1',
    ],
    [
      () => symmetricEigen([1], 1.5),
      'symmetricEigen: n = 1.5 is invalid; expected an integer ≥ 1',
    ],
    [
      () => symmetricEigen([1, 2, 3], 2),
      'symmetricEigen: A.length = 3 is invalid; expected n·n = 4 (n = 2)',
    ],
    [
      () => symmetricEigen([1, NaN, NaN, 1], 2),
      'symmetricEigen: A[1] = NaN is invalid; expected a finite number',
    ],
    [
      () => symmetricEigen([1, 2, 2.5, 1], 2),
      'symmetricEigen: A is not symmetric: A[0][1] = 2 but A[1][0] = 2.5; ' +
        'expected equal entries up to 1e-12·max|A| = 2.5e-12',
    ],
    [
      () => symmetricEigen([1], 1, { maxSweeps: -1 }),
      'symmetricEigen: maxSweeps = -1 is invalid; expected an integer ≥ 0',
    ],
    [
      () => pinvSymmetric([1], 1, 1),
      'pinvSymmetric: relativeCutoff = 1 is invalid; expected a number in [0, 1)',
    ],
    [
      () => pinvSymmetric([1], 1, NaN),
      'pinvSymmetric: relativeCutoff = NaN is invalid; expected a number in [0, 1)',
    ],
    [
      () => pinvSymmetric([1, 2], 1),
      'symmetricEigen: A.length = 2 is invalid; expected n·n = 1 (n = 1)',
    ],
  ])('%#', (call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  test('asymmetry at rounding level is accepted and symmetrised', () => {
    const A = [2, 1, 1 + 1e-15, 2];
    const { values } = symmetricEigen(A, 2);
    expect(values[0]).toBeCloseTo(3, 14);
    expect(values[1]).toBeCloseTo(1, 14);
  });
});
