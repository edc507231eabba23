// The nclab command line.

import { createRequire } from 'node:module';

import { Command, Option } from 'commander';

import {
  ADAPTER_CHOICES,
  ADAPTER_HELP,
  parseAdapterChoice,
  type AdapterChoice,
} from '../gpu/adapters';
import { chooseAdapter } from '../host/adapterChoice';
import { setDefaultAdapter } from '../host/session';

import { bench, collectOption, type BenchCliOptions } from './bench';
import { browser } from './browser';
import { doctor } from './doctor';
import { metrics, type MetricsOptions } from './metrics';
import { exportResults, type ExportOptions } from './export';
import { merge, type MergeCliOptions } from './merge';
import { report, type ReportCommandOptions } from './report';
import { sweep, type SweepCommandOptions } from './sweep';
import { train, type TrainOptions } from './train';
import { tune, type TuneOptions } from './tune';

const HOST_HELP =
  'where the engine runs: browser (headless Chromium, the default) or ' +
  'node (Dawn in this process: a Vulkan GPU, else OpenGL ES; ' +
  '$NCLAB_NODE_BACKEND picks one backend)';

const { version } = createRequire(import.meta.url)('../../package.json') as {
  version: string;
};

const program = new Command()
  .name('nclab')
  .version(version)
  .description('WebGPU compute kernels for neural-collapse research')
  .addOption(
    new Option(
      '--adapter <kind>',
      'the WebGPU adapter: ' +
        ADAPTER_CHOICES.map((c) => `${c} (${ADAPTER_HELP[c]})`).join('; '),
    )
      .env('NCLAB_ADAPTER')
      .default('auto'),
  );

/** Commands that run the engine in a browser page, on one adapter. */
const ADAPTER_COMMANDS = new Set(['train', 'metrics', 'sweep', 'tune']);

/** --adapter, checked for every command (2 on a bad value). */
function adapterChoice(): AdapterChoice {
  const value = program.opts<{ adapter: string }>().adapter;
  try {
    return parseAdapterChoice(value);
  } catch (error) {
    const source = program.getOptionValueSource('adapter');
    const where = source === 'env' ? ' (from $NCLAB_ADAPTER)' : '';
    console.error(`nclab: ${(error as Error).message}${where}`);
    process.exit(2);
  }
}

// Before a command that runs the engine in the browser: settle the
// adapter (`auto` may measure both once) and say which it is.
program.hook('preAction', async (_program, action) => {
  const choice = adapterChoice();
  if (!ADAPTER_COMMANDS.has(action.name())) return;
  if (action.opts<{ host?: string }>().host === 'node') return;
  const chosen = await chooseAdapter(choice, {
    log: (line) => console.error(line),
  });
  setDefaultAdapter(chosen.kind);
  console.error(`[nclab] adapter: ${chosen.kind} (${chosen.why})`);
});

program
  .command('doctor')
  .description(
    'start each WebGPU adapter (core, compat; or the one --adapter names), ' +
      'report its features and limits, check one small kernel against the ' +
      'float64 reference and time a speed probe; with --adapter auto, ' +
      'remember the fastest for later commands',
  )
  .option('--json', 'print the report as JSON')
  .option('-v, --verbose', 'show every limit and forward page console errors')
  .action(async (options: { json?: boolean; verbose?: boolean }) => {
    process.exitCode = await doctor({ ...options, adapter: adapterChoice() });
  });

program
  .command('browser')
  .description(
    'print the Chrome/Chromium nclab will use ($CHROME_PATH, then ' +
      "puppeteer's cache, then the system)",
  )
  .option(
    '--install',
    "install Debian's chromium package when none is found (root only)",
  )
  .action(async (options: { install?: boolean }) => {
    process.exitCode = await browser(options);
  });

program
  .command('tune')
  .description(
    'measure matrix-product tiles and class-sum workgroup shapes on this ' +
      "machine's adapter and cache the fastest for later runs",
  )
  .option('--repeats <n>', 'timed runs per candidate (median)', '5')
  .option('--json', 'print the measurements as JSON')
  .option('-v, --verbose', 'forward page console errors')
  .action(async (options: TuneOptions) => {
    process.exitCode = await tune(options);
  });

program
  .command('bench')
  .description(
    'benchmark nclab next to plain JS and TensorFlow.js (WebGPU, WebGL) on ' +
      "this machine's adapter; prints a markdown table and writes it with " +
      'the JSON to the output directory',
  )
  .option('--quick', 'small shapes that take seconds (a smoke test)')
  .option(
    '--only <name>',
    'run only this workload (repeatable), e.g. "ufm training step"',
    collectOption,
  )
  .option(
    '--out <dir>',
    "where the results go (default: nclab's bench/results/)",
  )
  .action(async (options: BenchCliOptions) => {
    // auto: every adapter this machine offers, one table each.
    const choice = adapterChoice();
    const adapters = choice === 'auto' ? undefined : [choice];
    process.exitCode = await bench({ ...options, adapters });
  });

