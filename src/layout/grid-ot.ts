/**
 * Near-optimal transport of a 2-D point cloud onto grid cells: the assignment
 * that minimises the total squared (unit-square) distance between each point and
 * its cell, which is what keeps the mean displacement low and the map smooth.
 *
 * It is Bertsekas's auction algorithm with ε-scaling on a sparse candidate set
 * (each point bids only for the cells within `radius` of where it is expected to
 * land, plus its cell in a feasible starting assignment, so a perfect matching
 * always exists). A cold auction spends almost all its bids discovering the
 * prices (the dual potential, ~700 bids a point at n = 10,000), so prices are
 * found coarse to fine instead: a subsample of a quarter of the points is
 * transported onto a half-resolution grid (recursively, down to a few thousand
 * points), and its prices, interpolated and rescaled, start the finer auction,
 * which then needs a few bids a point.
 */
import type { GridShape } from './grid-assign.js';
import { kdSplit } from './grid-assign.js';
import { Random } from '../numeric/random.js';

export interface OtOptions {
  /** Candidate cells: Chebyshev radius around each point's expected cell. Default 3 (49 cells). */
  radius?: number;
  /** Problems up to this many points are solved without a coarser level. Default 2,500. */
  base?: number;
  /** Seed for the subsamples of the coarse levels. Default 0. */
  seed?: number;
  /** Stop rule: abort the auction (keep the feasible start) after this many bids a point. Default 400. */
  maxBidsPerPoint?: number;
  /** Checked between bid batches; when aborted, the feasible start is returned. */
  shouldStop?: () => boolean;
  /** Final ε of the auction (scaled units, one cell step ≈ 1). Default 0.05. */
  epsMin?: number;
  /** Lattice size for the continuous map of `transportDestinations`. Default 129. */
  lattice?: number;
  /** Box-filter passes over that map. Default 1. */
  smooth?: number;
}

export interface OtResult {
  cellOf: Int32Array;
  /** Bids made at the finest level, a measure of the work done. */
  bids: number;
  /** False when the auction stopped early (bid limit or abort) and returned the start. */
  converged: boolean;
}

/** Geometry in "scaled units": unit-square coordinates × S, S = max(cols, rows) − 1. */
interface Frame {
  cols: number;
  rows: number;
  s: number;
  fx: number; // cell column → scaled x
  fy: number; // cell row → scaled y
}

function frame(shape: GridShape): Frame {
  const s = Math.max(1, Math.max(shape.cols, shape.rows) - 1);
  return {
    cols: shape.cols,
    rows: shape.rows,
    s,
    fx: shape.cols > 1 ? s / (shape.cols - 1) : 0,
    fy: shape.rows > 1 ? s / (shape.rows - 1) : 0,
  };
}

/**
 * Transports the points `u` (unit square, n×2) onto `shape`, near-optimally for
 * squared distance. `start` is a feasible assignment to start from (default: the
 * recursive split).
 */
export function transportToGrid(
  u: Float64Array,
  n: number,
  shape: GridShape,
  options: OtOptions = {},
  start?: Int32Array,
): OtResult {
  const kd = start ?? kdSplit(u, n, shape);
  const prices = coarsePrices(u, n, shape, options, 0);
  return auction(u, n, shape, kd, prices, options);
}

/** m of the n points of `u` (interleaved x, y), drawn without replacement by a partial Fisher–Yates shuffle. */
function randomSubsample(u: Float64Array, n: number, m: number, rng: Random): Float64Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const sub = new Float64Array(2 * m);
  for (let i = 0; i < m; i++) {
    sub[2 * i] = u[2 * perm[i]];
    sub[2 * i + 1] = u[2 * perm[i] + 1];
  }
  return sub;
}

