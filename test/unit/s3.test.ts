import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
// @ts-expect-error s3rver ships no type declarations
import S3rver from 's3rver';
import { openAtlas } from '../../src/atlas/atlas.js';
import { AtlasError } from '../../src/errors.js';
import { ingestStills } from '../../src/sources/ingest.js';
import { generateSample } from '../../src/sources/sample/index.js';
import { RoutedBlobStore } from '../../src/store/blobs.js';
import { parseS3Url, S3BlobStore } from '../../src/store/s3.js';
import { filesUnder } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const BUCKET = 'filmatlas-test';
const MiB = 1024 * 1024;

/** What the proxy does to a request it is told to break. */
type Breakage = '500' | 'drop';

interface ProxyRule {
  match: (method: string, url: string) => boolean;
  breakage: Breakage;
  /** How many matching requests to break. */
  times: number;
}

interface Seen {
  method: string;
  url: string;
  broken?: Breakage;
}

let s3rver: { run(): Promise<AddressInfo>; close(): Promise<void> };
let proxy: Server;
let endpoint = '';
let seen: Seen[] = [];
let rules: ProxyRule[] = [];
// made here, not in before(): a temp dir's cleanup hook belongs to the scope that creates it
const S3RVER_DIR = tempDir('filmatlas-s3rver-');

/**
 * A proxy in front of s3rver that can fail requests on purpose: answer 500 without
 * passing the request on, or take part of the body and drop the connection.
 */
