/**
 * What the explorer shows, read once from an atlas and kept in memory: movies,
 * ready stills, layouts, feature sets for neighbour queries, clusterings and
 * deep-zoom pyramids. Every query here is a plain library call (the HTTP layer in
 * `http.ts` only parses requests and writes responses), and every result count is
 * bounded by the caller's limit and by `MAX_RESULTS`.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Atlas } from '../atlas/atlas.js';
import { movieLabel, type MovieRow, type StillRow } from '../catalog/catalog.js';
import { FeatureReader } from '../embed/features.js';
import { AtlasError } from '../errors.js';
import type { PaletteColour } from '../imaging/palette-colour.js';
import { listLayouts, readLayout, type LayoutManifest, type StoredLayout } from '../atlas/layouts.js';
import { listClusterings, readClusterLabels, readClusterSummary } from '../atlas/clusters.js';
import { readPaletteSet, stillPaletteOf, type PaletteSet } from '../atlas/palettes.js';
import { describePalette } from '../looks/palette.js';
import { paletteDistance, parseColourQuery } from '../looks/search.js';
import { compareMovies } from '../looks/sequence.js';
import { similarMovies as looksSimilarMovies } from '../looks/similar.js';
import { DEFAULT_NORMALIZATION, LookVectors } from '../looks/vectors.js';
import { matmul } from '../numeric/matmul.js';

/** The most results any list query returns, whatever limit is asked for. */
export const MAX_RESULTS = 500;

export interface MovieInfo {
  id: number;
  slug: string;
  title: string;
  year: number | null;
  label: string;
  director: string | null;
  cinematographer: string | null;
  productionDesign: string | null;
  costumeDesign: string | null;
  sourceUrl: string | null;
  attributes: Record<string, string>;
  stills: number;
  /** The first still in film order (the movie's poster on lists), or null. */
  cover: number | null;
}

export interface StillInfo {
  id: number;
  movieId: number;
  ordinal: number;
  /** The file name the still came from (never the full path on the server's disk). */
  file: string;
  width: number | null;
  height: number | null;
  /** Content hash of the standardised image (its ETag). */
  sha256: string;
}

export interface Neighbour {
  id: number;
  movieId: number;
  distance: number;
}

export interface SimilarMovie {
  movie: MovieInfo;
  /** Symmetric mean best-match cosine similarity of the two movies' stills (looks' similar movies). */
  similarity: number;
  /** Why they match, in words. */
  reasons: string[];
  /** The best-matching still pairs (query movie's still, other movie's still). */
  pairs: { a: number; b: number; similarity: number }[];
  /** Palette colours both movies share (when palettes are computed). */
  sharedColours: { a: string; b: string; deltaE: number; share: number }[];
}

export interface DeepZoomInfo {
  layout: string;
  /** URL of the .dzi descriptor under the API. */
  dzi: string;
  width: number;
  height: number;
}

export interface MovieQuery {
  q?: string;
  director?: string;
  cinematographer?: string;
  yearMin?: number;
  yearMax?: number;
  limit?: number;
  offset?: number;
}

/** A feature set held in memory, rows L2-normalised, for exact cosine neighbours. */
interface FeatureIndex {
  model: string;
  dim: number;
  ids: Uint32Array;
  rowOf: Map<number, number>;
  data: Float32Array;
}

interface NearestQueue {
  waiting: {
    row: number;
    k: number;
    resolve: (v: { index: number; score: number }[]) => void;
    reject: (e: unknown) => void;
  }[];
  running: boolean;
}

function mergeTop(
  a: { index: number; score: number }[],
  b: { index: number; score: number }[],
  k: number,
): { index: number; score: number }[] {
  return [...a, ...b].sort((x, y) => y.score - x.score || x.index - y.index).slice(0, k);
}

/** The k largest of scores (skipping one index), best first. */
function topK(scores: Float32Array, k: number, skip: number): { index: number; score: number }[] {
  const best: { index: number; score: number }[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (i === skip) continue;
    const s = scores[i];
    if (best.length === k && s <= best[k - 1].score) continue;
    let p = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push({ index: i, score: s });
    while (p > 0 && best[p - 1].score < s) {
      best[p] = best[p - 1];
      p--;
    }
    best[p] = { index: i, score: s };
  }
  return best;
}

export function clampLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.max(1, Math.min(MAX_RESULTS, Math.floor(limit)));
}

