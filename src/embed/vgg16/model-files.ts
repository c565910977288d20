/**
 * Files the VGG-16 embedder keeps in the model cache: weights hashes, and per weights
 * file a folder holding the ONNX graphs built for it next to the weights' bytes.
 *
 * ONNX Runtime reads external data only from the model's own folder (it refuses
 * absolute paths, `..` and symlinks that lead out of it), so the weights are hard-linked
 * into that folder — no copy, no extra disk — and copied only where a hard link cannot
 * be made (another filesystem). Every file is written to a temporary name and renamed,
 * so a crash or a concurrent run never leaves a half-written file under a real name.
 */
import { createHash } from 'node:crypto';
import { createReadStream, copyFileSync, linkSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, writeAtomic, writeAtomicViaSync } from '../../atlas/files.js';

/** What we remember of a hashed file, so an unchanged file is not hashed again. */
interface HashRecord {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/** The record `filmatlas models pull` writes beside a downloaded file (`<file>.json`). */
interface PullRecord {
  sha256?: unknown;
  bytes?: unknown;
}

/**
 * sha256 of a weights file (lower-case hex), streamed. The result is remembered in
 * `<cache>/hashes/` keyed by the file's real path, size, mtime and inode, so the 528 MB
 * file is hashed once, not every run. A file `filmatlas models pull` downloaded is not
 * hashed at all: its pull record (written after the verified download) is trusted while
 * the size matches and the file is not newer than the record.
 */
export async function weightsSha256(path: string, cacheRoot: string): Promise<string> {
  const st = statSync(path);
  const real = realpathSync(path);
  const recordPath = join(
    cacheRoot,
    'hashes',
    `${createHash('sha256').update(real).digest('hex').slice(0, 32)}.json`,
  );
  const rec = readJsonFile<HashRecord>(recordPath);
  if (
    rec &&
    rec.path === real &&
    rec.size === st.size &&
    rec.mtimeMs === st.mtimeMs &&
    rec.ino === st.ino &&
    /^[0-9a-f]{64}$/.test(rec.sha256)
  ) {
    return rec.sha256;
  }
  let sha256: string | undefined;
  const pulled = readJsonFile<PullRecord>(`${path}.json`);
  if (
    pulled &&
    typeof pulled.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(pulled.sha256) &&
    pulled.bytes === st.size
  ) {
    try {
      if (statSync(`${path}.json`).mtimeMs >= st.mtimeMs) sha256 = pulled.sha256;
    } catch {
      sha256 = undefined;
    }
  }
  if (!sha256) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 }))
      hash.update(chunk as Buffer);
    sha256 = hash.digest('hex');
  }
  try {
    mkdirSync(join(cacheRoot, 'hashes'), { recursive: true });
    const record: HashRecord = { path: real, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256 };
    writeAtomic(recordPath, JSON.stringify(record) + '\n');
  } catch {
    // A read-only cache only costs a re-hash next time.
  }
  return sha256;
}

/** A file placed in a model folder, with what identifies its content there. */
export interface PlacedFile {
  /** Name inside the folder. */
  name: string;
  mode: 'link' | 'copy';
  size: number;
  mtimeMs: number;
}

/**
 * Puts `src` into `dir` as `name`: a hard link where the filesystem allows, else a copy.
 * Either way atomically (linked or copied to a temporary name, then renamed).
 */
export function placeFile(src: string, dir: string, name: string): PlacedFile {
  const dest = join(dir, name);
  const mode = writeAtomicViaSync(dest, (tmp): PlacedFile['mode'] => {
    try {
      linkSync(src, tmp);
      return 'link';
    } catch {
      // EXDEV (another filesystem), EPERM (protected hard links), or no link support.
      copyFileSync(src, tmp);
      return 'copy';
    }
  });
  const st = statSync(dest);
  return { name, mode, size: st.size, mtimeMs: st.mtimeMs };
}

/**
 * Whether a placed file is still what it was: present with the same size and mtime. A
 * hard link shares its inode with the user's file, so a change made to that file in
 * place shows here too and makes us place it again.
 */
export function placedFileValid(dir: string, f: PlacedFile): boolean {
  try {
    const st = statSync(join(dir, f.name));
    return st.size === f.size && st.mtimeMs === f.mtimeMs;
  } catch {
    return false;
  }
}

/** A file-name-safe form of any string (a layer name may hold '/', ':' …), unique by a short hash. */
export function safeName(s: string): string {
  const plain = s.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 48);
  return plain === s ? s : `${plain}-${createHash('sha256').update(s).digest('hex').slice(0, 8)}`;
}
