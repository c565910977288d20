import type { Command } from 'commander';
import { openAtlas } from '../../atlas/atlas.js';
import { FITS, type FitMode } from '../../imaging/standardise.js';
import { ingestVideo } from '../../sources/video.js';
import { choiceArg, intArg, numberArg } from '../args.js';
import type { Run } from '../main.js';

interface VideoFlags {
  atlas: string;
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
  store?: string;
  endpoint?: string;
  storeStills?: boolean;
  json?: boolean;
}

export function registerIngestVideo(program: Command, run: Run): void {
  program
    .command('ingest-video')
    .description('add a movie to an atlas from a video file: one still per scene change (needs ffmpeg)')
    .argument('<file>', 'video file (anything ffmpeg reads)')
    .requiredOption('--atlas <dir>', 'atlas directory (created if missing)')
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
    )
    .option(
      '--fit <mode>',
      `how to reach 16:9: ${Object.keys(FITS).join('|')}`,
      choiceArg('--fit', Object.keys(FITS) as FitMode[]),
      'letterbox',
    )
    .option(
      '--concurrency <n>',
      'stills standardised at once (default: 2 × cores)',
      intArg('--concurrency', 1, 256),
    )
    .option(
      '--store <url>',
      'keep originals in s3://bucket/prefix (recorded in a new atlas; default: local files)',
    )
    .option('--endpoint <url>', 'S3-compatible server for --store')
    .option('--store-stills', 'keep standardised stills in --store too (default: local disk)')
    .option('--json', 'machine-readable output (JSON lines)')
    .action((file: string, o: VideoFlags) =>
      run(o, async (ctx) => {
        const atlas = await openAtlas(o.atlas, {
          create: true,
          store: o.store,
          endpoint: o.endpoint,
          storeStills: o.storeStills,
        });
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
