/**
 * Clusters of stills: normalised features (vectors.ts) → PCA (numeric/pca.ts) →
 * k-means (k given, or chosen by the best mean silhouette on a sample) or HDBSCAN.
 * Each cluster is summarised by its size, medoid stills, the movies it spans and its
 * palette.
 *
 * Stored by name in `<atlas>/clusters/<name>/`: `labels.json` (`{"ids": [...],
 * "labels": [...]}`, a cluster number per still id, or "noise" for HDBSCAN's noise —
 * the format `filmatlas render --color-by cluster` reads) and `clusters.json` (the
 * parameters and the summaries). Written into a temporary directory and renamed into
 * place, so readers see the old clustering or the new one.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Atlas } from '../atlas/atlas.js';
import { AtlasError, invalidArgument, throwIfAborted, unknownChoice } from '../errors.js';
import { fitPca, transformPca } from '../numeric/pca.js';
import { Random } from '../numeric/random.js';
import type { PaletteColour } from '../imaging/palette-colour.js';
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
import {
  DEFAULT_NORMALIZATION,
  LookVectors,
  stillIndex,
  stillRef,
  type Normalization,
  type StillRef,
} from './vectors.js';
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

export interface ClusterSummary {
  /** Cluster number as stored in labels.json. */
  cluster: number;
  size: number;
  /** Stills nearest the rest of the cluster (smallest mean distance), most central first. */
  medoids: StillRef[];
  /** Movies with stills in the cluster, most stills first (top 10). */
  movies: { movie: string; stills: number }[];
  /** Distinct movies spanned. */
  movieCount: number;
  palette: PaletteColour[];
}

export interface ClusterResult {
  name: string;
  features: string;
  method: ClusterMethod;
  normalize: Normalization;
  components: number;
  /** Explained variance of the PCA components kept. */
  explainedVariance: number;
  n: number;
  k: number;
  noise: number;
  /** Mean silhouette on the sample (noise left out). */
  silhouette: number;
  /** For k = 'auto': the silhouette of each k tried. */
  tried?: { k: number; silhouette: number }[];
  seed: number;
  params: Record<string, number | string>;
  clusters: ClusterSummary[];
  dir: string;
  seconds: number;
}

const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;

export function clustersRoot(atlas: Atlas): string {
  return join(atlas.paths.root, 'clusters');
}

function checkName(name: string): string {
  if (!NAME.test(name) || name.includes('..')) {
    throw invalidArgument('--name', "a name of letters, digits, '-', '_' or '.' (at most 64)", name);
  }
  return name;
}

function sampleRows(n: number, m: number, rng: Random): Int32Array {
  if (n <= m) return Int32Array.from({ length: n }, (_, i) => i);
  const all = rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, m);
  return Int32Array.from(all.sort((a, b) => a - b));
}

export async function clusterStills(atlas: Atlas, options: ClusterOptions): Promise<ClusterResult> {
  const started = performance.now();
  const name = checkName(options.name);
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
  const index = stillIndex(atlas);
  const medoidCount = options.medoids ?? 3;
  const palettes =
    options.palettes === false ? undefined : (await computePalettes(atlas, { signal: options.signal })).set;
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) if (labels[i] >= 0) members[labels[i]].push(i);
  const clusters: ClusterSummary[] = members.map((rows, c) => {
    const pick = rows.length <= 400 ? rows : new Random(seed + c).shuffle([...rows]).slice(0, 400);
    const sub = new Float32Array(pick.length * components);
    pick.forEach((r, i) => sub.set(x.subarray(r * components, (r + 1) * components), i * components));
    const dm = pairwiseDistances(
      sub,
      components,
      Int32Array.from({ length: pick.length }, (_, i) => i),
    );
    const total = pick.map((_, i) => {
      let s = 0;
      for (let j = 0; j < pick.length; j++) s += dm[i * pick.length + j];
      return s;
    });
    const central = pick
      .map((r, i) => ({ r, t: total[i] }))
      .sort((a, b) => a.t - b.t || a.r - b.r)
      .slice(0, medoidCount)
      .map((e) => stillRef(index, vectors.stillIds[e.r]));
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
  const dir = join(clustersRoot(atlas), name);
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

/** Writes labels.json + clusters.json for a clustering, swapping the directory in whole. */
function writeClusters(
  atlas: Atlas,
  name: string,
  ids: Uint32Array,
  labels: Int32Array,
  result: ClusterResult,
): void {
  const root = clustersRoot(atlas);
  const dir = join(root, name);
  // The temporary directory lives outside clusters/, which readers list.
  const work = join(atlas.paths.root, 'looks', 'tmp');
  mkdirSync(work, { recursive: true });
  mkdirSync(root, { recursive: true });
  const tmp = join(work, `clusters-${name}-${process.pid}`);
  const old = join(work, `clusters-${name}-old-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const json = { ids: Array.from(ids), labels: Array.from(labels, (l) => (l < 0 ? 'noise' : l)) };
  writeFileSync(join(tmp, 'labels.json'), JSON.stringify(json) + '\n');
  writeFileSync(
    join(tmp, 'clusters.json'),
    JSON.stringify({ version: 1, createdAt: new Date().toISOString(), ...result }, null, 2) + '\n',
  );
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

/** A stored clustering: labels per still id and its summary. */
export interface StoredClusters {
  name: string;
  labels: Map<number, number | 'noise'>;
  summary: ClusterResult | undefined;
}

export function readClusters(atlas: Atlas, name: string): StoredClusters {
  const dir = join(clustersRoot(atlas), checkName(name));
  const p = join(dir, 'labels.json');
  if (!existsSync(p)) {
    const known = existsSync(clustersRoot(atlas)) ? readdirSync(clustersRoot(atlas)) : [];
    throw new AtlasError('NOT_FOUND', `no clusters named '${name}' in ${atlas.paths.root}`, {
      value: name,
      suggestion: known.length ? `known: ${known.join(', ')}` : 'make one with `filmatlas cluster`',
    });
  }
  const j = JSON.parse(readFileSync(p, 'utf8')) as { ids: number[]; labels: (number | 'noise')[] };
  const labels = new Map<number, number | 'noise'>();
  j.ids.forEach((id, i) => labels.set(id, j.labels[i]));
  const sp = join(dir, 'clusters.json');
  const summary = existsSync(sp) ? (JSON.parse(readFileSync(sp, 'utf8')) as ClusterResult) : undefined;
  return { name, labels, summary };
}
