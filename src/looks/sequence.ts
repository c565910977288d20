/**
 * Movies as sequences of stills: dynamic time warping between two movies' stills
 * (in film order) over cosine distances of their normalised features, with the
 * alignment path and a normalised distance; a visual rhythm curve per movie (the
 * distance between consecutive stills); an aligned side-by-side strip PNG.
 *
 * The normalised DTW distance is the mean cosine distance (1 − cos, 0…2) along the
 * optimal path: total cost ÷ path length, so movies of different lengths compare on
 * one scale.
 */
import type { Atlas } from '../atlas/atlas.js';
import { stillPictures } from '../atlas/stills.js';
import { movieLabel } from '../catalog/catalog.js';
import { AtlasError } from '../errors.js';
import { matmul } from '../numeric/matmul.js';
import type { StageOptions } from '../types.js';
import { writeRgbPng } from './palette.js';
import {
  DEFAULT_NORMALIZATION,
  findMovie,
  LookVectors,
  movieRows,
  stillIndex,
  stillRef,
  type Normalization,
  type StillRef,
} from './vectors.js';
import { checkInt, checkNumber } from '../validate.js';

export interface DtwResult {
  /** Sum of the costs along the path. */
  total: number;
  /** total ÷ path length. */
  normalized: number;
  /** The path as (i, j) pairs, from (0, 0) to (n − 1, m − 1). */
  path: [number, number][];
}

/**
 * DTW over an n × m cost matrix (row-major), steps (1,0), (0,1), (1,1). `band` (a
 * fraction 0–1 of the longer length, Sakoe–Chiba) limits |i/n − j/m|; default 1 (no limit).
 */
export function dtw(cost: ArrayLike<number>, n: number, m: number, band = 1): DtwResult {
  if (n === 0 || m === 0) throw new RangeError('DTW needs two non-empty sequences');
  const acc = new Float64Array(n * m).fill(Infinity);
  // At least one step of either sequence wide, so the band always holds a path.
  const w = Math.max(band, n > 1 ? 1 / (n - 1) : 0, m > 1 ? 1 / (m - 1) : 0) + 1e-9;
  const inBand = (i: number, j: number): boolean =>
    Math.abs((n > 1 ? i / (n - 1) : 0) - (m > 1 ? j / (m - 1) : 0)) <= w;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      if (!inBand(i, j) && !(i === 0 && j === 0)) continue;
      const c = cost[i * m + j];
      if (i === 0 && j === 0) {
        acc[0] = c;
        continue;
      }
      let best = Infinity;
      if (i > 0) best = Math.min(best, acc[(i - 1) * m + j]);
      if (j > 0) best = Math.min(best, acc[i * m + j - 1]);
      if (i > 0 && j > 0) best = Math.min(best, acc[(i - 1) * m + j - 1]);
      acc[i * m + j] = c + best;
    }
  }
  const total = acc[n * m - 1];
  if (!Number.isFinite(total)) throw new RangeError('DTW band too narrow for these lengths');
  const path: [number, number][] = [[n - 1, m - 1]];
  let i = n - 1,
    j = m - 1;
  while (i > 0 || j > 0) {
    const diag = i > 0 && j > 0 ? acc[(i - 1) * m + j - 1] : Infinity;
    const up = i > 0 ? acc[(i - 1) * m + j] : Infinity;
    const leftV = j > 0 ? acc[i * m + j - 1] : Infinity;
    if (diag <= up && diag <= leftV) {
      i--;
      j--;
    } else if (up <= leftV) i--;
    else j--;
    path.push([i, j]);
  }
  path.reverse();
  return { total, normalized: total / path.length, path };
}

/** Cosine distances (1 − a·b) between unit rows a (n × d) and b (m × d). */
export async function cosineCost(
  a: Float32Array,
  n: number,
  b: Float32Array,
  m: number,
  d: number,
): Promise<Float32Array> {
  const s = await matmul('nt', a, n, d, b, m);
  const out = new Float32Array(n * m);
  for (let i = 0; i < n * m; i++) out[i] = Math.max(0, 1 - s[i]);
  return out;
}

/** Distance between consecutive stills (1 − cos) of unit rows x (n × d): n − 1 values. */
export function rhythm(x: Float32Array, n: number, d: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] * x[(i + 1) * d + j];
    out.push(Math.max(0, 1 - s));
  }
  return out;
}

export interface CompareOptions extends StageOptions {
  features: string;
  /** The two movies, as "Title (Year)", title, slug or id. */
  a: string;
  b: string;
  normalize?: Normalization;
  /** Sakoe–Chiba band, a fraction 0.01–1 of the length. Default 1 (none). */
  band?: number;
  /** Write the aligned strip here (PNG). */
  png?: string;
  /** Columns in the strip (path steps shown, evenly spaced). Default 40; 2–500. */
  columns?: number;
  /** Include the full alignment path in the result. Default true. */
  path?: boolean;
}

export interface SequenceSummary {
  movie: string;
  stills: number;
  /** Distance between consecutive stills, in film order. */
  rhythm: number[];
  rhythmMean: number;
  rhythmStd: number;
}

export interface CompareResult {
  features: string;
  normalize: Normalization;
  a: SequenceSummary;
  b: SequenceSummary;
  /** Mean cosine distance along the optimal alignment (0 = identical sequences, up to 2). */
  distance: number;
  total: number;
  pathLength: number;
  /** Alignment path as [i, j] still positions. */
  path?: [number, number][];
  /** The most alike aligned pairs. */
  closest: { a: StillRef; b: StillRef; distance: number }[];
  png?: { path: string; width: number; height: number; columns: number };
}

