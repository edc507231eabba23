// Roofline context for the benchmark: what each workload must compute
// (floating-point operations) and move (compulsory bytes: every input read
// once, every output written once) per operation, and how close nclab's
// measured time comes to the time the roofline model allows on this
// adapter, max(flops / best matmul GFLOP/s, bytes / copy GB/s), both roofs
// measured in the same run. Pure functions: the page attaches the work,
// Node applies the roofs once every row is in.

import type {
  BenchResult,
  RoofFraction,
  Roofs,
  RooflineWork,
  Workload,
} from './workloads';

/** One configuration's step: Z = W·H, ∂W = dZ·Hᵀ and ∂H = Wᵀ·dZ. */
function ufmStepWork(K: number, d: number, N: number): RooflineWork {
  return {
    // Three K×d×N products (a multiply and an add each), and H's update
    // (g = ∂H + λH, then H −= lr·g: two fused multiply-adds per entry).
    flops: 6 * K * d * N + 4 * d * N,
    // H read and written once, the labels read once; W, b and the loss
    // totals are K-sized.
    bytes: 8 * d * N + 4 * N,
  };
}

/** The roofline's view of one workload; null for whole-sweep rows. */
export function rooflineWork(w: Workload): RooflineWork | null {
  switch (w.kind) {
    case 'matmul':
      return {
        flops: 2 * w.M * w.N * w.K,
        bytes: 4 * (w.M * w.K + w.K * w.N + w.M * w.N),
      };
    case 'classSums':
      return {
        // One addition per feature entry.
        flops: w.d * w.N,
        bytes: 4 * (w.d * w.N + w.N + w.d * w.K + w.K),
      };
    case 'ufm': {
      let flops = 0;
      let bytes = 0;
      for (const c of w.configs) {
        const N = c.countsPerClass.reduce((sum, n) => sum + n, 0);
        const step = ufmStepWork(c.K, c.d, N);
        flops += step.flops;
        bytes += step.bytes;
      }
      return { flops, bytes };
    }
    case 'metrics': {
      const { K, d, N } = w;
      return {
        // Leading terms of src/metrics/collapse.ts for three groupings
        // (observed, true, clean): P = M̃ᵀX (2KdN each), A = PPᵀ (2K²N
        // each), centring and norms (3dN each, and once more for the noisy
        // examples), class sums (dN each); and two classifications, each a
        // score and a squared distance per class (5KdN).
        flops: 16 * K * d * N + 6 * K * K * N + 15 * d * N,
        // The features once, observed and true labels once.
        bytes: 4 * d * N + 8 * N,
      };
    }
    case 'copy':
      return { flops: 0, bytes: 8 * w.floats };
    case 'knn':
      return {
        // The N² distances of length p; the merge is comparisons.
        flops: 2 * w.N * w.N * w.p,
        // The points read once, k (distance, index) pairs written per point.
        bytes: 4 * w.N * w.p + 8 * w.N * w.k,
      };
    case 'sweep':
      // Host work, uploads and readbacks included: no single roof.
      return null;
    case 'tuning':
      // Many candidates, each already a matmul or class-sum row's kind.
      return null;
  }
}

/**
 * The roofs of a run: the copy row's GB/s and the fastest matmul row's
 * GFLOP/s, each only if it ran and verified. Null otherwise (a run with
 * --only that left them out).
 */
export function measuredRoofs(result: BenchResult): Roofs | null {
  const copy = result.workloads.find(
    (w) => w.kind === 'copy' && w.verified && w.nclab,
  );
  const matmuls = result.workloads.filter(
    (w) => w.kind === 'matmul' && w.verified && w.nclab,
  );
  if (!copy?.nclab || matmuls.length === 0) return null;
  const best = matmuls.reduce((a, b) =>
    b.nclab!.rate > a.nclab!.rate ? b : a,
  );
  return {
    copyGBs: copy.nclab.rate,
    matmulGFLOPs: best.nclab!.rate,
    matmulRow: best.name,
  };
}

/** The roofline time of `work` and the fraction of it `medianMs` reaches. */
export function roofFraction(
  work: RooflineWork,
  medianMs: number,
  roofs: Roofs,
): RoofFraction {
  // GFLOP/s and GB/s are 10⁶ FLOP or bytes per millisecond.
  const computeMs = work.flops / (roofs.matmulGFLOPs * 1e6);
  const bandwidthMs = work.bytes / (roofs.copyGBs * 1e6);
  const roofMs = Math.max(computeMs, bandwidthMs);
  return {
    bound: computeMs >= bandwidthMs ? 'compute' : 'bandwidth',
    roofMs,
    fraction: roofMs / medianMs,
  };
}

/** Sets result.roofs and every measured row's roof fraction, in place. */
export function applyRoofline(result: BenchResult): void {
  const roofs = measuredRoofs(result);
  result.roofs = roofs;
  for (const w of result.workloads) {
    delete w.roof;
    if (roofs && w.roofWork && w.nclab) {
      w.roof = roofFraction(w.roofWork, w.nclab.medianMs, roofs);
    }
  }
}
