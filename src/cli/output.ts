// Where a command writes its report: checked before any work, written
// atomically (a temporary file renamed into place) so that a killed or
// failed run never leaves a half-written report.

import { constants } from 'node:fs';
import { access, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Why `out` cannot take a report, or null. */
export async function outputProblem(out: string): Promise<string | null> {
  if (out.endsWith('/')) return 'it names a directory; give a file name';
  const path = resolve(out);
  const existing = await stat(path).catch(() => null);
  if (existing?.isDirectory()) return 'it is a directory; give a file name';
  const dir = dirname(path);
  const parent = await stat(dir).catch(() => null);
  if (!parent) return `the directory ${dir} does not exist`;
  if (!parent.isDirectory()) return `${dir} is not a directory`;
  try {
    await access(dir, constants.W_OK);
  } catch {
    return `the directory ${dir} is not writable`;
  }
  return null;
}

/** Writes `text` to `out` via `out.partial`; the error message, or null. */
export async function writeAtomically(
  out: string,
  content: string | Uint8Array,
): Promise<string | null> {
  const partial = `${out}.partial`;
  try {
    await writeFile(partial, content);
    await rename(partial, out);
    return null;
  } catch (error) {
    await rm(partial, { force: true });
    return (error as Error).message;
  }
}
