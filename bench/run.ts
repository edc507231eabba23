// The benchmark from Node: `npx tsx bench/run.ts [--quick] [--only NAME]
// [--out DIR]`
// opens bench/index.html in Chromium, runs it, writes the result as JSON and
// as a markdown table to bench/results/<timestamp>.{json,md} and prints the
// table. Progress goes to stderr; the exit code is 1 when a workload failed
// its check, 2 on bad arguments.

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { openSession } from '../src/host/session';
import type { BenchResult, Measurement, WorkloadResult } from './workloads';

export const DEFAULT_RESULTS_DIR = fileURLToPath(
  new URL('./results/', import.meta.url),
);

export interface RunBenchOptions {
  /** Small shapes that take seconds (smoke tests). */
  quick?: boolean;
  /** Timed repeats per workload and side; the page's default otherwise. */
  repeats?: number;
  /** Where the result files go; bench/results by default. */
  outDir?: string;
  /** Progress and page errors; stderr by default. */
  log?: (line: string) => void;
  /** Run only the workloads with these names. */
  only?: string[];
}

export interface BenchRun {
  result: BenchResult;
  /** The browser binary and where it was found. */
  browser: string;
  markdown: string;
  jsonPath: string;
  markdownPath: string;
  /** Every failed check, in words; empty when the run is good. */
  failures: string[];
}

function formatMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

function formatRate(m: Measurement | undefined, w: WorkloadResult): string {
  if (!m) return '–';
  const rate = `${m.rate.toPrecision(3)} ${w.unit}`;
  // A batch step trains every configuration once.
  if (w.configs === undefined || w.configs === 1) return rate;
  return `${rate} (${(m.rate * w.configs).toPrecision(3)} config-steps/s)`;
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
      'JS rate | nclab/JS | verified |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...result.workloads.map(tableRow),
    ...roofline(result),
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
  return lines.join('\n') + '\n';
}

/** GB/s rows as a fraction of the copy kernel's, measured in the same run. */
function roofline(result: BenchResult): string[] {
  const copy = result.workloads.find((w) => w.kind === 'copy')?.nclab;
  if (!copy) return [];
  const rows = result.workloads.filter(
    (w) => w.kind !== 'copy' && w.unit === 'GB/s' && w.nclab,
  );
  return [
    '',
    `Bandwidth: the copy kernel moves ${copy.rate.toPrecision(3)} GB/s ` +
      '(read + write) here. As a fraction of it: ' +
      rows
        .map(
          (w) =>
            `${w.name} ${((100 * w.nclab!.rate) / copy.rate).toFixed(1)} %`,
        )
        .join(', ') +
      ". (collapse metrics: the features' bytes per full metric set, " +
      'which makes several passes over them.)',
  ];
}

function collectFailures(result: BenchResult): string[] {
  return [
    ...result.workloads
      .filter((w) => !w.verified && !w.skipped)
      .map((w) => `${w.name}: ${w.problem ?? 'not verified'}`),
    ...result.problems,
  ];
}

/** One result from per-workload runs (same adapter, one device each). */
function mergeResults(parts: BenchResult[]): BenchResult {
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

/** Runs the benchmark page in a fresh browser and writes the result files. */
export async function runBench(
  options: RunBenchOptions = {},
): Promise<BenchRun> {
  const log = options.log ?? ((line: string) => console.error(line));
  const session = await openSession({ log });
  let result: BenchResult;
  let browser: string;
  try {
    const { found } = session.launched;
    browser = `${found.path} (from ${found.source})`;
    log(`[bench] browser ${browser}`);
    const page = await session.open('bench/index.html');
    page.on('console', (message) => {
      const text = message.text();
      if (message.type() === 'info' && text.startsWith('[bench]')) log(text);
    });
    await page.waitForFunction(() => window.nclabBench !== undefined);
    const quick = options.quick ?? false;
    const all = await page.evaluate(
      (q) => window.nclabBench!.workloads(q),
      quick,
    );
    const names = options.only
      ? all.filter((name) => options.only!.includes(name))
      : all;
    if (names.length === 0) {
      throw new Error(
        `no workload is named ${options.only!.map((n) => `"${n}"`).join(', ')}; ` +
          `the workloads are ${all.map((n) => `"${n}"`).join(', ')}`,
      );
    }
    // One page call per workload: each gets a fresh device, so no row
    // inherits another's compiled pipelines or pooled buffers.
    const parts: BenchResult[] = [];
    for (const [index, name] of names.entries()) {
      log(`[bench] (${index + 1}/${names.length}) ${name}`);
      const part = await page.evaluate(
        (benchOptions) => window.nclabBench!.run(benchOptions),
        { quick, repeats: options.repeats, only: [name] },
      );
      if (parts.length === 0) log(`[bench] adapter ${part.adapter.name}`);
      parts.push(part);
    }
    result = mergeResults(parts);
  } finally {
    await session.close();
  }

  const outDir = resolve(options.outDir ?? DEFAULT_RESULTS_DIR);
  await mkdir(outDir, { recursive: true });
  // ISO time without ':' and '.', which some file systems refuse.
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const jsonPath = join(outDir, `${stamp}.json`);
  const markdownPath = join(outDir, `${stamp}.md`);
  const markdown = formatMarkdown(result, browser);
  await writeFile(jsonPath, JSON.stringify({ browser, ...result }, null, 2));
  await writeFile(markdownPath, markdown);
  return {
    result,
    browser,
    markdown,
    jsonPath,
    markdownPath,
    failures: collectFailures(result),
  };
}

const USAGE =
  'usage: npx tsx bench/run.ts [--quick] [--only NAME]... [--out DIR]';

async function main(): Promise<number> {
  let values: {
    quick?: boolean;
    out?: string;
    only?: string[];
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean' },
        out: { type: 'string' },
        only: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }

  try {
    const run = await runBench({
      quick: values.quick,
      outDir: values.out,
      only: values.only,
    });
    console.log(run.markdown);
    console.error(`[bench] wrote ${run.jsonPath} and ${run.markdownPath}`);
    if (run.failures.length > 0) {
      console.error(`[bench] FAILED: ${run.failures.join('; ')}`);
      return 1;
    }
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`[bench] could not run the benchmark: ${message}`);
    return 1;
  }
}

// Run only as a script, so a test can import runBench without side effects.
if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  process.exitCode = await main();
}
