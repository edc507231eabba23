// The run configuration of one training, as users write it in JSON: one
// declaration gives the TypeScript type, the runtime check and its error
// messages. Every problem is reported at once, each with its path in the
// configuration, the value found and what is allowed — before any GPU work.

import { z } from 'zod';

import { InvalidArgumentError } from '../gpu/errors';
import type { UfmTrainConfig } from './ufm';

const fraction = (what: string) =>
  z
    .number()
    .min(0, `expected ${what} in [0, 1)`)
    .lt(1, `expected ${what} in [0, 1)`);
const positiveNumber = z.number().gt(0, 'expected a number > 0');
const nonNegative = z.number().min(0, 'expected a number ≥ 0');
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

/** A ufm run as written in JSON (see README: "Training configurations"). */
export const ufmConfigSchema = z
  .object({
    model: z.literal('ufm', {
      error: 'expected "ufm" (the only model so far)',
    }),
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
    seed: z
      .number()
      .int('expected an integer')
      .min(0, 'expected an integer ≥ 0')
      .default(0),
    initScale: positiveNumber.default(0.5),
  })
  .strict()
  .superRefine((config, ctx) => {
    checkFeatureStepStability(config, ctx);
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
  });

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

/** Checks a configuration and returns it with defaults filled in. */
export function parseUfmConfig(
  input: unknown,
  root = 'config',
): UfmTrainConfig {
  const result = ufmConfigSchema.safeParse(input);
  if (!result.success) {
    const lines = formatIssues(input, result.error, root);
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
  return {
    K: c.K,
    d: c.d,
    countsPerClass,
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
export function parseConfigurations(input: unknown): UfmTrainConfig[] {
  const raw = configurationsOf(input);
  if (raw.length === 0)
    throw new InvalidArgumentError('no configurations to train');
  const problems: string[] = [];
  const parsed = raw.map((config, index) => {
    try {
      return parseUfmConfig(
        config,
        raw.length === 1 ? 'config' : `configs[${index}]`,
      );
    } catch (error) {
      problems.push((error as Error).message);
      return null;
    }
  });
  if (problems.length > 0) throw new InvalidArgumentError(problems.join('\n'));
  return parsed as UfmTrainConfig[];
}
