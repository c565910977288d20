/**
 * Similar stills and similar movies.
 *
 * Stills: cosine similarity of normalised feature rows (see vectors.ts). Exact k-NN
 * is `StillNeighbours` (query.ts: blocked products on ONNX Runtime, the same search
 * the explorer answers with); for collections over `EXACT_LIMIT` stills (or
 * `method: 'approx'`) an HNSW index (ann.ts, built and stored on first use) answers
 * instead. A still given as an image file is standardised and embedded on the fly
 * with the embedder that made the features.
 *
 * Movies: set-to-set similarity of their stills, the symmetric mean best-match
 * (Chamfer) similarity: for each still of A its most similar still of B, averaged,
 * and the same from B to A, and the two means averaged. One good match does not
 * make two movies alike, and a movie's mean vector (which blurs a varied movie
 * into grey) is never used. Reasons: the best-matching still pairs and the palette
 * colours the two movies share.
 *
 * Both only read the atlas, except where they are asked to make what is missing:
 * the HNSW index (`method: 'approx'`) and the palettes (`palettes: true`, the CLI's
 * default). Given a stored palette set (or `palettes: false`) `similarMovies` is a
 * read-only query (see query.ts).
 */
import { readFileSync } from 'node:fs';
import type { SharedColour } from '../api/contract.js';
import type { Atlas } from '../atlas/atlas.js';
import { movieLabel } from '../catalog/catalog.js';
import { EMBEDDERS } from '../embed/registry.js';
import { AtlasError, describeError, throwIfAborted, unknownChoice } from '../errors.js';
import { deltaE, describeLab } from '../imaging/palette-colour.js';
import { standardiseImage } from '../imaging/standardise.js';
import { matmul } from '../numeric/matmul.js';
import type { StageOptions } from '../types.js';
import { openAnnIndex } from './ann.js';
import { emd } from './emd.js';
import { computePalettes, type PackedPalette, type PaletteSet } from './palette.js';
import { StillNeighbours, type NearStill } from './query.js';
import {
  DEFAULT_NORMALIZATION,
  findMovie,
  LookVectors,
  stillIndex,
  stillRef,
  type Normalization,
  type StillIndex,
  type StillRef,
} from './vectors.js';
import { checkInt } from '../validate.js';

/** Collections up to this many stills are searched exactly by default. */
export const EXACT_LIMIT = 500_000;

export type SearchMethod = 'auto' | 'exact' | 'approx';
export const SEARCH_METHODS: readonly SearchMethod[] = ['auto', 'exact', 'approx'];

export interface SimilarStillsOptions extends StageOptions {
  /** Feature set (embedder id) to compare by. */
  features: string;
  /** A still of the atlas, by id… */
  still?: number;
  /** …or an image file from outside it. */
  file?: string;
  /** Weights for embedding `file` (models with weights; default: the cached download). */
  weights?: string;
  /** Neighbours wanted. Default 12; 1–1000. */
  k?: number;
  /** 'auto' (default: exact up to 500,000 stills, else approximate), 'exact' or 'approx'. */
  method?: SearchMethod;
  normalize?: Normalization;
  /** ONNX Runtime threads. Default: all cores. */
  threads?: number;
}

export interface SimilarStill extends StillRef {
  /** Cosine similarity of the normalised features (1 = identical). */
  similarity: number;
}

export interface SimilarStillsResult {
  features: string;
  normalize: Normalization;
  method: 'exact' | 'approx';
  query: { stillId?: number; file?: string; movie?: string };
  searched: number;
  neighbours: SimilarStill[];
}

/** Embeds an image file with the embedder that made `vectors`, refusing a mismatch of weights or preprocessing. */
export async function embedFile(vectors: LookVectors, file: string, weights?: string): Promise<Float32Array> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new AtlasError('NOT_FOUND', `cannot read the still ${file}: ${describeError(cause)}`, {
      value: file,
      cause,
    });
  }
  const still = await standardiseImage(bytes);
  const m = vectors.reader.manifest;
  const entry = EMBEDDERS[m.model];
  if (!entry) throw unknownChoice('model', m.model, Object.keys(EMBEDDERS));
  const layer = m.details?.layer;
  const embedder = await entry.create({
    weights,
    preprocess: m.preprocess,
    layer: typeof layer === 'string' ? layer : undefined,
  });
  try {
    if (
      (embedder.weightsSha256 ?? '') !== (m.weightsSha256 ?? '') ||
      embedder.dim !== m.dim ||
      embedder.preprocess !== m.preprocess
    ) {
      throw new AtlasError(
        'STATE',
        `the '${m.model}' embedder available now differs from the one that made this atlas's features (weights, preprocessing or dimension)`,
        {
          value: m.model,
          suggestion: 'use the same weights (--weights / models pull), or re-embed the atlas with --redo',
        },
      );
    }
    const out = new Float32Array(embedder.dim);
    await embedder.embed([still.pixels], out);
    return vectors.normalizeRows(out, 1);
  } finally {
    await embedder.close();
  }
}

