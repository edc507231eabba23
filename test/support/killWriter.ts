// Runs the appendRows writer in a child process and kills it with SIGKILL,
// checking the file after each kill, then lets a last run finish: the
// crash-safety test of the results store, with real kills.
//
// Kills alternate between two kinds of moment: a random time after a random
// number of small batches (wherever the writer happens to be: formatting,
// writing, in fsync, between batches), and the instant the file starts to
// grow under a large batch, inside its write. A small write is one quick
// copy that a kill rarely interrupts; a write of megabytes is cut mid-line.

import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import type { ResultsFile } from '../../src/sweep/store';

const SCRIPT = fileURLToPath(new URL('./appendRows.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface KillPlan {
  total: number;
  /** Bytes of padding per row (see syntheticRow). */
  padding: number;
  /** Kills attempted; fewer happen if a run finishes first. */
  kills: number;
  /** More kills inside a write, at most this many, while none has yet cut
   * a line (a write may end between the growth seen and the kill). */
  extraKills: number;
  /** Timed kills: after 0..maxBatches batches, then 0..maxDelayMs. */
  timed: { batch: number; maxBatches: number; maxDelayMs: number };
  /** Kills inside the first write of a batch this large. */
  inWrite: { batch: number };
  /** Reads and checks the file after each kill. */
  check: () => Promise<ResultsFile>;
}

export interface KillReport {
  kills: number;
  /** When each kill came, in words. */
  moments: string[];
  rowsAfterKill: number[];
  /** Kills that left a partial last line (a kill inside a write). */
  partialTails: number;
  /** Kills that left the writer's lock (all but a kill after close). */
  locksLeft: number;
  /** Restarts that found a killed writer's lock and removed it. */
  staleLocksRemoved: number;
}

function startWriter(
  path: string,
  total: number,
  batch: number,
  padding: number,
) {
  const args = [path, total, batch, padding].map(String);
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<string | null>((done) =>
    child.on('exit', (_, signal) => done(signal)),
  );
  /** Resolves true once `batches` batches are written, false if the run
   * ended first. */
  const written = (batches: number) =>
    new Promise<boolean>((done) => {
      const watch = () => {
        if (
          stdout.includes('ready\n') &&
          stdout.split('batch\n').length > batches
        )
          done(true);
        else if (child.exitCode !== null || child.signalCode !== null)
          done(false);
        else setTimeout(watch, 0.2);
      };
      watch();
    });
  return { written, exited, child, stderr: () => stderr };
}

export async function killRepeatedly(
  path: string,
  plan: KillPlan,
): Promise<KillReport> {
  const report: KillReport = {
    kills: 0,
    moments: [],
    rowsAfterKill: [],
    partialTails: 0,
    locksLeft: 0,
    staleLocksRemoved: 0,
  };
  const notes: string[] = [];
  for (let k = 0; k < plan.kills + plan.extraKills; k++) {
    if (k >= plan.kills && report.partialTails > 0) break;
    const inWrite = k % 2 === 1 || k >= plan.kills;
    const { timed } = plan;
    const batch = inWrite ? plan.inWrite.batch : timed.batch;
    const writer = startWriter(path, plan.total, batch, plan.padding);
    const batches = inWrite
      ? 0
      : Math.floor(Math.random() * (timed.maxBatches + 1));
    const delay = Math.round(Math.random() * timed.maxDelayMs * 10) / 10;
    if (await writer.written(batches)) {
      if (inWrite) waitForGrowth(path);
      else await new Promise((wake) => setTimeout(wake, delay));
      writer.child.kill('SIGKILL');
    }
    // Awaiting the exit lets Node reap the child, so its pid is dead (a
    // zombie would still answer kill(pid, 0) and keep its lock alive).
    const signal = await writer.exited;
    notes.push(writer.stderr());
    if (signal !== 'SIGKILL') break; // it finished before the kill

    const file = await plan.check();
    report.kills++;
    report.moments.push(
      inWrite
        ? `in a ${batch}-row write`
        : `${batches} × ${batch} rows + ${delay} ms`,
    );
    report.rowsAfterKill.push(file.rows.length);
    if (file.partialTail > 0) report.partialTails++;
    if (await exists(`${path}.lock`)) report.locksLeft++;
  }

  const last = startWriter(path, plan.total, plan.timed.batch, plan.padding);
  const signal = await last.exited;
  notes.push(last.stderr());
  if (signal !== null || last.child.exitCode !== 0)
    throw new Error(`the last writer failed: ${last.stderr()}`);
  report.staleLocksRemoved = notes.filter((text) =>
    text.includes('removed a lock left by a process that no longer runs'),
  ).length;
  return report;
}

/** Returns as soon as the file grows: the writer is inside a write (the
 * kernel extends the file as it copies). Polls synchronously: a timer
 * would let the write finish first. */
function waitForGrowth(path: string, limitMs = 5000) {
  const size = statSync(path).size;
  const deadline = performance.now() + limitMs;
  while (statSync(path).size === size && performance.now() < deadline);
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
