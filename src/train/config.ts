// The run configuration of one training, as users write it in JSON: one
// declaration gives the TypeScript type, the runtime check and its error
// messages. Every problem is reported at once, each with its path in the
// configuration, the value found and what is allowed — before any GPU work.

import { z } from 'zod';

import { applyLabelNoise, noiseCounts, type NoiseSpec } from '../data/noise';
import { InvalidArgumentError } from '../gpu/errors';
import type { MdTrainConfig } from './md';
import type { UfmTrainConfig } from './ufm';

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
    z.object({ kind: z.literal('momentum'), beta: fraction('β') }).strict(),
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
 * Weight decay alone makes a feature step h ← (1 − lr_H·λ_H)·h − …, which
 * grows without bound once lr_H·λ_H ≥ 2 for gradient descent (2(1 + β) with
 * heavy-ball momentum β): refuse such runs instead of letting them diverge
 * (science.md §3). Adam rescales its steps and is not limited this way.
 */
function checkFeatureStepStability(
  config: {
    K: number;
    n: number | number[];
    lr: number;
    lrH?: number;
    lambdaH: number;
    optimizer: { kind: string; beta?: number };
  },
  ctx: z.RefinementCtx,
): void {
  if (config.optimizer.kind === 'adam') return;
  const N = Array.isArray(config.n)
    ? config.n.reduce((a, c) => a + c, 0)
    : config.n * config.K;
  const lrH = config.lrH ?? N * config.lr;
  const limit =
    config.optimizer.kind === 'momentum'
      ? 2 * (1 + (config.optimizer.beta ?? 0))
      : 2;
  const product = lrH * config.lambdaH;
  if (product >= limit) {
    ctx.addIssue({
      code: 'custom',
      path: ['lambdaH'],
      message:
        `with lr_H = ${lrH}${config.lrH === undefined ? ' (N·lr)' : ''}, ` +
        `lr_H·λ_H = ${product} ≥ ${limit}: ${config.optimizer.kind} on the ` +
        `features would diverge; lower lr, lrH or lambdaH`,
    });
  }
}

// Fields every model shares.
const trainingFields = {
  K: integerAtLeast(2),
  d: integerAtLeast(1),
  /** Examples per class: one number (balanced) or one per class. */
  n: z.union([integerAtLeast(1), z.array(z.number())], {
    error: 'expected an integer ≥ 1 or a list of K of them',
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
    if (!Number.isInteger(count) || count < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['n', k],
        message: `class ${k} would be empty or fractional; expected an integer ≥ 1`,
      });
    }
  });
}

/** A ufm run as written in JSON (see README: "Training configurations"). */
export const ufmConfigSchema = z
  .object({ model: z.literal('ufm'), ...trainingFields })
  .strict()
  .superRefine((config, ctx) => {
    checkFeatureStepStability(config, ctx);
    checkClassCounts(config, ctx);
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
    checkFeatureStepStability(config, ctx);
    checkClassCounts(config, ctx);
  });

const configSchema = z.discriminatedUnion(
  'model',
  [ufmConfigSchema, mdConfigSchema],
  {
    error: 'expected "ufm" or "md"',
  },
);

