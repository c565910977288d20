/**
 * Principal component analysis of a feature matrix streamed in row blocks, with
 * scikit-learn's semantics (optionally after its StandardScaler), so that the
 * original analysis's `StandardScaler().fit_transform(X)` + `PCA(2)` can be
 * reproduced without ever holding a second n × d copy of X.
 *
 * Two methods:
 *
 * - `exact`: the covariance matrix (d × d, from blocked products AᵀA of the
 *   centred, scaled rows, float32 products accumulated in float64) and its
 *   symmetric eigen-decomposition (Householder + QL in float64, eigen.ts). Equal
 *   to sklearn's `svd_solver='full'` up to rounding. O(n·d²) + O(d³): fine up to
 *   d ≈ 1,000; slow for d = 4,096 (minutes).
 * - `randomized`: Halko, Martinsson & Tropp's randomized range finder with power
 *   iterations, as sklearn's `randomized_svd` (l = components + 10 oversamples;
 *   n_iter 7 when components < 0.1·min(n, d), else 4). Each power iteration is one
 *   streaming pass computing AᵀA·Q block by block (Y_b = A_b·Q, then Y_bᵀ·A_b),
 *   re-orthonormalised (Gram–Schmidt, twice) after each pass — sklearn normalises
 *   with LU after each half-step, which spans the same subspace. The first
 *   iteration shares its pass with the column statistics (its products are
 *   centred and scaled afterwards). The last pass gives Y = A·Q and YᵀA; an
 *   orthonormal basis of Y's span (from the eigen-decomposition of YᵀY) and a
 *   small SVD finish it, exactly sklearn's final step B = Qᵀ·A, svd(B).
 *   1 + n_iter passes over the data in all.
 *
 * A = (X − 1·μᵀ)·S⁻¹ is never formed: centring and scaling are folded into the
 * small factors (X·S⁻¹Q − 1·μᵀS⁻¹Q), so the big products run on the source's
 * blocks as they are, on ONNX Runtime's MatMul (matmul.ts). Memory: one chunk of
 * rows (~32 MB) plus d × l (randomized) or d × d (exact) float64.
 *
 * Conventions, as sklearn: explained variance = σ²/(n − 1); ratios are of the
 * total variance (sum of the per-column variances, ddof 1); StandardScaler uses
 * the population standard deviation (ddof 0), and a constant column gets scale 1.
 * Signs: each component's largest-magnitude entry is positive (sklearn ≥ 1.5's
 * `svd_flip(u_based_decision=False)`; older sklearn flipped by U, so compare up
 * to sign).
 */
import { AtlasError, throwIfAborted, unknownChoice } from '../errors.js';
import type { RowSource, StageOptions } from '../types.js';
import { symmetricEigen } from './eigen.js';
import { matmul } from './matmul.js';
import { Random } from './random.js';
import { checkInt, requireInt } from '../validate.js';

export interface PcaModel {
  components: number;
  dim: number;
  /** Column means of the input (float32 of the float64 means). */
  mean: Float32Array;
  /** StandardScaler's per-column scale (population std; 1 for constant columns), or null without standardisation. */
  scale: Float32Array | null;
  /** components × dim row-major: the principal axes, unit length, orthogonal. */
  basis: Float32Array;
  /** Variance along each axis (σ²/(n − 1)), largest first. */
  explainedVariance: Float64Array;
  /** Share of the total variance along each axis. */
  explainedVarianceRatio: Float64Array;
  method: 'exact' | 'randomized';
}

export interface PcaOptions extends StageOptions {
  /** Number of principal components; 1 … min(rows, dim). */
  components: number;
  /** Scale every column to unit variance first (sklearn's StandardScaler). Default false. */
  standardize?: boolean;
  /**
   * 'exact' (covariance + eigen-decomposition), 'randomized' (Halko et al.), or
   * 'auto' (default): randomized when dim > 1,024 and components ≤ 100, else exact.
   */
  method?: 'exact' | 'randomized' | 'auto';
  /** Seed of the randomized method's random start. Default 0. */
  seed?: number;
  /** ONNX Runtime threads for the products. Default: all cores. */
  threads?: number;
  /** Rows per block read from the source. Default: about 1 M floats' worth (256 rows at d = 4,096). */
  blockRows?: number;
}

export const PCA_METHODS = ['exact', 'randomized', 'auto'] as const;

