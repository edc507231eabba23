// The run configuration of one training, as users write it in JSON,
// checked against src/train/schema.ts: every problem is reported at once,
// each with its path in the configuration, the value found and what is
// allowed — before any GPU work. Parsing also draws an md run's label noise.

import { z } from 'zod';

import { graphKey, type DataSpec } from '../data/datasets';
import { applyLabelNoise, noiseCounts, type NoiseSpec } from '../data/noise';
import { InvalidArgumentError } from '../gpu/errors';
import type { GraphTrainConfig } from './graph';
import type { MdTrainConfig } from './md';
import { configSchema, trainingFields } from './schema';
import type { UfmTrainConfig } from './ufm';

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

/** Where a problem is reported: its path in what the user wrote. */
export type Locate = (path: readonly PropertyKey[]) => string;

/** `root.a[0].b` for the path ['a', 0, 'b']. */
export function pathText(root: string, path: readonly PropertyKey[]): string {
  return [
    root,
    ...path.map((p) =>
      typeof p === 'number'
        ? `[${p}]`
        : /^[A-Za-z_$][\w$]*$/.test(String(p))
          ? `.${String(p)}`
          : `[${JSON.stringify(String(p))}]`,
    ),
  ]
    .join('')
    .replace(/\.\[/g, '[');
}

/** Every problem, one line each: "path: value is invalid; allowed". */
export function formatIssues(
  input: unknown,
  error: z.ZodError,
  root: string | Locate = 'config',
): string[] {
  const locate: Locate =
    typeof root === 'string' ? (path) => pathText(root, path) : root;
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      // A located key may come from elsewhere (a sweep's grid): one line each.
      return typeof root === 'string'
        ? [
            `${locate(issue.path)}: unknown field(s) ` +
              issue.keys.map((k) => `"${k}"`).join(', '),
          ]
        : issue.keys.map((k) => `${locate([...issue.path, k])}: unknown field`);
    }
    const path = locate(issue.path);
    const value = valueAt(input, issue.path);
    const shown =
      value === undefined ? 'is missing' : `= ${describe(value)} is invalid`;
    // A wrong type says which type; our own messages cover the rest
    // (zod reports a non-integer as an 'int' type error with our message).
    const wrongType = issue.code === 'invalid_type' && issue.expected !== 'int';
    const allowed = wrongType ? `expected ${issue.expected}` : issue.message;
    return [`${path} ${shown}; ${allowed}`];
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
    }
  | {
      model: 'graph';
      config: GraphTrainConfig;
      data: DataSpec;
      /** Neighbours per point of the k-NN graph. */
      k: number;
      /** Drawn on the training labels in the page, once the data is there. */
      noise: NoiseSpec | null;
    };

/** Which runs can share dispatches: one model, one length, one graph. */
export function batchKey(run: RunConfig): string {
  const base = `${run.model} ${run.config.steps}`;
  return run.model === 'graph' ? `${base} ${graphKey(run.data, run.k)}` : base;
}

// The noise stream's default seed: derived from the run's seed, but not
// equal to it, so that it does not replay the initialisation's draws.
const NOISE_SEED_OFFSET = 0x9e3779b9;

/**
 * Checks a configuration: the parsed run with defaults filled in, or every
 * problem found, each one line "path …: value is invalid; allowed".
 */
export function checkConfig(
  input: unknown,
  root: string | Locate,
): { run: RunConfig; problems: [] } | { run: null; problems: string[] } {
  const locate: Locate =
    typeof root === 'string' ? (path) => pathText(root, path) : root;
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const problems = formatIssues(input, result.error, root);
    // An unknown model stops zod at the discriminator; still check the
    // fields every model shares, so that one run lists every problem.
    const model = valueAt(input, ['model']);
    const isObject =
      input !== null && typeof input === 'object' && !Array.isArray(input);
    if (isObject && model !== 'ufm' && model !== 'md' && model !== 'graph') {
      const shared = z.object(trainingFields).safeParse(input);
      if (!shared.success)
        problems.push(...formatIssues(input, shared.error, root));
    }
    return { run: null, problems };
  }
  const c = result.data;
  const noiseOf = (
    spec: { kind: NoiseSpec['kind']; eta: number; seed?: number } | undefined,
  ) =>
    spec
      ? { ...spec, seed: spec.seed ?? (c.seed + NOISE_SEED_OFFSET) % 2 ** 32 }
      : null;
  if (c.model === 'graph') {
    const K = c.data.kind === 'mixture' ? c.data.K : c.data.classes.length;
    const trainCount = K * c.data.perClass;
    const { model: _, data, graph, noise, gamma, ...settings } = c;
    return {
      run: {
        model: 'graph',
        config: {
          ...settings,
          K,
          gamma,
          lrH: c.lrH ?? trainCount * c.lr,
          schedule:
            c.schedule.kind === 'cosine'
              ? { kind: 'cosine', totalSteps: c.schedule.totalSteps ?? c.steps }
              : c.schedule,
        },
        data,
        k: graph.k,
        noise: noiseOf(noise),
      },
      problems: [],
    };
  }
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
      run: {
        model: 'ufm',
        config: { ...common, countsPerClass, noise: noiseOf(c.noise) },
      },
      problems: [],
    };
  }

  const trueLabels = countsPerClass.flatMap((n, k) => Array<number>(n).fill(k));
  const noise: NoiseSpec | null = noiseOf(c.noise);
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
        `${locate(['noise'])} = ${JSON.stringify(c.noise)} is invalid here; the ` +
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
