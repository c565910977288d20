/**
 * A mosaic PNG of a grid layout: each cell the still's thumbnail, empty cells
 * black. Built one row of cells at a time through a streaming PNG writer, so
 * memory is one band (width × cell height), whatever the grid.
 */
import { rmSync } from 'node:fs';
import { AtlasError, throwIfAborted } from '../errors.js';
import type { StageOptions } from '../types.js';
import { drawCellRow, type CellImages, type GridPicture } from './cells.js';
import { PngStreamWriter } from './png.js';

/**
 * Largest mosaic written as one PNG: sharp/libvips (and so `filmatlas` itself, and
 * most viewers) refuse to open images above 0x3FFF × 0x3FFF ≈ 268 Mpx by default.
 */
export const MOSAIC_MAX_PIXELS = 0x3fff * 0x3fff;

export interface MosaicOptions extends StageOptions {
  /** Cell width in px. Default 112; 1–4096. */
  cellWidth?: number;
  /** Cell height in px. Default 63; 1–4096. */
  cellHeight?: number;
  /** Refuse images with more pixels than this. Default MOSAIC_MAX_PIXELS (≈268 Mpx). */
  maxPixels?: number;
  /** zlib level 0–9. Default 6. */
  compression?: number;
}

export interface MosaicResult {
  path: string;
  width: number;
  height: number;
  cells: number;
  /** Stills drawn black because they could not be read. */
  missing: number;
  seconds: number;
}

export async function renderMosaic(
  grid: GridPicture,
  images: CellImages,
  path: string,
  options: MosaicOptions = {},
): Promise<MosaicResult> {
  const cellW = options.cellWidth ?? 112,
    cellH = options.cellHeight ?? 63;
  const width = grid.cols * cellW,
    height = grid.rows * cellH;
  const max = options.maxPixels ?? MOSAIC_MAX_PIXELS;
  if (width * height > max) {
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `a ${grid.cols}×${grid.rows} mosaic at ${cellW}x${cellH} px a cell would be ${width}×${height} px ` +
        `(${((width * height) / 1e6).toFixed(0)} Mpx), above the ${(max / 1e6).toFixed(0)} Mpx limit of one image`,
      {
        value: `${width}x${height}`,
        suggestion: 'render a deep-zoom pyramid instead (--deepzoom DIR), or use a smaller --cell',
      },
    );
  }
  const t0 = performance.now();
  const band = new Uint8Array(width * cellH * 3);
  const png = new PngStreamWriter(path, width, height, options.compression ?? 6);
  try {
    for (let row = 0; row < grid.rows; row++) {
      throwIfAborted(options.signal);
      await drawCellRow(grid, images, row, cellW, cellH, band);
      await png.writeRows(band, cellH);
      options.onProgress?.({ stage: 'render mosaic', done: row + 1, total: grid.rows });
    }
    await png.close();
  } catch (err) {
    png.destroy();
    rmSync(path, { force: true });
    throw err;
  }
  return {
    path,
    width,
    height,
    cells: grid.cols * grid.rows,
    missing: images.missing,
    seconds: (performance.now() - t0) / 1000,
  };
}
