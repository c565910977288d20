/**
 * What the explorer shows, read once from an atlas and kept in memory (movies, ready
 * stills, layouts, stored palettes), and its queries. Every query is a library call —
 * similar stills: looks' `StillNeighbours` (query.ts), the search `filmatlas similar
 * still` runs; similar movies: looks' `similarMovies` over the stored palettes; colour
 * search: looks' `searchPalettes`; clusters: `readClusters`, or `summariseLabels` with
 * its `medoids` for labels stored without a summary; compare: looks' `compareMovies`;
 * atlas files: `AtlasPaths` (deep-zoom descriptor and tiles) — and this module only
 * shapes the results as the API contract (src/api/contract.ts) says. None of them
 * writes to the atlas. The HTTP layer (`server.ts`) parses requests and writes
 * responses; every result count is bounded by the caller's limit and by `MAX_RESULTS`.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  API_VERSION,
  MAX_RESULTS,
  NO_CLUSTER,
  type AtlasSummary,
  type ClusterList,
  type ColourSearch,
  type Comparison,
  type DeepZoom,
  type LayoutDetail,
  type Movie,
  type MovieDetail,
  type MovieList,
  type PaletteColour,
  type SimilarMovies,
  type SimilarStills,
  type Still,
  type StillDetail,
} from '../api/contract.js';
import type { Atlas } from '../atlas/atlas.js';
import { deepZoomFile, deepZoomTiles, isArtefactName } from '../atlas/paths.js';
import { movieLabel, type MovieRow, type StillRow } from '../catalog/catalog.js';
import { FeatureReader } from '../embed/features.js';
import { AtlasError } from '../errors.js';
import { STILL_HEIGHT, STILL_WIDTH } from '../atlas/stills.js';
import { bounds2d } from '../layout/quality.js';
import { listLayouts, readLayout, type LayoutManifest, type StoredLayout } from '../atlas/layouts.js';
import { listClusterings, readClusterLabels, readClusterSummary } from '../atlas/clusters.js';
import { readPaletteSet, stillPaletteOf, type PaletteSet } from '../atlas/palettes.js';
import { summariseLabels } from '../looks/cluster.js';
import { describePalette } from '../looks/palette.js';
import { StillNeighbours } from '../looks/query.js';
import { parseColourQuery, searchPalettes } from '../looks/search.js';
import { compareMovies } from '../looks/sequence.js';
import { similarMovies as looksSimilarMovies } from '../looks/similar.js';
import { DEFAULT_NORMALIZATION } from '../looks/vectors.js';
import { naturalCompare } from '../sources/scan.js';

export { MAX_RESULTS };

export interface MovieQuery {
  q?: string;
  director?: string;
  cinematographer?: string;
  yearMin?: number;
  yearMax?: number;
  limit?: number;
  offset?: number;
}

export function clampLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.max(1, Math.min(MAX_RESULTS, Math.floor(limit)));
}

/** A catalogue movie as the API shows it. */
function apiMovie(m: MovieRow, own: readonly number[]): Movie {
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
}

export class ExplorerData {
  readonly movies: Movie[];
  readonly movieById: Map<number, Movie>;
  readonly stills: Still[];
  readonly stillById: Map<number, Still>;
  /** Ready still ids per movie, in film order. */
  readonly stillsOfMovie: Map<number, number[]>;
  readonly layouts: LayoutManifest[];
  readonly features: string[];
  private readonly layoutCache = new Map<string, StoredLayout>();
  private readonly neighbourCache = new Map<string, StillNeighbours>();
  private readonly similarMovieCache = new Map<string, Promise<SimilarMovies>>();
  private readonly labelClusterCache = new Map<string, ClusterList>();
  private palettes: PaletteSet | undefined | null = null;

