/**
 * The explorer's HTTP API as one typed contract: every JSON response shape, once.
 * The server (src/server/) builds its responses as these types and the web app
 * (web/src/api.ts) reads them as these types, so the two cannot drift apart unseen.
 * docs/explorer.md lists the routes with their parameters.
 *
 * This module has no imports and holds types and three constants only: the web bundle
 * imports it (web/tsconfig.json and web/vite.config.ts map `@filmatlas/api` here), so
 * nothing in it may need Node. ESLint refuses any import here. The value types the
 * library returns and the API serves as they are (`ColourMatch`, `ColourHit`,
 * `SharedColour`) are defined here once and imported, as types, by the library
 * modules that make them: any module may import types from this leaf.
 *
 * Versioning: `API_VERSION` goes up when a response changes in a way an older client
 * would misread (a field removed, renamed or retyped, a route gone); adding a field or
 * a route does not change it. `/api/atlas` reports it as `apiVersion`, and the web app
 * refuses to run against a server that speaks another version.
 */

/** The version of this contract; `/api/atlas` reports it as `apiVersion`. */
export const API_VERSION = 1;

/** The most results any list query returns; a larger `limit` or `k` is refused (400). */
export const MAX_RESULTS = 500;

// ---------------------------------------------------------------------------------------------
// Records

/**
 * A movie as the catalogue records it (the catalogue's `MovieRow` is this type): what
 * its source said, keyed by `slug` ("the-long-night-1999").
 */
export interface MovieRecord {
  id: number;
  slug: string;
  title: string;
  year: number | null;
  director: string | null;
  cinematographer: string | null;
  productionDesign: string | null;
  costumeDesign: string | null;
  sourceUrl: string | null;
  /** Anything else the source knew (look family, genre, …). */
  attributes: Record<string, string>;
}

/** A movie as the API shows it: the catalogue's record plus its label and still count. */
export interface Movie extends MovieRecord {
  /** "Title (Year)". */
  label: string;
  /** Ready stills. */
  stills: number;
  /** The first still in film order (the movie's poster on lists), or null. */
  cover: number | null;
}

/** A ready still. */
export interface Still {
  id: number;
  movieId: number;
  /** Position in the movie (film order). */
  ordinal: number;
  /** The file name the still came from (never the full path on the server's disk). */
  file: string;
  width: number | null;
  height: number | null;
  /** Content hash of the standardised image (its ETag). */
  sha256: string;
}

/** One palette colour as reported to people and in JSON (and stored in a clustering's summary). */
export interface PaletteColour {
  hex: string;
  /** Fraction of the (non-letterbox) pixels it stands for; the shares of a palette sum to 1. */
  share: number;
  rgb: [number, number, number];
  /** CIELAB, L 0–100. */
  lab: [number, number, number];
  /** HSL: hue in degrees, saturation and lightness in [0, 1]. */
  hsl: [number, number, number];
}

export interface GridSize {
  rows: number;
  cols: number;
}

/** A grid layout's deep-zoom pyramid. */
export interface DeepZoom {
  layout: string;
  /** URL of the .dzi descriptor under the API. */
  dzi: string;
  /** Pixels: columns × rows of standardised stills. */
  width: number;
  height: number;
}

