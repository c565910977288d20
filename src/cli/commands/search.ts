import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { parseColourQuery, searchColour } from '../../looks/search.js';
import type { Run } from '../main.js';
import { atlasOption, jsonOption, kOption } from '../options.js';

interface SearchFlags {
  atlas: string;
  movies?: boolean;
  k?: number;
  json?: boolean;
}

export function registerSearch(program: Command, run: Run): void {
  const search = program.command('search').description('search the atlas');
  search
    .command('colour <colours>')
    .alias('color')
    .description(
      'stills (or movies) whose palettes are nearest the given colours (earth mover\'s distance in CIELAB); "#1f3a4d,#e08a3c" or weighted "#1f3a4d:3,#e08a3c:1"',
    )
    .addOption(atlasOption())
    .option('--movies', 'search movie palettes instead of stills')
    .addOption(kOption('results (default 12)'))
    .addOption(jsonOption())
    .action((colours: string, o: SearchFlags) =>
      run(o, async (ctx) => {
        const query = parseColourQuery(colours); // bad colours fail before the atlas is opened
        const atlas = await openAtlas(o.atlas);
        try {
          const r = await searchColour(atlas, {
            colours: query,
            k: o.k,
            movies: o.movies,
            onProgress: ctx.progress.callback,
            signal: ctx.signal,
          });
          const hits = r.movies ?? r.stills ?? [];
          ctx.result(
            { command: 'search colour', atlas: atlas.paths.root, ...r },
            [
              `${r.target} nearest ${query.map((c) => c.hex).join(', ')} (${r.searched} searched; distance = EMD in ΔE):`,
              ...hits.map(
                (h) =>
                  `  ${h.distance.toFixed(2).padStart(6)}  ${'stillId' in h ? `still ${h.stillId}  ${h.movie} #${h.ordinal}` : h.movie}  ` +
                  h.matches.map((m) => `${m.query}→${m.matched} (ΔE ${m.deltaE.toFixed(1)})`).join(' '),
              ),
            ].join('\n'),
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
