// `nclab metrics FEATURES.npy --labels LABELS.npy [...]`: the collapse
// metrics of features that did not come from nclab. Every file is read and
// checked here first (exit 2 on any problem, nothing written); the checked
// arrays are then served to the page on 127.0.0.1 and measured on the GPU.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import {
  loadFeatures,
  type FeatureFiles,
  type LoadedFeatures,
} from '../data/features';
import { DATA_PREFIX } from '../host/server';
import { openSession } from '../host/session';
import type { MetricsReport } from '../metrics/run';
import { outputProblem, writeAtomically } from './output';

export interface MetricsOptions {
  labels: string;
  trueLabels?: string;
  classifier?: string;
  bias?: string;
  fullCovariance?: boolean;
  out?: string;
  verbose?: boolean;
}

const bytes = (a: ArrayBufferView) =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Returns the process exit code. */
export async function metrics(
  file: string,
  options: MetricsOptions,
): Promise<number> {
  const names: FeatureFiles<string> = {
    features: file,
    labels: options.labels,
    trueLabels: options.trueLabels,
    classifier: options.classifier,
    bias: options.bias,
  };
  let set: LoadedFeatures;
  try {
    const read = (path?: string) =>
      path === undefined
        ? Promise.resolve(undefined)
        : readFile(path).catch((error: NodeJS.ErrnoException) => {
            throw new Error(
              `${path}: cannot be read (${error.code ?? error.message})`,
            );
          });
    const [features, labels, trueLabels, classifier, bias] = await Promise.all(
      [file, names.labels, names.trueLabels, names.classifier, names.bias].map(
        read,
      ),
    );
    set = loadFeatures(
      { features: features!, labels: labels!, trueLabels, classifier, bias },
      names,
    );
  } catch (error) {
    console.error(`nclab metrics: ${(error as Error).message}`);
    return 2;
  }
  if (options.out) {
    const inputs = Object.values(names).filter(
      (p): p is string => typeof p === 'string',
    );
    const problem =
      (await outputProblem(options.out)) ??
      (inputs.some((p) => resolve(p) === resolve(options.out!))
        ? 'it is one of the input files'
        : null);
    if (problem) {
      console.error(
        `nclab metrics: cannot write --out ${options.out}: ${problem}`,
      );
      return 2;
    }
  }
  console.error(
    `[nclab] ${set.N} examples, d = ${set.d}, K = ${set.K}` +
      `${set.trueLabels ? ', with true labels' : ''}` +
      `${set.W ? ', with the classifier' : ''}: checked`,
  );

  const files = new Map<string, Uint8Array>([
    ['H', bytes(set.H)],
    ['labels', bytes(set.labels)],
  ]);
  if (set.trueLabels) files.set('trueLabels', bytes(set.trueLabels));
  if (set.W) files.set('W', bytes(set.W));
  if (set.b) files.set('b', bytes(set.b));
  const start = performance.now();
  const session = await openSession({
    log: options.verbose ? undefined : () => {},
    files,
  });
  let report: MetricsReport;
  try {
    const page = await session.open('index.html');
    await page.waitForFunction(() => window.nclab !== undefined);
    page.setDefaultTimeout(0);
    report = await page.evaluate((job) => window.nclab!.metrics(job), {
      K: set.K,
      d: set.d,
      N: set.N,
      trueLabels: set.trueLabels !== null,
      classifier: set.W !== null,
      fullCovariance: options.fullCovariance,
      prefix: DATA_PREFIX,
    });
  } catch (error) {
    console.error(`nclab metrics: ${(error as Error).message}`);
    return 1;
  } finally {
    await session.close();
  }

  const text = JSON.stringify({
    input: { ...names, K: set.K, d: set.d, N: set.N },
    conventions: {
      globalMean: 'sample-weighted',
      nc4: 'with the classifier bias',
      nullMeans: 'undefined here (e.g. NC1 with one class)',
    },
    ...report,
    wallMs: performance.now() - start,
  });
  if (options.out) {
    const failure = await writeAtomically(options.out, text);
    if (failure) {
      console.error(`nclab metrics: cannot write ${options.out}: ${failure}`);
      return 1;
    }
    console.error(`[nclab] wrote ${options.out}`);
  } else {
    console.log(text);
  }
  const o = report.metrics.observed;
  console.error(
    `[nclab] measured on ${report.adapter} in ` +
      `${(report.gpuMs / 1000).toFixed(1)} s: NC1 ${o.nc1 ?? 'n/a'}` +
      `${o.accuracy !== null ? `, accuracy ${o.accuracy}` : ''}`,
  );
  return 0;
}