/** Oversampling and power iterations of the randomized method (sklearn's defaults). */
const OVERSAMPLES = 10;

/**
 * About 1 M floats (4 MB) a block: 256 rows at d = 4,096. Bigger blocks are
 * slower, not faster: each block a source reads is a fresh allocation, and above
 * a few MB the allocator maps fresh pages whose first-touch faults cost more than
 * the reading (8× slower at 32 MB blocks on the reference VM); the products are
 * as fast on 256 rows as on 2,048.
 */
function defaultBlockRows(dim: number): number {
  return Math.max(64, Math.min(65536, Math.floor((1 << 20) / Math.max(1, dim))));
}

/** Blocks of the source: [start, count) pairs. */
function* blocks(rows: number, blockRows: number): Generator<[number, number]> {
  for (let s = 0; s < rows; s += blockRows) yield [s, Math.min(blockRows, rows - s)];
}

/** Rows per product: about 8 M floats (2,048 rows at d = 4,096). */
function chunkRowsFor(dim: number, blockRows: number): number {
  return Math.max(blockRows, Math.min(65536, Math.floor((8 << 20) / Math.max(1, dim))));
}

/**
 * The source's rows in chunks of `chunkRows` for the products, gathered from
 * reads of `blockRows` into one buffer allocated once. Small reads keep the
 * source's fresh allocations cheap (see defaultBlockRows); big chunks keep the
 * number of ONNX Runtime calls, each with a fixed overhead of about a
 * millisecond, low (a 256-row product runs at a tenth of a 2,048-row one's rate).
 * Each chunk is a view of the shared buffer, valid until the next one.
 */
function* chunks(
  src: RowSource,
  blockRows: number,
  chunkRows: number,
): Generator<{ start: number; count: number; x: Float32Array }> {
  const { rows: n, dim: d } = src;
  const into = readsInto(src);
  if (chunkRows <= blockRows && !into) {
    for (const [start, count] of blocks(n, blockRows)) yield { start, count, x: src.readRows(start, count) };
    return;
  }
  const buf = new Float32Array(Math.min(chunkRows, n) * d);
  for (const [start, count] of blocks(n, chunkRows)) {
    const x = buf.subarray(0, count * d);
    if (into) into.readRowsInto(start, count, x);
    else for (const [s, c] of blocks(count, blockRows)) buf.set(src.readRows(start + s, c), s * d);
    yield { start, count, x };
  }
}

/**
 * A RowSource that can also read rows into a buffer the caller owns: PCA then
 * reads each chunk straight into its one buffer, with no fresh allocation and no
 * copy per block (a third of a streaming pass's time on the reference VM).
 */
export interface RowSourceInto extends RowSource {
  /** Rows [start, start + count) into `out` (count × dim floats). */
  readRowsInto(start: number, count: number, out: Float32Array): void;
}

function readsInto(src: RowSource): RowSourceInto | undefined {
  const s = src as Partial<RowSourceInto>;
  return typeof s.readRowsInto === 'function' ? (src as RowSourceInto) : undefined;
}

interface Progress {
  tick(rows: number): void;
  pass(name: string): void;
}

function progress(opts: StageOptions, rows: number, passes: number): Progress {
  let done = 0;
  let note = '';
  const total = rows * passes;
  return {
    pass(name) {
      note = name;
      opts.onProgress?.({ stage: 'pca', done, total, note });
    },
    tick(n) {
      done += n;
      opts.onProgress?.({ stage: 'pca', done: Math.min(done, total), total, note });
    },
  };
}

interface ColumnStats {
  mean: Float64Array;
  /** Population variance (ddof 0). */
  variance: Float64Array;
  /** Column sums. */
  sum: Float64Array;
  /** With a `start` (randomized PCA): Y₀ᵀX (l × d) and the column sums of Y₀ = X·start (l). */
  first?: { ytx: Float64Array; ysum: Float64Array };
}

/**
 * Column means and variances in one pass (shifted sums in float64, against
 * cancellation). Given `start` (d × l, row-major), the same pass also computes
 * Y₀ = X·start and Y₀ᵀX, the products of the first power iteration, which can be
 * centred and scaled afterwards (see randomizedPca): one pass fewer.
 */
