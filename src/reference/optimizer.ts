// Float64 reference of the optimizers (gradient descent, heavy-ball
// momentum, Adam) and step-size schedules that kernels/optimizer.wgsl
// implements, and the specifications both share.

export type OptimizerSpec =
  | { kind: 'gd' }
  | { kind: 'momentum'; beta: number }
  | { kind: 'adam'; beta1: number; beta2: number; epsilon: number };

export type ScheduleSpec =
  | { kind: 'constant' }
  | { kind: 'step'; every: number; factor: number }
  | { kind: 'cosine'; totalSteps: number };

/** The step size at step t, as the kernel computes it (float64 here). */
export function scheduledStepSize(
  block: { lr: number; schedule: ScheduleSpec },
  t: number,
): number {
  const s = block.schedule;
  if (s.kind === 'step') return block.lr * s.factor ** Math.floor(t / s.every);
  if (s.kind === 'cosine') {
    const progress = Math.min(t / s.totalSteps, 1);
    return block.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
  }
  return block.lr;
}

/** Optimizer state of one parameter block: its two moment estimates. */
export interface Moments {
  m1: Float64Array;
  m2: Float64Array;
}

/**
 * One optimizer step on `params` in place, as kernels/optimizer.wgsl does it:
 * g = ∇ + λP, then GD, heavy-ball momentum (m ← βm + g) or Adam with bias
 * correction, then the optional projection onto P ≥ 0.
 */
export function optimizerStepReference(
  params: Float64Array,
  gradient: Float64Array,
  moments: Moments,
  block: {
    lr: number;
    lambda: number;
    positive: boolean;
    optimizer: OptimizerSpec;
    schedule: ScheduleSpec;
  },
  step: number,
): void {
  const lr = scheduledStepSize(block, step);
  const o = block.optimizer;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const g = gradient[i]! + block.lambda * p;
    let next: number;
    if (o.kind === 'momentum') {
      const m = o.beta * moments.m1[i]! + g;
      moments.m1[i] = m;
      next = p - lr * m;
    } else if (o.kind === 'adam') {
      const m = o.beta1 * moments.m1[i]! + (1 - o.beta1) * g;
      const v = o.beta2 * moments.m2[i]! + (1 - o.beta2) * g * g;
      moments.m1[i] = m;
      moments.m2[i] = v;
      const mHat = m / (1 - o.beta1 ** (step + 1));
      const vHat = v / (1 - o.beta2 ** (step + 1));
      next = p - (lr * mHat) / (Math.sqrt(vHat) + o.epsilon);
    } else {
      next = p - lr * g;
    }
    params[i] = block.positive ? Math.max(0, next) : next;
  }
}
