import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { openAtlas, type Atlas } from '../../src/atlas/atlas.js';
import { embedStills } from '../../src/embed/run.js';
import { FeatureReader } from '../../src/embed/features.js';
import { readLayout, writeLayout } from '../../src/atlas/layouts.js';
import { LookVectors } from '../../src/looks/vectors.js';
import { renderGridDeepZoom } from '../../src/render/render.js';
import { API_VERSION } from '../../src/api/contract.js';
import { MAX_RESULTS } from '../../src/server/data.js';
import { errorPage, escapeHtml, startServer, type RunningServer } from '../../src/server/server.js';
import { generateSample } from '../../src/sources/sample/index.js';
import { ingestStills } from '../../src/sources/ingest.js';
import { tempDir } from '../helpers/tmp.js';

const XSS = '<img src=x onerror=alert(1)>';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: () => Record<string, unknown>;
}

/** A raw HTTP request: the path goes on the wire exactly as given (fetch would normalise `%2e%2e`). */
function raw(
  server: RunningServer,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          ok({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.on('error', fail);
    if (options.body) req.write(options.body);
    req.end();
  });
}

/** A movie folder titled with markup, holding one still of its own. */
async function hostileMovie(parent: string): Promise<string> {
  const dir = join(parent, `${XSS} (2001)`);
  mkdirSync(dir, { recursive: true });
  await sharp({ create: { width: 160, height: 90, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    .png()
    .toFile(join(dir, 'still-1.png'));
  return dir;
}

const dir = tempDir('filmatlas-server-');
const root = join(dir, 'atlas');
let atlas: Atlas;
let server: RunningServer;
let webRoot: string;

before(async () => {
  const src = join(dir, 'stills');
  await generateSample(src, { movies: 3, stills: 6, width: 160 });
  const hostile = await hostileMovie(join(dir, 'hostile'));
  atlas = await openAtlas(root, { create: true });
  await ingestStills(atlas, [src, hostile]);
  await embedStills(atlas, { model: 'color' });
  // A points layout from two colour features and a 4×5 grid of it (19 stills, one empty cell).
  const f = FeatureReader.open(atlas, 'color');
  const m = f.readRows(0, f.rows);
  const xy = new Float32Array(2 * f.rows);
  for (let i = 0; i < f.rows; i++) {
    xy[2 * i] = m[i * f.dim];
    xy[2 * i + 1] = m[i * f.dim + 1];
  }
  const ids = Uint32Array.from(f.stillIds);
  writeLayout(atlas, { name: 'pts', kind: 'points', features: 'color', method: 'test', params: {}, xy, ids });
  const gxy = new Float32Array(2 * f.rows);
  for (let i = 0; i < f.rows; i++) {
    gxy[2 * i] = i % 4;
    gxy[2 * i + 1] = Math.floor(i / 4);
  }
  writeLayout(atlas, {
    name: 'g',
    kind: 'grid',
    features: 'color',
    method: 'test',
    params: {},
    xy: gxy,
    ids,
    grid: { cols: 4, rows: 5 },
  });
  await renderGridDeepZoom(atlas, { layout: 'g', out: join(root, 'maps', 'g') });
  await atlas.close();
  atlas = await openAtlas(root, { readonly: true });
  webRoot = join(dir, 'web');
  mkdirSync(join(webRoot, 'assets'), { recursive: true });
  writeFileSync(
    join(webRoot, 'index.html'),
    '<!doctype html><title>app</title><script type="module" src="./assets/app-1.js"></script>',
  );
  writeFileSync(join(webRoot, 'assets', 'app-1.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET');
  server = await startServer(atlas, { port: 0, webRoot });
});

after(async () => {
  await server?.close();
  await atlas?.close();
});

describe('API', () => {
  test('the summary lists movies, stills, layouts with their deep zoom, and feature sets', async () => {
    const r = await raw(server, '/api/atlas');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /application\/json/);
    const s = r.json() as {
      movies: number;
      stills: number;
      layouts: { name: string; kind: string; deepzoom: unknown }[];
      features: string[];
    };
    assert.equal(s.movies, 4);
    assert.equal(s.stills, 19);
    assert.deepEqual(
      s.layouts.map((l) => [l.name, l.kind, l.deepzoom !== null]),
      [
        ['g', 'grid', true],
        ['pts', 'points', false],
      ],
    );
    assert.deepEqual(s.features, ['color']);
  });

  test('movies: search, filters, paging, and details in film order', async () => {
    const all = (await raw(server, '/api/movies')).json() as {
      total: number;
      movies: { id: number; title: string; director: string; year: number; stills: number }[];
    };
    assert.equal(all.total, 4);
    const one = all.movies.find((m) => m.title !== XSS)!;
    const byDirector = (
      await raw(server, `/api/movies?director=${encodeURIComponent(one.director)}`)
    ).json() as typeof all;
    assert.ok(byDirector.movies.every((m) => m.director === one.director) && byDirector.total >= 1);
    const byYear = (
      await raw(server, `/api/movies?yearMin=${one.year}&yearMax=${one.year}`)
    ).json() as typeof all;
    assert.ok(byYear.movies.some((m) => m.id === one.id) && byYear.movies.every((m) => m.year === one.year));
    const page = (await raw(server, '/api/movies?limit=2&offset=1')).json() as typeof all;
    assert.deepEqual(
      page.movies.map((m) => m.id),
      all.movies.slice(1, 3).map((m) => m.id),
    );
    const d = (await raw(server, `/api/movies/${one.id}`)).json() as {
      movie: { id: number };
      stills: number[];
    };
    assert.equal(d.stills.length, 6);
    const ordinals = await Promise.all(d.stills.map(async (id) => (await atlas.catalog.still(id))!.ordinal));
    assert.deepEqual(
      ordinals,
      [...ordinals].sort((a, b) => a - b),
    );
  });

  test('a still: its movie, neighbours in film order, and its image with an ETag', async () => {
    const movie = (
      (await raw(server, '/api/movies')).json() as { movies: { id: number; title: string }[] }
    ).movies.find((m) => m.title !== XSS)!;
    const ids = ((await raw(server, `/api/movies/${movie.id}`)).json() as { stills: number[] }).stills;
    const s = (await raw(server, `/api/stills/${ids[1]}`)).json() as {
      still: { id: number; file: string };
      movie: { id: number };
      prev: number;
      next: number;
      position: number;
    };
    assert.deepEqual(
      [s.still.id, s.movie.id, s.prev, s.next, s.position],
      [ids[1], movie.id, ids[0], ids[2], 1],
    );
    assert.ok(!s.still.file.includes('/'), 'only the file name, never the server path');
    const img = await raw(server, `/api/stills/${ids[1]}/image`);
    assert.equal(img.status, 200);
    assert.equal(img.headers['content-type'], 'image/png');
    const row = (await atlas.catalog.still(ids[1]))!;
    assert.deepEqual(img.body, readFileSync(atlas.store.localPath!('stills', row.stdSha256!, 'png')));
    const etag = String(img.headers.etag);
    assert.equal(
      (await raw(server, `/api/stills/${ids[1]}/image`, { headers: { 'If-None-Match': etag } })).status,
      304,
    );
  });

  test('similar stills: k nearest by cosine, the still itself left out, nearest first', async () => {
    const id = server.data.stills[0].id;
    const r = (await raw(server, `/api/stills/${id}/similar?k=5`)).json() as {
      model: string;
      neighbours: { id: number; distance: number }[];
    };
    assert.equal(r.model, 'color');
    assert.equal(r.neighbours.length, 5);
    assert.ok(r.neighbours.every((n) => n.id !== id));
    for (let i = 1; i < 5; i++)
      assert.ok(r.neighbours[i].distance >= r.neighbours[i - 1].distance, `order at ${i}`);
    // Against a brute-force check over the same normalised vectors.
    const all = (await raw(server, `/api/stills/${id}/similar?k=18`)).json() as typeof r;
    assert.equal(all.neighbours.length, 18);
    assert.deepEqual(
      r.neighbours.map((n) => n.id),
      all.neighbours.slice(0, 5).map((n) => n.id),
    );
  });

  test('similar stills agree with a brute-force cosine search, and concurrent queries with lone ones', async () => {
    const v = LookVectors.open(atlas, 'color');
    const x = v.all();
    const brute = (id: number, k: number): number[] => {
      const r = v.rowOf(id)!;
      const scores = Array.from({ length: v.rows }, (_, j) => {
        let d = 0;
        for (let c = 0; c < v.dim; c++) d += x[r * v.dim + c] * x[j * v.dim + c];
        return { id: v.stillIds[j], d };
      }).filter((e) => e.id !== id);
      return scores
        .sort((a, b) => b.d - a.d)
        .slice(0, k)
        .map((e) => e.id);
    };
    const ids = server.data.stills.slice(0, 8).map((s) => s.id);
    const together = await Promise.all(
      ids.map(async (id) =>
        (
          (await raw(server, `/api/stills/${id}/similar?k=4`)).json() as { neighbours: { id: number }[] }
        ).neighbours.map((n) => n.id),
      ),
    );
    for (const [i, id] of ids.entries()) {
      assert.deepEqual(together[i], brute(id, 4), `still ${id}`);
      const alone = (
        (await raw(server, `/api/stills/${id}/similar?k=4`)).json() as { neighbours: { id: number }[] }
      ).neighbours.map((n) => n.id);
      assert.deepEqual(alone, together[i]);
    }
  });

  test('similar movies come with reasons and best still pairs', async () => {
    const id = server.data.movies[0].id;
    const r = (await raw(server, `/api/movies/${id}/similar?k=2`)).json() as {
      movies: {
        movie: { id: number };
        similarity: number;
        reasons: string[];
        pairs: { a: number; b: number }[];
      }[];
    };
    assert.equal(r.movies.length, 2);
    assert.ok(r.movies.every((m) => m.movie.id !== id && m.reasons.length > 0 && m.pairs.length > 0));
    assert.ok(r.movies[0].similarity >= r.movies[1].similarity);
    const own = new Set(server.data.stillsOfMovie.get(id));
    assert.ok(r.movies[0].pairs.every((p) => own.has(p.a) && !own.has(p.b)));
  });

  test('layout points as binary arrays that match the stored layout', async () => {
    const stored = readLayout(atlas, 'pts');
    const xy = await raw(server, '/api/layouts/pts/xy.f32');
    assert.equal(xy.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(
      new Float32Array(xy.body.buffer.slice(xy.body.byteOffset, xy.body.byteOffset + xy.body.length)),
      stored.xy,
    );
    const ids = await raw(server, '/api/layouts/pts/ids.u32');
    assert.deepEqual(
      new Uint32Array(ids.body.buffer.slice(ids.body.byteOffset, ids.body.byteOffset + ids.body.length)),
      stored.ids,
    );
    const mv = await raw(server, '/api/layouts/pts/movies.u32');
    const movies = new Uint32Array(
      mv.body.buffer.slice(mv.body.byteOffset, mv.body.byteOffset + mv.body.length),
    );
    for (const [i, id] of stored.ids.entries())
      assert.equal(movies[i], (await atlas.catalog.still(id))!.movieId);
    const meta = (await raw(server, '/api/layouts/pts')).json() as {
      manifest: { n: number };
      bounds: { minX: number };
    };
    assert.equal(meta.manifest.n, 19);
    assert.equal(meta.bounds.minX, Math.min(...Array.from(stored.xy).filter((_, i) => i % 2 === 0)));
  });

  test('deep zoom: the descriptor and tiles of a rendered grid; a points layout has none', async () => {
    const dzi = await raw(server, '/api/layouts/g/deepzoom.dzi');
    assert.equal(dzi.status, 200);
    assert.match(dzi.text, /Width="896"/);
    const top = await raw(server, '/api/layouts/g/deepzoom_files/0/0_0.jpeg');
    assert.equal(top.status, 200);
    assert.equal(top.headers['content-type'], 'image/jpeg');
    assert.match(String(top.headers['cache-control']), /max-age/);
    assert.ok(top.headers.etag);
    assert.equal((await raw(server, '/api/layouts/g/deepzoom_files/0/9_9.jpeg')).status, 404);
    assert.equal((await raw(server, '/api/layouts/pts/deepzoom.dzi')).status, 404);
  });

  test('JSON responses carry ETags and answer 304 to a matching If-None-Match', async () => {
    const a = await raw(server, '/api/movies');
    assert.equal(a.headers['cache-control'], 'no-cache');
    const b = await raw(server, '/api/movies', { headers: { 'If-None-Match': String(a.headers.etag) } });
    assert.equal(b.status, 304);
    assert.equal(b.body.length, 0);
  });

  test('clusters: 404 with a hint when the atlas has none', async () => {
    const r = await raw(server, '/api/clusters');
    assert.equal(r.status, 404);
    assert.match(String((r.json().error as { message: string }).message), /no clusters/);
  });
});

describe('bounds and bad requests', () => {
  test('result counts are capped and bad numbers refused with the value named', async () => {
    const id = server.data.stills[0].id;
    const big = await raw(server, `/api/movies?limit=${MAX_RESULTS + 1}`);
    assert.equal(big.status, 400);
    assert.match((big.json().error as { message: string }).message, /limit/);
    assert.equal((await raw(server, `/api/stills/${id}/similar?k=0`)).status, 400);
    assert.equal((await raw(server, `/api/stills/${id}/similar?k=spoons`)).status, 400);
    assert.equal((await raw(server, '/api/stills/abc')).status, 400);
    const missing = await raw(server, '/api/stills/999999');
    assert.equal(missing.status, 404);
    assert.match((missing.json().error as { message: string }).message, /999999/);
    assert.equal((await raw(server, '/api/movies/999999')).status, 404);
    assert.equal((await raw(server, '/api/nothing')).status, 404);
  });

  test('read-only: other methods, request bodies, long URLs and many parameters are refused', async () => {
    assert.equal((await raw(server, '/api/atlas', { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await raw(server, '/api/atlas', { method: 'DELETE' })).status, 405);
    assert.equal(
      (await raw(server, '/api/atlas', { headers: { 'Content-Length': '5' }, body: 'hello' })).status,
      413,
    );
    assert.equal((await raw(server, `/api/movies?q=${'a'.repeat(3000)}`)).status, 414);
    const many = Array.from({ length: 20 }, (_, i) => `p${i}=1`).join('&');
    assert.equal((await raw(server, `/api/movies?${many}`)).status, 400);
    assert.equal((await raw(server, '/api/atlas', { method: 'HEAD' })).status, 200);
  });

  test('a foreign Host header is refused (no DNS rebinding)', async () => {
    assert.equal((await raw(server, '/api/atlas', { headers: { Host: 'evil.example:80' } })).status, 421);
    assert.equal(
      (await raw(server, '/api/atlas', { headers: { Host: `localhost:${server.port}` } })).status,
      200,
    );
  });
});

describe('path traversal', () => {
  const attempts = [
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/..%2F..%2Fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/..%5csecret.txt',
    '/%252e%252e/secret.txt',
    '/assets/app-1.js%00.html',
    '/api/layouts/..%2f..%2fsecret.txt/xy.f32',
    '/api/layouts/%2e%2e/xy.f32',
    '/api/layouts/g/deepzoom_files/..%2f..%2f..%2f/0_0.jpeg',
    '/api/layouts/g/deepzoom_files/0/..%2f..%2f..%2f..%2fsecret.txt',
    '/api/layouts/..%2fg/deepzoom.dzi',
    '/api/stills/..%2f1/image',
  ];
  for (const path of attempts) {
    test(`refused: ${path}`, async () => {
      const r = await raw(server, path);
      assert.ok(r.status === 400 || r.status === 404, `${path} → ${r.status}`);
      assert.ok(!r.text.includes('TOP SECRET'));
      assert.ok(!r.text.includes('SQLite format'));
    });
  }
  test('the atlas files themselves are not served', async () => {
    for (const p of ['/atlas.db', '/api/atlas.db', '/maps/g/g.dzi', '/api/layouts/g/layout.json']) {
      const r = await raw(server, p);
      assert.ok(!r.text.includes('SQLite format') && !r.text.includes('"method"'), p);
    }
  });
});

describe('escaping', () => {
  test('a movie titled with markup comes back as data, as JSON with nosniff', async () => {
    const r = await raw(server, `/api/movies?q=${encodeURIComponent('<img')}`);
    const movies = (r.json() as { movies: { title: string }[] }).movies;
    assert.deepEqual(
      movies.map((m) => m.title),
      [XSS],
    );
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(String(r.headers['content-security-policy']), /script-src 'self'/);
    assert.doesNotMatch(
      String(r.headers['content-security-policy']),
      /unsafe-inline'[^;]*script|script-src[^;]*unsafe-inline/,
    );
  });

  test('pages the server writes escape what they show', () => {
    assert.equal(escapeHtml(XSS), '&#60;img src=x onerror=alert(1)&#62;');
    const page = errorPage(XSS, `bad ${XSS}`, `"${XSS}"`);
    assert.ok(!page.includes('<img'));
    assert.ok(page.includes('&#60;img src=x onerror=alert(1)&#62;'));
  });
});

describe('the web app', () => {
  test('index for client routes, hashed assets cached for a year', async () => {
    const index = await raw(server, '/');
    assert.equal(index.status, 200);
    assert.match(index.text, /<title>app<\/title>/);
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.equal((await raw(server, '/map')).status, 200);
    const asset = await raw(server, '/assets/app-1.js');
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal((await raw(server, '/assets/missing.js')).status, 404);
  });

  test('an unbuilt web app gives a page that says how to build it', async () => {
    const bare = await startServer(atlas, { port: 0, webRoot: join(dir, 'no-web') });
    try {
      const r = await raw(bare, '/');
      assert.equal(r.status, 503);
      assert.match(r.text, /npm run build/);
    } finally {
      await bare.close();
    }
  });
});

describe('a damaged atlas', () => {
  test('a truncated layout gives a clear JSON error naming it, and the server keeps serving', async () => {
    const copy = join(dir, 'damaged');
    cpSync(root, copy, { recursive: true });
    truncateSync(join(copy, 'maps', 'pts', 'xy.f32'), 10);
    const a = await openAtlas(copy, { readonly: true });
    const s = await startServer(a, { port: 0, webRoot });
    try {
      const r = await raw(s, '/api/layouts/pts/xy.f32');
      assert.equal(r.status, 500);
      const e = r.json().error as { code: string; message: string; suggestion: string };
      assert.equal(e.code, 'ATLAS');
      assert.match(e.message, /layout 'pts' is damaged/);
      assert.ok(!r.text.includes('    at '), 'no stack trace');
      assert.equal((await raw(s, '/api/atlas')).status, 200);
    } finally {
      await s.close();
      await a.close();
    }
  });

  test('binding a port in use fails with an AtlasError that names it', async () => {
    await assert.rejects(startServer(atlas, { port: server.port, webRoot }), (e: Error) =>
      /already in use/.test(e.message),
    );
  });
});

describe('the API contract', () => {
  test('/api/atlas reports the contract version', async () => {
    const s = (await raw(server, '/api/atlas')).json() as { apiVersion: number };
    assert.equal(s.apiVersion, API_VERSION);
  });

  test('a clustering stored as labels only: sizes, natural order, medoids nearest the rest of their cluster', async () => {
    const copy = join(dir, 'labels-only');
    cpSync(root, copy, { recursive: true });
    const v = LookVectors.open(atlas, 'color');
    const ids = Uint32Array.from(v.stillIds);
    const labels = Uint32Array.from(ids, (_, i) => [0, 2, 10][i % 3]);
    mkdirSync(join(copy, 'clusters', 'ext'), { recursive: true });
    writeFileSync(join(copy, 'clusters', 'ext', 'ids.u32'), new Uint8Array(ids.buffer));
    writeFileSync(join(copy, 'clusters', 'ext', 'labels.u32'), new Uint8Array(labels.buffer));
    const a = await openAtlas(copy, { readonly: true });
    const s = await startServer(a, { port: 0, webRoot });
    try {
      const r = (await raw(s, '/api/clusters?limit=2')).json() as {
        name: string;
        features: string;
        clusters: {
          label: string;
          size: number;
          medoids: number[];
          movies: { id: number; stills: number }[];
        }[];
      };
      assert.equal(r.name, 'ext');
      assert.equal(r.features, 'color');
      assert.deepEqual(
        r.clusters.map((c) => [c.label, c.size]),
        [
          ['cluster 0', 7],
          ['cluster 2', 6],
          ['cluster 10', 6],
        ],
      );
      // Brute force: the medoid has the smallest total distance to its cluster (normalised features).
      const x = v.all();
      const dist = (p: number, q: number): number => {
        let d = 0;
        for (let c = 0; c < v.dim; c++) d += (x[p * v.dim + c] - x[q * v.dim + c]) ** 2;
        return Math.sqrt(d);
      };
      for (const [ci, label] of [0, 2, 10].entries()) {
        const rows = [...ids.keys()].filter((i) => labels[i] === label);
        const total = (p: number): number => rows.reduce((t, q) => t + dist(p, q), 0);
        const best = [...rows].sort((p, q) => total(p) - total(q))[0];
        assert.equal(r.clusters[ci].medoids.length, 2);
        assert.equal(r.clusters[ci].medoids[0], ids[best], `cluster ${label}`);
        const own = r.clusters[ci].movies.reduce((t, m) => t + m.stills, 0);
        assert.ok(own <= r.clusters[ci].size && r.clusters[ci].movies.length <= 2);
      }
      const meta = (await raw(s, '/api/layouts/pts')).json() as { clusters: string[] };
      assert.deepEqual(meta.clusters, ['cluster 0', 'cluster 2', 'cluster 10']);
    } finally {
      await s.close();
      await a.close();
    }
  });
});
