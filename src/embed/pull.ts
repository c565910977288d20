import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readJsonFile, writeJsonAtomic } from '../atlas/files.js';
import { takePidLock } from '../store/lock.js';
import { AtlasError, describeError, invalidArgument, throwIfAborted, unknownChoice } from '../errors.js';
import type { ProgressCallback } from '../types.js';
import { modelCacheDir } from './cache.js';
import { checkInt } from '../validate.js';

/** A downloadable model file. */
export interface ModelFile {
  /** Where it is published. */
  url: string;
  /** File name in the model cache. */
  file: string;
  /** Published SHA-256 (lower-case hex) the download must match, when known. */
  sha256?: string;
  /** Published size in bytes, when known. */
  bytes?: number;
  description: string;
}

/**
 * Weights `filmatlas models pull NAME` can fetch.
 *
 * vgg16: torchvision's ImageNet VGG-16 weights as timm republished them on the Hugging
 * Face hub. The sha256 is the Git LFS object id the hub shows for that file
 * (https://huggingface.co/timm/vgg16.tv_in1k/blob/main/model.safetensors, "Git LFS
 * Details"; 553 MB). Its exact byte count was not published where we could read it, so
 * `bytes` is left out and the size comes from the server's headers.
 */
export const MODELS: Record<string, ModelFile> = {
  vgg16: {
    url: 'https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors',
    file: 'vgg16.tv_in1k.safetensors',
    sha256: '57b026918159a6bf9faf8405c3a551903768e7138989d9c6224a14227203fad8',
    description: 'VGG-16 ImageNet weights (torchvision, via timm/vgg16.tv_in1k), safetensors, 553 MB',
  },
};

/** How a finished download was checked. */
export type Verification =
  | 'pinned' // against a sha256 we know in advance (MODELS or --sha256)
  | 'server' // against the sha256 the server announced (Hugging Face's X-Linked-ETag)
  | 'none'; // nothing to check against: the file is unverified

export interface PullOptions {
  /** Download from this http(s) URL (a mirror) instead of the model's published URL. Default: the published URL. */
  from?: string;
  /** Model cache folder. Default: `modelCacheDir()` (`$XDG_CACHE_HOME/filmatlas/models` or `~/.cache/filmatlas/models`). */
  cacheDir?: string;
  /** Expected sha256 (64 hex digits); overrides the pinned one. Default: the pinned one, else the server's. */
  sha256?: string;
  onProgress?: ProgressCallback;
  /** Aborting keeps the partial file, so the next pull resumes it. */
  signal?: AbortSignal;
  /** Injected fetch (tests, proxies). Default: the global fetch. */
  fetchImpl?: typeof fetch;
  /** Attempts per pull on network errors, 5xx and 429 before giving up. Default 5, range 1–20. */
  attempts?: number;
  /** Wait before the first retry; doubles each retry, capped at 30 s. Default 1000 ms, range ≥ 0. */
  retryDelayMs?: number;
  /** Give up on (and retry) a connection that sends nothing for this long. Default 60,000 ms, range ≥ 1. */
  idleTimeoutMs?: number;
}

export interface PullResult {
  /** The cached file. */
  path: string;
  bytes: number;
  /** sha256 of the file (lower-case hex). */
  sha256: string;
  verified: Verification;
  /** Whether bytes from an earlier, interrupted attempt were kept. */
  resumed: boolean;
  /** The file was already in the cache; nothing was downloaded. */
  alreadyCached: boolean;
}

