/**
 * What the looks stage reads from an atlas: movies found by name, their stills in
 * film order, and feature vectors normalised for cosine similarity.
 *
 * Normalisation (`normalize`): 'zscore' (default) scales every feature column to
 * zero mean and unit variance before the rows are made unit length — colour
 * statistics mix histogram bins (0–1) with CIELAB moments (0–100), and without it
 * the few large columns decide everything; 'center' only subtracts the column
 * means (the usual choice for CNN activations); 'none' is plain cosine.
 */
import type { Atlas } from '../atlas/atlas.js';
import type { StillRef } from '../atlas/clusters.js';
import { readJsonFile, writeAtomic } from '../atlas/files.js';
import { statsFile } from '../atlas/paths.js';
import { movieLabel, movieSlug, type MovieRow, type StillRow } from '../catalog/catalog.js';
import { FeatureReader } from '../embed/features.js';
import { AtlasError, unknownChoice } from '../errors.js';
import type { RowSource } from '../types.js';

export type Normalization = 'zscore' | 'center' | 'none';
export const NORMALIZATIONS: readonly Normalization[] = ['zscore', 'center', 'none'];
export const DEFAULT_NORMALIZATION: Normalization = 'zscore';

export function normalization(name: string): Normalization {
  if (!(NORMALIZATIONS as readonly string[]).includes(name))
    throw unknownChoice('normalisation', name, NORMALIZATIONS);
  return name as Normalization;
}

/** Finds a movie by "Title (Year)", title, slug or numeric id (case and accents ignored). */
export async function findMovie(atlas: Atlas, text: string): Promise<MovieRow> {
  const movies = await atlas.catalog.movies();
  const t = text.trim();
  const slug = movieSlug(t);
  const key = (s: string): string => movieSlug(s);
  let hits = movies.filter((m) => String(m.id) === t || m.slug === t || key(movieLabel(m)) === slug);
  if (hits.length === 0) hits = movies.filter((m) => key(m.title) === slug);
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) {
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `'${text}' names ${hits.length} movies: ${hits.map(movieLabel).join('; ')}`,
      {
        value: text,
        suggestion: 'give the year too: "Title (Year)"',
      },
    );
  }
  const near = movies
    .filter((m) => key(m.title).includes(slug) || slug.includes(key(m.title)))
    .slice(0, 5)
    .map(movieLabel);
  throw new AtlasError('NOT_FOUND', `no movie '${text}' in ${atlas.paths.root}`, {
    value: text,
    suggestion: near.length
      ? `did you mean: ${near.join('; ')}?`
      : `${movies.length} movies in the atlas; \`filmatlas status\` lists counts`,
  });
}

/** Catalogue facts about the stills of a feature matrix. */
export interface StillIndex {
  movies: Map<number, MovieRow>;
  /** Ready stills by id. */
  stills: Map<number, StillRow>;
}

export async function stillIndex(atlas: Atlas): Promise<StillIndex> {
  return {
    movies: new Map((await atlas.catalog.movies()).map((m) => [m.id, m])),
    stills: new Map((await atlas.catalog.stills('ready')).map((s) => [s.id, s])),
  };
}

/**
 * A stored feature matrix with every row normalised for cosine similarity (unit
 * length after the chosen column normalisation). Column statistics come from one
 * streamed pass; rows are read and normalised block by block.
 */
export class LookVectors implements RowSource {
  readonly reader: FeatureReader;
  readonly model: string;
  readonly normalize: Normalization;
  readonly rows: number;
  readonly dim: number;
  readonly stillIds: Uint32Array;
  private readonly mean: Float64Array | null;
  private readonly invStd: Float64Array | null;
  private rowOfId: Map<number, number> | undefined;

  private constructor(
    reader: FeatureReader,
    model: string,
    normalize: Normalization,
    mean: Float64Array | null,
    invStd: Float64Array | null,
  ) {
    this.reader = reader;
    this.model = model;
    this.normalize = normalize;
    this.rows = reader.rows;
    this.dim = reader.dim;
    this.stillIds = reader.stillIds;
    this.mean = mean;
    this.invStd = invStd;
  }

  static open(atlas: Atlas, model: string, normalize: Normalization = DEFAULT_NORMALIZATION): LookVectors {
    const reader = FeatureReader.open(atlas, model);
    if (normalize === 'none') return new LookVectors(reader, model, normalize, null, null);
    const d = reader.dim;
    const { sum, sum2 } = columnSums(atlas, reader);
    const n = reader.rows;
    const mean = new Float64Array(d);
    const invStd = new Float64Array(d).fill(1);
    for (let j = 0; j < d; j++) {
      mean[j] = sum[j] / n;
      if (normalize === 'zscore') {
        const v = Math.max(0, sum2[j] / n - mean[j] ** 2);
        invStd[j] = v > 1e-12 ? 1 / Math.sqrt(v) : 0; // a constant column carries nothing
      }
    }
    return new LookVectors(reader, model, normalize, mean, normalize === 'zscore' ? invStd : null);
  }

