import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openAtlas, type Atlas } from '../../src/atlas/atlas.js';
import { AtlasError } from '../../src/errors.js';
import { scrapeFilmGrab, type ScrapeOptions } from '../../src/sources/filmgrab/crawl.js';
import {
  filmGrabFixture,
  maxRequestsInWindow,
  startFixtureSite,
  type FixtureMovie,
  type FixtureSite,
} from '../../src/sources/filmgrab/fixture-site.js';
import { USER_AGENT } from '../../src/sources/filmgrab/http.js';
import { tempDir } from '../helpers/tmp.js';

const ROBOTS = 'User-agent: *\nDisallow: /private/\n';
/** Fast settings for tests: the rate and the backoff are what make a crawl slow. */
const FAST: ScrapeOptions = { rate: 50, retryDelayMs: 20, attempts: 3, concurrency: 2 };

async function withSite<T>(
  movies: FixtureMovie[],
  robots: string | undefined,
  fn: (site: FixtureSite) => Promise<T>,
): Promise<T> {
  const site = await startFixtureSite({ movies, robots });
  try {
    return await fn(site);
  } finally {
    await site.close();
  }
}

async function newAtlas(name = 'atlas'): Promise<Atlas> {
  return await openAtlas(join(tempDir('filmatlas-crawl-'), name), { create: true });
}

interface StillTuple {
  movie: string;
  ordinal: number;
  source: string;
  sha: string | null;
  status: string;
}

/** Every still as (movie slug, ordinal, source path, original hash, status), sorted: comparable across atlases and ports. */
async function stillTuples(atlas: Atlas): Promise<StillTuple[]> {
  const slugs = new Map((await atlas.catalog.movies()).map((m) => [m.id, m.slug]));
  const all = [
    ...(await atlas.catalog.stills('pending')),
    ...(await atlas.catalog.stills('ready')),
    ...(await atlas.catalog.stills('rejected')),
  ];
  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return all
    .map((s) => ({
      movie: slugs.get(s.movieId)!,
      ordinal: s.ordinal,
      source: s.source.replace(/^http:\/\/127\.0\.0\.1:\d+/, ''),
      sha: s.originalSha256,
      status: s.status,
    }))
    .sort((x, y) => cmp(x.movie, y.movie) || x.ordinal - y.ordinal || cmp(x.source, y.source));
}

const imageRequests = (site: FixtureSite): string[] =>
  site.log
    .filter((e) => e.path.startsWith('/wp-content/') || e.path.startsWith('/wp-admin/'))
    .map((e) => e.path);

