/**
 * Grid shapes with RasterFairy's semantics: the rectangular arrangements of n
 * cells (every factor pair, most square first), a shape the user gives, and a
 * near-square shape with a few empty cells when n has awkward factors (a prime
 * has only 1×n).
 *
 * Orientation: an arrangement (a, b) with a ≤ b is RasterFairy's (width, height),
 * so the default grid is `a` cells across and `b` down; for 132,617 stills that is
 * 269 × 493, which at 224×126 px a cell is the near-square 60,256 × 62,118 px image.
 * Shapes are written COLSxROWS (width × height in cells, like `--cell WxH`).
 */
import { AtlasError, invalidArgument } from '../errors.js';
import type { GridShape } from './grid-assign.js';
import { requireInt } from '../validate.js';

/**
 * RasterFairy's `getRectArrangements(n)`: every (a, b) with a·b = n and a ≤ b,
 * most square (largest a/b) first. `rectArrangements(132617)` is
 * [[269, 493], [29, 4573], [17, 7801], [1, 132617]].
 */
export function rectArrangements(n: number): [number, number][] {
  requireInt('n', n, 1, Infinity);
  const out: [number, number][] = [];
  for (let a = Math.floor(Math.sqrt(n)); a >= 1; a--) {
    if (n % a === 0) out.push([a, n / a]);
  }
  return out;
}

/**
 * Below this width/height ratio RasterFairy gives up on an exact arrangement and
 * uses an incomplete near-square grid instead (its `proportionThreshold`).
 */
export const PROPORTION_THRESHOLD = 0.4;

/** The most square (cols, rows) with cols ≤ rows and cols·rows ≥ n that leaves the fewest cells empty among near-square shapes. */
export function nearSquareShape(n: number): GridShape {
  requireInt('n', n, 1, Infinity);
  const root = Math.sqrt(n);
  let best: GridShape = { cols: Math.ceil(root), rows: Math.ceil(n / Math.ceil(root)) };
  let bestEmpty = best.cols * best.rows - n;
  // Widths from √n down to 0.8·√n: aspect ratio stays ≥ ~0.64, empties are few.
  for (let cols = Math.ceil(root); cols >= Math.max(1, Math.floor(root * 0.8)); cols--) {
    const rows = Math.ceil(n / cols);
    const empty = cols * rows - n;
    if (empty < bestEmpty) {
      best = { cols, rows };
      bestEmpty = empty;
    }
  }
  if (best.cols > best.rows) best = { cols: best.rows, rows: best.cols };
  return best;
}

/**
 * The grid for n points: the given shape (which must hold them), else the most
 * square exact arrangement, else (awkward n) a near-square shape with a few empty
 * cells.
 */
export function chooseShape(n: number, shape?: GridShape): GridShape {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new AtlasError('INVALID_ARGUMENT', `a grid needs at least one point (got ${n})`, {
      value: String(n),
    });
  }
  if (shape) {
    if (shape.cols * shape.rows < n) {
      throw new AtlasError(
        'INVALID_ARGUMENT',
        `grid ${shape.cols}x${shape.rows} has ${shape.cols * shape.rows} cells, too few for ${n} points`,
        {
          value: `${shape.cols}x${shape.rows}`,
          suggestion: `give a shape with at least ${n} cells, e.g. ${rectArrangements(n)[0].join('x')} or leave --shape out`,
        },
      );
    }
    return shape;
  }
  const [a, b] = rectArrangements(n)[0];
  if (a / b >= PROPORTION_THRESHOLD) return { cols: a, rows: b };
  return nearSquareShape(n);
}

/** Parses `COLSxROWS` ("269x493"), naming the option and value when it is not one. */
export function parseShape(text: string, name = '--shape'): GridShape {
  const m = /^\s*(\d+)\s*[x×X]\s*(\d+)\s*$/.exec(text);
  const cols = m ? Number(m[1]) : NaN,
    rows = m ? Number(m[2]) : NaN;
  if (!m || cols < 1 || rows < 1 || cols * rows > 2 ** 31 - 1) {
    throw invalidArgument(name, 'COLSxROWS with positive integers (e.g. 269x493)', text);
  }
  return { cols, rows };
}
