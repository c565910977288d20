/**
 * Rendering stage entries over an atlas: a stored layout in, pictures out.
 *
 * - `renderGridMosaic`: one PNG of a grid layout (each cell its still).
 * - `renderGridDeepZoom`: a DZI pyramid of a grid layout, for grids too big for one image.
 * - `renderLayoutPlot`: a scatter plot (PNG or SVG) of any layout, coloured by
 *   movie, a movie metadata field (director, year, cinematographer, or any
 *   attribute such as the sample's `family`) or clusters.
 */
import { join } from 'node:path';
import type { Atlas } from '../atlas/atlas.js';
import { readClusterLabels } from '../atlas/clusters.js';
import { movieLabel, type MovieRow } from '../catalog/catalog.js';
import { AtlasError } from '../errors.js';
import type { StageOptions } from '../types.js';
import { readLayout } from '../atlas/layouts.js';
import { atlasCellImages, gridPicture, type GridPicture } from './cells.js';
import { renderDeepZoom, type DeepZoomResult } from './deepzoom.js';
import { renderMosaic, type MosaicResult } from './mosaic.js';
import { renderPlot, type PlotResult } from './plot.js';

async function readGrid(atlas: Atlas, layout: string): Promise<GridPicture> {
  const l = readLayout(atlas, layout);
  if (l.manifest.kind !== 'grid' || !l.manifest.grid) {
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `layout '${layout}' is a ${l.manifest.kind} layout; mosaics and deep zoom need a grid layout`,
      {
        value: layout,
        suggestion: `make one with \`filmatlas grid --layout ${layout} --name ${layout}-grid\``,
      },
    );
  }
  return gridPicture(l.manifest.grid.cols, l.manifest.grid.rows, l.xy, l.ids);
}

export interface GridMosaicOptions extends StageOptions {
  layout: string;
  /** Output PNG path. */
  out: string;
  /** Cell size in px. Default 112×63. */
  cellWidth?: number;
  cellHeight?: number;
}

export async function renderGridMosaic(atlas: Atlas, options: GridMosaicOptions): Promise<MosaicResult> {
  const grid = await readGrid(atlas, options.layout);
  return renderMosaic(grid, await atlasCellImages(atlas), options.out, options);
}

export interface GridDeepZoomOptions extends StageOptions {
  layout: string;
  /**
   * Where to write: a directory (→ `<dir>/<layout>.dzi` and `<dir>/<layout>_files/`)
   * or a path ending in `.dzi`.
   */
  out: string;
  /** Cell size at full resolution. Default 224×126 (the standardised stills). */
  cellWidth?: number;
  cellHeight?: number;
  /** JPEG quality 1–100. Default 80. */
  quality?: number;
}

export async function renderGridDeepZoom(
  atlas: Atlas,
  options: GridDeepZoomOptions,
): Promise<DeepZoomResult> {
  const grid = await readGrid(atlas, options.layout);
  const base = options.out.toLowerCase().endsWith('.dzi')
    ? options.out.slice(0, -4)
    : join(options.out, options.layout);
  return renderDeepZoom(grid, await atlasCellImages(atlas), base, options);
}

/** Movie fields a plot can be coloured by (besides any attribute key). */
export const MOVIE_FIELDS = [
  'director',
  'year',
  'cinematographer',
  'productionDesign',
  'costumeDesign',
] as const;

/** The category of each still id for a plot colouring. */
export async function stillCategories(
  atlas: Atlas,
  ids: Uint32Array,
  colorBy: string,
  clusters?: string,
): Promise<(string | null)[]> {
  if (colorBy === 'cluster') {
    const c = readClusterLabels(atlas, clusters);
    if (!c) {
      throw new AtlasError(
        'NOT_FOUND',
        `this atlas has no clusters to colour by (looked in ${atlas.paths.clusters})`,
        {
          value: 'cluster',
          suggestion: `cluster the stills first, or colour by movie, ${MOVIE_FIELDS.join(', ')} or a movie attribute`,
        },
      );
    }
    return Array.from(ids, (id) => c.byStill.get(id) ?? null);
  }
  const movieOfStill = new Map<number, number>();
  for (const s of await atlas.catalog.stills('ready')) movieOfStill.set(s.id, s.movieId);
  const movies = new Map<number, MovieRow>((await atlas.catalog.movies()).map((m) => [m.id, m]));
  let field: (m: MovieRow) => string | null;
  if (colorBy === 'movie') field = (m) => movieLabel(m);
  else if ((MOVIE_FIELDS as readonly string[]).includes(colorBy)) {
    field = (m) => {
      const v = m[colorBy as (typeof MOVIE_FIELDS)[number]];
      return v === null || v === undefined || v === '' ? null : String(v);
    };
  } else {
    const keys = new Set<string>();
    for (const m of movies.values()) for (const k of Object.keys(m.attributes)) keys.add(k);
    if (!keys.has(colorBy)) {
      throw new AtlasError(
        'INVALID_ARGUMENT',
        `cannot colour by '${colorBy}': must be one of [movie, cluster, ${[...MOVIE_FIELDS, ...[...keys].sort()].join(', ')}]`,
        { value: colorBy },
      );
    }
    field = (m) => m.attributes[colorBy] ?? null;
  }
  return Array.from(ids, (id) => {
    const mid = movieOfStill.get(id);
    const m = mid === undefined ? undefined : movies.get(mid);
    return m ? field(m) : null;
  });
}

export interface LayoutPlotOptions {
  layout: string;
  /** Output path ending in .png or .svg. */
  out: string;
  /** movie | cluster | director | year | cinematographer | productionDesign | costumeDesign | an attribute. Default 'movie'. */
  colorBy?: string;
  /** Name of the clustering for colorBy 'cluster' (default: the only/first one). */
  clusters?: string;
  /** Categories in the legend before "other". Default 12; 1–12. */
  top?: number;
  width?: number;
  height?: number;
}

export async function renderLayoutPlot(atlas: Atlas, options: LayoutPlotOptions): Promise<PlotResult> {
  const l = readLayout(atlas, options.layout);
  const colorBy = options.colorBy ?? 'movie';
  const labels = await stillCategories(atlas, l.ids, colorBy, options.clusters);
  const xy = l.manifest.kind === 'grid' ? flipRows(l.xy) : l.xy;
  return renderPlot(xy, labels, options.out, {
    top: options.top,
    width: options.width,
    height: options.height,
    title: `${options.layout} (${l.manifest.method}, ${l.manifest.n} stills)`,
    legendTitle: colorBy,
  });
}

/** Grid rows count downwards; the plot's y axis upwards. */
function flipRows(xy: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(xy);
  for (let i = 1; i < out.length; i += 2) out[i] = -out[i];
  return out;
}
