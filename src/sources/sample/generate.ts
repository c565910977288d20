/**
 * `filmatlas sample DIR`: writes a planned collection to disk — one `Title (Year)`
 * folder of stills per movie (JPEG and PNG, encoded by sharp), and `movies.csv`
 * (written last) recording each movie's look family: the ground truth later quality
 * checks (similar movies, clusters) are measured against. The same seed and options
 * give byte-identical files.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { writeAtomic, writeAtomicVia } from '../../atlas/files.js';
import { AtlasError, throwIfAborted } from '../../errors.js';
import type { RawImage } from '../../types.js';
import { requireInt } from '../../validate.js';
import { parseCsv, toCsv } from '../csv.js';
import { writeHostileFiles } from '../hostile.js';
import { planMovies, resolveOptions, sampleStillFile, type SampleMovie, type SampleOptions } from './plan.js';
import { renderSampleStill } from './render.js';

/** The header of a sample's movies.csv, exactly. */
export const SAMPLE_MANIFEST_HEADER = [
  'title',
  'year',
  'director',
  'director_of_photography',
  'production_design',
  'costume_design',
  'family',
  'aspect',
  'folder',
] as const;

/** The folder `--with-bad-files` writes the hostile cases to. */
export const HOSTILE_FOLDER = 'Hostile Cases (2001)';

/** What `generateSample` wrote. */
export interface SampleResult {
  /** Absolute path of the collection. */
  dir: string;
  /** Movies generated (not counting the hostile-cases folder). */
  movies: number;
  /** Stills generated in all (not counting hostile files). */
  stills: number;
  /** Look families used, in round-robin order. */
  families: string[];
  /** Hostile files written (0 without `withBadFiles`). */
  badFiles: number;
  /** Path of movies.csv. */
  manifest: string;
}

async function encodeStill(img: RawImage, movie: SampleMovie, format: 'jpeg' | 'png'): Promise<Buffer> {
  let data = img.data;
  let channels: 1 | 3 = 3;
  if (movie.format.greyscale) {
    // A black-and-white movie saved as single-channel files: untoned mono grades have r = g = b.
    const grey = new Uint8Array(img.width * img.height);
    for (let i = 0, p = 1; i < grey.length; i++, p += 3) grey[i] = data[p];
    data = grey;
    channels = 1;
  }
  let s = sharp(data, { raw: { width: img.width, height: img.height, channels } });
  // Without this sharp would write single-channel input back out as sRGB.
  if (channels === 1) s = s.toColourspace('b-w');
  return format === 'png'
    ? s.png({ compressionLevel: 6 }).toBuffer()
    : s.jpeg({ quality: movie.format.jpegQuality, progressive: movie.format.progressive }).toBuffer();
}

/**
 * Written before the first still and removed once movies.csv is written: lets a run
 * that was interrupted (Ctrl-C, kill) be replaced by the next one into the same folder.
 */
const PENDING_MARKER = '.filmatlas-sample-pending.json';

const isPlainName = (name: string): boolean =>
  name !== '' && name !== '.' && name !== '..' && !/[/\\]/.test(name);

/**
 * Makes `dir` ready: created if missing; if it holds a previous sample (a movies.csv with
 * the sample header), that sample's movie folders and manifest are removed; any other
 * non-empty folder is refused, so a person's own files are never overwritten.
 */
async function prepareDir(dir: string): Promise<void> {
  let entries: string[];
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) {
      throw new AtlasError('INVALID_ARGUMENT', `${dir} exists and is not a folder`, {
        value: dir,
        suggestion: 'give a new or empty folder for the sample',
      });
    }
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      await mkdir(dir, { recursive: true });
      return;
    }
    throw e;
  }
  if (entries.length === 0) return;
  const refuse = (why: string): AtlasError =>
    new AtlasError('INVALID_ARGUMENT', `${dir} is not empty and ${why}; refusing to write a sample into it`, {
      value: dir,
      suggestion:
        'give a new or empty folder, or the folder of an earlier `filmatlas sample` run to replace it',
    });
  const folders: string[] = [];
  if (entries.includes(PENDING_MARKER)) {
    // An interrupted run: its marker lists the folders it was writing.
    try {
      const pending = JSON.parse(await readFile(join(dir, PENDING_MARKER), 'utf8')) as { folders?: unknown };
      if (Array.isArray(pending.folders)) folders.push(...pending.folders.map(String));
    } catch {
      throw refuse(`its ${PENDING_MARKER} cannot be read`);
    }
  } else {
    if (!entries.includes('movies.csv')) throw refuse('holds no sample collection (no movies.csv)');
    let rows: string[][];
    try {
      rows = parseCsv(await readFile(join(dir, 'movies.csv'), 'utf8'));
    } catch {
      throw refuse('its movies.csv cannot be read as CSV');
    }
    const header = rows[0] ?? [];
    if (header.join(',') !== SAMPLE_MANIFEST_HEADER.join(',')) {
      throw refuse('its movies.csv was not written by `filmatlas sample`');
    }
    const folderAt = SAMPLE_MANIFEST_HEADER.indexOf('folder');
    for (const row of rows.slice(1)) if (row[folderAt]) folders.push(row[folderAt]);
  }
  // The manifest goes first: a collection without one is never mistaken for a whole sample.
  await rm(join(dir, 'movies.csv'), { force: true });
  for (const folder of folders) {
    if (isPlainName(folder)) await rm(join(dir, folder), { recursive: true, force: true });
  }
  await rm(join(dir, PENDING_MARKER), { force: true });
}

