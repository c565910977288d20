import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { isTempName } from '../../src/atlas/files.js';
import { AtlasError } from '../../src/errors.js';
import { hashSeed, Random } from '../../src/numeric/random.js';
import { parseCsv } from '../../src/sources/csv.js';
import {
  DEFAULT_SAMPLE_FAMILIES,
  generateSample,
  HOSTILE_FOLDER,
  LOOK_FAMILIES,
  planSample,
  renderSampleStill,
  SAMPLE_ASPECTS,
  SAMPLE_MANIFEST_HEADER,
  sampleStillFile,
  type SampleMovie,
  type SampleResult,
} from '../../src/sources/sample/index.js';
import { naturalCompare } from '../../src/sources/scan.js';
import type { ProgressEvent } from '../../src/types.js';
import { tempDir } from '../helpers/tmp.js';

const SMALL = { movies: 6, stills: 4, width: 160 } as const;

/** relative path → sha256 of every file under `dir`. */
function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.set(relative(dir, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
  }
  return out;
}

function manifestRows(dir: string): string[][] {
  return parseCsv(readFileSync(join(dir, 'movies.csv'), 'utf8'));
}

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AtlasError, `an AtlasError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

describe('Random and hashSeed', () => {
  test('the same seed gives the same stream; nearby seeds give unrelated ones', () => {
    const a = new Random(7);
    const b = new Random(7);
    const c = new Random(8);
    const sa = Array.from({ length: 50 }, () => a.uint32());
    assert.deepEqual(
      sa,
      Array.from({ length: 50 }, () => b.uint32()),
    );
    const sc = Array.from({ length: 50 }, () => c.uint32());
    assert.equal(sa.filter((v, i) => v === sc[i]).length, 0);
  });

  test('next, int, range, pick, weighted and shuffle stay in range and look uniform', () => {
    const r = new Random(1);
    const counts = new Array<number>(10).fill(0);
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      assert.ok(x >= 0 && x < 1);
      counts[r.int(10)]++;
      const y = r.range(-2, 3);
      assert.ok(y >= -2 && y < 3);
    }
    // Each bin within 5 standard deviations of n/10 (sd = sqrt(n · 0.1 · 0.9) ≈ 67).
    for (const c of counts) assert.ok(Math.abs(c - n / 10) < 5 * 67, `bin count ${c}`);
    assert.ok(['a', 'b'].includes(r.pick(['a', 'b'])));
    const w = { a: 0, b: 0 };
    for (let i = 0; i < 4000; i++) w[r.weighted(['a', 'b'] as const, [1, 3])]++;
    assert.ok(Math.abs(w.b / 4000 - 0.75) < 0.04, `weighted share ${w.b / 4000}`);
    const items = Array.from({ length: 20 }, (_, i) => i);
    const shuffled = r.shuffle([...items]);
    assert.notDeepEqual(shuffled, items);
    assert.deepEqual(
      [...shuffled].sort((x, y) => x - y),
      items,
    );
    assert.throws(() => r.int(0), RangeError);
    assert.throws(() => r.pick([]), RangeError);
  });

  test('normal() has mean 0 and standard deviation 1', () => {
    const r = new Random(3);
    const n = 40_000;
    let s = 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      ss += z * z;
    }
    const mean = s / n;
    const sd = Math.sqrt(ss / n - mean * mean);
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(sd - 1) < 0.03, `sd ${sd}`);
    assert.ok(Math.abs(new Random(3).normal(10, 0.001) - 10) < 0.01);
  });

  test('hashSeed is deterministic and sensitive to order, type and every part', () => {
    assert.equal(hashSeed(7, 'movie', 3), hashSeed(7, 'movie', 3));
    const seeds = new Set([
      hashSeed(1, 2),
      hashSeed(2, 1),
      hashSeed(1),
      hashSeed('1'),
      hashSeed(1, 2, 0),
      hashSeed(0.5),
      hashSeed(-1),
      hashSeed(7, 'movie', 3),
      hashSeed(7, 'movie', 4),
      hashSeed(7, 'movies', 3),
    ]);
    assert.equal(seeds.size, 10);
    for (const s of seeds) assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 32);
    // fork() gives a stream of its own, and advances the parent by one draw.
    const p = new Random(5);
    const q = new Random(5);
    const child = p.fork('x');
    q.uint32();
    assert.equal(p.uint32(), q.uint32());
    assert.notEqual(child.uint32(), new Random(5).uint32());
  });
});

describe('generateSample', () => {
  const base = tempDir('filmatlas-sample-');
  const first = join(base, 'first');
  let reference: Promise<SampleResult> | undefined;
  /**
   * The reference collection (SMALL, seed 11) at `first`, written once by whichever
   * test needs it first: every test can run alone and in any order.
   */
  const firstSample = (): Promise<SampleResult> =>
    (reference ??= generateSample(first, { ...SMALL, seed: 11 }));

  test('writes one `Title (Year)` folder per movie and a movies.csv describing them', async () => {
    const r = await firstSample();
    assert.equal(r.dir, first);
    assert.equal(r.movies, 6);
    assert.equal(r.stills, 24);
    assert.equal(r.badFiles, 0);
    assert.equal(r.manifest, join(first, 'movies.csv'));
    assert.equal(r.families.length, DEFAULT_SAMPLE_FAMILIES);

    const rows = manifestRows(first);
    assert.deepEqual(rows[0], [...SAMPLE_MANIFEST_HEADER]);
    assert.equal(
      readFileSync(join(first, 'movies.csv'), 'utf8').split('\n')[0],
      'title,year,director,director_of_photography,production_design,costume_design,family,aspect,folder',
    );
    assert.equal(rows.length, 7);
    const folders = readdirSync(first).filter((n) => n !== 'movies.csv');
    assert.deepEqual(
      folders.sort(),
      rows
        .slice(1)
        .map((row) => row[8])
        .sort(),
    );
    const titles = new Set<string>();
    for (const [title, year, director, dop, pd, cd, family, aspect, folder] of rows.slice(1)) {
      assert.equal(folder, `${title} (${year})`);
      titles.add(title);
      const fam = LOOK_FAMILIES.find((f) => f.name === family);
      assert.ok(fam, `family ${family}`);
      assert.ok(r.families.includes(family));
      assert.ok(Number(year) >= fam.years[0] && Number(year) <= fam.years[1], `${year} in ${fam.years}`);
      assert.ok((SAMPLE_ASPECTS as readonly string[]).includes(aspect), aspect);
      for (const person of [director, dop, pd, cd]) assert.match(person, /^\S+ \S.*$/);
      const stills = readdirSync(join(first, folder));
      assert.equal(stills.length, 4);
      for (const s of stills) assert.match(s, /\.(jpg|png)$/);
    }
    assert.equal(titles.size, 6, 'titles are unique');
    // No temporary files are left behind.
    assert.ok([...hashTree(first).keys()].every((p) => !p.endsWith('.partial')));
    assert.ok(
      [...hashTree(first).keys()].every((p) => !isTempName(basename(p))),
      'no atlas/files.ts temporaries',
    );
  });

  test('reports progress for stage "sample", ending at the total', async () => {
    const events: ProgressEvent[] = [];
    await generateSample(join(base, 'progress'), {
      ...SMALL,
      seed: 11,
      onProgress: (e) => events.push({ ...e }),
    });
    assert.ok(events.length >= 2);
    assert.ok(events.every((e) => e.stage === 'sample' && e.total === 24));
    assert.equal(events.at(-1)!.done, 24);
    for (let i = 1; i < events.length; i++) assert.ok(events[i].done >= events[i - 1].done);
  });

  test('stills decode at the movie’s aspect ratio, in the format their name says', async () => {
    await firstSample();
    const ratio: Record<string, number> = { '2.39:1': 2.39, '1.85:1': 1.85, '16:9': 16 / 9, '4:3': 4 / 3 };
    for (const row of manifestRows(first).slice(1)) {
      const [aspect, folder] = [row[7], row[8]];
      for (const name of readdirSync(join(first, folder))) {
        const m = await sharp(join(first, folder, name)).metadata();
        assert.equal(m.width, 160);
        assert.equal(m.height, Math.round(160 / ratio[aspect]), `${folder}/${name} at ${aspect}`);
        assert.equal(m.format, name.endsWith('.png') ? 'png' : 'jpeg');
        assert.ok(m.channels === 3 || m.channels === 1);
      }
    }
  });

  test('the same seed and options give byte-identical files; another seed gives other files', async () => {
    await firstSample();
    const again = join(base, 'again');
    await generateSample(again, { ...SMALL, seed: 11 });
    assert.deepEqual(hashTree(again), hashTree(first));
    const other = join(base, 'other');
    await generateSample(other, { ...SMALL, seed: 12 });
    const a = hashTree(first);
    const b = hashTree(other);
    assert.notDeepEqual(b, a);
    assert.ok(![...b.values()].some((h) => [...a.values()].includes(h)), 'no still is shared between seeds');
  });

  test('fewer movies or stills give a prefix of the larger collection', async () => {
    await firstSample();
    const fewer = join(base, 'fewer');
    await generateSample(fewer, { ...SMALL, movies: 3, seed: 11 });
    const big = hashTree(first);
    const small = hashTree(fewer);
    for (const [path, hash] of small) {
      if (path === 'movies.csv') continue;
      assert.equal(big.get(path), hash, path);
    }
    assert.deepEqual(manifestRows(fewer), manifestRows(first).slice(0, 4));

    const shorter = join(base, 'shorter');
    await generateSample(shorter, { ...SMALL, stills: 2, seed: 11 });
    const shortTree = hashTree(shorter);
    assert.equal(shortTree.size, 6 * 2 + 1);
    for (const [path, hash] of shortTree) if (path !== 'movies.csv') assert.equal(big.get(path), hash, path);
  });

  test('families are balanced round-robin; a list of names picks them', () => {
    const counts = new Map<string, number>();
    for (const m of planSample({ movies: 22, stills: 1, families: LOOK_FAMILIES.length })) {
      counts.set(m.family, (counts.get(m.family) ?? 0) + 1);
    }
    assert.equal(counts.size, LOOK_FAMILIES.length);
    const values = [...counts.values()];
    assert.ok(Math.max(...values) - Math.min(...values) <= 1, JSON.stringify([...counts]));
    const chosen = planSample({ movies: 4, families: ['noir', 'neon'] }).map((m) => m.family);
    assert.deepEqual(chosen, ['noir', 'neon', 'noir', 'neon']);
    // The default sample (24 movies) has 6 per family: enough for a precision@5 check.
    const byDefault = new Map<string, number>();
    for (const m of planSample()) byDefault.set(m.family, (byDefault.get(m.family) ?? 0) + 1);
    assert.deepEqual(
      [...byDefault.values()],
      new Array(DEFAULT_SAMPLE_FAMILIES).fill(24 / DEFAULT_SAMPLE_FAMILIES),
    );
  });

  test('file names: natural order is film order, some differ from plain string order, JPEG and PNG mixed', () => {
    const movies = planSample({ movies: 24, stills: 12 });
    let differs = 0;
    let mixed = 0;
    let allJpeg = 0;
    for (const m of movies) {
      const files = Array.from({ length: 12 }, (_, i) => sampleStillFile(m, i, 12));
      const names = files.map((f) => f.name);
      assert.equal(new Set(names).size, 12);
      assert.deepEqual([...names].sort(naturalCompare), names, `${m.folder}: natural order is film order`);
      if ([...names].sort().join() !== names.join()) differs++;
      const png = files.filter((f) => f.format === 'png').length;
      if (png === 0) allJpeg++;
      else if (png < 12) mixed++;
      for (const f of files) assert.equal(f.name.endsWith('.png'), f.format === 'png');
    }
    assert.ok(differs > 0, 'some movies are named shot-1 … shot-10');
    assert.ok(mixed > 0, 'some movies mix JPEG and PNG');
    assert.ok(allJpeg > 0, 'some movies are all JPEG');
  });

  test('black-and-white looks: noir is grey (some movies as single-channel files), sepia is toned brown', async () => {
    const dir = join(base, 'mono');
    const plan = planSample({ movies: 4, stills: 3, width: 96, seed: 3, families: ['noir', 'sepia'] });
    assert.ok(
      plan.some((m) => m.format.greyscale),
      'seed 3 has a greyscale-file noir movie',
    );
    await generateSample(dir, { movies: 4, stills: 3, width: 96, seed: 3, families: ['noir', 'sepia'] });
    for (const m of plan) {
      for (const name of readdirSync(join(dir, m.folder))) {
        const file = join(dir, m.folder, name);
        assert.equal(
          (await sharp(file).metadata()).channels,
          m.format.greyscale ? 1 : 3,
          `${m.folder}/${name}`,
        );
        if (m.format.greyscale) continue;
        const data = await sharp(file).raw().toBuffer();
        let warmth = 0;
        for (let p = 0; p < data.length; p += 3) warmth += data[p] - data[p + 2];
        warmth /= data.length / 3;
        if (m.family === 'noir') assert.ok(Math.abs(warmth) < 2, `noir is neutral grey (R − B = ${warmth})`);
        else assert.ok(warmth > 8, `sepia is warm (R − B = ${warmth})`);
      }
    }
  });

  test('withBadFiles adds the hostile cases as a movie of their own', async () => {
    const dir = join(base, 'hostile');
    const r = await generateSample(dir, { movies: 2, stills: 2, width: 96, withBadFiles: true });
    const files = readdirSync(join(dir, HOSTILE_FOLDER));
    assert.ok(r.badFiles > 10);
    assert.equal(files.length, r.badFiles);
    assert.equal(r.movies, 2);
    const rows = manifestRows(dir);
    assert.equal(rows.length, 4);
    const last = rows.at(-1)!;
    assert.equal(last[0], 'Hostile Cases');
    assert.equal(last[1], '2001');
    assert.equal(last[6], 'hostile');
    assert.equal(last[8], HOSTILE_FOLDER);
  });

  test('bad arguments are refused naming the option and the value', async () => {
    const dir = join(base, 'never');
    await rejects(generateSample(dir, { movies: 0 }), 'INVALID_ARGUMENT', /movies.*but got 0/);
    await rejects(generateSample(dir, { stills: 1.5 }), 'INVALID_ARGUMENT', /stills.*1\.5/);
    await rejects(generateSample(dir, { width: 31 }), 'INVALID_ARGUMENT', /32–4096 for width but got 31/);
    await rejects(generateSample(dir, { width: 5000 }), 'INVALID_ARGUMENT', /width/);
    await rejects(generateSample(dir, { seed: -1 }), 'INVALID_ARGUMENT', /seed/);
    await rejects(
      generateSample(dir, { families: ['noir', 'sparkly'] }),
      'INVALID_ARGUMENT',
      /sparkly.*must be one of.*noir/,
    );
    await rejects(generateSample(dir, { families: 0 }), 'INVALID_ARGUMENT', /families/);
    assert.equal(existsSync(dir), false, 'nothing is written for bad arguments');
  });

  test('refuses a non-empty folder that is not a sample; replaces an earlier sample, keeping other files', async () => {
    const foreign = join(base, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'holiday.jpg'), 'mine');
    await rejects(generateSample(foreign, SMALL), 'INVALID_ARGUMENT', new RegExp(`${foreign}.*not empty`));
    writeFileSync(join(foreign, 'movies.csv'), 'title,year\nMy Film,1999\n');
    await rejects(generateSample(foreign, SMALL), 'INVALID_ARGUMENT', /not written by `filmatlas sample`/);
    assert.deepEqual(readdirSync(foreign).sort(), ['holiday.jpg', 'movies.csv']);

    const dir = join(base, 'rerun');
    await generateSample(dir, { ...SMALL, seed: 1 });
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    const r = await generateSample(dir, { movies: 2, stills: 3, width: 120, seed: 2 });
    const rows = manifestRows(dir);
    assert.equal(rows.length, 3);
    assert.deepEqual(
      readdirSync(dir).sort(),
      ['movies.csv', 'notes.txt', ...rows.slice(1).map((row) => row[8])].sort(),
    );
    assert.equal(r.stills, 6);
  });

  test('an aborted run stops with ABORTED, leaving no half-written files and no movies.csv; a re-run completes it', async () => {
    await firstSample();
    const before = new AbortController();
    before.abort();
    await rejects(
      generateSample(join(base, 'aborted-early'), { ...SMALL, signal: before.signal }),
      'ABORTED',
      /cancelled/,
    );

    const dir = join(base, 'aborted');
    const ac = new AbortController();
    await rejects(
      generateSample(dir, {
        ...SMALL,
        seed: 11,
        signal: ac.signal,
        onProgress: (e) => {
          if (e.done >= 3) ac.abort();
        },
      }),
      'ABORTED',
      /cancelled/,
    );
    const files = [...hashTree(dir).keys()];
    assert.ok(files.length >= 3 && files.length < 24, `${files.length} files`);
    assert.ok(!files.includes('movies.csv'));
    assert.ok(files.every((f) => !f.endsWith('.partial')));
    assert.ok(
      files.every((f) => !isTempName(basename(f))),
      'no atlas/files.ts temporaries',
    );
    // Running again into the interrupted folder replaces it with the whole sample.
    await generateSample(dir, { ...SMALL, seed: 11 });
    assert.deepEqual(hashTree(dir), hashTree(first));
  });
});

describe('looks', () => {
  /** A movie's colour histogram: 6 hue × 3 saturation × 3 lightness bins (HSL), over all its stills. */
  function movieHistogram(movie: SampleMovie, stills: number): Float64Array {
    const hist = new Float64Array(6 * 3 * 3);
    let n = 0;
    for (let j = 0; j < stills; j++) {
      const { data } = renderSampleStill(movie, j);
      for (let p = 0; p < data.length; p += 3) {
        const r = data[p] / 255;
        const g = data[p + 1] / 255;
        const b = data[p + 2] / 255;
        const max = Math.max(r, g, b);
        const min = Math.min(r, g, b);
        const l = (max + min) / 2;
        const d = max - min;
        const s = d < 1e-6 ? 0 : d / (1 - Math.abs(2 * l - 1));
        let h = 0;
        if (d > 1e-6) h = max === r ? ((g - b) / d + 6) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
        const hb = Math.min(5, Math.floor(h));
        const sb = Math.min(2, Math.floor(s * 3));
        const lb = Math.min(2, Math.floor(l * 3));
        hist[(hb * 3 + sb) * 3 + lb]++;
        n++;
      }
    }
    for (let i = 0; i < hist.length; i++) hist[i] /= n;
    return hist;
  }

  function nearestSameFamily(movies: SampleMovie[], stills: number): number {
    const hists = movies.map((m) => movieHistogram(m, stills));
    let same = 0;
    for (let i = 0; i < movies.length; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < movies.length; j++) {
        if (j === i) continue;
        let d = 0;
        for (let k = 0; k < hists[i].length; k++) d += Math.abs(hists[i][k] - hists[j][k]);
        if (d < bestD) [best, bestD] = [j, d];
      }
      if (movies[best].family === movies[i].family) same++;
    }
    return same / movies.length;
  }

  test('movies of one family look alike: the nearest movie by colour histogram shares the family', () => {
    const share = nearestSameFamily(planSample({ movies: 12, stills: 8, width: 160, seed: 7 }), 8);
    assert.ok(share >= 0.8, `nearest movie in the same family for ${(share * 100).toFixed(0)}%`);
  });

  test('all families at once are still told apart', () => {
    const movies = planSample({
      movies: 3 * LOOK_FAMILIES.length,
      stills: 6,
      width: 128,
      seed: 5,
      families: LOOK_FAMILIES.length,
    });
    const share = nearestSameFamily(movies, 6);
    assert.ok(share >= 0.75, `nearest movie in the same family for ${(share * 100).toFixed(0)}%`);
  });

  test('a movie jitters its family look: no two movies share one exactly', () => {
    const movies = planSample({ movies: 8, families: 2 });
    const looks = new Set(movies.map((m) => JSON.stringify(m.look)));
    assert.equal(looks.size, 8);
    const noir = planSample({ movies: 2, families: ['noir'] });
    assert.ok(noir.every((m) => m.look.mono));
  });

  test('rendering is pure and the image has the planned size', () => {
    const [m] = planSample({ movies: 1, width: 200 });
    const a = renderSampleStill(m, 5);
    const b = renderSampleStill(m, 5);
    assert.deepEqual(a.data, b.data);
    assert.equal(a.width, 200);
    assert.equal(a.height, m.height);
    assert.equal(a.data.length, 200 * m.height * 3);
    assert.notDeepEqual(renderSampleStill(m, 6).data, a.data);
  });
});
