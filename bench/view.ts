// The benchmark page for a visitor (npm run dev, then bench/index.html):
// pick quick or full and the workloads, run them on this browser's GPU, and
// read the same report `npm run bench` writes, drawn from its markdown,
// with the JSON and markdown to download. Nothing runs until Run is
// pressed, so bench/run.ts drives the same page unhindered.

import { applyRoofline } from './roofline';
import { formatMarkdown, mergeResults } from './report';
import { progressListeners } from './sampling';
import type { NclabBenchApi } from './page';
import type { BenchResult } from './workloads';
import { TUNING_STORAGE_KEY } from '../src/gpu/tuning';

/**
 * Keeps the auto-tuner row's choice in this browser (localStorage, keyed by
 * adapter), where the pages' runtimes look for it (src/gpu/tuning.ts).
 * Returns whether there was one to keep.
 */
function rememberTuning(result: BenchResult): boolean {
  const report = result.workloads.find((w) => w.tuning)?.tuning;
  if (!report) return false;
  try {
    const stored = localStorage.getItem(TUNING_STORAGE_KEY);
    const cache = stored ? (JSON.parse(stored) as Record<string, unknown>) : {};
    cache[report.key] = report;
    localStorage.setItem(TUNING_STORAGE_KEY, JSON.stringify(cache));
    return true;
  } catch {
    // Storage full, disabled or corrupt: the pages use the defaults.
    return false;
  }
}

function element<T extends HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`bench/index.html has no ${selector}`);
  return found;
}

/** `text` with **bold** and `code` spans, as DOM nodes (text stays text). */
function inline(text: string): Node[] {
  return text.split(/(\*\*[^*]+\*\*|`[^`]+`)/).map((part) => {
    if (part.startsWith('**') && part.endsWith('**') && part.length > 4) {
      const strong = document.createElement('strong');
      strong.textContent = part.slice(2, -2);
      return strong;
    }
    if (part.startsWith('`') && part.endsWith('`') && part.length > 2) {
      const code = document.createElement('code');
      code.textContent = part.slice(1, -1);
      return code;
    }
    return document.createTextNode(part);
  });
}

function withInline<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.append(...inline(text));
  return node;
}

/** A table row's cells; `\|` inside a cell is a literal bar. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

function table(lines: string[]): HTMLTableElement {
  const [header = '', alignment = '', ...rows] = lines;
  const right = cells(alignment).map((a) => a.endsWith(':'));
  const node = document.createElement('table');
  const head = node.createTHead().insertRow();
  for (const cell of cells(header)) head.append(withInline('th', cell));
  const body = node.createTBody();
  for (const line of rows) {
    const row = body.insertRow();
    cells(line).forEach((cell, index) => {
      const td = withInline('td', cell);
      if (right[index]) td.className = 'number';
      row.append(td);
    });
  }
  return node;
}

/**
 * The report's markdown as HTML: headings, lists, quotes, tables and
 * paragraphs, which is all formatMarkdown writes.
 */
export function renderMarkdown(markdown: string): Node[] {
  const blocks: Node[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length;) {
    const line = lines[i]!;
    const run = (prefix: string) => {
      const taken: string[] = [];
      while (i < lines.length && lines[i]!.startsWith(prefix)) {
        taken.push(lines[i]!);
        i += 1;
      }
      return taken;
    };
    if (line.startsWith('|')) {
      blocks.push(table(run('|')));
    } else if (line.startsWith('- ')) {
      const list = document.createElement('ul');
      for (const item of run('- '))
        list.append(withInline('li', item.slice(2)));
      blocks.push(list);
    } else if (line.startsWith('> ')) {
      blocks.push(withInline('blockquote', line.slice(2)));
      i += 1;
    } else if (line.startsWith('# ')) {
      blocks.push(withInline('h2', line.slice(2)));
      i += 1;
    } else {
      if (line.trim() !== '') blocks.push(withInline('p', line));
      i += 1;
    }
  }
  return blocks;
}

function download(name: string, text: string, type: string): HTMLAnchorElement {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = name;
  link.textContent = name;
  return link;
}

/** Wires bench/index.html's controls to the page API. */
export function startView(api: NclabBenchApi): void {
  const quick = element<HTMLInputElement>('#quick');
  const list = element<HTMLElement>('#workloads');
  const runButton = element<HTMLButtonElement>('#run');
  const status = element<HTMLElement>('#status');
  const report = element<HTMLElement>('#report');

  const showWorkloads = () => {
    const optIn = api.optIn(quick.checked);
    list.replaceChildren(
      ...api.workloads(quick.checked).map((name) => {
        const label = document.createElement('label');
        const box = document.createElement('input');
        box.type = 'checkbox';
        // Opt-in rows (hours on a CPU adapter) start unticked.
        box.checked = !(name in optIn);
        if (name in optIn) label.title = optIn[name]!;
        box.value = name;
        label.append(box, ` ${name}`);
        return label;
      }),
    );
  };
  quick.addEventListener('change', showWorkloads);
  showWorkloads();
  if (!('gpu' in navigator)) {
    status.textContent = 'This browser has no WebGPU (navigator.gpu).';
    runButton.disabled = true;
    return;
  }

  progressListeners.add((line) => (status.textContent = line));
  runButton.addEventListener('click', () => {
    const names = Array.from(
      list.querySelectorAll<HTMLInputElement>('input:checked'),
      (box) => box.value,
    );
    runButton.disabled = true;
    report.replaceChildren();
    void (async () => {
      try {
        // One call per workload, each on a fresh device, as bench/run.ts
        // does.
        const parts: BenchResult[] = [];
        for (const name of names) {
          // A ticked box asks for the row, opt-in rows included.
          parts.push(
            await api.run({ quick: quick.checked, only: [name], asked: names }),
          );
        }
        const result = mergeResults(parts);
        applyRoofline(result);
        const markdown = formatMarkdown(result, 'this browser');
        const stamp = result.startedAt.replace(/[:.]/g, '-');
        const links = document.createElement('p');
        links.append(
          'Download: ',
          download(`${stamp}.md`, markdown, 'text/markdown'),
          ' · ',
          download(
            `${stamp}.json`,
            JSON.stringify(result, null, 2),
            'application/json',
          ),
        );
        report.replaceChildren(...renderMarkdown(markdown), links);
        const tuned = rememberTuning(result);
        status.textContent =
          `Done: ${names.length} workloads.` +
          (tuned ? ' The tuning is kept for this GPU in this browser.' : '');
      } catch (error) {
        status.textContent = `Failed: ${
          error instanceof Error ? error.message : String(error)
        }`;
      } finally {
        runButton.disabled = false;
      }
    })();
  });
}
