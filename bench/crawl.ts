/**
 * Crawl figures against the local film-grab fixture site (never the real site):
 *
 * 1. throughput at --rate 10: pages/s, stills/s, requests/s, and the most requests the
 *    server saw in any one-second window;
 * 2. the default rate (1 request/s): the server log's busiest one-second window and the
 *    smallest gap between two requests, as proof that the default is never exceeded.
 *
 * Usage: node --import tsx bench/crawl.ts [--movies 20] [--stills 8] [--rate 10] [--default-movies 5]
 * Prints figures; never fails on time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openAtlas } from '../src/atlas/atlas.js';
import { scrapeFilmGrab, type ScrapeResult } from '../src/sources/filmgrab/crawl.js';
import {
  filmGrabFixture,
  maxRequestsInWindow,
  startFixtureSite,
  type LoggedRequest,
} from '../src/sources/filmgrab/fixture-site.js';

const { values } = parseArgs({
  options: {
    movies: { type: 'string', default: '20' },
    stills: { type: 'string', default: '8' },
    rate: { type: 'string', default: '10' },
    'default-movies': { type: 'string', default: '5' },
  },
});

function gaps(log: readonly LoggedRequest[]): number[] {
  const t = log.map((e) => e.at).sort((a, b) => a - b);
  return t.slice(1).map((x, i) => x - t[i]);
}

async function crawl(
  movies: number,
  stills: number,
  rate: number | undefined,
  limit?: number,
): Promise<{ r: ScrapeResult; log: LoggedRequest[] }> {
  const site = await startFixtureSite({
    movies: await filmGrabFixture({ movies, stills }),
    robots: 'User-agent: *\nDisallow: /private/\n',
  });
  const dir = mkdtempSync(join(tmpdir(), 'filmatlas-bench-crawl-'));
  const atlas = await openAtlas(join(dir, 'atlas'), { create: true });
  try {
    const r = await scrapeFilmGrab(atlas, { baseUrl: site.url, rate, limit });
    return { r, log: [...site.log] };
  } finally {
    await atlas.close();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rate = Number(values.rate);
const { r, log } = await crawl(Number(values.movies), Number(values.stills), rate);
const span = (log[log.length - 1].at - log[0].at) / 1000;
console.log(
  `# crawl throughput at --rate ${rate} (fixture site on loopback, ${values.movies} movies × ${values.stills} stills + edge cases)`,
);
console.log(
  `requests        ${r.requests} in ${r.seconds.toFixed(2)} s → ${(r.requests / r.seconds).toFixed(2)} requests/s`,
);
console.log(`movie pages     ${r.pages} → ${(r.pages / r.seconds).toFixed(2)} pages/s`);
console.log(
  `stills          ${r.added} added (${r.downloaded} downloaded, ${r.duplicates} duplicates) → ${(r.added / r.seconds).toFixed(2)} stills/s`,
);
console.log(`standardised    ${r.ready} ready, ${r.rejected} rejected`);
console.log(
  `server log      ${log.length} requests over ${span.toFixed(2)} s; busiest 1-s window: ${maxRequestsInWindow(log)}; smallest gap ${Math.min(...gaps(log)).toFixed(1)} ms`,
);

const dm = Number(values['default-movies']);
const d = await crawl(dm, 3, undefined, dm);
const dg = gaps(d.log);
console.log(`\n# the default rate (no --rate): ${d.log.length} requests, ${dm} movies × 3 stills`);
console.log(
  `server log      busiest 1-s window: ${maxRequestsInWindow(d.log)} request(s); smallest gap between requests ${Math.min(...dg).toFixed(1)} ms; mean gap ${(dg.reduce((a, b) => a + b, 0) / dg.length).toFixed(1)} ms`,
);
console.log(
  `effective rate  ${((d.log.length - 1) / ((d.log[d.log.length - 1].at - d.log[0].at) / 1000)).toFixed(3)} requests/s`,
);
