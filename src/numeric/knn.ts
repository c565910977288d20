/**
 * Exact k nearest neighbours, blocked, with the distance products on ONNX Runtime.
 *
 * For each block of query rows and each block of data rows the dot products come
 * from one `matmul('nt', …)` (MLAS, ~225 GFLOP/s here, against ~1 for a JavaScript
 * loop); squared euclidean distances follow from ‖q‖² + ‖x‖² − 2q·x, cosine
 * distances from 1 − q̂·x̂ on unit-normalised rows. Those float32 products only
 * filter: a row that may enter a query's list is rescored exactly in float64 (so
 * near duplicates get distance ≈ 0, not √(rounding error)). Each query keeps its
 * k best so far in a small typed-array max-heap, so memory is the blocks in flight plus
 * the n×k result, never n×n.
 *
 * Ties are broken by data index (the lower index comes first): data blocks are
 * visited in index order and a candidate only displaces a strictly worse one.
 *
 * It is exact, and O(n²·d): at n = 132,617, d = 50 it takes minutes on this
 * project's shared 2-core machine (figures in docs/reduce.md). t-SNE and UMAP
 * build their neighbour graphs with it; `looks` uses it for similar stills.
 * (Computing each product block once and scanning it both ways, for queries =
 * data, halves the products but was measured no faster: the JavaScript scan and
 * the transpose cost what the products saved.)
 */
import { AtlasError, throwIfAborted } from '../errors.js';
import { matrixSource, type Matrix, type RowSource, type StageOptions } from '../types.js';
import { matmul } from './matmul.js';
import { checkChoice, checkInt, requireInt } from '../validate.js';

export interface KnnResult {
  n: number;
  k: number;
  /** n×k data row indices, nearest first. */
  indices: Int32Array;
  /** n×k: euclidean distance, or cosine distance 1 − cos. */
  distances: Float32Array;
}

export type KnnMetric = 'euclidean' | 'cosine';
export const KNN_METRICS: readonly KnnMetric[] = ['euclidean', 'cosine'];

export interface KnnOptions extends StageOptions {
  /** Neighbours per query, an integer 1 … (data rows, minus one with `excludeSelf`). */
  k: number;
  /** Default 'euclidean'. Cosine treats an all-zero row as at distance 1 from everything. */
  metric?: KnnMetric;
  /** When the queries are the data (no `queries` given): drop each row from its own list. Default false. */
  excludeSelf?: boolean;
  /** ONNX Runtime threads for the products. Default: all cores. */
  threads?: number;
  /** Rows per query block and per data block, 16 … 65,536. Default 1,024 (a 4 MB product block, which MLAS fills faster per pair than larger ones). */
  blockRows?: number;
}

/**
 * Relative error allowed in the float32 product before a candidate is rescored
 * exactly: MLAS sums in float32, with an error near √d·2⁻²⁴·(‖q‖²+‖x‖²) — 4·10⁻⁶ at
 * d = 4,096 — so 3·10⁻⁵ keeps every true neighbour and lets few extra through.
 */
const SLACK = 3e-5;

/** Data held in memory across query blocks when it fits in this many bytes; above it, blocks are re-read. */
const CACHE_BYTES = 512 * 1024 * 1024;

interface Block {
  start: number;
  count: number;
  /** count×dim, normalised for cosine. */
  rows: Float32Array;
  /** ‖x‖² per row (euclidean; 1 or 0 for cosine). */
  norms: Float64Array;
}

function checkFinite(what: string, rows: Float32Array, start: number, count: number, dim: number): void {
  for (let i = 0; i < count * dim; i++) {
    const v = rows[i];
    if (!Number.isFinite(v)) {
      const r = start + Math.floor(i / dim);
      throw new AtlasError(
        'INVALID_ARGUMENT',
        `${what} row ${r} column ${i % dim} is ${v}; k-NN needs finite values`,
        {
          value: String(v),
          suggestion: 'drop or repair the rows with NaN/Infinity before building the map',
        },
      );
    }
  }
}

function readBlock(src: RowSource, what: string, start: number, count: number, metric: KnnMetric): Block {
  const dim = src.dim;
  const raw = src.readRows(start, count);
  if (raw.length < count * dim)
    throw new AtlasError(
      'STATE',
      `${what} rows ${start}…${start + count} came back short (${raw.length} of ${count * dim} values)`,
      {
        value: `${start}…${start + count}`,
      },
    );
  checkFinite(what, raw, start, count, dim);
  const norms = new Float64Array(count);
  let rows = raw;
  if (metric === 'cosine') {
    rows = new Float32Array(count * dim);
    for (let r = 0; r < count; r++) {
      let s = 0;
      const o = r * dim;
      for (let c = 0; c < dim; c++) s += raw[o + c] * raw[o + c];
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let c = 0; c < dim; c++) rows[o + c] = raw[o + c] * inv;
      norms[r] = s > 0 ? 1 : 0;
    }
  } else {
    for (let r = 0; r < count; r++) {
      let s = 0;
      const o = r * dim;
      for (let c = 0; c < dim; c++) s += raw[o + c] * raw[o + c];
      norms[r] = s;
    }
  }
  return { start, count, rows, norms };
}

