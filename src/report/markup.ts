// HTML building blocks that escape everything they are given: the only way
// values from a results file (names, labels, configuration values) reach
// the report page.

/** Text as HTML character data or a quoted attribute value. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A cell: its text, and a class for styling (both escaped). */
export type Cell = string | number | null | { text: string; className: string };

function cell(c: Cell): string {
  if (c !== null && typeof c === 'object')
    return `<td class="${escapeHtml(c.className)}">${escapeHtml(c.text)}</td>`;
  return `<td>${escapeHtml(c)}</td>`;
}

/** A table whose every header and cell is escaped. */
export function htmlTable(
  headers: readonly string[],
  body: ReadonlyArray<readonly Cell[]>,
  className = '',
): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = body.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n');
  const cls = className ? ` class="${escapeHtml(className)}"` : '';
  return (
    `<table${cls}><thead><tr>${head}</tr></thead>\n` +
    `<tbody>\n${rows}\n</tbody></table>`
  );
}

/** A bulleted list of escaped items. */
export function htmlList(items: readonly unknown[], className = ''): string {
  const cls = className ? ` class="${escapeHtml(className)}"` : '';
  const lis = items.map((i) => `<li>${escapeHtml(i)}</li>`).join('\n');
  return `<ul${cls}>\n${lis}\n</ul>`;
}
