// Which adapter the CLI runs on. `core` and `compat` are taken as asked;
// `auto` (the default) is the faster of the two on this machine: each is
// started once in its own browser, checked and timed by the doctor's speed
// probe (src/doctor.ts), and the outcome is cached per browser binary in
// adapters.json next to the tuning cache. `nclab doctor` measures again.

import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import type { DoctorReport } from '../doctor';
import {
  ADAPTER_KINDS,
  type AdapterChoice,
  type AdapterKind,
} from '../gpu/adapters';
import { writeAtomically } from '../cli/output';
import { findBrowser } from './browser';
import { openSession } from './session';
import { tuningCachePath } from './tuningCache';

/** One adapter as the survey found it: the doctor's report and more. */
export interface AdapterProbe {
  kind: AdapterKind;
  /** The browser binary and where it was found; 'none' if none started. */
  browser: string;
  report: DoctorReport;
}

/** Starts each adapter route in its own browser and runs the doctor. */
export async function surveyAdapters(
  kinds: readonly AdapterKind[] = ADAPTER_KINDS,
  log?: (line: string) => void,
): Promise<AdapterProbe[]> {
  const probes: AdapterProbe[] = [];
  for (const kind of kinds) {
    let browser = 'none';
    let report: DoctorReport;
    try {
      const session = await openSession({ adapter: kind, log });
      try {
        const { found } = session.launched;
        browser = `${found.path} (from ${found.source})`;
        const page = await session.open('index.html');
        await page.waitForFunction(() => window.nclab !== undefined);
        report = await page.evaluate(() => window.nclab!.doctor());
      } finally {
        await session.close();
      }
    } catch (error) {
      report = {
        ok: false,
        userAgent: '',
        problem: error instanceof Error ? error.message : String(error),
      };
    }
    if (
      kind === 'compat' &&
      report.ok &&
      report.adapter?.featureLevel !== 'compatibility'
    ) {
      // Chromium hands out its core adapter when the OpenGL ES route fails.
      report = {
        ...report,
        ok: false,
        problem:
          `the browser offered its core adapter ("${report.adapter?.name}") ` +
          `instead of a compatibility one`,
      };
    }
    probes.push({ kind, browser, report });
  }
  return probes;
}

/** The usable adapter with the shortest speed probe, or null. */
export function fastestAdapter(
  probes: readonly AdapterProbe[],
): AdapterProbe | null {
  let best: AdapterProbe | null = null;
  for (const probe of probes) {
    const ms = probe.report.speed?.ms;
    if (!probe.report.ok || ms === undefined) continue;
    if (!best || ms < best.report.speed!.ms) best = probe;
  }
  return best;
}

/** What `auto` remembers about one browser binary. */
interface CachedSurvey {
  browser: string;
  /** Size and modification time: a new browser is surveyed again. */
  stamp: string;
  measuredAt: string;
  chosen: AdapterKind;
  adapters: {
    kind: AdapterKind;
    name: string | null;
    speedMs: number | null;
    problem: string | null;
  }[];
}

export function adapterCachePath(
  env: Record<string, string | undefined> = process.env,
): string {
  return join(dirname(tuningCachePath(env)), 'adapters.json');
}

async function browserStamp(path: string): Promise<string> {
  const info = await stat(path);
  return `${info.size}|${info.mtimeMs}`;
}

async function readCache(path: string): Promise<Record<string, CachedSurvey>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, CachedSurvey>;
  } catch {
    // missing or broken: surveyed again and rewritten
  }
  return {};
}

/**
 * Records a survey for its browser; the problem in words, or null. Only a
 * survey with a usable adapter is kept.
 */
export async function cacheSurvey(
  probes: readonly AdapterProbe[],
  browserPath: string,
  path = adapterCachePath(),
): Promise<string | null> {
  const chosen = fastestAdapter(probes);
  if (!chosen) return null;
  const cache = await readCache(path);
  cache[browserPath] = {
    browser: browserPath,
    stamp: await browserStamp(browserPath),
    measuredAt: new Date().toISOString(),
    chosen: chosen.kind,
    adapters: probes.map((p) => ({
      kind: p.kind,
      name: p.report.adapter?.name ?? null,
      speedMs: p.report.speed?.ms ?? null,
      problem: p.report.ok ? null : (p.report.problem ?? 'not usable'),
    })),
  };
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (error) {
    return (error as Error).message;
  }
  return writeAtomically(path, `${JSON.stringify(cache, null, 2)}\n`);
}

/** How a survey compares the adapters, in words. */
export function describeSurvey(
  adapters: readonly { kind: string; speedMs: number | null }[],
  chosen: string,
): string {
  const best = adapters.find((a) => a.kind === chosen)?.speedMs;
  const others = adapters
    .filter((a) => a.kind !== chosen)
    .map((a) =>
      a.speedMs === null || !best
        ? `${a.kind} not usable`
        : `${(a.speedMs / best).toFixed(1)}× faster than ${a.kind}`,
    );
  return others.length > 0 ? others.join(', ') : 'the only one usable';
}

export interface ChosenAdapter {
  kind: AdapterKind;
  /** Why this one, for the line the CLI prints. */
  why: string;
}

/**
 * The adapter for `choice`: as asked, or for `auto` the cached survey's
 * fastest (surveying now when there is none for this browser). Without a
 * browser, or with no usable adapter, `auto` falls back to core, whose
 * session then reports what is wrong.
 */
export async function chooseAdapter(
  choice: AdapterChoice,
  options: {
    log?: (line: string) => void;
    /** Where the browser and the cache are looked up; process.env. */
    env?: Record<string, string | undefined>;
  } = {},
): Promise<ChosenAdapter> {
  if (choice !== 'auto') return { kind: choice, why: '--adapter' };
  const env = options.env ?? process.env;
  const path = adapterCachePath(env);
  let browserPath: string;
  try {
    browserPath = (await findBrowser({ env })).path;
  } catch {
    return { kind: 'core', why: 'auto: no browser found' };
  }
  const cached = (await readCache(path))[browserPath];
  const stamp = await browserStamp(browserPath).catch(() => '');
  if (cached && cached.stamp === stamp) {
    return {
      kind: cached.chosen,
      why:
        `auto: ${describeSurvey(cached.adapters, cached.chosen)} in the ` +
        `speed probe of ${cached.measuredAt.slice(0, 10)}, cached in ` +
        `${path}; \`nclab doctor\` measures again`,
    };
  }
  options.log?.('[nclab] measuring which adapter is faster here (once)');
  const probes = await surveyAdapters(ADAPTER_KINDS, () => {});
  const fastest = fastestAdapter(probes);
  if (!fastest) {
    return { kind: 'core', why: 'auto: no adapter passed the check' };
  }
  const problem = await cacheSurvey(probes, browserPath, path);
  if (problem) {
    options.log?.(`[nclab] could not cache the adapter survey: ${problem}`);
  }
  const adapters = probes.map((p) => ({
    kind: p.kind,
    speedMs: p.report.ok ? (p.report.speed?.ms ?? null) : null,
  }));
  return {
    kind: fastest.kind,
    why: `auto: ${describeSurvey(adapters, fastest.kind)} in the speed probe`,
  };
}
