// Small statistics for the sweep report: finite-value filters, means and
// Spearman's rank correlation (with average ranks for ties), all in float64.

/** A number that can be plotted or averaged (JSON turns NaN into null). */
export function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  return xs.reduce((a, x) => a + x, 0) / xs.length;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Ranks 1…n; tied values share the mean of the ranks they span. */
export function ranks(xs: readonly number[]): number[] {
  const order = xs.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
  const out = new Array<number>(xs.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.x === order[start]!.x)
      end++;
    const rank = (start + end) / 2 + 1;
    for (let j = start; j <= end; j++) out[order[j]!.i] = rank;
    start = end + 1;
  }
  return out;
}

/** Pearson correlation; null when either side has no spread. */
export function pearson(
  xs: readonly number[],
  ys: readonly number[],
): number | null {
  const n = xs.length;
  if (n < 2 || ys.length !== n) return null;
  const mx = mean(xs)!;
  const my = mean(ys)!;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: the Pearson correlation of the ranks (ties averaged). */
export function spearman(
  xs: readonly number[],
  ys: readonly number[],
): number | null {
  return pearson(ranks(xs), ranks(ys));
}

/** Whether positive values span at least `decades` powers of ten. */
export function spansDecades(values: readonly number[], decades = 2): boolean {
  if (values.length === 0 || values.some((v) => !(v > 0))) return false;
  // A reduce, not Math.min(...values): trajectories can exceed the
  // argument-count limit of a spread call.
  const lo = values.reduce((a, v) => Math.min(a, v), Infinity);
  const hi = values.reduce((a, v) => Math.max(a, v), -Infinity);
  return Math.log10(hi / lo) >= decades;
}
