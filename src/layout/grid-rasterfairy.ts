/**
 * A faithful port of RasterFairy's `transformPointCloud2D` (the current rewrite
 * the anchors measured: mask-based binary splits, exact Hungarian assignment for
 * groups of up to 200 points), kept as the `rasterfairy` grid so that its figures
 * can be measured on the same data, in the same run, as ours.
 *
 * Its quirks are kept on purpose, because they are what RasterFairy does:
 * - it sorts by the coordinates truncated to integers (`xy.astype(int)`, x then y
 *   for a column split, y then x for a row split), in the input's own units;
 * - among the two candidate cuts (at the column and the row where half the cells
 *   are reached) it keeps the one whose two halves are closer to square;
 * - groups of ≤ 200 points are solved exactly with cost = squared distance
 *   between the raw point and the integer cell position;
 * - when there are more cells than points, its default empty strategy leaves
 *   randomly chosen cells empty (seeded here, `numpy.random` there).
 */
import { LapSolver } from './grid-lap.js';
import type { GridShape } from './grid-assign.js';
import { Random } from '../numeric/random.js';

export interface RasterFairyOptions {
  /** Largest group solved by exact assignment. Default 200 (RasterFairy's). */
  hungarianThreshold?: number;
  /** Seed for the choice of empty cells. Default 0. */
  seed?: number;
}

