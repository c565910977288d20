/**
 * The explorer's HTTP server (node:http, no framework): a read-only JSON API over
 * one atlas, its stills, layouts and deep-zoom tiles, plus the built web app
 * (dist/web/). Routes are listed in docs/explorer.md; every JSON response is a type of
 * the API contract (src/api/contract.ts), built by `ExplorerData` (data.ts).
 *
 * Safety, because the server reads files named by URLs and shows text from
 * scraped pages:
 * - binds 127.0.0.1 unless told otherwise, and answers only requests whose Host
 *   is that address or localhost (no DNS rebinding from a web page);
 * - GET and HEAD only; a request with a body, a URL over 2 KiB or a query with
 *   too many parameters is refused; list results are capped (`MAX_RESULTS`);
 * - file routes never join a URL into a path: tiles are built from parsed
 *   integers, layouts from checked names, stills from catalogue hashes, and
 *   static files are resolved and must stay under the web root;
 * - metadata is returned as JSON and rendered as text by the web app; every HTML
 *   page the server writes itself escapes what it shows; the CSP forbids inline
 *   scripts and other origins.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiErrorBody, LayoutList } from '../api/contract.js';
import type { Atlas } from '../atlas/atlas.js';
import { AtlasError } from '../errors.js';
import { ExplorerData, MAX_RESULTS } from './data.js';

/** Longest request target accepted (bytes). */
export const MAX_URL_LENGTH = 2048;
/** Most query parameters accepted on one request. */
export const MAX_QUERY_PARAMS = 16;

export interface ServeOptions {
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** Port; 0 picks a free one. Default 4173. */
  port?: number;
  /** Directory of the built web app. Default: dist/web next to this file's package. */
  webRoot?: string;
  /** Called with a line per request when set (the CLI's --log). */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  server: Server;
  data: ExplorerData;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

// regl compiles its draw commands with new Function, hence 'unsafe-eval'; inline scripts stay forbidden.
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The built web app beside the compiled server: <package>/dist/web. */
export function defaultWebRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/server/server.js → dist/web; src/server/server.ts (tsx, tests) → dist/web too.
  return resolve(here, '..', '..', 'dist', 'web');
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'BAD_REQUEST',
  ) {
    super(message);
  }
}

function statusOf(err: unknown): { status: number; code: string; message: string; suggestion?: string } {
  if (err instanceof HttpError) return { status: err.status, code: err.code, message: err.message };
  if (err instanceof AtlasError) {
    const status = err.code === 'NOT_FOUND' ? 404 : err.code === 'INVALID_ARGUMENT' ? 400 : 500;
    return { status, code: err.code, message: err.message, suggestion: err.suggestion };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error (see the server log)' };
}

function intParam(value: string | null, name: string, min: number, max: number): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^-?\d{1,10}$/.test(value))
    throw new HttpError(400, `expected an integer for ${name} but got '${value.slice(0, 40)}'`);
  const n = Number(value);
  if (n < min || n > max) throw new HttpError(400, `expected ${name} in ${min}–${max} but got ${n}`);
  return n;
}

function idParam(value: string, what: string): number {
  if (!/^\d{1,10}$/.test(value)) throw new HttpError(400, `bad ${what} id '${value.slice(0, 40)}'`);
  return Number(value);
}

function strParam(value: string | null, name: string, max = 200): string | undefined {
  if (value === null || value === '') return undefined;
  if (value.length > max) throw new HttpError(400, `${name} is longer than ${max} characters`);
  return value;
}

/** `k` and `model` of the similar-stills and similar-movies routes. */
function similarParams(q: URLSearchParams): { k?: number; model?: string } {
  return { k: intParam(q.get('k'), 'k', 1, MAX_RESULTS), model: strParam(q.get('model'), 'model', 64) };
}

function etagOf(body: Buffer | string): string {
  return `"${createHash('sha1').update(body).digest('base64url').slice(0, 27)}"`;
}

function notModified(req: IncomingMessage, etag: string): boolean {
  const inm = req.headers['if-none-match'];
  return (
    typeof inm === 'string' && inm.split(/\s*,\s*/).some((t) => t === etag || t === `W/${etag}` || t === '*')
  );
}

function baseHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: Buffer | string,
  cache = 'no-cache',
): void {
  const etag = etagOf(body);
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', cache);
  if (status === 200) {
    res.setHeader('ETag', etag);
    if (notModified(req, etag)) {
      res.writeHead(304).end();
      return;
    }
  }
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.setHeader('Content-Length', buf.length);
  res.writeHead(status);
  res.end(req.method === 'HEAD' ? undefined : buf);
}

