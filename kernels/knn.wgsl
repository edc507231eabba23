// k nearest neighbours, one tile of candidate columns at a time (science.md
// §7, graph model). For row i and candidate j of the tile, the squared
// distance is ‖x_i‖² + ‖x_j‖² − 2·x_iᵀx_j, with the Gram block x_iᵀx_j from
// the matrix product; each row keeps its k best (distance, index) pairs,
// sorted by distance and then by index, so ties resolve the same way on
// every run and every adapter. A point is never its own neighbour.

struct Params {
  N: u32,        // rows (points)
  tileStart: u32,// first candidate column of this tile
  tileSize: u32, // candidates in this tile
  k: u32,        // unused: the list length is the constant K
}

@group(0) @binding(0) var<storage, read> gram: array<f32>;       // [N][tileSize]
@group(0) @binding(1) var<storage, read> norms: array<f32>;      // [N]: ‖x_i‖²
@group(0) @binding(2) var<storage, read_write> bestDist: array<f32>; // [N][k]
@group(0) @binding(3) var<storage, read_write> bestIndex: array<u32>; // [N][k]
@group(0) @binding(4) var<uniform> params: Params;

// (a, ia) comes before (b, ib): smaller distance, then smaller index.
fn before(a: f32, ia: u32, b: f32, ib: u32) -> bool {
  return a < b || (a == b && ia < ib);
}

// Each thread keeps its row's list in registers while it scans the tile
// (K = k, a compile-time constant) and writes it back once at the end.
const K: u32 = ${K}u;

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= params.N) {
    return;
  }
  let row = i * K;
  var dist: array<f32, K>;
  var index: array<u32, K>;
  for (var s = 0u; s < K; s++) {
    dist[s] = bestDist[row + s];
    index[s] = bestIndex[row + s];
  }
  let normI = norms[i];
  let gramRow = i * params.tileSize;
  for (var t = 0u; t < params.tileSize; t++) {
    let j = params.tileStart + t;
    // Rounding can make a tiny distance negative; distances are ≥ 0.
    let d = max(normI + norms[j] - 2.0 * gram[gramRow + t], 0.0);
    if (j == i || !before(d, j, dist[K - 1u], index[K - 1u])) {
      continue;
    }
    // Insert, shifting worse entries one place down.
    var slot = K - 1u;
    while (slot > 0u && before(d, j, dist[slot - 1u], index[slot - 1u])) {
      dist[slot] = dist[slot - 1u];
      index[slot] = index[slot - 1u];
      slot--;
    }
    dist[slot] = d;
    index[slot] = j;
  }
  for (var s = 0u; s < K; s++) {
    bestDist[row + s] = dist[s];
    bestIndex[row + s] = index[s];
  }
}
