import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { checkMapOptions, mapLayout, REDUCERS, type MapOptions } from '../../layout/reduce.js';
import { listLayouts } from '../../atlas/layouts.js';
import { choiceArg, intArg, numberArg } from '../args.js';
import type { Run } from '../main.js';

interface MapFlags {
  atlas: string;
  features: string;
  reduce: string;
  name?: string;
  standardize?: boolean;
  components?: number;
  pca?: number;
  pcaMethod?: 'auto' | 'exact' | 'randomized';
  seed?: number;
  perplexity?: number;
  iterations?: number;
  neighbors?: number;
  minDist?: number;
  epochs?: number;
  threads?: number;
  json?: boolean;
}

function pct(v: number): string {
  return `${(100 * v).toFixed(2)}%`;
}

export function registerMap(program: Command, run: Run): void {
  program
    .command('map')
    .description('reduce a feature set to a 2-D map (PCA, t-SNE or UMAP); writes a points layout')
    .requiredOption('--atlas <dir>', 'atlas directory')
    .requiredOption('--features <id>', 'feature set to map (vgg16, color, …)')
    .requiredOption('--reduce <method>', Object.keys(REDUCERS).join('|'))
    .option('--name <name>', 'name of the layout to write (default: the --reduce method)')
    .option(
      '--standardize',
      "scale every feature to zero mean and unit variance first (sklearn's StandardScaler)",
    )
    .option(
      '--components <n>',
      'pca: components to fit and report (the map is the first two; default 2)',
      intArg('--components', 2, 100),
    )
    .option(
      '--pca <n>',
      'tsne/umap: PCA front-end dimensions, 0 = none (default 50)',
      intArg('--pca', 0, 1000),
    )
    .option(
      '--pca-method <m>',
      'auto|exact|randomized (default auto: randomized above 1,024 dimensions)',
      choiceArg('--pca-method', ['auto', 'exact', 'randomized'] as const),
    )
    .option('--seed <n>', 'seed for every random step (default 0)', intArg('--seed', 0, 2 ** 31 - 1))
    .option('--perplexity <p>', 'tsne: perplexity (default 30)', numberArg('--perplexity', 2, 100))
    .option(
      '--iterations <n>',
      'tsne: gradient-descent iterations (default 750)',
      intArg('--iterations', 50, 100000),
    )
    .option('--neighbors <k>', 'umap: neighbours (default 15)', intArg('--neighbors', 2, 200))
    .option('--min-dist <d>', 'umap: minimum distance (default 0.1)', numberArg('--min-dist', 0, 1))
    .option('--epochs <n>', 'umap: optimisation epochs (default: by n)', intArg('--epochs', 10, 10000))
    .option('--threads <n>', 'threads (default: all cores)', intArg('--threads', 1, 1024))
    .option('--json', 'machine-readable output (JSON lines)')
    .action((o: MapFlags) =>
      run(o, async (ctx) => {
        const options: MapOptions = {
          features: o.features,
          reduce: o.reduce,
          name: o.name ?? o.reduce,
          standardize: o.standardize,
          components: o.components,
          pca: o.pca,
          pcaMethod: o.pcaMethod,
          seed: o.seed,
          perplexity: o.perplexity,
          iterations: o.iterations,
          neighbors: o.neighbors,
          minDist: o.minDist,
          epochs: o.epochs,
          threads: o.threads,
          onProgress: ctx.progress.callback,
          signal: ctx.signal,
        };
        checkMapOptions(options); // bad names fail before the atlas is opened
        const atlas = await openAtlas(o.atlas);
        try {
          const r = await mapLayout(atlas, options);
          const ratios = r.explainedVarianceRatio;
          let text = `${r.name}: ${r.n} stills, ${r.dim}-d '${r.features}' features → 2-D by ${r.reduce}`;
          if (r.reduce === 'pca') {
            let sum = 0;
            for (const v of ratios) sum += v;
            text +=
              ` (${r.pcaMethod}${o.standardize ? ', standardised' : ''}) in ${r.seconds.total.toFixed(2)} s\n` +
              `explained variance ratio: ${ratios.map((v) => v.toFixed(4)).join(', ')}` +
              (ratios.length > 2 ? ` (total ${pct(sum)})` : '');
          } else {
            const front =
              r.reducerDim < r.dim
                ? `PCA-${r.reducerDim} front end (${r.pcaMethod}, ${pct(ratios.reduce((a, b) => a + b, 0))} of the variance) ${r.seconds.pca.toFixed(2)} s, `
                : '';
            text += ` in ${r.seconds.total.toFixed(2)} s (${front}${r.reduce} ${r.seconds.reduce.toFixed(2)} s)`;
          }
          const { manifest: _m, ...rest } = r;
          ctx.result({ command: 'map', atlas: atlas.paths.root, ...rest, params: r.manifest.params }, text);
        } finally {
          await atlas.close();
        }
      }),
    );

  program
    .command('layouts')
    .description('list the layouts (maps and grids) stored in an atlas')
    .requiredOption('--atlas <dir>', 'atlas directory')
    .option('--json', 'machine-readable output (JSON lines)')
    .action((o: { atlas: string; json?: boolean }) =>
      run(o, async (ctx) => {
        const atlas = await openAtlas(o.atlas, { readonly: true });
        try {
          const layouts = listLayouts(atlas).map((m) => ({
            name: m.name,
            kind: m.kind,
            method: m.method,
            features: m.features,
            n: m.n,
            ...(m.grid ? { grid: m.grid } : {}),
            createdAt: m.createdAt,
          }));
          const lines = layouts.map(
            (l) =>
              `${l.name.padEnd(16)} ${l.kind.padEnd(6)} ${l.method.padEnd(18)} ${l.features.padEnd(8)} ${String(l.n).padStart(7)}` +
              (l.grid ? `  ${l.grid.cols}x${l.grid.rows}` : ''),
          );
          ctx.result(
            { command: 'layouts', atlas: atlas.paths.root, layouts },
            layouts.length ? lines.join('\n') : 'no layouts yet (make one with `filmatlas map`)',
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
