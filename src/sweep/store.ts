// A sweep's results file: one ResultRow per line (JSONL), appended in whole
// batches so that a run killed at any moment leaves at worst a partial last
// line, which the next open cuts off. The rows' ids are what a rerun skips.
//
// There is no header line: every row names its sweep, and a writer refuses
// rows of another sweep than the file's unless told otherwise. A row's id is
// the hash of its configuration, so a spec edited between runs reuses the
// configurations it still contains; rows of configurations it dropped stay in
// the file (the report selects by the spec's ids).

import {
  link,
  mkdir,
  open,
  readFile,
  rm,
  stat,
  utimes,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';

import { RESULT_SCHEMA_VERSION, type ResultRow } from './row';

export interface ResultsFile {
  path: string;
  /** Every complete row, in file order (duplicates included; blank lines,
   * which carry nothing, are skipped). */
  rows: ResultRow[];
  /** The 1-based line number of each row, parallel to `rows`. */
  lines: number[];
  /** Bytes after the last newline: a row a killed writer left unfinished. */
  partialTail: number;
  /** Ids found on more than one line, with those lines. A correct writer
   * never makes them; they come from files concatenated or edited by hand. */
  duplicates: { id: string; lines: number[] }[];
}

/** Why `value` is not a results row, or null. A light check of the fields
 * resume and merge depend on, not a validation of the science. */
export function rowProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'a row must be a JSON object';
  const row = value as Partial<Record<keyof ResultRow, unknown>>;
  if (row.schema !== RESULT_SCHEMA_VERSION)
    return (
      `schema is ${JSON.stringify(row.schema)}; ` +
      `this nclab reads ${RESULT_SCHEMA_VERSION}`
    );
  if (typeof row.id !== 'string' || row.id === '')
    return `id is ${JSON.stringify(row.id)}; it must be a non-empty string`;
  if (typeof row.sweep !== 'string')
    return `sweep is ${JSON.stringify(row.sweep)}; it must be a string`;
  if (!Number.isSafeInteger(row.index) || (row.index as number) < 0)
    return `index is ${JSON.stringify(row.index)}; it must be an integer ≥ 0`;
  const config = row.config;
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    return 'config must be an object';
  return null;
}

/** The rows as JSONL: one line each, every line ending in a newline (JSON
 * escapes the newlines inside strings). JSON has no NaN or Infinity: they
 * are written as null, like the metrics a row has none of. */