/** A stored layout's `layout.json` (src/atlas/layouts.ts writes and reads it; the API serves it as is). */
export interface LayoutManifest {
  version: 1;
  name: string;
  /** 'points': free 2-D coordinates (PCA, t-SNE, UMAP); 'grid': integer cells (x = column, y = row). */
  kind: 'points' | 'grid';
  /** The feature set the layout was made from (for a grid: of its source layout). */
  features: string;
  method: string;
  params: Record<string, unknown>;
  n: number;
  createdAt: string;
  grid?: GridSize;
  stats?: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Responses

/** `/api/atlas`: what the front end starts from. */
export interface AtlasSummary {
  /** `API_VERSION` of the server. */
  apiVersion: number;
  name: string;
  movies: number;
  stills: number;
  layouts: LayoutSummary[];
  /** Feature sets, the default (vgg16 if present) first. */
  features: string[];
  /** Clusterings by name. */
  clusters: string[];
  /** Whether palettes are stored (colour search, palettes of stills and movies). */
  palettes: boolean;
  directors: string[];
  cinematographers: string[];
  years: { min: number; max: number } | null;
}

export interface LayoutSummary {
  name: string;
  kind: 'points' | 'grid';
  method: string;
  features: string;
  n: number;
  grid: GridSize | null;
  deepzoom: DeepZoom | null;
}

/** `/api/movies`. */
export interface MovieList {
  /** Matches before paging. */
  total: number;
  movies: Movie[];
}

/** `/api/movies/:id`. */
export interface MovieDetail {
  movie: Movie;
  /** Still ids in film order. */
  stills: number[];
  palette: PaletteColour[] | null;
}

/** `/api/stills/:id`. */
export interface StillDetail {
  still: Still;
  movie: Movie | null;
  /** Index in the movie's stills (film order). */
  position: number;
  palette: PaletteColour[] | null;
  prev: number | null;
  next: number | null;
}

export interface Neighbour {
  id: number;
  movieId: number;
  /** 1 − cosine similarity of the normalised features. */
  distance: number;
}

/** `/api/stills/:id/similar`. */
export interface SimilarStills {
  model: string;
  neighbours: Neighbour[];
}

export interface SharedColour {
  /** A colour of the query movie's palette… */
  a: string;
  /** …and the colour of the other movie's palette it matches. */
  b: string;
  deltaE: number;
  /** Share of the palettes this pairing accounts for. */
  share: number;
}

export interface SimilarMovie {
  movie: Movie;
  /** Symmetric mean best-match cosine similarity of the two movies' stills. */
  similarity: number;
  /** Why they match, in words. */
  reasons: string[];
  /** The best-matching still pairs (query movie's still, other movie's still). */
  pairs: { a: number; b: number; similarity: number }[];
  /** Palette colours both movies share (when palettes are stored). */
  sharedColours: SharedColour[];
}

/** `/api/movies/:id/similar`. */
export interface SimilarMovies {
  model: string;
  movies: SimilarMovie[];
}

/** `/api/layouts`. */
export interface LayoutList {
  layouts: LayoutManifest[];
}

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** `/api/layouts/:name`; the points themselves are the binary routes (`LayoutArray`). */
export interface LayoutDetail {
  manifest: LayoutManifest;
  bounds: Bounds | null;
  deepzoom: DeepZoom | null;
  /** Labels of the default clustering, indexed by `clusters.u32`; null without clusters. */
  clusters: string[] | null;
}

/**
 * `/api/layouts/:name/<array>`: little-endian binary arrays, row i ↔ the layout's row
 * i. `xy.f32`: float32 x, y per row; `ids.u32`: the still id; `movies.u32`: its movie
 * id; `clusters.u32?name=`: an index into `LayoutDetail.clusters` (`NO_CLUSTER`: none).
 */
export type LayoutArray = 'xy.f32' | 'ids.u32' | 'movies.u32' | 'clusters.u32';

/** In `clusters.u32`: a still without a label. */
export const NO_CLUSTER = 0xffffffff;

export interface ClusterInfo {
  label: string;
  size: number;
  /** Distinct movies spanned (clusterings made by `filmatlas cluster`). */
  movieCount?: number;
  /** Movies with stills in the cluster, most first; `id` null for a movie no longer in the catalogue. */
  movies: { id: number | null; label: string; stills: number }[];
  /** The most central still ids, the medoid first. */
  medoids: number[];
  /** The cluster's palette (clusterings made by `filmatlas cluster`). */
  palette?: { hex: string; share: number }[];
}

/** `/api/clusters`. */
export interface ClusterList {
  name: string;
  features: string | null;
  /** These three come with clusterings made by `filmatlas cluster`. */
  method?: string;
  silhouette?: number;
  noise?: number;
  clusters: ClusterInfo[];
}

export interface ColourMatch {
  /** The query colour… */
  query: string;
  /** …and the palette colour most of it was matched to. */
  matched: string;
  deltaE: number;
  /** Share of the query colour's weight moved to that colour. */
  share: number;
}

/** A palette's distance from a colour query, with the matched colours. */
export interface ColourHit {
  /** Earth mover's distance in ΔE units (0 = the same palette). */
  distance: number;
  matches: ColourMatch[];
  /** The palette's colours, largest share first. */
  palette: string[];
}

/** `/api/search/colours`: `stills` or `movies`, as `target` says. */
export interface ColourSearch {
  query: { hex: string; weight: number }[];
  target: 'stills' | 'movies';
  /** Palettes searched. */
  searched: number;
  stills?: (ColourHit & { id: number; movieId: number })[];
  movies?: (ColourHit & { movie: Movie })[];
}

export interface SequenceSide {
  movie: Movie;
  /** Stills with features, in film order. */
  stills: number;
  rhythmMean: number;
  rhythmStd: number;
}

/** `/api/compare`: two movies' sequences aligned by dynamic time warping. */
export interface Comparison {
  model: string;
  a: SequenceSide;
  b: SequenceSide;
  /** Mean cosine distance along the path. */
  distance: number;
  pathLength: number;
  /** Evenly spaced steps of the path, as still ids. */
  aligned: { a: number; b: number }[];
  /** The closest pairs on the path. */
  closest: { a: number; b: number; distance: number }[];
}

/** Every error, with its HTTP status (400, 404, 405, 413, 414, 421 or 500). */
export interface ApiErrorBody {
  error: { code: string; message: string; suggestion?: string };
}

/** The JSON routes and what each returns (docs/explorer.md has their parameters). */
export interface JsonRoutes {
  '/api/atlas': AtlasSummary;
  '/api/movies': MovieList;
  '/api/movies/:id': MovieDetail;
  '/api/movies/:id/similar': SimilarMovies;
  '/api/stills/:id': StillDetail;
  '/api/stills/:id/similar': SimilarStills;
  '/api/layouts': LayoutList;
  '/api/layouts/:name': LayoutDetail;
  '/api/clusters': ClusterList;
  '/api/search/colours': ColourSearch;
  '/api/compare': Comparison;
}
