// Small dense float64 linear algebra for the CPU references: the symmetric
// eigendecomposition (cyclic Jacobi) and a pseudo-inverse with an explicit
// relative cutoff. Matrices are row-major Float64Arrays. Meant for the
// d×d and K×K matrices of the collapse metrics (up to a few hundred rows),
// not for speed: one Jacobi sweep costs O(n³).

import { InvalidArgumentError } from '../gpu/errors';

/**
 * Relative off-diagonal size at which Jacobi stops:
 * ‖offdiag(A)‖_F ≤ EIGEN_TOLERANCE · ‖A‖_F. Jacobi converges quadratically
 * and each rotation zeroes its pivot exactly, so this is reached in a few
 * sweeps; it is about 45 float64 ulps, so the eigenvalues it leaves are
 * accurate to ~1e-14 · ‖A‖_F (a diagonal perturbation by the off-diagonal
 * moves eigenvalues by at most its norm).
 */
export const EIGEN_TOLERANCE = 1e-14;

/** Sweeps before {@link symmetricEigen} gives up (10 is typical for n ≤ 500). */
export const EIGEN_MAX_SWEEPS = 60;

/**
 * Default relative cutoff of {@link pinvSymmetric}: eigenvalues with
 * |λ| ≤ cutoff · max|λ| count as zero.
 *
 * Why 1e-10: an eigenvalue that is exactly zero comes out of float64 work
 * as noise of size about c·ε·‖A‖ with ε = 2.2e-16, where c collects the
 * rounding of forming A (a covariance summed over N terms: up to ~N·ε
 * relative in the worst case, far less in practice) and the ~n·ε of the
 * eigensolver. For N up to ~1e5 that noise stays below ~1e-11·‖A‖, so 1e-10
 * keeps a margin above it; and a genuine eigenvalue ratio under 1e-10 means
 * the matrix is singular for every practical purpose (its inverse would
 * amplify float64 rounding in the data to O(1)). Pass another cutoff where
 * the inputs are noisier, e.g. features that went through float32.
 */
export const PINV_RELATIVE_CUTOFF = 1e-10;

/** Jacobi did not reach {@link EIGEN_TOLERANCE} within the allowed sweeps. */
export class EigenConvergenceError extends Error {
  override name = 'EigenConvergenceError';
}

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /**
   * n×n row-major; column j (vectors[i*n + j]) is the unit eigenvector of
   * values[j]. Each column's largest-magnitude entry (the first, on ties)
   * is positive, so the result does not depend on rotation order signs.
   */
  vectors: Float64Array;
}

export interface SymmetricEigenOptions {
  /** Default {@link EIGEN_MAX_SWEEPS}. */
  maxSweeps?: number;
}

/**
 * Checks that A is a finite n×n matrix, symmetric up to rounding
 * (|a_ij − a_ji| ≤ 1e-12·max|a|), and returns its symmetric part as a copy.
 */
function symmetricCopy(
  op: string,
  A: ArrayLike<number>,
  n: number,
): Float64Array {
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(
      `${op}: n = ${n} is invalid; expected an integer ≥ 1`,
    );
  }
  if (A.length !== n * n) {
    throw new InvalidArgumentError(
      `${op}: A.length = ${A.length} is invalid; expected n·n = ${n * n} ` +
        `(n = ${n})`,
    );
  }
  let maxAbs = 0;
  for (let i = 0; i < n * n; i++) {
    const v = A[i]!;
    if (!Number.isFinite(v)) {
      throw new InvalidArgumentError(
        `${op}: A[${i}] = ${v} is invalid; expected a finite number`,
      );
    }
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }

  const a = new Float64Array(n * n);
  const asymmetryBound = 1e-12 * maxAbs;
  for (let i = 0; i < n; i++) {
    a[i * n + i] = A[i * n + i]!;
    for (let j = i + 1; j < n; j++) {
      const upper = A[i * n + j]!;
      const lower = A[j * n + i]!;
      if (Math.abs(upper - lower) > asymmetryBound) {
        throw new InvalidArgumentError(
          `${op}: A is not symmetric: A[${i}][${j}] = ${upper} but ` +
            `A[${j}][${i}] = ${lower}; expected equal entries up to ` +
            `1e-12·max|A| = ${asymmetryBound}`,
        );
      }
      const mean = 0.5 * (upper + lower);
      a[i * n + j] = mean;
      a[j * n + i] = mean;
    }
  }
  return a;
}

function offDiagonalNorm(a: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) if (i !== j) sum += a[i * n + j]! ** 2;
  }
  return Math.sqrt(sum);
}

/**
 * Eigendecomposition A = V diag(λ) Vᵀ of a symmetric matrix by cyclic
 * Jacobi rotations (Golub & Van Loan, Matrix Computations, §8.5), with
 * Rutishauser's update formulas for accuracy. Throws
 * {@link EigenConvergenceError} if the off-diagonal has not fallen below
 * {@link EIGEN_TOLERANCE}·‖A‖_F after `maxSweeps` sweeps.
 */