test('a crawl through injected faults gets every movie, normalised, and records what it could not get', async () => {
  const movies = await filmGrabFixture({ movies: 4, stills: 3 });
  // a still whose bytes are a truncated JPEG on the server itself: downloaded, then rejected when standardised
  movies[3].stills[1] = movies[3].stills[1].subarray(0, movies[3].stills[1].length >> 1);
  await withSite(movies, ROBOTS, async (site) => {
    const [m1, m2, m3, m4] = movies;
    const still = (m: FixtureMovie, i: number): string => site.stillPaths(m)[i];
    site.faults.set('/movies-a-z/', [{ kind: 'status', status: 500 }]);
    site.faults.set(m1.path, [{ kind: 'status', status: 429, retryAfter: '1' }]);
    site.faults.set(m2.path, [{ kind: 'slow', ms: 1500 }]);
    site.faults.set(m3.path, [{ kind: 'trickle', ms: 300 }]);
    site.faults.set(still(m1, 1), [{ kind: 'reset' }]);
    site.faults.set(still(m2, 0), [{ kind: 'truncate' }]);
    site.faults.set(still(m3, 2), [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 502 },
    ]);
    // more failures than attempts: this still is lost for this run
    site.faults.set(
      still(m4, 2),
      Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 500 })),
    );

    const atlas = await newAtlas();
    try {
      const r = await scrapeFilmGrab(atlas, { ...FAST, baseUrl: site.url, headersTimeoutMs: 700 });
      // robots.txt first, the disallowed movie never asked for, thumbnails never fetched
      assert.equal(site.log[0].path, '/robots.txt');
      assert.ok(!site.log.some((e) => e.path.startsWith('/private/')), 'robots.txt is honoured');
      assert.deepEqual(
        r.disallowed.map((u) => new URL(u).pathname),
        ['/private/secret/'],
      );
      assert.ok(!site.log.some((e) => e.path.includes('/thumb/')));
      assert.ok(
        site.log.every((e) => e.userAgent === USER_AGENT),
        'every request identifies the crawler',
      );
      // Retry-After: 1 was waited out
      const m1Hits = site.log.filter((e) => e.path === m1.path);
      assert.equal(m1Hits.length, 2);
      assert.ok(
        m1Hits[1].at - m1Hits[0].at >= 990,
        `retried after ${(m1Hits[1].at - m1Hits[0].at).toFixed(0)} ms`,
      );
      // each fault cost exactly the retries it should
      const hits = (p: string): number => site.log.filter((e) => e.path === p).length;
      assert.deepEqual(
        [
          hits('/movies-a-z/'),
          hits(m2.path),
          hits(m3.path),
          hits(still(m1, 1)),
          hits(still(m2, 0)),
          hits(still(m3, 2)),
          hits(still(m4, 2)),
        ],
        [2, 2, 1, 2, 2, 3, 3],
      );
      assert.equal(r.retries, 1 + 1 + 1 + 1 + 1 + 2 + 2);

      // movies and their normalised credits
      const bySlug = new Map((await atlas.catalog.movies()).map((m) => [m.slug, m]));
      assert.deepEqual([...bySlug.keys()].sort(), [
        'broken-page',
        'movie-a-co-1970',
        'movie-b-co-1971',
        'movie-c-co-1972',
        'movie-d-co-1973',
        'no-gallery-1999',
        'twin-2004',
        'zipped-2001',
      ]);
      for (let i = 0; i < 4; i++) {
        const m = bySlug.get(`movie-${'abcd'[i]}-co-${1970 + i}`)!;
        assert.equal(m.title, `Movie ${'ABCD'[i]} & Co`);
        assert.equal(m.director, `Director ${i + 1}`);
        assert.equal(
          m.cinematographer,
          `Camera Person ${i + 1}`,
          'DOP, Directir…, Dorector… all become the cinematographer',
        );
        assert.equal(m.productionDesign, `Designer ${i + 1}`);
        assert.equal(m.costumeDesign, `Costumer ${i + 1}`);
        assert.equal(m.year, 1970 + i);
        assert.deepEqual(
          m.attributes,
          { editor: `Cutter ${i + 1}` },
          'unknown labels kept; CSS junk dropped',
        );
        assert.equal(m.sourceUrl, site.url + movies[i].path);
      }
      assert.ok(r.warnings.some((w) => /ignored credit line ".bwg_container/.test(w)));
      const broken = bySlug.get('broken-page')!;
      assert.equal(broken.cinematographer, 'Sam Typo', 'credits are read from broken markup too');
      assert.equal(bySlug.get('zipped-2001')!.cinematographer, 'Zoe');

      // a movie without a gallery is recorded as such
      assert.deepEqual(r.noGallery, ['No Gallery']);
      assert.equal(
        (await atlas.catalog.crawlPage(site.url + '/2018/01/01/no-gallery/'))?.status,
        'no-gallery',
      );

      // stills: 4×3 + zip 3 + broken 2 + twin 2, less the twin's duplicate and the lost one
      const tuples = await stillTuples(atlas);
      assert.equal(r.downloaded, 12 + 3 + 2 + 2 - 1);
      assert.equal(r.duplicates, 1);
      assert.equal(r.failed, 1);
      assert.equal(r.added, 12 + 3 + 2 + 1 - 1);
      assert.equal(tuples.length, r.added + 1, 'the lost still is recorded (rejected) too');
      const zipped = tuples.filter((t) => t.movie === 'zipped-2001');
      assert.deepEqual(
        zipped.map((t) => t.ordinal),
        [0, 1, 2],
      );
      assert.ok(zipped.every((t) => t.source.startsWith(site.zipPath(movies[5])) && t.source.includes('#')));
      const twin = tuples.filter((t) => t.movie === 'twin-2004');
      assert.deepEqual(
        twin.map((t) => t.ordinal),
        [1],
        "the twin's first still duplicates Movie A's and is not added again",
      );
      const dup = await atlas.catalog.crawlPage(site.url + site.stillPaths(movies[7])[0]);
      assert.equal(dup?.status, 'duplicate');
      assert.equal((await atlas.catalog.still(dup!.stillId!))?.source, site.url + still(m1, 0));
      // the truncated JPEG is rejected with its reason; the lost still is rejected as a network failure
      const rejected = await atlas.catalog.rejectedStills();
      assert.deepEqual(
        rejected.map((x) => [x.source.replace(site.url, ''), x.code]).sort(),
        [
          [still(m4, 1), 'BAD_IMAGE'],
          [still(m4, 2), 'NETWORK'],
        ].sort(),
      );
      assert.equal((await atlas.catalog.crawlPage(site.url + m4.path))?.status, 'partial');
      assert.equal(r.ready, 12 + 3 + 2 + 1 - 2);
      assert.equal((await atlas.catalog.counts()).pending, 0);

      // a re-run: fresh pages cost nothing; the partial page is read again and only its lost still fetched
      const before = site.log.length;
      const again = await scrapeFilmGrab(atlas, { ...FAST, baseUrl: site.url });
      const rerun = site.log.slice(before).map((e) => e.path);
      assert.deepEqual(rerun, ['/robots.txt', m4.path, still(m4, 2)]);
      assert.deepEqual(
        [again.fresh, again.pages, again.downloaded, again.known, again.added],
        [7, 1, 1, 2, 0],
      );
      assert.equal((await atlas.catalog.crawlPage(site.url + m4.path))?.status, 'done');
      assert.deepEqual(
        (await atlas.catalog.rejectedStills()).map((x) => x.code),
        ['BAD_IMAGE'],
        'the recovered still is no longer listed as failed',
      );

      // past maxAge: every page is asked for conditionally, answered 304, and no still is fetched
      const before2 = site.log.length;
      const recheck = await scrapeFilmGrab(atlas, { ...FAST, baseUrl: site.url, maxAge: 0 });
      const third = site.log.slice(before2);
      assert.equal(recheck.notModified, 8);
      assert.equal(imageRequests({ ...site, log: third }).length, 0);
      assert.ok(
        third.filter((e) => e.path !== '/robots.txt').every((e) => e.ifNoneMatch && e.status === 304),
      );
      assert.deepEqual((await stillTuples(atlas)).length, tuples.length);
      const runs = await atlas.catalog.runs(3);
      assert.ok(runs.every((x) => x.stage === 'scrape' && x.status === 'done'));
    } finally {
      await atlas.close();
    }
  });
});

