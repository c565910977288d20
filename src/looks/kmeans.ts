/**
 * Weighted k-means (Lloyd) with k-means++ seeding, over flat row-major float32 rows.
 * Used for palettes (pixels of a still, weighted by how many pixels share a colour)
 * and for clustering stills (PCA-reduced features, unit weights). Every random step
 * takes a seeded generator, so a seed gives the same clustering on every run.
 */
import { Random } from '../numeric/random.js';
import { requireInt } from '../validate.js';

export interface KMeansOptions {
  /** Clusters wanted; 1 ≤ k. Fewer come back when there are fewer distinct points. */
  k: number;
  /** Per-row weights (≥ 0). Default: all 1. */
  weights?: Float32Array | Float64Array;
  /** Seed of the k-means++ draws. Default 0. */
  seed?: number;
  /** Lloyd iterations at most. Default 50. */
  maxIterations?: number;
  /** Stop when no centroid moves more than this (squared, relative to the data spread). Default 1e-6. */
  tolerance?: number;
  /** k-means++ restarts; the lowest inertia wins. Default 1. */
  restarts?: number;
}

export interface KMeansResult {
  /** k × dim centroids, row-major. */
  centroids: Float32Array;
  /** Number of clusters found (≤ requested k). */
  k: number;
  /** Cluster of each row. */
  labels: Int32Array;
  /** Total weight of each cluster. */
  weights: Float64Array;
  /** Weighted sum of squared distances to the nearest centroid. */
  inertia: number;
  iterations: number;
}

function sqDist(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const d = a[ai + j] - b[bi + j];
    s += d * d;
  }
  return s;
}

/** k-means++: the first centre by weight, each next with probability ∝ weight × squared distance. */
function seedCentres(
  data: Float32Array,
  n: number,
  dim: number,
  w: (i: number) => number,
  k: number,
  rng: Random,
): Float32Array {
  const centres = new Float32Array(k * dim);
  const d2 = new Float64Array(n).fill(Infinity);
  let total = 0;
  for (let i = 0; i < n; i++) total += w(i);
  let pick = 0;
  let x = rng.next() * total;
  for (let i = 0; i < n; i++) {
    x -= w(i);
    if (x < 0) {
      pick = i;
      break;
    }
  }
  for (let c = 0; c < k; c++) {
    centres.set(data.subarray(pick * dim, pick * dim + dim), c * dim);
    if (c === k - 1) break;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const d = sqDist(data, i * dim, centres, c * dim, dim);
      if (d < d2[i]) d2[i] = d;
      sum += w(i) * d2[i];
    }
    if (!(sum > 0)) return centres.slice(0, (c + 1) * dim); // every point is on a centre already
    x = rng.next() * sum;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      x -= w(i) * d2[i];
      if (x < 0) {
        pick = i;
        break;
      }
    }
  }
  return centres;
}

function lloyd(
  data: Float32Array,
  n: number,
  dim: number,
  w: (i: number) => number,
  centres: Float32Array,
  maxIterations: number,
  tolerance: number,
): KMeansResult {
  const k = centres.length / dim;
  const labels = new Int32Array(n);
  const sums = new Float64Array(k * dim);
  const cw = new Float64Array(k);
  let inertia = 0;
  let iterations = 0;
  for (let it = 0; it < maxIterations; it++) {
    iterations = it + 1;
    inertia = 0;
    sums.fill(0);
    cw.fill(0);
    for (let i = 0; i < n; i++) {
      let best = 0,
        bd = Infinity;
      for (let c = 0; c < k; c++) {
        const d = sqDist(data, i * dim, centres, c * dim, dim);
        if (d < bd) {
          bd = d;
          best = c;
        }
      }
      labels[i] = best;
      const wi = w(i);
      inertia += wi * bd;
      cw[best] += wi;
      for (let j = 0; j < dim; j++) sums[best * dim + j] += wi * data[i * dim + j];
    }
    let moved = 0;
    for (let c = 0; c < k; c++) {
      if (cw[c] <= 0) continue; // an empty cluster keeps its centre
      for (let j = 0; j < dim; j++) {
        const v = sums[c * dim + j] / cw[c];
        const d = v - centres[c * dim + j];
        moved = Math.max(moved, d * d);
        centres[c * dim + j] = v;
      }
    }
    if (moved <= tolerance) break;
  }
  return { centroids: centres, k, labels, weights: cw, inertia, iterations };
}

