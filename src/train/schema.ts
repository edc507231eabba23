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
  coupling?: { gamma: number; trainCount: number },
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
  // The graph's coupling adds (γ/N_train)·L to the features' curvature,
  // and the normalised Laplacian's eigenvalues reach 2 (science.md §7).
  if (coupling && coupling.gamma > 0) {
    const curvature =
      config.lambdaH + (2 * coupling.gamma) / coupling.trainCount;
    const product = lrH * curvature;
    if (product >= limit) {
      ctx.addIssue({
        code: 'custom',
        path: ['gamma'],
        message:
          `with lr_H = ${lrH}${config.lrH === undefined ? ' (N_train·lr)' : ''}, ` +
          `lr_H·(λ_H + 2γ/N_train) = ${product} ≥ ${limit}: ` +
          `${config.optimizer.kind} on the features would diverge; lower ` +
          'lrH (or lr), gamma or lambdaH',
      });
    }
  }
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
  steps: integerIn(1, 100_000_000),
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

/** A ufm run as written in JSON (see README: "Training configurations"). */
export const ufmConfigSchema = z
  .object({
    model: z.literal('ufm'),
    ...trainingFields,
    /** Label noise: the control that memorizes without dilating. */
    noise: noiseSchema.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    checkStepStability(config, ctx);
    checkClassCounts(config, ctx);
    checkSizes(config, ctx);
  });

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

const pcaSchema = z
  .union([integerAtLeast(1), z.null()], {
    error: 'expected a number of components ≥ 1, or null for none',
  })
  .optional();

/** Images of Fashion-MNIST (60 000 train, 10 000 test: 6 000 and 1 000 a
 * class); the committed fixture has 300 and 100 of classes 0 and 1. */
const fashionDataSchema = z
  .object({
    kind: z.literal('fashion-mnist'),
    source: z
      .enum(['package', 'fixture'], {
        error:
          'expected "package" (Debian\'s dataset-fashion-mnist) or "fixture"',
      })
      .default('package'),
    classes: z
      .array(integerIn(0, 9))
      .min(2, 'expected at least 2 classes')
      .refine((c) => new Set(c).size === c.length, 'expected distinct classes')
      .default([0, 1]),
    perClass: integerIn(1, 6000).default(500),
    testPerClass: integerIn(0, 1000).default(250),
    seed: seedSchema.default(0),
    pca: pcaSchema.default(50),
  })
  .strict()
  .superRefine((data, ctx) => {
    if (data.pca !== null && data.pca > 784) {
      ctx.addIssue({
        code: 'custom',
        path: ['pca'],
        message: 'expected at most 784 components (28×28 pixels)',
      });
    }
  });

const mixtureDataSchema = z
  .object({
    kind: z.literal('mixture'),
    K: integerIn(2, MAX_K).default(2),
    dim: integerIn(1, 4096).default(20),
    separation: nonNegative.default(3),
    perClass: integerIn(1, MAX_EXAMPLES).default(500),
    testPerClass: integerIn(0, MAX_EXAMPLES).default(250),
    seed: seedSchema.default(0),
    pca: pcaSchema.default(null),
  })
  .strict()
  .superRefine((data, ctx) => {
    if (data.dim < data.K - 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['dim'],
        message: `expected dim ≥ K − 1 = ${data.K - 1} (room for K equidistant means)`,
      });
    }
    if (data.pca !== null && data.pca > data.dim) {
      ctx.addIssue({
        code: 'custom',
        path: ['pca'],
        message: `expected at most dim = ${data.dim} components`,
      });
    }
  });

const dataSchema = z.discriminatedUnion(
  'kind',
  [fashionDataSchema, mixtureDataSchema],
  { error: 'expected data with kind "fashion-mnist" or "mixture"' },
);

/** A graph-model run (science.md §7): K and n come from its data. */
export const graphConfigSchema = z
  .object({
    model: z.literal('graph'),
    d: trainingFields.d,
    loss: trainingFields.loss,
    positive: trainingFields.positive,
    lambdaW: trainingFields.lambdaW,
    lambdaH: trainingFields.lambdaH,
    lambdaB: trainingFields.lambdaB,
    lr: trainingFields.lr,
    lrH: trainingFields.lrH,
    optimizer: trainingFields.optimizer,
    schedule: trainingFields.schedule,
    steps: trainingFields.steps,
    seed: trainingFields.seed,
    initScale: trainingFields.initScale,
    data: dataSchema,
    /** The k-nearest-neighbour graph of the inputs (after PCA). */
    graph: z
      .object({ k: integerIn(1, 64).default(10) })
      .strict()
      .default({ k: 10 }),
    /** γ of the coupling γ/(2N_train)·tr(H L Hᵀ); 0 is the ufm. */
    gamma: nonNegative,
    /** Label noise on the training images; none by default. */
    noise: noiseSchema.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    const K =
      config.data.kind === 'mixture'
        ? config.data.K
        : config.data.classes.length;
    const trainCount = K * config.data.perClass;
    checkStepStability({ ...config, K, n: config.data.perClass }, ctx, {
      gamma: config.gamma,
      trainCount,
    });
    const N = K * (config.data.perClass + config.data.testPerClass);
    if (config.graph.k > Math.min(64, N - 1)) {
      ctx.addIssue({
        code: 'custom',
        path: ['graph', 'k'],
        message: `expected at most ${Math.min(64, N - 1)} (N − 1 = ${N - 1}, and 64)`,
      });
    }
    if (N > MAX_EXAMPLES || config.d * N > MAX_FEATURE_FLOATS) {
      ctx.addIssue({
        code: 'custom',
        path: ['data', 'perClass'],
        message:
          `${N} examples with d = ${config.d} make ${config.d * N} feature ` +
          `floats; expected at most ${MAX_EXAMPLES} examples and ` +
          `${MAX_FEATURE_FLOATS} floats`,
      });
    }
  });

export const configSchema = z.discriminatedUnion(
  'model',
  [ufmConfigSchema, mdConfigSchema, graphConfigSchema],
  {
    error: 'expected "ufm", "md" or "graph"',
  },
);

export type UfmConfigInput = z.input<typeof ufmConfigSchema>;
