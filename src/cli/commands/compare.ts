import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { compareMovies } from '../../looks/sequence.js';
import { defaultFeatures, type Normalization } from '../../looks/vectors.js';
import { intArg, numberArg } from '../args.js';
import type { Run } from '../main.js';
import { atlasOption, featuresOption, jsonOption, normalizeOption } from '../options.js';

interface CompareFlags {
  atlas: string;
  features?: string;
  png?: string;
  columns?: number;
  band?: number;
  path: boolean;
  normalize: Normalization;
  json?: boolean;
}

export function registerCompare(program: Command, run: Run): void {
  program
    .command('compare <movieA> <movieB>')
    .description(
      'compare two movies as sequences of stills: dynamic time warping (path, normalised distance), rhythm curves, an aligned strip PNG',
    )
    .addOption(atlasOption())
    .addOption(featuresOption())
    .option('--png <file>', 'write the aligned strip (A above B, a band coloured by distance)')
    .option('--columns <n>', 'alignment steps shown in the strip (default 40)', intArg('--columns', 2, 500))
    .option(
      '--band <f>',
      'Sakoe–Chiba band as a fraction of the length (default 1: none)',
      numberArg('--band', 0.01, 1),
    )
    .option('--no-path', 'leave the alignment path out of the JSON')
    .addOption(normalizeOption())
    .addOption(jsonOption())
    .action((movieA: string, movieB: string, o: CompareFlags) =>
      run(o, async (ctx) => {
        const atlas = await openAtlas(o.atlas, { readonly: true });
        try {
          const features = o.features ?? defaultFeatures(atlas);
          const r = await compareMovies(atlas, {
            features,
            a: movieA,
            b: movieB,
            png: o.png,
            columns: o.columns,
            band: o.band,
            path: o.path,
            normalize: o.normalize,
            signal: ctx.signal,
          });
          ctx.result(
            { command: 'compare', atlas: atlas.paths.root, ...r },
            [
              `${r.a.movie} (${r.a.stills} stills) vs ${r.b.movie} (${r.b.stills} stills) by ${features}:`,
              `  DTW distance ${r.distance.toFixed(4)} (mean 1 − cos along a ${r.pathLength}-step alignment)`,
              `  rhythm (mean distance between consecutive stills): ${r.a.rhythmMean.toFixed(3)} vs ${r.b.rhythmMean.toFixed(3)}`,
              ...r.closest.map(
                (c) => `  aligned pair: still ${c.a.stillId} ↔ ${c.b.stillId} (${c.distance.toFixed(3)})`,
              ),
              ...(r.png ? [`  strip ${r.png.path} (${r.png.width}×${r.png.height})`] : []),
            ].join('\n'),
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
