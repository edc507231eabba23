// The tuner's results on this machine, one entry per adapter, in a JSON
// file: $NCLAB_CACHE_DIR/tuning.json, else $XDG_CACHE_HOME/nclab/, else
// ~/.cache/nclab/. `nclab tune` writes it; every session installs it in its
// pages (src/host/session.ts), so each new runtime uses its adapter's entry.

import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import type { TuningReport } from '../gpu/tuning';
import { writeAtomically } from '../cli/output';

export function tuningCachePath(env = process.env): string {
  const dir =
    env.NCLAB_CACHE_DIR ??
    join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nclab');
  return join(dir, 'tuning.json');
}

export type TuningCache = Record<string, TuningReport>;

/**
 * The cache's entries; empty when the file does not exist. A file that is
 * not a JSON object is reported through `warn` and treated as empty (the
 * next `nclab tune` replaces it): a broken cache costs speed, not results.
 */
export async function readTuningCache(
  path = tuningCachePath(),
  warn: (line: string) => void = (line) => console.error(line),
): Promise<TuningCache> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    warn(`[nclab] cannot read the tuning cache ${path}: ${String(error)}`);
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as TuningCache;
  } catch {
    // reported below
  }
  warn(
    `[nclab] ignoring the tuning cache ${path}: not a JSON object ` +
      `(run \`nclab tune\` to measure this adapter again)`,
  );
  return {};
}

/** Adds (or replaces) one adapter's entry; the error message, or null. */
export async function storeTuning(
  report: TuningReport,
  path = tuningCachePath(),
): Promise<string | null> {
  const cache = await readTuningCache(path, () => {});
  cache[report.key] = report;
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (error) {
    return (error as Error).message;
  }
  return writeAtomically(path, `${JSON.stringify(cache, null, 2)}\n`);
}