async function columnStats(
  src: RowSource,
  blockRows: number,
  opts: PcaOptions,
  p: Progress,
  start?: { wt: Float32Array; l: number },
): Promise<ColumnStats> {
  const { rows: n, dim: d } = src;
  const shift = Float64Array.from(src.readRows(0, 1));
  const s1 = new Float64Array(d);
  const s2 = new Float64Array(d);
  const l = start?.l ?? 0;
  const ytx = new Float64Array(l * d);
  const ysum = new Float64Array(l);
  let yt = new Float32Array(0);
  p.pass(start ? 'column statistics + power iteration 1' : 'column statistics');
  for (const { count, x } of chunks(src, blockRows, start ? chunkRowsFor(d, blockRows) : blockRows)) {
    throwIfAborted(opts.signal);
    let i = 0;
    // Four rows at a time: a quarter of the accumulator loads and stores (~3× faster).
    for (; i + 4 <= count; i += 4) {
      const o0 = i * d,
        o1 = o0 + d,
        o2 = o1 + d,
        o3 = o2 + d;
      for (let j = 0; j < d; j++) {
        const sh = shift[j];
        const a = x[o0 + j] - sh,
          b = x[o1 + j] - sh,
          c = x[o2 + j] - sh,
          e = x[o3 + j] - sh;
        s1[j] += a + b + c + e;
        s2[j] += a * a + b * b + c * c + e * e;
      }
    }
    for (; i < count; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) {
        const v = x[o + j] - shift[j];
        s1[j] += v;
        s2[j] += v * v;
      }
    }
    if (start) {
      const y = await matmul('nn', x, count, d, start.wt, l, { threads: opts.threads }); // count × l
      if (yt.length !== l * count) yt = new Float32Array(l * count);
      for (let q = 0; q < count; q++) {
        for (let r = 0; r < l; r++) {
          const v = y[q * l + r];
          yt[r * count + q] = v;
          ysum[r] += v;
        }
      }
      const part = await matmul('nn', yt, l, count, x, d, { threads: opts.threads }); // l × d
      for (let q = 0; q < l * d; q++) ytx[q] += part[q];
    }
    p.tick(count);
  }
  const mean = new Float64Array(d);
  const variance = new Float64Array(d);
  const sum = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const m = s1[j] / n;
    if (!Number.isFinite(m) || !Number.isFinite(s2[j])) {
      throw new AtlasError('STATE', `PCA input column ${j} holds a non-finite value (NaN or infinity)`, {
        value: String(j),
        suggestion: 're-embed the stills that produced it',
      });
    }
    mean[j] = shift[j] + m;
    variance[j] = Math.max(0, s2[j] / n - m * m);
    sum[j] = s1[j] + n * shift[j];
  }
  return { mean, variance, sum, ...(start ? { first: { ytx, ysum } } : {}) };
}

/**
 * StandardScaler's scale: √variance, or 1 where the column is constant up to
 * rounding (sklearn's `_is_constant_feature` bound, float64 eps).
 */
function standardScale(stats: ColumnStats, n: number): Float64Array {
  const eps = 2 ** -52;
  return stats.variance.map((v, j) => {
    const m = stats.mean[j];
    const bound = n * eps * v + (n * m * eps) ** 2;
    return v <= bound || v === 0 ? 1 : Math.sqrt(v);
  });
}

/** Makes each axis's largest-magnitude entry positive; returns which axes were flipped. */
function signFlip(basis: Float64Array, k: number, d: number): boolean[] {
  const flipped: boolean[] = [];
  for (let c = 0; c < k; c++) {
    const o = c * d;
    let best = 0;
    for (let j = 1; j < d; j++) if (Math.abs(basis[o + j]) > Math.abs(basis[o + best])) best = j;
    flipped.push(basis[o + best] < 0);
    if (basis[o + best] < 0) for (let j = 0; j < d; j++) basis[o + j] = -basis[o + j];
  }
  return flipped;
}

/** Fits a PCA of the rows of `src`, streaming them in blocks. */
export async function fitPca(src: RowSource, opts: PcaOptions): Promise<PcaModel> {
  return (await fit(src, opts, false)).model;
}

/**
 * Fits a PCA and projects the rows on its axes (n × components), like sklearn's
 * `fit_transform`. The randomized method gets the projection from its last pass
 * (sklearn's U·Σ: the rows projected within the subspace found, which holds the
 * axes to within the method's accuracy), saving the pass `transformPca` makes;
 * the exact method projects in one more pass.
 */