export function symmetricEigen(
  A: ArrayLike<number>,
  n: number,
  options: SymmetricEigenOptions = {},
): SymmetricEigen {
  const op = 'symmetricEigen';
  const maxSweeps = options.maxSweeps ?? EIGEN_MAX_SWEEPS;
  if (!Number.isInteger(maxSweeps) || maxSweeps < 0) {
    throw new InvalidArgumentError(
      `${op}: maxSweeps = ${maxSweeps} is invalid; expected an integer ≥ 0`,
    );
  }
  const a = symmetricCopy(op, A, n);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;

  let frobenius = 0;
  for (const x of a) frobenius += x * x;
  const target = EIGEN_TOLERANCE * Math.sqrt(frobenius);

  let off = offDiagonalNorm(a, n);
  for (let sweep = 0; sweep < maxSweeps && off > target; sweep++) {
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        rotate(a, v, n, p, q);
      }
    }
    off = offDiagonalNorm(a, n);
  }
  if (off > target) {
    throw new EigenConvergenceError(
      `${op}: no convergence after ${maxSweeps} sweeps (n = ${n}): ` +
        `off-diagonal norm ${off} is above ${EIGEN_TOLERANCE}·‖A‖_F = ` +
        `${target}`,
    );
  }

  return sortedEigen(a, v, n);
}

/** One Jacobi rotation in the (p, q) plane that zeroes a_pq. */
function rotate(
  a: Float64Array,
  v: Float64Array,
  n: number,
  p: number,
  q: number,
): void {
  const apq = a[p * n + q]!;
  if (apq === 0) return;

  // t = tan of the rotation angle, the smaller root of t² + 2θt − 1 = 0;
  // hypot keeps θ² from overflowing when a_pq is tiny.
  const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
  const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.hypot(theta, 1));
  const c = 1 / Math.hypot(t, 1);
  const s = t * c;
  const tau = s / (1 + c);

  a[p * n + p]! -= t * apq;
  a[q * n + q]! += t * apq;
  a[p * n + q] = 0;
  a[q * n + p] = 0;

  for (let r = 0; r < n; r++) {
    if (r === p || r === q) continue;
    const arp = a[r * n + p]!;
    const arq = a[r * n + q]!;
    const newRp = arp - s * (arq + tau * arp);
    const newRq = arq + s * (arp - tau * arq);
    a[r * n + p] = newRp;
    a[p * n + r] = newRp;
    a[r * n + q] = newRq;
    a[q * n + r] = newRq;
  }

  for (let r = 0; r < n; r++) {
    const vrp = v[r * n + p]!;
    const vrq = v[r * n + q]!;
    v[r * n + p] = vrp - s * (vrq + tau * vrp);
    v[r * n + q] = vrq + s * (vrp - tau * vrq);
  }
}

/** Eigenpairs in descending order, each vector's sign fixed (see type). */
function sortedEigen(
  a: Float64Array,
  v: Float64Array,
  n: number,
): SymmetricEigen {
  const order = Array.from({ length: n }, (_, j) => j);
  order.sort((x, y) => a[y * n + y]! - a[x * n + x]! || x - y);

  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const source = order[j]!;
    values[j] = a[source * n + source]!;
    let largest = 0;
    for (let i = 1; i < n; i++) {
      if (Math.abs(v[i * n + source]!) > Math.abs(v[largest * n + source]!))
        largest = i;
    }
    const sign = v[largest * n + source]! < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) vectors[i * n + j] = sign * v[i * n + source]!;
  }
  return { values, vectors };
}

export interface SymmetricPinv {
  /** n×n row-major Moore–Penrose pseudo-inverse (exactly symmetric). */
  pinv: Float64Array;
  /** Number of eigenvalues kept (|λ| > cutoff · max|λ|). */
  rank: number;
}

/**
 * Pseudo-inverse A† = Σ_{kept j} v_j v_jᵀ / λ_j of a symmetric matrix, from
 * {@link symmetricEigen}; eigenvalues with |λ| ≤ relativeCutoff · max|λ|
 * are treated as exactly 0 (so the zero matrix gives A† = 0, rank 0).
 * Works for indefinite matrices too.
 */
export function pinvSymmetric(
  A: ArrayLike<number>,
  n: number,
  relativeCutoff: number = PINV_RELATIVE_CUTOFF,
): SymmetricPinv {
  if (
    !Number.isFinite(relativeCutoff) ||
    relativeCutoff < 0 ||
    relativeCutoff >= 1
  ) {
    throw new InvalidArgumentError(
      `pinvSymmetric: relativeCutoff = ${relativeCutoff} is invalid; ` +
        `expected a number in [0, 1)`,
    );
  }
  const { values, vectors } = symmetricEigen(A, n);

  let maxAbs = 0;
  for (const lambda of values) maxAbs = Math.max(maxAbs, Math.abs(lambda));
  const threshold = relativeCutoff * maxAbs;

  const pinv = new Float64Array(n * n);
  let rank = 0;
  for (let j = 0; j < n; j++) {
    const lambda = values[j]!;
    if (lambda === 0 || Math.abs(lambda) <= threshold) continue;
    rank++;
    for (let r = 0; r < n; r++) {
      const scaled = vectors[r * n + j]! / lambda;
      for (let c = r; c < n; c++)
        pinv[r * n + c]! += scaled * vectors[c * n + j]!;
    }
  }
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < r; c++) pinv[r * n + c] = pinv[c * n + r]!;
  }
  return { pinv, rank };
}