/**
 * Weighted k-means of `n` rows of `dim` floats. Empty clusters (possible only with
 * duplicate points) are dropped, so `k` in the result may be smaller than asked.
 */
export function kmeans(data: Float32Array, n: number, dim: number, options: KMeansOptions): KMeansResult {
  const k = requireInt('k', options.k, 1, Infinity);
  if (data.length < n * dim) throw new RangeError(`kmeans: ${data.length} floats for ${n}×${dim}`);
  if (n === 0) {
    return {
      centroids: new Float32Array(0),
      k: 0,
      labels: new Int32Array(0),
      weights: new Float64Array(0),
      inertia: 0,
      iterations: 0,
    };
  }
  const weights = options.weights;
  const w = weights ? (i: number): number => weights[i] : (): number => 1;
  const rng = new Random(options.seed ?? 0);
  // Tolerance is relative to the spread of the data so it means the same in Lab and in PCA units.
  let spread = 0;
  for (let j = 0; j < dim; j++) {
    let s = 0,
      s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = data[i * dim + j];
      s += v;
      s2 += v * v;
    }
    spread += Math.max(0, s2 / n - (s / n) ** 2);
  }
  const tol = (options.tolerance ?? 1e-6) * Math.max(spread, 1e-12);
  let best: KMeansResult | undefined;
  for (let r = 0; r < Math.max(1, options.restarts ?? 1); r++) {
    const centres = seedCentres(data, n, dim, w, Math.min(k, n), rng);
    const res = lloyd(data, n, dim, w, centres, options.maxIterations ?? 50, tol);
    if (!best || res.inertia < best.inertia) best = res;
  }
  return compact(best!, dim);
}

/** Drops clusters that ended with no weight and renumbers the labels. */
function compact(r: KMeansResult, dim: number): KMeansResult {
  const keep: number[] = [];
  for (let c = 0; c < r.k; c++) if (r.weights[c] > 0) keep.push(c);
  if (keep.length === r.k) return r;
  const map = new Int32Array(r.k).fill(-1);
  keep.forEach((c, i) => (map[c] = i));
  const centroids = new Float32Array(keep.length * dim);
  keep.forEach((c, i) => centroids.set(r.centroids.subarray(c * dim, c * dim + dim), i * dim));
  return {
    centroids,
    k: keep.length,
    labels: r.labels.map((l) => map[l]),
    weights: Float64Array.from(keep, (c) => r.weights[c]),
    inertia: r.inertia,
    iterations: r.iterations,
  };
}

/** Euclidean distances between the given rows (m × m, row-major), for silhouettes. */
export function pairwiseDistances(data: Float32Array, dim: number, rows: ArrayLike<number>): Float32Array {
  const m = rows.length;
  const out = new Float32Array(m * m);
  for (let s = 0; s < m; s++) {
    for (let t = s + 1; t < m; t++) {
      const d = Math.sqrt(sqDist(data, rows[s] * dim, data, rows[t] * dim, dim));
      out[s * m + t] = d;
      out[t * m + s] = d;
    }
  }
  return out;
}

/**
 * Mean silhouette of a labelling of m points given their m × m distances: for each
 * point, (b − a) / max(a, b), a the mean distance to its own cluster, b the smallest
 * mean distance to another. Points alone in their cluster score 0; labels < 0 (noise)
 * are left out.
 */
export function silhouette(dist: Float32Array, labels: ArrayLike<number>, k: number): number {
  const m = labels.length;
  if (m < 2 || k < 2) return 0;
  const sum = new Float64Array(k);
  const count = new Int32Array(k);
  let counted = 0;
  for (let t = 0; t < m; t++) if (labels[t] >= 0) count[labels[t]]++;
  let total = 0;
  for (let s = 0; s < m; s++) {
    const li = labels[s];
    if (li < 0) continue;
    counted++;
    sum.fill(0);
    for (let t = 0; t < m; t++) if (t !== s && labels[t] >= 0) sum[labels[t]] += dist[s * m + t];
    if (count[li] <= 1) continue;
    const a = sum[li] / (count[li] - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== li && count[c] > 0) b = Math.min(b, sum[c] / count[c]);
    if (!Number.isFinite(b)) continue;
    const d = Math.max(a, b);
    total += d > 0 ? (b - a) / d : 0;
  }
  return counted ? total / counted : 0;
}
