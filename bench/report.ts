// The benchmark report as markdown: the main table, the TensorFlow.js
// table, the roofline column and note, and the notes on how each column was
// timed. Pure functions of the result, so bench/run.ts, the benchmark page
// and the tests share them without a browser.

import {
  describeClassSums,
  describeTile,
  type KernelTuning,
} from '../src/gpu/tuning';
import type {
  AlternativeId,
  AlternativeResult,
  BenchResult,
  Measurement,
  WorkloadResult,
} from './workloads';

export function formatMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

export function formatRate(
  m: Measurement | undefined,
  w: WorkloadResult,
): string {
  if (!m) return '–';
  const rate = `${m.rate.toPrecision(3)} ${w.unit}`;
  // A batch step trains every configuration once.
  if (w.configs === undefined || w.configs === 1) return rate;
  return `${rate} (${(m.rate * w.configs).toPrecision(3)} config-steps/s)`;
}

export function formatRatio(ratio: number | undefined): string {
  return ratio !== undefined ? `${ratio.toPrecision(2)}×` : '–';
}

/** A fraction as a percentage with two significant digits (100 %, 9.5 %). */
export function formatPercent(fraction: number): string {
  const percent = 100 * fraction;
  return `${percent >= 10 ? percent.toFixed(0) : percent.toPrecision(2)} %`;
}

/** The alternatives shown as columns of the main table, in order. */
export const ALTERNATIVE_COLUMNS: ReadonlyArray<{
  id: AlternativeId;
  label: string;
}> = [
  { id: 'tfjs-webgpu', label: 'TF.js WebGPU' },
  { id: 'tfjs-webgl', label: 'TF.js WebGL' },
];

function alternative(
  w: WorkloadResult,
  id: AlternativeId,
): AlternativeResult | undefined {
  return w.alternatives?.find((a) => a.id === id);
}

/** Time and nclab/alternative cells of one alternative in the main table. */
function alternativeCells(a: AlternativeResult | undefined): string[] {
  if (!a) return ['–', '–'];
  if (a.unavailable) return ['n/a', '–'];
  if (!a.verified || !a.measurement) return ['**no**', '–'];
  return [formatMs(a.measurement.medianMs), formatRatio(a.ratio)];
}

/** Header cells of the alternatives' and the roof columns. */
export function extraHeaderCells(): string[] {
  return [
    ...ALTERNATIVE_COLUMNS.flatMap(({ label }) => [
      `${label} ms`,
      `nclab/${label}`,
    ]),
    'roof',
  ];
}

/** The same columns for one row. */
export function extraCells(w: WorkloadResult): string[] {
  return [
    ...ALTERNATIVE_COLUMNS.flatMap(({ id }) =>
      alternativeCells(alternative(w, id)),
    ),
    w.roof ? `${formatPercent(w.roof.fraction)} (${w.roof.bound})` : '–',
  ];
}

