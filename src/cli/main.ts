// The nclab command line.

import { createRequire } from 'node:module';

import { Command } from 'commander';

import { browser } from './browser';
import { doctor } from './doctor';
import { metrics, type MetricsOptions } from './metrics';
import { train } from './train';

const { version } = createRequire(import.meta.url)('../../package.json') as {
  version: string;
};

const program = new Command()
  .name('nclab')
  .version(version)
  .description('WebGPU compute kernels for neural-collapse research');

program
  .command('doctor')
  .description(
    'launch the browser, report the WebGPU adapter, features and limits, ' +
      'and check one small kernel against the float64 reference',
  )
  .option('--json', 'print the report as JSON')
  .option('-v, --verbose', 'show every limit and forward page console errors')
  .action(async (options: { json?: boolean; verbose?: boolean }) => {
    process.exitCode = await doctor(options);
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
  .command('train')
  .description(
    'train the configurations of a JSON file (one, a list, or ' +
      '{ "configs": [...] }) and write trajectories and final states as JSON',
  )
  .argument('<file>', 'the configurations, as JSON')
  .option('-o, --out <file>', 'write the report here instead of stdout')
  .option('-v, --verbose', 'forward page console errors')
  .action(
    async (file: string, options: { out?: string; verbose?: boolean }) => {
      process.exitCode = await train(file, options);
    },
  );

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

await program.parseAsync();