export class ExplorerData {
  readonly movies: MovieInfo[];
  readonly movieById: Map<number, MovieInfo>;
  readonly stills: StillInfo[];
  readonly stillById: Map<number, StillInfo>;
  /** Ready still ids per movie, in film order. */
  readonly stillsOfMovie: Map<number, number[]>;
  readonly layouts: LayoutManifest[];
  readonly features: string[];
  private readonly layoutCache = new Map<string, StoredLayout>();
  private readonly featureCache = new Map<string, FeatureIndex>();
  private readonly similarMovieCache = new Map<string, Promise<{ model: string; movies: SimilarMovie[] }>>();
  private palettes: PaletteSet | undefined | null = null;
  private readonly nearestQueues = new Map<string, NearestQueue>();

  /** Reads what the explorer shows from the atlas's catalogue. */
  static async open(atlas: Atlas): Promise<ExplorerData> {
    return new ExplorerData(atlas, await atlas.catalog.movies(), await atlas.catalog.stills('ready'));
  }

  private constructor(
    readonly atlas: Atlas,
    rows: MovieRow[],
    ready: StillRow[],
  ) {
    this.stills = [];
    this.stillById = new Map();
    this.stillsOfMovie = new Map();
    for (const s of ready) {
      if (!s.stdSha256) continue;
      const info: StillInfo = {
        id: s.id,
        movieId: s.movieId,
        ordinal: s.ordinal,
        file: basename(s.source.replace(/\\/g, '/')),
        width: s.width,
        height: s.height,
        sha256: s.stdSha256,
      };
      this.stills.push(info);
      this.stillById.set(s.id, info);
      let list = this.stillsOfMovie.get(s.movieId);
      if (!list) this.stillsOfMovie.set(s.movieId, (list = []));
      list.push(s.id); // catalog.stills() is ordered by movie, ordinal
    }
    this.movies = rows.map((m) => {
      const own = this.stillsOfMovie.get(m.id) ?? [];
      return {
        id: m.id,
        slug: m.slug,
        title: m.title,
        year: m.year,
        label: movieLabel(m),
        director: m.director,
        cinematographer: m.cinematographer,
        productionDesign: m.productionDesign,
        costumeDesign: m.costumeDesign,
        sourceUrl: m.sourceUrl,
        attributes: m.attributes,
        stills: own.length,
        cover: own[0] ?? null,
      };
    });
    this.movieById = new Map(this.movies.map((m) => [m.id, m]));
    this.layouts = listLayouts(atlas);
    this.features = FeatureReader.list(atlas)
      .filter((m) => m.rows > 0)
      .map((m) => m.model)
      .sort((a, b) => (a === 'vgg16' ? -1 : b === 'vgg16' ? 1 : a.localeCompare(b)));
  }

  /** The atlas summary the front end starts from. */
  summary(): Record<string, unknown> {
    const clusters = this.clusterNames();
    return {
      name: basename(this.atlas.paths.root),
      movies: this.movies.length,
      stills: this.stills.length,
      layouts: this.layouts.map((l) => ({
        name: l.name,
        kind: l.kind,
        method: l.method,
        features: l.features,
        n: l.n,
        grid: l.grid ?? null,
        deepzoom: this.deepZoom(l.name),
      })),
      features: this.features,
      clusters,
      palettes: this.paletteSet() !== undefined,
      directors: distinct(this.movies.map((m) => m.director)),
      cinematographers: distinct(this.movies.map((m) => m.cinematographer)),
      years: yearRange(this.movies),
    };
  }

  movie(id: number): MovieInfo {
    const m = this.movieById.get(id);
    if (!m) throw new AtlasError('NOT_FOUND', `no movie with id ${id}`, { value: String(id) });
    return m;
  }

  still(id: number): StillInfo {
    const s = this.stillById.get(id);
    if (!s) throw new AtlasError('NOT_FOUND', `no ready still with id ${id}`, { value: String(id) });
    return s;
  }