function proxyHandler(upstreamPort: number) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const rule = rules.find((r) => r.times > 0 && r.match(method, url));
    const entry: Seen = { method, url };
    seen.push(entry);
    if (rule) {
      rule.times--;
      entry.broken = rule.breakage;
      if (rule.breakage === 'drop') {
        // take some of the upload, then vanish mid-request
        let got = 0;
        req.on('data', (c: Buffer) => {
          got += c.length;
          if (got > 64 * 1024) req.socket.destroy();
        });
        req.on('end', () => req.socket.destroy());
        return;
      }
      req.resume();
      req.on('end', () => {
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected</Message></Error>',
        );
      });
      return;
    }
    const up = request(
      { host: '127.0.0.1', port: upstreamPort, method, path: url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
}

before(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  process.env.AWS_REGION = 'us-east-1';
  s3rver = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: S3RVER_DIR,
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await s3rver.run();
  proxy = createServer(proxyHandler(port));
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

after(async () => {
  proxy.closeAllConnections();
  await new Promise<void>((r) => proxy.close(() => r()));
  await s3rver.close();
});

function reset(): void {
  seen = [];
  rules = [];
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('S3 blob store', () => {
  test('s3:// URLs: bucket and prefix, bad ones named', () => {
    assert.deepEqual(parseS3Url('s3://bucket/some/prefix/'), { bucket: 'bucket', prefix: 'some/prefix' });
    assert.deepEqual(parseS3Url('s3://bucket'), { bucket: 'bucket', prefix: '' });
    assert.throws(() => parseS3Url('s3://B/x'), /s3:\/\/bucket/);
    assert.throws(
      () => parseS3Url('http://bucket/x'),
      (e: unknown) => e instanceof AtlasError && e.code === 'INVALID_ARGUMENT',
    );
    assert.equal(
      new S3BlobStore('s3://bucket/p/', { endpoint }).key('stills', 'ab' + '0'.repeat(62), 'png'),
      `p/stills/ab/ab${'0'.repeat(62)}.png`,
    );
  });

  test('put, has, get; content-addressed puts are not repeated; a missing blob is NOT_FOUND', async () => {
    reset();
    const store = new S3BlobStore(`s3://${BUCKET}/basic`, { endpoint });
    try {
      const data = randomBytes(20_000);
      const h = sha(data);
      assert.equal(await store.has('originals', h, 'jpg'), false);
      await store.put('originals', h, 'jpg', data);
      assert.equal(await store.has('originals', h, 'jpg'), true);
      assert.ok((await store.get('originals', h, 'jpg')).equals(data));
      const puts = seen.filter((s) => s.method === 'PUT').length;
      await store.put('originals', h, 'jpg', data);
      assert.equal(
        seen.filter((s) => s.method === 'PUT').length,
        puts,
        'a blob already there is not uploaded again',
      );
      assert.ok(
        seen.every((s) => s.url.startsWith(`/${BUCKET}/basic/originals/`)),
        'path-style keys under the prefix',
      );
      await assert.rejects(
        store.get('originals', 'f'.repeat(64), 'jpg'),
        (e: unknown) => e instanceof AtlasError && e.code === 'NOT_FOUND',
      );
    } finally {
      await store.close();
    }
  });

  test('a PUT answered 500 once is retried and lands whole', async () => {
    reset();
    const store = new S3BlobStore(`s3://${BUCKET}/retry`, { endpoint });
    try {
      const data = randomBytes(300_000);
      rules = [{ match: (m) => m === 'PUT', breakage: '500', times: 1 }];
      await store.put('originals', sha(data), 'png', data);
      assert.deepEqual(
        seen.filter((s) => s.method === 'PUT').map((s) => s.broken ?? 'ok'),
        ['500', 'ok'],
      );
      assert.ok((await store.get('originals', sha(data), 'png')).equals(data));
    } finally {
      await store.close();
    }
  });

  test('a multipart upload whose connection drops mid-part retries that part and completes', async () => {
    reset();
    const store = new S3BlobStore(`s3://${BUCKET}/multipart`, { endpoint, partSize: 5 * MiB, queueSize: 1 });
    try {
      const data = randomBytes(11 * MiB + 123);
      rules = [
        { match: (m, u) => m === 'PUT' && /partNumber=2/.test(u), breakage: 'drop', times: 1 },
        { match: (m, u) => m === 'PUT' && /partNumber=3/.test(u), breakage: '500', times: 1 },
      ];
      await store.put('originals', sha(data), 'tif', data);
      const parts = seen.filter((s) => s.method === 'PUT' && /partNumber=/.test(s.url));
      assert.deepEqual(
        parts.map((p) => `${/partNumber=(\d+)/.exec(p.url)![1]}:${p.broken ?? 'ok'}`),
        ['1:ok', '2:drop', '2:ok', '3:500', '3:ok'],
      );
      assert.ok(
        seen.some((s) => s.method === 'POST' && /uploads/.test(s.url)),
        'a multipart upload was started',
      );
      assert.ok(
        seen.some((s) => s.method === 'POST' && /uploadId=/.test(s.url)),
        'and completed',
      );
      const back = await store.get('originals', sha(data), 'tif');
      assert.equal(back.length, data.length);
      assert.equal(sha(back), sha(data));
    } finally {
      await store.close();
    }
  });

  test('a server that keeps failing gives a clear IO error and leaves no object', async () => {
    reset();
    const store = new S3BlobStore(`s3://${BUCKET}/failing`, { endpoint, maxAttempts: 2 });
    try {
      const data = randomBytes(1000);
      rules = [{ match: (m) => m === 'PUT', breakage: '500', times: 10 }];
      await assert.rejects(
        store.put('originals', sha(data), 'jpg', data),
        (e: unknown) =>
          e instanceof AtlasError &&
          e.code === 'IO' &&
          e.message.includes(`s3://${BUCKET}/failing/originals/`),
      );
      assert.equal(seen.filter((s) => s.method === 'PUT').length, 2, 'maxAttempts requests, no more');
      rules = [];
      assert.equal(await store.has('originals', sha(data), 'jpg'), false);
    } finally {
      await store.close();
    }
  });
});

describe('an atlas on an S3 store', () => {
  test('ingest puts originals in S3 and stills on local disk; the atlas remembers its store', async () => {
    reset();
    const dir = tempDir('filmatlas-s3atlas-');
    const src = join(dir, 'stills');
    await generateSample(src, { movies: 2, stills: 3, seed: 5 });
    const root = join(dir, 'atlas');
    const url = `s3://${BUCKET}/atlas-one`;
    const atlas = await openAtlas(root, { create: true, store: url, endpoint });
    try {
      assert.ok(atlas.store instanceof RoutedBlobStore);
      assert.equal(atlas.store.url, url);
      // a dropped connection mid-way through the ingest is retried by the store
      rules = [{ match: (m) => m === 'PUT', breakage: 'drop', times: 1 }];
      const r = await ingestStills(atlas, [src]);
      assert.deepEqual([r.ready, r.rejected], [6, 0]);
      assert.ok(seen.some((s) => s.broken === 'drop'));
      const stills = await atlas.catalog.stills();
      for (const s of stills) {
        assert.ok(
          seen.some((x) => x.method === 'PUT' && x.url.includes(s.originalSha256!)),
          'original uploaded',
        );
        assert.ok(
          existsSync(join(root, 'stills', s.stdSha256!.slice(0, 2), `${s.stdSha256}.png`)),
          'still on local disk',
        );
      }
      assert.equal(filesUnder(join(root, 'originals')).length, 0, 'no originals on local disk');
    } finally {
      await atlas.close();
    }
    // reopened without --store (the endpoint too is remembered): the same store; reading an original goes to S3
    const again = await openAtlas(root);
    try {
      assert.equal(again.store.url, url);
      const s = (await again.catalog.stills())[0];
      assert.ok((await again.store.get('originals', s.originalSha256!, s.originalExt!)).length > 0);
      await assert.rejects(
        () => openAtlas(root, { store: `s3://${BUCKET}/elsewhere`, endpoint }),
        (e: unknown) =>
          e instanceof AtlasError && /keeps its blobs in s3:\/\/filmatlas-test\/atlas-one/.test(e.message),
      );
    } finally {
      await again.close();
    }
    // an atlas that already holds local blobs cannot move to S3
    const local = await openAtlas(join(dir, 'local'), { create: true });
    await ingestStills(local, [src]);
    await local.close();
    await assert.rejects(
      () => openAtlas(join(dir, 'local'), { store: url, endpoint }),
      /already holds blobs on local disk/,
    );
  });

  test('--store-stills keeps the standardised stills in S3 too', async () => {
    reset();
    const dir = tempDir('filmatlas-s3atlas-');
    const src = join(dir, 'stills');
    await generateSample(src, { movies: 1, stills: 2, seed: 9 });
    const root = join(dir, 'atlas');
    const atlas = await openAtlas(root, {
      create: true,
      store: `s3://${BUCKET}/atlas-two`,
      endpoint,
      storeStills: true,
    });
    try {
      assert.ok(atlas.store instanceof S3BlobStore);
      await ingestStills(atlas, [src]);
      assert.equal(filesUnder(join(root, 'stills')).length, 0);
      const s = (await atlas.catalog.stills())[0];
      assert.ok(
        seen.some(
          (x) => x.method === 'PUT' && x.url.includes(`/atlas-two/stills/${s.stdSha256!.slice(0, 2)}/`),
        ),
      );
    } finally {
      await atlas.close();
    }
  });
});
