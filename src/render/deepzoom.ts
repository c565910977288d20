/**
 * A Deep Zoom (DZI) pyramid of a grid, laid out as sharp's `.tile()` (libvips
 * dzsave) writes one: `<base>.dzi` and `<base>_files/<level>/<col>_<row>.jpeg`,
 * tile size 256, overlap 0, levels from the full image down to 1×1 (level count
 * ⌈log₂ max(w, h)⌉ + 1, level l being ⌈w / 2^(max−l)⌉ × ⌈h / 2^(max−l)⌉).
 *
 * The image is never whole in memory (132,617 cells at 224×126 is 60,256 × 62,118
 * px, 11 GB of RGB): the full-resolution level is drawn one row of cells at a
 * time into a strip one tile high; each full strip is cut into tiles and shrunk
 * 2×2 into the strip of the level below, and so on down the cascade. Memory is
 * about two full-width strips, whatever the grid.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { throwIfAborted } from '../errors.js';
import type { StageOptions } from '../types.js';
import { drawCellRow, type CellImages, type GridPicture } from './cells.js';

export const DZI_TILE_SIZE = 256;

export interface DeepZoomOptions extends StageOptions {
  /** Cell width in px at full resolution. Default 224 (a standardised still); 1–4096. */
  cellWidth?: number;
  /** Cell height in px at full resolution. Default 126; 1–4096. */
  cellHeight?: number;
  /** JPEG quality of the tiles, 1–100. Default 80 (sharp's). */
  quality?: number;
  /** Tile encodes in flight. Default 8. */
  concurrency?: number;
}

export interface DeepZoomResult {
  dzi: string;
  tilesDir: string;
  width: number;
  height: number;
  levels: number;
  tiles: number;
  missing: number;
  seconds: number;
}

/** Number of pyramid levels for an image (DZI: down to 1×1). */
export function dziLevels(width: number, height: number): number {
  return Math.ceil(Math.log2(Math.max(width, height, 1))) + 1;
}

/** Size of level `level` of a `levels`-level pyramid of a width × height image. */
export function dziLevelSize(
  width: number,
  height: number,
  level: number,
  levels: number,
): { width: number; height: number } {
  const f = 2 ** (levels - 1 - level);
  return { width: Math.ceil(width / f), height: Math.ceil(height / f) };
}

/** The `.dzi` descriptor, byte for byte as libvips writes it. */
export function dziXml(
  width: number,
  height: number,
  tileSize = DZI_TILE_SIZE,
  overlap = 0,
  format = 'jpeg',
): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<Image xmlns="http://schemas.microsoft.com/deepzoom/2008"\n' +
    `  Format="${format}"\n` +
    `  Overlap="${overlap}"\n` +
    `  TileSize="${tileSize}"\n` +
    '  >\n' +
    '  <Size \n' +
    `    Height="${height}"\n` +
    `    Width="${width}"\n` +
    '  />\n' +
    '</Image>\n'
  );
}