const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;

function summary(label: string, x: Float32Array, n: number, d: number): SequenceSummary {
  const r = rhythm(x, n, d);
  const mean = r.length ? r.reduce((a, v) => a + v, 0) / r.length : 0;
  const sd = r.length ? Math.sqrt(r.reduce((a, v) => a + (v - mean) ** 2, 0) / r.length) : 0;
  return { movie: label, stills: n, rhythm: r.map(r4), rhythmMean: r4(mean), rhythmStd: r4(sd) };
}

/** DTW of two unit-row sequences. */
export async function compareSequences(
  a: Float32Array,
  n: number,
  b: Float32Array,
  m: number,
  d: number,
  band = 1,
): Promise<DtwResult> {
  return dtw(await cosineCost(a, n, b, m, d), n, m, band);
}

export async function compareMovies(atlas: Atlas, options: CompareOptions): Promise<CompareResult> {
  const band = options.band ?? 1;
  checkNumber('--band', band, 0.01, 1);
  const columns = options.columns ?? 40;
  checkInt('--columns', columns, 2, 500);
  const normalize = options.normalize ?? DEFAULT_NORMALIZATION;
  const ma = await findMovie(atlas, options.a);
  const mb = await findMovie(atlas, options.b);
  const vectors = LookVectors.open(atlas, options.features, normalize);
  const index = await stillIndex(atlas);
  const ra = movieRows(vectors, index, ma.id);
  const rb = movieRows(vectors, index, mb.id);
  for (const [m, r, text] of [
    [ma, ra, options.a],
    [mb, rb, options.b],
  ] as const) {
    if (r.rows.length === 0) {
      throw new AtlasError(
        'NOT_FOUND',
        `movie '${movieLabel(m)}' has no stills with '${options.features}' features`,
        { value: text, suggestion: `run \`filmatlas embed --model ${options.features}\`` },
      );
    }
  }
  const d = vectors.dim;
  const xa = vectors.gather(ra.rows);
  const xb = vectors.gather(rb.rows);
  const n = ra.rows.length;
  const m = rb.rows.length;
  const cost = await cosineCost(xa, n, xb, m, d);
  const r = dtw(cost, n, m, band);
  const closest = r.path
    .map(([i, j]) => ({ i, j, c: cost[i * m + j] }))
    .sort((p, q) => p.c - q.c)
    .slice(0, 3)
    .map((p) => ({
      a: stillRef(index, ra.stillIds[p.i]),
      b: stillRef(index, rb.stillIds[p.j]),
      distance: r4(p.c),
    }));
  const result: CompareResult = {
    features: options.features,
    normalize,
    a: summary(movieLabel(ma), xa, n, d),
    b: summary(movieLabel(mb), xb, m, d),
    distance: r4(r.normalized),
    total: r4(r.total),
    pathLength: r.path.length,
    ...(options.path === false ? {} : { path: r.path }),
    closest,
  };
  if (options.png) {
    result.png = await writeAlignedStrip(
      atlas,
      options.png,
      r.path,
      ra.stillIds,
      rb.stillIds,
      cost,
      m,
      columns,
    );
  }
  return result;
}

/**
 * The aligned strip: `columns` steps of the path, evenly spaced; each column shows
 * movie A's still above movie B's, with a band between them coloured by their
 * distance (green = alike, red = far).
 */
export async function writeAlignedStrip(
  atlas: Atlas,
  path: string,
  steps: readonly [number, number][],
  aIds: readonly number[],
  bIds: readonly number[],
  cost: Float32Array,
  m: number,
  columns: number,
): Promise<{ path: string; width: number; height: number; columns: number }> {
  const cw = 112,
    ch = 63,
    gap = 10;
  const cols = Math.min(columns, steps.length);
  const picks = Array.from(
    { length: cols },
    (_, c) => steps[cols === 1 ? 0 : Math.round((c * (steps.length - 1)) / (cols - 1))],
  );
  const width = cols * cw;
  const height = 2 * ch + gap;
  const rgb = new Uint8Array(width * height * 3);
  const pictures = stillPictures(atlas, await atlas.catalog.stills('ready'));
  const cell = (id: number): Promise<Uint8Array | null> => pictures.get(id, cw, ch);
  await Promise.all(
    picks.map(async ([i, j], c) => {
      const [pa, pb] = await Promise.all([cell(aIds[i]), cell(bIds[j])]);
      const x0 = c * cw * 3;
      for (const [px, y0] of [
        [pa, 0],
        [pb, ch + gap],
      ] as const) {
        if (!px) continue;
        for (let y = 0; y < ch; y++)
          rgb.set(px.subarray(y * cw * 3, (y + 1) * cw * 3), (y0 + y) * width * 3 + x0);
      }
      const t = Math.min(1, cost[i * m + j]); // 0 alike … 1 unrelated
      const colour = [Math.round(255 * t), Math.round(200 * (1 - t)), 40];
      for (let y = ch; y < ch + gap; y++)
        for (let x = 0; x < cw; x++) rgb.set(colour, (y * width + c * cw + x) * 3);
    }),
  );
  await writeRgbPng(path, rgb, width, height);
  return { path, width, height, columns: cols };
}
