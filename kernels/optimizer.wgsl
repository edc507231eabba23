// One optimizer step on a parameter block of a batch of configurations:
//   g = ∇ + λ·P, then plain gradient descent, heavy-ball momentum or Adam,
// with the step size from a per-configuration schedule (constant, step
// decay, cosine), and projection onto P ≥ 0 when asked (positive features).
// Configurations marked diverged in `status` are left untouched (frozen).
//
// `check_finite` marks a configuration diverged at this step when its loss
// total is NaN or ±Inf, before the step's update runs.

struct Dims {
  rows: u32,
  cols: u32,
  batch: u32,
  step: u32,
}

// Mirrors packOptimizerConfigs in src/kernels/optimizer.ts.
struct OptimizerConfig {
  lr: f32,
  lambda: f32,
  kind: u32,      // 0 gradient descent, 1 heavy-ball momentum, 2 Adam
  positive: u32,  // 1: project onto P ≥ 0
  beta1: f32,     // momentum, or Adam's first-moment decay
  beta2: f32,     // Adam's second-moment decay
  epsilon: f32,   // Adam
  schedule: u32,  // 0 constant, 1 step decay, 2 cosine
  every: u32,     // step decay: steps between decays
  factor: f32,    // step decay: multiplier per decay
  totalSteps: u32,// cosine: length of the schedule
  pad: u32,
}

const GD: u32 = 0u;
const MOMENTUM: u32 = 1u;
const ADAM: u32 = 2u;

@group(0) @binding(0) var<storage, read_write> params: array<f32>; // [B][rows][cols]
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> moment1: array<f32>;
@group(0) @binding(3) var<storage, read_write> moment2: array<f32>;
@group(0) @binding(4) var<storage, read> configs: array<OptimizerConfig>;
@group(0) @binding(5) var<storage, read_write> status: array<u32>; // [B]
@group(0) @binding(6) var<uniform> dims: Dims;
@group(0) @binding(7) var<storage, read> totals: array<f32>; // [B][dims.rows]

fn stepSize(cfg: OptimizerConfig, t: u32) -> f32 {
  if (cfg.schedule == 1u) {
    return cfg.lr * pow(cfg.factor, f32(t / max(cfg.every, 1u)));
  }
  if (cfg.schedule == 2u) {
    let progress = min(f32(t) / f32(max(cfg.totalSteps, 1u)), 1.0);
    return cfg.lr * 0.5 * (1.0 + cos(3.141592653589793 * progress));
  }
  return cfg.lr;
}

@compute @workgroup_size(${WG}, 1, 1)
fn update(
  @builtin(global_invocation_id) id: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let size = dims.rows * dims.cols;
  let index = id.x + id.y * groups.x * ${WG}u;
  if (index >= dims.batch * size) {
    return;
  }
  let b = index / size;
  if (status[b] != 0u) {
    return;
  }
  let cfg = configs[b];
  let p = params[index];
  let g = grads[index] + cfg.lambda * p;
  let lr = stepSize(cfg, dims.step);

  var next = p;
  if (cfg.kind == MOMENTUM) {
    let m = cfg.beta1 * moment1[index] + g;
    moment1[index] = m;
    next = p - lr * m;
  } else if (cfg.kind == ADAM) {
    let m = cfg.beta1 * moment1[index] + (1.0 - cfg.beta1) * g;
    let v = cfg.beta2 * moment2[index] + (1.0 - cfg.beta2) * g * g;
    moment1[index] = m;
    moment2[index] = v;
    let t = f32(dims.step + 1u);
    let mHat = m / (1.0 - pow(cfg.beta1, t));
    let vHat = v / (1.0 - pow(cfg.beta2, t));
    next = p - lr * mHat / (sqrt(vHat) + cfg.epsilon);
  } else {
    next = p - lr * g;
  }
  if (cfg.positive != 0u) {
    next = max(next, 0.0);
  }
  params[index] = next;
}

// NaN and ±Inf have every exponent bit set; comparisons with NaN may be
// optimised away by shader compilers, bit patterns cannot.
fn isFinite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(${WG}, 1, 1)
fn check_finite(@builtin(global_invocation_id) id: vec3<u32>) {
  let b = id.x;
  if (b >= dims.batch || status[b] != 0u) {
    return;
  }
  if (!isFinite(totals[b * dims.rows])) {
    status[b] = dims.step + 1u;
  }
}
