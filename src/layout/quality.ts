/**
 * Layout quality of a point cloud → grid assignment, ported from
 * `../shared/anchors/grid_quality.py` (the metric RasterFairy's figures were
 * measured with), so our figures and theirs are the same number:
 *
 * - both point sets are scaled to the unit square independently: per axis
 *   min–max (`axis`, the default and what RasterFairy does) or by the larger
 *   span (`iso`);
 * - `recall` = mean over items of |kNN_input(i) ∩ kNN_grid(i)| / k (self excluded);
 * - displacement = Euclidean distance between an item's scaled input and scaled
 *   grid positions (mean, median, p95 as numpy computes them).
 *
 * The one place the port cannot be exact is ties: the python breaks exact distance
 * ties (common on a grid) in scipy cKDTree's internal order; here the smaller item
 * index wins. On tie-free inputs the two agree exactly; on grids they differ by a
 * few 1e-3 at most.
 */

/** An n×2 row-major point array (x0, y0, x1, y1, …). */
export type Points2D = Float32Array | Float64Array | Int32Array | Uint32Array;

export type QualityScale = 'axis' | 'iso';

export interface QualityOptions {
  /** Neighbours per item. Default 10; 1 ≤ k < n. */
  k?: number;
  /** Unit-square scaling of both inputs. Default 'axis' (per-axis min–max). */
  scale?: QualityScale;
}

export interface GridQuality {
  n: number;
  k: number;
  scale: QualityScale;
  /** Mean share of each item's k input neighbours that are among its k grid neighbours, 0–1. */
  recall: number;
  /** Mean distance between scaled input and scaled grid positions (unit-square units). */
  meanDisplacement: number;
  medianDisplacement: number;
  p95Displacement: number;
  /** Distinct grid positions (n for a bijective grid). */
  uniqueCells: number;
}

/** The bounding box of n 2-D points (interleaved x, y); ±Infinity when n is 0. */
export function bounds2d(
  xy: ArrayLike<number>,
  n: number,
): { minX: number; minY: number; maxX: number; maxY: number } {
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i],
      y = xy[2 * i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return { minX, minY, maxX, maxY };
}

/** Both coordinates scaled to [0,1] as grid_quality.py's `unit()` does (float64). */
export function unitScale(p: Points2D, scale: QualityScale = 'axis'): Float64Array {
  const n = p.length >> 1;
  const { minX, minY, maxX, maxY } = bounds2d(p, n);
  let sx = maxX - minX,
    sy = maxY - minY;
  if (scale === 'iso') {
    const s = Math.max(sx, sy) > 0 ? Math.max(sx, sy) : 1;
    sx = s;
    sy = s;
  } else {
    if (sx === 0) sx = 1;
    if (sy === 0) sy = 1;
  }
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = (p[2 * i] - minX) / sx;
    out[2 * i + 1] = (p[2 * i + 1] - minY) / sy;
  }
  return out;
}

/**
 * Exact k nearest neighbours of every point of a 2-D set (self excluded), as an
 * n×k Int32Array sorted by distance, ties by smaller index. A bucket grid with
 * about two points per bucket, searched ring by ring, keeps it O(n·k) on
 * layouts (where a k-d tree would be the same order but more code).
 */
