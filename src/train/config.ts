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
const trainingFields = {
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
  if (typeof value === 'number' && !Number.isFinite(value))
    return String(value);
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

/**
 * Checks a configuration: the parsed run with defaults filled in, or every
 * problem found, each one line "path …: value is invalid; allowed".
 */
function checkConfig(
  input: unknown,
  root: string,
): { run: RunConfig; problems: [] } | { run: null; problems: string[] } {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const problems = formatIssues(input, result.error, root);
    // An unknown model stops zod at the discriminator; still check the
    // fields every model shares, so that one run lists every problem.
    const model = valueAt(input, ['model']);
    const isObject =
      input !== null && typeof input === 'object' && !Array.isArray(input);
    if (isObject && model !== 'ufm' && model !== 'md') {
      const shared = z.object(trainingFields).safeParse(input);
      if (!shared.success)
        problems.push(...formatIssues(input, shared.error, root));
    }
    return { run: null, problems };
  }
  const c = result.data;
  const countsPerClass = Array.isArray(c.n)
    ? c.n
    : Array.from({ length: c.K }, () => c.n as number);
  const N = countsPerClass.reduce((a, n) => a + n, 0);
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
    // Resolved, so that the report shows the step size that was used.
    lrH: c.lrH ?? N * c.lr,
    optimizer: c.optimizer,
    schedule,
    steps: c.steps,
    seed: c.seed,
    initScale: c.initScale,
  };
  if (c.model === 'ufm') {
    return {
      run: { model: 'ufm', config: { ...common, countsPerClass } },
      problems: [],
    };
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
  const counts = noiseCounts(trueLabels, observed, c.K);
  // A class without clean examples has no centre to measure from (its
  // clean points carry no weight, so its centre never moves).
  const noClean = counts.flatMap((row, k) => (row[k] === 0 ? [k] : []));
  if (noClean.length > 0) {
    return {
      run: null,
      problems: [
        `${root}.noise = ${JSON.stringify(c.noise)} is invalid here; the ` +
          `noise drawn leaves class(es) ${noClean.join(', ')} without a clean ` +
          `example, and the md model measures from each class's clean ` +
          `centre: lower eta, or raise n`,
      ],
    };
  }
  return {
    run: {
      model: 'md',
      config: {
        ...common,
        counts,
        coupling: c.coupling,
        smoothing: c.smoothing,
        testSamples: c.testSamples,
      },
      noise,
      flipRate,
    },
    problems: [],
  };
}

function invalid(problems: string[]): InvalidArgumentError {
  return new InvalidArgumentError(
    `invalid training configuration (${count(problems.length, 'problem')}):\n  ` +
      problems.join('\n  '),
  );
}

/** Checks a configuration and returns it with defaults filled in. */
export function parseConfig(input: unknown, root = 'config'): RunConfig {
  const { run, problems } = checkConfig(input, root);
  if (!run) throw invalid(problems);
  return run;
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

/**
 * The configurations of a file: one object, a list, or { configs: [...] },
 * each with the path its problems are reported under.
 */
export function configurationsOf(
  input: unknown,
): Array<{ config: unknown; root: string }> {
  const listed = (list: unknown[]) =>
    list.map((config, i) => ({ config, root: `configs[${i}]` }));
  if (Array.isArray(input)) return listed(input as unknown[]);
  if (input !== null && typeof input === 'object' && 'configs' in input) {
    const extra = Object.keys(input).filter((k) => k !== 'configs');
    if (extra.length > 0) {
      throw invalid([
        `unknown top-level field(s) ${extra.map((k) => `"${k}"`).join(', ')}; ` +
          'a file is one configuration, a list, or { "configs": [...] }',
      ]);
    }
    const configs = input.configs;
    if (Array.isArray(configs)) return listed(configs as unknown[]);
    throw invalid(['configs: expected a list of configurations']);
  }
  return [{ config: input, root: 'config' }];
}

/** Parses every configuration, listing the problems of all of them. */
export function parseConfigurations(input: unknown): RunConfig[] {
  const raw = configurationsOf(input);
  if (raw.length === 0)
    throw new InvalidArgumentError('no configurations to train');
  const checked = raw.map(({ config, root }) => checkConfig(config, root));
  const problems = checked.flatMap((c) => c.problems);
  if (problems.length > 0) throw invalid(problems);
  return checked.map((c) => c.run!);
}
