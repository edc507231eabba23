// Figures to files: a Vega-Lite spec compiled and rendered to SVG in Node
// (vega's headless 'none' renderer, no DOM), and the SVG rasterised to PNG
// by resvg with a font that is checked to actually draw text.

import { readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), {
    renderer: 'none',
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Prefixes the SVG's ids (vega's clip paths and gradients) and the
 * references to them, so that several figures inlined in one HTML page
 * cannot resolve each other's `url(#…)`.
 */
export function scopeSvgIds(svg: string, scope: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${scope}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${scope}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${scope}-$1"`);
}

/** The font set-up PNGs are drawn with, and whether it draws text. */
export interface PngFonts {
  options: ResvgRenderOptions;
  /** Whether a probe string rendered any ink with these options. */
  drawsText: boolean;
  /** What was used: "system fonts", a font file, or why none works. */
  source: string;
}

const PROBE =
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32">' +
  '<rect width="64" height="32" fill="white"/>' +
  '<text x="4" y="24" font-family="sans-serif" font-size="22px" ' +
  'fill="black">Ag</text></svg>';

/** Whether text in a plain sans-serif draws any dark pixel. */
export function drawsText(options: ResvgRenderOptions): boolean {
  const pixels = new Resvg(PROBE, options).render().pixels;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i]! < 128) return true;
  return false;
}

/** Where fonts usually live on Linux, macOS and Windows. */
export const FONT_DIRS = [
  '/usr/share/fonts',
  '/usr/local/share/fonts',
  join(homedir(), '.local/share/fonts'),
  join(homedir(), '.fonts'),
  '/Library/Fonts',
  '/System/Library/Fonts',
  'C:\\Windows\\Fonts',
];

/** Sans fonts whose metrics suit vega's layout, best first. */
const PREFERRED = [/DejaVuSans\.ttf$/, /LiberationSans-Regular/, /Arial/i];

async function fontFiles(dir: string, depth = 3): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory() && depth > 0)
      found.push(...(await fontFiles(path, depth - 1)));
    else if (/\.(ttf|otf)$/i.test(e.name)) found.push(path);
  }
  return found;
}

/**
 * resvg's own discovery of system fonts first; when that draws no text
 * (a system without fontconfig's usual directories), a font file found in
 * `dirs` is loaded by path instead. `fontFile` overrides both.
 */
export async function pngFonts(
  options: { fontFile?: string; systemFonts?: boolean; dirs?: string[] } = {},
): Promise<PngFonts> {
  if (options.fontFile) {
    const given = {
      font: { loadSystemFonts: false, fontFiles: [options.fontFile] },
    };
    return {
      options: given,
      drawsText: drawsText(given),
      source: options.fontFile,
    };
  }
  if (options.systemFonts ?? true) {
    const system = { font: { loadSystemFonts: true } };
    if (drawsText(system))
      return { options: system, drawsText: true, source: 'system fonts' };
  }
  const found = (
    await Promise.all((options.dirs ?? FONT_DIRS).map((d) => fontFiles(d)))
  ).flat();
  const rank = (path: string) => {
    const i = PREFERRED.findIndex((p) => p.test(path));
    return i < 0 ? PREFERRED.length : i;
  };
  const candidates = found.sort((a, b) => rank(a) - rank(b)).slice(0, 8);
  for (const file of candidates) {
    // The file's whole directory, so that its bold face comes along.
    const loaded = {
      font: { loadSystemFonts: false, fontDirs: [dirname(file)] },
    };
    if (drawsText(loaded))
      return { options: loaded, drawsText: true, source: file };
  }
  return {
    options: { font: { loadSystemFonts: false } },
    drawsText: false,
    source:
      'no usable font found, so the PNG figures have no text (the SVGs ' +
      'and the HTML do); on Debian, install fonts-dejavu-core',
  };
}

export function svgToPng(svg: string, fonts: PngFonts): Uint8Array {
  // Twice the SVG's size: crisp text on high-density screens and in print.
  const resvg = new Resvg(svg, {
    ...fonts.options,
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
  });
  return resvg.render().asPng();
}
