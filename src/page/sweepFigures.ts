// The report's figures (src/report/figures.ts) drawn live in the sweep
// page with vega's SVG renderer, redrawn as rows arrive. Redraws are
// throttled: compiling and laying out every figure costs the page's main
// thread, which also feeds the GPU.

import * as vega from 'vega';
import { compile } from 'vega-lite';

import { reportFigures } from '../report/figures';
import type { ResultRow } from '../sweep/row';

/** Least time between redraws; raised to 4× a slow redraw's own time. */
const MIN_INTERVAL_MS = 1500;

export class FigureBoard {
  private views: vega.View[] = [];
  private rows: readonly ResultRow[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private drawing: Promise<void> | null = null;
  private lastDraw = -Infinity;
  private interval = MIN_INTERVAL_MS;
  private generation = 0;

  constructor(private readonly container: HTMLElement) {}

  /** Draws these rows soon (at once if the last redraw is long past). */
  update(rows: readonly ResultRow[]): void {
    this.rows = rows;
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastDraw + this.interval - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.redraw().catch((error: unknown) =>
        console.error(`[nclab] figures: ${String(error)}`),
      );
    }, wait);
  }

  /** Draws the latest rows now and resolves when they are on the page. */
  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.drawing;
    await this.redraw();
  }

  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.generation += 1;
    this.views.forEach((view) => view.finalize());
    this.views = [];
    this.container.replaceChildren();
  }

  private async redraw(): Promise<void> {
    // One redraw at a time; a request during it draws the newer rows after.
    while (this.drawing) await this.drawing;
    const generation = this.generation;
    const started = Date.now();
    this.drawing = this.draw(this.rows, generation);
    try {
      await this.drawing;
    } finally {
      this.drawing = null;
      this.lastDraw = Date.now();
      this.interval = Math.max(MIN_INTERVAL_MS, 4 * (this.lastDraw - started));
    }
  }

  private async draw(rows: readonly ResultRow[], generation: number) {
    if (rows.length === 0) return;
    const figures = reportFigures(rows);
    const views: vega.View[] = [];
    const sections = figures.map((figure) => {
      const section = document.createElement('section');
      section.className = 'figure';
      section.dataset.figure = figure.name;
      const heading = document.createElement('h3');
      heading.textContent = figure.title;
      section.append(heading);
      const body = document.createElement('div');
      section.append(body);
      let view: vega.View | null = null;
      if (figure.spec) {
        try {
          view = new vega.View(vega.parse(compile(figure.spec).spec), {
            renderer: 'svg',
            container: body,
            hover: false,
          });
        } catch (error) {
          // One broken figure must not take the others (or the run) down.
          const failed = document.createElement('p');
          failed.className = 'error';
          failed.textContent = `This figure failed to draw: ${String(error)}`;
          body.append(failed);
        }
      }
      if (view) {
        views.push(view);
        const caption = document.createElement('p');
        caption.className = 'caption';
        caption.textContent = figure.caption;
        section.append(caption);
      } else if (!figure.spec) {
        const why = document.createElement('p');
        why.className = 'omitted';
        why.textContent = `Not drawn: ${figure.omitted ?? ''}`;
        body.append(why);
      }
      return section;
    });
    // Laid out off-screen first, then swapped in whole: no flicker.
    await Promise.all(views.map((view) => view.runAsync()));
    if (generation !== this.generation) {
      views.forEach((view) => view.finalize());
      return;
    }
    this.views.forEach((view) => view.finalize());
    this.views = views;
    this.container.replaceChildren(...sections);
  }
}
