import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { movieLabel } from '../../catalog/catalog.js';
import { AtlasError } from '../../errors.js';
import { PALETTE_SPACES, type PaletteSpace } from '../../imaging/palette-colour.js';
import {
  computePalettes,
  describePalette,
  MAX_PALETTE_K,
  stillPaletteOf,
  writeSwatchPng,
} from '../../looks/palette.js';
import { findMovie } from '../../looks/vectors.js';
import { choiceArg, intArg } from '../args.js';
import type { Run } from '../main.js';
import { atlasOption, jsonOption, kOption, movieOption, seedOption } from '../options.js';

interface PaletteFlags {
  atlas: string;
  movie?: string;
  still?: number;
  k?: number;
  space: PaletteSpace;
  png?: string;
  seed?: number;
  json?: boolean;
}

export function registerPalette(program: Command, run: Run): void {
  program
    .command('palette')
    .description(
      "colour palette of a movie or a still (k-means in CIELAB, weighted by pixel share); computes and stores every still's palette on first use",
    )
    .addOption(atlasOption())
    .addOption(movieOption())
    .option('--still <id>', 'a still, by id', intArg('--still', 1, 2 ** 31 - 1))
    .addOption(kOption('colours per palette (default 6)', MAX_PALETTE_K))
    .option(
      '--space <space>',
      `clustering space: ${Object.keys(PALETTE_SPACES).join('|')}`,
      choiceArg('--space', Object.keys(PALETTE_SPACES) as PaletteSpace[]),
      'lab',
    )
    .option('--png <file>', 'write a swatch strip PNG (each colour as wide as its share)')
    .addOption(seedOption('seed of the k-means++ draws (default 0)'))
    .addOption(jsonOption())
    .action((o: PaletteFlags) =>
      run(o, async (ctx) => {
        if (o.movie !== undefined && o.still !== undefined) {
          throw new AtlasError('INVALID_ARGUMENT', 'give --movie or --still, not both', {
            value: `${o.movie} / ${o.still}`,
          });
        }
        const atlas = await openAtlas(o.atlas);
        try {
          const movie = o.movie === undefined ? undefined : await findMovie(atlas, o.movie);
          const { set, result } = await computePalettes(atlas, {
            k: o.k,
            space: o.space,
            seed: o.seed,
            onProgress: ctx.progress.callback,
            signal: ctx.signal,
          });
          const base = {
            command: 'palette',
            atlas: atlas.paths.root,
            space: result.space,
            k: result.k,
            stored: result.dir,
            computed: result.computed,
            failed: result.failed,
          };
          let packed;
          let what: Record<string, unknown>;
          if (movie) {
            packed = set.movies.get(movie.id);
            if (!packed)
              throw new AtlasError('NOT_FOUND', `movie '${movieLabel(movie)}' has no readable stills`, {
                value: o.movie,
              });
            what = {
              movie: movieLabel(movie),
              movieId: movie.id,
              stills: (await atlas.catalog.stills('ready')).filter(
                (s) => s.movieId === movie.id && set.rowOf.has(s.id),
              ).length,
            };
          } else if (o.still !== undefined) {
            packed = stillPaletteOf(set, o.still);
            if (!packed)
              throw new AtlasError('NOT_FOUND', `no ready still ${o.still} in ${atlas.paths.root}`, {
                value: String(o.still),
              });
            what = { stillId: o.still };
          } else {
            ctx.result(
              { ...base, stills: result.stills, movies: result.movies, seconds: result.seconds },
              `palettes (${result.space}, k=${result.k}) for ${result.stills} stills and ${result.movies} movies in ${result.dir} (${result.computed} computed now, ${result.failed.length} unreadable)`,
            );
            return;
          }
          const palette = describePalette(packed);
          const png = o.png === undefined ? undefined : await writeSwatchPng(o.png, [packed]);
          ctx.result(
            { ...base, ...what, palette, ...(png ? { png } : {}) },
            [
              `${movie ? movieLabel(movie) : `still ${o.still}`} — ${result.space} palette, k=${result.k}:`,
              ...palette.map(
                (c) =>
                  `  ${c.hex}  ${(c.share * 100).toFixed(1).padStart(5)}%  L ${c.lab[0].toFixed(0)}  hue ${c.hsl[0].toFixed(0)}°  sat ${c.hsl[1].toFixed(2)}`,
              ),
              ...(png ? [`swatch ${png.path} (${png.width}×${png.height})`] : []),
            ].join('\n'),
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