test('an interrupted crawl resumes without losing or duplicating anything', async () => {
  const movies = await filmGrabFixture({ movies: 5, stills: 4 });
  await withSite(movies, ROBOTS, async (site) => {
    const reference = await newAtlas('reference');
    await scrapeFilmGrab(reference, { ...FAST, baseUrl: site.url });
    const expected = await stillTuples(reference);
    await reference.close();
    const cleanRequests = site.log.length;
    site.log.length = 0;

    const atlas = await newAtlas('interrupted');
    try {
      // Ctrl-C twice, each time with a still download in flight
      for (const stopAt of [9, 14]) {
        const ac = new AbortController();
        const startN = site.log.length;
        site.onRequest = (_e, n) => {
          if (n - startN === stopAt) ac.abort();
        };
        await assert.rejects(
          scrapeFilmGrab(atlas, { ...FAST, baseUrl: site.url, signal: ac.signal }),
          (e: unknown) => e instanceof AtlasError && e.code === 'ABORTED',
        );
        assert.equal((await atlas.catalog.runs(1))[0].status, 'aborted');
      }
      site.onRequest = undefined;
      const mid = (await stillTuples(atlas)).length;
      assert.ok(mid > 0 && mid < expected.length, `stopped mid-way (${mid} of ${expected.length})`);
      const r = await scrapeFilmGrab(atlas, { ...FAST, baseUrl: site.url });
      assert.equal(r.failed, 0);
      assert.deepEqual(
        await stillTuples(atlas),
        expected,
        'the same stills, movies, order and bytes as an uninterrupted crawl',
      );
      assert.equal((await atlas.catalog.counts()).pending, 0);
      // nothing downloaded twice, except at most the one request in flight at each interruption
      const images = imageRequests(site);
      assert.ok(
        images.length - new Set(images).size <= 2,
        `${images.length - new Set(images).size} repeated image requests`,
      );
      assert.ok(
        site.log.length <= cleanRequests + 2 * 3 + 2,
        `${site.log.length} requests vs ${cleanRequests} for a clean crawl`,
      );
    } finally {
      await atlas.close();
    }
  });
});

