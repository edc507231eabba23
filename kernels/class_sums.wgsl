// Segmented reduction: per-class sums and counts of the columns of a d×N
// matrix X given a label per column, for a batch of matrices:
//   sums[b][i][k] = Σ_{j : label[j] = k} X[b][i][j],   counts[b][k] = #{j}.
// The basis of class means. Labels outside [0, K) are counted nowhere.
//
// Pass `partials`: workgroup (s, r, b) reduces columns [s·chunk, (s+1)·chunk)
// for ROWS rows of block r. Row d is a virtual row of ones, so its sums are
// the class counts. Threads stride over the columns (coalesced), share each
// label load across the block's rows, and keep KB class accumulators per row
// (a class block at a time). Then one barrier, and ROWS·KB threads each sum
// one accumulator over the workgroup in thread order: a tree would need a
// barrier per level, and barriers dominate on CPU emulations.
// Pass `reduce`: sums the partials over s in a fixed order. No atomics, so
// the result is identical from run to run.

const WG: u32 = ${WG}u;
const ROWS: u32 = ${ROWS}u;
const KB: u32 = ${KB}u;
// Threads of reduce_main: 256, or the device's limit where it is lower.
const REDUCE_WG: u32 = ${REDUCE_WG}u;

struct Params {
  d: u32,
  N: u32,
  K: u32,
  splits: u32,
  chunk: u32,
  labelStride: u32, // 0: one label vector shared by every batch; N: one each
  batch: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> scratch: array<f32, ROWS * KB * WG>; // [row·class][thread]

// Partial layout: [batch][split][row 0..d][class], row d holding counts.
fn partialIndex(batch: u32, split: u32, row: u32, k: u32) -> u32 {
  return ((batch * params.splits + split) * (params.d + 1u) + row) * params.K + k;
}

@compute @workgroup_size(WG, 1, 1)
fn partials_main(
  @builtin(workgroup_id) group: vec3<u32>,
  @builtin(local_invocation_index) thread: u32,
) {
  let split = group.x;
  let row0 = group.y * ROWS;
  let batch = group.z;
  let colBegin = split * params.chunk;
  let colEnd = min(colBegin + params.chunk, params.N);
  let labelBase = batch * params.labelStride;
  let xBase = batch * params.d * params.N;

  for (var k0 = 0u; k0 < params.K; k0 += KB) {
    // Zeroed explicitly: SwiftShader was seen to carry an uninitialised
    // `var` over from the previous iteration of this loop.
    var acc = array<f32, ROWS * KB>();
    for (var j = colBegin + thread; j < colEnd; j += WG) {
      // Wraps to a huge value below k0, so one comparison checks the block.
      let slot = labels[labelBase + j] - k0;
      if (slot < KB) {
        for (var r = 0u; r < ROWS; r++) {
          let row = row0 + r;
          var value = 0.0;
          if (row < params.d) {
            value = x[xBase + row * params.N + j];
          } else if (row == params.d) {
            value = 1.0;
          }
          acc[r * KB + slot] += value;
        }
      }
    }

    // One barrier, then thread t < ROWS·KB sums one accumulator over all
    // threads, in thread order: far fewer barriers than a tree.
    for (var a = 0u; a < ROWS * KB; a++) {
      scratch[a * WG + thread] = acc[a];
    }
    workgroupBarrier();
    if (thread < ROWS * KB) {
      let row = row0 + thread / KB;
      let k = k0 + thread % KB;
      var sum = 0.0;
      for (var t = 0u; t < WG; t++) {
        sum += scratch[thread * WG + t];
      }
      if (row <= params.d && k < params.K) {
        partials[partialIndex(batch, split, row, k)] = sum;
      }
    }
    workgroupBarrier();
  }
}

@group(0) @binding(4) var<storage, read_write> sums: array<f32>;
@group(0) @binding(5) var<storage, read_write> counts: array<u32>;

// One thread per (batch, row, class); row d yields the exact u32 count
// (each partial count is an integer ≤ chunk < 2^24, so exact in f32).
@compute @workgroup_size(REDUCE_WG, 1, 1)
fn reduce_main(
  @builtin(global_invocation_id) id: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let rows = params.d + 1u;
  let index = id.x + id.y * groups.x * REDUCE_WG;
  if (index >= params.batch * rows * params.K) {
    return;
  }
  let k = index % params.K;
  let row = (index / params.K) % rows;
  let batch = index / (params.K * rows);
  if (row == params.d) {
    var count = 0u;
    for (var s = 0u; s < params.splits; s++) {
      count += u32(partials[partialIndex(batch, s, row, k)]);
    }
    counts[batch * params.K + k] = count;
  } else {
    var sum = 0.0;
    for (var s = 0u; s < params.splits; s++) {
      sum += partials[partialIndex(batch, s, row, k)];
    }
    sums[(batch * params.d + row) * params.K + k] = sum;
  }
}
