import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Atlas } from '../atlas/atlas.js';
import { writeJsonAtomic } from '../atlas/files.js';
import { featureDir, isArtefactName } from '../atlas/paths.js';
import { takePidLock } from '../store/lock.js';
import { AtlasError } from '../errors.js';

/** What a feature matrix is and how it was made (features/<model>/manifest.json). */
export interface FeatureManifest {
  version: 1;
  model: string;
  dim: number;
  rows: number;
  dtype: 'float32';
  /** Row-major little-endian float32, rows × dim. */
  matrix: 'matrix.f32';
  /** Little-endian uint32 still id of each row. */
  ids: 'ids.u32';
  preprocess: string;
  weightsSha256?: string;
  details?: Record<string, string | number>;
  createdAt: string;
  updatedAt: string;
}

export interface FeatureIdentity {
  model: string;
  dim: number;
  preprocess: string;
  weightsSha256?: string;
  details?: Record<string, string | number>;
}

function readManifest(dir: string): FeatureManifest | undefined {
  const p = join(dir, 'manifest.json');
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as FeatureManifest;
  } catch (cause) {
    throw new AtlasError('ATLAS', `feature manifest ${p} is unreadable`, { value: p, cause });
  }
}

function writeManifest(dir: string, m: FeatureManifest): void {
  writeJsonAtomic(join(dir, 'manifest.json'), m);
}

/** Describes how two feature identities differ, or undefined when they match. */
function identityChange(m: FeatureManifest, id: FeatureIdentity): string | undefined {
  if (m.dim !== id.dim) return `feature dimension changed (${m.dim} → ${id.dim})`;
  if (m.preprocess !== id.preprocess) return `preprocessing changed ('${m.preprocess}' → '${id.preprocess}')`;
  if ((m.weightsSha256 ?? '') !== (id.weightsSha256 ?? '')) {
    return `weights changed (${(m.weightsSha256 ?? 'none').slice(0, 12)} → ${(id.weightsSha256 ?? 'none').slice(0, 12)})`;
  }
  // Rows from two layers of one network are different features, even at one width.
  const before = m.details?.layer;
  const after = id.details?.layer;
  if (before !== undefined && after !== undefined && before !== after)
    return `layer changed ('${before}' → '${after}')`;
  // int8 and float32 rows of one network are not interchangeable either.
  const was = m.details?.precision ?? 'fp32';
  const now = id.details?.precision ?? 'fp32';
  if (was !== now) return `precision changed ('${was}' → '${now}')`;
  return undefined;
}

/**
 * An append-only feature matrix on disk. Rows are appended to matrix.f32 and
 * ids.u32 first and counted in the manifest after; on open, anything past the
 * manifest's count (a crash between the two) is cut off, so the three files always
 * agree. One writer at a time per feature set (a lock file with the writer's pid).
 */
export class FeatureWriter {
  readonly dir: string;
  private manifest: FeatureManifest;
  private readonly matrixFd: number;
  private readonly idsFd: number;
  private readonly lockPath: string;
  private closed = false;

  private constructor(dir: string, manifest: FeatureManifest, lockPath: string) {
    this.dir = dir;
    this.manifest = manifest;
    this.lockPath = lockPath;
    this.matrixFd = openSync(join(dir, manifest.matrix), 'a+');
    this.idsFd = openSync(join(dir, manifest.ids), 'a+');
    // Cut rows a crash left past the manifest's count.
    const rowBytes = manifest.dim * 4;
    if (fstatSync(this.matrixFd).size !== manifest.rows * rowBytes)
      ftruncateSync(this.matrixFd, manifest.rows * rowBytes);
    if (fstatSync(this.idsFd).size !== manifest.rows * 4) ftruncateSync(this.idsFd, manifest.rows * 4);
  }

  /**
   * Opens (or creates) the feature set for appending. If it exists and was made
   * differently (dimension, preprocessing, weights) this fails unless `redo`,
   * which starts it afresh.
   */
  static open(atlas: Atlas, identity: FeatureIdentity, options: { redo?: boolean } = {}): FeatureWriter {
    const dir = featureDir(atlas.paths, identity.model);
    mkdirSync(dir, { recursive: true });
    const lockPath = join(dir, 'lock');
    takePidLock(
      lockPath,
      (pid) =>
        new AtlasError(
          'STATE',
          `another process (pid ${pid}) is embedding '${identity.model}' into this atlas`,
          {
            value: lockPath,
            suggestion: 'wait for it to finish',
          },
        ),
    );
    try {
      let m = readManifest(dir);
      if (m && options.redo) {
        rmSync(join(dir, m.matrix), { force: true });
        rmSync(join(dir, m.ids), { force: true });
        m = undefined;
      }
      if (m) {
        const change = identityChange(m, identity);
        if (change) {
          throw new AtlasError(
            'STATE',
            `features '${identity.model}' in this atlas were made differently: ${change}`,
            {
              value: identity.model,
              suggestion: 'add --redo to recompute them all, or export the old ones first',
            },
          );
        }
      } else {
        const now = new Date().toISOString();
        rmSync(join(dir, 'matrix.f32'), { force: true });
        rmSync(join(dir, 'ids.u32'), { force: true });
        m = {
          version: 1,
          model: identity.model,
          dim: identity.dim,
          rows: 0,
          dtype: 'float32',
          matrix: 'matrix.f32',
          ids: 'ids.u32',
          preprocess: identity.preprocess,
          weightsSha256: identity.weightsSha256,
          details: identity.details,
          createdAt: now,
          updatedAt: now,
        };
        writeManifest(dir, m);
      }
      return new FeatureWriter(dir, m, lockPath);
    } catch (err) {
      rmSync(lockPath, { force: true });
      throw err;
    }
  }

