/**
 * The building blocks of grid assignment, over flat typed arrays:
 *
 * - `unitPoints`: the 2-D layout scaled per axis to the unit square, the space the
 *   quality metric (and RasterFairy) works in;
 * - `kdSplit`: RasterFairy's recursive balanced split — halve the grid region
 *   along its longer side (in unit-square terms), give each half the points with
 *   the smallest/largest coordinate in proportion to its cells, recurse;
 * - `refineWindows`: exact linear assignment (squared distance between a point's
 *   unit position and its cell's) inside windows of cells, shifted between passes
 *   so that windows overlap: each solve can only lower the total cost, and the
 *   overlaps let points travel across window borders.
 *
 * A grid assignment is `cellOf: Int32Array(n)` (cell = row·cols + col) and its
 * inverse `pointAt: Int32Array(cols·rows)` (-1 for an empty cell).
 */
import { LapSolver } from './grid-lap.js';
import { bounds2d } from './quality.js';

export interface GridShape {
  /** Cells across (x). */
  cols: number;
  /** Cells down (y). */
  rows: number;
}

/** Per-axis min–max scaling to [0,1]² (a constant axis maps to 0.5). */
export function unitPoints(xy: ArrayLike<number>, n: number): Float64Array {
  const { minX, minY, maxX, maxY } = bounds2d(xy, n);
  const sx = maxX - minX,
    sy = maxY - minY;
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = sx > 0 ? (xy[2 * i] - minX) / sx : 0.5;
    out[2 * i + 1] = sy > 0 ? (xy[2 * i + 1] - minY) / sy : 0.5;
  }
  return out;
}

/** Unit-square position of each cell, as the quality metric scales a full grid. */
export function cellPositions(shape: GridShape): Float64Array {
  const { cols, rows } = shape;
  const out = new Float64Array(2 * cols * rows);
  const fx = cols > 1 ? 1 / (cols - 1) : 0,
    fy = rows > 1 ? 1 / (rows - 1) : 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const k = r * cols + c;
      out[2 * k] = cols > 1 ? c * fx : 0.5;
      out[2 * k + 1] = rows > 1 ? r * fy : 0.5;
    }
  }
  return out;
}

/**
 * Reorders `idx[lo, hi)` so that its first `kth - lo` entries are those with the
 * smallest `key[2·i + axis]` (ties by index): Hoare quickselect, median of three.
 */
function select(idx: Int32Array, lo: number, hi: number, kth: number, key: Float64Array, axis: number): void {
  let l = lo,
    r = hi - 1;
  const less = (a: number, b: number): boolean => {
    const ka = key[2 * a + axis],
      kb = key[2 * b + axis];
    return ka < kb || (ka === kb && a < b);
  };
  while (r > l) {
    // median of three as pivot
    const m = (l + r) >> 1;
    let a = idx[l],
      b = idx[m],
      c = idx[r];
    if (less(b, a)) [a, b] = [b, a];
    if (less(c, b)) {
      [b, c] = [c, b];
      if (less(b, a)) [a, b] = [b, a];
    }
    const pivot = b;
    let i = l,
      j = r;
    while (i <= j) {
      while (less(idx[i], pivot)) i++;
      while (less(pivot, idx[j])) j--;
      if (i <= j) {
        const t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        i++;
        j--;
      }
    }
    if (kth <= j) r = j;
    else if (kth >= i) l = i;
    else return;
  }
}

/**
 * RasterFairy's recursive balanced split: every point gets a distinct cell; when
 * there are more cells than points, the empty cells are spread evenly.
 */
