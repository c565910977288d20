import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { nativeJpegStatus } from '../../imaging/native-jpeg.js';
import type { FitMode } from '../../imaging/standardise.js';
import { ingestStills, standardiseStills } from '../../sources/ingest.js';
import { numberArg } from '../args.js';
import type { CliContext } from '../context.js';
import type { Run } from '../main.js';
import {
  addNewAtlasOptions,
  addStandardiseOptions,
  atlasOption,
  jsonOption,
  openNewAtlas,
  type NewAtlasFlags,
} from '../options.js';

interface StdFlags {
  atlas: string;
  fit: FitMode;
  maxPixels: number;
  concurrency?: number;
  json?: boolean;
}

function standardiseOptions(o: StdFlags) {
  return { fit: o.fit, maxPixels: o.maxPixels * 1e6 };
}

function addStdOptions(cmd: Command): Command {
  return addStandardiseOptions(cmd)
    .option(
      '--max-pixels <MP>',
      'reject images larger than this many megapixels',
      numberArg('--max-pixels', 0.001, 10000),
      100,
    )
    .addOption(jsonOption());
}

function summary(r: {
  ready: number;
  rejected: number;
  processed: number;
  seconds: number;
  nativeJpeg: boolean;
}): string {
  const rate = r.seconds > 0 ? (r.processed / r.seconds).toFixed(1) : '–';
  const slow =
    r.nativeJpeg || r.processed === 0 ? '' : ` (JPEGs decoded by sharp alone: ${nativeJpegStatus()})`;
  return `${r.processed} processed in ${r.seconds.toFixed(1)} s (${rate} stills/s)${slow}: ${r.ready} standardised, ${r.rejected} rejected`;
}

export function registerIngest(program: Command, run: Run): void {
  addStdOptions(
    addNewAtlasOptions(
      program
        .command('ingest')
        .description(
          'add stills to an atlas (folders of `Title (Year)` movie folders, or a movies.csv/json manifest) and standardise them to 224×126',
        )
        .argument('<src...>', 'folders, still files or manifests'),
    ),
  ).action((src: string[], o: StdFlags & NewAtlasFlags) =>
    run(o, async (ctx: CliContext) => {
      const atlas = await openNewAtlas(o);
      try {
        const r = await ingestStills(atlas, src, {
          concurrency: o.concurrency,
          standardise: standardiseOptions(o),
          onProgress: ctx.progress.callback,
          signal: ctx.signal,
        });
        for (const w of r.warnings) ctx.say(`warning: ${w}`);
        ctx.result(
          { command: 'ingest', atlas: atlas.paths.root, ...r },
          `${r.movies} movies, ${r.found} stills found (${r.added} new). ${summary(r)}.` +
            (r.rejected > 0 ? `\nSee the rejected files and why: filmatlas status --atlas ${o.atlas}` : ''),
        );
      } finally {
        await atlas.close();
      }
    }),
  );

  addStdOptions(
    program
      .command('standardise')
      .description('standardise pending stills again (e.g. with another --fit, using --redo)')
      .addOption(atlasOption())
      .option('--redo', 'standardise every still again, not only pending ones')
      .option('--retry-rejected', 'try rejected stills again'),
  ).action((o: StdFlags & { redo?: boolean; retryRejected?: boolean }) =>
    run(o, async (ctx) => {
      const atlas = await openAtlas(o.atlas);
      try {
        if (o.redo) await atlas.catalog.resetStills('all');
        else if (o.retryRejected) await atlas.catalog.resetStills('rejected');
        const r = await standardiseStills(atlas, {
          concurrency: o.concurrency,
          standardise: standardiseOptions(o),
          onProgress: ctx.progress.callback,
          signal: ctx.signal,
        });
        ctx.result({ command: 'standardise', atlas: atlas.paths.root, ...r }, summary(r) + '.');
      } finally {
        await atlas.close();
      }
    }),
  );
}
