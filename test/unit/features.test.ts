import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openAtlas } from '../../src/atlas/atlas.js';
import { FeatureReader, FeatureWriter } from '../../src/embed/features.js';
import { AtlasError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';

const ID = { model: 'toy', dim: 3, preprocess: 'none' };

test('appended rows read back with their still ids, across re-opens', async () => {
  const atlas = await openAtlas(join(tempDir(), 'a'), { create: true });
  const w = FeatureWriter.open(atlas, ID);
  w.append([10, 11], new Float32Array([1, 2, 3, 4, 5, 6]));
  w.close();
  const w2 = FeatureWriter.open(atlas, ID);
  assert.deepEqual([...w2.stillIds()], [10, 11]);
  w2.append([12], new Float32Array([7, 8, 9]));
  w2.close();
  const r = FeatureReader.open(atlas, 'toy');
  assert.equal(r.rows, 3);
  assert.deepEqual([...r.stillIds], [10, 11, 12]);
  assert.deepEqual([...r.readRows(1, 2)], [4, 5, 6, 7, 8, 9]);
  assert.throws(() => r.readRows(2, 2), RangeError);
  await atlas.close();
});

test('rows written past the manifest count (a crash mid-append) are cut on re-open', async () => {
  const atlas = await openAtlas(join(tempDir(), 'a'), { create: true });
  const w = FeatureWriter.open(atlas, ID);
  w.append([1], new Float32Array([1, 1, 1]));
  w.close();
  const dir = join(atlas.paths.features, 'toy');
  // simulate a crash after the matrix write but before the ids/manifest update
  appendFileSync(join(dir, 'matrix.f32'), Buffer.from(new Float32Array([9, 9, 9, 9]).buffer));
  const w2 = FeatureWriter.open(atlas, ID);
  assert.equal(w2.rows, 1);
  w2.append([2], new Float32Array([2, 2, 2]));
  w2.close();
  const r = FeatureReader.open(atlas, 'toy');
  assert.deepEqual([...r.readRows(0, 2)], [1, 1, 1, 2, 2, 2]);
  assert.deepEqual([...r.stillIds], [1, 2]);
  await atlas.close();
});

test('a feature set made differently is refused with both values named, unless redo', async () => {
  const atlas = await openAtlas(join(tempDir(), 'a'), { create: true });
  FeatureWriter.open(atlas, ID).close();
  assert.throws(
    () => FeatureWriter.open(atlas, { ...ID, dim: 5 }),
    (e: unknown) =>
      e instanceof AtlasError && e.code === 'STATE' && /dimension changed \(3 → 5\)/.test(e.message),
  );
  assert.throws(
    () => FeatureWriter.open(atlas, { ...ID, preprocess: 'seed' }),
    (e: unknown) => e instanceof AtlasError && /'none' → 'seed'/.test(e.message),
  );
  FeatureWriter.open(atlas, { ...ID, details: { layer: 'fc7' } }, { redo: true }).close();
  assert.throws(
    () => FeatureWriter.open(atlas, { ...ID, details: { layer: 'relu7' } }),
    (e: unknown) => e instanceof AtlasError && /layer changed \('fc7' → 'relu7'\)/.test(e.message),
  );
  // int8 rows next to float32 ones (a manifest without a precision is float32).
  assert.throws(
    () => FeatureWriter.open(atlas, { ...ID, details: { layer: 'fc7', precision: 'int8' } }),
    (e: unknown) => e instanceof AtlasError && /precision changed \('fp32' → 'int8'\)/.test(e.message),
  );
  const w = FeatureWriter.open(atlas, { ...ID, dim: 5 }, { redo: true });
  assert.equal(w.dim, 5);
  assert.throws(() => w.append([1], new Float32Array(3)), /dimension changed mid-run \(5 → 3\)/);
  w.close();
  await atlas.close();
});

test('a second writer is refused while the first holds the lock; a dead writer’s lock is taken over', async () => {
  const atlas = await openAtlas(join(tempDir(), 'a'), { create: true });
  const w = FeatureWriter.open(atlas, ID);
  const lock = join(atlas.paths.features, 'toy', 'lock');
  // pretend another live process holds it (our parent is alive and not us)
  writeFileSync(lock, String(process.ppid));
  assert.throws(() => FeatureWriter.open(atlas, ID), /another process \(pid \d+\) is embedding 'toy'/);
  writeFileSync(lock, '999999999'); // no such process
  const w2 = FeatureWriter.open(atlas, ID);
  assert.equal(readFileSync(lock, 'utf8'), String(process.pid));
  w2.close();
  w.close();
  await atlas.close();
});

test('reading features that do not exist says how to make them', async () => {
  const atlas = await openAtlas(join(tempDir(), 'a'), { create: true });
  assert.throws(
    () => FeatureReader.open(atlas, 'vgg16'),
    (e: unknown) =>
      e instanceof AtlasError && e.code === 'NOT_FOUND' && /filmatlas embed/.test(e.suggestion ?? ''),
  );
  await atlas.close();
});