  /** Movies matching a text query and filters, by title then year. */
  findMovies(query: MovieQuery): { total: number; movies: MovieInfo[] } {
    const q = query.q?.trim().toLowerCase();
    const eq = (a: string | null, b: string | undefined): boolean =>
      b === undefined || (a ?? '').toLowerCase() === b.toLowerCase();
    const hits = this.movies.filter(
      (m) =>
        (!q ||
          m.title.toLowerCase().includes(q) ||
          (m.director ?? '').toLowerCase().includes(q) ||
          (m.cinematographer ?? '').toLowerCase().includes(q)) &&
        eq(m.director, query.director) &&
        eq(m.cinematographer, query.cinematographer) &&
        (query.yearMin === undefined || (m.year !== null && m.year >= query.yearMin)) &&
        (query.yearMax === undefined || (m.year !== null && m.year <= query.yearMax)),
    );
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    return { total: hits.length, movies: hits.slice(offset, offset + clampLimit(query.limit, 100)) };
  }

  layout(name: string): StoredLayout {
    let l = this.layoutCache.get(name);
    if (!l) {
      if (!this.layouts.some((m) => m.name === name)) {
        throw new AtlasError('NOT_FOUND', `no layout named '${name}'`, {
          value: name,
          suggestion: `known layouts: ${this.layouts.map((m) => m.name).join(', ') || 'none'}`,
        });
      }
      l = readLayout(this.atlas, name);
      this.layoutCache.set(name, l);
    }
    return l;
  }

  /**
   * Per point of a layout, the movie id of its still (Uint32, row i ↔ layout row i),
   * so the front end can colour and filter the map without a request per point.
   */
  layoutMovies(name: string): Uint32Array {
    const l = this.layout(name);
    return Uint32Array.from(l.ids, (id) => this.stillById.get(id)?.movieId ?? 0);
  }

  clusterNames(): string[] {
    return listClusterings(this.atlas);
  }

  /** Cluster labels of a clustering: the label names and, per layout row, a label index (0xffffffff: none). */
  layoutClusters(layoutName: string, clustering?: string): { labels: string[]; index: Uint32Array } | null {
    const c = readClusterLabels(this.atlas, clustering);
    if (!c) return null;
    const labels = [...new Set(c.byStill.values())].sort(naturalCompare);
    const at = new Map(labels.map((l, i) => [l, i]));
    const l = this.layout(layoutName);
    const index = Uint32Array.from(l.ids, (id) => {
      const lab = c.byStill.get(id);
      return lab === undefined ? 0xffffffff : at.get(lab)!;
    });
    return { labels, index };
  }

  /** Clusters with size, movies (most stills first) and representative stills. */
  clusters(clustering?: string, limit?: number): Record<string, unknown> | null {
    const c = readClusterLabels(this.atlas, clustering);
    if (!c) return null;
    const stored = readClusterSummary(this.atlas, c.name);
    if (stored) {
      // The clustering's own summary (looks' cluster): medoids, movies and palettes as it computed them.
      const byLabel = new Map(this.movies.map((m) => [m.label, m.id]));
      const per = clampLimit(limit, 8);
      return {
        name: c.name,
        features: stored.features,
        method: stored.method,
        silhouette: stored.silhouette,
        noise: stored.noise,
        clusters: stored.clusters.map((k) => ({
          label: `cluster ${k.cluster}`,
          size: k.size,
          movieCount: k.movieCount,
          movies: k.movies
            .slice(0, per)
            .map((m) => ({ id: byLabel.get(m.movie) ?? null, label: m.movie, stills: m.stills })),
          medoids: k.medoids.slice(0, per).map((r) => r.stillId),
          palette: k.palette.map((p) => ({ hex: p.hex, share: p.share })),
        })),
      };
    }
    const groups = new Map<string, number[]>();
    for (const [id, label] of c.byStill) {
      if (!this.stillById.has(id)) continue;
      let g = groups.get(label);
      if (!g) groups.set(label, (g = []));
      g.push(id);
    }
    const model = this.features[0];
    const index = model ? this.featureIndex(model) : null;
    const per = clampLimit(limit, 8);
    const out = [...groups.entries()]
      .sort((a, b) => naturalCompare(a[0], b[0]))
      .map(([label, ids]) => {
        const movieCounts = new Map<number, number>();
        for (const id of ids) {
          const m = this.stillById.get(id)!.movieId;
          movieCounts.set(m, (movieCounts.get(m) ?? 0) + 1);
        }
        const movies = [...movieCounts.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, per)
          .map(([id, n]) => ({ id, label: this.movieById.get(id)?.label ?? String(id), stills: n }));
        return {
          label,
          size: ids.length,
          movies,
          medoids: index ? centralStills(index, ids, per) : ids.slice(0, per),
        };
      });
    return { name: c.name, features: model ?? null, clusters: out };
  }

