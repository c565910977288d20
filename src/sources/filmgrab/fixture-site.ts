/**
 * A local stand-in for film-grab.com, for tests and benchmarks (the real site is never
 * contacted by either). It serves the same structure — robots.txt, the A–Z index, movie
 * pages with `Label: value` credits and a Photo Gallery block, full-size stills and
 * gallery zips — with ETag / Last-Modified, a log of every request, and faults that a
 * test can inject per path: error statuses (with Retry-After), slow or trickled
 * responses, connection resets and truncated bodies.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { writeZip } from './zip.js';

/** One movie of the fixture site. */
export interface FixtureMovie {
  /** Path of its page, e.g. `/2017/03/01/the-long-night/`. */
  path: string;
  /** Name shown in the A–Z index. */
  label: string;
  /** Text of `<title>` before ` – FILMGRAB`; undefined leaves the page without a `<title>`. */
  title?: string;
  /** Credit lines as HTML, joined with `<br />` in one paragraph (e.g. `Director: Ridley Scott`). */
  credits: string[];
  /** Full-size stills (encoded image bytes), in gallery order. */
  stills: Buffer[];
  /** How the gallery is offered: image links, a zip, both, or no gallery at all. Default 'images'. */
  gallery?: 'images' | 'zip' | 'both' | 'none';
  /** Replaces the generated page entirely (broken markup tests). */
  html?: string;
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'reset' } // destroy the connection before answering
  | { kind: 'slow'; ms: number } // wait before sending headers
  | { kind: 'trickle'; ms: number } // send the body in small pieces over about `ms`
  | { kind: 'truncate' }; // announce the full length, send half, drop the connection

export interface LoggedRequest {
  /** Path and query. */
  path: string;
  /** `performance.now()` when the request arrived (ms). */
  at: number;
  status: number;
  fault?: Fault['kind'];
  /** The client's port: one value across the log means one connection. */
  remotePort?: number;
  userAgent?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}

export interface FixtureSite {
  /** Base URL, `http://127.0.0.1:PORT`. */
  url: string;
  /** Every request in arrival order. */
  log: LoggedRequest[];
  /** Faults to apply to the next requests of a path (path + query), one per request, in order. */
  faults: Map<string, Fault[]>;
  /** Called as each request arrives (after logging), e.g. to abort a crawl mid-way. */
  onRequest?: (entry: LoggedRequest, n: number) => void;
  /** Paths of every still, per movie path, in gallery order. */
  stillPaths(movie: FixtureMovie): string[];
  zipPath(movie: FixtureMovie): string;
  close(): Promise<void>;
}

export interface FixtureSiteOptions {
  movies: FixtureMovie[];
  /** robots.txt body; undefined serves 404 (no robots.txt). */
  robots?: string;
}

const LAST_MODIFIED = 'Wed, 01 Mar 2017 12:00:00 GMT';

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function slugOf(movie: FixtureMovie): string {
  return movie.path.split('/').filter(Boolean).pop() ?? 'movie';
}

/** Stills live under the Photo Gallery plugin's upload folder, with its cache-busting query. */
function stillPathsOf(movie: FixtureMovie): string[] {
  const slug = slugOf(movie);
  return movie.stills.map(
    (_, i) =>
      `/wp-content/uploads/photo-gallery/${slug}_${String(i + 1).padStart(3, '0')}.jpg?bwg=1546531200`,
  );
}

function zipPathOf(movie: FixtureMovie): string {
  return `/wp-admin/admin-ajax.php?action=download_gallery&gallery=${slugOf(movie)}`;
}