export async function fitTransformPca(
  src: RowSource,
  opts: PcaOptions,
): Promise<{ model: PcaModel; projection: Float32Array }> {
  const r = await fit(src, opts, true);
  const projection =
    r.projection ??
    (await transformPca(src, r.model, {
      blockRows: opts.blockRows,
      threads: opts.threads,
      ...stageOf(opts),
    }));
  return { model: r.model, projection };
}

function stageOf(opts: StageOptions): StageOptions {
  return { onProgress: opts.onProgress, signal: opts.signal };
}

async function fit(
  src: RowSource,
  opts: PcaOptions,
  wantProjection: boolean,
): Promise<{ model: PcaModel; projection?: Float32Array }> {
  const { rows: n, dim: d } = src;
  if (n < 2)
    throw new AtlasError('INVALID_ARGUMENT', `PCA needs at least 2 rows, got ${n}`, { value: String(n) });
  if (d < 1)
    throw new AtlasError('INVALID_ARGUMENT', `PCA needs at least 1 column, got ${d}`, { value: String(d) });
  const limit = Math.min(n, d);
  const k = requireInt('PCA components', opts.components, 1, limit);
  checkInt('PCA blockRows', opts.blockRows, 1, 1 << 24);
  checkInt('PCA threads', opts.threads, 1, 1024);
  const requested = opts.method ?? 'auto';
  if (!(PCA_METHODS as readonly string[]).includes(requested))
    throw unknownChoice('PCA method', requested, PCA_METHODS);
  const method: 'exact' | 'randomized' =
    requested === 'auto' ? (d > 1024 && k <= 100 ? 'randomized' : 'exact') : requested;
  const blockRows = opts.blockRows ?? defaultBlockRows(d);
  const nIter = k < 0.1 * limit ? 7 : 4;
  const p = progress(opts, n, method === 'exact' ? 2 : 1 + nIter);

  // Randomized: the random start of the range finder, d × l (as the products take it).
  const l = Math.min(k + OVERSAMPLES, n, d);
  const rng = new Random(opts.seed ?? 0);
  let start: { wt: Float32Array; l: number } | undefined;
  if (method === 'randomized') {
    start = { wt: new Float32Array(d * l), l };
    for (let q = 0; q < d * l; q++) start.wt[q] = rng.normal();
  }
  const stats = await columnStats(src, blockRows, opts, p, start);
  const scale = opts.standardize ? standardScale(stats, n) : null;
  const inv = new Float64Array(d).fill(1);
  if (scale) for (let j = 0; j < d; j++) inv[j] = 1 / scale[j];
  let total = 0;
  for (let j = 0; j < d; j++) total += stats.variance[j] * inv[j] * inv[j];
  total *= n / (n - 1);

  const result =
    method === 'exact'
      ? await exactPca(src, stats.mean, inv, k, blockRows, opts, p)
      : await randomizedPca(src, stats, start!, inv, k, nIter, blockRows, opts, p, rng, wantProjection);
  const flipped = signFlip(result.basis, k, d);
  const projection = result.projection;
  if (projection) {
    for (let c = 0; c < k; c++) if (flipped[c]) for (let i = 0; i < n; i++) projection[i * k + c] *= -1;
  }
  const explainedVariance = result.variance;
  // The exact fit knows the trace of its own covariance; use it (as sklearn's full solver does).
  const totalVariance = result.total ?? total;
  const model: PcaModel = {
    components: k,
    dim: d,
    mean: Float32Array.from(stats.mean),
    scale: scale ? Float32Array.from(scale) : null,
    basis: Float32Array.from(result.basis),
    explainedVariance,
    explainedVarianceRatio: explainedVariance.map((v) => (totalVariance > 0 ? v / totalVariance : 0)),
    method,
  };
  return { model, ...(projection ? { projection } : {}) };
}

interface Fit {
  basis: Float64Array;
  variance: Float64Array;
  /** n × k, when asked for and the method has it without another pass. */
  projection?: Float32Array;
  total?: number;
}