/** Returns `cellOf` (cell = row·cols + col) for each of the n points of `xy` (raw coordinates). */
export function rasterFairy(
  xy: ArrayLike<number>,
  n: number,
  shape: GridShape,
  options: RasterFairyOptions = {},
): Int32Array {
  const { cols, rows } = shape;
  const threshold = options.hungarianThreshold ?? 200;
  const cells = cols * rows;
  if (n > cells) throw new RangeError(`${n} points do not fit ${cols}×${rows} cells`);
  // mask: 1 = not usable (RasterFairy's convention)
  const mask = new Uint8Array(cells);
  if (cells > n) {
    const rng = new Random(options.seed ?? 0);
    const order = new Int32Array(cells);
    for (let i = 0; i < cells; i++) order[i] = i;
    for (let i = cells - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (let i = 0; i < cells - n; i++) mask[order[i]] = 1;
  }
  const xi = new Float64Array(n),
    yi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xi[i] = Math.trunc(xy[2 * i]);
    yi[i] = Math.trunc(xy[2 * i + 1]);
  }
  const cellOf = new Int32Array(n).fill(-1);
  const solver = new LapSolver();
  let cost = new Float64Array(0);

  const validIn = (x: number, y: number, w: number, h: number): number => {
    let c = 0;
    for (let r = y; r < y + h; r++) for (let q = x; q < x + w; q++) c += mask[r * cols + q] ? 0 : 1;
    return c;
  };
  // cropGrid: shrink a region to the bounding box of its usable cells.
  const crop = (g: number[]): void => {
    const [x, y, w, h] = g;
    let x0 = x,
      x1 = x + w,
      y0 = y,
      y1 = y + h;
    const colHas = (q: number): boolean => {
      for (let r = y0; r < y1; r++) if (!mask[r * cols + q]) return true;
      return false;
    };
    const rowHas = (r: number): boolean => {
      for (let q = x0; q < x1; q++) if (!mask[r * cols + q]) return true;
      return false;
    };
    while (x1 - x0 > 1 && !colHas(x0)) x0++;
    while (x1 - x0 > 1 && !colHas(x1 - 1)) x1--;
    while (y1 - y0 > 1 && !rowHas(y0)) y0++;
    while (y1 - y0 > 1 && !rowHas(y1 - 1)) y1--;
    g[0] = x0;
    g[1] = y0;
    g[2] = x1 - x0;
    g[3] = y1 - y0;
  };

  const sortBy = (pts: Int32Array, primary: Float64Array, secondary: Float64Array): Int32Array => {
    const o = Array.from(pts);
    o.sort((a, b) => primary[a] - primary[b] || secondary[a] - secondary[b] || a - b);
    return Int32Array.from(o);
  };

  interface Quadrant {
    pts: Int32Array;
    grid: number[];
  }
  const queue: Quadrant[] = [{ pts: Int32Array.from({ length: n }, (_, i) => i), grid: [0, 0, cols, rows] }];
  while (queue.length) {
    const q = queue.pop()!;
    const { pts, grid } = q;
    const [gx, gy, gw, gh] = grid;
    if (pts.length === 0) continue;
    if (pts.length === 1) {
      // the single point takes the region's first usable cell (its grid origin after cropping)
      let placed = false;
      for (let r = gy; r < gy + gh && !placed; r++) {
        for (let c = gx; c < gx + gw && !placed; c++) {
          if (!mask[r * cols + c]) {
            cellOf[pts[0]] = r * cols + c;
            mask[r * cols + c] = 1;
            placed = true;
          }
        }
      }
      if (!placed) throw new Error('rasterfairy: no free cell for a point');
      continue;
    }
    if (pts.length <= threshold) {
      const free: number[] = [];
      for (let r = gy; r < gy + gh; r++)
        for (let c = gx; c < gx + gw; c++) if (!mask[r * cols + c]) free.push(r * cols + c);
      let candidates = free;
      if (free.length > pts.length) {
        // selectBestGridPositions: the cells nearest the points' centroid
        let mx = 0,
          my = 0;
        for (const p of pts) {
          mx += xy[2 * p];
          my += xy[2 * p + 1];
        }
        mx /= pts.length;
        my /= pts.length;
        const d = (c: number): number => ((c % cols) - mx) ** 2 + (Math.floor(c / cols) - my) ** 2;
        candidates = free
          .map((c, i) => [d(c), i, c] as const)
          .sort((a, b) => a[0] - b[0] || a[1] - b[1])
          .slice(0, pts.length)
          .map((e) => e[2]);
      }
      const m = pts.length,
        k = candidates.length;
      if (cost.length < m * k) cost = new Float64Array(m * k);
      for (let a = 0; a < m; a++) {
        const px = xy[2 * pts[a]],
          py = xy[2 * pts[a] + 1];
        for (let b = 0; b < k; b++) {
          const c = candidates[b];
          cost[a * k + b] = (px - (c % cols)) ** 2 + (py - Math.floor(c / cols)) ** 2;
        }
      }
      solver.solve(cost, m, k);
      for (let a = 0; a < m; a++) {
        cellOf[pts[a]] = candidates[solver.rowToCol[a]];
      }
      for (let a = 0; a < m; a++) mask[cellOf[pts[a]]] = 1;
      continue;
    }
    const usable = Math.min(validIn(gx, gy, gw, gh), pts.length);
    const half = usable >> 1;
    let splitColumn = 0,
      countX = 0;
    while (splitColumn < gw && countX < half) {
      countX += validIn(gx + splitColumn, gy, 1, gh);
      splitColumn++;
    }
    let splitRow = 0,
      countY = 0;
    while (splitRow < gh && countY < half) {
      countY += validIn(gx, gy + splitRow, gw, 1);
      splitRow++;
    }
    const slices = (counted: number, split: number, byX: boolean): Quadrant[] => {
      const order = byX ? sortBy(pts, xi, yi) : sortBy(pts, yi, xi);
      const out: Quadrant[] = [];
      if (counted > 0) {
        const g = byX ? [gx, gy, split, gh] : [gx, gy, gw, split];
        crop(g);
        if (g[2] > 0 && g[3] > 0) out.push({ pts: order.subarray(0, counted), grid: g });
      }
      if (counted < order.length) {
        const g = byX ? [gx + split, gy, gw - split, gh] : [gx, gy + split, gw, gh - split];
        crop(g);
        if (g[2] > 0 && g[3] > 0) out.push({ pts: order.subarray(counted), grid: g });
      }
      return out;
    };
    const sx = slices(countX, splitColumn, true);
    const sy = slices(countY, splitRow, false);
    const ratio = (s: Quadrant): number => {
      const w = Math.max(s.grid[2], 1),
        h = Math.max(s.grid[3], 1);
      return Math.min(w, h) / Math.max(w, h) || 0.01;
    };
    let chosen: Quadrant[];
    if (sx.length === 0 && sy.length === 0) chosen = [q];
    else if (sx.length <= 1) chosen = sy.length > 0 ? sy : [q];
    else if (sy.length <= 1) chosen = sx;
    else {
      const rx = Math.max(Math.abs(1 - ratio(sx[0])), Math.abs(1 - ratio(sx[1])));
      const ry = Math.max(Math.abs(1 - ratio(sy[0])), Math.abs(1 - ratio(sy[1])));
      chosen = rx < ry ? sx : sy;
    }
    if (chosen.length === 1 && chosen[0] === q) throw new Error('rasterfairy: a region could not be split');
    queue.push(...chosen);
  }
  return cellOf;
}