  /** Where a grid layout's deep-zoom pyramid is, if it has been rendered into maps/<name>/. */
  deepZoom(name: string): DeepZoomInfo | null {
    const m = this.layouts.find((l) => l.name === name);
    if (!m || m.kind !== 'grid') return null;
    const dzi = this.deepZoomFile(name);
    if (!dzi) return null;
    const cellW = 224,
      cellH = 126;
    return {
      layout: name,
      dzi: `/api/layouts/${encodeURIComponent(name)}/deepzoom.dzi`,
      width: (m.grid?.cols ?? 0) * cellW,
      height: (m.grid?.rows ?? 0) * cellH,
    };
  }

  /** The .dzi file of a grid layout: maps/<name>/<name>.dzi as `filmatlas render --deepzoom` writes it. */
  deepZoomFile(name: string): string | null {
    const p = join(this.atlas.paths.maps, name, `${name}.dzi`);
    return existsSync(p) && statSync(p).isFile() ? p : null;
  }

  private featureIndex(model: string): FeatureIndex {
    let f = this.featureCache.get(model);
    if (!f) {
      if (!this.features.includes(model)) {
        throw new AtlasError('NOT_FOUND', `no '${model}' features in this atlas`, {
          value: model,
          suggestion: `feature sets here: ${this.features.join(', ') || 'none (run filmatlas embed)'}`,
        });
      }
      // The same normalisation as `filmatlas similar` (looks), so the explorer and the CLI agree.
      const v = LookVectors.open(this.atlas, model, DEFAULT_NORMALIZATION);
      const data = v.all();
      const ids = Uint32Array.from(v.stillIds);
      f = { model, dim: v.dim, ids, rowOf: new Map(Array.from(ids, (id, i) => [id, i])), data };
      this.featureCache.set(model, f);
    }
    return f;
  }

  /** The k stills nearest a still (cosine distance over a feature set), nearest first. */
  /**
   * The k stills nearest a still (exact cosine over a feature set), nearest first.
   * Queries arriving together are answered by one matrix product (ONNX Runtime's
   * MLAS, `matmul('nt')`) over the feature matrix, so 20 concurrent queries cost
   * about one pass over it, not twenty.
   */
  async similarStills(
    id: number,
    options: { k?: number; model?: string } = {},
  ): Promise<{ model: string; neighbours: Neighbour[] }> {
    this.still(id);
    const model = options.model ?? this.features[0];
    if (!model) {
      throw new AtlasError('NOT_FOUND', 'this atlas has no features to find similar stills with', {
        suggestion: 'run `filmatlas embed --model color` (or vgg16)',
      });
    }
    const f = this.featureIndex(model);
    const row = f.rowOf.get(id);
    if (row === undefined) {
      throw new AtlasError('NOT_FOUND', `still ${id} has no '${model}' features`, { value: String(id) });
    }
    const k = clampLimit(options.k, 12);
    const best = await this.queueNearest(f, row, k);
    const neighbours = best.map(({ index, score }) => {
      const sid = f.ids[index];
      return { id: sid, movieId: this.stillById.get(sid)?.movieId ?? 0, distance: round(1 - score) };
    });
    return { model, neighbours };
  }

  private queueNearest(f: FeatureIndex, row: number, k: number): Promise<{ index: number; score: number }[]> {
    return new Promise((resolve, reject) => {
      let q = this.nearestQueues.get(f.model);
      if (!q) this.nearestQueues.set(f.model, (q = { waiting: [], running: false }));
      q.waiting.push({ row, k, resolve, reject });
      if (!q.running) void this.drainNearest(f, q);
    });
  }

  private async drainNearest(f: FeatureIndex, q: NearestQueue): Promise<void> {
    q.running = true;
    // Let the queries of this turn of the event loop join the batch.
    await new Promise((r) => setImmediate(r));
    while (q.waiting.length) {
      const batch = q.waiting.splice(0, 64);
      try {
        const m = batch.length;
        const queries = new Float32Array(m * f.dim);
        batch.forEach((b, i) => queries.set(f.data.subarray(b.row * f.dim, (b.row + 1) * f.dim), i * f.dim));
        const n = f.ids.length;
        const best: { index: number; score: number }[][] = batch.map(() => []);
        const block = 65536;
        for (let s = 0; s < n; s += block) {
          const c = Math.min(block, n - s);
          const sims = await matmul('nt', queries, m, f.dim, f.data.subarray(s * f.dim, (s + c) * f.dim), c);
          batch.forEach((b, i) => {
            const top = topK(sims.subarray(i * c, (i + 1) * c), b.k, b.row - s);
            best[i] = mergeTop(
              best[i],
              top.map((t) => ({ index: t.index + s, score: t.score })),
              b.k,
            );
          });
        }
        batch.forEach((b, i) => b.resolve(best[i]));
      } catch (err) {
        batch.forEach((b) => b.reject(err));
      }
    }
    q.running = false;
  }

