/**
 * Stills from video files: one frame at each scene change, found by ffmpeg's scene
 * detection (`select='gt(scene,T)'`), with a minimum gap so a flickering shot does not
 * yield a burst of near-identical stills and a maximum gap so a static film (one long
 * take, a slow dissolve) still yields a still every so often. A still's ordinal is its
 * time in the film in milliseconds.
 *
 * Needs the `ffmpeg` program (Debian/Ubuntu: `apt-get install ffmpeg`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { recordRun } from '../catalog/runs.js';
import type { Atlas } from '../atlas/atlas.js';
import type { MovieSpec } from '../catalog/catalog.js';
import { AtlasError, describeError, invalidArgument } from '../errors.js';
import type { ProgressCallback } from '../types.js';
import {
  addOriginalStill,
  standardiseStills,
  type StandardiseResult,
  type StandardiseStillsOptions,
} from './ingest.js';
import { parseMovieFolderName } from './scan.js';
import { checkChoice, checkInt, checkNumber } from '../validate.js';

export interface SceneOptions {
  /** Scene-change score (0–1) above which a frame starts a new shot. Default 0.3; lower finds more cuts. */
  threshold?: number;
  /** At most this many stills, the first ones in film order. Default 200; 1–100000. */
  max?: number;
  /** Least time between two stills, seconds. Default 1; 0–3600. */
  minInterval?: number;
  /** Most time between two stills, seconds: a frame is taken after this long without a cut. Default 60; > minInterval, ≤ 86400. */
  maxInterval?: number;
  /** Frame format kept as the original: 'jpg' (high quality, about a tenth the size) or 'png' (lossless). Default 'jpg'. */
  format?: 'jpg' | 'png';
  /** The ffmpeg program. Default `$FFMPEG_PATH`, else `ffmpeg` on the PATH. */
  ffmpeg?: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface SceneFrame {
  /** Time in the film, milliseconds. */
  timeMs: number;
  /** The extracted frame. */
  path: string;
}

export interface VideoOptions extends SceneOptions, StandardiseStillsOptions {
  /** The movie's title. Default: the file name without extension (a trailing `(1999)` becomes the year). */
  title?: string;
  /** Release year, 1870–2100. Default: from the file name, else none. */
  year?: number;
  /** More metadata for the movie (director, cinematographer, ...). */
  movie?: Omit<MovieSpec, 'title' | 'year'>;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface VideoResult extends StandardiseResult {
  movieId: number;
  title: string;
  year: number | null;
  /** Frames ffmpeg extracted. */
  extracted: number;
  /** Of those, new to the atlas. */
  added: number;
  /** Length of the video, seconds (0 when ffmpeg did not say). */
  duration: number;
}

/** `apt-get install` name and a hint for other systems, shown when ffmpeg is missing. */
export const FFMPEG_HINT =
  'install it (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg) or set FFMPEG_PATH';

function checkSceneOptions(o: SceneOptions): Required<Omit<SceneOptions, 'onProgress' | 'signal'>> {
  const threshold = o.threshold ?? 0.3;
  checkNumber('--threshold', threshold, 0, 1);
  const max = o.max ?? 200;
  checkInt('--max', max, 1, 100_000);
  const minInterval = o.minInterval ?? 1;
  checkNumber('--min-interval', minInterval, 0, 3600);
  const maxInterval = o.maxInterval ?? Math.max(60, minInterval * 2);
  if (!(maxInterval > minInterval && maxInterval <= 86_400)) {
    throw invalidArgument(
      '--max-interval',
      `seconds more than --min-interval (${minInterval}) and at most 86400`,
      o.maxInterval,
    );
  }
  const format = o.format ?? 'jpg';
  checkChoice('format', format, ['jpg', 'png']);
  return {
    threshold,
    max,
    minInterval,
    maxInterval,
    format,
    ffmpeg: o.ffmpeg || process.env.FFMPEG_PATH || 'ffmpeg',
  };
}

/**
 * ffmpeg's select expression: the first frame; then any frame at least `minInterval`
 * after the last still that either scores above `threshold` as a scene change or
 * comes `maxInterval` after the last still.
 */
export function sceneSelectExpression(threshold: number, minInterval: number, maxInterval: number): string {
  const gap = 't-prev_selected_t';
  return `if(isnan(prev_selected_t),1,gte(${gap},${minInterval})*max(gt(scene,${threshold}),gte(${gap},${maxInterval})))`;
}

function parseDuration(text: string): number | undefined {
  const m = /Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)/.exec(text);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

/**
 * Runs ffmpeg over a video and writes one frame per scene (see `SceneOptions`) to
 * `outDir` as `000001.jpg`, … Returns them in film order with their times.
 */
export async function extractSceneFrames(
  file: string,
  outDir: string,
  options: SceneOptions = {},
): Promise<{ frames: SceneFrame[]; duration: number }> {
  const o = checkSceneOptions(options);
  const ext = o.format;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-i',
    file,
    '-an',
    '-sn',
    '-dn',
    '-vf',
    `select='${sceneSelectExpression(o.threshold, o.minInterval, o.maxInterval)}',showinfo`,
    '-fps_mode',
    'vfr',
    '-frames:v',
    String(o.max),
    ...(ext === 'jpg' ? ['-q:v', '2'] : []),
    '-f',
    'image2',
    join(outDir, `%06d.${ext}`),
  ];
  const times: number[] = [];
  let duration = 0;
  let tail = '';
  await new Promise<void>((resolvePromise, reject) => {
    const child = spawn(o.ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let pending = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!duration) duration = parseDuration(line) ?? 0;
        const m = /\bn:\s*(\d+)\s+pts:\s*-?\d+\s+pts_time:(-?[\d.]+(?:e-?\d+)?)/.exec(line);
        if (m && line.includes('showinfo')) {
          times[Number(m[1])] = Number(m[2]);
          options.onProgress?.({
            stage: 'video',
            done: Math.round(Number(m[2])),
            total: Math.round(duration),
            note: `${times.length} stills`,
          });
        } else if (line.trim()) tail = (tail + '\n' + line).slice(-2000);
      }
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (err.code === 'ENOENT') {
        reject(
          new AtlasError(
            'NOT_FOUND',
            `cannot run '${o.ffmpeg}': ffmpeg is needed to take stills from video files`,
            {
              value: o.ffmpeg,
              suggestion: FFMPEG_HINT,
              cause: err,
            },
          ),
        );
      } else
        reject(
          new AtlasError('IO', `cannot run '${o.ffmpeg}': ${err.message}`, { value: o.ffmpeg, cause: err }),
        );
    });
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) {
        reject(new AtlasError('ABORTED', 'stopped while reading the video; run again to start over'));
      } else if (code !== 0) {
        const last = tail.trim().split('\n').slice(-3).join(' / ');
        reject(
          new AtlasError(
            'BAD_IMAGE',
            `ffmpeg cannot read the video ${file}: ${last || `exit code ${code}`}`,
            { value: file },
          ),
        );
      } else resolvePromise();
    });
  });
  const frames: SceneFrame[] = [];
  for (let i = 0; i < Math.min(times.length, o.max); i++) {
    if (times[i] === undefined) continue;
    frames.push({
      timeMs: Math.round(times[i] * 1000),
      path: join(outDir, `${String(i + 1).padStart(6, '0')}.${ext}`),
    });
  }
  return { frames, duration };
}