  get rows(): number {
    return this.manifest.rows;
  }

  get dim(): number {
    return this.manifest.dim;
  }

  /** Still ids already embedded. */
  stillIds(): Set<number> {
    return new Set(readIds(this.dir, this.manifest));
  }

  /** Appends `ids.length` rows from `data` (row-major) and makes them durable in the manifest. */
  append(ids: readonly number[], data: Float32Array): void {
    const dim = this.manifest.dim;
    if (data.length !== ids.length * dim) {
      throw new AtlasError(
        'STATE',
        `feature dimension changed mid-run (${dim} → ${data.length / Math.max(1, ids.length)})`,
      );
    }
    if (ids.length === 0) return;
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    writeAll(this.matrixFd, bytes);
    writeAll(this.idsFd, Buffer.from(Uint32Array.from(ids).buffer));
    this.manifest = {
      ...this.manifest,
      rows: this.manifest.rows + ids.length,
      updatedAt: new Date().toISOString(),
    };
    writeManifest(this.dir, this.manifest);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.matrixFd);
    closeSync(this.idsFd);
    rmSync(this.lockPath, { force: true });
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

function readIds(dir: string, m: FeatureManifest): Uint32Array {
  const ids = new Uint32Array(m.rows);
  if (m.rows === 0) return ids;
  const fd = openSync(join(dir, m.ids), 'r');
  try {
    readSync(fd, Buffer.from(ids.buffer), 0, m.rows * 4, 0);
  } finally {
    closeSync(fd);
  }
  return ids;
}

/** Read access to a stored feature matrix, a block of rows at a time. */
export class FeatureReader {
  readonly manifest: FeatureManifest;
  readonly dir: string;
  readonly stillIds: Uint32Array;

  private constructor(dir: string, manifest: FeatureManifest) {
    this.dir = dir;
    this.manifest = manifest;
    this.stillIds = readIds(dir, manifest);
  }

  static open(atlas: Atlas, model: string): FeatureReader {
    const dir = featureDir(atlas.paths, model);
    const m = readManifest(dir);
    if (!m || m.rows === 0) {
      throw new AtlasError('NOT_FOUND', `no '${model}' features in ${atlas.paths.root}`, {
        value: model,
        suggestion: `compute them with \`filmatlas embed --atlas ${atlas.paths.root} --model ${model}\``,
      });
    }
    return new FeatureReader(dir, m);
  }

  /** Feature sets present in the atlas. */
  static list(atlas: Atlas): FeatureManifest[] {
    if (!existsSync(atlas.paths.features)) return [];
    const out: FeatureManifest[] = [];
    for (const name of readdirSafe(atlas.paths.features)) {
      if (!isArtefactName(name)) continue;
      const m = readManifest(featureDir(atlas.paths, name));
      if (m) out.push(m);
    }
    return out;
  }

  get rows(): number {
    return this.manifest.rows;
  }

  get dim(): number {
    return this.manifest.dim;
  }

  /** Rows [start, start + count) as one row-major Float32Array. */
  readRows(start: number, count: number): Float32Array {
    const out = new Float32Array(Math.max(0, count) * this.dim);
    this.readRowsInto(start, count, out);
    return out;
  }

  /** Rows [start, start+count) read straight into `out` (at least count × dim floats): no allocation per block. */
  readRowsInto(start: number, count: number, out: Float32Array): void {
    if (start < 0 || count < 0 || start + count > this.rows) {
      throw new RangeError(`rows ${start}..${start + count} out of range 0..${this.rows}`);
    }
    if (out.length < count * this.dim)
      throw new RangeError(`out holds ${out.length} floats, ${count} rows need ${count * this.dim}`);
    const fd = openSync(join(this.dir, this.manifest.matrix), 'r');
    try {
      const buf = Buffer.from(out.buffer, out.byteOffset, count * this.dim * 4);
      let off = 0;
      while (off < buf.length) {
        const n = readSync(fd, buf, off, buf.length - off, start * this.dim * 4 + off);
        if (n === 0)
          throw new AtlasError('ATLAS', `feature matrix ${this.dir} is shorter than its manifest says`);
        off += n;
      }
    } finally {
      closeSync(fd);
    }
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
