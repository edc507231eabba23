// The sweep page (sweep.html): pick a preset or edit a spec, check it as it
// is typed, run it on this browser's GPU batch by batch, and watch the rows
// and the report's figures arrive; the rows download as the CLI's JSONL.

import packageJson from '../../package.json?raw';
import { adapterName, summarizeAdapter } from '../gpu/device';
import { InvalidArgumentError } from '../gpu/errors';
import { formatDuration } from '../report/rows';
import type { ResultRow } from '../sweep/row';
import { expandSweep, type ExpandedSweep } from '../sweep/spec';
import { FigureBoard } from './sweepFigures';
import { PAGE_PRESETS } from './sweepPresets';
import { hostOnlyItems, hostOnlyMessage, PageSweep } from './sweepRun';
import {
  element,
  problemLines,
  progressText,
  rowsBlob,
  showProblems,
  showRows,
  tableHeader,
} from './sweepView';

const version = (JSON.parse(packageJson) as { version: string }).version;

const ui = {
  gpu: element<HTMLParagraphElement>('#gpu'),
  preset: element<HTMLSelectElement>('#preset'),
  spec: element<HTMLTextAreaElement>('#spec'),
  summary: element<HTMLParagraphElement>('#summary'),
  problems: element<HTMLUListElement>('#problems'),
  run: element<HTMLButtonElement>('#run'),
  stop: element<HTMLButtonElement>('#stop'),
  download: element<HTMLButtonElement>('#download'),
  bar: element<HTMLProgressElement>('#bar'),
  progress: element<HTMLParagraphElement>('#progress'),
  message: element<HTMLParagraphElement>('#message'),
  rowCount: element<HTMLParagraphElement>('#row-count'),
  rows: element<HTMLTableElement>('#rows'),
};
const figures = new FigureBoard(element<HTMLDivElement>('#figures'));

let rows: ResultRow[] = [];
let rowsSweep = 'sweep';
let current: PageSweep | null = null;

type State = 'idle' | 'running' | 'stopping' | 'done' | 'stopped' | 'failed';

/** The page's state, also on <body data-state> for styling and tests. */
function setState(state: State): void {
  document.body.dataset.state = state;
  const busy = state === 'running' || state === 'stopping';
  ui.run.disabled = busy;
  ui.preset.disabled = busy;
  ui.spec.readOnly = busy;
  ui.stop.disabled = state !== 'running';
  ui.download.disabled = rows.length === 0;
}

function say(text: string, error = false): void {
  ui.message.textContent = text;
  ui.message.className = error ? 'error' : '';
}

/** Checks the editor's spec: the expanded sweep, or null with every
 * problem listed. */
function check(): ExpandedSweep | null {
  let input: unknown;
  try {
    input = JSON.parse(ui.spec.value);
  } catch (error) {
    ui.summary.textContent = '';
    showProblems(ui.problems, [`spec: not valid JSON: ${String(error)}`]);
    return null;
  }
  try {
    const sweep = expandSweep(input);
    const parts = new Set(sweep.items.map((item) => item.part)).size;
    const work = sweep.items.reduce((a, i) => a + i.run.config.steps, 0);
    ui.summary.textContent =
      `${sweep.name}: ${sweep.items.length} configurations in ${parts} ` +
      `part(s), ${work} configuration-steps`;
    const hostOnly = hostOnlyItems(sweep.items);
    showProblems(
      ui.problems,
      hostOnly.length ? [hostOnlyMessage(hostOnly)] : [],
    );
    return sweep;
  } catch (error) {
    ui.summary.textContent = '';
    const text = error instanceof Error ? error.message : String(error);
    showProblems(
      ui.problems,
      error instanceof InvalidArgumentError ? problemLines(text) : [text],
    );
    return null;
  }
}