test('the request rate is never exceeded, over one connection', async () => {
  const movies = (await filmGrabFixture({ movies: 2, stills: 3 })).slice(0, 2);
  await withSite(movies, ROBOTS, async (site) => {
    const atlas = await newAtlas();
    try {
      const r = await scrapeFilmGrab(atlas, { baseUrl: site.url, rate: 5 });
      assert.equal(r.requests, 1 + 1 + 2 + 6);
      assert.equal(site.log.length, 10);
      const gaps = site.log.slice(1).map((e, i) => e.at - site.log[i].at);
      assert.ok(Math.min(...gaps) >= 200, `smallest gap ${Math.min(...gaps).toFixed(1)} ms at 5 requests/s`);
      assert.ok(
        maxRequestsInWindow(site.log, 1000) <= 5,
        `${maxRequestsInWindow(site.log, 1000)} requests in one second`,
      );
      assert.equal(new Set(site.log.map((e) => e.remotePort)).size, 1, 'one connection, kept alive');
    } finally {
      await atlas.close();
    }
  });
});

test('--movie picks movies by their index name; robots.txt Crawl-delay slows the crawl', async () => {
  const movies = await filmGrabFixture({ movies: 3, stills: 2 });
  await withSite(movies, 'User-agent: *\nCrawl-delay: 0.1\nDisallow: /private/\n', async (site) => {
    const atlas = await newAtlas();
    try {
      const r = await scrapeFilmGrab(atlas, {
        ...FAST,
        baseUrl: site.url,
        movies: ['movie b & co', 'Zipped', 'Nonexistent'],
      });
      assert.equal(r.selected, 2);
      assert.deepEqual((await atlas.catalog.movies()).map((m) => m.title).sort(), ['Movie B & Co', 'Zipped']);
      assert.ok(r.warnings.some((w) => w.includes("no movie named 'Nonexistent'")));
      assert.ok(r.warnings.some((w) => w.includes('Crawl-delay 0.1')));
      const gaps = site.log.slice(2).map((e, i) => e.at - site.log[i + 1].at);
      assert.ok(
        Math.min(...gaps) >= 100,
        `Crawl-delay 0.1 s honoured (smallest gap ${Math.min(...gaps).toFixed(1)} ms)`,
      );
      const limited = await scrapeFilmGrab(await newAtlas('limited'), {
        ...FAST,
        baseUrl: site.url,
        limit: 1,
      });
      assert.equal(limited.selected, 1);
    } finally {
      await atlas.close();
    }
  });
});

test('an unreachable robots.txt stops the crawl; a missing one allows everything', async () => {
  const movies = (await filmGrabFixture({ movies: 1, stills: 1 })).filter(
    (m) => m.path.startsWith('/private/') || m.path.includes('movie-1'),
  );
  await withSite(movies, ROBOTS, async (site) => {
    site.faults.set(
      '/robots.txt',
      Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 503 })),
    );
    const atlas = await newAtlas();
    try {
      await assert.rejects(
        scrapeFilmGrab(atlas, { ...FAST, baseUrl: site.url }),
        (e: unknown) => e instanceof AtlasError && e.code === 'NETWORK' && /robots\.txt/.test(e.message),
      );
      assert.equal(site.log.length, 3, 'nothing but robots.txt was asked for');
      assert.equal((await atlas.catalog.runs(1))[0].status, 'failed');
    } finally {
      await atlas.close();
    }
  });
  await withSite(movies, undefined, async (site) => {
    const atlas = await newAtlas();
    try {
      const r = await scrapeFilmGrab(atlas, { ...FAST, baseUrl: site.url });
      assert.equal(r.disallowed.length, 0);
      assert.deepEqual((await atlas.catalog.movies()).map((m) => m.title).sort(), ['Movie A & Co', 'Secret']);
    } finally {
      await atlas.close();
    }
  });
});

test('bad options are refused with the option named', async () => {
  const atlas = await newAtlas();
  try {
    await assert.rejects(scrapeFilmGrab(atlas, { baseUrl: 'ftp://x' }), /--base-url/);
    await assert.rejects(scrapeFilmGrab(atlas, { baseUrl: 'http://127.0.0.1:9', limit: 0 }), /--limit/);
    await assert.rejects(scrapeFilmGrab(atlas, { baseUrl: 'http://127.0.0.1:9', rate: 0 }), /--rate/);
  } finally {
    await atlas.close();
  }
});
