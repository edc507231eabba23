// The report page: one self-contained HTML file (figures inlined as SVG, a
// stylesheet, no script, font or network fetch). Every value from the rows
// reaches the page through escapeHtml or a vega-rendered SVG.

import type { ResultRow } from '../sweep/row';
import type { Claim } from './claims';
import { allRowsTable, summaryTables } from './tables';
import { escapeHtml, htmlList, htmlTable } from './markup';
import type { Figure } from './spec';

export { escapeHtml };

/** A figure as drawn: the SVG text and the files written for it. */
export interface RenderedFigure extends Figure {
  svg: string | null;
  files: string[];
}

export interface ReportContent {
  title: string;
  /** The results file, as given. */
  source: string | null;
  generatedAt: string;
  rows: readonly ResultRow[];
  figures: readonly RenderedFigure[];
  claims: readonly Claim[];
  /** Remarks for the reader (fonts, skipped lines). */
  notes: readonly string[];
}

/** Elements that run code or fetch content, wherever they appear. */
const UNSAFE_ELEMENT = /<\s*(script|foreignObject|iframe|object|embed)\b/i;
/** Inside one tag, with quoted values blanked: an event handler. */
const HANDLER = /\son[a-z]+\s*=/i;
/** Inside one tag: a reference that leaves the page. */
const EXTERNAL = /\b(href|src)\s*=\s*["']?\s*(https?:|\/\/|javascript:)/i;

/**
 * Whether a figure's SVG holds anything that runs or fetches. Vega escapes
 * the text and attribute values it writes (so `<` never opens a tag in
 * them); this guards against a renderer that stops doing so.
 */
export function unsafeSvg(svg: string): boolean {
  if (UNSAFE_ELEMENT.test(svg)) return true;
  for (const [tag] of svg.matchAll(/<[^>]*>/g)) {
    if (EXTERNAL.test(tag)) return true;
    if (HANDLER.test(tag.replace(/"[^"]*"|'[^']*'/g, '""'))) return true;
  }
  return false;
}

function inlineSvg(figure: RenderedFigure): string {
  const svg = figure.svg!;
  if (!unsafeSvg(svg)) return svg;
  // An <img> never runs what its SVG holds: the safe way to show it anyway.
  const data = Buffer.from(svg).toString('base64');
  return `<img alt="${escapeHtml(figure.title)}" src="data:image/svg+xml;base64,${data}">`;
}

function figureSection(figure: RenderedFigure): string {
  if (figure.svg === null) {
    return (
      `<section class="figure omitted"><h3>${escapeHtml(figure.title)}</h3>` +
      `<p>Not drawn: ${escapeHtml(figure.omitted ?? 'no data')}</p></section>`
    );
  }
  const links = figure.files
    .map((f) => `<a href="${escapeHtml(f)}">${escapeHtml(f)}</a>`)
    .join(' · ');
  return (
    `<section class="figure" id="${escapeHtml(figure.name)}">` +
    `<h3>${escapeHtml(figure.title)}</h3>\n<figure>${inlineSvg(figure)}\n` +
    `<figcaption>${escapeHtml(figure.caption)}<br><small>${links}</small>` +
    `</figcaption></figure></section>`
  );
}

const VERDICT_CLASS = {
  holds: 'verdict yes',
  'does not hold': 'verdict no',
  'not measurable on this sweep': 'verdict na',
} as const;

function claimsSection(claims: readonly Claim[]): string {
  const body = claims.map((c) => [
    `(${c.id}) ${c.statement}`,
    { text: c.verdict, className: VERDICT_CLASS[c.verdict] },
    c.details.length ? `${c.reason} (${c.details.join('; ')})` : c.reason,
    c.test,
  ]);
  return htmlTable(
    ['claim', 'verdict', 'numbers', 'how it is tested'],
    body,
    'claims',
  );
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222;
  max-width: 1400px; }
h1 { font-size: 1.5rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.45rem; text-align: left;
  vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; }
table.claims td { max-width: 32rem; }
td.verdict.yes { background: #e3f4e1; } td.verdict.no { background: #fbe4e1; }
td.verdict.na { background: #f1f1f1; }
.rows { overflow-x: auto; } .rows table { font-size: 0.75rem; white-space: nowrap; }
figure { margin: 0; } figure svg, figure img { max-width: 100%; height: auto; }
figcaption { max-width: 60rem; font-size: 0.9rem; color: #444; }
.omitted p { color: #555; font-style: italic; }
.notes li { color: #7a4b00; }
`;

export function reportHtml(content: ReportContent): string {
  const { rows } = content;
  const notes = content.notes.length ? htmlList(content.notes, 'notes') : '';
  const source = content.source
    ? `from <code>${escapeHtml(content.source)}</code>, `
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(content.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(content.title)}</h1>
<p>${rows.length} configuration(s) ${source}report generated ${escapeHtml(content.generatedAt)}.</p>
${notes}
<h2>Summary</h2>
${summaryTables(rows)}
<h2>The paper’s claims (science.md §8)</h2>
<p>Computed from the rows below with the stated thresholds; a verdict says
what this sweep shows, not what the paper found.</p>
${claimsSection(content.claims)}
<h2>Figures</h2>
${content.figures.map(figureSection).join('\n')}
<h2>All configurations</h2>
<div class="rows">${allRowsTable(rows)}</div>
</body>
</html>
`;
}
