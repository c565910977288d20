/**
 * Scatter plots of a layout as SVG (written by hand, one <circle> a still,
 * grouped by colour) and PNG (that SVG rasterised by sharp/librsvg), coloured by
 * a category per still with a legend of the top N categories and "other".
 */
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import sharp from 'sharp';
import { invalidArgument } from '../errors.js';
import { bounds2d } from '../layout/quality.js';
import { checkInt } from '../validate.js';

/** 12 distinguishable colours (Tableau 10 plus two), then "other" in light grey. */
export const PLOT_PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#1f3b73',
  '#8cd17d',
] as const;
export const OTHER_COLOUR = '#d0d0d0';

export interface PlotOptions {
  /** Image width in px. Default 1600; 200–20000. */
  width?: number;
  /** Image height in px. Default 1200; 200–20000. */
  height?: number;
  /** Categories with their own colour (the rest are "other"). Default 12; 1–12. */
  top?: number;
  /** Point radius in px. Default: from the number of points (0.6–4). */
  radius?: number;
  /** Title drawn at the top left. */
  title?: string;
  /** Legend heading (e.g. "director"). */
  legendTitle?: string;
}

export interface PlotLegendEntry {
  label: string;
  colour: string;
  count: number;
}

export interface PlotResult {
  path: string;
  format: 'svg' | 'png';
  width: number;
  height: number;
  points: number;
  legend: PlotLegendEntry[];
}

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/**
 * The plot as SVG text. `xy` is n×2; `labels[i]` is the category of point i
 * (null: unknown, counted in "other").
 */
export function scatterSvg(
  xy: ArrayLike<number>,
  labels: readonly (string | null)[],
  options: PlotOptions = {},
): { svg: string; legend: PlotLegendEntry[] } {
  const n = labels.length;
  if (xy.length !== 2 * n)
    throw new RangeError(`expected ${2 * n} coordinates for ${n} labels, got ${xy.length}`);
  const width = options.width ?? 1600,
    height = options.height ?? 1200;
  const top = Math.max(1, Math.min(PLOT_PALETTE.length, options.top ?? PLOT_PALETTE.length));
  const counts = new Map<string, number>();
  for (const l of labels) if (l !== null) counts.set(l, (counts.get(l) ?? 0) + 1);
  const ranked = [...counts.entries()].sort(
    (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
  );
  const shown = ranked.slice(0, top);
  const colourOf = new Map(shown.map(([label], k) => [label, k]));
  const legend: PlotLegendEntry[] = shown.map(([label, count], k) => ({
    label,
    colour: PLOT_PALETTE[k],
    count,
  }));
  const otherCount = n - shown.reduce((s, [, c]) => s + c, 0);
  if (otherCount > 0) legend.push({ label: 'other', colour: OTHER_COLOUR, count: otherCount });

  // Plot area: margins, legend on the right; equal scale on both axes (a map keeps its aspect).
  const legendW = Math.min(320, Math.round(width * 0.28));
  const m = 24,
    titleH = options.title ? 32 : 0;
  const areaW = width - legendW - 2 * m,
    areaH = height - 2 * m - titleH;
  const { minX, minY, maxX, maxY } = bounds2d(xy, n);
  const spanX = maxX - minX || 1,
    spanY = maxY - minY || 1;
  const s = Math.min(areaW / spanX, areaH / spanY);
  const ox = m + (areaW - spanX * s) / 2,
    oy = m + titleH + (areaH - spanY * s) / 2;
  const r = options.radius ?? Math.max(0.6, Math.min(4, 600 / Math.sqrt(Math.max(1, n))));

  const groups: string[][] = Array.from({ length: shown.length + 1 }, () => []);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    const k = l === null ? shown.length : (colourOf.get(l) ?? shown.length);
    // y grows downwards in SVG; layouts have y up.
    const cx = ox + (xy[2 * i] - minX) * s,
      cy = oy + (maxY - xy[2 * i + 1]) * s;
    groups[k].push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${r.toFixed(2)}"/>`);
  }
  const parts: string[] = [];
  parts.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  if (options.title) {
    parts.push(
      `<text x="${m}" y="${m + 18}" font-family="sans-serif" font-size="20" fill="#222">${escapeXml(options.title)}</text>`,
    );
  }
  // "other" underneath, then the categories from the smallest up, so big ones do not hide small ones entirely.
  parts.push(`<g id="points" fill-opacity="0.8">`);
  parts.push(`<g fill="${OTHER_COLOUR}" data-label="other">${groups[shown.length].join('')}</g>`);
  for (let k = shown.length - 1; k >= 0; k--) {
    parts.push(
      `<g fill="${PLOT_PALETTE[k]}" data-label="${escapeXml(shown[k][0])}">${groups[k].join('')}</g>`,
    );
  }
  parts.push(`</g>`);
  const lx = width - legendW + 8;
  let ly = m + titleH + 8;
  parts.push(`<g id="legend" font-family="sans-serif" font-size="14" fill="#222">`);
  if (options.legendTitle) {
    parts.push(`<text x="${lx}" y="${ly + 12}" font-weight="bold">${escapeXml(options.legendTitle)}</text>`);
    ly += 24;
  }
  for (const e of legend) {
    const label = e.label.length > 32 ? e.label.slice(0, 31) + '…' : e.label;
    parts.push(`<rect x="${lx}" y="${ly}" width="14" height="14" fill="${e.colour}"/>`);
    parts.push(`<text x="${lx + 22}" y="${ly + 12}">${escapeXml(label)} (${e.count})</text>`);
    ly += 22;
  }
  parts.push(`</g>`);
  parts.push(`</svg>`);
  return { svg: parts.join('\n'), legend };
}

/** Writes the plot as `.svg` or `.png` (by the path's extension). */
export async function renderPlot(
  xy: ArrayLike<number>,
  labels: readonly (string | null)[],
  path: string,
  options: PlotOptions = {},
): Promise<PlotResult> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.svg' && ext !== '.png')
    throw invalidArgument('--plot', 'a file name ending in .png or .svg', path);
  for (const [name, v] of [
    ['width', options.width],
    ['height', options.height],
  ] as const) {
    checkInt(`plot ${name}`, v, 200, 20000);
  }
  const { svg, legend } = scatterSvg(xy, labels, options);
  const width = options.width ?? 1600,
    height = options.height ?? 1200;
  if (ext === '.svg') writeFileSync(path, svg);
  else await sharp(Buffer.from(svg), { limitInputPixels: false }).png().toFile(path);
  return { path, format: ext === '.svg' ? 'svg' : 'png', width, height, points: labels.length, legend };
}