  /**
   * Movies whose stills best match a movie's (looks' similar movies: symmetric mean
   * best-match similarity), with the reasons: best still pairs, shared palette
   * colours (when palettes are stored) and shared credits. Cached per movie and k.
   */
  async similarMovies(
    id: number,
    options: { k?: number; model?: string } = {},
  ): Promise<{ model: string; movies: SimilarMovie[] }> {
    const movie = this.movie(id);
    const model = options.model ?? this.features[0];
    if (!model) throw new AtlasError('NOT_FOUND', 'this atlas has no features to compare movies with');
    if (!this.features.includes(model)) this.featureIndex(model); // names the feature sets there are
    const k = Math.min(clampLimit(options.k, 8), Math.max(1, this.movies.length - 1));
    const key = `${model}/${id}/${k}`;
    let p = this.similarMovieCache.get(key);
    if (!p) {
      p = looksSimilarMovies(this.atlas, {
        features: model,
        movie: String(id),
        k,
        palettes: this.paletteSet() !== undefined,
      }).then((r) => ({
        model,
        movies: r.movies.map((m) => {
          const other = this.movie(m.movieId);
          const reasons = [`stills alike: mean best-match similarity ${m.similarity.toFixed(3)} (${model})`];
          if (m.reasons.sharedColours.length) {
            reasons.push(
              'shared colours: ' +
                m.reasons.sharedColours
                  .slice(0, 3)
                  .map((c) => `${c.a} ≈ ${c.b} (${Math.round(c.share * 100)}%)`)
                  .join(', '),
            );
          }
          for (const f of ['director', 'cinematographer'] as const) {
            if (movie[f] && movie[f] === other[f]) reasons.push(`same ${f}: ${other[f]}`);
          }
          for (const [f, v] of Object.entries(other.attributes)) {
            if (movie.attributes[f] === v) reasons.push(`same ${f}: ${v}`);
          }
          return {
            movie: other,
            similarity: m.similarity,
            reasons,
            pairs: m.reasons.pairs.map((q) => ({ a: q.a.stillId, b: q.b.stillId, similarity: q.similarity })),
            sharedColours: m.reasons.sharedColours,
          };
        }),
      }));
      p.catch(() => this.similarMovieCache.delete(key));
      if (this.similarMovieCache.size > 512) this.similarMovieCache.clear();
      this.similarMovieCache.set(key, p);
    }
    return p;
  }

  /** Stored palettes (`filmatlas palette`), or undefined when none are computed. Read once. */
  paletteSet(): PaletteSet | undefined {
    if (this.palettes === null) this.palettes = readPaletteSet(this.atlas);
    return this.palettes;
  }

  stillPalette(id: number): PaletteColour[] | null {
    const set = this.paletteSet();
    const p = set ? stillPaletteOf(set, id) : undefined;
    return p ? describePalette(p) : null;
  }

  moviePalette(id: number): PaletteColour[] | null {
    const p = this.paletteSet()?.movies.get(id);
    return p ? describePalette(p) : null;
  }

