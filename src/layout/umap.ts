/**
 * UMAP to 2-D over this project's exact k-NN graph, in typed arrays.
 *
 * This follows umap-js (and umap-learn's `optimize_layout_euclidean`) step by
 * step, with umap-js's own curve fit for a and b (`findABParams`), but keeps the
 * graph and the embedding in typed arrays. umap-js itself, fed the same k-NN
 * through `setPrecomputedKNN`, builds its fuzzy simplicial set as seven
 * string-keyed `Map` sparse matrices and its embedding as `number[][]`: at
 * n = 10,000 that took 620 MB and most of a minute before the first epoch, which
 * projects to several GB and many minutes at the collection's 132,617 stills.
 *
 * 1. Neighbours: numeric/knn.ts, self excluded; each row's own entry is the
 *    implicit first neighbour at distance 0, as in umap-learn.
 * 2. Fuzzy simplicial set: ρᵢ = the nearest non-zero distance; σᵢ by bisection so
 *    that Σⱼ exp(−max(0, dᵢⱼ − ρᵢ)/σᵢ) = log₂(neighbors) (64 steps, floor 10⁻³ of
 *    the mean distance); wᵢⱼ = exp(−(dᵢⱼ − ρᵢ)/σᵢ); symmetrised by fuzzy union
 *    w + wᵀ − w∘wᵀ.
 * 3. Layout: edges lighter than max/epochs are dropped; each edge is sampled every
 *    max/w epochs (attraction, moving both ends) with 5 negative samples per
 *    sample; gradients clipped to ±4; learning rate 1 falling linearly to 0.
 *
 * Initialisation: 'pca' (the default) takes the first two columns of x (the first
 * principal components when x is PCA output), scaled so the largest |coordinate|
 * is 10, plus 10⁻⁴ noise (umap-learn's recipe for its PCA init); 'random' is
 * umap-js's uniform noise in [−10, 10]. Every random draw comes from the seeded
 * generator, so a seed gives the same map bit for bit.
 */
import { findABParams } from 'umap-js/dist/umap.js';
import { AtlasError, throwIfAborted } from '../errors.js';
import { selfNeighbours, type KnnResult } from '../numeric/knn.js';
import { Random } from '../numeric/random.js';
import type { Matrix, StageOptions } from '../types.js';
import { bothWays } from '../numeric/sparse.js';
import { checkChoice, checkInt, checkNumber } from '../validate.js';

export interface UmapOptions extends StageOptions {
  /** Neighbours per point, the point itself included (umap-learn's n_neighbors). Default 15; 2 … 200, and below n. */
  neighbors?: number;
  /** Minimum distance between embedded points. Default 0.1; 0 … 1. */
  minDist?: number;
  /** Optimisation epochs. Default umap-js's: 500 up to 2,500 points, 400, 300, then 200 above 7,500; 1 … 10,000. */
  epochs?: number;
  /** Seed of the initial noise and the negative sampling. Default 0. */
  seed?: number;
  /** ONNX Runtime threads for the k-NN products. Default: all cores. */
  threads?: number;
  /** 'pca' (first two columns of x, scaled to ±10) or 'random' (uniform in [−10, 10]). Default 'pca'. */
  init?: 'pca' | 'random';
  /**
   * The exact k-NN of x's rows, self excluded (numeric/knn.ts), when the caller has
   * it already (e.g. t-SNE's): k ≥ neighbors − 1; the first neighbors − 1 are used.
   * Default: computed here.
   */
  knn?: KnnResult;
}

const SMOOTH_K_TOLERANCE = 1e-5;
const MIN_K_DIST_SCALE = 1e-3;
const NEGATIVE_SAMPLE_RATE = 5;
const CLIP = 4;

/** umap-js's default number of epochs for n points. */
export function defaultEpochs(n: number): number {
  return n <= 2500 ? 500 : n <= 5000 ? 400 : n <= 7500 ? 300 : 200;
}

