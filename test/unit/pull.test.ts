import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findCachedModel, MODELS, pullModel, type PullOptions } from '../../src/embed/pull.js';
import { VGG16_CONVS, VGG16_FCS } from '../../src/embed/vgg16/weights.js';
import { AtlasError } from '../../src/errors.js';
import type { ProgressEvent } from '../../src/types.js';
import { REPO_ROOT, tempDir } from '../helpers/tmp.js';

// A generated "weights" file, served from a loopback server whose behaviour each test sets.
const FILE = randomBytes(3 * 1024 * 1024 + 12_345);
const SHA = createHash('sha256').update(FILE).digest('hex');
const OTHER_SHA = createHash('sha256').update('something else').digest('hex');

interface Seen {
  url: string;
  range?: string;
  acceptEncoding?: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

let server: Server;
let base = '';
let seen: Seen[] = [];
let handler: Handler = serveFile;

/** Serves FILE like a static file server: 200, or 206 for `Range: bytes=N-`, 416 past the end. */
function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  _n = 0,
  extra: Record<string, string> = {},
): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m) {
    const start = Number(m[1]);
    if (start >= FILE.length) {
      res.writeHead(416, { 'content-range': `bytes */${FILE.length}`, ...extra });
      res.end();
      return;
    }
    res.writeHead(206, {
      'content-length': FILE.length - start,
      'content-range': `bytes ${start}-${FILE.length - 1}/${FILE.length}`,
      'accept-ranges': 'bytes',
      ...extra,
    });
    writeChunked(res, FILE.subarray(start));
    return;
  }
  res.writeHead(200, { 'content-length': FILE.length, 'accept-ranges': 'bytes', ...extra });
  writeChunked(res, FILE);
}

function writeChunked(res: ServerResponse, data: Buffer, stopAt = data.length): void {
  for (let off = 0; off < stopAt; off += 64 * 1024)
    res.write(data.subarray(off, Math.min(stopAt, off + 64 * 1024)));
  if (stopAt >= data.length) res.end();
}

