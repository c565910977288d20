import type { Command } from 'commander';
import type { FitMode } from '../../imaging/standardise.js';
import { ingestVideo } from '../../sources/video.js';
import { choiceArg, intArg, numberArg } from '../args.js';
import type { Run } from '../main.js';
import {
  addNewAtlasOptions,
  addStandardiseOptions,
  jsonOption,
  openNewAtlas,
  type NewAtlasFlags,
} from '../options.js';

interface VideoFlags extends NewAtlasFlags {
  title?: string;
  year?: number;
  director?: string;
  cinematographer?: string;
  threshold: number;
  max: number;
  minInterval: number;
  maxInterval?: number;
  format: 'jpg' | 'png';
  fit: FitMode;
  concurrency?: number;
  json?: boolean;
}

export function registerIngestVideo(program: Command, run: Run): void {
  const cmd = addNewAtlasOptions(
    program
      .command('ingest-video')
      .description('add a movie to an atlas from a video file: one still per scene change (needs ffmpeg)')
      .argument('<file>', 'video file (anything ffmpeg reads)'),
  )
    .option('--title <title>', 'movie title (default: the file name; "Title (1999).mp4" gives the year too)')
    .option('--year <year>', 'release year', intArg('--year', 1870, 2100))
    .option('--director <name>', 'director')
    .option('--cinematographer <name>', 'director of photography')
    .option(
      '--threshold <t>',
      'scene-change score that starts a new shot, 0–1 (lower finds more cuts)',
      numberArg('--threshold', 0, 1),
      0.3,
    )
    .option(
      '--max <n>',
      'at most this many stills (the first in film order)',
      intArg('--max', 1, 100_000),
      200,
    )
    .option('--min-interval <s>', 'least seconds between two stills', numberArg('--min-interval', 0, 3600), 1)
    .option(
      '--max-interval <s>',
      'take a still after this many seconds without a cut (default: 60)',
      numberArg('--max-interval', 0.001, 86_400),
    )
    .option(
      '--format <f>',
      'format of the kept frames: jpg|png',
      choiceArg('--format', ['jpg', 'png'] as const),
      'jpg',
    );
  addStandardiseOptions(cmd)
    .addOption(jsonOption())
    .action((file: string, o: VideoFlags) =>
      run(o, async (ctx) => {
        const atlas = await openNewAtlas(o);
        try {
          const r = await ingestVideo(atlas, file, {
            title: o.title,
            year: o.year,
            movie: { director: o.director, cinematographer: o.cinematographer },
            threshold: o.threshold,
            max: o.max,
            minInterval: o.minInterval,
            maxInterval: o.maxInterval,
            format: o.format,
            concurrency: o.concurrency,
            standardise: { fit: o.fit },
            onProgress: ctx.progress.callback,
            signal: ctx.signal,
          });
          const label = r.year ? `${r.title} (${r.year})` : r.title;
          ctx.result(
            { command: 'ingest-video', atlas: atlas.paths.root, file, ...r },
            `${label}: ${r.extracted} stills from ${r.duration.toFixed(1)} s of video (${r.added} new); ` +
              `${r.ready} standardised, ${r.rejected} rejected, in ${r.seconds.toFixed(1)} s`,
          );
        } finally {
          await atlas.close();
        }
      }),
    );
}
