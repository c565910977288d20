/**
 * Clusters of stills: normalised features (vectors.ts) → PCA (numeric/pca.ts) →
 * k-means (k given, or chosen by the best mean silhouette on a sample) or HDBSCAN.
 * Each cluster is summarised by its size, medoid stills, the movies it spans and its
 * palette.
 *
 * Stored by name in `<atlas>/clusters/<name>/` (labels.json + clusters.json) through
 * src/atlas/clusters.ts, which also holds the readers every stage uses.
 */
import type { Atlas } from '../atlas/atlas.js';
import { writeClusters, type ClusterSummary, type StoredClustering } from '../atlas/clusters.js';
import { checkArtefactName, clusterDir } from '../atlas/paths.js';
import { AtlasError, invalidArgument, throwIfAborted, unknownChoice } from '../errors.js';
import { fitPca, transformPca } from '../numeric/pca.js';
import { Random } from '../numeric/random.js';
import type { PaletteColour } from '../imaging/palette-colour.js';
import { naturalCompare } from '../sources/scan.js';
import type { StageOptions } from '../types.js';
import { hdbscan } from './hdbscan.js';
import { kmeans, pairwiseDistances, silhouette } from './kmeans.js';
import {
  computePalettes,
  describePalette,
  mergePalettes,
  stillPaletteOf,
  type PackedPalette,
} from './palette.js';
import { DEFAULT_NORMALIZATION, LookVectors, stillIndex, stillRef, type Normalization } from './vectors.js';

// The stored form of clusterings lives in src/atlas/clusters.ts; re-exported for the looks stage's users.
export {
  readClusters,
  readClusterLabels,
  type ClusterLabels,
  type ClusterSummary,
  type StoredClusters,
} from '../atlas/clusters.js';
import { checkInt } from '../validate.js';

export type ClusterMethod = 'kmeans' | 'hdbscan';
export const CLUSTER_METHODS: Record<ClusterMethod, { description: string }> = {
  kmeans: {
    description: 'k-means++ (seeded) on PCA-reduced features; k given or chosen by silhouette on a sample',
  },
  hdbscan: {
    description:
      'HDBSCAN (mutual reachability over a k-NN graph, MST, excess of mass); finds k itself and leaves noise',
  },
};

// ---------------------------------------------------------------------------------------------
// Read-only: medoids and the summaries of a clustering stored as labels only (the explorer's
// clusters view). `clusterStills` below computes and stores.

/** Members compared when choosing medoids: a larger group is sampled (seeded) down to this many. */
export const MEDOID_SAMPLE = 400;

/**
 * The `count` most central rows of a group: the smallest total euclidean distance to
 * the group's other rows, the medoid first, ties by row number. Over at most
 * `MEDOID_SAMPLE` rows, drawn with `seed` when the group is larger. `source.gather`
 * reads the given rows as a rows × dim matrix (PCA-reduced rows for `clusterStills`,
 * normalised features for a clustering stored without its summary).
 */
export function medoids(
  rows: readonly number[],
  count: number,
  source: { readonly dim: number; gather(rows: readonly number[]): Float32Array },
  seed: number,
): number[] {
  const pick =
    rows.length <= MEDOID_SAMPLE ? [...rows] : new Random(seed).shuffle([...rows]).slice(0, MEDOID_SAMPLE);
  const dm = pairwiseDistances(
    source.gather(pick),
    source.dim,
    Int32Array.from({ length: pick.length }, (_, i) => i),
  );
  const total = pick.map((_, i) => {
    let s = 0;
    for (let j = 0; j < pick.length; j++) s += dm[i * pick.length + j];
    return s;
  });
  return pick
    .map((r, i) => ({ r, t: total[i] }))
    .sort((a, b) => a.t - b.t || a.r - b.r)
    .slice(0, count)
    .map((e) => e.r);
}

