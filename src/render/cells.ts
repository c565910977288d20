/**
 * Pictures of grid cells: where each still's thumbnail comes from, and one row
 * of cells drawn into a band of RGB pixels. Mosaics and deep-zoom pyramids are
 * both built band by band from these, so neither ever holds the whole image.
 */
import type { Atlas } from '../atlas/atlas.js';
import { stillPictures, type StillPictures } from '../atlas/stills.js';
import { AtlasError } from '../errors.js';
import { invalidArgument } from '../errors.js';

/** A grid to draw: which item sits in each cell, and the still id of each item. */
export interface GridPicture {
  cols: number;
  rows: number;
  /** Item index per cell (row-major, cols × rows), -1 for an empty cell. */
  cells: Int32Array;
  /** Still id of each item. */
  ids: Uint32Array;
}

/**
 * Where cell pictures come from: RGB (width × height × 3) of a still at a size, or null
 * (drawn black); `missing` counts the stills that could not be drawn. The atlas's own
 * stills are `stillPictures` (src/atlas/stills.ts); tests draw solid colours.
 */
export type CellImages = StillPictures;

/** Builds a GridPicture from a grid layout's (col, row) per item and its still ids. */
export function gridPicture(
  cols: number,
  rows: number,
  xy: ArrayLike<number>,
  ids: Uint32Array,
): GridPicture {
  const cells = new Int32Array(cols * rows).fill(-1);
  const n = ids.length;
  for (let i = 0; i < n; i++) {
    const c = Math.round(xy[2 * i]),
      r = Math.round(xy[2 * i + 1]);
    if (!(c >= 0 && c < cols && r >= 0 && r < rows)) {
      throw new AtlasError(
        'STATE',
        `grid item ${i} lies at (${xy[2 * i]}, ${xy[2 * i + 1]}), outside the ${cols}×${rows} grid`,
      );
    }
    if (cells[r * cols + c] >= 0)
      throw new AtlasError('STATE', `grid items ${cells[r * cols + c]} and ${i} share cell (${c}, ${r})`);
    cells[r * cols + c] = i;
  }
  return { cols, rows, cells, ids };
}

/** Cell pictures from an atlas's standardised stills; a missing or bad still is drawn black and counted. */
export async function atlasCellImages(atlas: Atlas): Promise<CellImages> {
  return stillPictures(atlas, await atlas.catalog.stills('ready'));
}

/** Parses `WxH` ("112x63") for a cell size, naming the option and value when it is not one. */
export function parseCellSize(text: string, name = '--cell'): { width: number; height: number } {
  const m = /^\s*(\d+)\s*[x×X]\s*(\d+)\s*$/.exec(text);
  const width = m ? Number(m[1]) : NaN,
    height = m ? Number(m[2]) : NaN;
  if (!m || width < 1 || height < 1 || width > 4096 || height > 4096) {
    throw invalidArgument(name, 'WxH with integers 1–4096 (e.g. 112x63)', text);
  }
  return { width, height };
}

/**
 * Draws grid row `row` into `band` (cols·cellW × cellH × 3, zeroed = black first),
 * fetching up to `concurrency` cell pictures at a time.
 */
export async function drawCellRow(
  grid: GridPicture,
  images: CellImages,
  row: number,
  cellW: number,
  cellH: number,
  band: Uint8Array,
  concurrency = 16,
): Promise<void> {
  band.fill(0);
  const stride = grid.cols * cellW * 3;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < grid.cols) {
      const col = next++;
      const item = grid.cells[row * grid.cols + col];
      if (item < 0) continue;
      const px = await images.get(grid.ids[item], cellW, cellH);
      if (!px) continue;
      const x0 = col * cellW * 3;
      for (let y = 0; y < cellH; y++)
        band.set(px.subarray(y * cellW * 3, (y + 1) * cellW * 3), y * stride + x0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, grid.cols) }, worker));
}
