// Batched, register-tiled matrix product, optionally split along the inner
// dimension:  C[b] = alpha · op(A[b]) · op(B[b]),  op(X) = X or Xᵀ.
//
// A is M×K row-major (K×M when TRANS_A), B is K×N (N×K when TRANS_B), C is
// M×N. A workgroup computes a BM×BN tile of C; each thread a TM×TN block of
// it held in registers. Tiles of A and B pass through workgroup memory, BK
// inner indices at a time. Out-of-range elements load as zero, so every shape
// is handled, including 1×1×1.
//
// Split-K: with `splits` > 1, workgroup z = batch·splits + split covers the
// inner range [split·chunk, min((split+1)·chunk, K)) and writes its partial
// product to slot (batch·splits + split) of C; `reduce_splits` then sums the
// slots in a fixed order. No atomics: results are identical run to run.

const BM: u32 = ${BM}u;
const BN: u32 = ${BN}u;
const BK: u32 = ${BK}u;
const TM: u32 = ${TM}u;
const TN: u32 = ${TN}u;
const WG_X: u32 = BN / TN;
const WG_Y: u32 = BM / TM;
const WG_SIZE: u32 = WG_X * WG_Y;
// Threads of reduce_splits: 256, or the device's limit where it is lower.
const REDUCE_WG: u32 = ${REDUCE_WG}u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  splits: u32,
  chunk: u32,
  strideA: u32,     // elements between batches of A; 0 broadcasts A
  strideB: u32,     // elements between batches of B; 0 broadcasts B
  batchOffset: u32, // first batch of this dispatch (batches beyond 65535)
  alpha: f32,
  batchCount: u32,  // batches in this dispatch, for reduce_splits
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> tileA: array<f32, BK * BM>; // [k][m]
var<workgroup> tileB: array<f32, BK * BN>; // [k][n]

fn loadA(base: u32, m: u32, k: u32) -> f32 {
#if ${TRANS_A}
  return a[base + k * params.M + m];
#else
  return a[base + m * params.K + k];
#endif
}

fn loadB(base: u32, k: u32, n: u32) -> f32 {
#if ${TRANS_B}
  return b[base + n * params.K + k];
#else
  return b[base + k * params.N + n];
#endif
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(
  @builtin(workgroup_id) group: vec3<u32>,
  @builtin(local_invocation_id) local: vec3<u32>,
  @builtin(local_invocation_index) thread: u32,
) {
  let split = group.z % params.splits;
  let batch = params.batchOffset + group.z / params.splits;
  let row0 = group.y * BM;
  let col0 = group.x * BN;
  let baseA = batch * params.strideA;
  let baseB = batch * params.strideB;
  let kBegin = split * params.chunk;
  let kEnd = min(kBegin + params.chunk, params.K);

  var acc: array<f32, TM * TN>;
  var regA: array<f32, TM>;
  var regB: array<f32, TN>;

  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    // Consecutive threads load consecutive addresses in either layout.
    for (var i = thread; i < BK * BM; i += WG_SIZE) {
#if ${TRANS_A}
      let mm = i % BM;
      let kk = i / BM;
#else
      let kk = i % BK;
      let mm = i / BK;
#endif
      let m = row0 + mm;
      let k = k0 + kk;
      var value = 0.0;
      if (m < params.M && k < kEnd) {
        value = loadA(baseA, m, k);
      }
      tileA[kk * BM + mm] = value;
    }
    for (var i = thread; i < BK * BN; i += WG_SIZE) {
#if ${TRANS_B}
      let kk = i % BK;
      let nn = i / BK;
#else
      let nn = i % BN;
      let kk = i / BN;
#endif
      let n = col0 + nn;
      let k = k0 + kk;
      var value = 0.0;
      if (n < params.N && k < kEnd) {
        value = loadB(baseB, k, n);
      }
      tileB[kk * BN + nn] = value;
    }
    workgroupBarrier();

    for (var kk = 0u; kk < BK; kk++) {
      for (var i = 0u; i < TM; i++) {
        regA[i] = tileA[kk * BM + local.y * TM + i];
      }
      for (var j = 0u; j < TN; j++) {
        regB[j] = tileB[kk * BN + local.x * TN + j];
      }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) {
          acc[i * TN + j] = fma(regA[i], regB[j], acc[i * TN + j]);
        }
      }
    }
    workgroupBarrier();
  }

  // Without split-K, write the result in place; with it, this dispatch's
  // partial slot (reduce_splits places the sum).
  var slot = (group.z / params.splits) * params.splits + split;
  if (params.splits == 1u) {
    slot = batch;
  }
  let base = slot * params.M * params.N;
  for (var i = 0u; i < TM; i++) {
    let m = row0 + local.y * TM + i;
    for (var j = 0u; j < TN; j++) {
      let n = col0 + local.x * TN + j;
      if (m < params.M && n < params.N) {
        c[base + m * params.N + n] = params.alpha * acc[i * TN + j];
      }
    }
  }
}

// Sums the split-K partial products: c[b][i] = Σ_s a[b·splits + s][i], in
// order of s. Reads the partials through binding 0 and writes binding 2
// (binding 1 is unused here).
@compute @workgroup_size(REDUCE_WG, 1, 1)
fn reduce_splits(
  @builtin(global_invocation_id) id: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let size = params.M * params.N;
  let index = id.x + id.y * groups.x * REDUCE_WG;
  if (index >= params.batchCount * size) {
    return;
  }
  let batch = index / size;
  let offset = index % size;
  var sum = 0.0;
  for (var s = 0u; s < params.splits; s++) {
    sum += a[(batch * params.splits + s) * size + offset];
  }
  c[(params.batchOffset + batch) * size + offset] = sum;
}
