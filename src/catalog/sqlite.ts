/**
 * The SQLite catalogue of an atlas (`<atlas>/atlas.db`, WAL mode): the default
 * implementation of the `Catalog` contract. better-sqlite3 is synchronous; the
 * contract's methods are async so that a networked backend fits the same interface,
 * and here they simply resolve at once.
 */
import Database from 'better-sqlite3';
import { AtlasError } from '../errors.js';
import {
  movieSlug,
  type Catalog,
  type CatalogCounts,
  type CrawlKind,
  type CrawlPageRow,
  type CrawlPageUpdate,
  type EmbedErrorRow,
  type MovieListing,
  type MovieRow,
  type MovieSpec,
  type RejectedStillRow,
  type RunRow,
  type RunStatus,
  type StillRef,
  type StillRow,
  type StillStatus,
  type StillUpdate,
  type StoredOriginal,
} from './catalog.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

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
 * Every write is a short IMMEDIATE transaction and readers never block writers, so
 * several processes can work on one atlas at once; `busy_timeout` makes a second
 * writer wait rather than fail.
 */
export class SqliteCatalog implements Catalog {
  private readonly db: Database.Database;
  readonly location: string;

  private constructor(db: Database.Database, path: string) {
    this.db = db;
    this.location = path;
  }

  static open(path: string, options: { readonly?: boolean } = {}): SqliteCatalog {
    let db: Database.Database;
    try {
      db = new Database(path, {
        readonly: options.readonly ?? false,
        fileMustExist: options.readonly ?? false,
      });
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
      const catalog = new SqliteCatalog(db, path);
      if (!options.readonly) catalog.migrate();
      else catalog.checkVersion();
      return catalog;
    } catch (cause) {
      db.close();
      if (cause instanceof AtlasError) throw cause;
      throw new AtlasError(
        'ATLAS',
        `the atlas catalogue ${path} is unreadable: ${(cause as Error).message}`,
        {
          value: path,
          suggestion: 'check that this is a Film Atlas directory and that the file is not damaged',
          cause,
        },
      );
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
        `the atlas ${this.location} has catalogue schema ${v}, newer than this filmatlas understands (${SCHEMA_VERSION})`,
        { value: this.location, suggestion: 'upgrade filmatlas' },
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

  async close(): Promise<void> {
    this.db.close();
  }

  /** Runs `fn` in one write transaction (taken up front so concurrent writers queue instead of deadlocking). */
  private write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  async getMeta(key: string): Promise<string | undefined> {
    const r = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      { value: string } | undefined;
    return r?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  async upsertMovie(spec: MovieSpec): Promise<number> {
    return this.upsertMovieSync(spec);
  }

  private upsertMovieSync(spec: MovieSpec): number {
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

  async addStills(movieId: number, sources: readonly string[]): Promise<number> {
    return this.write(() => this.addStillsSync(movieId, sources));
  }

  private addStillsSync(movieId: number, sources: readonly string[]): number {
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

  async registerMovies(listings: readonly MovieListing[]): Promise<{ movieIds: number[]; added: number }> {
    return this.write(() => {
      let added = 0;
      const movieIds = listings.map((l) => {
        const id = this.upsertMovieSync(l.spec);
        added += this.addStillsSync(id, l.sources);
        return id;
      });
      return { movieIds, added };
    });
  }

  async stillBySource(source: string): Promise<StillRow | undefined> {
    return this.stillBySourceSync(source);
  }

  private stillBySourceSync(source: string): StillRow | undefined {
    return this.db.prepare(`SELECT ${STILL_COLUMNS} FROM stills WHERE source = ?`).get(source) as
      StillRow | undefined;
  }

  async stillByOriginal(sha256: string): Promise<StillRow | undefined> {
    return this.db
      .prepare(`SELECT ${STILL_COLUMNS} FROM stills WHERE original_sha256 = ? ORDER BY id LIMIT 1`)
      .get(sha256) as StillRow | undefined;
  }

  async hasOriginals(): Promise<boolean> {
    return (
      this.db.prepare('SELECT 1 FROM stills WHERE original_sha256 IS NOT NULL LIMIT 1').get() !== undefined
    );
  }

  async addStoredStill(
    movieId: number,
    ordinal: number,
    source: string,
    original: StoredOriginal,
  ): Promise<{ id: number; added: boolean }> {
    return this.write(() => {
      const known = this.stillBySourceSync(source);
      if (!known) {
        const id = this.db
          .prepare(
            `INSERT INTO stills (movie_id, ordinal, source, original_sha256, original_ext, original_bytes)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(movieId, ordinal, source, original.sha256, original.ext, original.bytes)
          .lastInsertRowid as number;
        return { id, added: true };
      }
      if (known.originalSha256 === original.sha256 && known.originalExt === original.ext) {
        this.db
          .prepare('UPDATE stills SET movie_id = ?, ordinal = ? WHERE id = ?')
          .run(movieId, ordinal, known.id);
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

  async addFailedStill(
    movieId: number,
    ordinal: number,
    source: string,
    errorCode: string,
    error: string,
  ): Promise<number> {
    return this.write(() => {
      const known = this.stillBySourceSync(source);
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
        .prepare(
          `INSERT INTO stills (movie_id, ordinal, source, status, error_code, error) VALUES (?, ?, ?, 'rejected', ?, ?)`,
        )
        .run(movieId, ordinal, source, errorCode, error).lastInsertRowid as number;
    });
  }

  async removeUnfetchedStill(source: string): Promise<boolean> {
    return this.write(
      () =>
        this.db.prepare('DELETE FROM stills WHERE source = ? AND original_sha256 IS NULL').run(source)
          .changes > 0,
    );
  }

  async crawlPage(url: string): Promise<CrawlPageRow | undefined> {
    return this.crawlPageSync(url);
  }

  private crawlPageSync(url: string): CrawlPageRow | undefined {
    return this.db.prepare(`SELECT ${CRAWL_COLUMNS} FROM crawl_pages WHERE url = ?`).get(url) as
      CrawlPageRow | undefined;
  }

  async crawlPages(site: string, kind: CrawlKind): Promise<CrawlPageRow[]> {
    return this.db
      .prepare(
        `SELECT ${CRAWL_COLUMNS} FROM crawl_pages WHERE site = ? AND kind = ? ORDER BY position IS NULL, position, url`,
      )
      .all(site, kind) as CrawlPageRow[];
  }

  async saveCrawlPage(update: CrawlPageUpdate): Promise<void> {
    this.write(() => this.saveCrawlPageSync(update));
  }

  async replaceCrawlListing(site: string, kind: CrawlKind, rows: readonly CrawlPageUpdate[]): Promise<void> {
    this.write(() => {
      this.db.prepare('UPDATE crawl_pages SET position = NULL WHERE site = ? AND kind = ?').run(site, kind);
      for (const r of rows) this.saveCrawlPageSync(r);
    });
  }

  private saveCrawlPageSync(update: CrawlPageUpdate): void {
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
      ...this.crawlPageSync(update.url),
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
  }

  async pendingStills(): Promise<StillRow[]> {
    return this.db
      .prepare(`SELECT ${STILL_COLUMNS} FROM stills WHERE status = 'pending' ORDER BY id`)
      .all() as StillRow[];
  }

  async applyUpdates(updates: readonly StillUpdate[]): Promise<void> {
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

  async resetStills(where: 'all' | 'rejected'): Promise<number> {
    const sql =
      where === 'all'
        ? `UPDATE stills SET status = 'pending', std_sha256 = NULL, error_code = NULL, error = NULL`
        : `UPDATE stills SET status = 'pending', error_code = NULL, error = NULL WHERE status = 'rejected'`;
    return this.write(() => this.db.prepare(sql).run().changes);
  }

  async counts(): Promise<CatalogCounts> {
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

  async rejectedStills(): Promise<RejectedStillRow[]> {
    return this.db
      .prepare(
        `SELECT s.id, s.source, s.error_code AS code, s.error AS reason,
           CASE WHEN m.year IS NULL THEN m.title ELSE m.title || ' (' || m.year || ')' END AS movie
         FROM stills s JOIN movies m ON m.id = s.movie_id WHERE s.status = 'rejected' ORDER BY s.id`,
      )
      .all() as RejectedStillRow[];
  }

  async movies(): Promise<MovieRow[]> {
    return (this.db.prepare(`SELECT ${MOVIE_COLUMNS} FROM movies ORDER BY id`).all() as RawMovie[]).map(
      parseMovie,
    );
  }

  async movie(id: number): Promise<MovieRow | undefined> {
    const r = this.db.prepare(`SELECT ${MOVIE_COLUMNS} FROM movies WHERE id = ?`).get(id) as
      RawMovie | undefined;
    return r && parseMovie(r);
  }

  async stills(status: StillStatus = 'ready'): Promise<StillRow[]> {
    return this.db
      .prepare(`SELECT ${STILL_COLUMNS} FROM stills WHERE status = ? ORDER BY movie_id, ordinal, id`)
      .all(status) as StillRow[];
  }

  async stillRefs(): Promise<StillRef[]> {
    return this.db
      .prepare('SELECT id, movie_id AS movieId, ordinal FROM stills ORDER BY id')
      .all() as StillRef[];
  }

  async still(id: number): Promise<StillRow | undefined> {
    return this.db.prepare(`SELECT ${STILL_COLUMNS} FROM stills WHERE id = ?`).get(id) as
      StillRow | undefined;
  }

  async startRun(stage: string, options: object): Promise<number> {
    return this.write(
      () =>
        this.db.prepare('INSERT INTO runs (stage, options) VALUES (?, ?)').run(stage, JSON.stringify(options))
          .lastInsertRowid as number,
    );
  }

  async finishRun(
    id: number,
    status: Exclude<RunStatus, 'running'>,
    counts: object,
    error?: string,
  ): Promise<void> {
    this.write(() =>
      this.db
        .prepare(
          `UPDATE runs SET status = ?, counts = ?, error = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
           WHERE id = ?`,
        )
        .run(status, JSON.stringify(counts), error ?? null, id),
    );
  }

  async runs(limit = 20): Promise<RunRow[]> {
    return (
      this.db
        .prepare(
          `SELECT id, stage, status, started_at AS startedAt, finished_at AS finishedAt, counts FROM runs
           ORDER BY id DESC LIMIT ?`,
        )
        .all(limit) as (Omit<RunRow, 'counts'> & { counts: string })[]
    ).map((r) => ({ ...r, counts: JSON.parse(r.counts) as object }));
  }

  async recordEmbedErrors(
    model: string,
    errors: readonly { stillId: number; error: string }[],
  ): Promise<void> {
    if (errors.length === 0) return;
    const st = this.db.prepare(
      `INSERT INTO embed_errors (model, still_id, error) VALUES (?, ?, ?)
       ON CONFLICT(model, still_id) DO UPDATE SET error = excluded.error, at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
    );
    this.write(() => {
      for (const e of errors) st.run(model, e.stillId, e.error);
    });
  }

  async clearEmbedErrors(model: string, stillIds: readonly number[]): Promise<void> {
    if (stillIds.length === 0) return;
    const st = this.db.prepare('DELETE FROM embed_errors WHERE model = ? AND still_id = ?');
    this.write(() => {
      for (const id of stillIds) st.run(model, id);
    });
  }

  async embedErrors(model?: string): Promise<EmbedErrorRow[]> {
    return this.db
      .prepare(
        `SELECT e.model, e.still_id AS stillId, s.source, e.error FROM embed_errors e JOIN stills s ON s.id = e.still_id
         WHERE (? IS NULL OR e.model = ?) ORDER BY e.model, e.still_id`,
      )
      .all(model ?? null, model ?? null) as EmbedErrorRow[];
  }
}