function checkK(k: number, name = '--k'): void {
  checkInt(name, k, 1, 1000);
}

export async function similarStills(
  atlas: Atlas,
  options: SimilarStillsOptions,
): Promise<SimilarStillsResult> {
  const k = options.k ?? 12;
  checkK(k);
  const requested = options.method ?? 'auto';
  if (!SEARCH_METHODS.includes(requested)) throw unknownChoice('search method', requested, SEARCH_METHODS);
  if ((options.still === undefined) === (options.file === undefined)) {
    throw new AtlasError('INVALID_ARGUMENT', 'give either a still id or an image file to compare', {
      value: '',
    });
  }
  const normalize = options.normalize ?? DEFAULT_NORMALIZATION;
  const exact = StillNeighbours.open(atlas, options.features, { normalize, threads: options.threads });
  const vectors = exact.vectors;
  const index = await stillIndex(atlas);
  const method: 'exact' | 'approx' =
    requested === 'auto' ? (vectors.rows > EXACT_LIMIT ? 'approx' : 'exact') : requested;
  const query: SimilarStillsResult['query'] = {};
  let near: NearStill[];
  if (options.still !== undefined) {
    const row = vectors.rowOf(options.still);
    if (row === undefined) {
      const known = index.stills.has(options.still);
      throw new AtlasError(
        'NOT_FOUND',
        known
          ? `still ${options.still} has no '${options.features}' features`
          : `no still ${options.still} in ${atlas.paths.root}`,
        {
          value: String(options.still),
          suggestion: known
            ? `run \`filmatlas embed --model ${options.features}\``
            : 'still ids are listed by `filmatlas export features` and by the explorer',
        },
      );
    }
    query.stillId = options.still;
    query.movie = stillRef(index, options.still).movie;
    near =
      method === 'exact'
        ? await exact.ofStill(options.still, k)
        : await approxNearest(atlas, vectors, vectors.gather([row]), k, row, options);
  } else {
    const q = await embedFile(vectors, options.file!, options.weights);
    query.file = options.file;
    near =
      method === 'exact'
        ? (await exact.ofVectors(q, 1, k, { signal: options.signal }))[0]
        : await approxNearest(atlas, vectors, q, k, -1, options);
  }
  const neighbours = near.map((n) => ({
    ...stillRef(index, n.stillId),
    similarity: round(1 - n.distance, 4),
  }));
  return { features: options.features, normalize, method, query, searched: vectors.rows, neighbours };
}

/** The k nearest stills of one query vector by the HNSW index (built and stored when missing), `self` left out. */
async function approxNearest(
  atlas: Atlas,
  vectors: LookVectors,
  q: Float32Array,
  k: number,
  self: number,
  options: StageOptions,
): Promise<NearStill[]> {
  const index = await openAnnIndex(atlas, vectors, options);
  const r = index.search(q, 1, Math.min(k + (self >= 0 ? 1 : 0), vectors.rows));
  const out: NearStill[] = [];
  for (let j = 0; j < r.indices.length && out.length < k; j++) {
    const row = r.indices[j];
    if (row < 0 || row === self) continue;
    out.push({ stillId: vectors.stillIds[row], row, distance: r.distances[j] });
  }
  return out;
}

const round = (v: number, d: number): number => Math.round(v * 10 ** d) / 10 ** d;

// ---------------------------------------------------------------------------------------------
// Movies

export interface SimilarMoviesOptions extends StageOptions {
  features: string;
  /** The movie, as "Title (Year)", title, slug or id. */
  movie: string;
  /** Movies wanted. Default 10; 1–1000. */
  k?: number;
  normalize?: Normalization;
  /** Best-matching still pairs to give as reasons. Default 3; 0–20. */
  pairs?: number;
  /**
   * Shared colours as reasons: true (default) computes and stores the missing palettes
   * first (`computePalettes`); a stored palette set is used as it is (read-only, as the
   * explorer does); false leaves them out.
   */
  palettes?: boolean | PaletteSet;
  threads?: number;
}

