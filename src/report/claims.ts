// The paper's claims (science.md §8) evaluated on a sweep's rows. Every
// verdict is computed from the rows with the thresholds below and comes with
// the numbers behind it; nothing here is tuned to a particular outcome.

import { canonicalJson } from '../sweep/hash';
import type { FinalMetrics, ModelName, ResultRow } from '../sweep/row';
import { diverged, formatNumber, keyWithoutLoss } from './rows';
import { isFiniteNumber, median, spearman } from './stats';

export type Verdict =
  'holds' | 'does not hold' | 'not measurable on this sweep';

export interface Claim {
  id: 'a' | 'b' | 'c';
  /** The claim as science.md §8 states it. */
  statement: string;
  /** How it is tested here, thresholds included. */
  test: string;
  verdict: Verdict;
  /** Why this verdict, with the decisive numbers. */
  reason: string;
  /** Supporting lines (per model, per α). */
  details: string[];
  numbers: Record<string, number | null>;
}

/** (a): fewer rows than this give no usable rank correlation. */
export const MIN_CORRELATION_ROWS = 5;
/**
 * (a): Spearman's ρ from which the association counts as "grows with"; a
 * ρ just above 0 is indistinguishable from no association on sweep sizes.
 */
export const MIN_SPEARMAN = 0.3;
/** (c): relative memorization that is clearly above 0 (full is ≈ 1). */
export const UFM_MIN_MEMORIZATION = 0.25;
/** (c): relative dilation that counts as ≈ 0 (5 % of the centres' distance). */
export const UFM_MAX_DILATION = 0.05;

const RESTRICTED_MODELS: readonly ModelName[] = ['md', 'graph'];

/** Rows with label noise that trained to the end. */
function noisyRows(rows: readonly ResultRow[], model: ModelName) {
  return rows.filter((r) => r.model === model && r.eta > 0 && !diverged(r));
}

const fraction = (k: number, n: number) =>
  `${k}/${n} (${((100 * k) / n).toFixed(0)} %)`;

/**
 * The configuration without its loss and its noise level: rows sharing it
 * differ only along the claim's axes ("across η and losses, with everything
 * else fixed", science.md §8).
 */
function keyWithoutLossAndNoise(row: ResultRow): string {
  const rest: Record<string, unknown> = { ...row.config };
  delete rest.loss;
  if (rest.noise && typeof rest.noise === 'object') {
    const noise: Record<string, unknown> = { ...rest.noise };
    delete noise.eta;
    rest.noise = noise;
  }
  return `${row.model}|${canonicalJson(rest)}`;
}

