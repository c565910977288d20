/**
 * The film-grab.com crawler: the A–Z index, each movie page (title, credits, gallery)
 * and its stills, into an atlas. Polite (robots.txt, one connection, `rate` requests
 * per second across everything, an identifying User-Agent, backoff honouring
 * Retry-After) and resumable: what it has met lives in the catalogue's `crawl_pages`,
 * a still is never fetched twice (its URL is its `source`), and bytes another still
 * already has are recorded as a duplicate rather than added again.
 */
import { createHash } from 'node:crypto';
import type { Atlas } from '../../atlas/atlas.js';
import type { CrawlPageRow, MovieSpec } from '../../catalog/catalog.js';
import { recordRun } from '../../catalog/runs.js';
import { AtlasError, describeError, invalidArgument } from '../../errors.js';
import { addOriginalStill, standardiseStills, type StandardiseStillsOptions } from '../ingest.js';
import { naturalCompare, STILL_EXTENSIONS } from '../scan.js';
import { creditsToSpec } from './credits.js';
import { PoliteClient, type HttpResult, type PoliteClientOptions } from './http.js';
import { parseIndex, parseMoviePage, type IndexEntry } from './parse.js';
import { SELECTORS, type FilmGrabSelectors } from './selectors.js';
import { readZip } from './zip.js';
import robotsModule from 'robots-parser';
import { checkInt } from '../../validate.js';

type RobotsParser = typeof robotsModule.default;
type Robot = ReturnType<RobotsParser>;
// robots-parser is CommonJS whose typings declare a default export: the module itself is the function.
const robotsParser = robotsModule as unknown as RobotsParser;

/** The site's crawl rows are kept under this name in `crawl_pages`. */
export const FILMGRAB_SITE = 'film-grab';
export const FILMGRAB_URL = 'https://film-grab.com';
/** The product token robots.txt rules are matched against. */
export const ROBOTS_AGENT = 'filmatlas';

export interface ScrapeOptions
  extends
    StandardiseStillsOptions,
    Pick<
      PoliteClientOptions,
      'attempts' | 'retryDelayMs' | 'maxDelayMs' | 'headersTimeoutMs' | 'bodyTimeoutMs' | 'onRequest'
    > {
  /** Site root. Default `https://film-grab.com`. */
  baseUrl?: string;
  /** Crawl at most this many movies of the index (after `movies`), in index order. Default: all; ≥ 1. */
  limit?: number;
  /** Only these movies: names as the index shows them (case and accents ignored) or movie page URLs. Default: all. */
  movies?: readonly string[];
  /** Requests per second, across every request (pages, images, retries). Default 1; 0.001–1000. */
  rate?: number;
  /** User-Agent header. Default `filmatlas/<version> (+<project URL>)`. */
  userAgent?: string;
  /**
   * Seconds a fully crawled page stays fresh: a re-run within it skips the page with no
   * request; after it, the page is re-fetched conditionally (ETag / Last-Modified) and
   * only new stills are downloaded. Default 86400 (a day); 0 re-checks every page.
   */
  maxAge?: number;
  /** Where things are on the site. Default `SELECTORS`. */
  selectors?: FilmGrabSelectors;
}

export interface ScrapeResult {
  /** Movies selected from the index for this run. */
  selected: number;
  /** Movie pages fetched and read this run. */
  pages: number;
  /** Movie pages skipped without a request (crawled within `maxAge`). */
  fresh: number;
  /** Movie pages the server said had not changed (304). */
  notModified: number;
  /** Movies whose page has no gallery (recorded as such). */
  noGallery: string[];
  /** URLs robots.txt keeps us from. */
  disallowed: string[];
  /** Movie pages that could not be fetched, with why (retried next run). */
  failedPages: { url: string; error: string }[];
  /** Stills downloaded this run (images, and entries of gallery zips). */
  downloaded: number;
  /** Of those, new stills added to the atlas. */
  added: number;
  /** Gallery stills skipped because the atlas already has their URL (a gallery zip already read counts once). */
  known: number;
  /** Downloaded stills whose bytes another still already has (not added again). */
  duplicates: number;
  /** Stills that could not be downloaded (recorded as rejected; retried next run). */
  failed: number;
  /** HTTP requests made, including retries and robots.txt. */
  requests: number;
  retries: number;
  bytes: number;
  /** Standardisation of what was added (and anything else pending). */
  processed: number;
  ready: number;
  rejected: number;
  seconds: number;
  /** Things a person should know: credit lines ignored as junk, unknown --movie names, Crawl-delay, ... */
  warnings: string[];
}