function sendJson(req: IncomingMessage, res: ServerResponse, value: unknown, status = 200): void {
  send(req, res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function sendBinary(req: IncomingMessage, res: ServerResponse, a: Float32Array | Uint32Array): void {
  send(req, res, 200, 'application/octet-stream', Buffer.from(a.buffer, a.byteOffset, a.byteLength));
}

/** Streams a file that exists, with a size+mtime ETag. */
function sendFile(req: IncomingMessage, res: ServerResponse, path: string, cache: string): void {
  const st = statSync(path);
  const etag = `"${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}"`;
  res.setHeader('Content-Type', TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream');
  res.setHeader('Cache-Control', cache);
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', st.mtime.toUTCString());
  if (notModified(req, etag)) {
    res.writeHead(304).end();
    return;
  }
  res.setHeader('Content-Length', st.size);
  res.writeHead(200);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(path).pipe(res);
}

export function errorPage(title: string, message: string, hint?: string): string {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Film Atlas — ' +
    escapeHtml(title) +
    '</title><style>body{font:16px system-ui,sans-serif;background:#111;color:#eee;max-width:40em;margin:4em auto;padding:0 1em}code{color:#fc6}</style></head><body><h1>' +
    escapeHtml(title) +
    '</h1><p>' +
    escapeHtml(message) +
    '</p>' +
    (hint ? `<p>${escapeHtml(hint)}</p>` : '') +
    '</body></html>'
  );
}

/** Host names a request may carry: the bound address, localhost and loopback. */
function allowedHosts(host: string): Set<string> {
  const s = new Set(['localhost', '127.0.0.1', '[::1]', host.includes(':') ? `[${host}]` : host]);
  return s;
}

export function createExplorerHandler(
  data: ExplorerData,
  options: { webRoot: string; host: string; log?: (line: string) => void },
): (req: IncomingMessage, res: ServerResponse) => void {
  const webRoot = resolve(options.webRoot);
  const wildcard = options.host === '0.0.0.0' || options.host === '::';
  const hosts = allowedHosts(options.host);
  const indexPath = join(webRoot, 'index.html');

  const api = async (
    req: IncomingMessage,
    res: ServerResponse,
    parts: string[],
    q: URLSearchParams,
  ): Promise<void> => {
    const [, , a, b, c, d, e] = parts; // '', 'api', ...
    if (a === 'atlas' && b === undefined) return sendJson(req, res, data.summary());
    if (a === 'movies' && b === undefined) {
      return sendJson(
        req,
        res,
        data.findMovies({
          q: strParam(q.get('q'), 'q'),
          director: strParam(q.get('director'), 'director'),
          cinematographer: strParam(q.get('cinematographer'), 'cinematographer'),
          yearMin: intParam(q.get('yearMin'), 'yearMin', 0, 9999),
          yearMax: intParam(q.get('yearMax'), 'yearMax', 0, 9999),
          limit: intParam(q.get('limit'), 'limit', 1, MAX_RESULTS),
          offset: intParam(q.get('offset'), 'offset', 0, 1e9),
        }),
      );
    }
    if (a === 'movies' && b !== undefined && c === undefined) {
      return sendJson(req, res, data.movieDetail(idParam(b, 'movie')));
    }
    if (a === 'movies' && b !== undefined && c === 'similar' && d === undefined)
      return sendJson(req, res, await data.similarMovies(idParam(b, 'movie'), similarParams(q)));
    if (a === 'stills' && b !== undefined && c === undefined) {
      return sendJson(req, res, data.stillDetail(idParam(b, 'still')));
    }
    if (a === 'stills' && b !== undefined && c === 'similar' && d === undefined)
      return sendJson(req, res, await data.similarStills(idParam(b, 'still'), similarParams(q)));
    if (a === 'stills' && b !== undefined && c === 'image' && d === undefined) {
      const s = data.still(idParam(b, 'still'));
      const etag = `"${s.sha256}"`;
      res.setHeader('Content-Type', 'image/png');
      res.setHeader('Cache-Control', 'public, max-age=86400');
      res.setHeader('ETag', etag);
      if (notModified(req, etag)) {
        res.writeHead(304).end();
        return;
      }
      const local = data.atlas.store.localPath?.('stills', s.sha256, 'png');
      if (local && existsSync(local)) return sendFile(req, res, local, 'public, max-age=86400');
      const buf = await data.atlas.store.get('stills', s.sha256, 'png');
      res.setHeader('Content-Length', buf.length);
      res.writeHead(200);
      res.end(req.method === 'HEAD' ? undefined : buf);
      return;
    }
    if (a === 'layouts' && b === undefined)
      return sendJson(req, res, { layouts: data.layouts } satisfies LayoutList);
    if (a === 'layouts' && b !== undefined) {
      const name = b;
      if (c === undefined) return sendJson(req, res, data.layoutDetail(name));
      if (c === 'xy.f32' && d === undefined) return sendBinary(req, res, data.layout(name).xy);
      if (c === 'ids.u32' && d === undefined) return sendBinary(req, res, data.layout(name).ids);
      if (c === 'movies.u32' && d === undefined) return sendBinary(req, res, data.layoutMovies(name));
      if (c === 'clusters.u32' && d === undefined) {
        const cl = data.layoutClusters(name, strParam(q.get('name'), 'name', 64));
        if (!cl) throw new HttpError(404, 'this atlas has no clusters', 'NOT_FOUND');
        return sendBinary(req, res, cl.index);
      }
      if (c === 'deepzoom.dzi' && d === undefined) {
        data.layout(name); // a known layout name, or 404
        const p = data.deepZoomFile(name);
        if (!p) {
          throw new HttpError(
            404,
            `layout '${name}' has no deep-zoom tiles: run filmatlas render --atlas DIR --layout ${name} --deepzoom DIR/maps/${name}`,
            'NOT_FOUND',
          );
        }
        return sendFile(req, res, p, 'no-cache');
      }
      if (c === 'deepzoom_files' && d !== undefined && e !== undefined && parts.length === 7) {
        data.layout(name);
        const m = /^(\d{1,6})_(\d{1,6})\.jpeg$/.exec(e);
        if (!/^\d{1,2}$/.test(d) || !m) throw new HttpError(404, 'no such tile', 'NOT_FOUND');
        const p = data.deepZoomTile(name, Number(d), Number(m[1]), Number(m[2]));
        if (!p) throw new HttpError(404, 'no such tile', 'NOT_FOUND');
        return sendFile(req, res, p, 'public, max-age=3600');
      }
    }
    if (a === 'search' && b === 'colours' && c === undefined) {
      const colours = strParam(q.get('colours'), 'colours', 400);
      if (!colours) throw new HttpError(400, 'give colours, e.g. ?colours=%231f3a4d,%23e08a3c');
      const target = q.get('target') ?? 'stills';
      if (target !== 'stills' && target !== 'movies')
        throw new HttpError(400, `target must be one of [stills, movies], not '${target.slice(0, 20)}'`);
      const r = await data.searchColours(colours, {
        k: intParam(q.get('k'), 'k', 1, MAX_RESULTS),
        movies: target === 'movies',
      });
      return sendJson(req, res, r);
    }
    if (a === 'compare' && b === undefined) {
      const ma = intParam(q.get('a'), 'a', 0, 2 ** 31);
      const mb = intParam(q.get('b'), 'b', 0, 2 ** 31);
      if (ma === undefined || mb === undefined) throw new HttpError(400, 'give two movie ids: ?a=ID&b=ID');
      const r = await data.compare(ma, mb, {
        steps: intParam(q.get('steps'), 'steps', 2, MAX_RESULTS),
        model: strParam(q.get('model'), 'model', 64),
      });
      return sendJson(req, res, r);
    }
    if (a === 'clusters' && b === undefined) {
      const r = data.clusters(
        strParam(q.get('name'), 'name', 64),
        intParam(q.get('limit'), 'limit', 1, MAX_RESULTS),
      );
      if (!r) {
        throw new HttpError(404, 'this atlas has no clusters yet (cluster the stills first)', 'NOT_FOUND');
      }
      return sendJson(req, res, r);
    }
    throw new HttpError(404, `no API route ${parts.slice(0, 5).join('/').slice(0, 100)}`, 'NOT_FOUND');
  };

  const staticFile = (req: IncomingMessage, res: ServerResponse, pathname: string): void => {
    if (!existsSync(indexPath)) {
      send(
        req,
        res,
        503,
        'text/html; charset=utf-8',
        errorPage(
          'The explorer is not built',
          `No web app at ${webRoot}.`,
          'Run `npm run build` in the filmatlas package (it builds dist/web with Vite), then start `filmatlas serve` again.',
        ),
      );
      return;
    }
    // The decoded path must name a file under the web root; anything else is the app's index (client routes).
    const rel = pathname.replace(/^\/+/, '');
    const full = resolve(webRoot, rel);
    if (rel !== '' && (full === webRoot || !full.startsWith(webRoot + sep))) {
      throw new HttpError(404, 'not found', 'NOT_FOUND');
    }
    if (rel !== '' && existsSync(full) && statSync(full).isFile()) {
      const immutable = rel.startsWith('assets/');
      sendFile(req, res, full, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      return;
    }
    if (extname(rel) !== '') throw new HttpError(404, 'not found', 'NOT_FOUND');
    sendFile(req, res, indexPath, 'no-cache');
  };

  return (req, res) => {
    const t0 = performance.now();
    baseHeaders(res);
    const done = (): void => {
      options.log?.(
        `${req.method} ${(req.url ?? '').slice(0, 200)} ${res.statusCode} ${(performance.now() - t0).toFixed(1)}ms`,
      );
    };
    res.on('finish', done);
    const isApi = (req.url ?? '').startsWith('/api/');
    const fail = (err: unknown): void => {
      const s = statusOf(err);
      if (s.status >= 500)
        options.log?.(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (s.status === 405) res.setHeader('Allow', 'GET, HEAD');
      if (isApi)
        sendJson(
          req,
          res,
          { error: { code: s.code, message: s.message, suggestion: s.suggestion } } satisfies ApiErrorBody,
          s.status,
        );
      else
        send(
          req,
          res,
          s.status,
          'text/html; charset=utf-8',
          errorPage(`Error ${s.status}`, s.message, s.suggestion),
        );
    };
    try {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
      if (!wildcard && !hosts.has(host))
        throw new HttpError(421, `unexpected Host header '${host.slice(0, 60)}'`, 'BAD_HOST');
      if (req.method !== 'GET' && req.method !== 'HEAD')
        throw new HttpError(405, 'the explorer is read-only: GET and HEAD only', 'METHOD');
      const len = Number(req.headers['content-length'] ?? 0);
      if (len > 0 || req.headers['transfer-encoding'])
        throw new HttpError(413, 'requests may not carry a body', 'TOO_LARGE');
      const raw = req.url ?? '/';
      if (raw.length > MAX_URL_LENGTH)
        throw new HttpError(414, `URL longer than ${MAX_URL_LENGTH} bytes`, 'TOO_LONG');
      const qAt = raw.indexOf('?');
      const rawPath = qAt < 0 ? raw : raw.slice(0, qAt);
      const query = new URLSearchParams(qAt < 0 ? '' : raw.slice(qAt + 1));
      if ([...query.keys()].length > MAX_QUERY_PARAMS)
        throw new HttpError(400, `more than ${MAX_QUERY_PARAMS} query parameters`);
      // Split first, then decode each segment: an encoded '/' or '..' can never become a separator.
      let parts: string[];
      try {
        parts = rawPath.split('/').map((p) => decodeURIComponent(p));
      } catch {
        throw new HttpError(400, 'malformed percent-encoding in the URL');
      }
      if (
        parts.some((p) => p === '..' || p === '.' || p.includes('/') || p.includes('\\') || p.includes('\0'))
      ) {
        throw new HttpError(400, 'path segments may not be ., .. or contain slashes or NUL', 'BAD_PATH');
      }
      if (parts[1] === 'api') {
        api(req, res, parts, query).catch(fail);
        return;
      }
      staticFile(req, res, parts.join('/'));
    } catch (err) {
      fail(err);
    }
  };
}

/** Starts the explorer over an open atlas; resolves once listening. */
export async function startServer(atlas: Atlas, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 4173;
  const data = await ExplorerData.open(atlas);
  const webRoot = options.webRoot ?? defaultWebRoot();
  const server = createServer(createExplorerHandler(data, { webRoot, host, log: options.log }));
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.maxHeadersCount = 64;
  await new Promise<void>((ok, fail) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      fail(
        new AtlasError(
          'IO',
          err.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use`
            : `cannot listen on ${host}:${port}: ${err.message}`,
          { value: `${host}:${port}`, suggestion: 'pick another with --port (0: any free port)', cause: err },
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      ok();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/`,
    host: addr.address,
    port: addr.port,
    server,
    data,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** Reads the web app's index.html (for tests and checks); null when not built. */
export function builtIndex(webRoot = defaultWebRoot()): string | null {
  const p = join(webRoot, 'index.html');
  return existsSync(p) ? readFileSync(p, 'utf8') : null;
}