  /** Normalises raw rows (count × dim) in place: column normalisation, then unit length. */
  normalizeRows(x: Float32Array, count: number): Float32Array {
    const d = this.dim;
    for (let i = 0; i < count; i++) {
      const o = i * d;
      let n2 = 0;
      for (let j = 0; j < d; j++) {
        let v = x[o + j];
        if (this.mean) v -= this.mean[j];
        if (this.invStd) v *= this.invStd[j];
        x[o + j] = v;
        n2 += v * v;
      }
      const inv = n2 > 0 ? 1 / Math.sqrt(n2) : 0;
      for (let j = 0; j < d; j++) x[o + j] *= inv;
    }
    return x;
  }

  readRows(start: number, count: number): Float32Array {
    return this.normalizeRows(this.reader.readRows(start, count), count);
  }

  /** Row of a still id, or undefined. */
  rowOf(stillId: number): number | undefined {
    if (!this.rowOfId) {
      this.rowOfId = new Map();
      this.stillIds.forEach((id, i) => this.rowOfId!.set(id, i));
    }
    return this.rowOfId.get(stillId);
  }

  /** Normalised rows of the given row numbers, gathered (m × dim). */
  gather(rows: readonly number[]): Float32Array {
    const out = new Float32Array(rows.length * this.dim);
    rows.forEach((r, i) => out.set(this.reader.readRows(r, 1), i * this.dim));
    return this.normalizeRows(out, rows.length);
  }

  /** The whole normalised matrix in memory (for collections that fit). */
  all(): Float32Array {
    return this.readRows(0, this.rows);
  }
}

/**
 * Column sums and sums of squares of a feature matrix, cached in
 * `<atlas>/looks/stats/<model>.json` against the features' row count and `updatedAt`
 * (one streamed pass over a big matrix is worth keeping). A read-only atlas just skips
 * the cache write.
 */
function columnSums(atlas: Atlas, reader: FeatureReader): { sum: Float64Array; sum2: Float64Array } {
  const d = reader.dim;
  const path = statsFile(atlas.paths, reader.manifest.model);
  const c = readJsonFile<{ rows: number; dim: number; updatedAt: string; sum: number[]; sum2: number[] }>(
    path,
  );
  // Missing, damaged or stale: computed below.
  if (
    c &&
    c.rows === reader.rows &&
    c.dim === d &&
    c.updatedAt === reader.manifest.updatedAt &&
    Array.isArray(c.sum) &&
    Array.isArray(c.sum2) &&
    c.sum.length === d &&
    c.sum2.length === d
  ) {
    return { sum: Float64Array.from(c.sum), sum2: Float64Array.from(c.sum2) };
  }
  const sum = new Float64Array(d);
  const sum2 = new Float64Array(d);
  const block = Math.max(1, Math.floor((8 << 20) / d));
  for (let s = 0; s < reader.rows; s += block) {
    const c = Math.min(block, reader.rows - s);
    const x = reader.readRows(s, c);
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j];
        sum[j] += v;
        sum2[j] += v * v;
      }
    }
  }
  try {
    writeAtomic(
      path,
      JSON.stringify({
        rows: reader.rows,
        dim: d,
        updatedAt: reader.manifest.updatedAt,
        sum: Array.from(sum),
        sum2: Array.from(sum2),
      }),
    );
  } catch {
    // a read-only atlas: no cache
  }
  return { sum, sum2 };
}

/** Rows of a movie's stills in the feature matrix, in film order (stills without features are left out). */
export function movieRows(
  vectors: LookVectors,
  index: StillIndex,
  movieId: number,
): { rows: number[]; stillIds: number[] } {
  const list: { row: number; still: StillRow }[] = [];
  vectors.stillIds.forEach((id, row) => {
    const s = index.stills.get(id);
    if (s && s.movieId === movieId) list.push({ row, still: s });
  });
  list.sort((a, b) => a.still.ordinal - b.still.ordinal || a.still.id - b.still.id);
  return { rows: list.map((l) => l.row), stillIds: list.map((l) => l.still.id) };
}

/** How a still is shown in results (stored in cluster summaries, hence defined in src/atlas/clusters.ts). */
export type { StillRef };

export function stillRef(index: StillIndex, stillId: number): StillRef {
  const s = index.stills.get(stillId);
  const m = s ? index.movies.get(s.movieId) : undefined;
  return { stillId, movie: m ? movieLabel(m) : '', ordinal: s?.ordinal ?? -1, source: s?.source ?? '' };
}

/** The feature set looks use when none is named: vgg16 when the atlas has it, else color, else the first there is. */
export function defaultFeatures(atlas: Atlas): string {
  const names = FeatureReader.list(atlas)
    .filter((m) => m.rows > 0)
    .map((m) => m.model);
  if (names.includes('vgg16')) return 'vgg16';
  if (names.includes('color')) return 'color';
  if (names.length > 0) return names.sort()[0];
  throw new AtlasError('NOT_FOUND', `no features in ${atlas.paths.root}`, {
    value: atlas.paths.root,
    suggestion: `compute some with \`filmatlas embed --atlas ${atlas.paths.root} --model color\``,
  });
}
