/**
 * The catalogue of an atlas: movies, stills, runs, crawl state and per-stage
 * bookkeeping. `Catalog` is the contract every stage talks to — no stage sees SQL —
 * and every backend implements it: SQLite (`sqlite.ts`, the single-machine default)
 * today, PostgreSQL for shared deployments. Every operation is asynchronous so that a
 * networked backend fits the same interface; a method that changes several rows does
 * so in one transaction. The contract's test suite (`test/unit/catalog-contract.ts`)
 * runs against each implementation.
 */
import type { MovieRecord } from '../api/contract.js';

/** Movie metadata as a source describes it (all but the title optional). */
export interface MovieSpec {
  title: string;
  year?: number;
  director?: string;
  cinematographer?: string;
  productionDesign?: string;
  costumeDesign?: string;
  sourceUrl?: string;
  /** Anything else the source knew (look family, genre, ...), kept as JSON. */
  attributes?: Record<string, string>;
}

/** A movie as recorded: the API contract's `MovieRecord` (one definition for the catalogue, the server and the web app). */
export type MovieRow = MovieRecord;

export type StillStatus = 'pending' | 'ready' | 'rejected';

export interface StillRow {
  id: number;
  movieId: number;
  ordinal: number;
  source: string;
  originalSha256: string | null;
  originalExt: string | null;
  originalBytes: number | null;
  originalFormat: string | null;
  width: number | null;
  height: number | null;
  stdSha256: string | null;
  status: StillStatus;
  errorCode: string | null;
  error: string | null;
}

/** The outcome of processing one still, written back in batches. */
export type StillUpdate =
  | {
      id: number;
      status: 'ready';
      originalSha256: string;
      originalExt: string;
      originalBytes: number;
      originalFormat: string;
      width: number;
      height: number;
      stdSha256: string;
    }
  | {
      id: number;
      status: 'rejected';
      errorCode: string;
      error: string;
      originalSha256?: string;
      originalExt?: string;
      originalBytes?: number;
    };

/** What a crawled URL is. */
export type CrawlKind = 'robots' | 'index' | 'movie' | 'image' | 'zip';

/**
 * Where a crawled URL stands: `queued` (known, not yet done), `done`, `no-gallery` (a
 * movie page without stills), `partial` (some of its stills failed to download),
 * `failed` (the last attempt failed; retried next run), `disallowed` (robots.txt),
 * `duplicate` (an image whose bytes another still already has).
 */
export type CrawlStatus =
  'queued' | 'done' | 'no-gallery' | 'partial' | 'failed' | 'disallowed' | 'duplicate';

/** One URL in the crawl state (`crawl_pages`). */
export interface CrawlPageRow {
  url: string;
  site: string;
  kind: CrawlKind;
  status: CrawlStatus;
  /** Link text where the URL was found (a movie's name in the index). */
  label: string | null;
  /** Order where it was found (index order of movie pages). */
  position: number | null;
  httpStatus: number | null;
  etag: string | null;
  lastModified: string | null;
  /** ISO time of the last response (any status). */
  fetchedAt: string | null;
  movieId: number | null;
  /** For images: the still it became, or the still it duplicates. */
  stillId: number | null;
  error: string | null;
}

/** Fields to change on a crawl row; the ones left out keep their stored value. */
export type CrawlPageUpdate = Pick<CrawlPageRow, 'url' | 'site' | 'kind'> &
  Partial<Omit<CrawlPageRow, 'url' | 'site' | 'kind'>>;

/** An original already in the blob store, for `addStoredStill`. */
export interface StoredOriginal {
  sha256: string;
  ext: string;
  bytes: number;
}

export interface CatalogCounts {
  movies: number;
  stills: number;
  pending: number;
  ready: number;
  rejected: number;
}

/** Turns "The Long Night", 1999 into "the-long-night-1999": stable movie keys for URLs and re-runs. */
export function movieSlug(title: string, year?: number | null): string {
  const base = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const safe = base.length > 0 ? base : 'untitled';
  return year ? `${safe}-${year}` : safe;
}

/** "Title (Year)" for people. */
export function movieLabel(m: { title: string; year: number | null | undefined }): string {
  return m.year ? `${m.title} (${m.year})` : m.title;
}

/** A still's movie and place in film order (every status), for joins done in memory. */
export interface StillRef {
  id: number;
  movieId: number;
  ordinal: number;
}

/** A still that could not be ingested or fetched, with why and from which movie. */
export interface RejectedStillRow {
  id: number;
  source: string;
  code: string | null;
  reason: string | null;
  /** "Title (Year)". */
  movie: string;
}

export type RunStatus = 'running' | 'done' | 'failed' | 'aborted';

/** One recorded run of a stage (`filmatlas status` shows the latest). */
export interface RunRow {
  id: number;
  stage: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  counts: object;
}

