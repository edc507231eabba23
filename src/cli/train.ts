// `nclab train FILE`: trains the configurations in a JSON file in the
// browser page (or, with --host node, in this process on Dawn) and writes
// the report (trajectories and final states) as JSON to --out or stdout.
// Configurations are checked before the browser starts.

import { readFile } from 'node:fs/promises';

import { serveDatasets } from '../host/datasets';
import { openSession, type Session } from '../host/session';
import { parseHost, type HostKind } from '../host/sweepHost';
import { parseConfigurations } from '../train/config';
import type { TrainReport } from '../train/run';
import { outputProblem, writeAtomically } from './output';

export interface TrainOptions {
  out?: string;
  verbose?: boolean;
  /** browser (default) or node. */
  host?: string;
}

/** Progress lines as the CLI prints them. */
const progress = (line: string) => console.error(`[nclab] ${line}`);

async function trainInBrowser(
  input: unknown,
  files: ReadonlyMap<string, Uint8Array>,
  verbose: boolean,
  open: { session?: Session },
): Promise<TrainReport> {
  const session = await openSession({
    log: verbose ? undefined : () => {},
    files,
  });
  open.session = session;
  const page = await session.open('index.html');
  page.on('console', (message) => {
    const text = message.text();
    if (text.startsWith('[nclab:progress] ')) {
      progress(text.slice('[nclab:progress] '.length));
    }
  });
  await page.waitForFunction(() => window.nclab !== undefined);
  page.setDefaultTimeout(0); // long trainings are fine; progress shows
  return page.evaluate((value) => window.nclab!.train(value), input);
}

async function trainInNode(
  input: unknown,
  files: ReadonlyMap<string, Uint8Array>,
): Promise<TrainReport> {
  // Loaded only here: the browser route needs neither Dawn nor the kernels.
  const [{ nodeTrainingHost }, { runTraining }] = await Promise.all([
    import('../host/node'),
    import('../train/run'),
  ]);
  return runTraining(
    input,
    progress,
    nodeTrainingHost({
      files,
      onOpen: (node) => progress(`Node host on ${node.name}`),
    }),
  );
}

/** Returns the process exit code. */
export async function train(
  file: string,
  options: TrainOptions,
): Promise<number> {
  let input: unknown;
  try {
    input = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    console.error(
      `nclab train: cannot read ${file}: ${(error as Error).message}`,
    );
    return 2;
  }
  let host: HostKind;
  try {
    host = parseHost(options.host);
  } catch (error) {
    console.error(`nclab train: ${(error as Error).message}`);
    return 2;
  }
  // Data sets are read (and checked) here, before the browser starts.
  const files = new Map<string, Uint8Array>();
  try {
    const runs = parseConfigurations(input);
    const count = runs.length;
    console.error(
      `[nclab] ${count} configuration${count > 1 ? 's' : ''} valid`,
    );
    serveDatasets(
      runs.flatMap((r) => (r.model === 'graph' ? [r.data] : [])),
      files,
    );
  } catch (error) {
    console.error(`nclab train: ${file}: ${(error as Error).message}`);
    return 2;
  }

  if (options.out) {
    const problem = await outputProblem(options.out);
    if (problem) {
      console.error(
        `nclab train: cannot write --out ${options.out}: ${problem}`,
      );
      return 2;
    }
  }

  // Ctrl-C or a scheduler's SIGTERM: say that nothing was written (the
  // report is only written, atomically, at the end) and stop; registered
  // before the browser starts, so it speaks before puppeteer's own handler
  // closes the browser and exits.
  const open: { session?: Session } = {};
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`[nclab] ${signal}: stopping; no report written`);
    const code = signal === 'SIGINT' ? 130 : 143;
    void (open.session?.close() ?? Promise.resolve()).finally(() =>
      process.exit(code),
    );
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let report: TrainReport;
  try {
    report =
      host === 'node'
        ? await trainInNode(input, files)
        : await trainInBrowser(input, files, options.verbose ?? false, open);
  } catch (error) {
    console.error(`nclab train: ${(error as Error).message}`);
    return 1;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await open.session?.close();
  }

  const text = JSON.stringify(report);
  if (options.out) {
    const failure = await writeAtomically(options.out, text);
    if (failure) {
      console.error(`nclab train: cannot write ${options.out}: ${failure}`);
      return 1;
    }
    console.error(`[nclab] wrote ${options.out}`);
  } else {
    console.log(text);
  }
  const diverged = report.runs.filter((r) => r.divergedAtStep !== null).length;
  console.error(
    `[nclab] trained ${report.runs.length} configuration(s) on ${report.adapter} ` +
      `in ${(report.wallMs / 1000).toFixed(1)} s; ${diverged} diverged`,
  );
  return 0;
}
