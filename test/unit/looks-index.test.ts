import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openAtlas } from '../../src/atlas/atlas.js';
import { FeatureWriter } from '../../src/embed/features.js';
import { openAnnIndex } from '../../src/looks/ann.js';
import { LookVectors } from '../../src/looks/vectors.js';
import { Random } from '../../src/numeric/random.js';
import { tempDir } from '../helpers/tmp.js';

const D = 16;

function rows(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n * D }, () => rng.normal(0, 1) + 3);
}

test('normalised vectors: z-scored columns, unit rows, stats cached against the features', async () => {
  const atlas = await openAtlas(join(tempDir(), 'a'), { create: true });
  const w = FeatureWriter.open(atlas, { model: 'toy', dim: D, preprocess: 'none' });
  w.append(
    Array.from({ length: 50 }, (_, i) => i + 1),
    rows(50, 1),
  );
  w.close();
  for (const how of ['zscore', 'center', 'none'] as const) {
    const v = LookVectors.open(atlas, 'toy', how);
    const x = v.all();
    for (let i = 0; i < 50; i++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += x[i * D + j] ** 2;
      assert.ok(Math.abs(s - 1) < 1e-5, `${how} row ${i} has norm² ${s}`);
    }
    if (how !== 'none') {
      // readRows and normalizeRows of the raw rows agree (one normalisation, from the cached stats).
      const raw = LookVectors.open(atlas, 'toy', 'none').reader.readRows(0, 50);
      const centred = v.normalizeRows(Float32Array.from(raw), 50);
      assert.deepEqual(Array.from(centred), Array.from(x));
    }
  }
  // Plain cosine of rows with a large common offset sees them all alike; centring does not.
  const none = LookVectors.open(atlas, 'toy', 'none').all();
  const z = LookVectors.open(atlas, 'toy', 'zscore').all();
  const dot = (m: Float32Array, a: number, b: number): number => {
    let s = 0;
    for (let j = 0; j < D; j++) s += m[a * D + j] * m[b * D + j];
    return s;
  };
  assert.ok(dot(none, 0, 1) > 0.7);
  assert.ok(Math.abs(dot(z, 0, 1)) < 0.7);
  assert.equal(LookVectors.open(atlas, 'toy').rowOf(7), 6);
  assert.ok(existsSync(join(atlas.paths.root, 'looks', 'stats', 'toy.json')));
  await atlas.close();
});

test('the approximate index is stored, reused, and rebuilt when the features change', async () => {
  const atlas = await openAtlas(join(tempDir(), 'a'), { create: true });
  let w = FeatureWriter.open(atlas, { model: 'toy', dim: D, preprocess: 'none' });
  w.append(
    Array.from({ length: 300 }, (_, i) => i + 1),
    rows(300, 2),
  );
  w.close();
  const v = LookVectors.open(atlas, 'toy');
  const first = await openAnnIndex(atlas, v);
  assert.equal(first.built, true);
  assert.equal(first.rows, 300);
  // Each row's nearest neighbour is itself.
  const q = v.readRows(0, 20);
  const r = first.search(q, 20, 3);
  for (let i = 0; i < 20; i++) {
    assert.equal(r.indices[i * 3], i);
    assert.ok(r.distances[i * 3] < 1e-5);
  }
  const again = await openAnnIndex(atlas, LookVectors.open(atlas, 'toy'));
  assert.equal(again.built, false);
  await new Promise((resolve) => setTimeout(resolve, 5)); // a later updatedAt
  w = FeatureWriter.open(atlas, { model: 'toy', dim: D, preprocess: 'none' });
  w.append([1000], rows(1, 3));
  w.close();
  const grown = await openAnnIndex(atlas, LookVectors.open(atlas, 'toy'));
  assert.equal(grown.built, true);
  assert.equal(grown.rows, 301);
  const last = grown.search(LookVectors.open(atlas, 'toy').readRows(300, 1), 1, 1);
  assert.equal(last.indices[0], 300);
  await atlas.close();
});
