// The schema of a training run as users write it in JSON (zod): one
// declaration per model gives the TypeScript type, the runtime check and
// its messages, with the limits and step-size checks every run must pass.
// src/train/config.ts turns its findings into one list of problems.

import { z } from 'zod';

const fraction = (what: string) =>
  z
    .number()
    .min(0, `expected ${what} in [0, 1)`)
    .lt(1, `expected ${what} in [0, 1)`);
const positiveNumber = z.number().gt(0, 'expected a number > 0');
const nonNegative = z.number().min(0, 'expected a number ≥ 0');
const seedSchema = z
  .number()
  .int('expected an integer from 0 to 4294967295')
  .min(0, 'expected an integer from 0 to 4294967295')
  .max(2 ** 32 - 1, 'expected an integer from 0 to 4294967295');
const integerAtLeast = (min: number) =>
  z
    .number()
    .int(`expected an integer ≥ ${min}`)
    .min(min, `expected an integer ≥ ${min}`);
const integerIn = (min: number, max: number) =>
  z
    .number()
    .int(`expected an integer from ${min} to ${max}`)
    .min(min, `expected an integer from ${min} to ${max}`)
    .max(max, `expected an integer from ${min} to ${max}`);

/**
 * Sizes the engine takes, checked before any GPU work: classes up to the
 * class-sum kernel's limit, examples up to 2^24 (counts stay exact in
 * float32), and a feature matrix of at most 2^28 floats (1 GiB, the most a
 * storage binding holds on the adapters we know; the device may allow less,
 * which acquiring it reports).
 */
export const MAX_K = 1024;
export const MAX_D = 65_536;
export const MAX_EXAMPLES = 2 ** 24;
export const MAX_FEATURE_FLOATS = 2 ** 28;

const lossSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('ce') }).strict(),
    z.object({ kind: z.literal('ls'), alpha: fraction('α') }).strict(),
    z.object({ kind: z.literal('mse') }).strict(),
  ],
  { error: 'expected a loss with kind "ce", "ls" (with alpha) or "mse"' },
);

const optimizerSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('gd') }).strict(),
    z
      .object({ kind: z.literal('momentum'), beta: fraction('β').default(0.9) })
      .strict(),
    z
      .object({
        kind: z.literal('adam'),
        beta1: fraction('β1').default(0.9),
        beta2: fraction('β2').default(0.999),
        epsilon: positiveNumber.default(1e-8),
      })
      .strict(),
  ],
  { error: 'expected an optimizer with kind "gd", "momentum" or "adam"' },
);

const scheduleSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('constant') }).strict(),
    z
      .object({
        kind: z.literal('step'),
        every: integerAtLeast(1),
        factor: z
          .number()
          .gt(0, 'expected a factor in (0, 1]')
          .max(1, 'expected a factor in (0, 1]'),
      })
      .strict(),
    z
      .object({
        kind: z.literal('cosine'),
        totalSteps: integerAtLeast(1).optional(),
      })
      .strict(),
  ],
  { error: 'expected a schedule with kind "constant", "step" or "cosine"' },
);

/**
 * Weight decay alone makes a gradient step p ← (1 − lr·λ)·p − …, which grows
 * without bound once lr·λ ≥ 2 for gradient descent (2(1 + β) with heavy-ball
 * momentum β): refuse such runs instead of letting them diverge (science.md
 * §3). That holds for the features (lr_H, λ_H), the classifier (lr, λ_W)
 * and the bias (lr, λ_b). Adam rescales its steps and is not limited so.
 */
function checkStepStability(
  config: {
    K: number;
    n: number | number[];
    lr: number;
    lrH?: number;
    lambdaW: number;
    lambdaH: number;
    lambdaB: number;
    optimizer: { kind: string; beta?: number };
  },
  ctx: z.RefinementCtx,
): void {
  if (config.optimizer.kind === 'adam') return;
  const N = Array.isArray(config.n)
    ? config.n.reduce((a, c) => a + c, 0)
    : config.n * config.K;
  const limit =
    config.optimizer.kind === 'momentum'
      ? 2 * (1 + (config.optimizer.beta ?? 0))
      : 2;
  const lrH = config.lrH ?? N * config.lr;
  const blocks: Array<[string, string, number, string, number]> = [
    [
      'lambdaH',
      'features',
      lrH,
      `lr_H = ${lrH}${config.lrH === undefined ? ' (N·lr)' : ''}`,
      config.lambdaH,
    ],
    ['lambdaW', 'classifier', config.lr, `lr = ${config.lr}`, config.lambdaW],
    ['lambdaB', 'bias', config.lr, `lr = ${config.lr}`, config.lambdaB],
  ];
  for (const [field, what, rate, rateText, lambda] of blocks) {
    const product = rate * lambda;
    if (product >= limit) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message:
          `with ${rateText}, the product with ${field} is ${product} ≥ ` +
          `${limit}: ${config.optimizer.kind} on the ${what} would diverge; ` +
          `lower the step size or ${field}`,
      });
    }
  }
}