/** Rows of a row-major matrix, gathered (rows.length × dim). */
function gatherRows(x: Float32Array, dim: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(x.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}

/** One label of a clustering stored without its summary, summarised by `summariseLabels`. */
export interface LabelSummary {
  label: string;
  /** Stills with this label (of those `movieOf` knows). */
  size: number;
  /** Movies with stills here, most stills first (at most `count`). */
  movies: { movieId: number; stills: number }[];
  /** The most central stills (`medoids` over the vectors' rows), or the first stills without vectors. */
  medoids: number[];
}

/**
 * Summaries of a clustering known only by its labels (`labels.json` or `ids.u32` +
 * `labels.u32` written by another tool, with no `clusters.json`): per label, in
 * natural order, its size, the movies it spans and `count` medoid stills in the space
 * of `vectors` (normalised features). Stills `movieOf` does not know are left out.
 * Read-only.
 */
export function summariseLabels(
  byStill: ReadonlyMap<number, string>,
  options: {
    movieOf: (stillId: number) => number | undefined;
    vectors?: LookVectors;
    count: number;
    seed?: number;
  },
): LabelSummary[] {
  const groups = new Map<string, number[]>();
  for (const [id, label] of byStill) {
    if (options.movieOf(id) === undefined) continue;
    let g = groups.get(label);
    if (!g) groups.set(label, (g = []));
    g.push(id);
  }
  const v = options.vectors;
  return [...groups.entries()]
    .sort((a, b) => naturalCompare(a[0], b[0]))
    .map(([label, ids]) => {
      const movieCounts = new Map<number, number>();
      for (const id of ids) {
        const m = options.movieOf(id)!;
        movieCounts.set(m, (movieCounts.get(m) ?? 0) + 1);
      }
      const movies = [...movieCounts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, options.count)
        .map(([movieId, stills]) => ({ movieId, stills }));
      const rows = v ? ids.map((id) => v.rowOf(id)).filter((r): r is number => r !== undefined) : [];
      const central =
        v && rows.length
          ? medoids(rows, options.count, v, options.seed ?? 0).map((r) => v.stillIds[r])
          : ids.slice(0, options.count);
      return { label, size: ids.length, movies, medoids: central };
    });
}

export interface ClusterOptions extends StageOptions {
  features: string;
  /** Name to store the clustering under (a directory name). */
  name: string;
  method?: ClusterMethod;
  /** k-means clusters: a number 2–1000, or 'auto' (default): the best silhouette for k = 2…maxK. */
  k?: number | 'auto';
  /** Largest k tried by 'auto'. Default min(20, √n); 2–200. */
  maxK?: number;
  /** PCA components before clustering. Default min(50, dim, n − 1). */
  components?: number;
  normalize?: Normalization;
  /** HDBSCAN smallest cluster. Default max(5, round(√n)). */
  minClusterSize?: number;
  /** HDBSCAN core-distance neighbours. Default min(5, minClusterSize). */
  minSamples?: number;
  /** Stills used to choose k and for silhouettes. Default 2,000. */
  sample?: number;
  seed?: number;
  /** Medoid stills per cluster. Default 3. */
  medoids?: number;
  /** Summarise palettes (computes and stores still palettes on first use). Default true. */
  palettes?: boolean;
  threads?: number;
}

/** What `clusterStills` returns, and stores as the clustering's `clusters.json`. */
export interface ClusterResult extends StoredClustering {
  method: ClusterMethod;
  normalize: Normalization;
}

function sampleRows(n: number, m: number, rng: Random): Int32Array {
  if (n <= m) return Int32Array.from({ length: n }, (_, i) => i);
  const all = rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, m);
  return Int32Array.from(all.sort((a, b) => a - b));
}

