// The graph model's coupling gradient (science.md §7), added in place to the
// feature gradient of a batch of configurations that share one graph:
//   G[b][:, n] += c_b · (h_n − Σ_{m ~ n} w_nm h_m / √(deg_n deg_m)),
// c_b = γ_b / N_train: the gradient of γ/(2N_train)·tr(H L Hᵀ) with the
// normalised Laplacian L = I − D^(−1/2) A D^(−1/2). The neighbour lists have
// a fixed width; an index ≥ N marks an empty slot.

struct Dims {
  rows: u32,    // DMAX
  N: u32,
  degree: u32,  // slots per neighbour list
  batch: u32,
}

@group(0) @binding(0) var<storage, read> H: array<f32>;          // [B][rows][N]
@group(0) @binding(1) var<storage, read> neighbours: array<u32>; // [N][degree]
@group(0) @binding(2) var<storage, read> weights: array<f32>;    // [N][degree]
@group(0) @binding(3) var<storage, read> degrees: array<f32>;    // [N]
@group(0) @binding(4) var<storage, read> scales: array<f32>;     // [B]: γ_b / N_train
@group(0) @binding(5) var<storage, read_write> G: array<f32>;    // as H
@group(0) @binding(6) var<uniform> dims: Dims;

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n = id.x;
  let row = id.y; // b·rows + i
  if (n >= dims.N || row >= dims.batch * dims.rows) {
    return;
  }
  let c = scales[row / dims.rows];
  if (c == 0.0) {
    return;
  }
  let base = row * dims.N;
  var smoothed = 0.0;
  let own = inverseSqrt(degrees[n]);
  for (var s = 0u; s < dims.degree; s++) {
    let m = neighbours[n * dims.degree + s];
    if (m >= dims.N) {
      continue;
    }
    smoothed = fma(weights[n * dims.degree + s] * own * inverseSqrt(degrees[m]), H[base + m], smoothed);
  }
  G[base + n] += c * (H[base + n] - smoothed);
}