/** A colour two movies' palettes share (defined by the API contract, which serves it as is). */
export type { SharedColour };

export interface SimilarMovie {
  movie: string;
  movieId: number;
  /** Symmetric mean best-match cosine similarity (−1…1, 1 = every still has an identical partner both ways). */
  similarity: number;
  /** Mean best-match similarity of the query's stills in this movie, and of this movie's in the query. */
  forward: number;
  backward: number;
  stills: number;
  reasons: {
    pairs: { a: StillRef; b: StillRef; similarity: number }[];
    sharedColours: SharedColour[];
    /** EMD between the two movie palettes in ΔE units (lower = closer). */
    paletteDistance?: number;
  };
}

export interface SimilarMoviesResult {
  features: string;
  normalize: Normalization;
  movie: string;
  movieId: number;
  stills: number;
  compared: number;
  movies: SimilarMovie[];
}

/** Palette colours two movies share: pairings of the optimal transport plan with ΔE < 15 and ≥ 5 % of the mass. */
export function sharedColours(
  a: PackedPalette,
  b: PackedPalette,
): { shared: SharedColour[]; distance: number } {
  const sa: number[] = [];
  const sb: number[] = [];
  for (let s = 0; s < a.length / 4; s++) if (a[s * 4 + 3] > 0) sa.push(s);
  for (let s = 0; s < b.length / 4; s++) if (b[s * 4 + 3] > 0) sb.push(s);
  const cost = new Float64Array(sa.length * sb.length);
  sa.forEach((i, x) =>
    sb.forEach(
      (j, y) =>
        (cost[x * sb.length + y] = deltaE(
          a[i * 4],
          a[i * 4 + 1],
          a[i * 4 + 2],
          b[j * 4],
          b[j * 4 + 1],
          b[j * 4 + 2],
        )),
    ),
  );
  const r = emd(
    sa.map((i) => a[i * 4 + 3]),
    sb.map((j) => b[j * 4 + 3]),
    cost,
  );
  const shared: SharedColour[] = [];
  sa.forEach((i, x) =>
    sb.forEach((j, y) => {
      const f = r.flow[x * sb.length + y];
      const d = cost[x * sb.length + y];
      if (f >= 0.05 && d < 15) {
        shared.push({
          a: describeLab(a[i * 4], a[i * 4 + 1], a[i * 4 + 2], 1).hex,
          b: describeLab(b[j * 4], b[j * 4 + 1], b[j * 4 + 2], 1).hex,
          deltaE: round(d, 2),
          share: round(f, 3),
        });
      }
    }),
  );
  shared.sort((p, q) => q.share - p.share);
  return { shared, distance: round(r.distance, 3) };
}

/** Rows of every movie in the feature matrix, in film order. */
export function rowsByMovie(vectors: LookVectors, index: StillIndex): Map<number, number[]> {
  const list = new Map<number, { row: number; ord: number }[]>();
  vectors.stillIds.forEach((id, row) => {
    const s = index.stills.get(id);
    if (!s) return;
    let l = list.get(s.movieId);
    if (!l) list.set(s.movieId, (l = []));
    l.push({ row, ord: s.ordinal });
  });
  const out = new Map<number, number[]>();
  for (const [m, l] of list)
    out.set(
      m,
      l.sort((x, y) => x.ord - y.ord || x.row - y.row).map((e) => e.row),
    );
  return out;
}

/**
 * Movies most similar to one movie by the symmetric mean best-match similarity of
 * their stills. Streams the feature matrix once through A·Xᵀ products.
 */