/** What we remember about a cached file (`<file>.json` beside it), so a cache hit needs no re-hash. */
interface CacheRecord {
  sha256: string;
  bytes: number;
  verified: Verification;
  url: string;
  downloadedAt: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const MAX_REDIRECTS = 10;

/** The cached weights of `name`, or undefined when not downloaded (or not a downloadable model). */
export function findCachedModel(name: string, cacheDir: string = modelCacheDir()): string | undefined {
  const model = Object.hasOwn(MODELS, name) ? MODELS[name] : undefined;
  if (!model) return undefined;
  const path = join(cacheDir, model.file);
  return existsSync(path) ? path : undefined;
}

/**
 * Downloads a model's weights into the cache: streamed to `<file>.part` while hashing,
 * resumed with an HTTP Range request when a part is there, retried with backoff on
 * network errors and 5xx, checked against the pinned sha256 (else the server's), then
 * renamed into place, so the cache never holds a partial or unverified-but-claimed file.
 */
export async function pullModel(name: string, opts: PullOptions = {}): Promise<PullResult> {
  if (!Object.hasOwn(MODELS, name)) throw unknownChoice('model', name, Object.keys(MODELS));
  const model = MODELS[name];
  const url = opts.from ?? model.url;
  checkUrl(url, opts.from === undefined ? 'the model URL' : '--from');
  let expected = model.sha256;
  if (opts.sha256 !== undefined) {
    const s = opts.sha256.trim().toLowerCase();
    if (!HEX64.test(s)) throw invalidArgument('--sha256', 'a sha256 of 64 hex digits', opts.sha256);
    expected = s;
  }
  const attempts = intOption('attempts', opts.attempts, 5, 1, 20);
  const retryDelayMs = intOption('retryDelayMs', opts.retryDelayMs, 1000, 0, 600_000);
  const idleTimeoutMs = intOption('idleTimeoutMs', opts.idleTimeoutMs, 60_000, 1, 3_600_000);

  const dir = opts.cacheDir ?? modelCacheDir();
  mkdirSync(dir, { recursive: true });
  const target = join(dir, model.file);
  const part = `${target}.part`;
  const recordPath = `${target}.json`;

  const cached = await checkCached(target, recordPath, expected, opts.signal);
  if (cached) return cached;

  throwIfAborted(opts.signal);
  const lockPath = `${target}.lock`;
  // One pull per model file at a time: a second process would interleave writes into the same part.
  takePidLock(
    lockPath,
    (pid) =>
      new AtlasError('STATE', `another process (pid ${pid}) is downloading the ${name} weights`, {
        value: lockPath,
        suggestion: 'wait for it to finish',
      }),
    { sameProcessHolds: true },
  );
  try {
    const dl = await download(name, url, part, {
      fetchImpl: opts.fetchImpl ?? fetch,
      attempts,
      retryDelayMs,
      idleTimeoutMs,
      signal: opts.signal,
      onProgress: opts.onProgress,
      weightsHint: target,
    });
    let verified: Verification = 'none';
    const want = expected ?? dl.serverSha256;
    if (want) {
      verified = expected ? 'pinned' : 'server';
      if (dl.sha256 !== want) {
        rmSync(part, { force: true });
        throw new AtlasError(
          'CHECKSUM',
          `the downloaded ${name} weights do not match their checksum: expected sha256 ${want} (${verified === 'pinned' ? 'pinned' : 'announced by the server'}) but got ${dl.sha256} (${dl.bytes} bytes); the download was deleted`,
          {
            value: url,
            suggestion:
              opts.from !== undefined
                ? 'the mirror serves a different file: check the --from URL, or pass --sha256 if it is a deliberately different file'
                : 'run the same command again to download it afresh; if it keeps failing, download the file another way and pass `--weights FILE`',
          },
        );
      }
    }
    // Not writeAtomic: the part file is the download's own temporary, kept across runs so an
    // interrupted pull resumes where it stopped (HTTP Range); once it is whole and verified it
    // is renamed into place, which is the same crash-safe step.
    renameSync(part, target);
    const record: CacheRecord = {
      sha256: dl.sha256,
      bytes: dl.bytes,
      verified,
      url,
      downloadedAt: new Date().toISOString(),
    };
    writeJsonAtomic(recordPath, record);
    return {
      path: target,
      bytes: dl.bytes,
      sha256: dl.sha256,
      verified,
      resumed: dl.resumed,
      alreadyCached: false,
    };
  } finally {
    rmSync(lockPath, { force: true });
  }
}

function checkUrl(url: string, what: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidArgument(what, 'an http(s) URL', url);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalidArgument(what, 'an http(s) URL', url);
}

function intOption(name: string, value: number | undefined, dflt: number, min: number, max: number): number {
  checkInt(name, value, min, max);
  return value ?? dflt;
}

/** A cache hit: the file is there and matches what is expected (re-hashed only when we have no record of it). */
async function checkCached(
  target: string,
  recordPath: string,
  expected: string | undefined,
  signal: AbortSignal | undefined,
): Promise<PullResult | undefined> {
  if (!existsSync(target)) return undefined;
  const size = statSync(target).size;
  // No record (a file put there by hand) or an unreadable one: hash the file.
  const r = readJsonFile<CacheRecord>(recordPath);
  let record = r && typeof r.sha256 === 'string' && HEX64.test(r.sha256) && r.bytes === size ? r : undefined;
  if (!record) {
    const sha256 = await hashFile(target, signal);
    record = { sha256, bytes: size, verified: 'none', url: '', downloadedAt: '' };
    writeJsonAtomic(recordPath, record);
  }
  if (expected && record.sha256 !== expected) {
    throw new AtlasError(
      'CHECKSUM',
      `the cached weights ${target} have sha256 ${record.sha256}, not the expected ${expected}`,
      {
        value: target,
        suggestion: `delete ${target} to download it again, or pass the file's own checksum with --sha256`,
      },
    );
  }
  const verified: Verification = expected ? 'pinned' : record.verified;
  return { path: target, bytes: size, sha256: record.sha256, verified, resumed: false, alreadyCached: true };
}

async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await hashInto(hash, path, signal);
  return hash.digest('hex');
}