/** Text from the page as one table cell: one line, no column breaks. */
export function cellText(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function checkCell(a: AlternativeResult): string {
  if (a.unavailable) return `not run: ${cellText(a.unavailable)}`;
  if (!a.verified) return `**no**: ${cellText(a.problem ?? 'not verified')}`;
  const error = a.referenceError?.toExponential(1) ?? '?';
  return `yes (${error})`;
}

function deviceCell(a: AlternativeResult): string {
  if (!a.device) return '–';
  const device = cellText(a.device);
  return a.sameAdapter === false ? `${device} (not nclab's adapter)` : device;
}

/** The TensorFlow.js rows in detail; empty when no row ran it. */
export function alternativesTable(result: BenchResult): string[] {
  const rows = result.workloads.flatMap((w) =>
    (w.alternatives ?? []).map((a) =>
      [
        w.name,
        a.label,
        deviceCell(a),
        a.measurement ? formatMs(a.measurement.medianMs) : '–',
        formatRate(a.measurement, w),
        a.compileMs !== undefined ? formatMs(a.compileMs) : '–',
        formatRatio(a.ratio),
        checkCell(a),
      ].join(' | '),
    ),
  );
  if (rows.length === 0) return [];
  return [
    '',
    'TensorFlow.js in the same page (check: the largest error relative to ' +
      'the float64 reference for ufm rows, the largest relative gap to ' +
      "nclab's metrics for the metrics row):",
    '',
    '| workload | TF.js backend | runs on | ms | rate | compile ms | ' +
      'nclab/TF.js | check |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((row) => `| ${row} |`),
  ];
}

/** How the TF.js columns were made; empty when no row ran TF.js. */
export function alternativesNotes(result: BenchResult): string[] {
  if (!result.workloads.some((w) => w.alternatives?.length)) return [];
  return [
    `- TF.js columns: TensorFlow.js 4.22 in the same page, its WebGPU ` +
      `backend (its own device, on the adapter it names) and its WebGL ` +
      `backend. ufm rows: the same objective and start as nclab, ` +
      `tf.variableGrads and two tf.train.sgd optimizers (lr for W and b, ` +
      `N·lr for H); after the same check steps it must be as close to the ` +
      `float64 reference as nclab and JS must; then m queued steps and one ` +
      `readback of W per sample, divided by m (m makes a sample as long ` +
      `as nclab's). Metrics row: the passes over the examples in TF.js ` +
      `ops, finished by nclab's float64 code, within the JS baseline's ` +
      `tolerance of nclab's metrics; wall time of a whole set. Medians of ` +
      `the run's repeats, or of 3 when one step or set takes over a ` +
      `second. Compile ms: ` +
      `its first step (set) minus its second; TF.js keeps its backends ` +
      `for the whole page, so a later row compiles only shaders it has ` +
      `not seen. n/a: the backend cannot run here (the TF.js table says ` +
      `why); **no**: it disagreed or failed and was not timed`,
  ];
}

/** The roofs of the run and what the roof column means. */
export function rooflineNote(result: BenchResult): string[] {
  const { roofs } = result;
  if (!roofs) {
    return [
      '',
      'Roofline: not computed, the copy or a matmul row was not run or ' +
        'did not verify.',
    ];
  }
  const unmeasured = result.workloads
    .filter((w) => w.nclab && !w.roofWork)
    .map((w) => w.name);
  return [
    '',
    `Roofline (this run, this adapter): the copy kernel moves ` +
      `${roofs.copyGBs.toPrecision(3)} GB/s (read + write), the best ` +
      `matrix product reaches ${roofs.matmulGFLOPs.toPrecision(3)} GFLOP/s ` +
      `(${roofs.matmulRow}). The roof column is the time the roofline ` +
      `model allows, max(FLOPs / that GFLOP/s, bytes / that GB/s), over ` +
      `nclab's median time, with each workload's FLOPs and compulsory ` +
      `bytes (inputs read once, outputs written once) per operation as ` +
      `bench/roofline.ts counts them; "compute" or "bandwidth" names the ` +
      `roof that binds.` +
      (unmeasured.length > 0
        ? ` Not compared, having no roofline count (sweeps time host ` +
          `work too): ${unmeasured.join(', ')}.`
        : ''),
  ];
}

/**
 * Alternatives that ran but disagreed or failed. Reported, not timed, and
 * not a failure of the run: the exit code is about nclab's own checks.
 */
export function alternativeProblems(result: BenchResult): string[] {
  return result.workloads.flatMap((w) =>
    (w.alternatives ?? [])
      .filter((a) => !a.unavailable && !a.verified)
      .map((a) => `${w.name} (${a.label}): ${a.problem ?? 'not verified'}`),
  );
}

function formatCompile(w: WorkloadResult): string {
  if (w.compileMs === undefined) return '–';
  return w.pipelinesCompiled === 0 ? 'cached' : formatMs(w.compileMs);
}

function tableRow(w: WorkloadResult): string {
  const cells = [
    w.name,
    w.shape,
    w.nclab ? formatMs(w.nclab.medianMs) : '–',
    formatRate(w.nclab, w),
    formatCompile(w),
    w.js ? formatMs(w.js.medianMs) : '–',
    w.js && w.baseline
      ? `${formatRate(w.js, w)} (${w.baseline})`
      : formatRate(w.js, w),
    w.ratio !== undefined ? `${w.ratio.toPrecision(2)}×` : '–',
    ...extraCells(w),
    w.skipped ? 'skipped' : w.verified ? 'yes' : '**no**',
  ];
  return `| ${cells.join(' | ')} |`;
}

/** How nclab's times were taken, per kind of row when the methods differ. */
function describeTiming(result: BenchResult): string {
  const rowsByMethod = new Map<string, Set<string>>();
  for (const w of result.workloads) {
    if (!w.nclab) continue;
    const rows = rowsByMethod.get(w.nclab.method) ?? new Set<string>();
    rows.add(
      w.kind === 'ufm'
        ? 'ufm training rows'
        : w.kind === 'sweep'
          ? 'sweep rows'
          : 'kernel rows',
    );
    rowsByMethod.set(w.nclab.method, rows);
  }
  if (rowsByMethod.size <= 1) return result.timingMethod;
  return [...rowsByMethod]
    .map(([method, rows]) => `${method} for the ${[...rows].join(' and ')}`)
    .join(', ');
}

export function formatMarkdown(result: BenchResult, browser: string): string {
  const { adapter } = result;
  const training = result.workloads.some((w) => w.kind === 'ufm');
  const sweeps = result.workloads.some((w) => w.kind === 'sweep');
  const lines = [
    `# nclab benchmark, ${result.startedAt}`,
    '',
    `- Adapter: ${adapter.name}; vendor "${adapter.vendor}", architecture ` +
      `"${adapter.architecture}", description "${adapter.description}"`,
    `- Browser: ${browser}; ${result.userAgent}`,
    `- Timing: nclab by ${describeTiming(result)}, JS by ` +
      `performance.now(); median of ${result.repeats} repeats after a ` +
      `warm-up, fast operations repeated within each sample and divided`,
    `- Compile ms: the workload's pipelines, measured as a first call on ` +
      `tiny inputs minus a second one; not in the nclab time. Each row ` +
      `runs on a fresh device`,
    `- Kernel inputs: seeded small integers, so both sides are exact and ` +
      `must agree bit for bit before anything is timed`,
    ...(training
      ? [
          `- ufm training rows: ms per step of the whole batch of ` +
            `configurations. nclab: trainUfmBatch (fused loss, totals, ` +
            `divergence check, two matrix products, a class sum, three ` +
            `optimizer updates per step), wall time of two run lengths with ` +
            `the same readbacks, the difference divided by the extra steps; ` +
            `compile ms is its first call minus a second. JS: one float32 ` +
            `full-batch gradient-descent step per configuration. Both start ` +
            `from the seeded state of the float64 reference trainer and must ` +
            `match it to 1e-4 of its largest entry after 3 steps before ` +
            `anything is timed`,
        ]
      : []),
    ...(sweeps
      ? [
          `- sweep rows: configurations per second of a whole sweep, wall ` +
            `time from the checked configurations to their results on the ` +
            `host (uploads, every step, the trajectory readbacks, final ` +
            `downloads and measures). nclab: batched as nclab sweep plans ` +
            `it. The JS columns hold the same trainer given one ` +
            `configuration at a time, timed on a seeded sample and scaled ` +
            `to the sweep (see the plans); nclab/JS is batched over one at ` +
            `a time. The sample's results must be bit-identical both ways ` +
            `before any time is reported`,
        ]
      : []),
    ...alternativesNotes(result),
    `- Run: ${result.quick ? 'quick (small shapes)' : 'full'}, ` +
      `${(result.totalMs / 1000).toFixed(1)} s in the page`,
    '',
  ];
  if (adapter.isFallbackAdapter) {
    lines.push(
      `> This is a fallback adapter (${adapter.architecture || 'software'}, ` +
        `a CPU emulation of a GPU): absolute numbers are not GPU numbers. ` +
        `Only the comparison with JS on the same machine means something ` +
        `here; run on a real GPU for GPU figures.`,
      '',
    );
  }
  lines.push(
    '| workload | shape | nclab ms | nclab rate | compile ms | JS ms | ' +
      `JS rate | nclab/JS | ${extraHeaderCells().join(' | ')} | verified |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ' +
      `${extraHeaderCells()
        .map(() => '---:')
        .join(' | ')} | --- |`,
    ...result.workloads.map(tableRow),
    ...rooflineNote(result),
    ...alternativesTable(result),
    ...tuningTable(result),
    '',
    'nclab plans:',
    '',
    ...result.workloads.map(
      (w) => `- ${w.name}: ${w.skipped ?? w.plan ?? 'not planned'}`,
    ),
  );
  const failures = collectFailures(result);
  if (failures.length > 0) {
    lines.push('', 'Failures:', '', ...failures.map((line) => `- ${line}`));
  }
  const disagreed = alternativeProblems(result);
  if (disagreed.length > 0) {
    lines.push(
      '',
      'Alternatives that disagreed or failed (not timed):',
      '',
      ...disagreed.map((line) => `- ${line}`),
    );
  }
  return lines.join('\n') + '\n';
}

/** The auto-tuner row's choice per kernel against the default. */
export function tuningTable(result: BenchResult): string[] {
  const report = result.workloads.find((w) => w.tuning)?.tuning;
  if (!report) return [];
  const row = (
    kernel: string,
    t: KernelTuning<unknown>,
    describe: (candidate: never) => string,
  ) => {
    const [first] = t.results;
    const timed = t.results.filter((r) => r.ms !== null).length;
    const ratio =
      t.defaultMs !== null && t.chosenMs !== null
        ? `${(t.defaultMs / t.chosenMs).toFixed(2)}×`
        : '–';
    return (
      `| ${kernel} | ${t.shape} | ${timed} of ${t.results.length} | ` +
      `${first ? describe(first.candidate as never) : '–'} | ` +
      `${t.defaultMs === null ? '–' : formatMs(t.defaultMs)} | ` +
      `${describe(t.chosen as never)} | ` +
      `${t.chosenMs === null ? '–' : formatMs(t.chosenMs)} | ${ratio} |`
    );
  };
  return [
    '',
    `Tuning (this adapter, ${report.method}, median of ${report.repeats}; ` +
      `tuned/default: how many times as fast the choice is; \`nclab tune\` ` +
      `caches it):`,
    '',
    '| kernel | shape | candidates timed | default | default ms | chosen | chosen ms | tuned/default |',
    '| --- | --- | ---: | --- | ---: | --- | ---: | ---: |',
    row('matmul', report.matmul, describeTile),
    row('class sums', report.classSums, describeClassSums),
  ];
}

/** Every failed check of nclab's rows and of the run, in words. */
export function collectFailures(result: BenchResult): string[] {
  return [
    ...result.workloads
      .filter((w) => !w.verified && !w.skipped)
      .map((w) => `${w.name}: ${w.problem ?? 'not verified'}`),
    ...result.problems,
  ];
}

/** One result from per-workload runs (same adapter, one device each). */
export function mergeResults(parts: BenchResult[]): BenchResult {
  const [first] = parts;
  if (!first) throw new Error('the benchmark page lists no workloads');
  const methods = new Set(parts.map((part) => part.timingMethod));
  return {
    ...first,
    timingMethod: methods.size === 1 ? first.timingMethod : 'mixed',
    totalMs: parts.reduce((total, part) => total + part.totalMs, 0),
    workloads: parts.flatMap((part) => part.workloads),
    problems: parts.flatMap((part) => part.problems),
  };
}