/** Prices for `shape` from a quarter subsample on a half-resolution grid (null at the base level). */
function coarsePrices(
  u: Float64Array,
  n: number,
  shape: GridShape,
  options: OtOptions,
  depth: number,
): Float64Array | null {
  const base = options.base ?? 2500;
  if (n <= base || shape.cols < 4 || shape.rows < 4) return null;
  const coarse: GridShape = { cols: Math.ceil(shape.cols / 2), rows: Math.ceil(shape.rows / 2) };
  const m = Math.floor((n * coarse.cols * coarse.rows) / (shape.cols * shape.rows));
  // A seeded random subsample of m points, as its own unit-square array.
  const rng = new Random((options.seed ?? 0) * 31 + depth + 1);
  const sub = randomSubsample(u, n, m, rng);
  const subPrices = coarsePrices(sub, m, coarse, options, depth + 1);
  const r = auction(sub, m, coarse, kdSplit(sub, m, coarse), subPrices, options);
  const cp = r.prices;
  // Bilinear interpolation of the coarse prices at each fine cell's unit position,
  // rescaled: prices are squared distances, in units of S².
  const fc = frame(coarse),
    ff = frame(shape);
  const scale = (ff.s / fc.s) ** 2;
  const out = new Float64Array(shape.cols * shape.rows);
  for (let row = 0; row < shape.rows; row++) {
    const v = shape.rows > 1 ? row / (shape.rows - 1) : 0.5;
    const gy = v * (coarse.rows - 1);
    const y0 = Math.min(coarse.rows - 2, Math.floor(gy)),
      ty = gy - y0;
    for (let col = 0; col < shape.cols; col++) {
      const w = shape.cols > 1 ? col / (shape.cols - 1) : 0.5;
      const gx = w * (coarse.cols - 1);
      const x0 = Math.min(coarse.cols - 2, Math.floor(gx)),
        tx = gx - x0;
      const a = cp[y0 * coarse.cols + x0],
        b = cp[y0 * coarse.cols + x0 + 1],
        c = cp[(y0 + 1) * coarse.cols + x0],
        d = cp[(y0 + 1) * coarse.cols + x0 + 1];
      out[row * shape.cols + col] =
        scale * ((a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty);
    }
  }
  return out;
}

interface AuctionResult extends OtResult {
  prices: Float64Array;
}

function auction(
  u: Float64Array,
  n: number,
  shape: GridShape,
  start: Int32Array,
  initial: Float64Array | null,
  options: OtOptions,
): AuctionResult {
  const f = frame(shape);
  const { cols, rows } = shape;
  const cells = cols * rows;
  const R = options.radius ?? 3;
  const px = new Float64Array(n),
    py = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    px[i] = u[2 * i] * f.s;
    py[i] = u[2 * i + 1] * f.s;
  }
  const price = initial ?? new Float64Array(cells);
  const value = (i: number, c: number): number => {
    const dx = px[i] - (c % cols) * f.fx,
      dy = py[i] - ((c / cols) | 0) * f.fy;
    return -(dx * dx + dy * dy) - price[c];
  };
  // Where each point is expected to land: hill-climb the value from its start
  // cell under the initial prices (the value is close to concave in the cell).
  const centre = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let c = start[i];
    if (initial) {
      let v = value(i, c);
      for (let step = 0; step < 4 * (cols + rows); step++) {
        const cx = c % cols,
          cy = (c / cols) | 0;
        let best = c,
          bv = v;
        for (let yy = Math.max(0, cy - 1); yy <= Math.min(rows - 1, cy + 1); yy++) {
          for (let xx = Math.max(0, cx - 1); xx <= Math.min(cols - 1, cx + 1); xx++) {
            const cc = yy * cols + xx;
            const vv = value(i, cc);
            if (vv > bv) {
              bv = vv;
              best = cc;
            }
          }
        }
        if (best === c) break;
        c = best;
        v = bv;
      }
    }
    centre[i] = c;
  }
  const owner = new Int32Array(cells);
  const cellOf = new Int32Array(n);
  const queue = new Int32Array(n);
  // ε in scaled units (S² × unit²): one cell step is ~1, so start coarse when the
  // prices are unknown and fine when a coarser level supplied them.
  let eps = initial ? 8 : 32;
  const epsMin = options.epsMin ?? 0.05;
  const maxBids = (options.maxBidsPerPoint ?? 400) * n;
  let bids = 0;
  let converged = true;
  outer: while (true) {
    owner.fill(-1);
    cellOf.fill(-1);
    for (let i = 0; i < n; i++) queue[i] = i;
    let head = 0,
      count = n;
    while (count > 0) {
      if ((bids & 0xffff) === 0 && (bids > maxBids || options.shouldStop?.())) {
        converged = false;
        break outer;
      }
      const i = queue[head];
      head = head + 1 === n ? 0 : head + 1;
      count--;
      const c0 = centre[i];
      const cx0 = c0 % cols,
        cy0 = (c0 / cols) | 0;
      const x = px[i],
        y = py[i];
      let b1 = -Infinity,
        b2 = -Infinity,
        best = -1;
      const ya = Math.max(0, cy0 - R),
        yb = Math.min(rows - 1, cy0 + R),
        xa = Math.max(0, cx0 - R),
        xb = Math.min(cols - 1, cx0 + R);
      for (let cy = ya; cy <= yb; cy++) {
        const dy = y - cy * f.fy;
        const dy2 = dy * dy;
        const rowBase = cy * cols;
        for (let cx = xa; cx <= xb; cx++) {
          const dx = x - cx * f.fx;
          const v = -(dx * dx + dy2) - price[rowBase + cx];
          if (v > b1) {
            b2 = b1;
            b1 = v;
            best = rowBase + cx;
          } else if (v > b2) b2 = v;
        }
      }
      // The feasible start cell is always a candidate (it may lie outside the window).
      const s = start[i];
      const sx = s % cols,
        sy = (s / cols) | 0;
      if (sx < xa || sx > xb || sy < ya || sy > yb) {
        const v = value(i, s);
        if (v > b1) {
          b2 = b1;
          b1 = v;
          best = s;
        } else if (v > b2) b2 = v;
      }
      if (b2 === -Infinity) b2 = b1; // a single candidate: bid ε
      bids++;
      price[best] += b1 - b2 + eps;
      const prev = owner[best];
      owner[best] = i;
      cellOf[i] = best;
      if (prev >= 0) {
        cellOf[prev] = -1;
        let tail = head + count;
        if (tail >= n) tail -= n;
        queue[tail] = prev;
        count++;
      }
    }
    if (eps <= epsMin) break;
    eps = Math.max(epsMin, eps * 0.2);
  }
  if (!converged) return { cellOf: Int32Array.from(start), bids, converged, prices: price };
  return { cellOf, bids, converged, prices: price };
}