async function hashInto(hash: Hash, path: string, signal?: AbortSignal): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal }))
    hash.update(chunk as Buffer);
}

interface DownloadContext {
  fetchImpl: typeof fetch;
  attempts: number;
  retryDelayMs: number;
  idleTimeoutMs: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Where the user could put the file by hand (named in the offline error). */
  weightsHint: string;
}

interface Downloaded {
  bytes: number;
  sha256: string;
  /** sha256 the server announced (X-Linked-ETag / ETag holding 64 hex digits), if any. */
  serverSha256?: string;
  resumed: boolean;
}

/** An error worth another attempt (connection dropped, 5xx, stalled, short body). */
class RetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/** Network errors that mean "no network here" rather than "the connection hiccupped". */
const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

async function download(name: string, url: string, part: string, ctx: DownloadContext): Promise<Downloaded> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= ctx.attempts; attempt++) {
    throwIfAborted(ctx.signal);
    try {
      return await attemptDownload(url, part, ctx);
    } catch (err) {
      if (ctx.signal?.aborted) {
        throw new AtlasError(
          'ABORTED',
          `the download of ${name} was cancelled; run the same command again to resume it`,
          {
            value: url,
            cause: err,
          },
        );
      }
      if (err instanceof AtlasError) throw err;
      lastError = err;
      const code = errorCode(err);
      const retryable =
        err instanceof RetryableError || (isNetworkError(err) && !(code && OFFLINE_CODES.has(code)));
      if (!retryable || attempt === ctx.attempts) break;
      // Bytes written so far stay in the part file; the next attempt resumes after them.
      const delay = Math.min(30_000, ctx.retryDelayMs * 2 ** (attempt - 1));
      try {
        await sleep(delay, undefined, { signal: ctx.signal });
      } catch {
        throwIfAborted(ctx.signal);
      }
    }
  }
  throw networkError(name, url, lastError, ctx.weightsHint);
}

function networkError(name: string, url: string, err: unknown, weightsHint: string): AtlasError {
  const detail = describeNetworkError(err);
  return new AtlasError('NETWORK', `could not download the ${name} weights from ${url}: ${detail}`, {
    value: url,
    suggestion:
      `without network access, give the weights another way: download ${url} on a machine that has it and ` +
      `pass \`--weights FILE\` (or copy it to ${weightsHint}), or pull from a reachable mirror with \`--from URL\``,
    cause: err,
  });
}

function describeNetworkError(err: unknown): string {
  const code = errorCode(err);
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
  const base = describeError(err);
  if (cause && !base.includes(cause)) return `${base} (${cause})`;
  if (code && !base.includes(code)) return `${base} (${code})`;
  return base;
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function isNetworkError(err: unknown): boolean {
  // undici reports connection failures as TypeError('fetch failed') and a body cut
  // mid-stream as TypeError('terminated'); both carry the socket error as their cause.
  if (err instanceof TypeError) return true;
  const code = errorCode(err);
  return code !== undefined && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code);
}

