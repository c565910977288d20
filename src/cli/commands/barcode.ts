import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { movieLabel } from '../../catalog/catalog.js';
import { computePalettes, writeBarcodePng, type BarcodeMode } from '../../looks/palette.js';
import { findMovie } from '../../looks/vectors.js';
import { choiceArg, intArg } from '../args.js';
import type { Run } from '../main.js';
import { atlasOption, jsonOption, movieOption } from '../options.js';

interface BarcodeFlags {
  atlas: string;
  movie: string;
  png: string;
  mode: BarcodeMode;
  columnWidth?: number;
  height?: number;
  json?: boolean;
}

export function registerBarcode(program: Command, run: Run): void {
  program
    .command('barcode')
    .description('a movie barcode PNG: one column per still in film order, its mean or dominant colour')
    .addOption(atlasOption())
    .addOption(movieOption().makeOptionMandatory())
    .requiredOption('--png <file>', 'output PNG')
    .option(
      '--mode <mode>',
      'column colour: mean|dominant',
      choiceArg('--mode', ['mean', 'dominant'] as BarcodeMode[]),
      'mean',
    )
    .option(
      '--column-width <px>',
      'width of each still (default: ~800 px in all)',
      intArg('--column-width', 1, 64),
    )
    .option('--height <px>', 'height (default 200)', intArg('--height', 1, 4096))
    .addOption(jsonOption())
    .action((o: BarcodeFlags) =>
      run(o, async (ctx) => {
        const atlas = await openAtlas(o.atlas);
        try {
          const movie = await findMovie(atlas, o.movie);
          const { set } = await computePalettes(atlas, {
            onProgress: ctx.progress.callback,
            signal: ctx.signal,
          });
          const ids = (await atlas.catalog.stills('ready'))
            .filter((s) => s.movieId === movie.id && set.rowOf.has(s.id))
            .map((s) => s.id);
          const r = await writeBarcodePng(o.png, set, ids, {
            mode: o.mode,
            columnWidth: o.columnWidth,
            height: o.height,
          });
          ctx.result(
            {
              command: 'barcode',
              atlas: atlas.paths.root,
              movie: movieLabel(movie),
              movieId: movie.id,
              mode: o.mode,
              stills: ids.length,
              ...r,
            },
            `barcode of ${movieLabel(movie)}: ${ids.length} stills (${o.mode} colour) → ${r.path} (${r.width}×${r.height})`,
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
