import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { invalidArgument } from '../../errors.js';
import { CLUSTER_METHODS, clusterStills, type ClusterMethod } from '../../looks/cluster.js';
import { defaultFeatures, type Normalization } from '../../looks/vectors.js';
import { choiceArg, intArg } from '../args.js';
import type { Run } from '../main.js';
import {
  atlasOption,
  featuresOption,
  jsonOption,
  normalizeOption,
  seedOption,
  threadsOption,
} from '../options.js';

interface ClusterFlags {
  atlas: string;
  features?: string;
  method: ClusterMethod;
  k: string;
  maxK?: number;
  name: string;
  components?: number;
  minClusterSize?: number;
  minSamples?: number;
  normalize: Normalization;
  seed?: number;
  palettes: boolean;
  threads?: number;
  json?: boolean;
}

function parseK(v: string): number | 'auto' {
  if (v === 'auto') return 'auto';
  if (!/^\d+$/.test(v.trim()) || Number(v) < 2 || Number(v) > 1000)
    throw invalidArgument('--k', "'auto' or an integer 2–1000", v);
  return Number(v);
}

export function registerCluster(program: Command, run: Run): void {
  program
    .command('cluster')
    .description(
      'group stills into clusters (PCA, then k-means or HDBSCAN) and store them by name; summaries: size, medoid stills, movies, palette',
    )
    .addOption(atlasOption())
    .requiredOption(
      '--name <name>',
      'name to store the clusters under (render --color-by cluster --clusters NAME)',
    )
    .addOption(featuresOption())
    .option(
      '--method <m>',
      Object.keys(CLUSTER_METHODS).join('|'),
      choiceArg('--method', Object.keys(CLUSTER_METHODS) as ClusterMethod[]),
      'kmeans',
    )
    .option('--k <auto|N>', "k-means clusters: a number, or 'auto' (best silhouette on a sample)", 'auto')
    .option('--max-k <n>', "largest k tried by 'auto' (default min(20, √stills))", intArg('--max-k', 2, 200))
    .option('--components <n>', 'PCA components (default min(50, dim))', intArg('--components', 1, 4096))
    .option(
      '--min-cluster-size <n>',
      'HDBSCAN smallest cluster (default max(5, √stills))',
      intArg('--min-cluster-size', 2, 1_000_000),
    )
    .option(
      '--min-samples <n>',
      'HDBSCAN core-distance neighbours (default min(5, min cluster size))',
      intArg('--min-samples', 1, 1000),
    )
    .addOption(normalizeOption())
    .addOption(seedOption('seed (default 0)'))
    .option('--no-palettes', 'skip cluster palettes (no still palettes computed)')
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action((o: ClusterFlags) =>
      run(o, async (ctx) => {
        const k = parseK(o.k);
        const atlas = await openAtlas(o.atlas);
        try {
          const features = o.features ?? defaultFeatures(atlas);
          const r = await clusterStills(atlas, {
            features,
            name: o.name,
            method: o.method,
            k,
            maxK: o.maxK,
            components: o.components,
            minClusterSize: o.minClusterSize,
            minSamples: o.minSamples,
            normalize: o.normalize,
            seed: o.seed,
            palettes: o.palettes,
            threads: o.threads,
            onProgress: ctx.progress.callback,
            signal: ctx.signal,
          });
          ctx.result(
            { command: 'cluster', atlas: atlas.paths.root, ...r },
            [
              `${r.name}: ${r.k} clusters of ${r.n} stills by ${r.method} on ${r.components} PCA components of ${features} (silhouette ${r.silhouette.toFixed(3)}${r.noise ? `, ${r.noise} noise` : ''}) → ${r.dir}`,
              ...r.clusters.map(
                (c) =>
                  `  cluster ${c.cluster}: ${c.size} stills, ${c.movieCount} movies (${c.movies
                    .slice(0, 3)
                    .map((m) => `${m.movie} ×${m.stills}`)
                    .join(', ')}), medoid still ${c.medoids[0]?.stillId ?? '-'}` +
                  (c.palette.length ? `, palette ${c.palette.map((p) => p.hex).join(' ')}` : ''),
              ),
            ].join('\n'),
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
