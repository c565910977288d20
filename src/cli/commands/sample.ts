import type { Command } from 'commander';
import { generateSample } from '../../sources/sample.js';
import { intArg } from '../args.js';
import type { Run } from '../main.js';

interface SampleFlags {
  movies: number;
  stills: number;
  seed: number;
  width: number;
  withBadFiles?: boolean;
  json?: boolean;
}

export function registerSample(program: Command, run: Run): void {
  program
    .command('sample')
    .description(
      'write a deterministic synthetic collection of film stills (movie folders + movies.csv with look families)',
    )
    .argument('<dir>', 'output folder')
    .option('--movies <n>', 'number of movies', intArg('--movies', 1, 10000), 24)
    .option('--stills <n>', 'stills per movie', intArg('--stills', 1, 100000), 40)
    .option('--seed <n>', 'random seed', intArg('--seed', 0, 2 ** 32 - 1), 7)
    .option('--width <px>', 'long side of each still in pixels', intArg('--width', 32, 4096), 480)
    .option('--with-bad-files', 'add a movie of hostile files (corrupt, truncated, tiny, bombs, odd colour modes)')
    .option('--json', 'machine-readable output')
    .action((dir: string, o: SampleFlags) =>
      run(o, async (ctx) => {
        const r = await generateSample(dir, {
          movies: o.movies,
          stills: o.stills,
          seed: o.seed,
          width: o.width,
          withBadFiles: Boolean(o.withBadFiles),
          onProgress: ctx.progress.callback,
          signal: ctx.signal,
        });
        ctx.result(
          { command: 'sample', ...r },
          `wrote ${r.movies} movies, ${r.stills} stills${r.badFiles ? ` and ${r.badFiles} hostile files` : ''} to ${r.dir} (families: ${r.families.join(', ')})`,
        );
      }),
    );
}
