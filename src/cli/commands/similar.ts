import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { openAtlas } from '../../atlas/atlas.js';
import { AtlasError } from '../../errors.js';
import { SEARCH_METHODS, similarMovies, similarStills, type SearchMethod } from '../../looks/similar.js';
import { defaultFeatures, type Normalization } from '../../looks/vectors.js';
import { choiceArg, intArg } from '../args.js';
import type { Run } from '../main.js';
import {
  atlasOption,
  featuresOption,
  jsonOption,
  kOption,
  normalizeOption,
  threadsOption,
} from '../options.js';

interface CommonFlags {
  atlas: string;
  features?: string;
  k?: number;
  normalize: Normalization;
  threads?: number;
  json?: boolean;
}

export function registerSimilar(program: Command, run: Run): void {
  const similar = program.command('similar').description('stills or movies that look alike');
  similar
    .command('still <still>')
    .description(
      'the stills most similar to a still of the atlas (by id) or to an image file (embedded on the fly)',
    )
    .addOption(atlasOption())
    .addOption(featuresOption())
    .addOption(kOption('neighbours (default 12)'))
    .option(
      '--method <m>',
      `search: ${SEARCH_METHODS.join('|')} (auto: exact up to 500,000 stills, else the HNSW index)`,
      choiceArg('--method', SEARCH_METHODS),
      'auto',
    )
    .addOption(normalizeOption())
    .addOption(threadsOption())
    .option('--weights <file>', 'weights to embed an image file with (default: the cached download)')
    .addOption(jsonOption())
    .action((still: string, o: CommonFlags & { method: SearchMethod; weights?: string }) =>
      run(o, async (ctx) => {
        const isId = /^\d+$/.test(still.trim()) && !existsSync(still);
        if (!isId && !existsSync(still)) {
          throw new AtlasError('NOT_FOUND', `'${still}' is neither a still id nor an image file`, {
            value: still,
            suggestion: 'give a still id (a number) or the path of an image',
          });
        }
        const atlas = await openAtlas(o.atlas);
        try {
          const features = o.features ?? defaultFeatures(atlas);
          const r = await similarStills(atlas, {
            features,
            ...(isId ? { still: Number(still) } : { file: still }),
            k: o.k,
            method: o.method,
            weights: o.weights,
            normalize: o.normalize,
            threads: o.threads,
            onProgress: ctx.progress.callback,
            signal: ctx.signal,
          });
          ctx.result(
            { command: 'similar still', atlas: atlas.paths.root, ...r },
            [
              `stills most like ${r.query.file ?? `still ${r.query.stillId} (${r.query.movie})`} by ${features} (${r.method}, ${r.searched} searched):`,
              ...r.neighbours.map(
                (n) =>
                  `  ${n.similarity.toFixed(3)}  still ${n.stillId}  ${n.movie} #${n.ordinal}  ${n.source}`,
              ),
            ].join('\n'),
          );
        } finally {
          await atlas.close();
        }
      }),
    );
  similar
    .command('movie <movie>')
    .description(
      "movies whose stills look most like this movie's (symmetric mean best-match similarity), with reasons",
    )
    .addOption(atlasOption())
    .addOption(featuresOption())
    .addOption(kOption('movies (default 10)'))
    .option('--pairs <n>', 'best-matching still pairs per movie (default 3)', intArg('--pairs', 0, 20))
    .option('--no-palettes', 'skip the shared-colour reasons (no palettes computed)')
    .addOption(normalizeOption())
    .addOption(threadsOption())
    .addOption(jsonOption())
    .action((movie: string, o: CommonFlags & { pairs?: number; palettes: boolean }) =>
      run(o, async (ctx) => {
        const atlas = await openAtlas(o.atlas);
        try {
          const features = o.features ?? defaultFeatures(atlas);
          const r = await similarMovies(atlas, {
            features,
            movie,
            k: o.k,
            pairs: o.pairs,
            palettes: o.palettes,
            normalize: o.normalize,
            threads: o.threads,
            onProgress: ctx.progress.callback,
            signal: ctx.signal,
          });
          ctx.result(
            { command: 'similar movie', atlas: atlas.paths.root, ...r },
            [
              `movies most like ${r.movie} (${r.stills} stills) by ${features}:`,
              ...r.movies.map(
                (m) =>
                  `  ${m.similarity.toFixed(3)}  ${m.movie}` +
                  (m.reasons.pairs[0]
                    ? `  — best pair: still ${m.reasons.pairs[0].a.stillId} ↔ ${m.reasons.pairs[0].b.stillId} (${m.reasons.pairs[0].similarity.toFixed(3)})`
                    : '') +
                  (m.reasons.sharedColours.length
                    ? `; shared colours ${m.reasons.sharedColours.map((c) => `${c.a}≈${c.b}`).join(' ')}`
                    : ''),
              ),
            ].join('\n'),
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
