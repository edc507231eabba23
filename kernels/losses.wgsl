// Fused loss: for every column n of every configuration b of a batch,
// logits z = W_b·h_n + b_b, a max-shifted softmax, the loss (CE, LS(α) or
// MSE), its excess over LS's minimum, whether argmax z is the label, the
// margin z_y − max_{j≠y} z_j, the squared feature norm ‖h_n‖², and
// s·c_n·∂loss/∂z (s a per-configuration scale) — one thread per column, one
// pass over the inputs.
//
// Configurations are padded to common sizes KMAX × DMAX × NMAX; each carries
// its own K, d, N, loss and α, and padding rows/columns are written as 0.
// dZ doubles as scratch for the logits between the sweeps over k, so no
// per-thread array of KMAX logits is needed.

struct Dims {
  KMAX: u32,
  DMAX: u32,
  NMAX: u32,
  batch: u32,
}

// Mirrors packLossConfigs in src/kernels/losses.ts.
struct LossConfig {
  K: u32,
  d: u32,
  N: u32,
  kind: u32,    // 0 cross-entropy, 1 label smoothing, 2 MSE
  alpha: f32,   // label smoothing α
  entropy: f32, // H(q) of the smoothed target, from the host in float64
  scale: f32,   // gradient multiplier, e.g. 1/Σc for the mean loss
  pad: u32,
}

const CE: u32 = 0u;
const LS: u32 = 1u;
const MSE: u32 = 2u;

// Per-column statistics, each multiplied by the column's count c:
// loss, excess loss, correct (0/1), margin, ‖h‖².
const STATS: u32 = 5u;

fn writeStats(b: u32, n: u32, values: array<f32, STATS>) {
  for (var j = 0u; j < STATS; j++) {
    stats[(b * STATS + j) * dims.NMAX + n] = values[j];
  }
}

@group(0) @binding(0) var<storage, read> W: array<f32>;       // [B][KMAX][DMAX]
@group(0) @binding(1) var<storage, read> H: array<f32>;       // [B][DMAX][NMAX]
@group(0) @binding(2) var<storage, read> bias: array<f32>;    // [B][KMAX]
@group(0) @binding(3) var<storage, read> labels: array<u32>;  // [B][NMAX]
@group(0) @binding(4) var<storage, read> weights: array<f32>; // [B][NMAX]
@group(0) @binding(5) var<storage, read> configs: array<LossConfig>;
@group(0) @binding(6) var<storage, read_write> dZ: array<f32>;   // [B][KMAX][NMAX]
@group(0) @binding(7) var<storage, read_write> stats: array<f32>; // [B][STATS][NMAX]
@group(0) @binding(8) var<uniform> dims: Dims;

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n = id.x;
  let b = id.y;
  if (n >= dims.NMAX || b >= dims.batch) {
    return;
  }
  let cfg = configs[b];
  let column = b * dims.NMAX + n;
  let zBase = b * dims.KMAX * dims.NMAX + n; // + k·NMAX
  let c = weights[column];
  let inUse = n < cfg.N && c != 0.0;

  // Padding rows, and every row of an inactive column, get zero gradient.
  let firstPad = select(0u, cfg.K, inUse);
  for (var k = firstPad; k < dims.KMAX; k++) {
    dZ[zBase + k * dims.NMAX] = 0.0;
  }
  if (!inUse) {
    writeStats(b, n, array<f32, STATS>(0.0, 0.0, 0.0, 0.0, 0.0));
    return;
  }
  let y = labels[column];

  // Sweep 1: logits (kept in dZ), their maximum and first argmax, the
  // label's logit and the largest other one.
  var zmax = -3.4028234663852886e38;
  var argmax = 0u;
  var zy = 0.0;
  var rival = -3.4028234663852886e38;
  for (var k = 0u; k < cfg.K; k++) {
    var z = bias[b * dims.KMAX + k];
    let wRow = (b * dims.KMAX + k) * dims.DMAX;
    for (var i = 0u; i < cfg.d; i++) {
      z = fma(W[wRow + i], H[(b * dims.DMAX + i) * dims.NMAX + n], z);
    }
    dZ[zBase + k * dims.NMAX] = z;
    if (z > zmax) {
      zmax = z;
      argmax = k;
    }
    if (k == y) {
      zy = z;
    } else {
      rival = max(rival, z);
    }
  }
  var normSq = 0.0;
  for (var i = 0u; i < cfg.d; i++) {
    let h = H[(b * dims.DMAX + i) * dims.NMAX + n];
    normSq = fma(h, h, normSq);
  }

  var loss = 0.0;
  var excess = 0.0;
  if (cfg.kind == MSE) {
    // Sweep 2 (MSE): ½‖z − e_y‖² and z − e_y.
    for (var k = 0u; k < cfg.K; k++) {
      let r = dZ[zBase + k * dims.NMAX] - select(0.0, 1.0, k == y);
      loss += 0.5 * r * r;
      dZ[zBase + k * dims.NMAX] = c * cfg.scale * r;
    }
    excess = loss;
  } else {
    // Sweep 2: log-sum-exp, shifted by the maximum so exp never overflows.
    var sum = 0.0;
    for (var k = 0u; k < cfg.K; k++) {
      sum += exp(dZ[zBase + k * dims.NMAX] - zmax);
    }
    let lse = zmax + log(sum);
    // Sweep 3: q = (1−α)e_y + α/K (α = 0 for CE); loss = Σ q_k (lse − z_k),
    // gradient p − q.
    let alpha = select(0.0, cfg.alpha, cfg.kind == LS);
    let spread = alpha / f32(cfg.K);
    for (var k = 0u; k < cfg.K; k++) {
      let z = dZ[zBase + k * dims.NMAX];
      let q = select(0.0, 1.0 - alpha, k == y) + spread;
      loss += q * (lse - z);
      dZ[zBase + k * dims.NMAX] = c * cfg.scale * (exp(z - lse) - q);
    }
    excess = loss - select(0.0, cfg.entropy, cfg.kind == LS);
  }

  writeStats(
    b,
    n,
    array<f32, STATS>(
      c * loss,
      c * excess,
      select(0.0, c, argmax == y),
      c * (zy - rival),
      c * normSq,
    ),
  );
}
