import type { Command } from 'commander';
import { DEFAULT_SAMPLE_FAMILIES, LOOK_FAMILIES, generateSample } from '../../sources/sample/index.js';
import { invalidArgument } from '../../errors.js';
import { intArg } from '../args.js';
import type { Run } from '../main.js';
import { jsonOption } from '../options.js';

interface SampleFlags {
  movies: number;
  stills: number;
  seed: number;
  width: number;
  families?: string;
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
    .option(
      '--families <n|names>',
      `look families: how many (1–${LOOK_FAMILIES.length}, default ${DEFAULT_SAMPLE_FAMILIES}) or a comma list of ${LOOK_FAMILIES.map((f) => f.name).join(', ')}`,
    )
    .option(
      '--with-bad-files',
      'add a movie of hostile files (corrupt, truncated, tiny, bombs, odd colour modes)',
    )
    .addOption(jsonOption())
    .action((dir: string, o: SampleFlags) =>
      run(o, async (ctx) => {
        const r = await generateSample(dir, {
          movies: o.movies,
          stills: o.stills,
          seed: o.seed,
          width: o.width,
          families: parseFamilies(o.families),
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

/** `--families 6` or `--families noir,teal-orange`; names are checked by generateSample. */
function parseFamilies(value: string | undefined): number | string[] | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (n < 1 || n > LOOK_FAMILIES.length)
      throw invalidArgument('--families', `a count 1–${LOOK_FAMILIES.length} or family names`, value);
    return n;
  }
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw invalidArgument('--families', 'a count or family names', value);
  return names;
}
