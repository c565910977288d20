import Database from 'better-sqlite3';
import { AtlasError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

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

export interface MovieRow {
  id: number;
  slug: string;
  title: string;
  year: number | null;
  director: string | null;
  cinematographer: string | null;
  productionDesign: string | null;
  costumeDesign: string | null;
  sourceUrl: string | null;
  attributes: Record<string, string>;
}

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
export type CrawlStatus = 'queued' | 'done' | 'no-gallery' | 'partial' | 'failed' | 'disallowed' | 'duplicate';

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
export type CrawlPageUpdate = Pick<CrawlPageRow, 'url' | 'site' | 'kind'> & Partial<Omit<CrawlPageRow, 'url' | 'site' | 'kind'>>;

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

const STILL_COLUMNS = `id, movie_id AS movieId, ordinal, source, original_sha256 AS originalSha256,
  original_ext AS originalExt, original_bytes AS originalBytes, original_format AS originalFormat,
  width, height, std_sha256 AS stdSha256, status, error_code AS errorCode, error`;

const CRAWL_COLUMNS = `url, site, kind, status, label, position, http_status AS httpStatus, etag,
  last_modified AS lastModified, fetched_at AS fetchedAt, movie_id AS movieId, still_id AS stillId, error`;

const MOVIE_COLUMNS = `id, slug, title, year, director, cinematographer, production_design AS productionDesign,
  costume_design AS costumeDesign, source_url AS sourceUrl, attributes`;

interface RawMovie extends Omit<MovieRow, 'attributes'> {
  attributes: string;
}

function parseMovie(r: RawMovie): MovieRow {
  let attributes: Record<string, string> = {};
  try {
    attributes = JSON.parse(r.attributes) as Record<string, string>;
  } catch {
    // A hand-edited catalogue with bad JSON should not make the atlas unreadable.
  }
  return { ...r, attributes };
}

/**
 * The SQLite catalogue of an atlas (WAL mode). Every write is a short IMMEDIATE
 * transaction and readers never block writers, so several processes can work on
 * one atlas at once; `busy_timeout` makes a second writer wait rather than fail.
 */
export class Catalog {
  readonly db: Database.Database;
  readonly path: string;

  private constructor(db: Database.Database, path: string) {
    this.db = db;
    this.path = path;
  }

  static open(path: string, options: { readonly?: boolean } = {}): Catalog {
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    } catch (cause) {
      throw new AtlasError('ATLAS', `cannot open the atlas catalogue ${path}: ${(cause as Error).message}`, {
        value: path,
        cause,
      });
    }
    try {
      db.pragma('busy_timeout = 30000');
      if (!options.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
      const catalog = new Catalog(db, path);
      if (!options.readonly) catalog.migrate();
      else catalog.checkVersion();
      return catalog;
    } catch (cause) {
      db.close();
      if (cause instanceof AtlasError) throw cause;
      throw new AtlasError('ATLAS', `the atlas catalogue ${path} is unreadable: ${(cause as Error).message}`, {
        value: path,
        suggestion: 'check that this is a Film Atlas directory and that the file is not damaged',
        cause,
      });
    }
  }

  private version(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  private checkVersion(): void {
    const v = this.version();
    if (v > SCHEMA_VERSION) {
      throw new AtlasError(
        'ATLAS',
        `the atlas ${this.path} has catalogue schema ${v}, newer than this filmatlas understands (${SCHEMA_VERSION})`,
        { value: this.path, suggestion: 'upgrade filmatlas' },
      );
    }
  }

  private migrate(): void {
    // IMMEDIATE so that two processes creating the same atlas cannot both migrate.
    const run = this.db.transaction(() => {
      this.checkVersion();
      for (let v = this.version(); v < SCHEMA_VERSION; v++) {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      }
    });
    run.immediate();
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` in one write transaction (taken up front so concurrent writers queue instead of deadlocking). */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  getMeta(key: string): string | undefined {
    const r = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return r?.value;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  /**
   * Inserts a movie or fills in what is newly known about it (a later source may
   * add the cinematographer; an empty field never erases a known one). Returns its id.
   */
  upsertMovie(spec: MovieSpec): number {
    const slug = movieSlug(spec.title, spec.year);
    const attrs = JSON.stringify(spec.attributes ?? {});
    const row = this.db
      .prepare(
        `INSERT INTO movies (slug, title, year, director, cinematographer, production_design, costume_design, source_url, attributes)
         VALUES (@slug, @title, @year, @director, @cinematographer, @productionDesign, @costumeDesign, @sourceUrl, @attrs)
         ON CONFLICT(slug) DO UPDATE SET
           director = coalesce(excluded.director, director),
           cinematographer = coalesce(excluded.cinematographer, cinematographer),
           production_design = coalesce(excluded.production_design, production_design),
           costume_design = coalesce(excluded.costume_design, costume_design),
           source_url = coalesce(excluded.source_url, source_url),
           attributes = json_patch(attributes, excluded.attributes)
         RETURNING id`,
      )
      .get({
        slug,
        title: spec.title,
        year: spec.year ?? null,
        director: spec.director ?? null,
        cinematographer: spec.cinematographer ?? null,
        productionDesign: spec.productionDesign ?? null,
        costumeDesign: spec.costumeDesign ?? null,
        sourceUrl: spec.sourceUrl ?? null,
        attrs,
      }) as { id: number };
    return row.id;
  }

  /**
   * Registers a movie's stills in film order. Sources already known are kept (a
   * re-run adds only what is new) but take their ordinal from the new listing.
   * Returns how many were new.
   */
  addStills(movieId: number, sources: readonly string[]): number {
    const insert = this.db.prepare(
      `INSERT INTO stills (movie_id, ordinal, source) VALUES (?, ?, ?)
       ON CONFLICT(source) DO UPDATE SET ordinal = excluded.ordinal, movie_id = excluded.movie_id
       WHERE stills.ordinal != excluded.ordinal OR stills.movie_id != excluded.movie_id`,
    );
    const known = this.db.prepare('SELECT 1 FROM stills WHERE source = ?').pluck();
    let added = 0;
    sources.forEach((source, i) => {
      if (known.get(source) === undefined) added++;
      insert.run(movieId, i, source);
    });
    return added;
  }

  /** The still registered under a source path or URL, if any. */
  stillBySource(source: string): StillRow | undefined {
    return this.db.prepare(`SELECT ${STILL_COLUMNS} FROM stills WHERE source = ?`).get(source) as StillRow | undefined;
  }

  /** The first still (lowest id) whose original has these bytes, if any. */
  stillByOriginal(sha256: string): StillRow | undefined {
    return this.db
      .prepare(`SELECT ${STILL_COLUMNS} FROM stills WHERE original_sha256 = ? ORDER BY id LIMIT 1`)
      .get(sha256) as StillRow | undefined;
  }

  /**
   * Registers a still whose original the caller has already put in the blob store
   * (a downloaded image, a video frame): pending, so `standardiseStills` picks it up
   * and reads the original from the store. A known source takes the new ordinal, and
   * goes back to pending only if its original changed. Returns its id and whether it was new.
   */
  addStoredStill(movieId: number, ordinal: number, source: string, original: StoredOriginal): { id: number; added: boolean } {
    return this.write(() => {
      const known = this.stillBySource(source);
      if (!known) {
        const id = this.db
          .prepare(
            `INSERT INTO stills (movie_id, ordinal, source, original_sha256, original_ext, original_bytes)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(movieId, ordinal, source, original.sha256, original.ext, original.bytes).lastInsertRowid as number;
        return { id, added: true };
      }
      if (known.originalSha256 === original.sha256 && known.originalExt === original.ext) {
        this.db.prepare('UPDATE stills SET movie_id = ?, ordinal = ? WHERE id = ?').run(movieId, ordinal, known.id);
      } else {
        this.db
          .prepare(
            `UPDATE stills SET movie_id = ?, ordinal = ?, original_sha256 = ?, original_ext = ?, original_bytes = ?,
               original_format = NULL, width = NULL, height = NULL, std_sha256 = NULL, status = 'pending',
               error_code = NULL, error = NULL, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?`,
          )
          .run(movieId, ordinal, original.sha256, original.ext, original.bytes, known.id);
      }
      return { id: known.id, added: false };
    });
  }

  /**
   * Records a still that could not be fetched (`filmatlas status` lists it with the
   * reason). A still that already has its original is left alone. Returns its id.
   */
  addFailedStill(movieId: number, ordinal: number, source: string, errorCode: string, error: string): number {
    return this.write(() => {
      const known = this.stillBySource(source);
      if (known?.originalSha256) return known.id;
      if (known) {
        this.db
          .prepare(
            `UPDATE stills SET movie_id = ?, ordinal = ?, status = 'rejected', error_code = ?, error = ?,
               updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`,
          )
          .run(movieId, ordinal, errorCode, error, known.id);
        return known.id;
      }
      return this.db
        .prepare(`INSERT INTO stills (movie_id, ordinal, source, status, error_code, error) VALUES (?, ?, ?, 'rejected', ?, ?)`)
        .run(movieId, ordinal, source, errorCode, error).lastInsertRowid as number;
    });
  }

  /**
   * Forgets a still that was recorded as failed before its original was ever fetched
   * (its source turned out to duplicate another still). Returns whether one was removed.
   */
  removeUnfetchedStill(source: string): boolean {
    return this.write(
      () => this.db.prepare('DELETE FROM stills WHERE source = ? AND original_sha256 IS NULL').run(source).changes > 0,
    );
  }

  crawlPage(url: string): CrawlPageRow | undefined {
    return this.db.prepare(`SELECT ${CRAWL_COLUMNS} FROM crawl_pages WHERE url = ?`).get(url) as CrawlPageRow | undefined;
  }

  /** A site's crawl rows of one kind, in the order they were found. */
  crawlPages(site: string, kind: CrawlKind): CrawlPageRow[] {
    return this.db
      .prepare(`SELECT ${CRAWL_COLUMNS} FROM crawl_pages WHERE site = ? AND kind = ? ORDER BY position IS NULL, position, url`)
      .all(site, kind) as CrawlPageRow[];
  }

  /** Inserts a crawl row or changes the given fields of a known one. */
  saveCrawlPage(update: CrawlPageUpdate): void {
    this.write(() => {
      const row: CrawlPageRow = {
        status: 'queued',
        label: null,
        position: null,
        httpStatus: null,
        etag: null,
        lastModified: null,
        fetchedAt: null,
        movieId: null,
        stillId: null,
        error: null,
        ...this.crawlPage(update.url),
        // a field left undefined keeps its stored value; null clears it
        ...(Object.fromEntries(Object.entries(update).filter(([, v]) => v !== undefined)) as CrawlPageUpdate),
      };
      this.db
        .prepare(
          `INSERT OR REPLACE INTO crawl_pages
             (url, site, kind, status, label, position, http_status, etag, last_modified, fetched_at, movie_id, still_id, error)
           VALUES (@url, @site, @kind, @status, @label, @position, @httpStatus, @etag, @lastModified, @fetchedAt, @movieId,
             @stillId, @error)`,
        )
        .run(row);
    });
  }

  /** Stills waiting to be processed, in catalogue order. */
  pendingStills(): StillRow[] {
    return this.db
      .prepare(`SELECT ${STILL_COLUMNS} FROM stills WHERE status = 'pending' ORDER BY id`)
      .all() as StillRow[];
  }

  applyUpdates(updates: readonly StillUpdate[]): void {
    if (updates.length === 0) return;
    const ready = this.db.prepare(
      `UPDATE stills SET status = 'ready', original_sha256 = @originalSha256, original_ext = @originalExt,
         original_bytes = @originalBytes, original_format = @originalFormat, width = @width, height = @height,
         std_sha256 = @stdSha256, error_code = NULL, error = NULL,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       WHERE id = @id`,
    );
    const rejected = this.db.prepare(
      `UPDATE stills SET status = 'rejected', error_code = @errorCode, error = @error,
         original_sha256 = @originalSha256, original_ext = @originalExt, original_bytes = @originalBytes,
         std_sha256 = NULL, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       WHERE id = @id`,
    );
    this.write(() => {
      for (const u of updates) {
        if (u.status === 'ready') ready.run(u);
        else
          rejected.run({
            originalSha256: null,
            originalExt: null,
            originalBytes: null,
            ...u,
          });
      }
    });
  }

  /** Puts stills back to pending (e.g. to re-standardise with another fit). */
  resetStills(where: 'all' | 'rejected'): number {
    const sql =
      where === 'all'
        ? `UPDATE stills SET status = 'pending', std_sha256 = NULL, error_code = NULL, error = NULL`
        : `UPDATE stills SET status = 'pending', error_code = NULL, error = NULL WHERE status = 'rejected'`;
    return this.write(() => this.db.prepare(sql).run().changes);
  }

  counts(): CatalogCounts {
    const movies = this.db.prepare('SELECT count(*) FROM movies').pluck().get() as number;
    const by = this.db.prepare('SELECT status, count(*) AS n FROM stills GROUP BY status').all() as {
      status: StillStatus;
      n: number;
    }[];
    const c: CatalogCounts = { movies, stills: 0, pending: 0, ready: 0, rejected: 0 };
    for (const { status, n } of by) {
      c[status] = n;
      c.stills += n;
    }
    return c;
  }

  rejectedStills(): { id: number; source: string; code: string | null; reason: string | null; movie: string }[] {
    return this.db
      .prepare(
        `SELECT s.id, s.source, s.error_code AS code, s.error AS reason,
           CASE WHEN m.year IS NULL THEN m.title ELSE m.title || ' (' || m.year || ')' END AS movie
         FROM stills s JOIN movies m ON m.id = s.movie_id WHERE s.status = 'rejected' ORDER BY s.id`,
      )
      .all() as { id: number; source: string; code: string | null; reason: string | null; movie: string }[];
  }

  movies(): MovieRow[] {
    return (this.db.prepare(`SELECT ${MOVIE_COLUMNS} FROM movies ORDER BY id`).all() as RawMovie[]).map(parseMovie);
  }

  movie(id: number): MovieRow | undefined {
    const r = this.db.prepare(`SELECT ${MOVIE_COLUMNS} FROM movies WHERE id = ?`).get(id) as RawMovie | undefined;
    return r && parseMovie(r);
  }

  /** Stills by status (default: ready), ordered by movie then film order. */
  stills(status: StillStatus = 'ready'): StillRow[] {
    return this.db
      .prepare(`SELECT ${STILL_COLUMNS} FROM stills WHERE status = ? ORDER BY movie_id, ordinal, id`)
      .all(status) as StillRow[];
  }

  still(id: number): StillRow | undefined {
    return this.db.prepare(`SELECT ${STILL_COLUMNS} FROM stills WHERE id = ?`).get(id) as StillRow | undefined;
  }

  startRun(stage: string, options: object): number {
    return this.write(
      () =>
        this.db.prepare('INSERT INTO runs (stage, options) VALUES (?, ?)').run(stage, JSON.stringify(options))
          .lastInsertRowid as number,
    );
  }

  finishRun(id: number, status: 'done' | 'failed' | 'aborted', counts: object, error?: string): void {
    this.write(() =>
      this.db
        .prepare(
          `UPDATE runs SET status = ?, counts = ?, error = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
           WHERE id = ?`,
        )
        .run(status, JSON.stringify(counts), error ?? null, id),
    );
  }

  runs(limit = 20): { id: number; stage: string; status: string; startedAt: string; finishedAt: string | null; counts: object }[] {
    return (
      this.db
        .prepare(
          `SELECT id, stage, status, started_at AS startedAt, finished_at AS finishedAt, counts FROM runs
           ORDER BY id DESC LIMIT ?`,
        )
        .all(limit) as { id: number; stage: string; status: string; startedAt: string; finishedAt: string | null; counts: string }[]
    ).map((r) => ({ ...r, counts: JSON.parse(r.counts) as object }));
  }

  recordEmbedErrors(model: string, errors: readonly { stillId: number; error: string }[]): void {
    if (errors.length === 0) return;
    const st = this.db.prepare(
      `INSERT INTO embed_errors (model, still_id, error) VALUES (?, ?, ?)
       ON CONFLICT(model, still_id) DO UPDATE SET error = excluded.error, at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
    );
    this.write(() => {
      for (const e of errors) st.run(model, e.stillId, e.error);
    });
  }

  clearEmbedErrors(model: string, stillIds: readonly number[]): void {
    if (stillIds.length === 0) return;
    const st = this.db.prepare('DELETE FROM embed_errors WHERE model = ? AND still_id = ?');
    this.write(() => {
      for (const id of stillIds) st.run(model, id);
    });
  }

  embedErrors(model?: string): { model: string; stillId: number; source: string; error: string }[] {
    return this.db
      .prepare(
        `SELECT e.model, e.still_id AS stillId, s.source, e.error FROM embed_errors e JOIN stills s ON s.id = e.still_id
         WHERE (? IS NULL OR e.model = ?) ORDER BY e.model, e.still_id`,
      )
      .all(model ?? null, model ?? null) as { model: string; stillId: number; source: string; error: string }[];
  }
}
