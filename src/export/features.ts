import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeAtomicVia } from '../atlas/files.js';
import { AtlasError, describeError, invalidArgument, throwIfAborted, unknownChoice } from '../errors.js';
import type { ProgressCallback } from '../types.js';
import { checkInt } from '../validate.js';

export { npyHeader } from './npy.js';

/** A feature matrix to export, read a block of rows at a time (it may not fit in memory). */
export interface FeatureSource {
  /** Embedder id, e.g. 'vgg16'. */
  name: string;
  rows: number;
  dim: number;
  /** Row i ↔ still id. */
  stillIds: Uint32Array;
  /** Row i ↔ movie label (e.g. 'Title (Year)'). */
  movies: string[];
  /** Rows [start, start + count) as one row-major block of count × dim. */
  readRows(start: number, count: number): Float32Array;
}

export type ExportFormat = 'npy' | 'hdf5' | 'parquet' | 'csv' | 'json';

/** One export format: its file extension, what it holds, and its writer. */
export interface ExportFormatEntry {
  extension: string;
  description: string;
  /**
   * Writes the source to `path` from `blocks` (`blockRows` rows each). Each writer's
   * module is imported on use, so h5wasm and parquet-wasm load only when asked for.
   */
  write(source: FeatureSource, path: string, blocks: Blocks, blockRows: number): Promise<void>;
}

/** The lookup table of export formats: a new format is one entry here. */
export const EXPORT_FORMATS: Record<ExportFormat, ExportFormatEntry> = {
  npy: {
    extension: '.npy',
    description:
      'NumPy array, rows × dim float32 (numpy.load); the matrix only, in row order: export csv or parquet for the still ids',
    write: async (source, path, blocks) => (await import('./npy.js')).writeNpy(source, path, blocks),
  },
  hdf5: {
    extension: '.h5',
    description:
      "HDF5 (h5py): 'mydataset' rows × dim float32 as the original analysis stored it, 'still_ids' uint32, 'movies' strings",
    write: async (source, path, blocks) => (await import('./hdf5.js')).writeHdf5(source, path, blocks),
  },
  parquet: {
    extension: '.parquet',
    description:
      'Parquet (pandas, polars, DuckDB): still_id uint32, movie string, vector fixed-size list of float32',
    write: async (source, path, blocks, blockRows) =>
      (await import('./parquet.js')).writeParquet(source, path, blocks, blockRows),
  },
  csv: {
    extension: '.csv',
    description: 'CSV: still_id, movie, f0 … f{dim-1}; floats written to read back as the same float32',
    write: async (source, path, blocks) => (await import('./text.js')).writeCsv(source, path, blocks),
  },
  json: {
    extension: '.json',
    description: 'JSON: {model, dim, rows: [{still_id, movie, vector: […]}]}',
    write: async (source, path, blocks) => (await import('./text.js')).writeJson(source, path, blocks),
  },
};

export interface ExportOptions {
  /**
   * Rows read and written per block; it bounds memory (and is the Parquet row-group size).
   * Default: as many rows as fit in 32 MiB of float32 (2,048 for 4,096-d), range ≥ 1.
   */
  blockRows?: number;
  onProgress?: ProgressCallback;
  /** Aborting stops at the next block and leaves no file behind. */
  signal?: AbortSignal;
}

export interface ExportResult {
  /** The written file (absolute). */
  path: string;
  format: ExportFormat;
  rows: number;
  dim: number;
  /** Size of the written file. */
  bytes: number;
}

/** One block of rows handed to a format writer. */
export interface Block {
  start: number;
  count: number;
  /** count × dim, row-major. */
  data: Float32Array;
}

/**
 * The blocks of a source in order. Reading the next block reports progress for the
 * one before (it has been written by then), checks for cancellation and yields to the
 * event loop, so a Ctrl-C handler gets to run even while a synchronous writer works.
 */
export type Blocks = AsyncIterable<Block>;

const BLOCK_BYTES = 32 * 1024 * 1024;

/** Rows per block for a dimension: ≈ 32 MiB of float32. */
export function defaultBlockRows(dim: number): number {
  return Math.max(1, Math.floor(BLOCK_BYTES / (Math.max(1, dim) * 4)));
}

/**
 * Writes a feature matrix with its still ids and movies to one file in `format`,
 * streaming blocks of rows so that no writer holds the whole matrix. The file is
 * written under a temporary name beside `outPath` and renamed into place at the end,
 * so `outPath` is either the complete export or untouched.
 */
export async function exportFeatures(
  source: FeatureSource,
  format: ExportFormat,
  outPath: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  if (!Object.hasOwn(EXPORT_FORMATS, format))
    throw unknownChoice('export format', String(format), Object.keys(EXPORT_FORMATS));
  checkSource(source);
  const blockRows = options.blockRows ?? defaultBlockRows(source.dim);
  checkInt('blockRows', blockRows, 1, Infinity);
  if (typeof outPath !== 'string' || outPath.length === 0)
    throw invalidArgument('--out', 'a file path', outPath);
  const path = resolve(outPath);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    isDir = false; // does not exist yet: the usual case
  }
  if (isDir) {
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `expected a file path for --out but got the folder '${outPath}'`,
      {
        value: outPath,
        suggestion: `name a file, e.g. ${join(outPath, `${source.name}${EXPORT_FORMATS[format].extension}`)}`,
      },
    );
  }
  throwIfAborted(options.signal);
  const blocks = readBlocks(source, blockRows, format, options);
  const write = async (tmp: string): Promise<void> => {
    await EXPORT_FORMATS[format].write(source, tmp, blocks, blockRows);
    throwIfAborted(options.signal);
  };
  try {
    await writeAtomicVia(path, write);
  } catch (err) {
    if (err instanceof AtlasError) throw err;
    if (options.signal?.aborted) throwIfAborted(options.signal);
    throw new AtlasError('IO', `could not write the ${format} export ${path}: ${describeError(err)}`, {
      value: path,
      suggestion: 'check that the folder is writable and the disk has room',
      cause: err,
    });
  }
  return { path, format, rows: source.rows, dim: source.dim, bytes: statSync(path).size };
}

function checkSource(s: FeatureSource): void {
  const bad = (what: string): AtlasError =>
    new AtlasError('STATE', `feature source '${s.name}' is inconsistent: ${what}`, { value: s.name });
  if (!Number.isSafeInteger(s.rows) || s.rows < 0) throw bad(`rows is ${s.rows}`);
  if (!Number.isSafeInteger(s.dim) || s.dim < 1) throw bad(`dim is ${s.dim}`);
  if (s.stillIds.length !== s.rows) throw bad(`${s.stillIds.length} still ids for ${s.rows} rows`);
  if (s.movies.length !== s.rows) throw bad(`${s.movies.length} movies for ${s.rows} rows`);
}

async function* readBlocks(
  source: FeatureSource,
  blockRows: number,
  format: ExportFormat,
  options: ExportOptions,
): AsyncGenerator<Block> {
  const { rows, dim } = source;
  const report = (done: number): void =>
    options.onProgress?.({ stage: 'export', done, total: rows, note: format });
  report(0);
  for (let start = 0; start < rows; start += blockRows) {
    throwIfAborted(options.signal);
    const count = Math.min(blockRows, rows - start);
    const data = source.readRows(start, count);
    if (data.length !== count * dim) {
      throw new AtlasError(
        'STATE',
        `feature source '${source.name}' returned ${data.length} values for rows ${start}..${start + count} (expected ${count} × ${dim})`,
        { value: source.name },
      );
    }
    yield { start, count, data };
    report(start + count);
    await new Promise<void>((r) => setImmediate(r));
  }
}
