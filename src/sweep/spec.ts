// Sweep specifications: a name and one or more parts, each a base run
// configuration (src/train/schema.ts) and a grid over any of its fields by
// dotted path ("noise.eta", "data.perClass", "loss"). Expansion is the
// cartesian product of each part's grid, first key outermost; every
// configuration is checked, and every problem is reported at once with its
// path in the spec — at the grid value that caused it, or in the base —
// before any GPU work.

import { z } from 'zod';

import { InvalidArgumentError } from '../gpu/errors';
import { configSchema } from '../train/schema';
import {
  checkConfig,
  formatIssues,
  pathText,
  type RunConfig,
} from '../train/config';
import { contentId } from './hash';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const nameSchema = z
  .string()
  .regex(NAME, 'expected 1–100 letters, digits, ".", "_" or "-"');

const GRID_KEY = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;

const gridSchema = z
  .record(
    z.string(),
    z.array(z.unknown()).min(1, 'expected a non-empty list of values'),
  )
  .superRefine((grid, ctx) => {
    for (const key of Object.keys(grid)) {
      if (!GRID_KEY.test(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message:
            `the key ${JSON.stringify(key)} is not a field path; expected ` +
            'names joined by dots, such as "lambdaH" or "noise.eta"',
        });
      }
    }
  });

const partSchema = z
  .object({
    name: nameSchema,
    base: z.record(z.string(), z.unknown()),
    grid: gridSchema.default({}),
  })
  .strict();

export const sweepSpecSchema = z
  .object({
    name: nameSchema,
    description: z.string().optional(),
    parts: z.array(partSchema).min(1, 'expected at least one part'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const names = spec.parts.map((p) => p.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) {
        ctx.addIssue({
          code: 'custom',
          path: ['parts', i, 'name'],
          message: 'expected a name no other part has',
        });
      }
    });
  });

export type SweepSpec = z.output<typeof sweepSpecSchema>;

/** Largest sweep expanded: beyond it a grid is almost surely a mistake. */
export const MAX_SWEEP_CONFIGS = 1_000_000;

/** One configuration of an expanded sweep. */
export interface SweepItem {
  /** Position in the expanded sweep: parts in order, grids in order. */
  index: number;
  part: string;
  /** The grid's value of each key for this configuration. */
  point: Record<string, unknown>;
  /** The configuration as checked, defaults filled in; `id` hashes it. */
  config: Record<string, unknown>;
  id: string;
  run: RunConfig;
}

export interface ExpandedSweep {
  name: string;
  items: SweepItem[];
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Sets `value` at a dotted path, making the objects on the way. */
function setPath(
  target: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  const fields = key.split('.');
  let at = target;
  for (const field of fields.slice(0, -1)) {
    const next = at[field];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      at[field] = {};
    }
    at = at[field] as Record<string, unknown>;
  }
  at[fields.at(-1)!] = clone(value);
}

/** The index tuples of a grid, first key outermost. */
function* gridPoints(sizes: number[]): Generator<number[]> {
  const at = sizes.map(() => 0);
  if (sizes.some((s) => s === 0)) return;
  for (;;) {
    yield [...at];
    let k = sizes.length - 1;
    while (k >= 0 && ++at[k]! === sizes[k]) at[k--] = 0;
    if (k < 0) return;
  }
}

function invalid(problems: string[]): InvalidArgumentError {
  const n = problems.length;
  return new InvalidArgumentError(
    `invalid sweep spec (${n} problem${n === 1 ? '' : 's'}):\n  ` +
      problems.join('\n  '),
  );
}

/** How many configurations a part's grid makes. */
function partSize(grid: Record<string, unknown[]>): number {
  return Object.values(grid).reduce((n, values) => n * values.length, 1);
}

/**
 * Checks a spec and expands it into its configurations, or throws an
 * InvalidArgumentError listing every problem with its path in the spec.
 */
export function expandSweep(input: unknown): ExpandedSweep {
  const problems = new Set<string>();
  const parsed = sweepSpecSchema.safeParse(input);
  let parts: Array<z.output<typeof partSchema> | null>;
  if (parsed.success) {
    parts = parsed.data.parts;
  } else {
    formatIssues(input, parsed.error, 'spec').forEach((p) => problems.add(p));
    // Still expand every part whose base and grid are usable, so that one
    // run lists the configurations' problems too, not only the spec's.
    const raw = (input as { parts?: unknown } | null)?.parts;
    parts = Array.isArray(raw)
      ? raw.map((part: unknown) => {
          if (part === null || typeof part !== 'object') return null;
          const { name, ...rest } = part as Record<string, unknown>;
          const usable = partSchema.omit({ name: true }).safeParse(rest);
          return usable.success
            ? { ...usable.data, name: typeof name === 'string' ? name : '?' }
            : null;
        })
      : [];
  }
  const total = parts.reduce((n, p) => n + (p ? partSize(p.grid) : 0), 0);
  if (total > MAX_SWEEP_CONFIGS) {
    throw invalid([
      ...problems,
      `spec.parts: the grids make ${total} configurations; expected at most ` +
        `${MAX_SWEEP_CONFIGS} (split the sweep into several specs)`,
    ]);
  }

  const items: SweepItem[] = [];
  /** Where each configuration was first made, by id. */
  const seen = new Map<string, string>();
  parts.forEach((part, p) => {
    if (!part) return;
    const keys = Object.keys(part.grid);
    const values = keys.map((k) => part.grid[k]!);
    for (const choice of gridPoints(values.map((v) => v.length))) {
      const raw = clone(part.base);
      const point: Record<string, unknown> = {};
      keys.forEach((key, j) => {
        const value = values[j]![choice[j]!];
        setPath(raw, key, value);
        point[key] = value;
      });
      // A problem is reported where its value came from: the grid entry
      // whose path is the longest prefix of the problem's path, or the base.
      const locate = (path: readonly PropertyKey[]) => {
        const dotted = path.map(String);
        let best = -1;
        keys.forEach((key, j) => {
          const fields = key.split('.');
          const matches = fields.every((f, i) => dotted[i] === f);
          if (
            matches &&
            (best < 0 || fields.length > keys[best]!.split('.').length)
          )
            best = j;
        });
        if (best < 0) return pathText(`spec.parts[${p}].base`, path);
        const rest = path.slice(keys[best]!.split('.').length);
        return pathText(
          `spec.parts[${p}].grid["${keys[best]}"][${choice[best]}]`,
          rest,
        );
      };
      const checked = checkConfig(raw, locate);
      if (!checked.run) {
        checked.problems.forEach((line) => problems.add(line));
        continue;
      }
      const config = configSchema.parse(raw) as Record<string, unknown>;
      const id = contentId(config);
      const here = `spec.parts[${p}] at grid point ${JSON.stringify(point)}`;
      const earlier = seen.get(id);
      if (earlier !== undefined) {
        problems.add(
          `${here} repeats the configuration of ${earlier}; each ` +
            'configuration may appear once (vary the seed to repeat a run)',
        );
        continue;
      }
      seen.set(id, here);
      items.push({
        index: items.length,
        part: part.name,
        point,
        config,
        id,
        run: checked.run,
      });
    }
  });
  if (problems.size > 0 || !parsed.success) throw invalid([...problems]);
  return { name: parsed.data.name, items };
}