export function kdSplit(unit: Float64Array, n: number, shape: GridShape): Int32Array {
  const { cols, rows } = shape;
  if (n > cols * rows) throw new RangeError(`${n} points do not fit ${cols}×${rows} cells`);
  const cellOf = new Int32Array(n).fill(-1);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  // Explicit stack of regions: lo, hi (into idx), c0, r0, w, h.
  const stack: number[] = [0, n, 0, 0, cols, rows];
  while (stack.length) {
    const h = stack.pop()!,
      w = stack.pop()!,
      r0 = stack.pop()!,
      c0 = stack.pop()!,
      hi = stack.pop()!,
      lo = stack.pop()!;
    const m = hi - lo;
    if (m === 0) continue;
    const cells = w * h;
    if (cells === 1) {
      cellOf[idx[lo]] = r0 * cols + c0;
      continue;
    }
    // Split the side that is longer in the unit square (as the metric sees it).
    const splitX = h === 1 || (w > 1 && w / cols >= h / rows);
    const side = splitX ? w : h;
    const first = side >> 1;
    const cap1 = splitX ? first * h : w * first;
    let m1 = Math.round((m * cap1) / cells);
    m1 = Math.max(m - (cells - cap1), Math.min(cap1, m1));
    if (m1 > 0 && m1 < m) select(idx, lo, hi, lo + m1, unit, splitX ? 0 : 1);
    if (splitX) {
      stack.push(lo, lo + m1, c0, r0, first, h);
      stack.push(lo + m1, hi, c0 + first, r0, w - first, h);
    } else {
      stack.push(lo, lo + m1, c0, r0, w, first);
      stack.push(lo + m1, hi, c0, r0 + first, w, h - first);
    }
  }
  return cellOf;
}

/** The inverse of `cellOf`: the point in each cell, -1 where empty. */
export function pointsByCell(cellOf: Int32Array, shape: GridShape): Int32Array {
  const pointAt = new Int32Array(shape.cols * shape.rows).fill(-1);
  for (let i = 0; i < cellOf.length; i++) pointAt[cellOf[i]] = i;
  return pointAt;
}

export interface RefineOptions {
  /** Window width and height in cells. Default 8 (64 cells per exact solve). */
  window?: number;
  /** Passes over the grid, each with its windows shifted. Default 4. */
  passes?: number;
  /** Called after each pass with the pass number (1-based) and the total cost. */
  onPass?: (pass: number, cost: number) => void;
  /** Checked between windows; when aborted, refinement stops with a valid assignment. */
  shouldStop?: () => boolean;
}

/**
 * Exact assignment inside overlapping windows; cost = squared unit-square distance
 * between a point and a cell. Updates `cellOf` and `pointAt` in place; returns the
 * final total cost.
 */
export function refineWindows(
  unit: Float64Array,
  cellOf: Int32Array,
  pointAt: Int32Array,
  shape: GridShape,
  cellPos: Float64Array,
  options: RefineOptions = {},
): number {
  const { cols, rows } = shape;
  const win = Math.max(2, options.window ?? 8);
  const passes = options.passes ?? 4;
  const solver = new LapSolver();
  const cells = new Int32Array(win * win);
  const pts = new Int32Array(win * win);
  const cost = new Float64Array(win * win * win * win);
  // Shifts that make successive passes' windows straddle the previous borders.
  const half = win >> 1;
  const shifts = [
    [0, 0],
    [half, half],
    [half, 0],
    [0, half],
  ];
  for (let pass = 0; pass < passes; pass++) {
    const [sx, sy] = shifts[pass % shifts.length];
    for (let wy = -sy; wy < rows; wy += win) {
      for (let wx = -sx; wx < cols; wx += win) {
        if (options.shouldStop?.()) return totalCost(unit, cellOf, cellPos);
        let nc = 0,
          np = 0;
        for (let r = Math.max(0, wy); r < Math.min(rows, wy + win); r++) {
          for (let c = Math.max(0, wx); c < Math.min(cols, wx + win); c++) {
            const cell = r * cols + c;
            cells[nc++] = cell;
            const p = pointAt[cell];
            if (p >= 0) pts[np++] = p;
          }
        }
        if (np < 2) continue;
        for (let a = 0; a < np; a++) {
          const p = pts[a];
          const px = unit[2 * p],
            py = unit[2 * p + 1];
          const o = a * nc;
          for (let b = 0; b < nc; b++) {
            const cell = cells[b];
            const dx = px - cellPos[2 * cell],
              dy = py - cellPos[2 * cell + 1];
            cost[o + b] = dx * dx + dy * dy;
          }
        }
        solver.solve(cost, np, nc);
        for (let b = 0; b < nc; b++) pointAt[cells[b]] = -1;
        for (let a = 0; a < np; a++) {
          const cell = cells[solver.rowToCol[a]];
          cellOf[pts[a]] = cell;
          pointAt[cell] = pts[a];
        }
      }
    }
    options.onPass?.(pass + 1, totalCost(unit, cellOf, cellPos));
  }
  return totalCost(unit, cellOf, cellPos);
}