/** Worse of two (score, index) entries: the larger score, then the larger index. */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa > sb || (sa === sb && ia > ib);
}

/**
 * Puts (s, idx) at `pos` of the max-heap of `size` entries at `base` (root = the
 * worst kept) and sifts it down to its place.
 */
function siftDown(
  score: Float64Array,
  index: Int32Array,
  base: number,
  size: number,
  pos: number,
  s: number,
  idx: number,
): void {
  for (;;) {
    const l = 2 * pos + 1;
    if (l >= size) break;
    let c = l;
    const r = l + 1;
    if (r < size && worse(score[base + r], index[base + r], score[base + l], index[base + l])) c = r;
    if (!worse(score[base + c], index[base + c], s, idx)) break;
    score[base + pos] = score[base + c];
    index[base + pos] = index[base + c];
    pos = c;
  }
  score[base + pos] = s;
  index[base + pos] = idx;
}

/** Heap-sorts one query's k entries in place, best first. */
function sortHeap(score: Float64Array, index: Int32Array, base: number, k: number): void {
  for (let last = k - 1; last > 0; last--) {
    const s = score[base + last];
    const idx = index[base + last];
    score[base + last] = score[base];
    index[base + last] = index[base];
    siftDown(score, index, base, last, 0, s, idx);
  }
}

/**
 * Folds one data block into each query's k-best max-heap (root = worst kept). Kept out of the async
 * driver so V8 optimises it as a plain hot loop.
 */
function scanBlock(
  dots: Float32Array,
  qb: Block,
  xb: Block,
  q0: number,
  d0: number,
  k: number,
  dim: number,
  excludeSelf: boolean,
  cosine: boolean,
  bestScore: Float64Array,
  bestIndex: Int32Array,
): void {
  const qc = qb.count;
  const dc = xb.count;
  const xn = xb.norms;
  const xr = xb.rows;
  const qr = qb.rows;
  const qnorms = qb.norms;
  for (let i = 0; i < qc; i++) {
    const base = i * k;
    const row = i * dc;
    const qo = i * dim;
    const qn = cosine ? 1 : qnorms[i];
    const selfIndex = excludeSelf ? q0 + i - d0 : -1;
    let worst = bestScore[base];
    for (let j = 0; j < dc; j++) {
      // The float32 product is a filter only (‖q‖²+‖x‖²−2q·x cancels badly for near
      // points): score + slack, with ‖x‖² = 1 for cosine so both read the same.
      const xj = cosine ? 1 : xn[j];
      if (qn + xj - 2 * dots[row + j] - SLACK * (qn + xj) >= worst || j === selfIndex) continue;
      // Candidates are scored exactly, in float64, so the order and the ties are exact.
      const xo = j * dim;
      let s = 0;
      if (cosine) {
        for (let c = 0; c < dim; c++) s += qr[qo + c] * xr[xo + c];
        s = 2 - 2 * s; // ‖q̂ − x̂‖², twice the cosine distance
      } else {
        for (let c = 0; c < dim; c++) {
          const t = qr[qo + c] - xr[xo + c];
          s += t * t;
        }
      }
      // Data arrive in index order, so a tie with the worst kept loses (lower index first).
      if (s >= worst) continue;
      siftDown(bestScore, bestIndex, base, k, 0, s, d0 + j);
      worst = bestScore[base];
    }
  }
}

/**
 * The k nearest data rows of every query row (of every data row when `queries` is
 * not given). Throws an INVALID_ARGUMENT AtlasError for a bad k, mismatched
 * dimensions or a non-finite value (naming its row and column), ABORTED when the
 * signal fires (checked between blocks).
 */
