import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import type { Atlas } from '../atlas/atlas.js';
import type { StillRow, StillUpdate } from '../catalog/catalog.js';
import { recordRun } from '../catalog/runs.js';
import { AtlasError, describeError, invalidArgument } from '../errors.js';
import { nativeJpegAvailable } from '../imaging/native-jpeg.js';
import { configureSharp, standardiseImage, type StandardiseOptions } from '../imaging/standardise.js';
import type { StageOptions } from '../types.js';
import { scanSources } from './scan.js';
import { checkInt } from '../validate.js';

export interface StandardiseStillsOptions extends StageOptions {
  /** Stills processed at once. Default 2 × CPU cores; 1–256. sharp runs them on libuv's threadpool. */
  concurrency?: number;
  standardise?: StandardiseOptions;
}

export interface StandardiseResult {
  processed: number;
  ready: number;
  rejected: number;
  seconds: number;
  /** Whether JPEGs went through the native libjpeg-turbo path (else sharp alone decoded everything). */
  nativeJpeg: boolean;
}

export type IngestOptions = StandardiseStillsOptions;

export interface IngestResult extends StandardiseResult {
  movies: number;
  /** Stills the sources hold. */
  found: number;
  /** Of those, new to the atlas. */
  added: number;
  warnings: string[];
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Original's extension as stored: lower case, `.jpeg`/`.jpe` → `jpg`. */
function storedExtension(source: string): string {
  const e = extname(source).slice(1).toLowerCase();
  if (e === 'jpeg' || e === 'jpe') return 'jpg';
  return e.length > 0 && /^[a-z0-9]{1,8}$/.test(e) ? e : 'bin';
}

/** The image format of some bytes by their magic number, as a stored extension; undefined if not recognised. */
export function sniffImageExtension(data: Uint8Array): string | undefined {
  const b = data;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'gif';
  if (
    b.length >= 12 &&
    String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' &&
    String.fromCharCode(...b.subarray(8, 12)) === 'WEBP'
  ) {
    return 'webp';
  }
  if (
    b.length >= 4 &&
    ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a) || (b[0] === 0x4d && b[1] === 0x4d && b[3] === 0x2a))
  ) {
    return 'tif';
  }
  if (b.length >= 12 && String.fromCharCode(...b.subarray(4, 8)) === 'ftyp') {
    const brand = String.fromCharCode(...b.subarray(8, 12));
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (/^(heic|heix|hevc|mif1|msf1)$/.test(brand)) return 'heic';
  }
  return undefined;
}

/**
 * Adds a still whose bytes the caller holds (a downloaded image, a video frame): the
 * original goes into the blob store and the still is registered as pending, so
 * `standardiseStills` standardises it like any other. `source` is its URL or
 * `file#t=…`; its extension comes from the bytes, else from `source`.
 */
export async function addOriginalStill(
  atlas: Atlas,
  movieId: number,
  ordinal: number,
  source: string,
  data: Uint8Array,
): Promise<{ id: number; added: boolean; sha256: string }> {
  const originalSha256 = sha256(data);
  let ext = sniffImageExtension(data);
  if (!ext) {
    let path = source;
    try {
      path = new URL(source).pathname;
    } catch {
      // a file path, not a URL
    }
    ext = storedExtension(path.split('#')[0]);
  }
  await atlas.store.put('originals', originalSha256, ext, data);
  const r = await atlas.catalog.addStoredStill(movieId, ordinal, source, {
    sha256: originalSha256,
    ext,
    bytes: data.length,
  });
  return { ...r, sha256: originalSha256 };
}

function checkConcurrency(n: number | undefined): number {
  const v = n ?? Math.max(2, availableParallelism() * 2);
  checkInt('--concurrency', v, 1, 256);
  return v;
}

/** Registers the movies and stills the sources hold (pending until standardised). */
export async function registerSources(
  atlas: Atlas,
  sources: readonly string[],
): Promise<{ movies: number; found: number; added: number; warnings: string[] }> {
  const plan = await scanSources(sources);
  const { added } = await atlas.catalog.registerMovies(
    plan.movies.map((m) => ({ spec: m.spec, sources: m.files })),
  );
  const found = plan.movies.reduce((n, m) => n + m.files.length, 0);
  return { movies: plan.movies.length, found, added, warnings: plan.warnings };
}