/** Symmetric fuzzy simplicial set in CSR form (zero entries dropped). */
export interface FuzzyGraph {
  n: number;
  rowPtr: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

/**
 * The fuzzy simplicial set of a k-NN graph whose rows list k neighbours other than
 * the point itself (`neighbors` = k + 1 counts the point, as umap-learn does).
 */
export function fuzzySimplicialSet(
  n: number,
  k: number,
  indices: Int32Array,
  distances: Float32Array,
): FuzzyGraph {
  const neighbors = k + 1;
  const target = Math.log2(neighbors);
  const w = new Float64Array(n * k);
  let meanAll = 0;
  for (let e = 0; e < n * k; e++) meanAll += distances[e];
  meanAll /= n * neighbors;
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let rho = 0;
    let sum = 0;
    for (let t = 0; t < k; t++) {
      const d = distances[o + t];
      sum += d;
      if (rho === 0 && d > 0) rho = d;
    }
    let lo = 0;
    let hi = Infinity;
    let mid = 1;
    for (let it = 0; it < 64; it++) {
      let psum = 0;
      for (let t = 0; t < k; t++) {
        const d = distances[o + t] - rho;
        psum += d > 0 ? Math.exp(-d / mid) : 1;
      }
      if (Math.abs(psum - target) < SMOOTH_K_TOLERANCE) break;
      if (psum > target) {
        hi = mid;
        mid = (lo + hi) / 2;
      } else {
        lo = mid;
        mid = hi === Infinity ? mid * 2 : (lo + hi) / 2;
      }
    }
    const floor = MIN_K_DIST_SCALE * (rho > 0 ? sum / neighbors : meanAll);
    const sigma = Math.max(mid, floor);
    for (let t = 0; t < k; t++) {
      const d = distances[o + t] - rho;
      w[o + t] = indices[o + t] === i ? 0 : d <= 0 ? 1 : Math.exp(-d / sigma);
    }
  }
  // Fuzzy union: row i gets (i→j, w) and (j→i, w); a pair present both ways merges to a + b − ab.
  const { start, cols, vals } = bothWays(indices, w, n, k);
  const pos = new Int32Array(n).fill(-1);
  const rowPtr = new Int32Array(n + 1);
  let out = 0;
  for (let i = 0; i < n; i++) {
    const rowStart = out;
    for (let e = start[i]; e < start[i + 1]; e++) {
      const c = cols[e];
      const v = vals[e];
      if (pos[c] >= 0) vals[pos[c]] = vals[pos[c]] + v - vals[pos[c]] * v;
      else {
        pos[c] = out;
        cols[out] = c;
        vals[out] = v;
        out++;
      }
    }
    // Drop zeros (self entries), compacting the row.
    let keep = rowStart;
    for (let e = rowStart; e < out; e++) {
      pos[cols[e]] = -1;
      if (vals[e] > 0) {
        cols[keep] = cols[e];
        vals[keep] = vals[e];
        keep++;
      }
    }
    out = keep;
    rowPtr[i + 1] = out;
  }
  return { n, rowPtr, cols: cols.slice(0, out), vals: vals.slice(0, out) };
}

/**
 * UMAP of the rows of `x` (typically n × 50 PCA output) to 2-D. Returns n×2
 * row-major float32 coordinates. Progress: stage 'knn', then 'umap' (one event per
 * epoch). A seed gives the same map on every run.
 */
