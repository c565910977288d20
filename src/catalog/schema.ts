/**
 * Catalogue migrations. Each entry moves the schema from version i to i+1; the
 * version lives in SQLite's `user_version`. Never edit a shipped migration: add one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: movies, stills, runs, meta
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE movies (
    id                INTEGER PRIMARY KEY,
    slug              TEXT NOT NULL UNIQUE,
    title             TEXT NOT NULL,
    year              INTEGER,
    director          TEXT,
    cinematographer   TEXT,
    production_design TEXT,
    costume_design    TEXT,
    source_url        TEXT,
    attributes        TEXT NOT NULL DEFAULT '{}',
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE stills (
    id              INTEGER PRIMARY KEY,
    movie_id        INTEGER NOT NULL REFERENCES movies(id) ON DELETE CASCADE,
    ordinal         INTEGER NOT NULL,
    source          TEXT NOT NULL UNIQUE,
    original_sha256 TEXT,
    original_ext    TEXT,
    original_bytes  INTEGER,
    original_format TEXT,
    width           INTEGER,
    height          INTEGER,
    std_sha256      TEXT,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'rejected')),
    error_code      TEXT,
    error           TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE INDEX stills_movie ON stills (movie_id, ordinal);
  CREATE INDEX stills_status ON stills (status);
  CREATE INDEX stills_original ON stills (original_sha256);
  CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    stage       TEXT NOT NULL,
    started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT,
    status      TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed', 'aborted')),
    options     TEXT NOT NULL DEFAULT '{}',
    counts      TEXT NOT NULL DEFAULT '{}',
    error       TEXT
  );
  `,
  // 2: per-embedder bookkeeping. The vectors live in flat files under features/;
  // this table records which stills failed to embed and why.
  `
  CREATE TABLE embed_errors (
    model    TEXT NOT NULL,
    still_id INTEGER NOT NULL REFERENCES stills(id) ON DELETE CASCADE,
    error    TEXT NOT NULL,
    at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (model, still_id)
  );
  `,
  // 3: crawl state of web sources (film-grab.com), so a crawl resumes where it stopped
  // and re-runs send conditional requests. One row per URL the crawler has met: the
  // robots.txt, index pages, movie pages (in index order), gallery images and zips.
  // An image that became a still is also a still whose `source` is its URL.
  `
  CREATE TABLE crawl_pages (
    url           TEXT PRIMARY KEY,
    site          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('robots', 'index', 'movie', 'image', 'zip')),
    status        TEXT NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'done', 'no-gallery', 'partial', 'failed', 'disallowed', 'duplicate')),
    label         TEXT,
    position      INTEGER,
    http_status   INTEGER,
    etag          TEXT,
    last_modified TEXT,
    fetched_at    TEXT,
    movie_id      INTEGER REFERENCES movies(id) ON DELETE SET NULL,
    still_id      INTEGER REFERENCES stills(id) ON DELETE SET NULL,
    error         TEXT
  );
  CREATE INDEX crawl_pages_kind ON crawl_pages (site, kind, position);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
