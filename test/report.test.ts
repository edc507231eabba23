// The sweep report on synthetic rows (no GPU): claims verdicts in cases
// whose answer is known, figures that render with their titles, PNGs that
// carry text, HTML that escapes hostile values, and the CLI's refusals.

import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Resvg } from '@resvg/resvg-js';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';

import { report } from '../src/cli/report';
import { buildReport } from '../src/report/build';
import {
  dilationGrowsWithMemorization,
  smoothingBeatsCrossEntropy,
  ufmMemorizesWithoutDilation,
} from '../src/report/claims';
import { reportFigures } from '../src/report/figures';
import { trajectoryFigure } from '../src/report/training';
import { escapeHtml, unsafeSvg } from '../src/report/html';
import { pngFonts, renderSvg, svgToPng } from '../src/report/render';
import { valueScale } from '../src/report/spec';
import { spearman } from '../src/report/stats';
import type { ResultRow } from '../src/sweep/row';
import {
  syntheticRow,
  syntheticScatter,
  syntheticSweep,
  syntheticTrajectory,
  type RowSpec,
} from './fixtures/report/rows';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nclab-report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const HOSTILE = `<script>alert("x")</script> & 'quoted' "double" <img src=x onerror=alert(1)>`;

describe('escapeHtml', () => {
  test('escapes the five HTML specials, & first', () => {
    expect(escapeHtml(`<a href="x">'&amp;'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;amp;&#39;&lt;/a&gt;',
    );
  });
  test('leaves no markup in hostile strings', () => {
    const escaped = escapeHtml(HOSTILE);
    expect(escaped).not.toMatch(/[<>"']/);
    expect(escaped).toContain('&lt;script&gt;');
  });
  test('turns non-strings into text', () => {
    expect(escapeHtml(null)).toBe('null');
    expect(escapeHtml(1.5)).toBe('1.5');
  });
});

describe('unsafeSvg', () => {
  test('finds scripts, handlers and external references, not text', () => {
    const ok =
      '<svg><text aria-label="a onload=b">x onclick=y &lt;script&gt;</text></svg>';
    expect(unsafeSvg(ok)).toBe(false);
    expect(unsafeSvg('<svg><script>x</script></svg>')).toBe(true);
    expect(unsafeSvg('<svg><g onload="x"></g></svg>')).toBe(true);
    expect(unsafeSvg('<svg><image href="https://a/b.png"/></svg>')).toBe(true);
  });
});

describe('spearman', () => {
  test('is ±1 for monotone data, ties averaged, null without spread', () => {
    expect(spearman([1, 2, 3, 4], [1, 4, 9, 16])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 1, 2, 3], [5, 5, 6, 7])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3], [2, 2, 2])).toBeNull();
  });
});

/** Rows of one model, differing only in loss and η, whose dilation
 * follows `dilation(memorization)`. */
function memorizationRows(
  model: 'md' | 'graph',
  dilation: (m: number) => number,
  n = 6,
): ResultRow[] {
  const losses = ['ce', 'ls(0.1)', 'mse'];
  return Array.from({ length: n }, (_, i) => {
    const m = 0.1 * (i + 1);
    return syntheticRow({
      model,
      loss: losses[i % 3],
      eta: 0.1 * (1 + Math.floor(i / 3)),
      final: { relativeMemorization: m, relativeDilation: dilation(m) },
    });
  });
}

describe('claim (a): dilation grows with memorization', () => {
  test('holds when dilation rises with memorization on md and graph', () => {
    const rows = [
      ...memorizationRows('md', (m) => m * m),
      ...memorizationRows('graph', (m) => 0.5 * m),
    ];
    const claim = dilationGrowsWithMemorization(rows);
    expect(claim.verdict).toBe('holds');
    expect(claim.numbers['md.medianSpearman']).toBeCloseTo(1, 12);
    expect(claim.numbers['md.groups']).toBe(1);
    expect(claim.numbers['graph.n']).toBe(6);
  });
  test('does not hold when one model dilates less as it memorizes more', () => {
    const rows = [
      ...memorizationRows('md', (m) => m),
      ...memorizationRows('graph', (m) => 1 - m),
    ];
    const claim = dilationGrowsWithMemorization(rows);
    expect(claim.verdict).toBe('does not hold');
    expect(claim.numbers['graph.medianSpearman']).toBeCloseTo(-1, 12);
  });
  test('compares only rows that differ in loss and η, not in λ or seed', () => {
    // Across λ memorization falls while dilation rises (the md model's
    // trade-off): pooled, ρ would be negative; within each λ it is +1.
    const rows = [0.3, 1].flatMap((coupling) =>
      memorizationRows('md', (m) => coupling * m).map((r) => ({
        ...r,
        coupling,
        config: { ...r.config, coupling },
        final: {
          ...r.final,
          relativeMemorization: r.final.relativeMemorization! / coupling,
        },
      })),
    );
    const claim = dilationGrowsWithMemorization(rows);
    expect(claim.numbers['md.groups']).toBe(2);
    expect(claim.numbers['md.medianSpearman']).toBeCloseTo(1, 12);
    expect(claim.verdict).toBe('holds');
  });
  test('is not measurable on too few, noiseless or diverged rows', () => {
    const few = memorizationRows('md', (m) => m, 3);
    const clean = memorizationRows('md', (m) => m).map((r) => ({
      ...r,
      eta: 0,
    }));
    const diverged = memorizationRows('graph', (m) => m).map((r) => ({
      ...r,
      divergedAtStep: 10,
    }));
    const claim = dilationGrowsWithMemorization([
      ...few,
      ...clean,
      ...diverged,
    ]);
    expect(claim.verdict).toBe('not measurable on this sweep');
    expect(claim.numbers['md.n']).toBe(3);
    expect(claim.numbers['graph.n']).toBe(0);
  });
});

/** An LS/CE pair agreeing on everything but the loss and final metrics. */
function pair(
  base: RowSpec,
  ls: RowSpec['final'],
  ce: RowSpec['final'],
): ResultRow[] {
  return [
    syntheticRow({ ...base, loss: 'ls(0.1)', final: ls }),
    syntheticRow({ ...base, loss: 'ce', final: ce }),
  ];
}

const better = {
  relativeMemorization: 0.2,
  relativeDilation: 0.1,
  testAccuracy: 0.9,
};
const worse = {
  relativeMemorization: 0.6,
  relativeDilation: 0.4,
  testAccuracy: 0.7,
};

describe('claim (b): LS(α) beats CE at equal η', () => {
  test('holds when LS is better in every matched pair', () => {
    const rows = [
      ...pair({ model: 'md', seed: 1 }, better, worse),
      ...pair({ model: 'graph', seed: 2 }, better, worse),
    ];
    const claim = smoothingBeatsCrossEntropy(rows);
    expect(claim.verdict).toBe('holds');
    expect(claim.numbers.pairs).toBe(2);
    expect(claim.numbers.allThree).toBe(1);
  });
  test('does not hold without a strict majority of pairs', () => {
    const rows = [
      ...pair({ model: 'md', seed: 1 }, better, worse),
      ...pair({ model: 'md', seed: 2 }, worse, better),
    ];
    const claim = smoothingBeatsCrossEntropy(rows);
    expect(claim.verdict).toBe('does not hold');
    expect(claim.numbers.allThree).toBe(0.5);
  });
  test('pairs only rows that differ in nothing but the loss', () => {
    const rows = [
      syntheticRow({ model: 'md', loss: 'ls(0.1)', seed: 1, final: better }),
      syntheticRow({ model: 'md', loss: 'ce', seed: 2, final: worse }),
      syntheticRow({
        model: 'md',
        loss: 'ls(0.1)',
        coupling: 1,
        final: better,
      }),
      syntheticRow({ model: 'md', loss: 'ce', coupling: 3, final: worse }),
      ...pair({ model: 'md', eta: 0 }, better, worse),
      ...pair({ model: 'ufm' }, better, worse),
    ];
    const claim = smoothingBeatsCrossEntropy(rows);
    expect(claim.verdict).toBe('not measurable on this sweep');
    expect(claim.numbers.pairs).toBe(0);
  });
});

describe('claim (c): the ufm memorizes without dilating', () => {
  const ufm = (mem: number, dil: number, seed: number) =>
    syntheticRow({
      model: 'ufm',
      seed,
      final: { relativeMemorization: mem, relativeDilation: dil },
    });
  test('holds when most ufm rows memorize and barely dilate', () => {
    const claim = ufmMemorizesWithoutDilation([
      ufm(0.95, 0.01, 1),
      ufm(0.9, 0.0, 2),
      ufm(0.1, 0.3, 3),
    ]);
    expect(claim.verdict).toBe('holds');
    expect(claim.numbers.rows).toBe(3);
  });
  test('does not hold when the ufm rows dilate', () => {
    const claim = ufmMemorizesWithoutDilation([
      ufm(0.95, 0.3, 1),
      ufm(0.9, 0.2, 2),
    ]);
    expect(claim.verdict).toBe('does not hold');
  });
  test('is not measurable without noisy, non-diverged ufm rows', () => {
    const rows = [
      syntheticRow({ model: 'md' }),
      syntheticRow({ model: 'ufm', eta: 0 }),
      { ...ufm(0.9, 0, 3), divergedAtStep: 5 },
    ];
    expect(ufmMemorizesWithoutDilation(rows).verdict).toBe(
      'not measurable on this sweep',
    );
  });
});

describe('figures', () => {
  const sweep = syntheticSweep();

  test('every figure of a full sweep renders to SVG with its title', async () => {
    const figures = reportFigures(sweep);
    expect(figures.map((f) => f.omitted)).toEqual(figures.map(() => null));
    for (const figure of figures) {
      const svg = await renderSvg(figure.spec!);
      expect(svg, figure.name).toMatch(/^<svg/);
      expect(svg, figure.name).toContain(escapeHtml(figure.title));
    }
  });

  test('a flat NC2 trajectory keeps zero on its axis, not float noise', async () => {
    // K = 2: the ETF distance is constant up to rounding along training.
    const flat = 0.16849678689051931;
    const trajectory = syntheticTrajectory(64, true).map((p, i) => ({
      ...p,
      collapse: p.collapse && {
        ...p.collapse,
        nc2: {
          equinormMeans: 0,
          equinormClassifier: null,
          equiangularity: 0,
          etfDistance: flat + (i % 2) * 2 ** -55,
        },
      },
    }));
    const figure = trajectoryFigure([
      syntheticRow({ model: 'ufm', trajectory }),
    ]);
    const svg = await renderSvg(figure.spec!);
    const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map(
      (m) => m[1]!,
    );
    const numbers = labels.filter((t) => /^[-−]?\d*\.?\d+$/.test(t));
    expect(numbers.length).toBeGreaterThan(0);
    for (const text of numbers) expect(text.length, text).toBeLessThan(8);
    expect(valueScale([flat, flat])).toEqual({ zero: true });
    expect(valueScale([0, 0])).toEqual({ domain: [0, 1] });
    expect(valueScale([flat, 2 * flat])).toEqual({ zero: false });
  });

  test('figures without data are left out with a reason', () => {
    const rows = [syntheticRow({ model: 'ufm', eta: 0 })];
    const figures = reportFigures(rows);
    for (const figure of figures) {
      expect(figure.spec, figure.name).toBeNull();
      expect(figure.omitted, figure.name).toMatch(/\w+.*\./);
    }
  });

  test('PNGs start with the signature and carry text', async () => {
    const fonts = await pngFonts();
    expect(
      fonts.drawsText,
      `no font draws text (${fonts.source}); on Debian install fonts-dejavu-core`,
    ).toBe(true);
    const figure = reportFigures(sweep)[0]!;
    const svg = await renderSvg(figure.spec!);
    const png = svgToPng(svg, fonts);
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(png.length).toBeGreaterThan(10_000);

    // The same figure without its text must differ in pixels: the font drew.
    const stripped = svg.replace(/<text[\s\S]*?<\/text>/g, '');
    const pixels = (s: string) =>
      new Resvg(s, { ...fonts.options, background: 'white' }).render().pixels;
    expect(Buffer.compare(pixels(svg), pixels(stripped))).not.toBe(0);
  });

  test('without system fonts, a font file found on disk is loaded', async () => {
    const found = await pngFonts({ systemFonts: false });
    expect(found.drawsText, found.source).toBe(true);
    expect(found.source).toMatch(/\.(ttf|otf)$/i);
  });

  test('the font probe tells a set-up without fonts', async () => {
    const none = await pngFonts({ systemFonts: false, dirs: [] });
    expect(none.drawsText).toBe(false);
    expect(none.source).toContain('fonts-dejavu-core');
  });
});

describe('buildReport', () => {
  test('writes a self-contained page whose values are all escaped', async () => {
    const rows = syntheticSweep().map((r, i) =>
      i % 7 === 0
        ? {
            ...r,
            sweep: HOSTILE,
            part: `part ${HOSTILE}`,
            adapter: `adapter ${HOSTILE}`,
            point: { [`key ${HOSTILE}`]: HOSTILE, nested: { v: HOSTILE } },
          }
        : r,
    );
    rows.push(syntheticRow({ model: 'md', loss: HOSTILE }));
    const out = join(dir, 'hostile');
    const result = await buildReport(rows, out, { source: `r ${HOSTILE}` });
    const html = await readFile(result.html, 'utf8');

    // Only the first offending piece in a failure, not the whole page.
    const first = (re: RegExp) => re.exec(html)?.[0] ?? null;
    expect(first(/<\s*(script|img|link|iframe|object|embed)\b/i)).toBeNull();
    expect(first(/@import|(src|href)\s*=\s*"(https?:)?\/\//i)).toBeNull();
    expect(unsafeSvg(html)).toBe(false);
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(html).toContain('<svg');
    for (const title of ['Dilation against memorization', 'Test accuracy'])
      expect(html).toContain(title);

    const png = await readFile(join(out, 'figures', 'accuracy-vs-eta.png'));
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(png.length).toBeGreaterThan(10_000);

    const files = await readdir(join(out, 'figures'));
    expect(files.sort()).toEqual(result.files.map((f) => f.slice(8)).sort());
    expect(files.some((f) => f.endsWith('.partial'))).toBe(false);
  });

  test('rows with nulls, divergences and no trajectories do not crash', async () => {
    const empty = Object.fromEntries(
      Object.keys(syntheticRow().final).map((k) => [k, null]),
    );
    const rows = [
      syntheticRow({ model: 'md', final: empty, diverged: 3 }),
      syntheticRow({ model: 'graph', final: empty }),
      syntheticRow({ model: 'ufm', eta: 0, final: empty }),
      syntheticRow({
        model: 'ufm',
        trajectory: syntheticTrajectory(8, true).map((p) => ({
          ...p,
          loss: null as unknown as number,
        })),
        scatter: { ...syntheticScatter(4), labels: [0] },
      }),
    ];
    // Over a full report: the figures these rows cannot draw must go.
    const out = join(dir, 'nulls');
    await buildReport(syntheticSweep(), out);
    const result = await buildReport(rows, out);
    const html = await readFile(result.html, 'utf8');
    expect(result.omitted.length).toBeGreaterThan(0);
    const left = await readdir(join(out, 'figures'));
    for (const { name } of result.omitted)
      expect(left.filter((f) => f.startsWith(`${name}.`))).toEqual([]);
    for (const { why } of result.omitted)
      expect(html).toContain(escapeHtml(why));
    expect(html).toContain('not measurable on this sweep');
  });
});

describe('nclab report', () => {
  const errors: string[] = [];
  beforeAll(() => {
    vi.spyOn(console, 'error').mockImplementation((m: string) => {
      errors.push(m);
    });
    vi.spyOn(console, 'log').mockImplementation(() => {});
  });
  afterAll(() => vi.restoreAllMocks());

  const lines = (rows: ResultRow[]) =>
    rows.map((r) => `${JSON.stringify(r)}\n`).join('');

  test('refuses a missing file (exit 2)', async () => {
    errors.length = 0;
    expect(await report(join(dir, 'absent.jsonl'), { quiet: true })).toBe(2);
    expect(errors.join('\n')).toMatch(/absent\.jsonl.*ENOENT/);
  });

  test('refuses an empty file (exit 2)', async () => {
    const file = join(dir, 'empty.jsonl');
    await writeFile(file, '');
    errors.length = 0;
    expect(await report(file, { quiet: true })).toBe(2);
    expect(errors.join('\n')).toMatch(/no complete result row/);
  });

  test('refuses a corrupt line in the middle, naming it (exit 2)', async () => {
    const file = join(dir, 'corrupt.jsonl');
    const [a, b] = [syntheticRow(), syntheticRow()];
    await writeFile(
      file,
      `${JSON.stringify(a)}\n{"schema": 1, "id\n${JSON.stringify(b)}\n`,
    );
    errors.length = 0;
    expect(await report(file, { quiet: true })).toBe(2);
    expect(errors.join('\n')).toContain('corrupt.jsonl:2');
  });

  test('skips a partial last line and writes beside the file', async () => {
    const file = join(dir, 'partial.jsonl');
    const rows = syntheticSweep().slice(0, 12);
    await writeFile(file, lines(rows) + JSON.stringify(rows[0]).slice(0, 40));
    expect(await report(file, { quiet: true, json: true })).toBe(0);
    const html = await readFile(
      join(dir, 'partial-report', 'report.html'),
      'utf8',
    );
    expect(html).toContain('unfinished last line');
  });

  test('refuses an output path that is a file (exit 2)', async () => {
    const file = join(dir, 'ok.jsonl');
    await writeFile(file, lines([syntheticRow()]));
    errors.length = 0;
    expect(await report(file, { quiet: true, out: file })).toBe(2);
    expect(errors.join('\n')).toMatch(/not a directory/);
  });
});