  /** Reads what the explorer shows from an open atlas (the catalogue once, the rest as asked). */
  static async open(atlas: Atlas): Promise<ExplorerData> {
    const movies = await atlas.catalog.movies();
    const ready = await atlas.catalog.stills('ready');
    return new ExplorerData(atlas, movies, ready);
  }

  private constructor(
    readonly atlas: Atlas,
    rows: readonly MovieRow[],
    ready: readonly StillRow[],
  ) {
    this.stills = [];
    this.stillById = new Map();
    this.stillsOfMovie = new Map();
    for (const s of ready) {
      if (!s.stdSha256) continue;
      const info: Still = {
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
    this.movies = rows.map((m) => apiMovie(m, this.stillsOfMovie.get(m.id) ?? []));
    this.movieById = new Map(this.movies.map((m) => [m.id, m]));
    this.layouts = listLayouts(atlas);
    this.features = FeatureReader.list(atlas)
      .filter((m) => m.rows > 0)
      .map((m) => m.model)
      .sort((a, b) => (a === 'vgg16' ? -1 : b === 'vgg16' ? 1 : a.localeCompare(b)));
  }

  /** The atlas summary the front end starts from. */
  summary(): AtlasSummary {
    return {
      apiVersion: API_VERSION,
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
      clusters: this.clusterNames(),
      palettes: this.paletteSet() !== undefined,
      directors: distinct(this.movies.map((m) => m.director)),
      cinematographers: distinct(this.movies.map((m) => m.cinematographer)),
      years: yearRange(this.movies),
    };
  }

  movie(id: number): Movie {
    const m = this.movieById.get(id);
    if (!m) throw new AtlasError('NOT_FOUND', `no movie with id ${id}`, { value: String(id) });
    return m;
  }

  still(id: number): Still {
    const s = this.stillById.get(id);
    if (!s) throw new AtlasError('NOT_FOUND', `no ready still with id ${id}`, { value: String(id) });
    return s;
  }

  /** A movie with its stills in film order and its palette. */
  movieDetail(id: number): MovieDetail {
    const movie = this.movie(id);
    return { movie, stills: this.stillsOfMovie.get(id) ?? [], palette: this.moviePalette(id) };
  }

  /** A still with its movie, its neighbours in film order and its palette. */
  stillDetail(id: number): StillDetail {
    const still = this.still(id);
    const order = this.stillsOfMovie.get(still.movieId) ?? [];
    const at = order.indexOf(still.id);
    return {
      still,
      movie: this.movieById.get(still.movieId) ?? null,
      position: at,
      palette: this.stillPalette(still.id),
      prev: at > 0 ? order[at - 1] : null,
      next: at >= 0 && at + 1 < order.length ? order[at + 1] : null,
    };
  }

  /** Movies matching a text query and filters, by title then year. */
  findMovies(query: MovieQuery): MovieList {
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

  /** A layout's manifest, bounds, deep zoom and the labels of its default clustering. */
  layoutDetail(name: string): LayoutDetail {
    const l = this.layout(name);
    return {
      manifest: l.manifest,
      bounds: l.xy.length ? bounds2d(l.xy, l.xy.length / 2) : null,
      deepzoom: this.deepZoom(name),
      clusters: this.layoutClusters(name)?.labels ?? null,
    };
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

  /** Cluster labels of a clustering: the label names and, per layout row, a label index (`NO_CLUSTER`: none). */
  layoutClusters(layoutName: string, clustering?: string): { labels: string[]; index: Uint32Array } | null {
    const c = readClusterLabels(this.atlas, clustering);
    if (!c) return null;
    const labels = [...new Set(c.byStill.values())].sort(naturalCompare);
    const at = new Map(labels.map((l, i) => [l, i]));
    const l = this.layout(layoutName);
    const index = Uint32Array.from(l.ids, (id) => {
      const lab = c.byStill.get(id);
      return lab === undefined ? NO_CLUSTER : at.get(lab)!;
    });
    return { labels, index };
  }

  /** Clusters with size, movies (most stills first) and representative stills. */
  clusters(clustering?: string, limit?: number): ClusterList | null {
    const c = readClusterLabels(this.atlas, clustering);
    if (!c) return null;
    const per = clampLimit(limit, 8);
    const stored = readClusterSummary(this.atlas, c.name);
    if (stored) {
      // The clustering's own summary (looks' cluster): medoids, movies and palettes as it computed them.
      const byLabel = new Map(this.movies.map((m) => [m.label, m.id]));
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
    // Labels only (written by another tool): summarised here, medoids in the default feature space.
    const model = this.features[0];
    const key = `${c.name}/${per}/${model ?? ''}`;
    let list = this.labelClusterCache.get(key);
    if (!list) {
      const summaries = summariseLabels(c.byStill, {
        movieOf: (id) => this.stillById.get(id)?.movieId,
        vectors: model ? this.neighbours(model).vectors : undefined,
        count: per,
      });
      list = {
        name: c.name,
        features: model ?? null,
        clusters: summaries.map((s) => ({
          label: s.label,
          size: s.size,
          movies: s.movies.map((m) => ({
            id: m.movieId,
            label: this.movieById.get(m.movieId)?.label ?? String(m.movieId),
            stills: m.stills,
          })),
          medoids: s.medoids,
        })),
      };
      this.labelClusterCache.set(key, list);
    }
    return list;
  }

  /** Where a grid layout's deep-zoom pyramid is, if it has been rendered into maps/<name>/. */
  deepZoom(name: string): DeepZoom | null {
    const m = this.layouts.find((l) => l.name === name);
    if (!m || m.kind !== 'grid' || !this.deepZoomFile(name)) return null;
    return {
      layout: name,
      dzi: `/api/layouts/${encodeURIComponent(name)}/deepzoom.dzi`,
      width: (m.grid?.cols ?? 0) * STILL_WIDTH,
      height: (m.grid?.rows ?? 0) * STILL_HEIGHT,
    };
  }

  /** The .dzi file of a grid layout (`AtlasPaths` `deepZoomFile`), or null when it is not rendered. */
  deepZoomFile(name: string): string | null {
    if (!isArtefactName(name)) return null;
    const p = deepZoomFile(this.atlas.paths, name);
    return existsSync(p) && statSync(p).isFile() ? p : null;
  }

  /** One tile of a grid layout's pyramid (`AtlasPaths` `deepZoomTiles`), or null. */
  deepZoomTile(name: string, level: number, col: number, row: number): string | null {
    if (!this.deepZoomFile(name)) return null;
    const p = join(deepZoomTiles(this.atlas.paths, name), String(level), `${col}_${row}.jpeg`);
    return existsSync(p) && statSync(p).isFile() ? p : null;
  }

  /** The exact-neighbour search over a feature set, held in memory (opened on first use). */
  private neighbours(model: string): StillNeighbours {
    let n = this.neighbourCache.get(model);
    if (!n) {
      if (!this.features.includes(model)) {
        throw new AtlasError('NOT_FOUND', `no '${model}' features in this atlas`, {
          value: model,
          suggestion: `feature sets here: ${this.features.join(', ') || 'none (run filmatlas embed)'}`,
        });
      }
      // The same normalisation and search as `filmatlas similar`, so the explorer and the CLI agree.
      n = StillNeighbours.open(this.atlas, model, { normalize: DEFAULT_NORMALIZATION, resident: true });
      this.neighbourCache.set(model, n);
    }
    return n;
  }

  /**
   * The k stills nearest a still (exact cosine over a feature set), nearest first.
   * Queries arriving together are answered by one pass over the feature matrix
   * (`StillNeighbours.ofStill`), so 20 concurrent queries cost about one, not twenty.
   */
  async similarStills(id: number, options: { k?: number; model?: string } = {}): Promise<SimilarStills> {
    this.still(id);
    const model = options.model ?? this.features[0];
    if (!model) {
      throw new AtlasError('NOT_FOUND', 'this atlas has no features to find similar stills with', {
        suggestion: 'run `filmatlas embed --model color` (or vgg16)',
      });
    }
    const near = await this.neighbours(model).ofStill(id, clampLimit(options.k, 12));
    return {
      model,
      neighbours: near.map((n) => ({
        id: n.stillId,
        movieId: this.stillById.get(n.stillId)?.movieId ?? 0,
        distance: round(n.distance),
      })),
    };
  }

  /**
   * Movies whose stills best match a movie's (looks' similar movies: symmetric mean
   * best-match similarity), with the reasons: best still pairs, shared palette
   * colours (when palettes are stored) and shared credits. Cached per movie and k.
   */
  async similarMovies(id: number, options: { k?: number; model?: string } = {}): Promise<SimilarMovies> {
    const movie = this.movie(id);
    const model = options.model ?? this.features[0];
    if (!model) throw new AtlasError('NOT_FOUND', 'this atlas has no features to compare movies with');
    if (!this.features.includes(model)) this.neighbours(model); // names the feature sets there are
    const k = Math.min(clampLimit(options.k, 8), Math.max(1, this.movies.length - 1));
    const key = `${model}/${id}/${k}`;
    let p = this.similarMovieCache.get(key);
    if (!p) {
      p = looksSimilarMovies(this.atlas, {
        features: model,
        movie: String(id),
        k,
        // The stored palettes as they are (never computed here: the explorer only reads).
        palettes: this.paletteSet() ?? false,
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
  async searchColours(text: string, options: { k?: number; movies?: boolean } = {}): Promise<ColourSearch> {
    const colours = parseColourQuery(text);
    const set = this.paletteSet();
    if (!set) {
      throw new AtlasError('NOT_FOUND', 'this atlas has no palettes to search', {
        suggestion: `compute them with \`filmatlas palette --atlas ${this.atlas.paths.root}\``,
      });
    }
    const k = clampLimit(options.k, 24);
    const query = colours.map((c) => ({ hex: c.hex, weight: c.weight }));
    if (options.movies) {
      const r = searchPalettes(set, colours, { k, movies: true, include: (id) => this.movieById.has(id) });
      return {
        query,
        target: 'movies',
        searched: r.searched,
        movies: r.hits.map((h) => ({ movie: this.movieById.get(h.id)!, ...h.hit })),
      };
    }
    const r = searchPalettes(set, colours, { k, include: (id) => this.stillById.has(id) });
    return {
      query,
      target: 'stills',
      searched: r.searched,
      stills: r.hits.map((h) => ({ id: h.id, movieId: this.stillById.get(h.id)!.movieId, ...h.hit })),
    };
  }

  /** Two movies' sequences aligned by DTW (looks' compare), with the path as still-id pairs. */
  async compare(a: number, b: number, options: { model?: string; steps?: number } = {}): Promise<Comparison> {
    this.movie(a);
    this.movie(b);
    const model = options.model ?? this.features[0];
    if (!model) throw new AtlasError('NOT_FOUND', 'this atlas has no features to compare movies with');
    const f = this.neighbours(model);
    const r = await compareMovies(this.atlas, { features: model, a: String(a), b: String(b), path: true });
    // Positions in the path count the stills that have features, in film order.
    const sa = (this.stillsOfMovie.get(a) ?? []).filter((id) => f.rowOf(id) !== undefined);
    const sb = (this.stillsOfMovie.get(b) ?? []).filter((id) => f.rowOf(id) !== undefined);
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

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function distinct(values: (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => !!v))].sort((a, b) => a.localeCompare(b));
}

function yearRange(movies: Movie[]): { min: number; max: number } | null {
  const ys = movies.map((m) => m.year).filter((y): y is number => y !== null);
  return ys.length ? { min: Math.min(...ys), max: Math.max(...ys) } : null;
}
