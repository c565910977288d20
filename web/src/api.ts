/** The explorer's API client: typed fetches of the server's JSON and binary routes (see docs/explorer.md). */

export interface Movie {
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
  cover: number | null;
}

export interface Still {
  id: number;
  movieId: number;
  ordinal: number;
  file: string;
  width: number | null;
  height: number | null;
  sha256: string;
}

export interface LayoutSummary {
  name: string;
  kind: 'points' | 'grid';
  method: string;
  features: string;
  n: number;
  grid: { rows: number; cols: number } | null;
  deepzoom: { dzi: string; width: number; height: number } | null;
}

export interface AtlasSummary {
  name: string;
  movies: number;
  stills: number;
  layouts: LayoutSummary[];
  features: string[];
  clusters: string[];
  palettes: boolean;
  directors: string[];
  cinematographers: string[];
  years: { min: number; max: number } | null;
}

export interface LayoutData {
  name: string;
  kind: 'points' | 'grid';
  grid: { rows: number; cols: number } | null;
  xy: Float32Array;
  ids: Uint32Array;
  movies: Uint32Array;
  clusterLabels: string[] | null;
  clusters: Uint32Array | null;
  deepzoom: { dzi: string; width: number; height: number } | null;
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
      const j = (await r.json()) as { error?: { message?: string } };
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

export const atlasSummary = (): Promise<AtlasSummary> => getJson('/api/atlas');

export const movieList = (): Promise<{ total: number; movies: Movie[] }> => getJson('/api/movies?limit=500');

export async function allMovies(summary: AtlasSummary): Promise<Movie[]> {
  const out: Movie[] = [];
  for (let offset = 0; offset < summary.movies; offset += 500) {
    const page = await getJson<{ movies: Movie[] }>(`/api/movies?limit=500&offset=${offset}`);
    out.push(...page.movies);
    if (page.movies.length === 0) break;
  }
  return out;
}

export interface PaletteColour {
  hex: string;
  share: number;
}

export const movieDetail = (
  id: number,
): Promise<{ movie: Movie; stills: number[]; palette: PaletteColour[] | null }> =>
  getJson(`/api/movies/${id}`);

export const stillDetail = (
  id: number,
): Promise<{
  still: Still;
  movie: Movie | null;
  position: number;
  palette: PaletteColour[] | null;
  prev: number | null;
  next: number | null;
}> => getJson(`/api/stills/${id}`);

export const similarStills = (
  id: number,
  k = 12,
): Promise<{ model: string; neighbours: { id: number; movieId: number; distance: number }[] }> =>
  getJson(`/api/stills/${id}/similar?k=${k}`);

export const similarMovies = (
  id: number,
  k = 8,
): Promise<{
  model: string;
  movies: {
    movie: Movie;
    similarity: number;
    reasons: string[];
    pairs: { a: number; b: number; similarity: number }[];
  }[];
}> => getJson(`/api/movies/${id}/similar?k=${k}`);

export interface ClusterInfo {
  label: string;
  size: number;
  movies: { id: number | null; label: string; stills: number }[];
  medoids: number[];
  palette?: PaletteColour[];
}

export const clusterList = (): Promise<{ name: string; features: string | null; clusters: ClusterInfo[] }> =>
  getJson('/api/clusters?limit=8');

export const stillImage = (id: number): string => `/api/stills/${id}/image`;

const layoutCache = new Map<string, Promise<LayoutData>>();

/** A layout's points (coordinates, still ids, movie per point, cluster per point), fetched once. */
export function layoutData(name: string): Promise<LayoutData> {
  let p = layoutCache.get(name);
  if (!p) {
    const base = `/api/layouts/${encodeURIComponent(name)}`;
    p = (async () => {
      const meta = await getJson<{
        manifest: { name: string; kind: 'points' | 'grid'; grid?: { rows: number; cols: number } };
        deepzoom: LayoutData['deepzoom'];
        clusters: string[] | null;
      }>(base);
      const [xy, ids, movies, clusters] = await Promise.all([
        getBinary(`${base}/xy.f32`),
        getBinary(`${base}/ids.u32`),
        getBinary(`${base}/movies.u32`),
        meta.clusters ? getBinary(`${base}/clusters.u32`) : Promise.resolve(null),
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

export interface ColourMatch {
  query: string;
  matched: string;
  deltaE: number;
  share: number;
}

export interface ColourSearch {
  query: { hex: string; weight: number }[];
  target: 'stills' | 'movies';
  searched: number;
  stills?: { id: number; movieId: number; distance: number; matches: ColourMatch[]; palette: string[] }[];
  movies?: { movie: Movie | null; distance: number; matches: ColourMatch[]; palette: string[] }[];
}

export const colourSearch = (colours: string, target: 'stills' | 'movies', k = 24): Promise<ColourSearch> =>
  getJson(`/api/search/colours?colours=${encodeURIComponent(colours)}&target=${target}&k=${k}`);

export interface Comparison {
  model: string;
  a: { movie: Movie; stills: number; rhythmMean: number; rhythmStd: number };
  b: { movie: Movie; stills: number; rhythmMean: number; rhythmStd: number };
  distance: number;
  pathLength: number;
  aligned: { a: number; b: number }[];
  closest: { a: number; b: number; distance: number }[];
}

export const compareMovies = (a: number, b: number): Promise<Comparison> =>
  getJson(`/api/compare?a=${a}&b=${b}&steps=40`);
