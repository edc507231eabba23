// The memorization-dilation feature model (science.md §7) around the ufm's
// loss and gradient kernels, for a batch of configurations.
//
// Parameters per configuration, one matrix F = [C | G] (d × (KMAX + QMAX)):
// the centres C (column k = c_k) and one feature per mislabelled group, G
// (column KMAX + q = g_q, group q of true class t_q).
// The model's feature points, one column each, are
//   clean point (k, s), s < 2d:  c_k + r_k·sign_s·e_axis(s),  weight n_kk/2d
//   group point q:               g_q,                          weight n_q
// with r_t = λ·m_t and m_t = Σ_q share_q·φ(g_q − c_t) over the groups of
// class t (share_q = n_q / Σ of their counts), φ(x) = √(‖x‖² + ε²) − ε.
//
// `points` writes the feature points from the parameters; the fused loss and
// the matrix products then act on them as on the ufm's H. `backward` maps
// ∂F/∂(points) back to ∂F/∂C and ∂F/∂G, including the path through r = λm,
// and divides each column by its weight, so that the step sizes mean what
// they mean for the ufm (a step per unit of weight; science.md §3).

struct Dims {
  KMAX: u32,
  DMAX: u32,
  QMAX: u32,
  PMAX: u32,
  batch: u32,
}

// Mirrors packMdConfigs in src/kernels/md.ts.
struct MdConfig {
  K: u32,
  d: u32,
  Q: u32,          // mislabelled groups
  P: u32,          // points: 2·d·K + Q
  coupling: f32,   // λ in r = λ·m
  smoothing: f32,  // ε of φ
  lambdaH: f32,    // feature weight decay (per unit weight)
  pad: u32,
}

// Mirrors packMdGroups: one per (configuration, group slot).
struct MdGroup {
  trueClass: u32,
  observed: u32,
  count: f32,
  share: f32,      // count / (mislabelled examples of its true class)
}

@group(0) @binding(0) var<storage, read> features: array<f32>; // F: [B][DMAX][CMAX]
@group(0) @binding(1) var<storage, read> configs: array<MdConfig>;
@group(0) @binding(2) var<storage, read> table: array<MdGroup>;  // [B][QMAX]
@group(0) @binding(3) var<uniform> dims: Dims;
@group(0) @binding(4) var<storage, read_write> points: array<f32>; // [B][DMAX][PMAX]

// backward only
@group(0) @binding(5) var<storage, read> pointGrads: array<f32>; // [B][DMAX][PMAX]
@group(0) @binding(6) var<storage, read> weights: array<f32>;    // [B][PMAX]
@group(0) @binding(7) var<storage, read_write> grads: array<f32>; // as F

fn columns() -> u32 {
  return dims.KMAX + dims.QMAX;
}

fn centre(b: u32, i: u32, k: u32) -> f32 {
  return features[(b * dims.DMAX + i) * columns() + k];
}

fn groupFeature(b: u32, i: u32, q: u32) -> f32 {
  return features[(b * dims.DMAX + i) * columns() + dims.KMAX + q];
}

// √(‖g_q − c_t‖² + ε²): φ = root − ε, and ∇φ = (g_q − c_t) / root.
fn smoothRoot(b: u32, cfg: MdConfig, q: u32, t: u32) -> f32 {
  var sq = cfg.smoothing * cfg.smoothing;
  for (var i = 0u; i < cfg.d; i++) {
    let x = groupFeature(b, i, q) - centre(b, i, t);
    sq = fma(x, x, sq);
  }
  return sqrt(sq);
}

fn radius(b: u32, cfg: MdConfig, t: u32) -> f32 {
  var m = 0.0;
  for (var q = 0u; q < cfg.Q; q++) {
    let group = table[b * dims.QMAX + q];
    if (group.trueClass == t) {
      m += group.share * (smoothRoot(b, cfg, q, t) - cfg.smoothing);
    }
  }
  return cfg.coupling * m;
}

// Clean point s of a class: axis s/2, sign + for even s.
fn direction(s: u32) -> f32 {
  return select(-1.0, 1.0, s % 2u == 0u);
}

@compute @workgroup_size(${WG}, 1, 1)
fn points_main(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = id.x;
  let b = id.y;
  if (p >= dims.PMAX || b >= dims.batch) {
    return;
  }
  let cfg = configs[b];
  let S = 2u * cfg.d;
  let cleanPoints = S * cfg.K;
  for (var i = 0u; i < dims.DMAX; i++) {
    var h = 0.0;
    if (i < cfg.d && p < cleanPoints) {
      let k = p / S;
      let s = p % S;
      h = centre(b, i, k);
      if (i == s / 2u) {
        h += direction(s) * radius(b, cfg, k);
      }
    } else if (i < cfg.d && p < cfg.P) {
      h = groupFeature(b, i, p - cleanPoints);
    }
    points[(b * dims.DMAX + i) * dims.PMAX + p] = h;
  }
}

