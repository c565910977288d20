import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { checkMapOptions, MAP_OPTIONS, mapLayout, REDUCERS, type MapOptions } from '../../layout/reduce.js';
import { listLayouts } from '../../atlas/layouts.js';
import { optionOf } from '../args.js';
import type { Run } from '../main.js';
import { atlasOption, jsonOption } from '../options.js';

/** The flags of `map`: MapOptions' tunables (from MAP_OPTIONS) and the atlas. */
type MapFlags = Omit<MapOptions, 'name' | 'onProgress' | 'signal'> & {
  atlas: string;
  name?: string;
  json?: boolean;
};

function pct(v: number): string {
  return `${(100 * v).toFixed(2)}%`;
}

export function registerMap(program: Command, run: Run): void {
  const map = program
    .command('map')
    .description('reduce a feature set to a 2-D map (PCA, t-SNE or UMAP); writes a points layout')
    .addOption(atlasOption())
    .requiredOption('--features <id>', 'feature set to map (vgg16, color, …)')
    .requiredOption('--reduce <method>', Object.keys(REDUCERS).join('|'))
    .option('--name <name>', 'name of the layout to write (default: the --reduce method)');
  for (const spec of MAP_OPTIONS) map.addOption(optionOf(spec));
  map.addOption(jsonOption()).action((o: MapFlags) =>
    run(o, async (ctx) => {
      const { atlas: dir, json: _json, ...flags } = o;
      const options: MapOptions = {
        ...flags,
        name: o.name ?? o.reduce,
        onProgress: ctx.progress.callback,
        signal: ctx.signal,
      };
      checkMapOptions(options); // bad names fail before the atlas is opened
      const atlas = await openAtlas(dir);
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
    .addOption(atlasOption())
    .addOption(jsonOption())
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