/** Bounded pool of async tile writes. */
class WritePool {
  private inFlight = new Set<Promise<void>>();
  private error: unknown = null;
  constructor(private readonly limit: number) {}
  async add(job: () => Promise<void>): Promise<void> {
    if (this.error) throw this.error;
    while (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
    const p: Promise<void> = job()
      .catch((e) => {
        this.error ??= e;
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.error) throw this.error;
  }
}

/** One level of the cascade: collects rows into a one-tile-high strip, cuts tiles, feeds the level below. */
class Level {
  private readonly strip: Uint8Array;
  private filled = 0;
  private tileRow = 0;
  private received = 0;

  constructor(
    readonly level: number,
    readonly width: number,
    readonly height: number,
    private readonly dir: string,
    private readonly next: Level | null,
    private readonly pool: WritePool,
    private readonly quality: number,
    private readonly onTile: () => void,
  ) {
    this.strip = new Uint8Array(width * DZI_TILE_SIZE * 3);
    mkdirSync(dir, { recursive: true });
  }

  /** Appends `count` rows of this level's width (RGB). */
  async push(rows: Uint8Array, count: number): Promise<void> {
    const stride = this.width * 3;
    let r = 0;
    while (r < count) {
      const take = Math.min(count - r, DZI_TILE_SIZE - this.filled);
      this.strip.set(rows.subarray(r * stride, (r + take) * stride), this.filled * stride);
      this.filled += take;
      this.received += take;
      r += take;
      if (this.filled === DZI_TILE_SIZE || this.received === this.height) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    const h = this.filled;
    const stride = this.width * 3;
    const tilesAcross = Math.ceil(this.width / DZI_TILE_SIZE);
    for (let c = 0; c < tilesAcross; c++) {
      const x0 = c * DZI_TILE_SIZE;
      const w = Math.min(DZI_TILE_SIZE, this.width - x0);
      const tile = new Uint8Array(w * h * 3);
      for (let y = 0; y < h; y++)
        tile.set(this.strip.subarray(y * stride + x0 * 3, y * stride + (x0 + w) * 3), y * w * 3);
      const path = `${this.dir}/${c}_${this.tileRow}.jpeg`;
      await this.pool.add(async () => {
        await sharp(tile, { raw: { width: w, height: h, channels: 3 } })
          .jpeg({ quality: this.quality })
          .toFile(path);
        this.onTile();
      });
    }
    if (this.next) {
      // 2×2 box average into the level below (an odd last row or column averages what there is).
      const nw = this.next.width;
      const nh = Math.ceil(h / 2);
      const out = new Uint8Array(nw * nh * 3);
      for (let y = 0; y < nh; y++) {
        const r0 = 2 * y,
          r1 = Math.min(h - 1, 2 * y + 1);
        for (let x = 0; x < nw; x++) {
          const c0 = 2 * x,
            c1 = Math.min(this.width - 1, 2 * x + 1);
          const n = (r1 === r0 ? 1 : 2) * (c1 === c0 ? 1 : 2);
          for (let k = 0; k < 3; k++) {
            let s = this.strip[r0 * stride + c0 * 3 + k];
            if (c1 !== c0) s += this.strip[r0 * stride + c1 * 3 + k];
            if (r1 !== r0) {
              s += this.strip[r1 * stride + c0 * 3 + k];
              if (c1 !== c0) s += this.strip[r1 * stride + c1 * 3 + k];
            }
            out[(y * nw + x) * 3 + k] = Math.round(s / n);
          }
        }
      }
      await this.next.push(out, nh);
    }
    this.filled = 0;
    this.tileRow++;
  }
}

/**
 * Writes the pyramid of `grid` to `<base>.dzi` and `<base>_files/`. `base` is a
 * path without extension (`out/pca-grid` → out/pca-grid.dzi, out/pca-grid_files/).
 */
export async function renderDeepZoom(
  grid: GridPicture,
  images: CellImages,
  base: string,
  options: DeepZoomOptions = {},
): Promise<DeepZoomResult> {
  const cellW = options.cellWidth ?? 224,
    cellH = options.cellHeight ?? 126;
  const quality = options.quality ?? 80;
  const width = grid.cols * cellW,
    height = grid.rows * cellH;
  const levels = dziLevels(width, height);
  const tilesDir = `${base}_files`;
  const dzi = `${base}.dzi`;
  const t0 = performance.now();
  mkdirSync(dirname(dzi), { recursive: true });
  rmSync(tilesDir, { recursive: true, force: true });
  rmSync(dzi, { force: true });
  let totalTiles = 0;
  for (let l = 0; l < levels; l++) {
    const s = dziLevelSize(width, height, l, levels);
    totalTiles += Math.ceil(s.width / DZI_TILE_SIZE) * Math.ceil(s.height / DZI_TILE_SIZE);
  }
  let written = 0;
  const onTile = (): void => {
    written++;
    if (written % 64 === 0 || written === totalTiles)
      options.onProgress?.({ stage: 'render deep zoom', done: written, total: totalTiles });
  };
  const pool = new WritePool(options.concurrency ?? 8);
  let below: Level | null = null;
  for (let l = 0; l < levels; l++) {
    const s = dziLevelSize(width, height, l, levels);
    below = new Level(l, s.width, s.height, `${tilesDir}/${l}`, below, pool, quality, onTile);
  }
  const top = below!;
  const band = new Uint8Array(width * cellH * 3);
  try {
    for (let row = 0; row < grid.rows; row++) {
      throwIfAborted(options.signal);
      await drawCellRow(grid, images, row, cellW, cellH, band);
      await top.push(band, cellH);
    }
    await pool.drain();
  } catch (err) {
    await pool.drain().catch(() => undefined);
    rmSync(tilesDir, { recursive: true, force: true });
    throw err;
  }
  // The descriptor last: a .dzi on disk means a complete pyramid.
  writeFileSync(dzi, dziXml(width, height));
  return {
    dzi,
    tilesDir,
    width,
    height,
    levels,
    tiles: totalTiles,
    missing: images.missing,
    seconds: (performance.now() - t0) / 1000,
  };
}