/**
 * Writes a synthetic collection to `dir`: one folder `Title (Year)` per movie with
 * its stills (JPEG and PNG), and `movies.csv` (written last) with each movie's
 * metadata and look family. With `withBadFiles`, a folder of hostile files too.
 */
export async function generateSample(dir: string, options: SampleOptions = {}): Promise<SampleResult> {
  const o = resolveOptions(options);
  const concurrency = requireInt(
    'concurrency',
    options.concurrency ?? Math.max(2, availableParallelism() + 1),
    1,
    64,
  );
  const { onProgress, signal } = options;
  const root = resolve(dir);
  throwIfAborted(signal);
  await prepareDir(root);
  const movies = planMovies(o);
  const folders = movies.map((m) => m.folder);
  if (options.withBadFiles) folders.push(HOSTILE_FOLDER);
  writeAtomic(join(root, PENDING_MARKER), JSON.stringify({ folders }) + '\n');
  const total = movies.length * o.stills;
  let done = 0;
  onProgress?.({ stage: 'sample', done, total });

  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const settle = async (): Promise<void> => {
    await Promise.allSettled([...inFlight]);
  };
  try {
    for (const movie of movies) {
      const folder = join(root, movie.folder);
      await mkdir(folder, { recursive: true });
      for (let j = 0; j < o.stills; j++) {
        throwIfAborted(signal);
        if (failure) throw failure;
        const { name, format } = sampleStillFile(movie, j, o.stills);
        const img = renderSampleStill(movie, j);
        const job = encodeStill(img, movie, format)
          .then((buf) => writeAtomicVia(join(folder, name), (tmp) => writeFile(tmp, buf)))
          .then(
            () => {
              done++;
              onProgress?.({ stage: 'sample', done, total });
            },
            (e: unknown) => {
              failure ??= new AtlasError(
                'IO',
                `could not write ${join(folder, name)}: ${(e as Error).message}`,
                {
                  value: join(folder, name),
                  cause: e,
                },
              );
            },
          )
          .finally(() => inFlight.delete(job));
        inFlight.add(job);
        // Paint the next still while up to `concurrency` encode and write in sharp's threads.
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
    }
    await settle();
    if (failure) throw failure;
  } catch (e) {
    await settle();
    throw e;
  }

  let badFiles = 0;
  const rows: string[][] = [[...SAMPLE_MANIFEST_HEADER]];
  for (const m of movies) {
    rows.push([
      m.title,
      String(m.year),
      m.director,
      m.cinematographer,
      m.productionDesign,
      m.costumeDesign,
      m.family,
      m.aspect,
      m.folder,
    ]);
  }
  if (options.withBadFiles) {
    throwIfAborted(signal);
    const cases = await writeHostileFiles(join(root, HOSTILE_FOLDER));
    badFiles = cases.length;
    rows.push(['Hostile Cases', '2001', '', '', '', '', 'hostile', '', HOSTILE_FOLDER]);
    onProgress?.({ stage: 'sample', done, total, note: `${badFiles} hostile files` });
  }
  const manifest = join(root, 'movies.csv');
  writeAtomic(manifest, toCsv(rows));
  await rm(join(root, PENDING_MARKER), { force: true });
  const families: string[] = [];
  for (const m of movies) if (!families.includes(m.family)) families.push(m.family);
  return { dir: root, movies: movies.length, stills: total, families, badFiles, manifest };
}