before(async () => {
  server = createServer((req, res) => {
    seen.push({
      url: req.url ?? '',
      range: req.headers.range,
      acceptEncoding: req.headers['accept-encoding'],
    });
    handler(req, res, seen.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function setup(h: Handler = serveFile): { cacheDir: string; opts: PullOptions } {
  seen = [];
  handler = h;
  const cacheDir = tempDir('filmatlas-pull-');
  return { cacheDir, opts: { from: `${base}/model.safetensors`, cacheDir, retryDelayMs: 5, sha256: SHA } };
}

function cachedPath(cacheDir: string): string {
  return join(cacheDir, MODELS.vgg16.file);
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<AtlasError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AtlasError, `expected an AtlasError but got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected an AtlasError ${code}, but the call succeeded`);
}

describe('MODELS', () => {
  test('vgg16 is the timm/torchvision safetensors file with a pinned sha256', () => {
    assert.equal(
      MODELS.vgg16.url,
      'https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors',
    );
    assert.match(MODELS.vgg16.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.match(MODELS.vgg16.file, /\.safetensors$/);
  });

  test('vgg16: the Hugging Face file the README names, pinned by the sha256 and size it states', () => {
    const vgg16 = MODELS.vgg16;
    // A Hugging Face "resolve" URL: https://huggingface.co/<org>/<repo>/resolve/<revision>/<file>.
    const url = new URL(vgg16.url);
    assert.deepEqual([url.protocol, url.host, url.search, url.hash], ['https:', 'huggingface.co', '', '']);
    const m = /^\/([\w.-]+)\/([\w.-]+)\/resolve\/([\w.-]+)\/([\w.-]+)$/.exec(url.pathname);
    assert.ok(m, `not a Hugging Face resolve URL: ${vgg16.url}`);
    const [, org, repo, revision, file] = m;
    assert.equal(file, 'model.safetensors');
    // A branch or a commit; on a branch, the sha256 is what pins the bytes (a test below shows
    // that another file is refused).
    assert.match(revision, /^(main|[0-9a-f]{40})$/);

    const name = `${org}/${repo}`;
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    // The README's `models` section, with its line breaks as spaces.
    const section = readme
      .slice(readme.indexOf('### `filmatlas models list|pull`'))
      .split('\n### ')[0]
      .replace(/\s+/g, ' ');
    assert.equal(vgg16.file, `${repo}.safetensors`, 'the cache names the file after its repository');
    assert.ok(vgg16.description.includes(`(torchvision, via ${name})`), vgg16.description);
    assert.ok(section.includes(`sha256 \`${vgg16.sha256}\``), 'the README states the pinned sha256');

    // VGG-16's 138,357,544 float32 parameters (counted from the architecture the embedder
    // builds) make a 553 MB file; the README and `models list` both say so.
    const params =
      VGG16_CONVS.reduce((n, c) => n + c.outChannels * c.inChannels * 9 + c.outChannels, 0) +
      VGG16_FCS.reduce((n, f) => n + f.outFeatures * f.inFeatures + f.outFeatures, 0);
    assert.equal(params, 138_357_544);
    const mb = `${Math.round((params * 4) / 1e6)} MB`;
    assert.equal(mb, '553 MB');
    assert.ok(vgg16.description.endsWith(`, ${mb}`), vgg16.description);
    assert.ok(section.includes(`the safetensors file of \`${name}\`, ${mb})`), section);
  });
});

describe('pullModel', () => {
  test('downloads, verifies against the pinned sha256 and reports progress', async () => {
    const { cacheDir, opts } = setup();
    const events: ProgressEvent[] = [];
    const r = await pullModel('vgg16', { ...opts, onProgress: (e) => events.push(e) });
    assert.equal(r.path, cachedPath(cacheDir));
    assert.deepEqual(
      [r.bytes, r.sha256, r.verified, r.resumed, r.alreadyCached],
      [FILE.length, SHA, 'pinned', false, false],
    );
    assert.ok(readFileSync(r.path).equals(FILE));
    assert.deepEqual(readdirSync(cacheDir).sort(), [MODELS.vgg16.file, `${MODELS.vgg16.file}.json`]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].range, undefined);
    assert.equal(seen[0].acceptEncoding, 'identity');
    assert.ok(events.length > 2);
    assert.ok(events.every((e) => e.stage === 'pull' && e.total === FILE.length));
    for (let i = 1; i < events.length; i++) assert.ok(events[i].done >= events[i - 1].done);
    assert.equal(events.at(-1)?.done, FILE.length);
    assert.equal(findCachedModel('vgg16', cacheDir), r.path);
  });

  test('a file already in the cache is not downloaded again', async () => {
    const { cacheDir, opts } = setup();
    await pullModel('vgg16', opts);
    seen = [];
    const r = await pullModel('vgg16', opts);
    assert.equal(seen.length, 0);
    assert.deepEqual([r.alreadyCached, r.sha256, r.bytes, r.verified], [true, SHA, FILE.length, 'pinned']);
    assert.equal(r.path, cachedPath(cacheDir));
  });

  test('a file put in the cache by hand is hashed and checked, without a request', async () => {
    const { cacheDir, opts } = setup();
    writeFileSync(cachedPath(cacheDir), FILE);
    const r = await pullModel('vgg16', opts);
    assert.deepEqual([seen.length, r.alreadyCached, r.verified], [0, true, 'pinned']);
    const bad = await rejectsWith(pullModel('vgg16', { ...opts, sha256: OTHER_SHA }), 'CHECKSUM');
    assert.match(bad.message, new RegExp(`${SHA}.*${OTHER_SHA}`));
    assert.ok(existsSync(cachedPath(cacheDir)), 'a cached file is never deleted for a mismatch');
  });

  test('resumes with a Range request after the server drops the connection mid-body', async () => {
    const { cacheDir, opts } = setup((req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-length': FILE.length });
        writeChunked(res, FILE, 1024 * 1024 + 7);
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      serveFile(req, res);
    });
    const r = await pullModel('vgg16', opts);
    assert.equal(seen.length, 2);
    assert.equal(seen[0].range, undefined);
    const m = /^bytes=(\d+)-$/.exec(seen[1].range ?? '');
    assert.ok(m, `second request should resume with a Range header, got ${seen[1].range}`);
    const start = Number(m[1]);
    assert.ok(start > 0 && start <= 1024 * 1024 + 7, `resumed from ${start}`);
    assert.deepEqual([r.resumed, r.verified, r.sha256], [true, 'pinned', SHA]);
    assert.ok(readFileSync(join(cacheDir, MODELS.vgg16.file)).equals(FILE));
    assert.ok(!existsSync(`${cachedPath(cacheDir)}.part`));
  });

  test('resumes a part left by an earlier run', async () => {
    const { cacheDir, opts } = setup();
    writeFileSync(`${cachedPath(cacheDir)}.part`, FILE.subarray(0, 1_000_000));
    const r = await pullModel('vgg16', opts);
    assert.deepEqual(
      seen.map((s) => s.range),
      ['bytes=1000000-'],
    );
    assert.equal(r.resumed, true);
    assert.ok(readFileSync(r.path).equals(FILE));
  });

  test('a part that already holds the whole file (416) is verified and kept', async () => {
    const { cacheDir, opts } = setup();
    writeFileSync(`${cachedPath(cacheDir)}.part`, FILE);
    const r = await pullModel('vgg16', opts);
    assert.deepEqual(
      seen.map((s) => s.range),
      [`bytes=${FILE.length}-`],
    );
    assert.deepEqual([r.resumed, r.sha256, r.verified], [true, SHA, 'pinned']);
  });

  test('a server without Range support restarts from zero', async () => {
    const { cacheDir, opts } = setup((_req, res) => {
      res.writeHead(200, { 'content-length': FILE.length });
      writeChunked(res, FILE);
    });
    // A part whose bytes are wrong: appending to it would break the file.
    writeFileSync(`${cachedPath(cacheDir)}.part`, Buffer.alloc(500_000, 7));
    const r = await pullModel('vgg16', opts);
    assert.deepEqual(
      seen.map((s) => s.range),
      ['bytes=500000-'],
    );
    assert.deepEqual([r.resumed, r.sha256, r.bytes], [false, SHA, FILE.length]);
    assert.ok(readFileSync(r.path).equals(FILE));
  });

  test('a checksum mismatch deletes the download and names both hashes', async () => {
    const { cacheDir, opts } = setup();
    const err = await rejectsWith(pullModel('vgg16', { ...opts, sha256: OTHER_SHA }), 'CHECKSUM');
    assert.match(err.message, new RegExp(`expected sha256 ${OTHER_SHA}.*got ${SHA}`));
    assert.equal(err.value, opts.from);
    assert.match(err.suggestion ?? '', /--from/);
    assert.deepEqual(readdirSync(cacheDir), [], 'neither the part nor a cached file is left');
  });

  test('retries a 500 and then succeeds', async () => {
    const { opts } = setup((req, res, n) => {
      if (n === 1) {
        res.writeHead(500);
        res.end('boom');
        return;
      }
      serveFile(req, res);
    });
    const r = await pullModel('vgg16', opts);
    assert.equal(seen.length, 2);
    assert.equal(r.sha256, SHA);
  });

  test('gives up after a bounded number of 5xx answers', async () => {
    const { cacheDir, opts } = setup((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    const err = await rejectsWith(pullModel('vgg16', { ...opts, attempts: 3 }), 'NETWORK');
    assert.equal(seen.length, 3);
    assert.match(err.message, /503/);
    assert.equal(findCachedModel('vgg16', cacheDir), undefined);
  });

  test('a 404 is not retried', async () => {
    const { opts } = setup((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    const err = await rejectsWith(pullModel('vgg16', opts), 'NETWORK');
    assert.equal(seen.length, 1);
    assert.match(err.message, /404/);
  });

  test('verifies against the sha256 a redirecting server announces (X-Linked-ETag)', async (t) => {
    MODELS.testmodel = {
      url: `${base}/resolve/model.safetensors`,
      file: 'test.safetensors',
      description: 'test',
    };
    t.after(() => delete MODELS.testmodel);
    const announce = { value: SHA };
    const { cacheDir } = setup((req, res) => {
      if (req.url?.startsWith('/resolve/')) {
        res.writeHead(302, {
          location: '/cdn/blob',
          'x-linked-etag': `"${announce.value}"`,
          'x-linked-size': String(FILE.length),
        });
        res.end();
        return;
      }
      serveFile(req, res);
    });
    const r = await pullModel('testmodel', { cacheDir, retryDelayMs: 5 });
    assert.deepEqual([r.verified, r.sha256], ['server', SHA]);
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/resolve/model.safetensors', '/cdn/blob'],
    );

    const other = tempDir('filmatlas-pull-');
    announce.value = OTHER_SHA;
    const err = await rejectsWith(pullModel('testmodel', { cacheDir: other, retryDelayMs: 5 }), 'CHECKSUM');
    assert.match(err.message, /announced by the server/);
    assert.deepEqual(readdirSync(other), []);
  });

  test('vgg16 from a mirror is checked against its pinned sha256, whatever the server announces', async () => {
    const { cacheDir } = setup((req, res) => serveFile(req, res, 0, { 'x-linked-etag': `"${SHA}"` }));
    const err = await rejectsWith(
      pullModel('vgg16', { from: `${base}/model.safetensors`, cacheDir, retryDelayMs: 5 }),
      'CHECKSUM',
    );
    assert.ok(
      err.message.includes(
        `expected sha256 ${MODELS.vgg16.sha256} (pinned) but got ${SHA} (${FILE.length} bytes)`,
      ),
      err.message,
    );
    assert.equal(err.value, `${base}/model.safetensors`);
    assert.deepEqual(readdirSync(cacheDir), []);
    assert.equal(findCachedModel('vgg16', cacheDir), undefined);
  });

  test('says the file is unverified when there is nothing to check against', async (t) => {
    MODELS.testmodel = { url: `${base}/plain`, file: 'test.safetensors', description: 'test' };
    t.after(() => delete MODELS.testmodel);
    const { cacheDir } = setup();
    const r = await pullModel('testmodel', { cacheDir });
    assert.equal(r.verified, 'none');
    assert.equal(r.sha256, SHA);
  });

  test('offline: a clear NETWORK error saying how to provide the weights', async () => {
    const { cacheDir } = setup();
    let calls = 0;
    const offline = (async () => {
      calls++;
      const cause = Object.assign(new Error('getaddrinfo ENOTFOUND huggingface.co'), { code: 'ENOTFOUND' });
      throw new TypeError('fetch failed', { cause });
    }) as typeof fetch;
    const err = await rejectsWith(
      pullModel('vgg16', { cacheDir, fetchImpl: offline, retryDelayMs: 5 }),
      'NETWORK',
    );
    assert.equal(calls, 1, 'no retries when there is no network at all');
    assert.match(err.message, /ENOTFOUND/);
    assert.match(err.suggestion ?? '', /--weights FILE/);
    assert.match(err.suggestion ?? '', /--from URL/);
    assert.equal(err.value, MODELS.vgg16.url);
  });

  test('a refused connection is retried a bounded number of times', async () => {
    const { cacheDir } = setup();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let calls = 0;
    const counting = ((input: string | URL | Request, init?: RequestInit) => {
      calls++;
      return fetch(input, init);
    }) as typeof fetch;
    const err = await rejectsWith(
      pullModel('vgg16', {
        cacheDir,
        from: `http://127.0.0.1:${port}/x`,
        fetchImpl: counting,
        attempts: 3,
        retryDelayMs: 1,
      }),
      'NETWORK',
    );
    assert.equal(calls, 3);
    assert.match(err.message, /ECONNREFUSED/);
  });

  test('a stalled connection times out and resumes', async () => {
    const { opts } = setup((req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-length': FILE.length });
        res.write(FILE.subarray(0, 100_000)); // then nothing, with the socket left open
        return;
      }
      serveFile(req, res);
    });
    const r = await pullModel('vgg16', { ...opts, idleTimeoutMs: 200 });
    assert.equal(seen.length, 2);
    assert.match(seen[1].range ?? '', /^bytes=\d+-$/);
    assert.equal(r.sha256, SHA);
  });

  test('cancelling keeps the part for the next run', async () => {
    const { cacheDir, opts } = setup((_req, res) => {
      res.writeHead(200, { 'content-length': FILE.length });
      res.write(FILE.subarray(0, 200_000));
    });
    const ac = new AbortController();
    const err = await rejectsWith(
      pullModel('vgg16', {
        ...opts,
        signal: ac.signal,
        onProgress: (e) => {
          if (e.done >= 200_000) ac.abort();
        },
      }),
      'ABORTED',
    );
    assert.match(err.suggestion ?? err.message, /resume/);
    assert.ok(existsSync(`${cachedPath(cacheDir)}.part`));
    assert.ok(!existsSync(`${cachedPath(cacheDir)}.lock`));
  });

  test('bad arguments', async () => {
    const { cacheDir } = setup();
    const unknown = await rejectsWith(pullModel('vgg19', { cacheDir }), 'INVALID_ARGUMENT');
    assert.match(unknown.message, /unknown model 'vgg19': must be one of \[vgg16\]/);
    const sha = await rejectsWith(pullModel('vgg16', { cacheDir, sha256: 'abc' }), 'INVALID_ARGUMENT');
    assert.match(sha.message, /--sha256/);
    const from = await rejectsWith(
      pullModel('vgg16', { cacheDir, from: 'ftp://mirror/x' }),
      'INVALID_ARGUMENT',
    );
    assert.match(from.message, /--from/);
    assert.equal(seen.length, 0);
    assert.equal(findCachedModel('vgg16', cacheDir), undefined);
    assert.equal(findCachedModel('color', cacheDir), undefined);
  });
});
