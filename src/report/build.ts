// Builds a sweep's report directory: figures/NAME.svg and NAME.png for each
// figure with data, then report.html. Each file is written atomically and
// report.html last, so a report.html on disk always comes with its figures.

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { outputProblem, writeAtomically } from '../cli/output';
import type { ResultRow } from '../sweep/row';
import { evaluateClaims, type Claim } from './claims';
import { reportFigures } from './figures';
import { reportHtml, type RenderedFigure } from './html';
import { pngFonts, renderSvg, scopeSvgIds, svgToPng } from './render';

export interface ReportOptions {
  /** Page title; the sweep name(s) by default. */
  title?: string;
  /** The results file the rows came from, shown on the page. */
  source?: string;
  /** Remarks for the page (e.g. a skipped partial line). */
  notes?: string[];
  /** A .ttf/.otf for the PNGs instead of the system fonts. */
  fontFile?: string;
  /** Called once per file written (the CLI reports progress with it). */
  onWrite?: (path: string) => void;
}

export interface ReportResult {
  html: string;
  /** Files written under figures/, relative to the output directory. */
  files: string[];
  drawn: string[];
  omitted: Array<{ name: string; why: string }>;
  claims: Claim[];
  /** Where the PNGs' font came from, and whether it draws text. */
  pngFont: { source: string; drawsText: boolean };
}

export class ReportWriteError extends Error {
  override name = 'ReportWriteError';
}

async function write(
  path: string,
  content: string | Uint8Array,
  onWrite?: (path: string) => void,
) {
  const failure =
    typeof content === 'string'
      ? await writeAtomically(path, content)
      : await writeAtomically(path, content);
  if (failure) throw new ReportWriteError(`cannot write ${path}: ${failure}`);
  onWrite?.(path);
}

const defaultTitle = (rows: readonly ResultRow[]) => {
  const sweeps = [...new Set(rows.map((r) => r.sweep))].sort();
  return `nclab sweep report: ${sweeps.join(', ') || 'no sweep'}`;
};

/**
 * Writes outDir/report.html and outDir/figures/*. Throws ReportWriteError
 * when the directory cannot take them (nothing half-written is left).
 */
export async function buildReport(
  rows: readonly ResultRow[],
  outDir: string,
  options: ReportOptions = {},
): Promise<ReportResult> {
  const figuresDir = join(outDir, 'figures');
  try {
    await mkdir(figuresDir, { recursive: true });
  } catch (error) {
    throw new ReportWriteError(
      `cannot create ${figuresDir}: ${(error as Error).message}`,
    );
  }
  const htmlPath = join(outDir, 'report.html');
  const problem = await outputProblem(htmlPath);
  if (problem)
    throw new ReportWriteError(`cannot write ${htmlPath}: ${problem}`);

  const fonts = await pngFonts({ fontFile: options.fontFile });
  const notes = [...(options.notes ?? [])];
  if (!fonts.drawsText) notes.push(`PNG figures: ${fonts.source}.`);

  const figures: RenderedFigure[] = [];
  const files: string[] = [];
  for (const figure of reportFigures(rows)) {
    if (figure.spec === null) {
      // A figure an earlier report of this directory drew must not outlive
      // the data it came from.
      for (const ext of ['svg', 'png'])
        await rm(join(figuresDir, `${figure.name}.${ext}`), { force: true });
      figures.push({ ...figure, svg: null, files: [] });
      continue;
    }
    const svg = scopeSvgIds(await renderSvg(figure.spec), figure.name);
    const own = [`figures/${figure.name}.svg`, `figures/${figure.name}.png`];
    await write(join(outDir, own[0]!), svg, options.onWrite);
    await write(join(outDir, own[1]!), svgToPng(svg, fonts), options.onWrite);
    files.push(...own);
    figures.push({ ...figure, svg, files: own });
  }

  const claims = evaluateClaims(rows);
  const html = reportHtml({
    title: options.title ?? defaultTitle(rows),
    source: options.source ?? null,
    generatedAt: new Date().toISOString(),
    rows,
    figures,
    claims,
    notes,
  });
  await write(htmlPath, html, options.onWrite);

  return {
    html: htmlPath,
    files,
    drawn: figures.filter((f) => f.svg !== null).map((f) => f.name),
    omitted: figures.flatMap((f) =>
      f.svg === null ? [{ name: f.name, why: f.omitted ?? '' }] : [],
    ),
    claims,
    pngFont: { source: fonts.source, drawsText: fonts.drawsText },
  };
}