  /** Stills or movies whose palettes best match colours ("#1f3a4d,#e08a3c:2"); needs stored palettes. */
  async searchColours(
    text: string,
    options: { k?: number; movies?: boolean } = {},
  ): Promise<Record<string, unknown>> {
    const colours = parseColourQuery(text);
    if (!this.paletteSet()) {
      throw new AtlasError('NOT_FOUND', 'this atlas has no palettes to search', {
        suggestion: `compute them with \`filmatlas palette --atlas ${this.atlas.paths.root}\``,
      });
    }
    // Scored here with looks' paletteDistance over the stored set (searchColour's `k` is also
    // the palette size, so calling it with a result count would compute a different palette set).
    const set = this.paletteSet()!;
    const k = clampLimit(options.k, 24);
    const query = colours.map((c) => ({ hex: c.hex, weight: c.weight }));
    if (options.movies) {
      const hits = [...set.movies.entries()]
        .filter(([id]) => this.movieById.has(id))
        .map(([id, p]) => ({ id, hit: paletteDistance(colours, p) }))
        .sort((x, y) => x.hit.distance - y.hit.distance || x.id - y.id)
        .slice(0, k);
      return {
        query,
        target: 'movies',
        searched: set.movies.size,
        movies: hits.map((h) => ({ movie: this.movieById.get(h.id)!, ...h.hit })),
      };
    }
    const best: { id: number; distance: number }[] = [];
    for (const id of set.ids) {
      if (!this.stillById.has(id)) continue;
      const p = stillPaletteOf(set, id);
      if (!p) continue;
      const d = paletteDistance(colours, p).distance;
      if (best.length === k && d >= best[k - 1].distance) continue;
      let i = best.length === k ? k - 1 : best.length;
      if (best.length < k) best.push({ id, distance: d });
      while (i > 0 && best[i - 1].distance > d) {
        best[i] = best[i - 1];
        i--;
      }
      best[i] = { id, distance: d };
    }
    return {
      query,
      target: 'stills',
      searched: set.ids.length,
      stills: best.map((b) => ({
        id: b.id,
        movieId: this.stillById.get(b.id)!.movieId,
        ...paletteDistance(colours, stillPaletteOf(set, b.id)!),
      })),
    };
  }

  /** Two movies' sequences aligned by DTW (looks' compare), with the path as still-id pairs. */
  async compare(
    a: number,
    b: number,
    options: { model?: string; steps?: number } = {},
  ): Promise<Record<string, unknown>> {
    this.movie(a);
    this.movie(b);
    const model = options.model ?? this.features[0];
    if (!model) throw new AtlasError('NOT_FOUND', 'this atlas has no features to compare movies with');
    const f = this.featureIndex(model);
    const r = await compareMovies(this.atlas, { features: model, a: String(a), b: String(b), path: true });
    // Positions in the path count the stills that have features, in film order.
    const sa = (this.stillsOfMovie.get(a) ?? []).filter((id) => f.rowOf.has(id));
    const sb = (this.stillsOfMovie.get(b) ?? []).filter((id) => f.rowOf.has(id));
    const path = r.path ?? [];
    const steps = Math.min(path.length, clampLimit(options.steps, 60));
    const shown: { a: number; b: number }[] = [];
    for (let s = 0; s < steps; s++) {
      const [i, j] = path[Math.round((s * (path.length - 1)) / Math.max(1, steps - 1))];
      shown.push({ a: sa[i], b: sb[j] });
    }
    return {
      model,
      a: { movie: this.movie(a), stills: r.a.stills, rhythmMean: r.a.rhythmMean, rhythmStd: r.a.rhythmStd },
      b: { movie: this.movie(b), stills: r.b.stills, rhythmMean: r.b.rhythmMean, rhythmStd: r.b.rhythmStd },
      distance: r.distance,
      pathLength: r.pathLength,
      aligned: shown,
      closest: r.closest.map((c) => ({ a: c.a.stillId, b: c.b.stillId, distance: c.distance })),
    };
  }
}

/** The stills nearest their group's mean (medoid-like representatives), best first. */
function centralStills(f: FeatureIndex, ids: number[], k: number): number[] {
  const mean = new Float32Array(f.dim);
  const rows: number[] = [];
  for (const id of ids) {
    const r = f.rowOf.get(id);
    if (r === undefined) continue;
    rows.push(r);
    for (let j = 0; j < f.dim; j++) mean[j] += f.data[r * f.dim + j];
  }
  if (rows.length === 0) return ids.slice(0, k);
  const scored = rows.map((r) => {
    let s = 0;
    for (let j = 0; j < f.dim; j++) s += f.data[r * f.dim + j] * mean[j];
    return { id: f.ids[r], s };
  });
  return scored
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.id);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function distinct(values: (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => !!v))].sort((a, b) => a.localeCompare(b));
}

function yearRange(movies: MovieInfo[]): { min: number; max: number } | null {
  const ys = movies.map((m) => m.year).filter((y): y is number => y !== null);
  return ys.length ? { min: Math.min(...ys), max: Math.max(...ys) } : null;
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}
