import type { Command } from 'commander';
import { invalidArgument, unknownChoice } from '../../errors.js';
import { FILMGRAB_URL, scrapeFilmGrab, type ScrapeResult } from '../../sources/filmgrab/crawl.js';
import { USER_AGENT } from '../../sources/filmgrab/http.js';
import { intArg, numberArg } from '../args.js';
import type { Run } from '../main.js';
import {
  addNewAtlasOptions,
  concurrencyOption,
  jsonOption,
  openNewAtlas,
  type NewAtlasFlags,
} from '../options.js';

/** Sites `filmatlas scrape` can crawl, with their defaults. */
export const SITES: Record<string, { url: string; description: string }> = {
  'film-grab': {
    url: FILMGRAB_URL,
    description: 'film-grab.com: stills of 2,000+ movies with their credits',
  },
};

/** The fastest --rate allowed against a site on the network: a crawl must never weigh on someone else's server. */
const MAX_PUBLIC_RATE = 10;

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
  } catch {
    return false;
  }
}

interface ScrapeFlags extends NewAtlasFlags {
  limit?: number;
  movie?: string[];
  rate: number;
  baseUrl?: string;
  maxAge: number;
  userAgent?: string;
  concurrency?: number;
  json?: boolean;
}

function summary(r: ScrapeResult): string {
  const lines = [
    `${r.selected} movies: ${r.pages} pages read, ${r.fresh} already up to date, ${r.notModified} unchanged (304), ` +
      `${r.failedPages.length} failed`,
    `stills: ${r.added} added (${r.downloaded} downloaded, ${r.known} already in the atlas, ${r.duplicates} duplicates, ` +
      `${r.failed} failed); ${r.ready} standardised, ${r.rejected} rejected`,
    `${r.requests} requests (${r.retries} retries, ${(r.bytes / 1e6).toFixed(1)} MB) in ${r.seconds.toFixed(1)} s`,
  ];
  if (r.noGallery.length > 0) lines.push(`no gallery: ${r.noGallery.join('; ')}`);
  if (r.disallowed.length > 0) lines.push(`skipped (robots.txt): ${r.disallowed.length} URLs`);
  for (const f of r.failedPages) lines.push(`failed: ${f.url}: ${f.error}`);
  return lines.join('\n');
}

export function registerScrape(program: Command, run: Run): void {
  addNewAtlasOptions(
    program
      .command('scrape')
      .description(
        'collect stills and credits from a website into an atlas, politely and resumably (Ctrl-C, then run again)',
      )
      .argument('<site>', `site to crawl: ${Object.keys(SITES).join('|')}`),
  )
    .option(
      '--limit <n>',
      'crawl at most this many movies of the index (default: all)',
      intArg('--limit', 1, 1_000_000),
    )
    .option(
      '--movie <title>',
      'only this movie, by its name in the index or its page URL (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--rate <n>',
      `requests per second, images and retries included (0.01–${MAX_PUBLIC_RATE}; more only for a server on this machine)`,
      numberArg('--rate', 0.01, 1000),
      1,
    )
    .option('--base-url <url>', `site root (default: ${FILMGRAB_URL}; e.g. a mirror or a test server)`)
    .option(
      '--max-age <seconds>',
      'pages crawled more recently are skipped; older ones are re-checked with conditional requests',
      numberArg('--max-age', 0, 1e9),
      86_400,
    )
    .option('--user-agent <ua>', `User-Agent header (default: ${USER_AGENT})`)
    .addOption(concurrencyOption())
    .addOption(jsonOption())
    .action((site: string, o: ScrapeFlags) =>
      run(o, async (ctx) => {
        const entry = SITES[site];
        if (!entry) throw unknownChoice('site', site, Object.keys(SITES));
        const baseUrl = o.baseUrl ?? entry.url;
        if (o.rate > MAX_PUBLIC_RATE && !isLoopback(baseUrl)) {
          throw invalidArgument(
            '--rate',
            `at most ${MAX_PUBLIC_RATE} requests per second for a public site`,
            String(o.rate),
          );
        }
        const atlas = await openNewAtlas(o);
        try {
          const r = await scrapeFilmGrab(atlas, {
            baseUrl,
            limit: o.limit,
            movies: o.movie,
            rate: o.rate,
            maxAge: o.maxAge,
            userAgent: o.userAgent,
            concurrency: o.concurrency,
            onProgress: ctx.progress.callback,
            signal: ctx.signal,
          });
          // A whole-site crawl can gather thousands (junk credit lines on every page): show a few.
          for (const w of r.warnings.slice(0, 20)) ctx.say(`warning: ${w}`);
          if (r.warnings.length > 20)
            ctx.say(`… and ${r.warnings.length - 20} more warnings (all of them under --json)`);
          ctx.result(
            { command: 'scrape', site, atlas: atlas.paths.root, ...r },
            summary(r) +
              (r.rejected > 0 || r.failed > 0
                ? `\nSee what failed and why: filmatlas status --atlas ${o.atlas}`
                : ''),
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