export function dilationGrowsWithMemorization(
  rows: readonly ResultRow[],
): Claim {
  const details: string[] = [];
  const numbers: Record<string, number | null> = {};
  const verdicts: Verdict[] = [];
  for (const model of RESTRICTED_MODELS) {
    const usable = noisyRows(rows, model).filter(
      (r) =>
        isFiniteNumber(r.final.relativeMemorization) &&
        isFiniteNumber(r.final.relativeDilation),
    );
    const groups = new Map<string, ResultRow[]>();
    for (const row of usable) {
      const key = keyWithoutLossAndNoise(row);
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    const rhos = [...groups.values()]
      .filter((g) => g.length >= MIN_CORRELATION_ROWS)
      .map((g) =>
        spearman(
          g.map((r) => r.final.relativeMemorization!),
          g.map((r) => r.final.relativeDilation!),
        ),
      )
      .filter((rho): rho is number => rho !== null);
    const middle = rhos.length > 0 ? median(rhos) : null;
    numbers[`${model}.n`] = usable.length;
    numbers[`${model}.groups`] = rhos.length;
    numbers[`${model}.medianSpearman`] = middle;
    if (middle === null) {
      details.push(
        `${model}: not measurable, no group of ≥ ${MIN_CORRELATION_ROWS} ` +
          'rows differing only in loss and η with varying memorization and ' +
          `dilation (${usable.length} usable rows)`,
      );
      continue;
    }
    const verdict = middle >= MIN_SPEARMAN ? 'holds' : 'does not hold';
    verdicts.push(verdict);
    const above = rhos.filter((rho) => rho >= MIN_SPEARMAN).length;
    details.push(
      `${model}: ${verdict}, median Spearman ρ = ${formatNumber(middle)} ` +
        `over ${rhos.length} group(s); ρ ≥ ${MIN_SPEARMAN} in ` +
        `${fraction(above, rhos.length)}; ${usable.length} rows` +
        (model === 'md'
          ? ' (by construction: the md model sets each radius to λ times ' +
            'its memorization, science.md §7, so within equal λ the ranks ' +
            'agree; the graph model is the informative test)'
          : ''),
    );
  }
  let verdict: Verdict = 'not measurable on this sweep';
  if (verdicts.includes('does not hold')) verdict = 'does not hold';
  else if (verdicts.length > 0) verdict = 'holds';
  const reasons: Record<Verdict, string> = {
    holds: `median ρ ≥ ${MIN_SPEARMAN} on every measurable model`,
    'does not hold': `median ρ < ${MIN_SPEARMAN} on at least one model`,
    'not measurable on this sweep':
      'neither md nor graph has a group of non-diverged rows with η > 0 ' +
      'that differ only in loss and η',
  };
  return {
    id: 'a',
    statement: 'On md and graph models, dilation grows with memorization.',
    test:
      `Rows with η > 0 are grouped by everything but loss and η (same ` +
      `model, λ or γ, seed, …); in each group of ≥ ${MIN_CORRELATION_ROWS} ` +
      `rows, the Spearman rank correlation of relative dilation with ` +
      `relative memorization; holds for a model when the median ρ over its ` +
      `groups is ≥ ${MIN_SPEARMAN}, and overall when it holds for every ` +
      'model that is measurable.',
    verdict,
    reason: reasons[verdict],
    details,
    numbers,
  };
}

interface Pair {
  model: ModelName;
  ls: ResultRow;
  ce: ResultRow;
}

/** LS(α) rows with the CE row of the same configuration apart from loss. */
function lossPairs(rows: readonly ResultRow[]): Pair[] {
  const ceByKey = new Map<string, ResultRow>();
  const candidates = RESTRICTED_MODELS.flatMap((m) => noisyRows(rows, m));
  for (const row of candidates) {
    if (row.loss !== 'ce') continue;
    const key = keyWithoutLoss(row);
    const held = ceByKey.get(key);
    if (!held || row.index < held.index) ceByKey.set(key, row);
  }
  return candidates.flatMap((ls) => {
    if (!/^ls\(/i.test(ls.loss)) return [];
    const ce = ceByKey.get(keyWithoutLoss(ls));
    return ce ? [{ model: ls.model, ls, ce }] : [];
  });
}

const COMPARED = [
  'relativeMemorization',
  'relativeDilation',
  'testAccuracy',
] as const satisfies ReadonlyArray<keyof FinalMetrics>;

export function smoothingBeatsCrossEntropy(rows: readonly ResultRow[]): Claim {
  const pairs = lossPairs(rows);
  const usable = pairs.filter((p) =>
    COMPARED.every(
      (k) => isFiniteNumber(p.ls.final[k]) && isFiniteNumber(p.ce.final[k]),
    ),
  );
  const lowerMemorization = (p: Pair) =>
    p.ls.final.relativeMemorization! < p.ce.final.relativeMemorization!;
  const lowerDilation = (p: Pair) =>
    p.ls.final.relativeDilation! < p.ce.final.relativeDilation!;
  const higherAccuracy = (p: Pair) =>
    p.ls.final.testAccuracy! > p.ce.final.testAccuracy!;
  const all = (p: Pair) =>
    lowerMemorization(p) && lowerDilation(p) && higherAccuracy(p);
  const n = usable.length;
  const count = (f: (p: Pair) => boolean, of = usable) => of.filter(f).length;

  const details: string[] = [];
  const groups = new Map<string, Pair[]>();
  for (const p of usable) {
    const key = `${p.model} ${p.ls.loss}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  for (const [key, group] of groups) {
    details.push(
      `${key} vs ce: all three in ${fraction(count(all, group), group.length)}`,
    );
  }
  if (pairs.length > n) {
    details.push(
      `${pairs.length - n} pair(s) left out: a compared value is missing`,
    );
  }
  const numbers: Record<string, number | null> = {
    pairs: n,
    lowerMemorization: n ? count(lowerMemorization) / n : null,
    lowerDilation: n ? count(lowerDilation) / n : null,
    higherTestAccuracy: n ? count(higherAccuracy) / n : null,
    allThree: n ? count(all) / n : null,
  };

  let verdict: Verdict;
  let reason: string;
  if (n === 0) {
    verdict = 'not measurable on this sweep';
    const ls = rows.filter((r) => /^ls\(/i.test(r.loss)).length;
    const ce = rows.filter((r) => r.loss === 'ce').length;
    reason =
      `no LS(α)/CE pair of md or graph rows with η > 0 that agree on ` +
      `everything but the loss and have all three values ` +
      `(${ls} LS rows, ${ce} CE rows in the sweep)`;
  } else {
    verdict = count(all) * 2 > n ? 'holds' : 'does not hold';
    reason =
      `LS(α) beats CE on all three in ${fraction(count(all), n)} of the ` +
      `matched pairs (${verdict === 'holds' ? 'a' : 'not a'} majority); ` +
      `lower memorization in ${fraction(count(lowerMemorization), n)}, ` +
      `lower dilation in ${fraction(count(lowerDilation), n)}, higher test ` +
      `accuracy in ${fraction(count(higherAccuracy), n)}`;
  }
  return {
    id: 'b',
    statement:
      'At equal η, LS(α) has lower memorization, lower dilation and ' +
      'higher test accuracy than CE.',
    test:
      'Matched pairs: each LS(α) row of md or graph with η > 0 against the ' +
      'CE row whose configuration is identical apart from the loss (same ' +
      'model, seed, η, λ or γ, …), both not diverged. A pair supports the ' +
      'claim when LS has strictly lower relative memorization, strictly ' +
      'lower relative dilation and strictly higher test accuracy; the claim ' +
      'holds when a strict majority of pairs support it.',
    verdict,
    reason,
    details,
    numbers,
  };
}

export function ufmMemorizesWithoutDilation(rows: readonly ResultRow[]): Claim {
  const noisy = noisyRows(rows, 'ufm');
  const usable = noisy.filter(
    (r) =>
      isFiniteNumber(r.final.relativeMemorization) &&
      isFiniteNumber(r.final.relativeDilation),
  );
  const n = usable.length;
  const memorizations = usable.map((r) => r.final.relativeMemorization!);
  const dilations = usable.map((r) => r.final.relativeDilation!);
  const supporting = usable.filter(
    (r) =>
      r.final.relativeMemorization! >= UFM_MIN_MEMORIZATION &&
      r.final.relativeDilation! <= UFM_MAX_DILATION,
  ).length;
  let verdict: Verdict;
  let reason: string;
  if (n === 0) {
    verdict = 'not measurable on this sweep';
    reason =
      noisy.length === 0
        ? 'the sweep has no non-diverged ufm rows with η > 0'
        : `${noisy.length} ufm rows with η > 0, none with both relative ` +
          'memorization and dilation';
  } else {
    verdict = supporting * 2 > n ? 'holds' : 'does not hold';
    reason =
      `${fraction(supporting, n)} ufm rows memorize without dilating; ` +
      `median relative memorization ${formatNumber(median(memorizations))}, ` +
      `median relative dilation ${formatNumber(median(dilations))}`;
  }
  return {
    id: 'c',
    statement: 'The ufm control shows memorization without dilation.',
    test:
      `Non-diverged ufm rows with η > 0: a row supports the claim when its ` +
      `relative memorization is ≥ ${UFM_MIN_MEMORIZATION} and its relative ` +
      `dilation ≤ ${UFM_MAX_DILATION} (both divided by the mean distance ` +
      `between clean class centres); holds when a strict majority do.`,
    verdict,
    reason,
    details: [],
    numbers: {
      rows: n,
      supporting: n ? supporting / n : null,
      medianRelativeMemorization: median(memorizations),
      medianRelativeDilation: median(dilations),
    },
  };
}

export function evaluateClaims(rows: readonly ResultRow[]): Claim[] {
  return [
    dilationGrowsWithMemorization(rows),
    smoothingBeatsCrossEntropy(rows),
    ufmMemorizesWithoutDilation(rows),
  ];
}