/** Reads, copies (content-addressed) and standardises one still; never throws for bad input. */
async function processStill(
  atlas: Atlas,
  still: StillRow,
  options: StandardiseOptions,
): Promise<StillUpdate> {
  let original: Buffer;
  let ext = storedExtension(still.source);
  // A still already copied in is re-read from the atlas, so re-standardising does not need the source any more.
  if (
    still.originalSha256 &&
    still.originalExt &&
    (await atlas.store.has('originals', still.originalSha256, still.originalExt))
  ) {
    original = await atlas.store.get('originals', still.originalSha256, still.originalExt);
    ext = still.originalExt;
  } else {
    try {
      // One synchronous read: Node's async readFile is four trips through libuv's pool
      // (open, stat, read, close), each a thread wake-up that costs more than reading a
      // still from the page cache; sharp keeps decoding the stills in flight meanwhile.
      original = readFileSync(still.source);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return {
        id: still.id,
        status: 'rejected',
        errorCode: 'IO',
        error: code === 'ENOENT' ? 'file not found' : `cannot read file: ${describeError(err)}`,
      };
    }
  }
  const originalSha256 = sha256(original);
  try {
    const std = await standardiseImage(original, options);
    const stdSha256 = sha256(std.png);
    await atlas.store.put('originals', originalSha256, ext, original);
    await atlas.store.put('stills', stdSha256, 'png', std.png);
    return {
      id: still.id,
      status: 'ready',
      originalSha256,
      originalExt: ext,
      originalBytes: original.length,
      originalFormat: std.format,
      width: std.width,
      height: std.height,
      stdSha256,
    };
  } catch (err) {
    if (err instanceof AtlasError && err.code === 'BAD_IMAGE') {
      return {
        id: still.id,
        status: 'rejected',
        errorCode: err.code,
        error: err.message,
        originalSha256,
        originalExt: ext,
        originalBytes: original.length,
      };
    }
    // Disk full, permissions on the atlas, ...: the run cannot usefully go on.
    throw err;
  }
}

/**
 * Standardises every pending still of the atlas to 224×126 PNG. Results are
 * written back in small transactions as they come, so an interrupted run loses
 * at most the stills in flight and a re-run picks up the rest.
 */
export async function standardiseStills(
  atlas: Atlas,
  options: StandardiseStillsOptions = {},
): Promise<StandardiseResult> {
  const concurrency = checkConcurrency(options.concurrency);
  const started = performance.now();
  // Parallelism comes from many stills in flight, one libvips thread each.
  configureSharp();
  await atlas.store.removeStaleTemp?.();
  const pending = await atlas.catalog.pendingStills();
  const total = pending.length;
  const result: StandardiseResult = {
    processed: 0,
    ready: 0,
    rejected: 0,
    seconds: 0,
    nativeJpeg: nativeJpegAvailable(),
  };
  let buffer: StillUpdate[] = [];
  let lastFlush = performance.now();
  const flush = async (): Promise<void> => {
    const batch = buffer;
    buffer = [];
    lastFlush = performance.now();
    await atlas.catalog.applyUpdates(batch);
  };
  let next = 0;
  let fatal: unknown;
  const worker = async (): Promise<void> => {
    while (next < total && fatal === undefined && !options.signal?.aborted) {
      const still = pending[next++];
      let update: StillUpdate;
      try {
        update = await processStill(atlas, still, options.standardise ?? {});
      } catch (err) {
        fatal ??= err;
        return;
      }
      buffer.push(update);
      result.processed++;
      if (update.status === 'ready') result.ready++;
      else result.rejected++;
      if (buffer.length >= 256 || performance.now() - lastFlush > 500) await flush();
      options.onProgress?.({ stage: 'standardise', done: result.processed, total, failed: result.rejected });
    }
  };
  options.onProgress?.({ stage: 'standardise', done: 0, total, failed: 0 });
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(total, 1)) }, worker));
  await flush();
  result.seconds = (performance.now() - started) / 1000;
  if (fatal !== undefined) throw fatal;
  if (options.signal?.aborted) {
    throw new AtlasError(
      'ABORTED',
      `stopped after ${result.processed} of ${total} stills; run again to resume`,
    );
  }
  return result;
}

/** Registers what the sources hold, then standardises everything pending. */
export async function ingestStills(
  atlas: Atlas,
  sources: readonly string[],
  options: IngestOptions = {},
): Promise<IngestResult> {
  if (sources.length === 0) throw invalidArgument('SRC', 'at least one folder, file or manifest', '');
  return recordRun(atlas.catalog, 'ingest', { sources, standardise: options.standardise ?? {} }, async () => {
    const reg = await registerSources(atlas, sources);
    const std = await standardiseStills(atlas, options);
    return { ...reg, ...std };
  });
}
