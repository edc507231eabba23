// Per-example passes of the collapse metrics (science.md §4–5) over a batch
// of feature matrices H [B][d][N]; everything is then reduced by the
// deterministic class sums and finished in float64 on the host.
//
// `centre_main`: for every column n with a label ℓ_n < K,
//   X[:, n] = h_n − C[:, ℓ_n]   and   dist[0][n] = ‖X[:, n]‖, dist[1][n] = ‖X[:, n]‖²;
// columns whose label is ≥ K (excluded from a grouping) get X = 0, dist = 0.
// C holds one centre per class (class means, or clean class means).
//
// `classify_main`: for every column, the classifier's prediction
// argmax_k (w_k·h + b_k) over the model's classes (bit 2 of `classes`) and
// the nearest class centre argmin_k ‖h − μ_k‖² over the classes with
// examples (bit 1), first index on ties, and writes
//   flags[0][n] = [prediction ≠ nearest centre]   (NC4)
//   flags[1][n] = [prediction = label]            (accuracy, observed labels)
//   flags[2][n] = [prediction = true label]       (accuracy, true labels)

struct Dims {
  d: u32,
  N: u32,
  K: u32,
  batch: u32,
}

@group(0) @binding(0) var<storage, read> H: array<f32>;          // [B][d][N]
@group(0) @binding(1) var<storage, read> labels: array<u32>;     // [B][N]
@group(0) @binding(2) var<storage, read> centres: array<f32>;    // [B][d][K]
@group(0) @binding(3) var<uniform> dims: Dims;
@group(0) @binding(4) var<storage, read_write> X: array<f32>;    // [B][d][N]
@group(0) @binding(5) var<storage, read_write> dist: array<f32>; // [B][2][N]

// classify only
@group(0) @binding(6) var<storage, read> W: array<f32>;          // [B][K][d]
@group(0) @binding(7) var<storage, read> bias: array<f32>;       // [B][K]
@group(0) @binding(8) var<storage, read> trueLabels: array<u32>; // [B][N]
@group(0) @binding(9) var<storage, read> classes: array<u32>;    // [B][K]: bit 1 has examples, bit 2 in the model
@group(0) @binding(10) var<storage, read_write> flags: array<f32>; // [B][3][N]

@compute @workgroup_size(${WG}, 1, 1)
fn centre_main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n = id.x;
  let b = id.y;
  if (n >= dims.N || b >= dims.batch) {
    return;
  }
  let label = labels[b * dims.N + n];
  let inGrouping = label < dims.K;
  var sq = 0.0;
  for (var i = 0u; i < dims.d; i++) {
    let at = (b * dims.d + i) * dims.N + n;
    var x = 0.0;
    if (inGrouping) {
      x = H[at] - centres[(b * dims.d + i) * dims.K + label];
    }
    X[at] = x;
    sq = fma(x, x, sq);
  }
  dist[(b * 2u) * dims.N + n] = sqrt(sq);
  dist[(b * 2u + 1u) * dims.N + n] = sq;
}

@compute @workgroup_size(${WG}, 1, 1)
fn classify_main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n = id.x;
  let b = id.y;
  if (n >= dims.N || b >= dims.batch) {
    return;
  }
  var best = 0u;
  var bestScore = -3.4028234663852886e38;
  var nearest = 0u;
  var nearestSq = 3.4028234663852886e38;
  for (var k = 0u; k < dims.K; k++) {
    var score = bias[b * dims.K + k];
    var sq = 0.0;
    for (var i = 0u; i < dims.d; i++) {
      let h = H[(b * dims.d + i) * dims.N + n];
      score = fma(W[(b * dims.K + k) * dims.d + i], h, score);
      let x = h - centres[(b * dims.d + i) * dims.K + k];
      sq = fma(x, x, sq);
    }
    let flags = classes[b * dims.K + k];
    if ((flags & 2u) != 0u && score > bestScore) {
      bestScore = score;
      best = k;
    }
    if ((flags & 1u) != 0u && sq < nearestSq) {
      nearestSq = sq;
      nearest = k;
    }
  }
  let column = b * dims.N + n;
  flags[(b * 3u) * dims.N + n] = select(0.0, 1.0, best != nearest);
  flags[(b * 3u + 1u) * dims.N + n] = select(0.0, 1.0, best == labels[column]);
  flags[(b * 3u + 2u) * dims.N + n] = select(0.0, 1.0, best == trueLabels[column]);
}

// `split_main`: the clean and the noisy grouping of a column by its true
// label: clean[n] = y_n if ỹ_n = y_n, noisy[n] = y_n if ỹ_n ≠ y_n; K (excluded)
// otherwise, and for columns already excluded (ỹ_n ≥ K).
@group(0) @binding(11) var<storage, read_write> clean: array<u32>; // [B][N]
@group(0) @binding(12) var<storage, read_write> noisy: array<u32>; // [B][N]

@compute @workgroup_size(${WG}, 1, 1)
fn split_main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n = id.x;
  let b = id.y;
  if (n >= dims.N || b >= dims.batch) {
    return;
  }
  let column = b * dims.N + n;
  let observed = labels[column];
  let y = trueLabels[column];
  let inUse = observed < dims.K && y < dims.K;
  clean[column] = select(dims.K, y, inUse && observed == y);
  noisy[column] = select(dims.K, y, inUse && observed != y);
}