function normaliseName(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

function isFresh(row: CrawlPageRow | undefined, maxAgeS: number): boolean {
  if (!row?.fetchedAt || (row.status !== 'done' && row.status !== 'no-gallery')) return false;
  return Date.now() - Date.parse(row.fetchedAt) < maxAgeS * 1000;
}

function validators(res: HttpResult): { etag: string | null; lastModified: string | null } {
  return { etag: res.headers.etag ?? null, lastModified: res.headers['last-modified'] ?? null };
}

const nowIso = (): string => new Date().toISOString();

/** robots.txt per origin, fetched once per crawl through the same polite client. */
class RobotsRules {
  private readonly byOrigin = new Map<string, Robot | null>();
  constructor(
    private readonly client: PoliteClient,
    private readonly atlas: Atlas,
    private readonly warnings: string[],
    private readonly signal?: AbortSignal,
  ) {}

  async allowed(url: string): Promise<boolean> {
    const origin = new URL(url).origin;
    if (!this.byOrigin.has(origin)) this.byOrigin.set(origin, await this.load(origin));
    const robot = this.byOrigin.get(origin);
    return robot ? robot.isAllowed(url, ROBOTS_AGENT) !== false : true;
  }

  private async load(origin: string): Promise<Robot | null> {
    const url = `${origin}/robots.txt`;
    let res: HttpResult;
    try {
      res = await this.client.get(url, { signal: this.signal });
    } catch (err) {
      if (err instanceof AtlasError && err.code === 'NETWORK') {
        // RFC 9309 §2.3.1.4: an unreachable robots.txt means the whole site is off limits.
        throw new AtlasError(
          'NETWORK',
          `cannot read ${url}, so the site may not be crawled: ${err.message}`,
          {
            value: url,
            suggestion: 'try again later',
            cause: err,
          },
        );
      }
      throw err;
    }
    await this.atlas.catalog.saveCrawlPage({
      url,
      site: FILMGRAB_SITE,
      kind: 'robots',
      status: res.status < 400 ? 'done' : 'failed',
      httpStatus: res.status,
      fetchedAt: nowIso(),
      ...validators(res),
      error: res.status < 400 ? null : `HTTP ${res.status}`,
    });
    // RFC 9309 §2.3.1.3: a 4xx robots.txt (none published) allows everything.
    if (res.status >= 400) return null;
    const robot = robotsParser(url, res.body.toString('utf8'));
    const delay = robot.getCrawlDelay(ROBOTS_AGENT);
    if (delay !== undefined && delay > 0 && 1 / delay < this.client.rate) {
      this.client.limitRate(1 / delay);
      this.warnings.push(
        `${url} asks for Crawl-delay ${delay} s: crawling at ${(1 / delay).toFixed(3)} requests/s`,
      );
    }
    return robot;
  }
}

/**
 * Crawls film-grab.com (or a site with its structure at `baseUrl`) into the atlas and
 * standardises what it downloads. Resumable: run it again after a failure or Ctrl-C
 * and it continues without fetching or adding anything twice.
 */
export async function scrapeFilmGrab(atlas: Atlas, options: ScrapeOptions = {}): Promise<ScrapeResult> {
  const baseUrl = options.baseUrl ?? FILMGRAB_URL;
  try {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw invalidArgument('--base-url', 'an http(s) URL', baseUrl);
  }
  const limit = options.limit;
  checkInt('--limit', limit, 1, Infinity);
  const maxAge = options.maxAge ?? 86_400;
  if (!(maxAge >= 0)) throw invalidArgument('maxAge', 'a number of seconds ≥ 0', maxAge);
  const selectors = options.selectors ?? SELECTORS;
  const signal = options.signal;
  const started = performance.now();
  const result: ScrapeResult = {
    selected: 0,
    pages: 0,
    fresh: 0,
    notModified: 0,
    noGallery: [],
    disallowed: [],
    failedPages: [],
    downloaded: 0,
    added: 0,
    known: 0,
    duplicates: 0,
    failed: 0,
    requests: 0,
    retries: 0,
    bytes: 0,
    processed: 0,
    ready: 0,
    rejected: 0,
    seconds: 0,
    warnings: [],
  };
  const client = new PoliteClient({
    rate: options.rate,
    userAgent: options.userAgent,
    attempts: options.attempts,
    retryDelayMs: options.retryDelayMs,
    maxDelayMs: options.maxDelayMs,
    headersTimeoutMs: options.headersTimeoutMs,
    bodyTimeoutMs: options.bodyTimeoutMs,
    onRequest: options.onRequest,
    allowUrl: (url) => robots.allowed(url),
  });
  const robots: RobotsRules = new RobotsRules(client, atlas, result.warnings, signal);
  const catalog = atlas.catalog;
  const runOptions = {
    baseUrl,
    limit: limit ?? null,
    movies: options.movies ?? [],
    rate: client.rate,
    maxAge,
  };

  const standardise = async (): Promise<void> => {
    const s = await standardiseStills(atlas, {
      concurrency: options.concurrency,
      standardise: options.standardise,
      signal,
    });
    result.processed += s.processed;
    result.ready += s.ready;
    result.rejected += s.rejected;
  };

  /** Adds downloaded bytes as a still of the movie, unless another still already has them. */
  const addBytes = async (
    movieId: number,
    ordinal: number,
    source: string,
    kind: 'image' | 'zip',
    data: Buffer,
  ): Promise<void> => {
    result.downloaded++;
    const sha = createHash('sha256').update(data).digest('hex');
    const twin = await catalog.stillByOriginal(sha);
    if (twin && twin.source !== source) {
      result.duplicates++;
      await catalog.removeUnfetchedStill(source);
      if (kind === 'image') {
        await catalog.saveCrawlPage({
          url: source,
          site: FILMGRAB_SITE,
          kind,
          status: 'duplicate',
          movieId,
          stillId: twin.id,
          fetchedAt: nowIso(),
          httpStatus: 200,
          error: null,
        });
      }
      return;
    }
    const r = await addOriginalStill(atlas, movieId, ordinal, source, data);
    if (r.added) result.added++;
    if (kind === 'image') {
      await catalog.saveCrawlPage({
        url: source,
        site: FILMGRAB_SITE,
        kind,
        status: 'done',
        movieId,
        stillId: r.id,
        fetchedAt: nowIso(),
        httpStatus: 200,
        error: null,
      });
    }
  };

  const recordFailedStill = async (
    movieId: number,
    ordinal: number,
    url: string,
    code: string,
    error: string,
    kind: 'image' | 'zip',
  ): Promise<void> => {
    result.failed++;
    await catalog.addFailedStill(movieId, ordinal, url, code, error);
    if (kind === 'image')
      await catalog.saveCrawlPage({
        url,
        site: FILMGRAB_SITE,
        kind,
        status: 'failed',
        movieId,
        fetchedAt: nowIso(),
        error,
      });
  };

  /** One gallery image; false when it could not be downloaded. */
  const fetchImage = async (movieId: number, ordinal: number, url: string): Promise<boolean> => {
    const still = await catalog.stillBySource(url);
    if (still?.originalSha256) {
      result.known++;
      return true;
    }
    const row = await catalog.crawlPage(url);
    if (row?.status === 'duplicate') {
      result.known++;
      return true;
    }
    if (!(await robots.allowed(url))) {
      result.disallowed.push(url);
      await catalog.saveCrawlPage({ url, site: FILMGRAB_SITE, kind: 'image', status: 'disallowed', movieId });
      return true;
    }
    let res: HttpResult;
    try {
      res = await client.get(url, { signal });
    } catch (err) {
      if (!(err instanceof AtlasError) || err.code !== 'NETWORK') throw err;
      await recordFailedStill(movieId, ordinal, url, 'NETWORK', err.message, 'image');
      return false;
    }
    if (res.status !== 200) {
      await recordFailedStill(
        movieId,
        ordinal,
        url,
        'NETWORK',
        `HTTP ${res.status} downloading ${url}`,
        'image',
      );
      return false;
    }
    await addBytes(movieId, ordinal, url, 'image', res.body);
    return true;
  };

  /** A gallery zip: every image inside, in name order; false when it could not be downloaded or read. */
  const fetchZip = async (movieId: number, url: string): Promise<boolean> => {
    const row = await catalog.crawlPage(url);
    if (row?.status === 'done') {
      result.known++;
      return true;
    }
    if (!(await robots.allowed(url))) {
      result.disallowed.push(url);
      await catalog.saveCrawlPage({ url, site: FILMGRAB_SITE, kind: 'zip', status: 'disallowed', movieId });
      return true;
    }
    const fail = async (error: string): Promise<false> => {
      result.failed++;
      result.warnings.push(`gallery zip ${url}: ${error}`);
      await catalog.saveCrawlPage({
        url,
        site: FILMGRAB_SITE,
        kind: 'zip',
        status: 'failed',
        movieId,
        fetchedAt: nowIso(),
        error,
      });
      return false;
    };
    let res: HttpResult;
    try {
      res = await client.get(url, { signal });
    } catch (err) {
      if (!(err instanceof AtlasError) || err.code !== 'NETWORK') throw err;
      return fail(err.message);
    }
    if (res.status !== 200) return fail(`HTTP ${res.status}`);
    let zip;
    try {
      zip = readZip(res.body);
    } catch (err) {
      return fail(describeError(err));
    }
    const isImage = (name: string): boolean => {
      const base = name.split('/').pop() ?? name;
      const dot = base.lastIndexOf('.');
      return (
        !name.startsWith('__MACOSX/') &&
        !base.startsWith('.') &&
        dot > 0 &&
        STILL_EXTENSIONS.has(base.slice(dot).toLowerCase())
      );
    };
    const names = [...zip.entries.map((e) => e.name), ...zip.errors.map((e) => e.name)]
      .filter(isImage)
      .sort(naturalCompare);
    const source = (name: string): string => `${url}#${encodeURIComponent(name)}`;
    for (const e of zip.entries) {
      if (!isImage(e.name)) continue;
      const src = source(e.name);
      if ((await catalog.stillBySource(src))?.originalSha256) {
        result.known++;
        continue;
      }
      await addBytes(movieId, names.indexOf(e.name), src, 'zip', e.data);
    }
    for (const e of zip.errors) {
      if (isImage(e.name))
        await recordFailedStill(
          movieId,
          names.indexOf(e.name),
          source(e.name),
          'BAD_IMAGE',
          `in the gallery zip: ${e.error}`,
          'zip',
        );
    }
    await catalog.saveCrawlPage({
      url,
      site: FILMGRAB_SITE,
      kind: 'zip',
      status: 'done',
      movieId,
      httpStatus: 200,
      fetchedAt: nowIso(),
      error: null,
      ...validators(res),
    });
    return true;
  };

  /** The index's movie links: fetched (conditionally), or as stored when fresh or unchanged. */
  const readIndex = async (): Promise<IndexEntry[]> => {
    const url = new URL(selectors.indexPath, baseUrl).href;
    if (!(await robots.allowed(url))) {
      throw new AtlasError('NETWORK', `robots.txt disallows the movie index ${url}`, { value: url });
    }
    const row = await catalog.crawlPage(url);
    const stored = async (): Promise<IndexEntry[]> =>
      (await catalog.crawlPages(FILMGRAB_SITE, 'movie'))
        .filter((m) => m.position !== null)
        .map((m) => ({ url: m.url, label: m.label ?? m.url }));
    if (isFresh(row, maxAge)) return stored();
    const conditional = row?.status === 'done' ? { etag: row.etag, lastModified: row.lastModified } : {};
    let res: HttpResult;
    try {
      res = await client.get(url, { ...conditional, signal });
    } catch (err) {
      const known = await stored();
      if (err instanceof AtlasError && err.code === 'NETWORK' && known.length > 0) {
        result.warnings.push(`${err.message}; using the ${known.length} movies known from the last crawl`);
        return known;
      }
      throw err;
    }
    if (res.status === 304) {
      await catalog.saveCrawlPage({
        url,
        site: FILMGRAB_SITE,
        kind: 'index',
        httpStatus: 304,
        fetchedAt: nowIso(),
      });
      return stored();
    }
    if (res.status !== 200) {
      throw new AtlasError('NETWORK', `the movie index ${url} answered HTTP ${res.status}`, { value: url });
    }
    const entries = parseIndex(res.body.toString('utf8'), res.url, selectors);
    if (entries.length === 0) {
      throw new AtlasError(
        'STATE',
        `the movie index ${url} lists no movies (no links match '${selectors.indexLinks}')`,
        {
          value: url,
          suggestion:
            'the site may have changed its markup: update SELECTORS in src/sources/filmgrab/selectors.ts',
        },
      );
    }
    // Positions follow the index as it is now; movies gone from it lose theirs.
    await catalog.replaceCrawlListing(
      FILMGRAB_SITE,
      'movie',
      entries.map((e, i) => ({
        url: e.url,
        site: FILMGRAB_SITE,
        kind: 'movie' as const,
        label: e.label,
        position: i,
      })),
    );
    await catalog.saveCrawlPage({
      url,
      site: FILMGRAB_SITE,
      kind: 'index',
      status: 'done',
      httpStatus: 200,
      fetchedAt: nowIso(),
      error: null,
      ...validators(res),
    });
    return entries;
  };

  /** One movie page and its gallery. */
  const crawlMovie = async (entry: IndexEntry): Promise<void> => {
    const row = await catalog.crawlPage(entry.url);
    const base = { url: entry.url, site: FILMGRAB_SITE, kind: 'movie' as const };
    if (!(await robots.allowed(entry.url))) {
      result.disallowed.push(entry.url);
      await catalog.saveCrawlPage({ ...base, status: 'disallowed' });
      return;
    }
    if (isFresh(row, maxAge)) {
      result.fresh++;
      return;
    }
    const wasComplete = row?.status === 'done' || row?.status === 'no-gallery';
    let res: HttpResult;
    try {
      res = await client.get(entry.url, {
        ...(wasComplete ? { etag: row.etag, lastModified: row.lastModified } : {}),
        signal,
      });
    } catch (err) {
      if (!(err instanceof AtlasError) || err.code !== 'NETWORK') throw err;
      result.failedPages.push({ url: entry.url, error: err.message });
      await catalog.saveCrawlPage({ ...base, status: 'failed', fetchedAt: nowIso(), error: err.message });
      return;
    }
    if (res.status === 304) {
      result.notModified++;
      await catalog.saveCrawlPage({ ...base, httpStatus: 304, fetchedAt: nowIso() });
      return;
    }
    if (res.status !== 200) {
      const error = `HTTP ${res.status}`;
      result.failedPages.push({ url: entry.url, error });
      await catalog.saveCrawlPage({
        ...base,
        status: 'failed',
        httpStatus: res.status,
        fetchedAt: nowIso(),
        error,
      });
      return;
    }
    result.pages++;
    const page = parseMoviePage(res.body.toString('utf8'), res.url, selectors);
    const title =
      page.title ?? (entry.label !== entry.url ? entry.label : undefined) ?? page.heading ?? entry.label;
    if (!page.title)
      result.warnings.push(`${entry.url}: no title on the page; using the index's '${entry.label}'`);
    for (const r of page.credits.rejected) result.warnings.push(`${title}: ignored credit line "${r}"`);
    const spec: MovieSpec = { title, ...creditsToSpec(page.credits), sourceUrl: entry.url };
    const movieId = await catalog.upsertMovie(spec);
    if (page.images.length === 0 && !page.zip) {
      result.noGallery.push(title);
      await catalog.saveCrawlPage({
        ...base,
        status: 'no-gallery',
        movieId,
        httpStatus: 200,
        fetchedAt: nowIso(),
        error: null,
        ...validators(res),
      });
      return;
    }
    let complete = true;
    if (page.images.length > 0) {
      for (const [i, url] of page.images.entries()) {
        if (!(await fetchImage(movieId, i, url))) complete = false;
      }
    } else if (page.zip) {
      complete = await fetchZip(movieId, page.zip);
    }
    await catalog.saveCrawlPage({
      ...base,
      status: complete ? 'done' : 'partial',
      movieId,
      httpStatus: 200,
      fetchedAt: nowIso(),
      error: complete ? null : 'some stills could not be downloaded; a re-run retries them',
      ...validators(res),
    });
  };

  const counts = (): object => {
    Object.assign(result, client.stats, { seconds: (performance.now() - started) / 1000 });
    return { ...result, warnings: result.warnings.length };
  };
  try {
    return await recordRun(
      atlas.catalog,
      'scrape',
      runOptions,
      async () => {
        await atlas.store.removeStaleTemp?.();
        let entries = await readIndex();
        if (options.movies && options.movies.length > 0) {
          const wanted = options.movies.map((m) => ({ raw: m, key: normaliseName(m) }));
          const hit = new Set<string>();
          entries = entries.filter((e) => {
            const w = wanted.find((x) => x.raw === e.url || x.key === normaliseName(e.label));
            if (w) hit.add(w.raw);
            return w !== undefined;
          });
          for (const w of wanted)
            if (!hit.has(w.raw)) result.warnings.push(`no movie named '${w.raw}' in the index`);
        }
        if (limit !== undefined) entries = entries.slice(0, limit);
        result.selected = entries.length;
        const progress = (done: number, note?: string): void =>
          options.onProgress?.({
            stage: 'scrape',
            done,
            total: entries.length,
            failed: result.failedPages.length + result.failed,
            note,
          });
        progress(0);
        let standardisedAt = 0;
        for (const [i, entry] of entries.entries()) {
          if (signal?.aborted)
            throw new AtlasError('ABORTED', 'the crawl was cancelled; run the same command again to resume');
          await crawlMovie(entry);
          // Standardise as we go, so a long crawl's stills are usable while it runs.
          if (result.added > standardisedAt) {
            standardisedAt = result.added;
            await standardise();
          }
          progress(i + 1, entry.label);
        }
        await standardise();
        return result;
      },
      { counts },
    );
  } finally {
    await client.close();
  }
}