export function formatRows(rows: readonly ResultRow[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

const NEWLINE = 0x0a;

/** Reads a results file; throws on a corrupt or malformed complete line,
 * naming the file and the line. */
export async function readResults(path: string): Promise<ResultsFile> {
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${path}: cannot be read (${error.code ?? error.message})`);
  });
  return parseResults(path, bytes);
}

function parseResults(path: string, bytes: Buffer): ResultsFile {
  const file: ResultsFile = {
    path,
    rows: [],
    lines: [],
    partialTail: 0,
    duplicates: [],
  };
  const seen = new Map<string, number[]>();
  let start = 0;
  let line = 0;

  // Decoded one line at a time: a whole file as one string would hit V8's
  // string length limit (about 512 MiB) long before a Buffer's.
  while (start < bytes.length) {
    const end = bytes.indexOf(NEWLINE, start);
    if (end < 0) {
      file.partialTail = bytes.length - start;
      break;
    }
    line++;
    const text = bytes.toString('utf8', start, end);
    start = end + 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new Error(
        `${path}:${line}: not valid JSON (${(error as Error).message}); ` +
          'only the last line may be unfinished',
        { cause: error },
      );
    }
    const problem = rowProblem(value);
    if (problem) throw new Error(`${path}:${line}: ${problem}`);
    const row = value as ResultRow;
    file.rows.push(row);
    file.lines.push(line);
    const lines = seen.get(row.id);
    if (lines) lines.push(line);
    else seen.set(row.id, [line]);
  }

  for (const [id, lines] of seen) {
    if (lines.length > 1) file.duplicates.push({ id, lines });
  }
  return file;
}

export interface OpenOptions {
  /** The sweep this run writes; rows of any other are refused. Defaults to
   * the sweep of the rows already in the file, else of the first appended. */
  sweep?: string;
  /** Accept rows of several sweeps in one file. */
  allowOtherSweeps?: boolean;
}

export interface AppendResult {
  /** Rows written. */
  written: number;
  /** Ids not written because the file (or the batch) already had them. */
  skipped: string[];
}

/** The only writer of one results file at a time (a lock file beside it). */
export class ResultsWriter {
  /** What open found and repaired, for the caller to show. */
  readonly notes: string[] = [];
  /** Bytes of a partial last line cut off at open (0 if none). */
  repairedBytes = 0;
  private sweep: string | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** 'broken' after a failed write could not be undone: appends refused. */
  private state: 'open' | 'broken' | 'closed' = 'open';

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly lock: string,
    private readonly done: Set<string>,
    private size: number,
    private readonly allowOtherSweeps: boolean,
  ) {}

  /** Opens `path` for appending, creating it and its directory if needed.
   * Throws if another live process holds the file, if it is corrupt, holds
   * duplicates, or holds another sweep's rows. */
  static async open(
    path: string,
    options: OpenOptions = {},
  ): Promise<ResultsWriter> {
    await mkdir(dirname(resolve(path)), { recursive: true });
    const lock = `${path}.lock`;
    const notes = await takeLock(lock);
    let handle: FileHandle | undefined;
    try {
      const bytes = await readFile(path).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return null;
          throw new Error(`${path}: cannot be read (${error.code})`);
        },
      );
      const file = parseResults(path, bytes ?? Buffer.alloc(0));
      if (file.duplicates.length > 0) {
        const { id, lines } = file.duplicates[0]!;
        throw new Error(
          `${path}: id ${id} is on lines ${lines.join(', ')} ` +
            `(${file.duplicates.length} repeated ids in all); a results ` +
            'file holds each configuration once: `nclab merge` it into a ' +
            'new file first',
        );
      }
      const sweeps = [...new Set(file.rows.map((row) => row.sweep))];
      const sweep = options.sweep ?? sweeps[0];
      const other = sweeps.find((name) => name !== sweep);
      if (other !== undefined && !options.allowOtherSweeps) {
        throw new Error(
          `${path} holds rows of sweep "${other}", and this run writes ` +
            `"${sweep}"; write to another file, or set allowOtherSweeps`,
        );
      }

      const size = (bytes?.length ?? 0) - file.partialTail;
      handle = await open(path, 'a');
      const writer = new ResultsWriter(
        path,
        handle,
        lock,
        new Set(file.rows.map((row) => row.id)),
        size,
        options.allowOtherSweeps ?? false,
      );
      writer.sweep = sweep;
      writer.notes.push(...notes);
      // A live writer keeps its lock fresh; one that stops (killed, its
      // machine gone) leaves a lock others may take over once it is stale.
      writer.heartbeat = setInterval(() => {
        const now = new Date();
        utimes(lock, now, now).catch(() => {});
      }, LOCK_HEARTBEAT_MS);
      writer.heartbeat.unref();
      heldHere.add(resolve(lock));
      if (file.partialTail > 0) {
        await writer.truncateTo(size);
        writer.repairedBytes = file.partialTail;
        writer.notes.push(
          `${path}: cut off an unfinished last line (${file.partialTail} ` +
            'bytes) left by a run that was killed; its configuration reruns',
        );
      }
      if (bytes === null) await syncDirectory(path);
      return writer;
    } catch (error) {
      await handle?.close();
      await rm(lock, { force: true });
      throw error;
    }
  }

  has(id: string): boolean {
    return this.done.has(id);
  }

  get doneCount(): number {
    return this.done.size;
  }

  /** Appends the batch as one write of whole lines, then fsync: once this
   * resolves the rows survive a crash. Ids already done are skipped. */
  async append(rows: readonly ResultRow[]): Promise<AppendResult> {
    if (this.state !== 'open')
      throw new Error(`${this.path}: the writer is ${this.state}`);
    const fresh: ResultRow[] = [];
    const ids = new Set<string>();
    const skipped: string[] = [];
    for (const row of rows) {
      const problem = rowProblem(row);
      if (problem) throw new Error(`${this.path}: refused a row: ${problem}`);
      this.sweep ??= row.sweep;
      if (row.sweep !== this.sweep && !this.allowOtherSweeps) {
        throw new Error(
          `${this.path}: refused row ${row.id} of sweep "${row.sweep}"; ` +
            `this file holds sweep "${this.sweep}"`,
        );
      }
      if (this.done.has(row.id) || ids.has(row.id)) skipped.push(row.id);
      else {
        fresh.push(row);
        ids.add(row.id);
      }
    }
    if (fresh.length === 0) return { written: 0, skipped };

    const bytes = Buffer.from(formatRows(fresh));
    try {
      let offset = 0;
      while (offset < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, offset);
        offset += bytesWritten;
      }
      await this.handle.sync();
    } catch (error) {
      // A failed write (a full disk) may leave part of a line; cut it off
      // now, or the next batch would land after it and corrupt the middle.
      await this.truncateTo(this.size).catch(() => {
        this.state = 'broken';
      });
      throw new Error(
        `${this.path}: could not append ${fresh.length} rows ` +
          `(${(error as Error).message})`,
        { cause: error },
      );
    }
    this.size += bytes.length;
    for (const id of ids) this.done.add(id);
    return { written: fresh.length, skipped };
  }

  /** Closes the file and releases the lock. */
  /** Closes the file and removes the lock; every caller (a signal handler
   * racing the normal end) waits for the same, complete close. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async closeOnce(): Promise<void> {
    this.state = 'closed';
    clearInterval(this.heartbeat);
    try {
      await this.handle.close();
    } finally {
      await rm(this.lock, { force: true });
      heldHere.delete(resolve(this.lock));
    }
  }

  private async truncateTo(size: number): Promise<void> {
    await this.handle.truncate(size);
    await this.handle.sync();
  }
}

interface LockOwner {
  pid: number;
  host: string;
}

/** Creates `lock` holding this process's id; removes a lock left by a dead
 * process of this host. Returns notes on what it removed. */
async function takeLock(lock: string): Promise<string[]> {
  const owner: LockOwner = { pid: process.pid, host: hostname() };

  // Written aside, then hard-linked into place: link fails if the lock
  // exists, and the lock never exists without its owner written in it.
  const draft = `${lock}.${process.pid}`;
  await writeFile(draft, JSON.stringify(owner));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(draft, lock);
        return attempt === 0
          ? []
          : [`${lock}: removed a lock left by a process that no longer runs`];
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0)
          throw error;
      }
      const holder = await liveHolder(lock);
      if (holder) {
        throw new Error(
          `${lock.slice(0, -'.lock'.length)} is being written by ${holder}; ` +
            `wait for it to end, or if it no longer runs, delete ${lock}`,
        );
      }
      // LIMITATION: two runs that find the same stale lock at one instant
      // can both take it over; the lock guards against mistakes, not races.
      await rm(lock, { force: true });
    }
  } finally {
    await rm(draft, { force: true });
  }
}

/** Which live process writes the results file `path`, or null: for
 * commands that replace a file, which would orphan a writer's appends. */
export function writerOf(path: string): Promise<string | null> {
  return liveHolder(`${path}.lock`);
}

/** How often a writer refreshes its lock, and after how long without a
 * refresh a lock counts as left behind (from any host: a rescheduled
 * Kubernetes pod resumes its shard on another machine). */
export const LOCK_HEARTBEAT_MS = 20_000;
export const LOCK_STALE_MS = 120_000;

/** Locks this process holds: a lock with this pid and not in here was left
 * by an earlier process that had the same pid. */
const heldHere = new Set<string>();

/** The live process holding `lock`, in words; null when no lock exists,
 * when it was not refreshed for LOCK_STALE_MS, or when its process, on this
 * host, has died (or has this process's pid: a restarted container). */
async function liveHolder(lock: string): Promise<string | null> {
  const [text, info] = await Promise.all([
    readFile(lock, 'utf8').catch(() => null),
    stat(lock).catch(() => null),
  ]);
  if (text === null || info === null) return null;
  const age = Date.now() - info.mtimeMs;
  if (age > LOCK_STALE_MS) return null;
  const other = parseOwner(text);
  if (!other) return 'another process (its lock is unreadable)';
  const here = other.host === hostname();
  const mine = here && other.pid === process.pid;
  if (mine && heldHere.has(resolve(lock))) {
    return `process ${other.pid} on ${other.host} (this one)`;
  }
  if (here && (!isAlive(other.pid) || mine)) return null;
  return (
    `process ${other.pid} on ${other.host} (its lock was refreshed ` +
    `${Math.round(age / 1000)} s ago; one not refreshed for ` +
    `${LOCK_STALE_MS / 1000} s is taken over)`
  );
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    return Number.isSafeInteger(value.pid) && typeof value.host === 'string'
      ? (value as LockOwner)
      : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes a newly created file's directory entry durable (POSIX leaves it
 * to an fsync of the directory); platforms that refuse it lose nothing. */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(dirname(resolve(path)), 'r').catch(() => null);
  await dir?.sync().catch(() => {});
  await dir?.close();
}