program
  .command('train')
  .description(
    'train the configurations of a JSON file (one, a list, or ' +
      '{ "configs": [...] }) and write trajectories and final states as JSON',
  )
  .argument('<file>', 'the configurations, as JSON')
  .option('-o, --out <file>', 'write the report here instead of stdout')
  .option('--host <browser|node>', HOST_HELP)
  .option('-v, --verbose', 'forward page console errors')
  .action(async (file: string, options: TrainOptions) => {
    process.exitCode = await train(file, options);
  });

program
  .command('metrics')
  .description(
    'measure the collapse metrics (NC1–NC4, CDNV, memorization, …) of a ' +
      'feature set saved with NumPy: features (N, d), labels (N,)',
  )
  .argument('<features.npy>', 'features, float32/64 of shape (N, d)')
  .requiredOption('--labels <file.npy>', 'labels trained on, integers (N,)')
  .option(
    '--true-labels <file.npy>',
    'clean labels (N,): adds the true grouping and memorization',
  )
  .option(
    '--classifier <file.npy>',
    'last-layer weights (K, d): adds NC3, NC4, accuracy',
  )
  .option('--bias <file.npy>', 'last-layer bias (K,)')
  .option(
    '--full-covariance',
    'also form the d×d Σ_W for the pinv cross-check (default when d ≤ 128)',
  )
  .option('-o, --out <file>', 'write the report here instead of stdout')
  .option('-v, --verbose', 'forward page console errors')
  .action(async (file: string, options: MetricsOptions) => {
    process.exitCode = await metrics(file, options);
  });

program
  .command('sweep')
  .description(
    'run a sweep (a spec file, or a preset: the default is the main job on ' +
      'Fashion-MNIST), appending one row per configuration to a JSONL ' +
      'results file; a rerun resumes where a stopped one left off',
  )
  .argument('[spec.json]', 'the sweep spec (see README: "Sweeps")')
  .option('--preset <name>', 'a named sweep instead of a file: default')
  .option('--scale <scale>', 'preset size: small (this machine) or full (GPU)')
  .option(
    '-o, --out <file.jsonl>',
    'results file (default results/<sweep name>.jsonl)',
  )
  .option(
    '--shard <i/n>',
    'run the i-th of n deterministic slices (0-based, e.g. a Kubernetes ' +
      'completion index); writes <out>.shard-i-of-n.jsonl',
  )
  .option('--max-batch <n>', 'most configurations per batch (default 256)')
  .option('--report', 'write the HTML report when the sweep is done')
  .option('-q, --quiet', 'no progress on stderr')
  .option('--json', 'print a summary as JSON on stdout')
  .option('--host <browser|node>', HOST_HELP)
  .option('-v, --verbose', 'forward page console errors')
  .action(async (file: string | undefined, options: SweepCommandOptions) => {
    process.exitCode = await sweep(file, options);
  });

program
  .command('report')
  .description(
    "write an HTML report with figures (SVG and PNG) and the paper's claims " +
      "as measured, from a sweep's results file",
  )
  .argument('<results.jsonl>', 'the results of `nclab sweep` or `nclab merge`')
  .option(
    '-o, --out <dir>',
    'report directory (default <results name>-report/ beside the file)',
  )
  .option('-q, --quiet', 'only errors on stderr')
  .option('--json', 'print what was written and the claims as JSON on stdout')
  .action(async (file: string, options: ReportCommandOptions) => {
    process.exitCode = await report(file, options);
  });

program
  .command('merge')
  .description(
    "combine the results files of a sweep's shards into one, ordered by " +
      'index, each configuration once (duplicates detected)',
  )
  .argument('<files...>', 'results files (JSONL) to merge')
  .requiredOption('-o, --out <file.jsonl>', 'the merged results file')
  .option(
    '--prefer <first>',
    'when two copies of a configuration differ, keep the first instead of failing',
  )
  .option('--allow-other-sweeps', 'merge rows of differently named sweeps')
  .option('-q, --quiet', 'only errors on stderr')
  .option('--json', 'print a summary as JSON on stdout')
  .action(async (files: string[], options: MergeCliOptions) => {
    process.exitCode = await merge(files, options);
  });

program
  .command('export')
  .description(
    'a results file as one flat table for pandas / polars: CSV or Parquet',
  )
  .argument('<results.jsonl>', 'the results file')
  .requiredOption(
    '-o, --out <file>',
    'the table: .csv or .parquet (the extension picks the format)',
  )
  .option('--format <csv|parquet>', 'the format, whatever the extension')
  .action(async (file: string, options: ExportOptions) => {
    process.exitCode = await exportResults(file, options);
  });

await program.parseAsync();
