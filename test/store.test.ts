// The sweep results store: JSONL rows written crash-safely (a real SIGKILL
// mid-run loses only rows in flight), resumed by id, guarded by a lock,
// merged from shards with duplicate detection, exported to CSV and Parquet.

import { spawnSync } from 'node:child_process';
import {
  appendFile,
  mkdtemp,
  readFile,
  rm,
  stat,
  writeFile,
  utimes,
} from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';

import { exportResults } from '../src/cli/export';
import { merge } from '../src/cli/merge';
import { exportCsv, exportParquet } from '../src/sweep/export';
import { combineResults, mergeResults } from '../src/sweep/merge';
import { comparable, type ResultRow } from '../src/sweep/row';
import {
  formatRows,
  LOCK_STALE_MS,
  readResults,
  ResultsWriter,
} from '../src/sweep/store';
import { killRepeatedly } from './support/killWriter';
import { parseCsv } from './support/csv';
import { syntheticRow } from './support/resultRows';

let dir: string;
let fileCount = 0;
/** A fresh path in the test's directory. */
const fresh = (name = 'results.jsonl') => join(dir, `${fileCount++}-${name}`);
const rows = (from: number, to: number, sweep?: string) =>
  Array.from({ length: to - from }, (_, i) =>
    syntheticRow(from + i, { sweep }),
  );