export async function knn(data: RowSource, opts: KnnOptions & { queries?: RowSource }): Promise<KnnResult> {
  const metric = opts.metric ?? 'euclidean';
  checkChoice('metric', metric, KNN_METRICS);
  const self = opts.queries === undefined;
  const queries = opts.queries ?? data;
  const excludeSelf = self && opts.excludeSelf === true;
  const n = data.rows;
  const dim = data.dim;
  if (queries.dim !== dim)
    throw new AtlasError('INVALID_ARGUMENT', `queries have ${queries.dim} columns but the data has ${dim}`, {
      value: String(queries.dim),
    });
  const k = requireInt('k', opts.k, 1, Infinity);
  const available = excludeSelf ? n - 1 : n;
  if (k > available)
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `k = ${k} neighbours asked for but only ${available} data rows are available${excludeSelf ? ' (each row excluding itself)' : ''}`,
      { value: String(k), suggestion: `use k ≤ ${available}` },
    );
  const blockRows = opts.blockRows ?? 1024;
  checkInt('blockRows', blockRows, 16, 65536);
  const threads = opts.threads;
  checkInt('threads', threads, 1, Infinity);

  const cosine = metric === 'cosine';
  const m = queries.rows;
  const indices = new Int32Array(m * k);
  const distances = new Float32Array(m * k);
  const cache = n * dim * 4 <= CACHE_BYTES ? new Map<number, Block>() : undefined;
  const dataBlock = (start: number): Block => {
    const hit = cache?.get(start);
    if (hit) return hit;
    const b = readBlock(data, 'data', start, Math.min(blockRows, n - start), metric);
    cache?.set(start, b);
    return b;
  };
  const total = m;
  opts.onProgress?.({ stage: 'knn', done: 0, total });
  const matmulOptions = threads === undefined ? {} : { threads };

  // Per query: the k best so far as a max-heap on (score, index), sorted at the end.
  const bestScore = new Float64Array(blockRows * k);
  const bestIndex = new Int32Array(blockRows * k);

  for (let q0 = 0; q0 < m; q0 += blockRows) {
    throwIfAborted(opts.signal);
    const qb = self ? dataBlock(q0) : readBlock(queries, 'query', q0, Math.min(blockRows, m - q0), metric);
    const qc = qb.count;
    bestScore.fill(Infinity, 0, qc * k);
    bestIndex.fill(0x7fffffff, 0, qc * k);
    let db = dataBlock(0);
    let pending = matmul('nt', qb.rows, qc, dim, db.rows, db.count, matmulOptions);
    for (let d0 = 0; d0 < n; d0 += blockRows) {
      const dots = await pending;
      const current = db;
      // Start the next product while this block is scanned in JavaScript.
      if (d0 + blockRows < n) {
        db = dataBlock(d0 + blockRows);
        pending = matmul('nt', qb.rows, qc, dim, db.rows, db.count, matmulOptions);
      }
      scanBlock(dots, qb, current, q0, d0, k, dim, excludeSelf, cosine, bestScore, bestIndex);
    }
    for (let i = 0; i < qc; i++) {
      const o = (q0 + i) * k;
      sortHeap(bestScore, bestIndex, i * k, k);
      for (let t = 0; t < k; t++) {
        const s = bestScore[i * k + t];
        indices[o + t] = bestIndex[i * k + t];
        distances[o + t] = cosine ? Math.min(2, Math.max(0, s / 2)) : Math.sqrt(s);
      }
    }
    opts.onProgress?.({ stage: 'knn', done: Math.min(m, q0 + blockRows), total });
    // Let timers and signal handlers run between query blocks.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throwIfAborted(opts.signal);
  return { n: m, k, indices, distances };
}

/** The first k of each row of a precomputed k-NN (which must cover n rows and ≥ k neighbours). */
export function leadingNeighbours(
  r: KnnResult,
  n: number,
  k: number,
): { indices: Int32Array; distances: Float32Array } {
  if (r.n !== n || r.k < k || r.indices.length < n * r.k || r.distances.length < n * r.k)
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `the precomputed k-NN has ${r.n} rows × ${r.k} neighbours but ${n} rows × at least ${k} are needed`,
      { value: `${r.n}×${r.k}` },
    );
  if (r.k === k) return r;
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    indices.set(r.indices.subarray(i * r.k, i * r.k + k), i * k);
    distances.set(r.distances.subarray(i * r.k, i * r.k + k), i * k);
  }
  return { indices, distances };
}

/**
 * The k nearest other rows of every row of `x` (euclidean, self excluded): the first k
 * of `given` when a longer k-NN of the same rows was computed already, else computed here.
 */
export async function selfNeighbours(
  x: Matrix,
  k: number,
  opts: StageOptions & { threads?: number; given?: KnnResult },
): Promise<{ indices: Int32Array; distances: Float32Array }> {
  if (opts.given !== undefined) return leadingNeighbours(opts.given, x.rows, k);
  return knn(matrixSource(x), {
    k,
    excludeSelf: true,
    threads: opts.threads,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
}