export function knn2d(p: Float64Array, k: number): Int32Array {
  const n = p.length >> 1;
  if (!Number.isInteger(k) || k < 1 || k >= n)
    throw new RangeError(`k must be an integer 1…${n - 1} for ${n} points, got ${k}`);
  const { minX, minY, maxX, maxY } = bounds2d(p, n);
  const spanX = maxX - minX || 1,
    spanY = maxY - minY || 1;
  // Square buckets of side h with ~2 points each over the bounding box.
  const h = Math.sqrt((spanX * spanY * 2) / n) || 1;
  const gx = Math.max(1, Math.min(4096, Math.ceil(spanX / h)));
  const gy = Math.max(1, Math.min(4096, Math.ceil(spanY / h)));
  const bx = new Int32Array(n),
    by = new Int32Array(n);
  const start = new Int32Array(gx * gy + 1);
  for (let i = 0; i < n; i++) {
    const cx = Math.min(gx - 1, Math.floor((p[2 * i] - minX) / h));
    const cy = Math.min(gy - 1, Math.floor((p[2 * i + 1] - minY) / h));
    bx[i] = cx;
    by[i] = cy;
    start[cy * gx + cx + 1]++;
  }
  for (let b = 0; b < gx * gy; b++) start[b + 1] += start[b];
  const items = new Int32Array(n);
  const fill = start.slice(0, gx * gy);
  for (let i = 0; i < n; i++) items[fill[by[i] * gx + bx[i]]++] = i;

  const out = new Int32Array(n * k);
  // The current best k as a sorted list (k is small: insertion beats a heap).
  const bestD = new Float64Array(k + 1);
  const bestI = new Int32Array(k + 1);
  for (let i = 0; i < n; i++) {
    const x = p[2 * i],
      y = p[2 * i + 1];
    const cx = bx[i],
      cy = by[i];
    let count = 0;
    const maxRing = Math.max(gx, gy);
    for (let r = 0; r <= maxRing; r++) {
      const y0 = cy - r,
        y1 = cy + r,
        x0 = cx - r,
        x1 = cx + r;
      for (let yy = Math.max(0, y0); yy <= Math.min(gy - 1, y1); yy++) {
        const edgeRow = yy === y0 || yy === y1;
        const step = edgeRow ? 1 : x1 - x0;
        for (let xx = x0; xx <= x1; xx += step) {
          if (xx < 0 || xx >= gx) continue;
          const b = yy * gx + xx;
          for (let s = start[b], e = start[b + 1]; s < e; s++) {
            const j = items[s];
            if (j === i) continue;
            const dx = p[2 * j] - x,
              dy = p[2 * j + 1] - y;
            const d = dx * dx + dy * dy;
            if (count === k && (d > bestD[k - 1] || (d === bestD[k - 1] && j > bestI[k - 1]))) continue;
            let pos = count < k ? count++ : k - 1;
            while (pos > 0 && (bestD[pos - 1] > d || (bestD[pos - 1] === d && bestI[pos - 1] > j))) {
              bestD[pos] = bestD[pos - 1];
              bestI[pos] = bestI[pos - 1];
              pos--;
            }
            bestD[pos] = d;
            bestI[pos] = j;
          }
        }
      }
      if (count === k) {
        // Anything outside rings 0…r is at least this far (distance to the ring's border).
        const gap = Math.min(
          x - (minX + (cx - r) * h),
          minX + (cx + r + 1) * h - x,
          y - (minY + (cy - r) * h),
          minY + (cy + r + 1) * h - y,
        );
        if (gap > 0 && gap * gap > bestD[k - 1]) break;
      }
    }
    out.set(bestI.subarray(0, k), i * k);
  }
  return out;
}

/** numpy's default (linear) percentile of a sorted array. */
function percentileSorted(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos),
    hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The quality of a layout: `input` is the 2-D embedding (n×2), `grid` the grid
 * position of each item (n×2, e.g. integer (col, row)). Row i of both is item i.
 */
export function gridQuality(input: Points2D, grid: Points2D, options: QualityOptions = {}): GridQuality {
  const k = options.k ?? 10;
  const scale = options.scale ?? 'axis';
  if (input.length !== grid.length || input.length % 2 !== 0) {
    throw new RangeError(
      `input and grid must both be n×2 (got ${input.length / 2} and ${grid.length / 2} rows)`,
    );
  }
  const n = input.length >> 1;
  const a = unitScale(input, scale),
    b = unitScale(grid, scale);
  const na = knn2d(a, k),
    nb = knn2d(b, k);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const o = i * k;
    for (let s = 0; s < k; s++) {
      const j = na[o + s];
      for (let t = 0; t < k; t++) {
        if (nb[o + t] === j) {
          hits++;
          break;
        }
      }
    }
  }
  const d = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    d[i] = Math.hypot(a[2 * i] - b[2 * i], a[2 * i + 1] - b[2 * i + 1]);
    sum += d[i];
  }
  d.sort();
  const cells = new Set<string>();
  for (let i = 0; i < n; i++) cells.add(`${round6(grid[2 * i])},${round6(grid[2 * i + 1])}`);
  return {
    n,
    k,
    scale,
    recall: hits / (n * k),
    meanDisplacement: sum / n,
    medianDisplacement: percentileSorted(d, 0.5),
    p95Displacement: percentileSorted(d, 0.95),
    uniqueCells: cells.size,
  };
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