const byIndex = (list: ResultRow[]) =>
  [...list].sort((p, q) => p.index - q.index).map(comparable);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nclab-store-'));
  vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterAll(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('ResultsWriter and readResults', () => {
  test('round trip: rows read back equal, lock released', async () => {
    const path = join(dir, 'new', 'nested', 'results.jsonl');
    const writer = await ResultsWriter.open(path);
    expect(await writer.append(rows(0, 6))).toEqual({
      written: 6,
      skipped: [],
    });
    await writer.append(rows(6, 10));
    expect(writer.doneCount).toBe(10);
    await writer.close();

    const file = await readResults(path);
    expect(file.rows).toEqual(rows(0, 10));
    expect(file.lines).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(file.partialTail).toBe(0);
    expect(file.duplicates).toEqual([]);
    await expect(stat(`${path}.lock`)).rejects.toThrow(/ENOENT/);
  });

  test('a rerun resumes: done ids known, never written twice', async () => {
    const path = fresh();
    const first = await ResultsWriter.open(path);
    await first.append(rows(0, 10));
    await first.close();

    const again = await ResultsWriter.open(path);
    expect(again.doneCount).toBe(10);
    expect(again.has(syntheticRow(3).id)).toBe(true);
    expect(again.has(syntheticRow(12).id)).toBe(false);
    const batch = [...rows(5, 15), syntheticRow(14)];
    const result = await again.append(batch);
    expect(result.written).toBe(5);
    expect(result.skipped).toEqual([
      ...rows(5, 10).map((r) => r.id),
      syntheticRow(14).id,
    ]);
    await again.close();

    const file = await readResults(path);
    expect(file.rows).toEqual(rows(0, 15));
    expect(file.duplicates).toEqual([]);
  });

  test('a partial last line is reported, cut off on open', async () => {
    const path = fresh();
    await writeFile(path, formatRows(rows(0, 4)));
    const complete = (await stat(path)).size;
    const half = JSON.stringify(syntheticRow(4)).slice(0, 57);
    await appendFile(path, half);

    const file = await readResults(path);
    expect(file.rows).toEqual(rows(0, 4));
    expect(file.partialTail).toBe(57);

    const writer = await ResultsWriter.open(path);
    expect(writer.repairedBytes).toBe(57);
    expect(writer.notes.join()).toMatch(/unfinished last line \(57 bytes\)/);
    expect((await stat(path)).size).toBe(complete);
    await writer.append(rows(4, 6));
    await writer.close();
    expect((await readResults(path)).rows).toEqual(rows(0, 6));
  });

  test('a batch cut at any byte: whole lines stay, rest reruns', async () => {
    const base = formatRows(rows(0, 3));
    const batch = rows(3, 6);
    batch[1]!.adapter = 'Apple M2 — “Metal”'; // multi-byte UTF-8 to cut
    const bytes = Buffer.from(formatRows(batch));
    const ends = [...bytes.keys()].filter((i) => bytes[i] === 0x0a);
    const cuts = [1, 2, bytes.indexOf('—') + 1, bytes.length - 1];
    for (const end of ends) cuts.push(end - 1, end, end + 1);
    for (const cut of cuts.filter((c) => c > 0 && c < bytes.length)) {
      const path = fresh();
      await writeFile(
        path,
        Buffer.concat([Buffer.from(base), bytes.subarray(0, cut)]),
      );
      const whole = ends.filter((end) => end < cut).length;
      const writer = await ResultsWriter.open(path);
      expect(writer.doneCount).toBe(3 + whole);
      expect(writer.repairedBytes).toBe(
        cut - (whole ? ends[whole - 1]! + 1 : 0),
      );
      expect((await writer.append(batch)).written).toBe(3 - whole);
      await writer.close();
      expect((await readResults(path)).rows).toEqual([...rows(0, 3), ...batch]);
    }
  });

  test('a corrupt line elsewhere is refused: file and line', async () => {
    const path = fresh();
    const lines = formatRows(rows(0, 4)).split('\n');
    lines[2] = lines[2]!.slice(0, 30);
    await writeFile(path, lines.join('\n'));
    await expect(readResults(path)).rejects.toThrow(
      `${path}:3: not valid JSON`,
    );
    await expect(ResultsWriter.open(path)).rejects.toThrow(`${path}:3:`);
    // The refused open released its lock.
    await expect(stat(`${path}.lock`)).rejects.toThrow(/ENOENT/);
  });

  test.each([
    ['schema', 2, /:2: schema is 2; this nclab reads 1/],
    ['id', 7, /:2: id is 7; it must be a non-empty string/],
    ['index', 1.5, /:2: index is 1.5; it must be an integer/],
    ['config', null, /:2: config must be an object/],
  ])('a row with a bad %s is refused', async (field, value, message) => {
    const path = fresh();
    const bad = { ...syntheticRow(1), [field]: value };
    await writeFile(path, formatRows([syntheticRow(0), bad]));
    await expect(readResults(path)).rejects.toThrow(message);
  });

  test('duplicate ids: listed when read, refused by the writer', async () => {
    const path = fresh();
    await writeFile(path, formatRows([...rows(0, 3), syntheticRow(1)]));
    const file = await readResults(path);
    expect(file.duplicates).toEqual([
      { id: syntheticRow(1).id, lines: [2, 4] },
    ]);
    await expect(ResultsWriter.open(path)).rejects.toThrow(
      /is on lines 2, 4 .*`nclab merge`/,
    );
  });

  test('rows of another sweep are refused unless allowed', async () => {
    const path = fresh();
    const writer = await ResultsWriter.open(path, { sweep: 'alpha' });
    await expect(writer.append(rows(0, 2, 'beta'))).rejects.toThrow(
      /refused row \w+ of sweep "beta"; this file holds sweep "alpha"/,
    );
    await writer.append(rows(0, 2, 'alpha'));
    await writer.close();
    await expect(ResultsWriter.open(path, { sweep: 'beta' })).rejects.toThrow(
      /holds rows of sweep "alpha", and this run writes "beta"/,
    );
    const mixed = await ResultsWriter.open(path, {
      sweep: 'beta',
      allowOtherSweeps: true,
    });
    expect((await mixed.append(rows(2, 3, 'beta'))).written).toBe(1);
    await mixed.close();
  });

  test('one writer per file; a dead lock is taken over', async () => {
    const path = fresh();
    const lock = `${path}.lock`;
    const writer = await ResultsWriter.open(path);
    await expect(ResultsWriter.open(path)).rejects.toThrow(
      `is being written by process ${process.pid} on ${hostname()} (this one)`,
    );
    await writer.close();

    const live = { pid: process.ppid, host: hostname() };
    await writeFile(lock, JSON.stringify(live));
    await expect(ResultsWriter.open(path)).rejects.toThrow(
      `process ${process.ppid} on ${hostname()} (its lock was refreshed 0 s ` +
        `ago; one not refreshed for ${LOCK_STALE_MS / 1000} s is taken ` +
        `over); wait for it to end, or if it no longer runs, delete ${lock}`,
    );
    const elsewhere = { pid: 1, host: 'another-host' };
    await writeFile(lock, JSON.stringify(elsewhere));
    await expect(ResultsWriter.open(path)).rejects.toThrow(/another-host/);
    // A lock nobody refreshed for LOCK_STALE_MS was left behind, on any
    // host (a Kubernetes pod rescheduled elsewhere resumes its shard).
    const old = new Date(Date.now() - LOCK_STALE_MS - 1000);
    await utimes(lock, old, old);
    const taken = await ResultsWriter.open(path);
    await taken.close();
    // A lock with this process's pid that it does not hold was left by an
    // earlier process with the same pid (a restarted container).
    await writeFile(
      lock,
      JSON.stringify({ pid: process.pid, host: hostname() }),
    );
    await (await ResultsWriter.open(path)).close();

    // A child that has exited (and been reaped) leaves its pid dead.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(lock, JSON.stringify({ pid: dead, host: hostname() }));
    const next = await ResultsWriter.open(path);
    expect(next.notes.join()).toMatch(/removed a lock left by a process/);
    expect(JSON.parse(await readFile(lock, 'utf8'))).toEqual({
      pid: process.pid,
      host: hostname(),
    });
    await next.close();
  });
});

describe('a writer killed with SIGKILL', () => {
  test('loses only rows in flight; a rerun completes the set', async () => {
    const path = fresh();
    const [total, padding] = [1600, 30_000];
    const rowText: string[] = [];
    const report = await killRepeatedly(path, {
      total,
      padding,
      kills: 8,
      extraKills: 8,
      timed: { batch: 25, maxBatches: 4, maxDelayMs: 10 },
      inWrite: { batch: 250 },
      check: async () => {
        // After each kill: every complete row valid and whole, none twice.
        const file = await readResults(path);
        expect(file.duplicates).toEqual([]);
        const expected = (index: number) =>
          (rowText[index] ??= JSON.stringify(
            syntheticRow(index, { sweep: 'kill-test', padding }),
          ));
        const wrong = file.rows.filter(
          (row) => JSON.stringify(row) !== expected(row.index),
        );
        expect(wrong).toEqual([]);
        return file;
      },
    });
    console.log(
      `[store] ${report.kills} kills (${report.moments.join('; ')}): ` +
        `rows after each ${report.rowsAfterKill.join(', ')}; ` +
        `${report.partialTails} cut a line, repaired on reopening`,
    );
    expect(report.kills).toBeGreaterThanOrEqual(5);
    // A kill never takes back a complete row: the counts only grow.
    const counts = report.rowsAfterKill;
    expect(counts).toEqual([...counts].sort((p, q) => p - q));
    // At least one kill landed inside a write and left half a line.
    expect(report.partialTails).toBeGreaterThan(0);
    // Every restart after a kill found the dead writer's lock and took it.
    expect(report.staleLocksRemoved).toBe(report.locksLeft);
    expect(report.locksLeft).toBeGreaterThan(0);

    const file = await readResults(path);
    expect(file.partialTail).toBe(0);
    expect(file.duplicates).toEqual([]);
    expect(file.rows.map((r) => r.index).sort((a, b) => a - b)).toEqual(
      Array.from({ length: total }, (_, i) => i),
    );
  });
});

describe('mergeResults', () => {
  async function shards() {
    const [a, b] = [fresh('a.jsonl'), fresh('b.jsonl')];
    const all = rows(0, 40);
    const retimed = (row: ResultRow) => ({
      ...row,
      timing: { ...row.timing, wallMs: row.timing.wallMs + 100 },
    });
    await writeFile(a, formatRows(all.filter((r) => r.index % 2 === 0)));
    // Shard b also reran two of shard a's configurations (other timings).
    const rerun = [all[4]!, all[10]!].map(retimed);
    await writeFile(
      b,
      formatRows([...all.filter((r) => r.index % 2 === 1), ...rerun]),
    );
    return { a, b, all };
  }

  test('two shards merge into the single file, copies counted', async () => {
    const { a, b, all } = await shards();
    const out = fresh('merged.jsonl');
    const report = await mergeResults([b, a], out);
    expect(report.rows).toBe(40);
    expect(report.identical).toBe(2);
    expect(report.sweeps).toEqual(['synthetic']);
    const merged = await readResults(out);
    expect(merged.rows.map(comparable)).toEqual(byIndex(all));
    expect(merged.rows.map((r) => r.index)).toEqual([...Array(40).keys()]);
  });

  test('differing copies refused, both named, unless first kept', async () => {
    const { a, b } = await shards();
    const changed = syntheticRow(6);
    changed.final.nc1 = 0.75;
    await appendFile(b, formatRows([changed]));
    await expect(combineResults([a, b])).rejects.toThrow(
      `id ${changed.id} is at ${a}:4 and at ${b}:23 with different final`,
    );
    const { report } = await combineResults([a, b], { prefer: 'first' });
    expect(report.conflicts).toEqual([
      { id: changed.id, kept: `${a}:4`, dropped: `${b}:23`, fields: ['final'] },
    ]);
  });

  test('mixed sweeps, partial tails and a live output', async () => {
    const { a } = await shards();
    const other = fresh();
    await writeFile(other, formatRows(rows(50, 52, 'other')) + '{"sch');
    await expect(combineResults([a, other])).rejects.toThrow(
      /several sweeps: "synthetic" \(.*:1\) and "other" \(.*:1\)/,
    );
    const { report } = await combineResults([a, other], {
      allowOtherSweeps: true,
    });
    expect(report.inputs[1]).toEqual({ path: other, rows: 2, partialTail: 5 });

    const busy = fresh();
    const writer = await ResultsWriter.open(busy);
    await expect(mergeResults([a], busy)).rejects.toThrow(
      `cannot write ${busy}: it is being written by process ${process.pid}`,
    );
    await writer.close();
  });

  test('nclab merge: exit 0, 2 on bad input; JSON report', async () => {
    const { a, b } = await shards();
    const out = fresh('cli.jsonl');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(await merge([a, b], { out, json: true })).toBe(0);
    expect(JSON.parse(log.mock.calls[0]![0] as string)).toMatchObject({
      rows: 40,
      identical: 2,
    });
    log.mockRestore();
    expect(await merge([a, join(dir, 'missing.jsonl')], { out })).toBe(2);
    expect(await merge([a], { out, prefer: 'last' })).toBe(2);
    expect(await merge([a], { out: `${dir}/` })).toBe(2);
  });
});

describe('export', () => {
  const hostile = () => {
    const row = syntheticRow(3);
    row.part = 'a,b';
    row.adapter = 'say "hi", twice\r\nthen go';
    row.loss = 'ls(0.1)\n';
    row.point = { 'noise.eta': row.eta, tag: 'x"y', nested: { a: [1, 2] } };
    return row;
  };

  test('CSV: one header, flat columns, RFC 4180 quoting, null empty', () => {
    const list = [syntheticRow(0), hostile(), syntheticRow(4)];
    const [header, ...lines] = parseCsv(exportCsv(list));
    expect(header!.slice(0, 12)).toEqual([
      ...['id', 'sweep', 'part', 'index', 'model', 'loss', 'eta'],
      ...['flipRate', 'coupling', 'gamma', 'divergedAtStep', 'deadClasses'],
    ]);
    expect(header).toContain('final.nc4');
    expect(header).toContain('timing.gpuMs');
    expect(header).toContain('point.nested');
    const cell = (line: number, name: string) =>
      lines[line]![header!.indexOf(name)];
    expect(cell(1, 'part')).toBe('a,b');
    expect(cell(1, 'adapter')).toBe('say "hi", twice\r\nthen go');
    expect(cell(1, 'loss')).toBe('ls(0.1)\n');
    expect(cell(1, 'point.tag')).toBe('x"y');
    expect(JSON.parse(cell(1, 'point.nested')!)).toEqual({ a: [1, 2] });
    expect(cell(0, 'point.tag')).toBe('');
    expect(cell(1, 'divergedAtStep')).toBe('43');
    expect(cell(0, 'coupling')).toBe('');
    expect(Number(cell(2, 'final.nc4'))).toBe(4e-7);
    expect(cell(0, 'deadClasses')).toBe('[1,3]');
  });

  test('Parquet: typed columns read back equal the rows', async () => {
    const big = syntheticRow(5);
    big.point = { ...big.point, seedOffset: 2 ** 40 };
    const list = [syntheticRow(0), hostile(), big];
    const bytes = exportParquet(list);
    const buffer = bytes.buffer.slice(
      bytes.byteOffset,
      bytes.byteOffset + bytes.byteLength,
    ) as ArrayBuffer;
    const types = Object.fromEntries(
      parquetMetadata(buffer).schema.map((e) => [e.name, e.type]),
    );
    expect(types).toMatchObject({
      id: 'BYTE_ARRAY',
      index: 'INT32',
      eta: 'DOUBLE',
      divergedAtStep: 'INT32',
      'final.loss': 'DOUBLE',
      'timing.batchSize': 'INT32',
      'point.model.d': 'INT32',
      'point.seedOffset': 'INT64',
    });

    const read = await parquetReadObjects({ file: buffer });
    expect(read).toHaveLength(3);
    list.forEach((row, i) => {
      const got = read[i]!;
      expect(got.id).toBe(row.id);
      expect(got.index).toBe(row.index);
      expect(got.part).toBe(row.part);
      expect(got.adapter).toBe(row.adapter);
      expect(got.eta).toBe(row.eta);
      expect(got.coupling).toBeNull();
      expect(got.divergedAtStep).toBe(row.divergedAtStep);
      expect(got['timing.gpuMs']).toBe(row.timing.gpuMs);
      expect(JSON.parse(got.deadClasses as string)).toEqual(row.deadClasses);
      for (const [key, value] of Object.entries(row.final))
        expect(got[`final.${key}`]).toBe(value);
    });
    expect(read[2]!['point.seedOffset']).toBe(2n ** 40n);
    expect(read[0]!['point.seedOffset']).toBeNull();
    expect(JSON.parse(read[1]!['point.nested'] as string)).toEqual({
      a: [1, 2],
    });
  });

  test('nclab export: format by extension or --format', async () => {
    const path = fresh();
    await writeFile(path, formatRows([syntheticRow(2), syntheticRow(1)]));
    const csv = fresh('table.csv');
    expect(await exportResults(path, { out: csv })).toBe(0);
    const [, first] = parseCsv(await readFile(csv, 'utf8'));
    expect(first![3]).toBe('1');
    const parquet = fresh('table.bin');
    expect(await exportResults(path, { out: parquet, format: 'parquet' })).toBe(
      0,
    );
    const head = (await readFile(parquet)).subarray(0, 4).toString();
    expect(head).toBe('PAR1');
    expect(await exportResults(path, { out: fresh('table.xlsx') })).toBe(2);
    await appendFile(path, formatRows([syntheticRow(1)]));
    expect(await exportResults(path, { out: fresh('dup.csv') })).toBe(2);
  });
});