/** A movie page in the markup film-grab.com uses (WordPress + Photo Gallery by 10Web). */
export function moviePageHtml(movie: FixtureMovie): string {
  if (movie.html !== undefined) return movie.html;
  const gallery = movie.gallery ?? 'images';
  const items =
    gallery === 'images' || gallery === 'both'
      ? stillPathsOf(movie)
          .map(
            (p, i) =>
              `<div class="bwg-item"><a class="bwg-a bwg_lightbox" href="${escapeHtml(p)}" data-image-id="${i + 1}">` +
              `<div class="bwg-item0"><img class="skip-lazy bwg_standart_thumb_img_0" src="${escapeHtml(p.replace('photo-gallery/', 'photo-gallery/thumb/'))}" alt="${i + 1}"></div></a></div>`,
          )
          .join('\n')
      : '';
  const zip =
    gallery === 'zip' || gallery === 'both'
      ? `<div class="bwg_download_gallery"><a href="${escapeHtml(zipPathOf(movie))}">Download gallery</a></div>`
      : '';
  const galleryBlock =
    gallery === 'none'
      ? ''
      : `<style id="bwg-style-0">#bwg_container1_0 .bwg-container-0.bwg-standard-thumbnails { width: 1254px; justify-content: center; }
font-family: Arial; color: #fff;</style>
<div id="bwg_container1_0" class="bwg_container bwg_thumbnail bwg_thumbnails"><div class="bwg-container-0 bwg-standard-thumbnails">
${items}
</div></div>
${zip}`;
  return `<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
${movie.title === undefined ? '' : `<title>${escapeHtml(movie.title)} &#8211; FILMGRAB</title>`}
<link rel="stylesheet" href="/wp-content/themes/film-grab/style.css">
<script>window.bwg_objectsL10n = { "bwg_field_required": "field is required." };</script>
</head>
<body class="post-template-default single single-post">
<div id="page" class="site">
<header id="masthead"><nav><a href="/">FILMGRAB</a> <a href="/movies-a-z/">Movies A–Z</a> Search: <input></nav></header>
<article class="post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">${escapeHtml(movie.title ?? movie.label)}</h1></header>
<div class="entry-content">
${galleryBlock}
<p>${movie.credits.join('<br />\n')}</p>
</div>
</article>
<footer>© FILMGRAB [ ϝılɱ ɠɾαɓ ]</footer>
</div>
</body>
</html>
`;
}

export function indexHtml(movies: readonly FixtureMovie[]): string {
  const items = movies
    .map(
      (m) =>
        `<li class="listing-item"><a class="title" href="${escapeHtml(m.path)}">${escapeHtml(m.label)}</a></li>`,
    )
    .join('\n');
  return `<!DOCTYPE html><html><head><meta charset="UTF-8"><title>Movies A-Z &#8211; FILMGRAB</title></head>
<body><div class="entry-content"><h1>Movies A–Z</h1>
<ul class="display-posts-listing">
${items}
</ul></div></body></html>
`;
}

/** A small JPEG still: a colour gradient with a bar, different for every (seed, index). */
export async function fixtureStill(seed: number, index: number, width = 160, height = 90): Promise<Buffer> {
  const data = new Uint8Array(width * height * 3);
  const r0 = (seed * 67 + index * 29) % 256;
  const g0 = (seed * 131 + index * 53) % 256;
  const b0 = (seed * 197 + index * 97) % 256;
  const bar = (index * 17 + seed * 5) % width;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const onBar = Math.abs(x - bar) < 6;
      data[o] = onBar ? 255 - r0 : (r0 + x) & 255;
      data[o + 1] = onBar ? 255 - g0 : (g0 + y * 2) & 255;
      data[o + 2] = onBar ? 255 - b0 : (b0 + ((x + y) >> 1)) & 255;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

function etagOf(body: Buffer): string {
  return `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
}

