/**
 * Stored clusterings: their file format, the one writer and the readers every stage
 * uses (the looks stage writes them, `render --color-by cluster` and the explorer read
 * them). Computing a clustering is the looks stage's work (src/looks/cluster.ts).
 *
 * `<atlas>/clusters/<name>/` holds `labels.json` (`{"ids": [...], "labels": [...]}`: a
 * cluster number per still id, or "noise" for HDBSCAN's noise) and `clusters.json`
 * (the parameters and the summaries). A clustering made elsewhere may instead bring
 * `ids.u32` + `labels.u32` (little-endian uint32: still ids and one cluster number per
 * id); `readClusterLabels` reads either. A clustering is written into a temporary
 * directory and swapped in whole, so a reader sees the old one or the new one.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AtlasError } from '../errors.js';
import type { Atlas } from './atlas.js';
import { isTempName, readJsonFile, replaceDirSync } from './files.js';
import type { PaletteColour } from './palettes.js';
import { clusterDir, isArtefactName } from './paths.js';

/** How a still is named in results and stored summaries. */
export interface StillRef {
  stillId: number;
  movie: string;
  /** Position in the movie (film order, from 0). */
  ordinal: number;
  /** Where the still came from (file path or URL). */
  source: string;
}

/** One cluster of a stored clustering, as `clusters.json` summarises it. */
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