/** Covariance (d × d) by blocks of centred, scaled, transposed rows, then its eigen-decomposition. */
async function exactPca(
  src: RowSource,
  mean: Float64Array,
  inv: Float64Array,
  k: number,
  blockRows: number,
  opts: PcaOptions,
  p: Progress,
): Promise<Fit> {
  const { rows: n, dim: d } = src;
  const cov = new Float64Array(d * d);
  const mean32 = Float32Array.from(mean);
  const inv32 = Float32Array.from(inv);
  const chunkRows = chunkRowsFor(d, blockRows);
  let t = new Float32Array(d * Math.min(chunkRows, n));
  let a = new Float32Array(d * Math.min(chunkRows, n));
  p.pass('covariance');
  for (const { count, x } of chunks(src, blockRows, chunkRows)) {
    throwIfAborted(opts.signal);
    if (t.length !== d * count) {
      t = new Float32Array(d * count);
      a = new Float32Array(d * count);
    }
    // a = this block of A (count × d), centred and scaled, and t = aᵀ: Aᵀ·A is then
    // the plain 'nn' product (the 'nt' form transposes its operand on every call).
    for (let i = 0; i < count; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) {
        const v = (x[o + j] - mean32[j]) * inv32[j];
        a[o + j] = v;
        t[j * count + i] = v;
      }
    }
    const c = await matmul('nn', t, d, count, a, d, { threads: opts.threads });
    for (let q = 0; q < d * d; q++) cov[q] += c[q];
    p.tick(count);
  }
  // Symmetrise (the float32 products are symmetric only to rounding) and scale.
  let trace = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      const v = (cov[i * d + j] + cov[j * d + i]) / 2 / (n - 1);
      cov[i * d + j] = v;
      cov[j * d + i] = v;
    }
    cov[i * d + i] /= n - 1;
    trace += cov[i * d + i];
  }
  const eig = symmetricEigen(cov, d);
  return {
    basis: eig.vectors.slice(0, k * d),
    variance: eig.values.slice(0, k).map((v) => Math.max(0, v)),
    total: trace,
  };
}

interface PowerPass {
  /** YᵀA, l × d, with Y = A·Q. */
  yta: Float64Array;
  /** YᵀY, l × l. */
  yty: Float64Array;
}

/**
 * One streaming pass: Y = A·Q (Q given as l rows of length d) and YᵀA, where
 * A = (X − 1μᵀ)·diag(inv). Computed as Y = X·Wᵀ − 1·cᵀ with W = Q·diag(inv),
 * c = W·μ, and YᵀA = (YᵀX − (Yᵀ1)·μᵀ)·diag(inv).
 */
async function powerPass(
  src: RowSource,
  qt: Float64Array,
  l: number,
  mean: Float64Array,
  inv: Float64Array,
  blockRows: number,
  opts: PcaOptions,
  p: Progress,
  wantYty: boolean,
  keepY?: Float32Array,
): Promise<PowerPass> {
  const { rows: n, dim: d } = src;
  // W as d × l (Q·diag(inv) transposed): the product X·W is then the plain 'nn'
  // form, ~5× faster than 'nt', whose per-call Transpose of W costs more than the product.
  const wt = new Float32Array(d * l);
  for (let r = 0; r < l; r++) for (let j = 0; j < d; j++) wt[j * l + r] = qt[r * d + j] * inv[j];
  const c = new Float64Array(l);
  for (let r = 0; r < l; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += wt[j * l + r] * mean[j];
    c[r] = s;
  }
  const ytx = new Float64Array(l * d);
  const ysum = new Float64Array(l);
  const yty = new Float64Array(wantYty ? l * l : 0);
  const chunkRows = chunkRowsFor(d, blockRows);
  let yt = new Float32Array(l * Math.min(chunkRows, n));
  for (const { start, count, x } of chunks(src, blockRows, chunkRows)) {
    throwIfAborted(opts.signal);
    const y = await matmul('nn', x, count, d, wt, l, { threads: opts.threads }); // count × l
    if (yt.length !== l * count) yt = new Float32Array(l * count);
    for (let i = 0; i < count; i++) {
      for (let r = 0; r < l; r++) {
        const v = y[i * l + r] - c[r];
        yt[r * count + i] = v;
        ysum[r] += v;
        if (keepY) keepY[(start + i) * l + r] = v;
      }
    }
    if (wantYty) {
      for (let r = 0; r < l; r++) {
        const or = r * count;
        for (let s = 0; s <= r; s++) {
          const os = s * count;
          let acc = 0;
          for (let i = 0; i < count; i++) acc += yt[or + i] * yt[os + i];
          yty[r * l + s] += acc;
        }
      }
    }
    const part = await matmul('nn', yt, l, count, x, d, { threads: opts.threads }); // l × d
    for (let q = 0; q < l * d; q++) ytx[q] += part[q];
    p.tick(count);
  }
  for (let r = 0; r < l; r++) {
    for (let j = 0; j < d; j++) ytx[r * d + j] = (ytx[r * d + j] - ysum[r] * mean[j]) * inv[j];
    if (wantYty) for (let s = 0; s < r; s++) yty[s * l + r] = yty[r * l + s];
  }
  return { yta: ytx, yty };
}