/** Starts the site on a loopback port. */
export async function startFixtureSite(options: FixtureSiteOptions): Promise<FixtureSite> {
  const routes = new Map<string, { body: Buffer; type: string }>();
  const html = (s: string): { body: Buffer; type: string } => ({
    body: Buffer.from(s, 'utf8'),
    type: 'text/html; charset=UTF-8',
  });
  routes.set('/movies-a-z/', html(indexHtml(options.movies)));
  if (options.robots !== undefined)
    routes.set('/robots.txt', { body: Buffer.from(options.robots), type: 'text/plain' });
  for (const m of options.movies) {
    routes.set(m.path, html(moviePageHtml(m)));
    stillPathsOf(m).forEach((p, i) => routes.set(p, { body: m.stills[i], type: 'image/jpeg' }));
    if (m.gallery === 'zip' || m.gallery === 'both') {
      const entries = m.stills.map((data, i) => ({
        name: `${slugOf(m)}/${slugOf(m)}_${String(i + 1).padStart(3, '0')}.jpg`,
        data,
      }));
      routes.set(zipPathOf(m), { body: writeZip(entries), type: 'application/zip' });
    }
  }

  const log: LoggedRequest[] = [];
  const faults = new Map<string, Fault[]>();
  const site: FixtureSite = {
    url: '',
    log,
    faults,
    stillPaths: stillPathsOf,
    zipPath: zipPathOf,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = req.url ?? '/';
    const route = routes.get(path);
    const fault = faults.get(path)?.shift();
    const entry: LoggedRequest = {
      path,
      at: performance.now(),
      status: 0,
      fault: fault?.kind,
      remotePort: req.socket.remotePort,
      userAgent: req.headers['user-agent'],
      ifNoneMatch: req.headers['if-none-match'],
      ifModifiedSince: req.headers['if-modified-since'],
    };
    log.push(entry);
    site.onRequest?.(entry, log.length);
    if (fault?.kind === 'reset') {
      entry.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    if (res.destroyed) return;
    if (fault?.kind === 'status') {
      entry.status = fault.status;
      res.writeHead(fault.status, {
        'content-type': 'text/plain',
        ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}),
      });
      res.end(`error ${fault.status}`);
      return;
    }
    if (!route) {
      entry.status = 404;
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body>Not found</body></html>');
      return;
    }
    const etag = etagOf(route.body);
    if (
      req.headers['if-none-match'] === etag ||
      (!req.headers['if-none-match'] && req.headers['if-modified-since'] === LAST_MODIFIED)
    ) {
      entry.status = 304;
      res.writeHead(304, { etag, 'last-modified': LAST_MODIFIED });
      res.end();
      return;
    }
    entry.status = 200;
    res.writeHead(200, {
      'content-type': route.type,
      'content-length': route.body.length,
      etag,
      'last-modified': LAST_MODIFIED,
    });
    if (fault?.kind === 'truncate') {
      res.write(route.body.subarray(0, route.body.length >> 1), () => req.socket.destroy());
      return;
    }
    if (fault?.kind === 'trickle') {
      const pieces = 5;
      const step = Math.ceil(route.body.length / pieces);
      for (let off = 0; off < route.body.length; off += step) {
        res.write(route.body.subarray(off, off + step));
        await new Promise((r) => setTimeout(r, fault.ms / pieces));
      }
      res.end();
      return;
    }
    res.end(route.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  site.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return site;
}

/** The most requests the log shows in any window of `windowMs` (default one second), optionally only paths matching. */
export function maxRequestsInWindow(log: readonly LoggedRequest[], windowMs = 1000): number {
  const t = log.map((e) => e.at).sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < t.length; i++) {
    while (t[i] - t[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/**
 * The standard fixture: `movies` ordinary movies with `stills` stills each (credits
 * written with the label variants and typos the real site has, and CSS junk), plus
 * the hard cases: a movie without a gallery, one with only a zip, one whose page has
 * no `<title>` and broken markup, one whose first still duplicates another movie's,
 * and one under /private/ (for a robots.txt that disallows it).
 */
export async function filmGrabFixture(
  options: { movies?: number; stills?: number } = {},
): Promise<FixtureMovie[]> {
  const n = options.movies ?? 4;
  const k = options.stills ?? 3;
  const DIRECTOR_LABELS = ['Director', 'Dir', 'Directed by', 'Director'];
  const DOP_LABELS = ['Director of Photography', 'DOP', 'Directir of Photography', 'Dorector of Photography'];
  const PD_LABELS = ['Production Design', 'Production Designer', 'Production Design', 'Production designer'];
  const CD_LABELS = ['Costume Design', 'Costume Designer', 'Costume Design', 'Costume designer'];
  const movies: FixtureMovie[] = [];
  for (let i = 0; i < n; i++) {
    const title = `Movie ${String.fromCharCode(65 + (i % 26))}${i >= 26 ? i : ''} & Co`;
    const stills = await Promise.all(Array.from({ length: k }, (_, j) => fixtureStill(i + 1, j)));
    movies.push({
      path: `/2017/03/${String((i % 28) + 1).padStart(2, '0')}/movie-${i + 1}/`,
      label: title,
      title,
      credits: [
        `Title: ${title}`,
        `${DIRECTOR_LABELS[i % 4]}: Director ${i + 1}`,
        `<strong>${DOP_LABELS[i % 4]}:</strong> Camera Person ${i + 1}`,
        `${PD_LABELS[i % 4]}: Designer ${i + 1}`,
        `${CD_LABELS[i % 4]}: Costumer ${i + 1}`,
        `Editor: Cutter ${i + 1}`,
        `Year: ${1970 + i}`,
        '.bwg_container { display: none; }',
        'background-color: #000000;',
      ],
      stills,
    });
  }
  const dupSource = movies[0]?.stills[0] ?? (await fixtureStill(99, 0));
  movies.push(
    {
      path: '/2018/01/01/no-gallery/',
      label: 'No Gallery',
      title: 'No Gallery',
      credits: ['Director: Nobody', 'Year: 1999'],
      stills: [],
      gallery: 'none',
    },
    {
      path: '/2018/01/02/zipped/',
      label: 'Zipped',
      title: 'Zipped',
      credits: ['Directed by: Zed', 'DoP: Zoe', 'Year: 2001'],
      stills: await Promise.all([0, 1, 2].map((j) => fixtureStill(50, j))),
      gallery: 'zip',
    },
    {
      path: '/2018/01/03/broken/',
      label: 'Broken Page',
      credits: [],
      stills: [await fixtureStill(60, 0), await fixtureStill(60, 1)],
      html: '', // set below once the still paths are known
    },
    {
      path: '/2018/01/04/twin/',
      label: 'Twin',
      title: 'Twin',
      credits: ['Director: Twin Director', 'Year: 2004'],
      stills: [dupSource, await fixtureStill(70, 1)],
    },
    {
      path: '/private/secret/',
      label: 'Secret',
      title: 'Secret',
      credits: ['Director: Hidden'],
      stills: [await fixtureStill(80, 0)],
    },
  );
  const broken = movies.find((m) => m.label === 'Broken Page')!;
  // No <title>, unclosed tags, no credits: the crawler must still get the gallery and a title.
  broken.html = `<html><body><article><h1 class="entry-title">Broken Page<div class="entry-content"><p>Some words
<div class="bwg-item"><a href="${stillPathsOf(broken)[0]}"><img src="x"></a></div>
<div class="bwg-item"><a href="${stillPathsOf(broken)[1]}"></div>
<p>Director of Photograpy: Sam Typo<br>Year 2002`;
  return movies;
}