/**
 * Takes stills at the scene changes of a video file into the atlas, as one movie
 * (source `<file>#t=<seconds>`, ordinal = milliseconds), and standardises them.
 * Re-running on the same file with the same options adds nothing new.
 */
export async function ingestVideo(
  atlas: Atlas,
  file: string,
  options: VideoOptions = {},
): Promise<VideoResult> {
  const path = resolve(file);
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a file');
  } catch {
    throw new AtlasError('NOT_FOUND', `video file not found: ${path}`, { value: file });
  }
  checkSceneOptions(options);
  const fromName = parseMovieFolderName(basename(path, extname(path)));
  const title = options.title?.trim() || fromName.title;
  const year = options.year ?? (options.title ? undefined : fromName.year);
  checkInt('--year', year, 1870, 2100);
  const started = performance.now();
  const runOptions = {
    file: path,
    threshold: options.threshold ?? 0.3,
    max: options.max ?? 200,
    minInterval: options.minInterval ?? 1,
    maxInterval: options.maxInterval ?? null,
  };
  const work = mkdtempSync(join(tmpdir(), 'filmatlas-video-'));
  try {
    return await recordRun(atlas.catalog, 'ingest-video', runOptions, async () => {
      const { frames, duration } = await extractSceneFrames(path, work, options);
      const movieId = await atlas.catalog.upsertMovie({
        ...options.movie,
        title,
        year,
        attributes: { ...options.movie?.attributes, video: path },
      });
      let added = 0;
      for (const f of frames) {
        let data: Buffer;
        try {
          data = await readFile(f.path);
        } catch (err) {
          throw new AtlasError(
            'IO',
            `ffmpeg reported a frame it did not write (${f.path}): ${describeError(err)}`,
            { cause: err },
          );
        }
        const r = await addOriginalStill(
          atlas,
          movieId,
          f.timeMs,
          `${path}#t=${(f.timeMs / 1000).toFixed(3)}`,
          data,
        );
        if (r.added) added++;
      }
      const std = await standardiseStills(atlas, {
        concurrency: options.concurrency,
        standardise: options.standardise,
        onProgress: options.onProgress,
        signal: options.signal,
      });
      const result: VideoResult = {
        ...std,
        movieId,
        title,
        year: year ?? null,
        extracted: frames.length,
        added,
        duration,
        seconds: (performance.now() - started) / 1000,
      };
      return result;
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