/** Total examples and the size of the feature matrix the engine holds. */
function checkSizes(
  config: { model: 'ufm' | 'md'; K: number; d: number; n: number | number[] },
  ctx: z.RefinementCtx,
): void {
  const N = Array.isArray(config.n)
    ? config.n.reduce((a, c) => a + c, 0)
    : config.n * config.K;
  if (N > MAX_EXAMPLES) {
    ctx.addIssue({
      code: 'custom',
      path: ['n'],
      message: `${N} examples in all; expected at most ${MAX_EXAMPLES}`,
    });
    return;
  }
  // The ufm holds d×N features; the md model d×(2dK + groups) points.
  const columns =
    config.model === 'ufm'
      ? N
      : 2 * config.d * config.K + config.K * (config.K - 1);
  const floats = config.d * columns;
  if (floats > MAX_FEATURE_FLOATS) {
    ctx.addIssue({
      code: 'custom',
      path: ['d'],
      message:
        `the features would take ${config.d}×${columns} = ${floats} floats; ` +
        `expected at most ${MAX_FEATURE_FLOATS} (1 GiB): lower d` +
        (config.model === 'ufm' ? ' or n' : ' or K'),
    });
  }
}

// Fields every model shares.
export const trainingFields = {
  K: integerIn(2, MAX_K),
  d: integerIn(1, MAX_D),
  /** Examples per class: one number (balanced) or one per class. */
  n: z.union([integerIn(1, MAX_EXAMPLES), z.array(z.number())], {
    error: `expected an integer from 1 to ${MAX_EXAMPLES} or a list of K of them`,
  }),
  loss: lossSchema,
  positive: z.boolean().default(false),
  lambdaW: nonNegative,
  lambdaH: nonNegative,
  lambdaB: nonNegative.default(0),
  lr: positiveNumber,
  lrH: positiveNumber.optional(),
  optimizer: optimizerSchema.default({ kind: 'gd' }),
  schedule: scheduleSchema.default({ kind: 'constant' }),
  steps: integerAtLeast(1),
  seed: seedSchema.default(0),
  initScale: positiveNumber.default(0.5),
};

function checkClassCounts(
  config: { K: number; n: number | number[] },
  ctx: z.RefinementCtx,
): void {
  if (!Array.isArray(config.n)) return;
  if (config.n.length !== config.K) {
    ctx.addIssue({
      code: 'custom',
      path: ['n'],
      message: `expected one count per class (K = ${config.K})`,
    });
  }
  config.n.forEach((count, k) => {
    if (!Number.isInteger(count) || count < 1 || count > MAX_EXAMPLES) {
      ctx.addIssue({
        code: 'custom',
        path: ['n', k],
        message: `expected an integer from 1 to ${MAX_EXAMPLES} (no class empty or fractional)`,
      });
    }
  });
}

/** A ufm run as written in JSON (see README: "Training configurations"). */
export const ufmConfigSchema = z
  .object({ model: z.literal('ufm'), ...trainingFields })
  .strict()
  .superRefine((config, ctx) => {
    checkStepStability(config, ctx);
    checkClassCounts(config, ctx);
    checkSizes(config, ctx);
  });

const noiseSchema = z
  .object({
    kind: z.enum(['uniform', 'symmetric', 'pair'], {
      error: 'expected "uniform", "symmetric" or "pair"',
    }),
    eta: z
      .number()
      .min(0, 'expected η in [0, 1]')
      .max(1, 'expected η in [0, 1]'),
    seed: seedSchema.optional(),
  })
  .strict();

/** An md run (science.md §7) as written in JSON. */
export const mdConfigSchema = z
  .object({
    model: z.literal('md'),
    ...trainingFields,
    /** Label noise that makes the mislabelled groups; none by default. */
    noise: noiseSchema.optional(),
    /** λ in r_t = λ·m_t. */
    coupling: nonNegative,
    smoothing: positiveNumber.default(1e-6),
    testSamples: integerAtLeast(1).default(10_000),
  })
  .strict()
  .superRefine((config, ctx) => {
    checkStepStability(config, ctx);
    checkClassCounts(config, ctx);
    checkSizes(config, ctx);
  });

export const configSchema = z.discriminatedUnion(
  'model',
  [ufmConfigSchema, mdConfigSchema],
  {
    error: 'expected "ufm" or "md"',
  },
);

export type UfmConfigInput = z.input<typeof ufmConfigSchema>;