/** What `clusters.json` holds: how a clustering was made, its quality and its clusters. */
export interface StoredClustering {
  name: string;
  features: string;
  /** The clustering method (looks' CLUSTER_METHODS). */
  method: string;
  /** The feature normalisation (looks' NORMALIZATIONS). */
  normalize: string;
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

/** Names of the clusterings stored in the atlas, sorted (temporaries and foreign entries skipped). */
export function listClusterings(atlas: Pick<Atlas, 'paths'>): string[] {
  if (!existsSync(atlas.paths.clusters)) return [];
  return readdirSync(atlas.paths.clusters, { withFileTypes: true })
    .filter((e) => e.isDirectory() && isArtefactName(e.name) && !isTempName(e.name))
    .map((e) => e.name)
    .sort();
}

/**
 * Stores a clustering under `name` (replacing one of that name whole): a label per
 * still id (negative: noise) and its summary. Returns its directory.
 */
export function writeClusters(
  atlas: Pick<Atlas, 'paths'>,
  name: string,
  ids: Uint32Array,
  labels: Int32Array,
  summary: StoredClustering,
): string {
  if (ids.length !== labels.length)
    throw new AtlasError('STATE', `clusters '${name}': ${ids.length} ids but ${labels.length} labels`);
  const dir = clusterDir(atlas.paths, name);
  replaceDirSync(dir, (tmp) => {
    const json = { ids: Array.from(ids), labels: Array.from(labels, (l) => (l < 0 ? 'noise' : l)) };
    writeFileSync(join(tmp, 'labels.json'), JSON.stringify(json) + '\n');
    writeFileSync(
      join(tmp, 'clusters.json'),
      JSON.stringify({ version: 1, createdAt: new Date().toISOString(), ...summary }, null, 2) + '\n',
    );
  });
  return dir;
}

/** A stored clustering: labels per still id and its summary. */
export interface StoredClusters {
  name: string;
  labels: Map<number, number | 'noise'>;
  summary: StoredClustering | undefined;
}

/**
 * Reads a clustering the looks stage stored (labels.json, and clusters.json when
 * present). A missing one is a NOT_FOUND error naming the clusterings there are.
 */
export function readClusters(atlas: Pick<Atlas, 'paths'>, name: string): StoredClusters {
  const dir = clusterDir(atlas.paths, name);
  const p = join(dir, 'labels.json');
  if (!existsSync(p)) {
    const known = listClusterings(atlas);
    throw new AtlasError('NOT_FOUND', `no clusters named '${name}' in ${atlas.paths.root}`, {
      value: name,
      suggestion: known.length ? `known: ${known.join(', ')}` : 'make one with `filmatlas cluster`',
    });
  }
  const j = JSON.parse(readFileSync(p, 'utf8')) as { ids: number[]; labels: (number | 'noise')[] };
  const labels = new Map<number, number | 'noise'>();
  j.ids.forEach((id, i) => labels.set(id, j.labels[i]));
  const sp = join(dir, 'clusters.json');
  const summary = existsSync(sp) ? (JSON.parse(readFileSync(sp, 'utf8')) as StoredClustering) : undefined;
  return { name, labels, summary };
}

/**
 * The summary (clusters.json) of a stored clustering, or undefined when it has none:
 * labels in another format, made outside the looks stage, or unreadable.
 */
export function readClusterSummary(atlas: Pick<Atlas, 'paths'>, name: string): StoredClustering | undefined {
  if (!existsSync(join(clusterDir(atlas.paths, name), 'labels.json'))) return undefined;
  return readJsonFile<StoredClustering>(join(clusterDir(atlas.paths, name), 'clusters.json'));
}

/** Cluster labels of a clustering, as display names ("cluster 3", "noise"). */
export interface ClusterLabels {
  name: string;
  /** Cluster label per still id. */
  byStill: Map<number, string>;
}

/**
 * Cluster labels stored in the atlas, if any: `<atlas>/clusters/<name>/ids.u32`
 * (still ids) with `labels.u32` (one cluster number per id), or a `labels.json`
 * `{ "ids": [...], "labels": [...] }` (numbers become "cluster N", strings stay as
 * they are). With no name, the only (or first, by name) clustering is used. Returns
 * null when the atlas has none (or the chosen one holds neither form); a name that is
 * not there is a NOT_FOUND error listing those that are.
 */
export function readClusterLabels(atlas: Pick<Atlas, 'paths'>, name?: string): ClusterLabels | null {
  const root = atlas.paths.clusters;
  if (!existsSync(root)) return null;
  const names = listClusterings(atlas);
  const chosen = name ?? names[0];
  if (!chosen || !names.includes(chosen)) {
    if (name)
      throw new AtlasError('NOT_FOUND', `no clusters named '${name}' in ${root}`, {
        value: name,
        suggestion: `known: [${names.join(', ')}]`,
      });
    return null;
  }
  const dir = clusterDir(atlas.paths, chosen);
  const byStill = new Map<number, string>();
  if (existsSync(join(dir, 'ids.u32')) && existsSync(join(dir, 'labels.u32'))) {
    const ib = readFileSync(join(dir, 'ids.u32')),
      lb = readFileSync(join(dir, 'labels.u32'));
    if (ib.length % 4 !== 0 || lb.length % 4 !== 0) {
      throw new AtlasError(
        'STATE',
        `clusters '${chosen}': ids.u32 and labels.u32 must hold whole uint32 values, not ${ib.length} and ${lb.length} bytes`,
        { value: dir },
      );
    }
    // Copies: aligned, whatever the offset of the file buffers.
    const ids = new Uint32Array(ib.buffer.slice(ib.byteOffset, ib.byteOffset + ib.length));
    const labels = new Uint32Array(lb.buffer.slice(lb.byteOffset, lb.byteOffset + lb.length));
    if (ids.length !== labels.length)
      throw new AtlasError('STATE', `clusters '${chosen}': ${ids.length} ids but ${labels.length} labels`);
    for (let i = 0; i < ids.length; i++) byStill.set(ids[i], `cluster ${labels[i]}`);
  } else if (existsSync(join(dir, 'labels.json'))) {
    const j = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as {
      ids: number[];
      labels: (number | string)[];
    };
    if (!Array.isArray(j.ids) || !Array.isArray(j.labels) || j.ids.length !== j.labels.length) {
      throw new AtlasError(
        'STATE',
        `clusters '${chosen}': labels.json needs equal-length "ids" and "labels" arrays`,
      );
    }
    j.ids.forEach((id, i) =>
      byStill.set(id, typeof j.labels[i] === 'number' ? `cluster ${j.labels[i]}` : String(j.labels[i])),
    );
  } else return null;
  return { name: chosen, byStill };
}
