import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { openAtlas } from '../../src/atlas/atlas.js';
import { AtlasError } from '../../src/errors.js';
import { ingestVideo, sceneSelectExpression } from '../../src/sources/video.js';
import { tempDir } from '../helpers/tmp.js';

const HAS_FFMPEG = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
const SKIP = HAS_FFMPEG
  ? false
  : 'ffmpeg is not installed (Debian: apt-get install ffmpeg); video tests skipped';

/**
 * A 26 s test film at 10 fps: red 0–2 s, blue 2–5 s, a moving test pattern 5–7 s, then
 * 19 s of one green frame (a static shot: no cuts, so only the maximum interval yields stills).
 */
function makeFilm(dir: string): string {
  const file = join(dir, 'The Test Film (1999).mp4');
  const graph =
    'color=c=red:s=160x90:r=10:d=2[a];color=c=blue:s=160x90:r=10:d=3[b];testsrc2=s=160x90:r=10:d=2[c];' +
    'color=c=green:s=160x90:r=10:d=19[d];[a][b][c][d]concat=n=4:v=1:a=0[out0]';
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    graph,
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    file,
  ]);
  return file;
}

describe('stills from video files', { skip: SKIP }, () => {
  const dir = tempDir('filmatlas-video-');
  let film = '';
  before(() => {
    film = makeFilm(dir);
  });

  test('a still at every cut, and every max-interval seconds through a static shot; ordinal = time in ms', async () => {
    const atlas = await openAtlas(join(dir, 'atlas'), { create: true });
    try {
      const r = await ingestVideo(atlas, film, { minInterval: 0.5, maxInterval: 6 });
      assert.equal(r.title, 'The Test Film');
      assert.equal(r.year, 1999, 'the year comes from the file name');
      assert.ok(Math.abs(r.duration - 26) < 0.2, `duration ${r.duration}`);
      const stills = (await atlas.catalog.stills()).filter((s) => s.movieId === r.movieId);
      const times = stills.map((s) => s.ordinal);
      // first frame; cuts at 2, 5, 7 s; then the static green shot every 6 s: 13, 19, 25
      assert.deepEqual(times, [0, 2000, 5000, 7000, 13000, 19000, 25000]);
      assert.deepEqual([r.extracted, r.added, r.ready, r.rejected], [7, 7, 7, 0]);
      assert.ok(
        stills.every(
          (s) => s.source === `${film}#t=${(s.ordinal / 1000).toFixed(3)}` && s.originalExt === 'jpg',
        ),
      );
      assert.ok(stills.every((s) => s.width === 160 && s.height === 90 && s.stdSha256));
      // colours: the red frame is red, the blue one blue
      const sharp = (await import('sharp')).default;
      const mean = async (i: number): Promise<number[]> =>
        (await sharp(await atlas.store.get('originals', stills[i].originalSha256!, 'jpg')).stats()).channels
          .slice(0, 3)
          .map((c) => c.mean);
      const [red, blue] = [await mean(0), await mean(1)];
      assert.ok(red[0] > 200 && red[2] < 60, `red ${red}`);
      assert.ok(blue[2] > 200 && blue[0] < 60, `blue ${blue}`);
      // the same file again adds nothing
      const again = await ingestVideo(atlas, film, { minInterval: 0.5, maxInterval: 6 });
      assert.deepEqual([again.added, again.processed, again.movieId], [0, 0, r.movieId]);
    } finally {
      await atlas.close();
    }
  });

  test('--max caps the stills, --threshold 1 leaves only the interval stills, a min interval suppresses close cuts', async () => {
    const atlas = await openAtlas(join(dir, 'atlas2'), { create: true });
    try {
      const capped = await ingestVideo(atlas, film, {
        title: 'Capped',
        max: 3,
        minInterval: 0.5,
        maxInterval: 6,
      });
      assert.equal(capped.extracted, 3);
      assert.equal(capped.year, null, 'an explicit title does not take the year from the file name');
      const noCuts = await ingestVideo(atlas, film, {
        title: 'No cuts',
        threshold: 1,
        minInterval: 0.5,
        maxInterval: 10,
      });
      const t = (await atlas.catalog.stills())
        .filter((s) => s.movieId === noCuts.movieId)
        .map((s) => s.ordinal);
      assert.deepEqual(t, [0, 10000, 20000]);
      const spaced = await ingestVideo(atlas, film, { title: 'Spaced', minInterval: 4, maxInterval: 30 });
      const t2 = (await atlas.catalog.stills())
        .filter((s) => s.movieId === spaced.movieId)
        .map((s) => s.ordinal);
      assert.deepEqual(
        t2,
        [0, 5000],
        'the cut at 2 s is within 4 s of the first still; 7 s within 4 s of 5 s',
      );
    } finally {
      await atlas.close();
    }
  });

  test('errors: missing ffmpeg names the tool and the package, a non-video is refused, bad options named', async () => {
    const atlas = await openAtlas(join(dir, 'atlas3'), { create: true });
    try {
      await assert.rejects(
        ingestVideo(atlas, film, { ffmpeg: join(dir, 'no-such-ffmpeg') }),
        (e: unknown) =>
          e instanceof AtlasError &&
          e.code === 'NOT_FOUND' &&
          /ffmpeg/.test(e.message) &&
          /apt-get install ffmpeg/.test(e.suggestion ?? ''),
      );
      const notVideo = join(dir, 'notes.mp4');
      writeFileSync(notVideo, 'this is not a video');
      await assert.rejects(
        ingestVideo(atlas, notVideo),
        (e: unknown) =>
          e instanceof AtlasError && e.code === 'BAD_IMAGE' && /ffmpeg cannot read/.test(e.message),
      );
      await assert.rejects(
        ingestVideo(atlas, join(dir, 'missing.mp4')),
        (e: unknown) => e instanceof AtlasError && e.code === 'NOT_FOUND',
      );
      await assert.rejects(ingestVideo(atlas, film, { threshold: 2 }), /--threshold/);
      await assert.rejects(ingestVideo(atlas, film, { minInterval: 5, maxInterval: 2 }), /--max-interval/);
      assert.equal((await atlas.catalog.counts()).stills, 0, 'nothing registered by failed runs');
    } finally {
      await atlas.close();
    }
  });
});

test('the select expression takes the first frame, cuts past the minimum gap, and frames past the maximum gap', () => {
  assert.equal(
    sceneSelectExpression(0.3, 1, 60),
    'if(isnan(prev_selected_t),1,gte(t-prev_selected_t,1)*max(gt(scene,0.3),gte(t-prev_selected_t,60)))',
  );
});