/** A still a model could not embed, and why. */
export interface EmbedErrorRow {
  model: string;
  stillId: number;
  source: string;
  error: string;
}

/** A movie and the stills a source lists for it, in film order (for `registerMovies`). */
export interface MovieListing {
  spec: MovieSpec;
  sources: readonly string[];
}

export interface Catalog {
  /** Where the catalogue lives, for messages (a file path or a URL without credentials). */
  readonly location: string;
  close(): Promise<void>;

  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;

  /**
   * Inserts a movie or fills in what is newly known about it (a later source may add
   * the cinematographer; an empty field never erases a known one; attributes merge).
   * Movies are keyed by `movieSlug(title, year)`. Returns its id.
   */
  upsertMovie(spec: MovieSpec): Promise<number>;
  movies(): Promise<MovieRow[]>;
  movie(id: number): Promise<MovieRow | undefined>;

  /**
   * Registers a movie's stills in film order (pending until standardised). Sources
   * already known are kept (a re-run adds only what is new) but take their ordinal —
   * and movie — from the new listing. Returns how many were new.
   */
  addStills(movieId: number, sources: readonly string[]): Promise<number>;
  /** `upsertMovie` + `addStills` for many movies in one transaction. */
  registerMovies(listings: readonly MovieListing[]): Promise<{ movieIds: number[]; added: number }>;
  /**
   * Registers a still whose original the caller has already put in the blob store (a
   * downloaded image, a video frame): pending, so standardisation reads the original from
   * the store. A known source takes the new ordinal, and goes back to pending only if its
   * original changed. Returns its id and whether it was new.
   */
  addStoredStill(
    movieId: number,
    ordinal: number,
    source: string,
    original: StoredOriginal,
  ): Promise<{ id: number; added: boolean }>;
  /**
   * Records a still that could not be fetched (listed by `rejectedStills` with the reason).
   * A still that already has its original is left alone. Returns its id.
   */
  addFailedStill(
    movieId: number,
    ordinal: number,
    source: string,
    errorCode: string,
    error: string,
  ): Promise<number>;
  /** Forgets a still recorded as failed before its original was ever fetched. Returns whether one was removed. */
  removeUnfetchedStill(source: string): Promise<boolean>;

  still(id: number): Promise<StillRow | undefined>;
  /** The still registered under a source path or URL, if any. */
  stillBySource(source: string): Promise<StillRow | undefined>;
  /** The first still (lowest id) whose original has these bytes, if any. */
  stillByOriginal(sha256: string): Promise<StillRow | undefined>;
  /** Whether any still has its original in the blob store (an atlas that holds blobs cannot change store). */
  hasOriginals(): Promise<boolean>;
  /** Stills by status (default: ready), ordered by movie, then film order, then id. */
  stills(status?: StillStatus): Promise<StillRow[]>;
  /** Every still's movie and ordinal (any status), by id. */
  stillRefs(): Promise<StillRef[]>;
  /** Stills waiting to be standardised, by id. */
  pendingStills(): Promise<StillRow[]>;
  /** Writes back the outcomes of standardising stills, in one transaction. */
  applyUpdates(updates: readonly StillUpdate[]): Promise<void>;
  /** Puts stills back to pending (all, or the rejected ones). Returns how many. */
  resetStills(where: 'all' | 'rejected'): Promise<number>;
  counts(): Promise<CatalogCounts>;
  rejectedStills(): Promise<RejectedStillRow[]>;

  /** A stage run starts (status `running`); returns its id. */
  startRun(stage: string, options: object): Promise<number>;
  finishRun(id: number, status: Exclude<RunStatus, 'running'>, counts: object, error?: string): Promise<void>;
  /** The latest runs, newest first. */
  runs(limit?: number): Promise<RunRow[]>;

  recordEmbedErrors(model: string, errors: readonly { stillId: number; error: string }[]): Promise<void>;
  clearEmbedErrors(model: string, stillIds: readonly number[]): Promise<void>;
  embedErrors(model?: string): Promise<EmbedErrorRow[]>;

  crawlPage(url: string): Promise<CrawlPageRow | undefined>;
  /** A site's crawl rows of one kind, in the order they were found (rows without a position last, by URL). */
  crawlPages(site: string, kind: CrawlKind): Promise<CrawlPageRow[]>;
  /** Inserts a crawl row or changes the given fields of a known one (undefined keeps, null clears). */
  saveCrawlPage(update: CrawlPageUpdate): Promise<void>;
  /**
   * Replaces a site's listing of one kind in one transaction: every row of that kind
   * loses its position, then `rows` are saved (with their new positions) — rows gone
   * from the listing keep everything else.
   */
  replaceCrawlListing(site: string, kind: CrawlKind, rows: readonly CrawlPageUpdate[]): Promise<void>;
}