export async function umap(x: Matrix, opts: UmapOptions = {}): Promise<Float32Array> {
  const n = x.rows;
  const neighbors = opts.neighbors ?? 15;
  checkInt('neighbors', neighbors, 2, 200);
  const minDist = opts.minDist ?? 0.1;
  checkNumber('minDist', minDist, 0, 1);
  checkInt('epochs', opts.epochs, 1, 10000);
  const init = opts.init ?? 'pca';
  checkChoice('init', init, ['pca', 'random']);
  if (x.data.length < n * x.cols)
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `matrix holds ${x.data.length} values, fewer than ${n}×${x.cols}`,
      {
        value: String(x.data.length),
      },
    );
  if (neighbors >= n)
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `neighbors = ${neighbors} needs more than ${neighbors} points but there are ${n}`,
      { value: String(neighbors), suggestion: `use neighbors ≤ ${Math.max(2, n - 1)} or more stills` },
    );
  throwIfAborted(opts.signal);

  const k = neighbors - 1;
  const nn = await selfNeighbours(x, k, { ...opts, given: opts.knn });
  const epochs = opts.epochs ?? defaultEpochs(n);
  opts.onProgress?.({ stage: 'umap', done: 0, total: epochs, note: 'fuzzy simplicial set' });
  const graph = fuzzySimplicialSet(n, k, nn.indices, nn.distances);
  throwIfAborted(opts.signal);

  // Edges, lightest dropped; each sampled every max/w epochs.
  let wMax = 0;
  for (let e = 0; e < graph.vals.length; e++) if (graph.vals[e] > wMax) wMax = graph.vals[e];
  let edges = 0;
  for (let e = 0; e < graph.vals.length; e++) if (graph.vals[e] >= wMax / epochs) edges++;
  const head = new Int32Array(edges);
  const tail = new Int32Array(edges);
  const epochsPerSample = new Float64Array(edges);
  for (let i = 0, t = 0; i < n; i++)
    for (let e = graph.rowPtr[i]; e < graph.rowPtr[i + 1]; e++) {
      const v = graph.vals[e];
      if (v < wMax / epochs) continue;
      tail[t] = i;
      head[t] = graph.cols[e];
      epochsPerSample[t] = wMax / v;
      t++;
    }
  const epochsPerNegative = epochsPerSample.map((v) => v / NEGATIVE_SAMPLE_RATE);
  const nextSample = epochsPerSample.slice();
  const nextNegative = epochsPerNegative.slice();

  // Initialisation.
  const rng = new Random(opts.seed ?? 0);
  const y = new Float64Array(2 * n);
  let pcaInit = false;
  if (init === 'pca' && x.cols >= 2) {
    const mean = [0, 0];
    for (let i = 0; i < n; i++) for (let c = 0; c < 2; c++) mean[c] += x.data[i * x.cols + c] / n;
    let max = 0;
    for (let i = 0; i < n; i++)
      for (let c = 0; c < 2; c++) max = Math.max(max, Math.abs(x.data[i * x.cols + c] - mean[c]));
    if (max > 0) {
      pcaInit = true;
      for (let i = 0; i < n; i++)
        for (let c = 0; c < 2; c++)
          y[2 * i + c] = ((x.data[i * x.cols + c] - mean[c]) * 10) / max + rng.normal(0, 1e-4);
    }
  }
  if (!pcaInit) for (let i = 0; i < 2 * n; i++) y[i] = rng.next() * 20 - 10;

  const { a, b } = findABParams(1, minDist);
  for (let epoch = 0; epoch < epochs; epoch++) {
    throwIfAborted(opts.signal);
    // umap-js and umap-learn lower the rate after each epoch: epochs 0 and 1 both run at 1.
    const alpha = epoch === 0 ? 1 : 1 - (epoch - 1) / epochs;
    for (let e = 0; e < edges; e++) {
      if (nextSample[e] > epoch) continue;
      const j = head[e];
      const kk = tail[e];
      let dx = y[2 * j] - y[2 * kk];
      let dy = y[2 * j + 1] - y[2 * kk + 1];
      let d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const p = Math.pow(d2, b);
        const coeff = (-2 * a * b * (p / d2)) / (a * p + 1);
        const gx = clip(coeff * dx) * alpha;
        const gy = clip(coeff * dy) * alpha;
        y[2 * j] += gx;
        y[2 * j + 1] += gy;
        y[2 * kk] -= gx;
        y[2 * kk + 1] -= gy;
      }
      nextSample[e] += epochsPerSample[e];
      const negatives = Math.floor((epoch - nextNegative[e]) / epochsPerNegative[e]);
      for (let s = 0; s < negatives; s++) {
        const o = Math.floor(rng.next() * n);
        dx = y[2 * j] - y[2 * o];
        dy = y[2 * j + 1] - y[2 * o + 1];
        d2 = dx * dx + dy * dy;
        if (d2 > 0) {
          const coeff = (2 * b) / ((0.001 + d2) * (a * Math.pow(d2, b) + 1));
          y[2 * j] += clip(coeff * dx) * alpha;
          y[2 * j + 1] += clip(coeff * dy) * alpha;
        } else if (j !== o) {
          y[2 * j] += CLIP * alpha;
          y[2 * j + 1] += CLIP * alpha;
        }
      }
      nextNegative[e] += negatives * epochsPerNegative[e];
    }
    opts.onProgress?.({ stage: 'umap', done: epoch + 1, total: epochs });
    // Let timers and signal handlers run between epochs.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throwIfAborted(opts.signal);
  const out = Float32Array.from(y);
  for (let i = 0; i < out.length; i++)
    if (!Number.isFinite(out[i]))
      throw new AtlasError('STATE', `UMAP produced a non-finite coordinate for row ${i >> 1}`, {
        value: String(out[i]),
      });
  return out;
}

function clip(v: number): number {
  return v > CLIP ? CLIP : v < -CLIP ? -CLIP : v;
}
