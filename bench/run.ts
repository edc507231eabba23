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

import {
  ADAPTER_KINDS,
  parseAdapterChoice,
  type AdapterKind,
} from '../src/gpu/adapters';
import { openSession } from '../src/host/session';
import { collectFailures, formatMarkdown, mergeResults } from './report';
import { applyRoofline } from './roofline';
import { workloads, type BenchResult } from './workloads';

export { formatMarkdown };

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
  /** The adapter route the page runs on; core by default. */
  adapter?: AdapterKind;
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

/** Runs the benchmark page in a fresh browser and writes the result files. */
export async function runBench(
  options: RunBenchOptions = {},
): Promise<BenchRun> {
  const log = options.log ?? ((line: string) => console.error(line));
  const adapter = options.adapter ?? 'core';
  const session = await openSession({ log, adapter });
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
        {
          quick,
          repeats: options.repeats,
          only: [name],
          asked: options.only ?? [],
        },
      );
      if (parts.length === 0) {
        log(`[bench] adapter ${part.adapter.name}`);
        // Chromium hands out its core adapter when the OpenGL ES route fails:
        // that would measure the core adapter twice.
        if (adapter === 'compat' && part.adapter.featureLevel === 'core') {
          throw new Error(
            `the compat route gave the core adapter ${part.adapter.name}`,
          );
        }
      }
      parts.push(part);
    }
    result = mergeResults(parts);
    applyRoofline(result);
  } finally {
    await session.close();
  }

  const outDir = resolve(options.outDir ?? DEFAULT_RESULTS_DIR);
  await mkdir(outDir, { recursive: true });
  // ISO time without ':' and '.', which some file systems refuse.
  const stamp = `${result.startedAt.replace(/[:.]/g, '-')}-${adapter}`;
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
  'usage: npx tsx bench/run.ts [--quick] [--only NAME]... [--out DIR] ' +
  '[--adapter auto|core|compat]';

async function main(): Promise<number> {
  let values: {
    quick?: boolean;
    out?: string;
    only?: string[];
    adapter?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean' },
        out: { type: 'string' },
        only: { type: 'string', multiple: true },
        adapter: { type: 'string' },
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
  let adapters: AdapterKind[] | undefined;
  try {
    const choice = parseAdapterChoice(
      values.adapter ?? process.env.NCLAB_ADAPTER ?? 'auto',
    );
    // auto: every adapter this machine offers, one table each.
    adapters = choice === 'auto' ? undefined : [choice];
  } catch (error) {
    console.error(`[bench] ${(error as Error).message}`);
    return 2;
  }
  return benchCommand({ ...values, adapters });
}

const quoted = (names: readonly string[]) =>
  names.map((name) => `"${name}"`).join(', ');

export interface BenchCommandOptions {
  quick?: boolean;
  out?: string;
  only?: string[];
  /**
   * The adapters to measure, one run and table each; by default every
   * adapter route, skipping (with the reason) any but core that fails.
   */
  adapters?: readonly AdapterKind[];
}

/**
 * `npm run bench` and `nclab bench` after their arguments are parsed:
 * prints the table, returns the exit code (0 good, 1 a failed check or no
 * benchmark, 2 an unknown workload name, found before any browser starts).
 */
export async function benchCommand(
  options: BenchCommandOptions,
): Promise<number> {
  const known = workloads(options.quick ?? false).map((w) => w.name);
  const unknown = (options.only ?? []).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    console.error(
      `[bench] no workload is named ${quoted(unknown)}; the workloads ` +
        `are ${quoted(known)}`,
    );
    return 2;
  }
  let code = 0;
  for (const adapter of options.adapters ?? ADAPTER_KINDS) {
    console.error(`[bench] adapter route: ${adapter}`);
    try {
      const run = await runBench({
        quick: options.quick,
        outDir: options.out,
        only: options.only,
        adapter,
      });
      console.log(run.markdown);
      console.error(`[bench] wrote ${run.jsonPath} and ${run.markdownPath}`);
      if (run.failures.length > 0) {
        console.error(`[bench] FAILED: ${run.failures.join('; ')}`);
        code = 1;
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!options.adapters && adapter !== 'core') {
        console.error(`[bench] skipped the ${adapter} adapter: ${message}`);
        continue;
      }
      console.error(
        `[bench] could not run the benchmark on the ${adapter} adapter: ` +
          message,
      );
      code = 1;
    }
  }
  return code;
}

// Run only as a script, so a test can import runBench without side effects.
if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  process.exitCode = await main();
}
