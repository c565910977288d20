import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { COLOR_DIM } from '../../src/embed/color.js';
import { cli, resultOf } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** sample → ingest → embed color → status → export, through the built CLI. */
test('embed color: every still embedded once, resumable, listed by status, exported', async () => {
  const dir = tempDir();
  const src = join(dir, 'stills');
  const atlas = join(dir, 'atlas');
  assert.equal((await cli(['sample', src, '--movies', '3', '--stills', '6', '--width', '200'])).code, 0);
  assert.equal((await cli(['ingest', src, '--atlas', atlas, '--json'])).code, 0);

  const first = await cli(['embed', '--atlas', atlas, '--model', 'color', '--batch', '5', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const r = resultOf(first);
  assert.deepEqual([r.embedded, r.failed, r.rows, r.dim], [18, 0, 18, COLOR_DIM]);
  assert.ok(first.lines.some((l) => l.event === 'progress' && l.stage === 'embed color'));

  // Nothing to do the second time.
  const again = resultOf(await cli(['embed', '--atlas', atlas, '--model', 'color', '--json']));
  assert.deepEqual([again.embedded, again.skipped, again.rows], [0, 18, 18]);

  // A still added later is the only one embedded next time.
  const db = new Database(join(atlas, 'atlas.db'));
  const movie = db.prepare('SELECT id FROM movies LIMIT 1').pluck().get() as number;
  const oneStill = db
    .prepare("SELECT source FROM stills WHERE status = 'ready' LIMIT 1")
    .pluck()
    .get() as string;
  db.close();
  const extra = join(dir, 'extra', 'Extra Movie (1999)');
  mkdirSync(extra, { recursive: true });
  copyFileSync(oneStill, join(extra, 'still-001' + oneStill.slice(oneStill.lastIndexOf('.'))));
  assert.ok(movie > 0);
  assert.equal((await cli(['ingest', join(dir, 'extra'), '--atlas', atlas])).code, 0);
  const more = resultOf(await cli(['embed', '--atlas', atlas, '--model', 'color', '--json']));
  assert.deepEqual([more.embedded, more.rows], [1, 19]);

  const status = JSON.parse((await cli(['status', '--atlas', atlas, '--json'])).stdout) as {
    stages: Record<string, { done: number; pending: number; failed: number }>;
  };
  assert.deepEqual(status.stages['embed color'], { done: 19, pending: 0, failed: 0 });

  // Export: the .npy holds exactly the stored matrix.
  const out = join(dir, 'color.npy');
  const exp = resultOf(
    await cli([
      'export',
      'features',
      '--atlas',
      atlas,
      '--model',
      'color',
      '--format',
      'npy',
      '--out',
      out,
      '--json',
    ]),
  );
  assert.deepEqual([exp.rows, exp.dim], [19, COLOR_DIM]);
  const npy = readFileSync(out);
  const headerLen = npy.readUInt16LE(8);
  const data = new Float32Array(
    npy.buffer.slice(npy.byteOffset + 10 + headerLen, npy.byteOffset + npy.length),
  );
  const matrix = readFileSync(join(atlas, 'features', 'color', 'matrix.f32'));
  assert.deepEqual(Buffer.from(data.buffer), matrix);
  assert.equal(statSync(out).size, 10 + headerLen + 19 * COLOR_DIM * 4);
});

test('embed: unknown model, missing weights and a missing atlas fail with clear messages', async () => {
  const dir = tempDir();
  const src = join(dir, 'stills');
  const atlas = join(dir, 'atlas');
  assert.equal((await cli(['sample', src, '--movies', '1', '--stills', '2', '--width', '160'])).code, 0);
  assert.equal((await cli(['ingest', src, '--atlas', atlas])).code, 0);

  const unknown = await cli(['embed', '--atlas', atlas, '--model', 'resnet9000']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /resnet9000/);
  assert.match(unknown.stderr, /vgg16/);
  assert.match(unknown.stderr, /color/);

  // No weights anywhere: say how to get them, and leave no half-made features behind.
  const cache = join(dir, 'empty-cache');
  const noWeights = await cli(['embed', '--atlas', atlas, '--model', 'vgg16'], {
    ...process.env,
    FILMATLAS_CACHE: cache,
  });
  assert.equal(noWeights.code, 1);
  assert.match(noWeights.stderr, /models pull vgg16/);
  assert.match(noWeights.stderr, /--weights/);

  const missingFile = await cli([
    'embed',
    '--atlas',
    atlas,
    '--model',
    'vgg16',
    '--weights',
    join(dir, 'nope.safetensors'),
  ]);
  assert.equal(missingFile.code, 1);
  assert.match(missingFile.stderr, /nope\.safetensors/);

  rmSync(join(dir, 'nowhere'), { recursive: true, force: true });
  const noAtlas = await cli(['embed', '--atlas', join(dir, 'nowhere'), '--model', 'color']);
  assert.equal(noAtlas.code, 1);
  assert.match(noAtlas.stderr, /no atlas at/);
});
