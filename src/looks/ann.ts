/**
 * The approximate nearest-neighbour index for big collections: an HNSW graph
 * (usearch, prebuilt binaries) over the normalised feature rows, cosine metric,
 * keyed by row number. Stored at `<atlas>/looks/index/<model>-<normalize>/`
 * (`index.usearch` + `index.json`); rebuilt whenever the features change (row count,
 * dimension or the feature manifest's `updatedAt` differ from what the index records).
 * Recall@10 against the exact search is measured by `npm run bench:looks`.
 */
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Index, MetricKind, ScalarKind } from 'usearch';
import type { Atlas } from '../atlas/atlas.js';
import { readJsonFile, writeAtomicViaSync, writeJsonAtomic } from '../atlas/files.js';
import { indexDir } from '../atlas/paths.js';
import { AtlasError, describeError, throwIfAborted } from '../errors.js';
import type { StageOptions } from '../types.js';
import type { LookVectors } from './vectors.js';

export interface AnnParams {
  /** HNSW graph degree. Default 32. */
  connectivity: number;
  /** Candidate list while building. Default 200. */
  expansionAdd: number;
  /** Candidate list while searching (≥ k). Default 128. */
  expansionSearch: number;
}

export const DEFAULT_ANN: AnnParams = { connectivity: 32, expansionAdd: 200, expansionSearch: 128 };

interface AnnMeta extends AnnParams {
  version: 1;
  model: string;
  normalize: string;
  rows: number;
  dim: number;
  featuresUpdatedAt: string;
  builtAt: string;
  seconds: number;
}

export interface AnnIndex {
  readonly rows: number;
  readonly built: boolean;
  readonly seconds: number;
  readonly path: string;
  /** k nearest rows of each query (m × dim, normalised), nearest first; distances are cosine distances. */
  search(queries: Float32Array, m: number, k: number): { indices: Int32Array; distances: Float32Array };
}

function newIndex(dim: number, p: AnnParams): Index {
  return new Index({
    dimensions: dim,
    metric: MetricKind.Cos,
    quantization: ScalarKind.F32,
    connectivity: p.connectivity,
    expansion_add: p.expansionAdd,
    expansion_search: p.expansionSearch,
    multi: false,
  });
}

export function annDir(atlas: Atlas, vectors: LookVectors): string {
  return indexDir(atlas.paths, vectors.model, vectors.normalize);
}

/** Opens the stored index for these vectors, building (or rebuilding) it when missing or stale. */
export async function openAnnIndex(
  atlas: Atlas,
  vectors: LookVectors,
  options: StageOptions & Partial<AnnParams> & { rebuild?: boolean } = {},
): Promise<AnnIndex> {
  const params: AnnParams = {
    connectivity: options.connectivity ?? DEFAULT_ANN.connectivity,
    expansionAdd: options.expansionAdd ?? DEFAULT_ANN.expansionAdd,
    expansionSearch: options.expansionSearch ?? DEFAULT_ANN.expansionSearch,
  };
  const dir = annDir(atlas, vectors);
  const metaPath = join(dir, 'index.json');
  const path = join(dir, 'index.usearch');
  const fm = vectors.reader.manifest;
  let meta: AnnMeta | undefined;
  if (!options.rebuild && existsSync(metaPath) && existsSync(path)) meta = readJsonFile<AnnMeta>(metaPath);
  const fresh =
    meta !== undefined &&
    meta.rows === vectors.rows &&
    meta.dim === vectors.dim &&
    meta.featuresUpdatedAt === fm.updatedAt &&
    meta.connectivity === params.connectivity &&
    meta.expansionAdd === params.expansionAdd;
  let index: Index;
  let built = false;
  let seconds = meta?.seconds ?? 0;
  if (fresh) {
    index = newIndex(vectors.dim, params);
    try {
      index.load(path);
    } catch (cause) {
      throw new AtlasError('ATLAS', `the similarity index ${path} is unreadable: ${describeError(cause)}`, {
        value: path,
        suggestion: 'delete it; it is rebuilt on the next search',
        cause,
      });
    }
  } else {
    const started = performance.now();
    index = newIndex(vectors.dim, params);
    const block = Math.max(256, Math.floor((16 << 20) / vectors.dim));
    const stage = `index ${vectors.model}`;
    options.onProgress?.({ stage, done: 0, total: vectors.rows });
    for (let s = 0; s < vectors.rows; s += block) {
      throwIfAborted(options.signal);
      const c = Math.min(block, vectors.rows - s);
      const keys = new BigUint64Array(c);
      for (let i = 0; i < c; i++) keys[i] = BigInt(s + i);
      index.add(keys, vectors.readRows(s, c), availableParallelism());
      options.onProgress?.({ stage, done: s + c, total: vectors.rows });
    }
    seconds = (performance.now() - started) / 1000;
    writeAtomicViaSync(path, (tmp) => index.save(tmp));
    const m: AnnMeta = {
      version: 1,
      model: vectors.model,
      normalize: vectors.normalize,
      rows: vectors.rows,
      dim: vectors.dim,
      featuresUpdatedAt: fm.updatedAt,
      builtAt: new Date().toISOString(),
      seconds,
      ...params,
    };
    writeJsonAtomic(metaPath, m);
    built = true;
  }
  return {
    rows: vectors.rows,
    built,
    seconds,
    path,
    search(queries, m, k) {
      const kk = Math.min(k, vectors.rows);
      const indices = new Int32Array(m * kk).fill(-1);
      const distances = new Float32Array(m * kk).fill(Infinity);
      if (m === 0 || kk === 0) return { indices, distances };
      const r = index.search(queries.subarray(0, m * vectors.dim), kk, availableParallelism()) as unknown as {
        keys: BigUint64Array;
        distances: Float32Array;
        counts?: BigUint64Array;
      };
      for (let q = 0; q < m; q++) {
        const found = r.counts ? Number(r.counts[q]) : r.keys.length;
        for (let j = 0; j < Math.min(found, kk); j++) {
          indices[q * kk + j] = Number(r.keys[q * kk + j]);
          distances[q * kk + j] = r.distances[q * kk + j];
        }
      }
      return { indices, distances };
    },
  };
}

/** Removes a stored index (tests, `--rebuild`). */
export function removeAnnIndex(atlas: Atlas, vectors: LookVectors): void {
  rmSync(annDir(atlas, vectors), { recursive: true, force: true });
}