/**
 * Where each point goes under the optimal transport of the cloud onto the unit
 * square, estimated from an auction on a subsample of at most `sample` points onto
 * a grid of about as many cells (same aspect): the prices of that auction are the
 * transport's dual potential ψ, and a point u goes to argmin_c |u − c|² + ψ(c),
 * found by hill-climbing the coarse grid and a parabola through the neighbours.
 * Returns unit-square destinations (n×2), near-uniformly spread.
 */
export function transportDestinations(
  u: Float64Array,
  n: number,
  shape: GridShape,
  sample: number,
  options: OtOptions = {},
): Float64Array {
  const m = Math.min(n, sample);
  const ratio = Math.sqrt(m / (shape.cols * shape.rows));
  let cc = Math.max(2, Math.round(shape.cols * ratio)),
    cr = Math.max(2, Math.round(shape.rows * ratio));
  while (cc * cr < m) {
    if (cc / shape.cols <= cr / shape.rows) cc++;
    else cr++;
  }
  const coarse: GridShape = { cols: cc, rows: cr };
  const rng = new Random((options.seed ?? 0) * 31 + 17);
  const sub = randomSubsample(u, n, m, rng);
  const subStart = kdSplit(sub, m, coarse);
  const prices = coarsePrices(sub, m, coarse, options, 1);
  const r = auction(sub, m, coarse, subStart, prices, options);
  const f = frame(coarse);
  const s2 = f.s * f.s;
  const psi = new Float64Array(cc * cr);
  for (let c = 0; c < psi.length; c++) psi[c] = r.prices[c] / s2;
  const gx = 1 / (cc - 1),
    gy = 1 / (cr - 1);
  const value = (x: number, y: number, X: number, Y: number): number => {
    const dx = x - X * gx,
      dy = y - Y * gy;
    return -(dx * dx + dy * dy) - psi[Y * cc + X];
  };
  // Destination of one position: climb from a start cell, then a parabola per axis.
  const dest = (x: number, y: number, startX: number, startY: number, out: Float64Array, o: number): void => {
    let X = startX,
      Y = startY;
    let v = value(x, y, X, Y);
    for (let step = 0; step < 2 * (cc + cr); step++) {
      let bx = X,
        by = Y,
        bv = v;
      for (let yy = Math.max(0, Y - 1); yy <= Math.min(cr - 1, Y + 1); yy++) {
        for (let xx = Math.max(0, X - 1); xx <= Math.min(cc - 1, X + 1); xx++) {
          const vv = value(x, y, xx, yy);
          if (vv > bv) {
            bv = vv;
            bx = xx;
            by = yy;
          }
        }
      }
      if (bx === X && by === Y) break;
      X = bx;
      Y = by;
      v = bv;
    }
    let ox = 0,
      oy = 0;
    if (X > 0 && X < cc - 1) {
      const a = value(x, y, X - 1, Y),
        b = value(x, y, X + 1, Y);
      const den = a - 2 * v + b;
      if (den < 0) ox = Math.max(-0.5, Math.min(0.5, (a - b) / (2 * den)));
    }
    if (Y > 0 && Y < cr - 1) {
      const a = value(x, y, X, Y - 1),
        b = value(x, y, X, Y + 1);
      const den = a - 2 * v + b;
      if (den < 0) oy = Math.max(-0.5, Math.min(0.5, (a - b) / (2 * den)));
    }
    out[o] = (X + ox) * gx;
    out[o + 1] = (Y + oy) * gy;
  };
  // The map on a lattice over the unit square, smoothed, then interpolated at
  // each point: a continuous map keeps neighbouring points in order.
  const L = options.lattice ?? 129;
  let field = new Float64Array(2 * L * L);
  for (let j = 0; j < L; j++) {
    for (let k = 0; k < L; k++) {
      const x = k / (L - 1),
        y = j / (L - 1);
      dest(
        x,
        y,
        Math.min(cc - 1, Math.round(x / gx)),
        Math.min(cr - 1, Math.round(y / gy)),
        field,
        2 * (j * L + k),
      );
    }
  }
  for (let pass = 0; pass < (options.smooth ?? 1); pass++) {
    const next = new Float64Array(field.length);
    for (let j = 0; j < L; j++) {
      for (let k = 0; k < L; k++) {
        let sx = 0,
          sy = 0,
          cnt = 0;
        for (let jj = Math.max(0, j - 1); jj <= Math.min(L - 1, j + 1); jj++) {
          for (let kk = Math.max(0, k - 1); kk <= Math.min(L - 1, k + 1); kk++) {
            sx += field[2 * (jj * L + kk)];
            sy += field[2 * (jj * L + kk) + 1];
            cnt++;
          }
        }
        next[2 * (j * L + k)] = sx / cnt;
        next[2 * (j * L + k) + 1] = sy / cnt;
      }
    }
    field = next;
  }
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const fx = u[2 * i] * (L - 1),
      fy = u[2 * i + 1] * (L - 1);
    const k0 = Math.min(L - 2, Math.floor(fx)),
      j0 = Math.min(L - 2, Math.floor(fy));
    const tx = fx - k0,
      ty = fy - j0;
    for (let d = 0; d < 2; d++) {
      const a = field[2 * (j0 * L + k0) + d],
        b = field[2 * (j0 * L + k0 + 1) + d],
        c = field[2 * ((j0 + 1) * L + k0) + d],
        e = field[2 * ((j0 + 1) * L + k0 + 1) + d];
      out[2 * i + d] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + e * tx) * ty;
    }
  }
  return out;
}
