/**
 * Read-only queries of the looks stage: they read what the atlas stores (features,
 * palettes, clusterings) and never write it, so the explorer's server can answer
 * them from a read-only atlas and the CLI commands can call the same code.
 *
 * Where the looks modules stand:
 * - read-only: this module (similar stills, exact, batched); `searchPalettes` in
 *   search.ts (colour top-k over a stored palette set); `medoids` and
 *   `summariseLabels` in cluster.ts; `similarMovies` in similar.ts given a stored
 *   palette set (or none); `compareMovies` in sequence.ts without a PNG;
 *   `readPaletteSet`, `readClusters`;
 * - compute and store: `computePalettes` (palette.ts), `clusterStills` (cluster.ts),
 *   `openAnnIndex` (ann.ts: builds the HNSW index when missing or stale), and the CLI-facing
 *   entry points that call them first: `searchColour` (palettes), `similarStills` with
 *   `method: 'approx'` (the index), `similarMovies` with `palettes: true`. `LookVectors.open`
 *   caches column statistics, skipping the write on a read-only atlas.
 */
import type { Atlas } from '../atlas/atlas.js';
import { AtlasError } from '../errors.js';
import { KnnIndex } from '../numeric/knn.js';
import { matrixSource, type StageOptions } from '../types.js';
import { DEFAULT_NORMALIZATION, LookVectors, type Normalization } from './vectors.js';

export interface StillNeighboursOptions {
  normalize?: Normalization;
  /**
   * Keep the whole normalised matrix in memory between queries (the explorer does).
   * Default: when it fits in 512 MB.
   */
  resident?: boolean;
  /** ONNX Runtime threads for the products. Default: all cores. */
  threads?: number;
}

/** A still near another, by cosine distance (1 − cosine similarity, 0…2) of normalised features. */
export interface NearStill {
  stillId: number;
  /** Row of the feature matrix. */
  row: number;
  distance: number;
}

/**
 * Exact cosine nearest neighbours over one feature set's normalised vectors
 * (vectors.ts: column normalisation, then unit length), by blocked products on ONNX
 * Runtime (numeric/knn.ts `KnnIndex`). Ties go to the lower feature row. Used by
 * `filmatlas similar still` (exact search) and by the explorer, so both give the same
 * neighbours.
 */
export class StillNeighbours {
  readonly vectors: LookVectors;
  readonly index: KnnIndex;

  private constructor(vectors: LookVectors, options: StillNeighboursOptions) {
    this.vectors = vectors;
    this.index = new KnnIndex(vectors, {
      metric: 'cosine',
      unitRows: true,
      threads: options.threads,
      resident: options.resident,
      // Resident data in large blocks: a batch of a few queries costs a few products, not hundreds.
      blockRows: options.resident ? 65536 : undefined,
    });
  }

  /** Opens a feature set (reads its column statistics; rows are read on the first search). */
  static open(atlas: Atlas, features: string, options: StillNeighboursOptions = {}): StillNeighbours {
    return new StillNeighbours(
      LookVectors.open(atlas, features, options.normalize ?? DEFAULT_NORMALIZATION),
      options,
    );
  }

  get features(): string {
    return this.vectors.model;
  }

  get rows(): number {
    return this.vectors.rows;
  }

  /** Feature row of a still, or undefined when it has no features in this set. */
  rowOf(stillId: number): number | undefined {
    return this.vectors.rowOf(stillId);
  }

  /**
   * The k stills nearest a still of the set, the still itself left out, nearest first
   * (k is capped at the number of other stills). Calls made together are answered
   * together (one pass over the matrix for up to 64 of them). NOT_FOUND when the still
   * has no features here.
   */
  async ofStill(stillId: number, k: number): Promise<NearStill[]> {
    const row = this.rowOf(stillId);
    if (row === undefined) {
      throw new AtlasError('NOT_FOUND', `still ${stillId} has no '${this.features}' features`, {
        value: String(stillId),
        suggestion: `run \`filmatlas embed --model ${this.features}\``,
      });
    }
    const kk = Math.min(k, this.rows - 1);
    if (kk < 1) return [];
    const r = await this.index.nearest(this.index.preparedRow(row), kk, row);
    return this.refs(r.indices, r.distances, 0, kk);
  }

  /**
   * The k stills nearest each of m query vectors (m × dim, normalised with
   * `vectors.normalizeRows`), nearest first; k is capped at the number of stills.
   */
  async ofVectors(
    queries: Float32Array,
    m: number,
    k: number,
    options: StageOptions = {},
  ): Promise<NearStill[][]> {
    const kk = Math.min(k, this.rows);
    const r = await this.index.search({
      k: kk,
      queries: matrixSource({ data: queries, rows: m, cols: this.vectors.dim }),
      signal: options.signal,
      onProgress: options.onProgress,
    });
    return Array.from({ length: m }, (_, i) => this.refs(r.indices, r.distances, i * kk, kk));
  }

  private refs(indices: Int32Array, distances: Float32Array, at: number, k: number): NearStill[] {
    const out: NearStill[] = [];
    for (let t = 0; t < k; t++) {
      const row = indices[at + t];
      out.push({ stillId: this.vectors.stillIds[row], row, distance: distances[at + t] });
    }
    return out;
  }
}