export async function similarMovies(
  atlas: Atlas,
  options: SimilarMoviesOptions,
): Promise<SimilarMoviesResult> {
  const k = options.k ?? 10;
  checkK(k);
  const pairsWanted = options.pairs ?? 3;
  checkInt('--pairs', pairsWanted, 0, 20);
  const normalize = options.normalize ?? DEFAULT_NORMALIZATION;
  const target = await findMovie(atlas, options.movie);
  const vectors = LookVectors.open(atlas, options.features, normalize);
  const index = await stillIndex(atlas);
  const byMovie = rowsByMovie(vectors, index);
  const aRows = byMovie.get(target.id);
  if (!aRows || aRows.length === 0) {
    throw new AtlasError(
      'NOT_FOUND',
      `movie '${movieLabel(target)}' has no stills with '${options.features}' features`,
      {
        value: options.movie,
        suggestion: `run \`filmatlas embed --model ${options.features}\``,
      },
    );
  }
  const movieIds = [...byMovie.keys()].filter((id) => id !== target.id);
  const slot = new Map(movieIds.map((id, i) => [id, i]));
  const movieOfRow = new Int32Array(vectors.rows).fill(-1);
  for (const [id, rows] of byMovie) if (id !== target.id) for (const r of rows) movieOfRow[r] = slot.get(id)!;
  const m = aRows.length;
  const M = movieIds.length;
  const a = vectors.gather(aRows);
  const rowBest = new Float32Array(m * M).fill(-Infinity);
  const rowArg = new Int32Array(m * M).fill(-1);
  const colBest = new Float32Array(vectors.rows).fill(-Infinity);
  const colArg = new Int32Array(vectors.rows).fill(-1);
  const block = Math.max(64, Math.floor((32 << 20) / Math.max(1, m * 4 + vectors.dim * 4)));
  const stage = `similar movies ${options.features}`;
  for (let s = 0; s < vectors.rows; s += block) {
    throwIfAborted(options.signal);
    const c = Math.min(block, vectors.rows - s);
    const x = vectors.readRows(s, c);
    const sim = await matmul('nt', a, m, vectors.dim, x, c, { threads: options.threads });
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < c; j++) {
        const mv = movieOfRow[s + j];
        if (mv < 0) continue;
        const v = sim[i * c + j];
        if (v > rowBest[i * M + mv]) {
          rowBest[i * M + mv] = v;
          rowArg[i * M + mv] = s + j;
        }
        if (v > colBest[s + j]) {
          colBest[s + j] = v;
          colArg[s + j] = i;
        }
      }
    }
    options.onProgress?.({ stage, done: s + c, total: vectors.rows });
  }
  const palettes =
    options.palettes === false
      ? undefined
      : options.palettes === undefined || options.palettes === true
        ? (await computePalettes(atlas, { signal: options.signal })).set
        : options.palettes;
  const targetPalette = palettes?.movies.get(target.id);
  const scored = movieIds.map((id, mv) => {
    let f = 0;
    for (let i = 0; i < m; i++) f += rowBest[i * M + mv];
    f /= m;
    const rows = byMovie.get(id)!;
    let b = 0;
    for (const r of rows) b += colBest[r];
    b /= rows.length;
    return { id, mv, forward: f, backward: b, similarity: (f + b) / 2, stills: rows.length };
  });
  scored.sort((p, q) => q.similarity - p.similarity || p.id - q.id);
  const movies: SimilarMovie[] = scored.slice(0, k).map((sc) => {
    const pairs: { i: number; r: number; v: number }[] = [];
    for (let i = 0; i < m; i++) pairs.push({ i, r: rowArg[i * M + sc.mv], v: rowBest[i * M + sc.mv] });
    for (const r of byMovie.get(sc.id)!) pairs.push({ i: colArg[r], r, v: colBest[r] });
    pairs.sort((p, q) => q.v - p.v);
    const seen = new Set<string>();
    const top: SimilarMovie['reasons']['pairs'] = [];
    for (const p of pairs) {
      if (top.length >= pairsWanted) break;
      const key = `${p.i}/${p.r}`;
      if (seen.has(key) || p.i < 0 || p.r < 0) continue;
      seen.add(key);
      top.push({
        a: stillRef(index, vectors.stillIds[aRows[p.i]]),
        b: stillRef(index, vectors.stillIds[p.r]),
        similarity: round(p.v, 4),
      });
    }
    const other = palettes?.movies.get(sc.id);
    const colours = targetPalette && other ? sharedColours(targetPalette, other) : undefined;
    return {
      movie: movieLabel(index.movies.get(sc.id)!),
      movieId: sc.id,
      similarity: round(sc.similarity, 4),
      forward: round(sc.forward, 4),
      backward: round(sc.backward, 4),
      stills: sc.stills,
      reasons: {
        pairs: top,
        sharedColours: colours?.shared ?? [],
        ...(colours ? { paletteDistance: colours.distance } : {}),
      },
    };
  });
  return {
    features: options.features,
    normalize,
    movie: movieLabel(target),
    movieId: target.id,
    stills: m,
    compared: M,
    movies,
  };
}