/**
 * Orthonormalises the l rows of m (l × d) in place: modified Gram–Schmidt, done
 * twice ("twice is enough"). A row that vanishes (the data has lower rank than
 * l) is replaced by a random direction orthogonal to the others.
 */
function orthonormalizeRows(m: Float64Array, l: number, d: number, rng: Random): void {
  for (let r = 0; r < l; r++) {
    const o = r * d;
    let before = 0;
    for (let j = 0; j < d; j++) before += m[o + j] * m[o + j];
    before = Math.sqrt(before);
    for (let attempt = 0; ; attempt++) {
      for (let pass = 0; pass < 2; pass++) {
        for (let s = 0; s < r; s++) {
          const os = s * d;
          let dot = 0;
          for (let j = 0; j < d; j++) dot += m[o + j] * m[os + j];
          for (let j = 0; j < d; j++) m[o + j] -= dot * m[os + j];
        }
      }
      let norm = 0;
      for (let j = 0; j < d; j++) norm += m[o + j] * m[o + j];
      norm = Math.sqrt(norm);
      if (norm > 1e-10 * before && norm > 0) {
        for (let j = 0; j < d; j++) m[o + j] /= norm;
        break;
      }
      if (attempt > 3)
        throw new AtlasError('STATE', `PCA: cannot find ${l} independent directions in ${d} dimensions`);
      for (let j = 0; j < d; j++) m[o + j] = rng.normal();
      before = Math.sqrt(d);
    }
  }
}

/**
 * The first power iteration came with the column statistics, from the uncentred,
 * unscaled X and a random start Ω (d × l): Y₀ = X·Ω and Y₀ᵀX. With the means known,
 * Y = (X − 1μᵀ)·Ω = Y₀ − 1·(Ωᵀμ)ᵀ, so YᵀX = Y₀ᵀX − (Ωᵀμ)·(1ᵀX), and
 * YᵀA = (YᵀX − (Yᵀ1)·μᵀ)·S⁻¹. Y = A·(S·Ω): the start is S·Ω, as random as Ω. The
 * cancellation in the uncentred products only perturbs a random start.
 */
function firstIteration(
  stats: ColumnStats,
  start: { wt: Float32Array; l: number },
  inv: Float64Array,
  n: number,
): Float64Array {
  const { mean, sum } = stats;
  const { ytx, ysum } = stats.first!;
  const l = start.l;
  const d = mean.length;
  const m = new Float64Array(l * d);
  for (let r = 0; r < l; r++) {
    let c = 0;
    for (let j = 0; j < d; j++) c += start.wt[j * l + r] * mean[j];
    const y1 = ysum[r] - n * c;
    for (let j = 0; j < d; j++) m[r * d + j] = (ytx[r * d + j] - c * sum[j] - y1 * mean[j]) * inv[j];
  }
  return m;
}