async function run(): Promise<void> {
  const sweep = check();
  if (!sweep) {
    say('The spec has the problems listed above; fix them, then Run.', true);
    return;
  }
  const hostOnly = hostOnlyItems(sweep.items);
  if (hostOnly.length > 0) {
    say(hostOnlyMessage(hostOnly), true);
    return;
  }
  if (!('gpu' in navigator)) {
    say(noWebGpu, true);
    return;
  }
  rows = [];
  rowsSweep = sweep.name;
  figures.clear();
  showRows(ui.rows, ui.rowCount, rows);
  say('');
  setState('running');
  const started = performance.now();
  const sweepRun = new PageSweep(sweep, version, {
    onProgress: (p) => {
      ui.bar.value = p.workTotal > 0 ? p.work / p.workTotal : 0;
      ui.progress.textContent = progressText(p);
    },
    onRows: (batch) => {
      rows.push(...batch);
      showRows(ui.rows, ui.rowCount, rows);
      ui.download.disabled = false;
      figures.update(rows);
    },
  });
  current = sweepRun;
  let state: State;
  try {
    const result = await sweepRun.run();
    const took = formatDuration(performance.now() - started);
    say(
      result.stopped
        ? `Stopped: ${rows.length} of ${sweep.items.length} configurations ` +
            `trained in ${took}.`
        : `Done: ${rows.length} configurations in ${took}.`,
    );
    state = result.stopped ? 'stopped' : 'done';
  } catch (error) {
    say(
      `The sweep failed after ${rows.length} configurations (kept for ` +
        `download): ${error instanceof Error ? error.message : String(error)}`,
      true,
    );
    state = 'failed';
  } finally {
    current = null;
  }
  await figures
    .flush()
    .catch((error: unknown) => say(`Figures failed: ${String(error)}`, true));
  setState(state);
}

function download(): void {
  const url = URL.createObjectURL(rowsBlob(rows));
  const link = document.createElement('a');
  link.href = url;
  link.download = `${rowsSweep}.jsonl`;
  link.click();
  // Revoked later: the browser reads the blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const noWebGpu =
  'WebGPU is not available in this browser (no navigator.gpu), so sweeps ' +
  'cannot run here. Use a recent Chrome or Edge (on Linux, started with ' +
  '--enable-unsafe-webgpu), over https or http://127.0.0.1, or run the ' +
  'sweep with `npx nclab sweep`.';

/** Names the adapter up front, or says why there is none. */
async function describeGpu(): Promise<void> {
  const unavailable = (text: string) => {
    ui.gpu.textContent = text;
    ui.gpu.className = 'unavailable';
  };
  if (!('gpu' in navigator)) return unavailable(noWebGpu);
  const adapter = await navigator.gpu.requestAdapter().catch(() => null);
  if (!adapter) {
    return unavailable(
      'WebGPU is present but this browser offers no adapter (GPU blocked ' +
        'or missing), so sweeps cannot run here.',
    );
  }
  ui.gpu.textContent = `WebGPU adapter: ${adapterName(summarizeAdapter(adapter))}`;
}

function choosePreset(name: string): void {
  const preset = PAGE_PRESETS[name];
  if (!preset) return;
  ui.spec.value = JSON.stringify(preset.spec(), null, 2);
  check();
}

for (const [name, preset] of Object.entries(PAGE_PRESETS)) {
  ui.preset.append(new Option(preset.label, name));
}
ui.preset.addEventListener('change', () => choosePreset(ui.preset.value));

let typing: ReturnType<typeof setTimeout> | null = null;
ui.spec.addEventListener('input', () => {
  if (typing !== null) clearTimeout(typing);
  typing = setTimeout(check, 300);
});
ui.run.addEventListener('click', () => void run());
ui.stop.addEventListener('click', () => {
  current?.stop();
  setState('stopping');
  say('Stopping after the batch in flight…');
});
ui.download.addEventListener('click', download);

tableHeader(ui.rows);
choosePreset(ui.preset.value);
setState('idle');
void describeGpu();
