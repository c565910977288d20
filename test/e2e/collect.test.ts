import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
// @ts-expect-error s3rver ships no type declarations
import S3rver from 's3rver';
import { filmGrabFixture, startFixtureSite } from '../../src/sources/filmgrab/fixture-site.js';
import { cli, filesUnder, resultOf } from '../helpers/cli.js';
import { CLI, tempDir } from '../helpers/tmp.js';

test('scrape film-grab: a crawl, a Ctrl-C, a resume, and a re-run that fetches nothing', async () => {
  const dir = tempDir();
  const atlas = join(dir, 'atlas');
  const site = await startFixtureSite({
    movies: await filmGrabFixture({ movies: 4, stills: 3 }),
    robots: 'User-agent: *\nDisallow: /private/\n',
  });
  try {
    // Ctrl-C once the first movie's stills are coming in
    const child = spawn(
      process.execPath,
      [CLI, 'scrape', 'film-grab', '--atlas', atlas, '--base-url', site.url, '--rate', '20', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    site.onRequest = (e) => {
      if (e.path.includes('movie-2_001')) child.kill('SIGINT');
    };
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    site.onRequest = undefined;
    assert.equal(code, 130, out);
    assert.match(out, /"event":"error","code":"ABORTED"/);

    const resumed = await cli([
      'scrape',
      'film-grab',
      '--atlas',
      atlas,
      '--base-url',
      site.url,
      '--rate',
      '50',
      '--json',
    ]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const r = resultOf(resumed);
    assert.equal(r.selected, 9);
    assert.ok((r.fresh as number) >= 1, 'the movie finished before Ctrl-C is not fetched again');
    assert.deepEqual(r.noGallery, ['No Gallery']);
    assert.ok(resumed.lines.some((l) => l.event === 'progress' && l.stage === 'scrape'));

    const status = await cli(['status', '--atlas', atlas, '--json']);
    const s = JSON.parse(status.stdout) as {
      movies: number;
      stills: number;
      standardised: number;
      pending: number;
    };
    // 4×3 + zip 3 + broken 2 + twin 1 (its other still duplicates Movie A's)
    assert.deepEqual([s.movies, s.stills, s.standardised, s.pending], [8, 18, 18, 0]);
    assert.equal(filesUnder(join(atlas, 'originals')).length, 18);

    const before = site.log.length;
    const again = await cli([
      'scrape',
      'film-grab',
      '--atlas',
      atlas,
      '--base-url',
      site.url,
      '--rate',
      '50',
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /8 already up to date/);
    assert.match(again.stdout, /skipped \(robots\.txt\): 1 URLs/);
    assert.deepEqual(
      site.log.slice(before).map((e) => e.path),
      ['/robots.txt'],
      'a fresh atlas costs one request',
    );

    const one = await cli([
      'scrape',
      'film-grab',
      '--atlas',
      join(dir, 'one'),
      '--base-url',
      site.url,
      '--rate',
      '50',
      '--movie',
      'Zipped',
      '--json',
    ]);
    assert.equal(resultOf(one).added, 3);
  } finally {
    await site.close();
  }
});

test('scrape: bad arguments are named; a fast rate is refused for a public site', async () => {
  const dir = tempDir();
  const site = await cli(['scrape', 'imdb', '--atlas', join(dir, 'a')]);
  assert.equal(site.code, 2);
  assert.match(site.stderr, /unknown site 'imdb': must be one of \[film-grab\]/);
  const fast = await cli(['scrape', 'film-grab', '--atlas', join(dir, 'a'), '--rate', '50']);
  assert.equal(fast.code, 2);
  assert.match(fast.stderr, /--rate/);
  const rate = await cli(['scrape', 'film-grab', '--atlas', join(dir, 'a'), '--rate', 'fast']);
  assert.equal(rate.code, 2);
  assert.match(rate.stderr, /--rate.*'fast'/);
});

const HAS_FFMPEG = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;

test(
  'ingest-video: stills at the cuts of a video; a missing ffmpeg is named',
  { skip: HAS_FFMPEG ? false : 'ffmpeg is not installed (apt-get install ffmpeg)' },
  async () => {
    const dir = tempDir();
    const film = join(dir, 'film.mp4');
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=c=red:s=128x72:r=10:d=2[a];color=c=blue:s=128x72:r=10:d=2[b];color=c=white:s=128x72:r=10:d=8[c];[a][b][c]concat=n=3:v=1:a=0[out0]',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      film,
    ]);
    const atlas = join(dir, 'atlas');
    const r = await cli([
      'ingest-video',
      film,
      '--atlas',
      atlas,
      '--title',
      'Red Blue White',
      '--year',
      '1994',
      '--max-interval',
      '3',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const res = resultOf(r);
    // 0 s, the cuts at 2 and 4 s, then every 3 s of white: 7, 10
    assert.deepEqual([res.extracted, res.ready, res.title, res.year], [5, 5, 'Red Blue White', 1994]);
    const human = await cli([
      'ingest-video',
      film,
      '--atlas',
      atlas,
      '--title',
      'Red Blue White',
      '--year',
      '1994',
      '--max-interval',
      '3',
    ]);
    assert.match(human.stdout, /Red Blue White \(1994\): 5 stills .* \(0 new\)/);

    const bad = await cli(['ingest-video', film, '--atlas', atlas, '--threshold', '5']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--threshold/);
    const noFfmpeg = await cli(['ingest-video', film, '--atlas', atlas], {
      ...process.env,
      PATH: dir,
      FFMPEG_PATH: '',
    });
    assert.equal(noFfmpeg.code, 1);
    assert.match(noFfmpeg.stderr, /ffmpeg/);
    assert.match(noFfmpeg.stderr, /apt-get install ffmpeg/);
  },
);

test('ingest --store s3://… --endpoint: originals in the object store, remembered by the atlas', async () => {
  const dir = tempDir();
  const s3 = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: join(dir, 's3'),
    configureBuckets: [{ name: 'stills-bucket' }],
  });
  const { port } = (await s3.run()) as { port: number };
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
  };
  try {
    const src = join(dir, 'stills');
    assert.equal((await cli(['sample', src, '--movies', '2', '--stills', '3', '--width', '160'])).code, 0);
    const atlas = join(dir, 'atlas');
    const r = await cli(
      [
        'ingest',
        src,
        '--atlas',
        atlas,
        '--store',
        's3://stills-bucket/run',
        '--endpoint',
        `http://127.0.0.1:${port}`,
        '--json',
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(resultOf(r).ready, 6);
    assert.equal(filesUnder(join(atlas, 'originals')).length, 0);
    assert.equal(
      filesUnder(join(dir, 's3', 'stills-bucket')).filter((f) => f.includes('/run/originals/')).length > 0,
      true,
    );
    // standardise again from the originals: they are read back from the store the atlas recorded
    const redo = await cli(['standardise', '--atlas', atlas, '--redo', '--json'], env);
    assert.equal(redo.code, 0, redo.stderr);
    assert.deepEqual([resultOf(redo).processed, resultOf(redo).ready], [6, 6]);
    const bad = await cli(['ingest', src, '--atlas', join(dir, 'b'), '--store', 'ftp://x'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--store/);
  } finally {
    await s3.close();
  }
});
