/**
 * The explorer's API client: typed fetches of the server's JSON and binary routes.
 * The response types are the API contract the server builds them by
 * (src/api/contract.ts, imported as `@filmatlas/api`); docs/explorer.md lists the routes.
 */
import {
  API_VERSION,
  MAX_RESULTS,
  type ApiErrorBody,
  type AtlasSummary,
  type ClusterList,
  type ColourSearch,
  type Comparison,
  type DeepZoom,
  type GridSize,
  type LayoutArray,
  type LayoutDetail,
  type Movie,
  type MovieDetail,
  type MovieList,
  type SimilarMovies,
  type SimilarStills,
  type StillDetail,
} from '@filmatlas/api';

export { NO_CLUSTER } from '@filmatlas/api';
export type {
  AtlasSummary,
  ClusterInfo,
  ClusterList,
  ColourMatch,
  ColourSearch,
  Comparison,
  DeepZoom,
  LayoutSummary,
  Movie,
  PaletteColour,
  Still,
} from '@filmatlas/api';

/** A layout's points as the map draws them (the binary routes, fetched once). */
export interface LayoutData {
  name: string;
  kind: 'points' | 'grid';
  grid: GridSize | null;
  xy: Float32Array;
  ids: Uint32Array;
  movies: Uint32Array;
  clusterLabels: string[] | null;
  clusters: Uint32Array | null;
  deepzoom: DeepZoom | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const cache = new Map<string, Promise<unknown>>();

async function get(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) {
    let message = `${r.status} ${r.statusText}`;
    try {
      const j = (await r.json()) as Partial<ApiErrorBody>;
      if (j.error?.message) message = j.error.message;
    } catch {
      // not JSON
    }
    throw new ApiError(r.status, message);
  }
  return r;
}

/** GET a JSON route, memoised for the page's life (the atlas is read-only). */
export function getJson<T>(url: string): Promise<T> {
  let p = cache.get(url) as Promise<T> | undefined;
  if (!p) {
    p = get(url).then((r) => r.json() as Promise<T>);
    p.catch(() => cache.delete(url));
    cache.set(url, p);
  }
  return p;
}

async function getBinary(url: string): Promise<ArrayBuffer> {
  return (await get(url)).arrayBuffer();
}

/** The atlas summary; refuses a server that speaks another version of the API contract. */
export async function atlasSummary(): Promise<AtlasSummary> {
  const s = await getJson<AtlasSummary>('/api/atlas');
  if (s.apiVersion !== API_VERSION) {
    throw new ApiError(
      409,
      `the server speaks version ${s.apiVersion} of the explorer API, this page version ${API_VERSION}: reload the page, or rebuild filmatlas (npm run build) and restart filmatlas serve`,
    );
  }
  return s;
}

export const movieList = (): Promise<MovieList> => getJson(`/api/movies?limit=${MAX_RESULTS}`);

export async function allMovies(summary: AtlasSummary): Promise<Movie[]> {
  const out: Movie[] = [];
  for (let offset = 0; offset < summary.movies; offset += MAX_RESULTS) {
    const page = await getJson<MovieList>(`/api/movies?limit=${MAX_RESULTS}&offset=${offset}`);
    out.push(...page.movies);
    if (page.movies.length === 0) break;
  }
  return out;
}

export const movieDetail = (id: number): Promise<MovieDetail> => getJson(`/api/movies/${id}`);

export const stillDetail = (id: number): Promise<StillDetail> => getJson(`/api/stills/${id}`);

export const similarStills = (id: number, k = 12): Promise<SimilarStills> =>
  getJson(`/api/stills/${id}/similar?k=${k}`);

export const similarMovies = (id: number, k = 8): Promise<SimilarMovies> =>
  getJson(`/api/movies/${id}/similar?k=${k}`);

export const clusterList = (): Promise<ClusterList> => getJson('/api/clusters?limit=8');

export const stillImage = (id: number): string => `/api/stills/${id}/image`;

const layoutCache = new Map<string, Promise<LayoutData>>();

/** A layout's points (coordinates, still ids, movie per point, cluster per point), fetched once. */
export function layoutData(name: string): Promise<LayoutData> {
  let p = layoutCache.get(name);
  if (!p) {
    const base = `/api/layouts/${encodeURIComponent(name)}`;
    const array = (a: LayoutArray): Promise<ArrayBuffer> => getBinary(`${base}/${a}`);
    p = (async () => {
      const meta = await getJson<LayoutDetail>(base);
      const [xy, ids, movies, clusters] = await Promise.all([
        array('xy.f32'),
        array('ids.u32'),
        array('movies.u32'),
        meta.clusters ? array('clusters.u32') : Promise.resolve(null),
      ]);
      return {
        name,
        kind: meta.manifest.kind,
        grid: meta.manifest.grid ?? null,
        xy: new Float32Array(xy),
        ids: new Uint32Array(ids),
        movies: new Uint32Array(movies),
        clusterLabels: meta.clusters,
        clusters: clusters ? new Uint32Array(clusters) : null,
        deepzoom: meta.deepzoom,
      };
    })();
    p.catch(() => layoutCache.delete(name));
    layoutCache.set(name, p);
  }
  return p;
}

export const colourSearch = (colours: string, target: 'stills' | 'movies', k = 24): Promise<ColourSearch> =>
  getJson(`/api/search/colours?colours=${encodeURIComponent(colours)}&target=${target}&k=${k}`);

export const compareMovies = (a: number, b: number): Promise<Comparison> =>
  getJson(`/api/compare?a=${a}&b=${b}&steps=40`);
