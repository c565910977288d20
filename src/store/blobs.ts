import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../atlas/files.js';
import { AtlasError } from '../errors.js';
import { S3BlobStore, type S3StoreOptions } from './s3.js';

/** Which collection a blob belongs to: originals as received, or standardised stills. */
export type BlobKind = 'originals' | 'stills';

/**
 * Content-addressed storage for originals and standardised stills. A key is the
 * sha256 of the bytes plus an extension; writing the same key twice is a no-op,
 * so concurrent or repeated runs cannot duplicate anything.
 */
export interface BlobStore {
  readonly url: string;
  has(kind: BlobKind, sha256: string, ext: string): Promise<boolean>;
  put(kind: BlobKind, sha256: string, ext: string, data: Uint8Array): Promise<void>;
  get(kind: BlobKind, sha256: string, ext: string): Promise<Buffer>;
  /** A local filesystem path for the blob, where the store has one. */
  localPath?(kind: BlobKind, sha256: string, ext: string): string;
  /** Clears leftovers of interrupted writes. */
  removeStaleTemp?(): Promise<number>;
}

/**
 * Blobs as files: `<root>/<kind>/<ab>/<abcdef…>.<ext>`, written to `<root>/.tmp/` first
 * and renamed into place, so a blob at its final path is always whole.
 */
export class LocalBlobStore implements BlobStore {
  readonly url: string;
  private madeTmpDir = false;

  constructor(readonly root: string) {
    this.url = `file:${root}`;
  }

  localPath(kind: BlobKind, sha256: string, ext: string): string {
    return join(this.root, kind, sha256.slice(0, 2), `${sha256}.${ext}`);
  }

  // Small blobs on a local disk: synchronous calls cost a few microseconds each on the
  // page cache, while their async forms queue behind sharp on libuv's 4-thread pool
  // (an ingest of small stills spends less time waiting on the pool this way).
  async has(kind: BlobKind, sha256: string, ext: string): Promise<boolean> {
    return existsSync(this.localPath(kind, sha256, ext));
  }

  async put(kind: BlobKind, sha256: string, ext: string, data: Uint8Array): Promise<void> {
    const path = this.localPath(kind, sha256, ext);
    if (existsSync(path)) return;
    const tmpDir = join(this.root, '.tmp');
    if (!this.madeTmpDir) {
      mkdirSync(tmpDir, { recursive: true });
      this.madeTmpDir = true;
    }
    // The temporary file goes to .tmp/, named by our pid, so removeStaleTemp can clear those of killed writers.
    writeAtomic(path, data, { tmp: join(tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}`) });
  }

  get(kind: BlobKind, sha256: string, ext: string): Promise<Buffer> {
    return readFile(this.localPath(kind, sha256, ext));
  }

  /**
   * Removes temp files left by writers that died (kill -9, power loss). Files of
   * live processes are kept, so this is safe while another process writes.
   */
  async removeStaleTemp(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(join(this.root, '.tmp'));
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const pid = Number(name.split('-')[0]);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
      await unlink(join(this.root, '.tmp', name)).catch(() => undefined);
      removed++;
    }
    return removed;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Originals in one store, standardised stills in another (e.g. originals in S3, stills on local disk). */
export class RoutedBlobStore implements BlobStore {
  readonly url: string;

  constructor(private readonly stores: Record<BlobKind, BlobStore>) {
    this.url = stores.originals.url;
  }

  has(kind: BlobKind, sha256: string, ext: string): Promise<boolean> {
    return this.stores[kind].has(kind, sha256, ext);
  }

  put(kind: BlobKind, sha256: string, ext: string, data: Uint8Array): Promise<void> {
    return this.stores[kind].put(kind, sha256, ext, data);
  }

  get(kind: BlobKind, sha256: string, ext: string): Promise<Buffer> {
    return this.stores[kind].get(kind, sha256, ext);
  }

  async removeStaleTemp(): Promise<number> {
    let n = 0;
    for (const s of new Set(Object.values(this.stores))) n += (await s.removeStaleTemp?.()) ?? 0;
    return n;
  }
}

/**
 * The blob store a URL names: `s3://bucket/prefix` (S3 or, with `endpoint`, an
 * S3-compatible server) or `file:DIR` (local files).
 */
export function openBlobStore(url: string, options: S3StoreOptions = {}): BlobStore {
  if (url.startsWith('s3://')) return new S3BlobStore(url, options);
  if (url.startsWith('file:') && url.length > 5) return new LocalBlobStore(url.slice(5));
  throw new AtlasError(
    'INVALID_ARGUMENT',
    `expected s3://bucket/prefix or file:DIR for --store but got '${url}'`,
    { value: url },
  );
}