export async function clusterStills(atlas: Atlas, options: ClusterOptions): Promise<ClusterResult> {
  const started = performance.now();
  const name = checkArtefactName('clustering', options.name);
  const method = options.method ?? 'kmeans';
  if (!Object.hasOwn(CLUSTER_METHODS, method))
    throw unknownChoice('cluster method', method, Object.keys(CLUSTER_METHODS));
  const seed = options.seed ?? 0;
  const normalize = options.normalize ?? DEFAULT_NORMALIZATION;
  const vectors = LookVectors.open(atlas, options.features, normalize);
  const n = vectors.rows;
  if (n < 3)
    throw new AtlasError(
      'INVALID_ARGUMENT',
      `clustering needs at least 3 stills with '${options.features}' features, the atlas has ${n}`,
      { value: String(n) },
    );
  const components = options.components ?? Math.min(50, vectors.dim, n - 1);
  checkInt('--components', components, 1, Math.min(vectors.dim, n));
  const sampleSize = options.sample ?? 2000;
  checkInt('--sample', sampleSize, 10, 20000);
  const progress = (note: string, done: number, total: number): void =>
    options.onProgress?.({ stage: `cluster ${name}`, done, total, note });
  progress('pca', 0, 3);
  const pca = await fitPca(vectors, { components, seed, signal: options.signal, threads: options.threads });
  const x = await transformPca(vectors, pca, { signal: options.signal, threads: options.threads });
  const explained = pca.explainedVarianceRatio.reduce((a, v) => a + v, 0);
  throwIfAborted(options.signal);
  const rng = new Random(seed);
  const sample = sampleRows(n, sampleSize, rng);
  const sampleX = new Float32Array(sample.length * components);
  sample.forEach((r, i) => sampleX.set(x.subarray(r * components, (r + 1) * components), i * components));
  const sampleDist = pairwiseDistances(
    sampleX,
    components,
    Int32Array.from({ length: sample.length }, (_, i) => i),
  );
  const sampleLabels = (labels: Int32Array): Int32Array => Int32Array.from(sample, (r) => labels[r]);

  let labels: Int32Array;
  let k: number;
  let tried: { k: number; silhouette: number }[] | undefined;
  const params: Record<string, number | string> = { components };
  progress(method, 1, 3);
  if (method === 'kmeans') {
    let kk: number;
    if (options.k === undefined || options.k === 'auto') {
      const maxK = options.maxK ?? Math.max(2, Math.min(20, Math.floor(Math.sqrt(n))));
      checkInt('--max-k', maxK, 2, 200);
      tried = [];
      let bestK = 2;
      let bestS = -Infinity;
      for (let c = 2; c <= Math.min(maxK, sample.length - 1); c++) {
        throwIfAborted(options.signal);
        const r = kmeans(sampleX, sample.length, components, { k: c, seed: seed + c, restarts: 3 });
        const s = silhouette(sampleDist, r.labels, r.k);
        tried.push({ k: c, silhouette: Math.round(s * 1e4) / 1e4 });
        if (s > bestS + 1e-9) {
          bestS = s;
          bestK = c;
        }
      }
      kk = bestK;
      params.maxK = maxK;
    } else {
      kk = options.k;
      if (!Number.isInteger(kk) || kk < 2 || kk > Math.min(1000, n))
        throw invalidArgument('--k', `auto or an integer 2–${Math.min(1000, n)}`, kk);
    }
    const r = kmeans(x, n, components, { k: kk, seed, restarts: 3 });
    labels = r.labels;
    k = r.k;
    params.k = kk;
  } else {
    const minClusterSize = options.minClusterSize ?? Math.max(5, Math.round(Math.sqrt(n)));
    const minSamples = options.minSamples ?? Math.min(5, minClusterSize);
    const r = await hdbscan(x, n, components, {
      minClusterSize,
      minSamples,
      seed,
      threads: options.threads,
      signal: options.signal,
    });
    labels = r.labels;
    k = r.clusters;
    params.minClusterSize = minClusterSize;
    params.minSamples = minSamples;
  }
  const sil = silhouette(sampleDist, sampleLabels(labels), k);
  progress('summaries', 2, 3);

  // Summaries.
  const index = await stillIndex(atlas);
  const medoidCount = options.medoids ?? 3;
  const palettes =
    options.palettes === false ? undefined : (await computePalettes(atlas, { signal: options.signal })).set;
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) if (labels[i] >= 0) members[labels[i]].push(i);
  const reduced = { dim: components, gather: (pick: readonly number[]) => gatherRows(x, components, pick) };
  const clusters: ClusterSummary[] = members.map((rows, c) => {
    const central = medoids(rows, medoidCount, reduced, seed + c).map((r) =>
      stillRef(index, vectors.stillIds[r]),
    );
    const counts = new Map<string, number>();
    for (const r of rows) {
      const ref = stillRef(index, vectors.stillIds[r]);
      counts.set(ref.movie, (counts.get(ref.movie) ?? 0) + 1);
    }
    const movies = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([movie, stills]) => ({ movie, stills }));
    let palette: PaletteColour[] = [];
    if (palettes) {
      const ps: PackedPalette[] = [];
      for (const r of rows) {
        const p = stillPaletteOf(palettes, vectors.stillIds[r]);
        if (p) ps.push(p);
      }
      palette = describePalette(mergePalettes(ps, { seed }));
    }
    return {
      cluster: c,
      size: rows.length,
      medoids: central,
      movies: movies.slice(0, 10),
      movieCount: movies.length,
      palette,
    };
  });
  const noise = labels.reduce((a, l) => a + (l < 0 ? 1 : 0), 0);
  const dir = clusterDir(atlas.paths, name);
  const result: ClusterResult = {
    name,
    features: options.features,
    method,
    normalize,
    components,
    explainedVariance: Math.round(explained * 1e4) / 1e4,
    n,
    k,
    noise,
    silhouette: Math.round(sil * 1e4) / 1e4,
    ...(tried ? { tried } : {}),
    seed,
    params,
    clusters,
    dir,
    seconds: 0,
  };
  result.seconds = (performance.now() - started) / 1000;
  writeClusters(atlas, name, vectors.stillIds, labels, result);
  progress('done', 3, 3);
  return result;
}