/** One HTTP exchange: request (resuming from the part's size), stream the body into the part. */
async function attemptDownload(url: string, part: string, ctx: DownloadContext): Promise<Downloaded> {
  let have = existsSync(part) ? statSync(part).size : 0;
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const kick = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () => idle.abort(new RetryableError(`no data for ${ctx.idleTimeoutMs} ms`)),
      ctx.idleTimeoutMs,
    );
  };
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, idle.signal]) : idle.signal;
  kick();
  try {
    const { response, serverSha256, linkedSize } = await request(url, have, ctx.fetchImpl, signal);
    const status = response.status;
    let total: number | undefined;
    let resumed = false;
    if (status === 206) {
      const range = parseContentRange(response.headers.get('content-range'));
      if (!range || range.start !== have) {
        await response.body?.cancel();
        rmSync(part, { force: true }); // the server answered a different range than asked: start over
        throw new RetryableError(
          `server answered range ${response.headers.get('content-range')} for bytes=${have}-`,
        );
      }
      total = range.total;
      resumed = true;
    } else if (status === 200) {
      have = 0; // no Range support (or a fresh download): whatever the part held is replaced
      const len = Number(response.headers.get('content-length'));
      total = Number.isFinite(len) && response.headers.get('content-length') !== null ? len : undefined;
    } else if (status === 416 && have > 0) {
      await response.body?.cancel();
      const range = parseContentRange(response.headers.get('content-range'));
      if (range?.total === have) {
        // The part already holds the whole file (we were interrupted before the rename).
        const hash = createHash('sha256');
        await hashInto(hash, part, ctx.signal);
        return { bytes: have, sha256: hash.digest('hex'), serverSha256, resumed: true };
      }
      rmSync(part, { force: true });
      throw new RetryableError(`server refused the range bytes=${have}- (416); starting over`);
    } else {
      await response.body?.cancel();
      const message = `HTTP ${status} ${response.statusText}`.trim();
      if (status >= 500 || status === 429 || status === 408) throw new RetryableError(message);
      throw new AtlasError('NETWORK', `could not download ${url}: ${message}`, {
        value: url,
        suggestion:
          status === 404
            ? 'the file is not at that URL: check the --from URL'
            : status === 401 || status === 403
              ? 'the server refused access to the file: check the URL, or download it another way and pass `--weights FILE`'
              : 'check the URL, or download the file another way and pass `--weights FILE`',
      });
    }
    total ??= linkedSize;
    if (!response.body) throw new RetryableError('the response had no body');

    const hash = createHash('sha256');
    if (have > 0) await hashInto(hash, part, ctx.signal);
    const fh: FileHandle = await open(part, have > 0 ? 'a' : 'w');
    let done = have;
    try {
      report(ctx, done, total);
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        kick();
        hash.update(chunk);
        await writeAll(fh, chunk);
        done += chunk.byteLength;
        report(ctx, done, total);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (total !== undefined && done !== total) {
      throw new RetryableError(`the connection ended after ${done} of ${total} bytes`);
    }
    return { bytes: done, sha256: hash.digest('hex'), serverSha256, resumed };
  } catch (err) {
    // An idle timeout surfaces as an AbortError whose reason is our RetryableError.
    if (idle.signal.aborted && !ctx.signal?.aborted) throw idle.signal.reason as RetryableError;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function report(ctx: DownloadContext, done: number, total: number | undefined): void {
  ctx.onProgress?.({ stage: 'pull', done, total: total ?? 0, note: 'downloading model weights' });
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
    off += bytesWritten;
  }
}

/**
 * GET with redirects followed by hand, so that headers of the hops are seen: the Hugging
 * Face hub answers the resolve URL with a redirect to its CDN that carries the file's
 * LFS sha256 (`X-Linked-ETag`) and size (`X-Linked-Size`), which the CDN answer lacks.
 */
async function request(
  url: string,
  have: number,
  fetchImpl: typeof fetch,
  signal: AbortSignal,
): Promise<{ response: Response; serverSha256?: string; linkedSize?: number }> {
  let serverSha256: string | undefined;
  let linkedSize: number | undefined;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = {
      // Byte offsets must be those of the file itself, never of a compressed encoding.
      'accept-encoding': 'identity',
      'user-agent': 'filmatlas',
    };
    if (have > 0) headers.range = `bytes=${have}-`;
    const response = await fetchImpl(current, { headers, redirect: 'manual', signal });
    serverSha256 ??= announcedSha256(response.headers);
    const size = Number(response.headers.get('x-linked-size'));
    if (
      linkedSize === undefined &&
      response.headers.get('x-linked-size') !== null &&
      Number.isSafeInteger(size)
    )
      linkedSize = size;
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current).toString();
      checkUrl(current, 'a redirect');
      continue;
    }
    return { response, serverSha256, linkedSize };
  }
  throw new AtlasError('NETWORK', `too many redirects fetching ${url}`, { value: url });
}

/** The sha256 a server announces for the file: X-Linked-ETag (Hugging Face LFS), else an ETag of 64 hex digits. */
function announcedSha256(headers: Headers): string | undefined {
  for (const h of ['x-linked-etag', 'etag']) {
    const v = headers.get(h);
    if (!v) continue;
    const s = v.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
    if (HEX64.test(s)) return s;
  }
  return undefined;
}

function parseContentRange(v: string | null): { start: number; end?: number; total?: number } | undefined {
  if (!v) return undefined;
  const m = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(v.trim());
  if (!m) return undefined;
  const total = m[3] === '*' ? undefined : Number(m[3]);
  if (m[1] === undefined) return { start: -1, total };
  return { start: Number(m[1]), end: Number(m[2]), total };
}
