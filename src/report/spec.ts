// What a report figure is (a Vega-Lite spec with its name, title and
// caption, or the sentence saying why it was left out) and the pieces the
// figure builders share: scale choices and axis titles.

import type { TopLevelSpec } from 'vega-lite';

import { spansDecades } from './stats';

export interface Figure {
  /** File stem under figures/ (lower case, digits and dashes). */
  name: string;
  title: string;
  /** What the figure shows, with the definitions it relies on. */
  caption: string;
  /** null when there is nothing to draw; `omitted` then says why. */
  spec: TopLevelSpec | null;
  omitted: string | null;
}

export function drawn(
  name: string,
  title: string,
  caption: string,
  spec: TopLevelSpec,
): Figure {
  return { name, title, caption, spec, omitted: null };
}

export function omitted(name: string, title: string, why: string): Figure {
  return { name, title, caption: '', spec: null, omitted: why };
}

/**
 * Axis titles: a name, then its unit or definition on a second line, short
 * enough for a 170 px axis (the captions hold the full definitions).
 */
export const AXIS = {
  relativeMemorization: ['relative memorization', '(÷ clean-centre distance)'],
  relativeDilation: ['relative dilation', '(÷ clean-centre distance)'],
  testAccuracy: ['test accuracy', '(fraction correct)'],
  eta: ['label-noise rate η', '(probability a label is corrupted)'],
  coupling: ['md coupling λ', '(radius = λ·memorization)'],
  gamma: ['graph penalty γ', '(k-NN Laplacian weight)'],
  step: ['training step', '(log scale)'],
} satisfies Record<string, string[]>;

/** Shared look: room for two-line axis titles, no clipped legend labels. */
export const CONFIG = {
  axis: { titleFontWeight: 'normal', titleLimit: 400 },
  legend: { labelLimit: 320 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { anchor: 'start', fontSize: 14 },
} as const;

/** Smallest spread, relative to the largest magnitude, an axis zooms into. */
export const MIN_RELATIVE_SPAN = 1e-6;

/**
 * Log scale where the values are positive and span two decades or more;
 * linear otherwise (a log axis drops zeros and negatives). A series flat to
 * within MIN_RELATIVE_SPAN (NC2 for K = 2 is constant up to rounding) keeps
 * zero in its axis: fitting the axis to it would zoom into float noise and
 * label ticks with 17 digits.
 */
export function valueScale(values: readonly number[]) {
  if (spansDecades(values)) return { type: 'log' as const };
  const lo = values.reduce((a, v) => Math.min(a, v), Infinity);
  const hi = values.reduce((a, v) => Math.max(a, v), -Infinity);
  const magnitude = Math.max(Math.abs(lo), Math.abs(hi));
  if (!(hi - lo > MIN_RELATIVE_SPAN * magnitude)) {
    // All zeros (or no values) would leave a zero-width domain.
    return magnitude > 0 ? { zero: true } : { domain: [0, 1] };
  }
  return { zero: false };
}

/**
 * A parameter axis that may hold 0 (λ = 0 and γ = 0 are the UFM): symlog
 * with its linear zone below the smallest positive value when the positive
 * values span two decades, linear otherwise.
 */
export function parameterScale(values: readonly number[]) {
  const positive = values.filter((v) => v > 0);
  if (!spansDecades(positive)) return { zero: false };
  const smallest = positive.reduce((a, v) => Math.min(a, v), Infinity);
  return { type: 'symlog' as const, constant: smallest };
}

/** Up to `limit` values spread over the sorted distinct values. */
export function spread(values: readonly number[], limit: number): number[] {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  if (distinct.length <= limit) return distinct;
  return Array.from(
    { length: limit },
    (_, i) => distinct[Math.round((i * (distinct.length - 1)) / (limit - 1))]!,
  );
}