async function randomizedPca(
  src: RowSource,
  stats: ColumnStats,
  start: { wt: Float32Array; l: number },
  inv: Float64Array,
  k: number,
  nIter: number,
  blockRows: number,
  opts: PcaOptions,
  p: Progress,
  rng: Random,
  wantProjection: boolean,
): Promise<Fit> {
  const { rows: n, dim: d } = src;
  const { mean } = stats;
  const l = start.l;
  // Q after the first power iteration (made with the statistics), as rows.
  let qt: Float64Array = firstIteration(stats, start, inv, n);
  orthonormalizeRows(qt, l, d, rng);
  for (let it = 1; it < nIter; it++) {
    p.pass(`power iteration ${it + 1}/${nIter}`);
    qt = (await powerPass(src, qt, l, mean, inv, blockRows, opts, p, false)).yta;
    orthonormalizeRows(qt, l, d, rng);
  }
  p.pass('projection');
  const keepY = wantProjection ? new Float32Array(n * l) : undefined;
  const { yta, yty } = await powerPass(src, qt, l, mean, inv, blockRows, opts, p, true, keepY);
  // An orthonormal basis of span(Y): Q_n = Y·T with T = V·D^{-1/2} over YᵀY's
  // eigenpairs (dropping directions the data does not reach). B = Q_nᵀA = Tᵀ·YᵀA.
  const g = symmetricEigen(yty, l);
  const top = g.values[0];
  let r = 0;
  while (r < l && g.values[r] > top * 1e-12) r++;
  if (r < k)
    throw new AtlasError(
      'STATE',
      `PCA: the data spans only ${r} directions, fewer than the ${k} components asked for`,
    );
  const b = new Float64Array(r * d);
  for (let a = 0; a < r; a++) {
    const f = 1 / Math.sqrt(g.values[a]);
    for (let s = 0; s < l; s++) {
      const coef = g.vectors[a * l + s] * f;
      if (coef === 0) continue;
      const os = s * d;
      const oa = a * d;
      for (let j = 0; j < d; j++) b[oa + j] += coef * yta[os + j];
    }
  }
  // SVD of B (r × d) through BBᵀ = U Σ² Uᵀ: right singular vectors Vᵀ = Σ⁻¹ Uᵀ B.
  const bbt = new Float64Array(r * r);
  for (let a = 0; a < r; a++) {
    for (let c = 0; c <= a; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += b[a * d + j] * b[c * d + j];
      bbt[a * r + c] = s;
      bbt[c * r + a] = s;
    }
  }
  const e = symmetricEigen(bbt, r);
  const basis = new Float64Array(k * d);
  const variance = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const sigma2 = Math.max(0, e.values[c]);
    variance[c] = sigma2 / (n - 1);
    const oc = c * d;
    for (let a = 0; a < r; a++) {
      const u = e.vectors[c * r + a];
      for (let j = 0; j < d; j++) basis[oc + j] += u * b[a * d + j];
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += basis[oc + j] ** 2;
    norm = Math.sqrt(norm);
    for (let j = 0; j < d; j++) basis[oc + j] /= norm;
  }
  if (!keepY) return { basis, variance };
  // sklearn's U·Σ: Q_n = Y·T, U = Q_n·Û, so the projection is Y·(T·Û·Σ) (l × k).
  const coef = new Float64Array(l * k);
  for (let c = 0; c < k; c++) {
    const sigma = Math.sqrt(Math.max(0, e.values[c]));
    for (let a = 0; a < r; a++) {
      const f = (e.vectors[c * r + a] * sigma) / Math.sqrt(g.values[a]);
      for (let s = 0; s < l; s++) coef[s * k + c] += g.vectors[a * l + s] * f;
    }
  }
  const projection = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let v = 0;
      for (let s = 0; s < l; s++) v += keepY[i * l + s] * coef[s * k + c];
      projection[i * k + c] = v;
    }
  }
  return { basis, variance, projection };
}

/** Projects the rows of `src` on the model's axes: n × components row-major float32. */
export async function transformPca(
  src: RowSource,
  model: PcaModel,
  opts: StageOptions & { blockRows?: number; threads?: number } = {},
): Promise<Float32Array> {
  const { rows: n, dim: d } = src;
  if (d !== model.dim) {
    throw new AtlasError('STATE', `PCA model was fitted on ${model.dim}-d rows but the input has ${d}`, {
      value: String(d),
    });
  }
  checkInt('PCA blockRows', opts.blockRows, 1, 1 << 24);
  checkInt('PCA threads', opts.threads, 1, 1024);
  const k = model.components;
  const blockRows = opts.blockRows ?? defaultBlockRows(d);
  // W = basis·diag(1/scale), c = W·mean: (x − mean)/scale · basisᵀ = x·Wᵀ − c.
  // (W transposed, d × k, for the fast 'nn' product form.)
  const wt = new Float32Array(d * k);
  const c = new Float64Array(k);
  for (let r = 0; r < k; r++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = model.basis[r * d + j] / (model.scale ? model.scale[j] : 1);
      wt[j * k + r] = v;
      s += Math.fround(v) * model.mean[j];
    }
    c[r] = s;
  }
  const out = new Float32Array(n * k);
  let done = 0;
  for (const { start, count, x } of chunks(src, blockRows, chunkRowsFor(d, blockRows))) {
    throwIfAborted(opts.signal);
    const y = await matmul('nn', x, count, d, wt, k, { threads: opts.threads });
    for (let i = 0; i < count; i++)
      for (let r = 0; r < k; r++) out[(start + i) * k + r] = y[i * k + r] - c[r];
    done += count;
    opts.onProgress?.({ stage: 'pca transform', done, total: n });
  }
  return out;
}
