/**
 * Crash-safe writes, one home for all of them. A file is written under a temporary
 * name beside its target and renamed over it, so a reader sees the old bytes or the
 * new ones, never a mix, and a crash leaves at most a stray temporary file. A
 * directory (a layout, a clustering, an index) is filled under a temporary name and
 * swapped in whole the same way.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A temporary name beside `path`, unique to this process and call (`<path>.tmp-<pid>-<hex>`). */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Whether a directory entry is one of our temporaries (`*.tmp-<pid>-…`, `*.old-<pid>-…`). */
export function isTempName(name: string): boolean {
  return /\.(tmp|old)-\d+(-[0-9a-f]+)?$/.test(name);
}

export interface WriteAtomicOptions {
  /**
   * The temporary file to write first. Default: a fresh name beside `path`
   * (`tempPathFor`). It must be on the filesystem of `path` (a rename cannot cross
   * filesystems): a store that sweeps its own temporary folder for leftovers of killed
   * writers (the blob store's `.tmp/`) names one there.
   */
  tmp?: string;
}

/**
 * Writes `data` to `path` through a temporary file and a rename (the parent directory
 * is made when missing). On any failure the temporary file is removed and the error
 * thrown; `path` keeps its old content.
 */
export function writeAtomic(path: string, data: Uint8Array | string, options: WriteAtomicOptions = {}): void {
  fillAndRenameSync(path, options.tmp ?? tempPathFor(path), (tmp) => writeFileSync(tmp, data));
}

/**
 * For writers that need a path rather than bytes (a streamed export, an index's own
 * `save`, a file written block by block): `fill` writes the temporary path it is
 * given, which is then renamed to `path`. On failure the temporary file is removed
 * and `path` keeps its old content.
 */
export async function writeAtomicVia<T>(path: string, fill: (tmp: string) => T | Promise<T>): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    const result = await fill(tmp);
    renameSync(tmp, path);
    return result;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** `writeAtomicVia` for a `fill` that does no asynchronous work. */
export function writeAtomicViaSync<T>(path: string, fill: (tmp: string) => T): T {
  return fillAndRenameSync(path, tempPathFor(path), fill);
}

function fillAndRenameSync<T>(path: string, tmp: string, fill: (tmp: string) => T): T {
  mkdirSync(dirname(path), { recursive: true });
  try {
    const result = fill(tmp);
    renameSync(tmp, path);
    return result;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** `writeAtomic` of a value as pretty JSON with a final newline. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Reads a JSON file, or undefined when it is missing or not valid JSON. */
export function readJsonFile<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * Runs `fill` on a fresh temporary directory beside `dir`, then swaps it in for `dir`
 * whole (the old one, if any, is renamed aside and removed after). A reader sees the
 * old directory or the new one; when `fill` throws, the temporary directory is removed
 * and `dir` is untouched. Stray temporaries of earlier crashed runs are left for
 * `isTempName` readers to skip.
 */
export async function replaceDir<T>(dir: string, fill: (tmp: string) => T | Promise<T>): Promise<T> {
  const tmp = makeTempDir(dir);
  let result: T;
  try {
    result = await fill(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  swapIn(tmp, dir);
  return result;
}

/** `replaceDir` for a `fill` that does no asynchronous work. */
export function replaceDirSync<T>(dir: string, fill: (tmp: string) => T): T {
  const tmp = makeTempDir(dir);
  let result: T;
  try {
    result = fill(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  swapIn(tmp, dir);
  return result;
}

function makeTempDir(dir: string): string {
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = tempPathFor(dir);
  mkdirSync(tmp);
  return tmp;
}

/** Renames the filled `tmp` over `dir`: the old one aside first, removed after. */
function swapIn(tmp: string, dir: string): void {
  const old = join(dirname(dir), `${basename(dir)}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}
