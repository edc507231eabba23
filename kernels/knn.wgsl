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
  k: u32,
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

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= params.N) {
    return;
  }
  let row = i * params.k;
  let last = row + params.k - 1u;
  for (var t = 0u; t < params.tileSize; t++) {
    let j = params.tileStart + t;
    if (j == i) {
      continue;
    }
    // Rounding can make a tiny distance negative; distances are ≥ 0.
    let dist = max(norms[i] + norms[j] - 2.0 * gram[i * params.tileSize + t], 0.0);
    if (!before(dist, j, bestDist[last], bestIndex[last])) {
      continue;
    }
    // Insert, shifting worse entries one place down.
    var slot = last;
    while (slot > row && before(dist, j, bestDist[slot - 1u], bestIndex[slot - 1u])) {
      bestDist[slot] = bestDist[slot - 1u];
      bestIndex[slot] = bestIndex[slot - 1u];
      slot--;
    }
    bestDist[slot] = dist;
    bestIndex[slot] = j;
  }
}