/** Σ squared unit-square distance between each point and its cell. */
export function totalCost(unit: Float64Array, cellOf: Int32Array, cellPos: Float64Array): number {
  let s = 0;
  for (let i = 0; i < cellOf.length; i++) {
    const c = cellOf[i];
    const dx = unit[2 * i] - cellPos[2 * c],
      dy = unit[2 * i + 1] - cellPos[2 * c + 1];
    s += dx * dx + dy * dy;
  }
  return s;
}

/** Neighbour offsets tried by `swapSweep` (one of each symmetric pair): the 8 around a cell, then a ring of 2-step ones. */
const SWAP_DX = Int32Array.from([1, 0, 1, 1, 2, 0, 2, 1, 2, -1]);
const SWAP_DY = Int32Array.from([0, 1, 1, -1, 0, 2, 1, 2, -1, 2]);

/**
 * Pairwise swap improvement: for every cell and each nearby cell, swap their
 * points (or move a point into an empty cell) when that lowers
 * Σ |target − cell|². The targets are copied into cell order first, so a sweep
 * walks memory in order; each sweep is O(cells), cheap enough to run many times
 * between exact window solves. `reach` 1 tries the 8 neighbours, 2 also the
 * cells two steps away. Returns the number of swaps made.
 */
export function swapSweep(
  target: Float64Array,
  cellOf: Int32Array,
  pointAt: Int32Array,
  shape: GridShape,
  cellPos: Float64Array,
  sweeps = 1,
  reach: 1 | 2 = 2,
): number {
  const { cols, rows } = shape;
  const cells = cols * rows;
  const offsets = reach === 1 ? 4 : SWAP_DX.length;
  const tx = new Float64Array(cells),
    ty = new Float64Array(cells);
  const occupied = new Uint8Array(cells);
  for (let a = 0; a < cells; a++) {
    const i = pointAt[a];
    if (i >= 0) {
      tx[a] = target[2 * i];
      ty[a] = target[2 * i + 1];
      occupied[a] = 1;
    }
  }
  let swaps = 0;
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let made = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const a = r * cols + c;
        const ax = cellPos[2 * a],
          ay = cellPos[2 * a + 1];
        for (let o = 0; o < offsets; o++) {
          const cc = c + SWAP_DX[o],
            rr = r + SWAP_DY[o];
          if (cc < 0 || cc >= cols || rr >= rows) continue;
          const b = rr * cols + cc;
          const oa = occupied[a],
            ob = occupied[b];
          if (!oa && !ob) continue;
          const bx = cellPos[2 * b],
            by = cellPos[2 * b + 1];
          // Δ(swap) = 2 (t_a − t_b)·(c_a − c_b); an empty cell costs nothing anywhere,
          // which is the same as a target at the midpoint of the two cells.
          const tax = oa ? tx[a] : 0.5 * (ax + bx),
            tay = oa ? ty[a] : 0.5 * (ay + by);
          const tbx = ob ? tx[b] : 0.5 * (ax + bx),
            tby = ob ? ty[b] : 0.5 * (ay + by);
          if ((tax - tbx) * (ax - bx) + (tay - tby) * (ay - by) < -1e-15) {
            tx[a] = tbx;
            ty[a] = tby;
            tx[b] = tax;
            ty[b] = tay;
            occupied[a] = ob;
            occupied[b] = oa;
            const t = pointAt[a];
            pointAt[a] = pointAt[b];
            pointAt[b] = t;
            made++;
          }
        }
      }
    }
    swaps += made;
    if (made === 0) break;
  }
  for (let a = 0; a < cells; a++) if (pointAt[a] >= 0) cellOf[pointAt[a]] = a;
  return swaps;
}