export type UfmConfigInput = z.input<typeof ufmConfigSchema>;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Every problem, one line each: "path: value is invalid; allowed". */
export function formatIssues(
  input: unknown,
  error: z.ZodError,
  root = 'config',
): string[] {
  return error.issues.map((issue) => {
    const path = [
      root,
      ...issue.path.map((p) =>
        typeof p === 'number' ? `[${p}]` : `.${String(p)}`,
      ),
    ]
      .join('')
      .replace(/\.\[/g, '[');
    if (issue.code === 'unrecognized_keys') {
      return `${path}: unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    const value = valueAt(input, issue.path);
    const shown =
      value === undefined ? 'is missing' : `= ${describe(value)} is invalid`;
    // A wrong type says which type; our own messages cover the rest
    // (zod reports a non-integer as an 'int' type error with our message).
    const wrongType = issue.code === 'invalid_type' && issue.expected !== 'int';
    const allowed = wrongType ? `expected ${issue.expected}` : issue.message;
    return `${path} ${shown}; ${allowed}`;
  });
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A parsed run: the model and what its trainer takes. */
export type RunConfig =
  | { model: 'ufm'; config: UfmTrainConfig }
  | {
      model: 'md';
      config: MdTrainConfig;
      /** The noise drawn (seed filled in), or null without noise. */
      noise: NoiseSpec | null;
      /** Fraction of examples whose observed label is not their true one. */
      flipRate: number;
    };

// The noise stream's default seed: derived from the run's seed, but not
// equal to it, so that it does not replay the initialisation's draws.
const NOISE_SEED_OFFSET = 0x9e3779b9;

/** Checks a configuration and returns it with defaults filled in. */
export function parseConfig(input: unknown, root = 'config'): RunConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const lines = formatIssues(input, result.error, root);
    // An unknown model stops zod at the discriminator; still check the
    // fields every model shares, so that one run lists every problem.
    const model = valueAt(input, ['model']);
    if (model !== 'ufm' && model !== 'md') {
      const shared = z.object(trainingFields).safeParse(input);
      if (!shared.success)
        lines.push(...formatIssues(input, shared.error, root));
    }
    throw new InvalidArgumentError(
      `invalid training configuration (${count(lines.length, 'problem')}):\n  ` +
        lines.join('\n  '),
    );
  }
  const c = result.data;
  const countsPerClass = Array.isArray(c.n)
    ? c.n
    : Array.from({ length: c.K }, () => c.n as number);
  const schedule =
    c.schedule.kind === 'cosine'
      ? {
          kind: 'cosine' as const,
          totalSteps: c.schedule.totalSteps ?? c.steps,
        }
      : c.schedule;
  const common = {
    K: c.K,
    d: c.d,
    loss: c.loss,
    positive: c.positive,
    lambdaW: c.lambdaW,
    lambdaH: c.lambdaH,
    lambdaB: c.lambdaB,
    lr: c.lr,
    lrH: c.lrH,
    optimizer: c.optimizer,
    schedule,
    steps: c.steps,
    seed: c.seed,
    initScale: c.initScale,
  };
  if (c.model === 'ufm') {
    return { model: 'ufm', config: { ...common, countsPerClass } };
  }

  const trueLabels = countsPerClass.flatMap((n, k) => Array<number>(n).fill(k));
  const noise: NoiseSpec | null = c.noise
    ? {
        ...c.noise,
        seed: c.noise.seed ?? (c.seed + NOISE_SEED_OFFSET) % 2 ** 32,
      }
    : null;
  const { observed, flipRate } = noise
    ? applyLabelNoise(trueLabels, c.K, noise)
    : { observed: trueLabels, flipRate: 0 };
  return {
    model: 'md',
    config: {
      ...common,
      counts: noiseCounts(trueLabels, observed, c.K),
      coupling: c.coupling,
      smoothing: c.smoothing,
      testSamples: c.testSamples,
    },
    noise,
    flipRate,
  };
}

/** A ufm configuration (the model field is required and must be "ufm"). */
export function parseUfmConfig(
  input: unknown,
  root = 'config',
): UfmTrainConfig {
  const run = parseConfig(input, root);
  if (run.model !== 'ufm') {
    throw new InvalidArgumentError(
      `${root}.model = "${run.model}" is invalid here; expected "ufm"`,
    );
  }
  return run.config;
}

/** One configuration, a list, or { configs: [...] }. */
export function configurationsOf(input: unknown): unknown[] {
  if (Array.isArray(input)) return input;
  if (input !== null && typeof input === 'object' && 'configs' in input) {
    const configs = input.configs;
    if (Array.isArray(configs)) return configs;
    throw new InvalidArgumentError(
      'configs: expected a list of configurations',
    );
  }
  return [input];
}

/** Parses every configuration, listing the problems of all of them. */
export function parseConfigurations(input: unknown): RunConfig[] {
  const raw = configurationsOf(input);
  if (raw.length === 0)
    throw new InvalidArgumentError('no configurations to train');
  const problems: string[] = [];
  const parsed = raw.map((config, index) => {
    try {
      return parseConfig(
        config,
        raw.length === 1 ? 'config' : `configs[${index}]`,
      );
    } catch (error) {
      problems.push((error as Error).message);
      return null;
    }
  });
  if (problems.length > 0) throw new InvalidArgumentError(problems.join('\n'));
  return parsed as RunConfig[];
}