// ∂F/∂h of point p, coordinate i: the loss part (already count-weighted)
// plus the weight decay λ_H·w_p·h_p.
fn pointGrad(b: u32, cfg: MdConfig, i: u32, p: u32) -> f32 {
  let at = (b * dims.DMAX + i) * dims.PMAX + p;
  return pointGrads[at] + cfg.lambdaH * weights[b * dims.PMAX + p] * points[at];
}

// ∂F/∂r_k = Σ_s sign_s·∂F/∂h_(k,s)[axis_s].
fn radiusGrad(b: u32, cfg: MdConfig, k: u32) -> f32 {
  let S = 2u * cfg.d;
  var g = 0.0;
  for (var s = 0u; s < S; s++) {
    g += direction(s) * pointGrad(b, cfg, s / 2u, k * S + s);
  }
  return g;
}

// Coordinate i of the path through m_t for group q of class t:
// ∂F/∂r_t · λ · share_q · ∇φ(g_q − c_t); +it for g_q, −it for c_t.
fn couplingGrad(b: u32, cfg: MdConfig, q: u32, t: u32, dRadius: f32, root: f32, i: u32) -> f32 {
  let share = table[b * dims.QMAX + q].share;
  let x = groupFeature(b, i, q) - centre(b, i, t);
  return dRadius * cfg.coupling * share * x / root;
}

// One thread per column of F: centre k < KMAX, then group slot q.
@compute @workgroup_size(${WG}, 1, 1)
fn backward_main(@builtin(global_invocation_id) id: vec3<u32>) {
  let j = id.x;
  let b = id.y;
  if (j >= columns() || b >= dims.batch) {
    return;
  }
  let cfg = configs[b];
  let S = 2u * cfg.d;

  let at = b * dims.DMAX * columns() + j; // + i·columns()
  let stride = columns();
  if (j < dims.KMAX) {
    let k = j;
    if (k >= cfg.K) {
      for (var i = 0u; i < dims.DMAX; i++) {
        grads[at + i * stride] = 0.0;
      }
      return;
    }
    let dRadius = radiusGrad(b, cfg, k);
    // The clean points' total weight n_kk; a class without clean examples
    // moves its centre only through m_k, at unit scale.
    let weight = weights[b * dims.PMAX + k * S] * f32(S);
    let scale = 1.0 / select(1.0, weight, weight > 0.0);
    for (var i = 0u; i < dims.DMAX; i++) {
      var g = 0.0;
      if (i < cfg.d) {
        for (var s = 0u; s < S; s++) {
          g += pointGrad(b, cfg, i, k * S + s);
        }
      }
      grads[at + i * stride] = g;
    }
    if (cfg.coupling != 0.0) {
      for (var q = 0u; q < cfg.Q; q++) {
        if (table[b * dims.QMAX + q].trueClass != k) {
          continue;
        }
        let root = smoothRoot(b, cfg, q, k);
        for (var i = 0u; i < cfg.d; i++) {
          grads[at + i * stride] -=
            couplingGrad(b, cfg, q, k, dRadius, root, i);
        }
      }
    }
    for (var i = 0u; i < cfg.d; i++) {
      grads[at + i * stride] *= scale;
    }
    return;
  }

  let q = j - dims.KMAX;
  if (q >= cfg.Q) {
    for (var i = 0u; i < dims.DMAX; i++) {
      grads[at + i * stride] = 0.0;
    }
    return;
  }
  let group = table[b * dims.QMAX + q];
  let p = S * cfg.K + q;
  var dRadius = 0.0;
  var root = 1.0;
  if (cfg.coupling != 0.0) {
    dRadius = radiusGrad(b, cfg, group.trueClass);
    root = smoothRoot(b, cfg, q, group.trueClass);
  }
  for (var i = 0u; i < dims.DMAX; i++) {
    var g = 0.0;
    if (i < cfg.d) {
      g = pointGrad(b, cfg, i, p);
      if (cfg.coupling != 0.0) {
        g += couplingGrad(b, cfg, q, group.trueClass, dRadius, root, i);
      }
      g /= group.count;
    }
    grads[at + i * stride] = g;
  }
}
