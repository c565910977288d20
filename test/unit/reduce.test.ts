import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openAtlas, type Atlas } from '../../src/atlas/atlas.js';
import { FeatureReader, FeatureWriter } from '../../src/embed/features.js';
import { AtlasError } from '../../src/errors.js';
import { exportLayout } from '../../src/export/layout.js';
import { mapLayout, type MapOptions } from '../../src/layout/reduce.js';
import { readLayout } from '../../src/atlas/layouts.js';
import { releaseMatmulSessions } from '../../src/numeric/matmul.js';
import { fitPca, transformPca } from '../../src/numeric/pca.js';
import { Random } from '../../src/numeric/random.js';
import { parseCsv } from '../../src/sources/csv.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * An atlas without images: 4 movies × 30 stills registered in the catalogue and a
 * synthetic 'synth' feature set (24-d) where each movie is a well-separated
 * cluster, so a good map keeps each still next to stills of its own movie.
 */
const MOVIES = 4;
const PER = 30;
const N = MOVIES * PER;
const D = 24;
let atlas: Atlas;
const root = tempDir();
const outDir = tempDir();
const movieOf = new Map<number, number>();

before(async () => {
  atlas = await openAtlas(join(root, 'atlas'), { create: true });
  const rng = new Random(9);
  const centres = Array.from({ length: MOVIES }, () =>
    Float64Array.from({ length: D }, () => 4 * rng.normal()),
  );
  const scales = Float64Array.from({ length: D }, () => Math.exp(rng.range(-1, 2)));
  const writer = FeatureWriter.open(atlas, { model: 'synth', dim: D, preprocess: 'none' });
  for (let m = 0; m < MOVIES; m++) {
    const id = await atlas.catalog.upsertMovie({ title: `Movie ${m}`, year: 2000 + m });
    await atlas.catalog.addStills(
      id,
      Array.from({ length: PER }, (_, i) => `/src/m${m}/still-${i}.png`),
    );
    const ids = (await atlas.catalog.stills('pending')).filter((s) => s.movieId === id).map((s) => s.id);
    const data = new Float32Array(ids.length * D);
    ids.forEach((sid, i) => {
      movieOf.set(sid, m);
      for (let j = 0; j < D; j++) data[i * D + j] = 10 + scales[j] * (centres[m][j] + rng.normal());
    });
    writer.append(ids, data);
  }
  writer.close();
});

after(async () => {
  await atlas.close();
  await releaseMatmulSessions();
});

/** Share of stills whose nearest neighbour on the map is a still of the same movie. */
function sameMovieNeighbour(xy: Float32Array, ids: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < ids.length; i++) {
    let best = -1,
      bd = Infinity;
    for (let j = 0; j < ids.length; j++) {
      if (j === i) continue;
      const d = (xy[2 * i] - xy[2 * j]) ** 2 + (xy[2 * i + 1] - xy[2 * j + 1]) ** 2;
      if (d < bd) {
        bd = d;
        best = j;
      }
    }
    if (movieOf.get(ids[i]) === movieOf.get(ids[best])) same++;
  }
  return same / ids.length;
}

test('pca map: the first two components of the streamed PCA, stats and params recorded', async () => {
  const events: string[] = [];
  const r = await mapLayout(atlas, {
    features: 'synth',
    reduce: 'pca',
    name: 'pca',
    standardize: true,
    components: 4,
    onProgress: (e) => events.push(e.stage),
  });
  assert.deepEqual(
    [r.n, r.dim, r.reduce, r.pcaMethod, r.explainedVarianceRatio.length],
    [N, D, 'pca', 'exact', 4],
  );
  assert.ok(events.includes('pca') && events.includes('pca transform'));
  const reader = FeatureReader.open(atlas, 'synth');
  const model = await fitPca(reader, { components: 4, standardize: true });
  const y = await transformPca(reader, model);
  const l = readLayout(atlas, 'pca');
  assert.deepEqual(Array.from(l.ids), Array.from(reader.stillIds));
  for (let i = 0; i < N; i++) {
    assert.ok(
      Math.abs(l.xy[2 * i] - y[4 * i]) < 1e-4 && Math.abs(l.xy[2 * i + 1] - y[4 * i + 1]) < 1e-4,
      `row ${i}`,
    );
  }
  assert.deepEqual(l.manifest.stats?.explainedVarianceRatio, Array.from(model.explainedVarianceRatio));
  assert.deepEqual(l.manifest.params, { standardize: true, seed: 0, components: 4, pcaMethod: 'exact' });
  assert.ok(sameMovieNeighbour(l.xy, l.ids) > 0.95, 'clusters stay apart');
});

test('tsne and umap maps on a PCA front end keep movies together; pca 0 reduces the features themselves', async () => {
  const runs: MapOptions[] = [
    { features: 'synth', reduce: 'tsne', name: 'tsne', perplexity: 10, iterations: 400, pca: 6, seed: 1 },
    { features: 'synth', reduce: 'umap', name: 'umap', neighbors: 10, epochs: 100, pca: 6, seed: 1 },
    {
      features: 'synth',
      reduce: 'umap',
      name: 'umap-raw',
      neighbors: 10,
      epochs: 100,
      pca: 0,
      standardize: true,
      seed: 1,
    },
  ];
  for (const o of runs) {
    const r = await mapLayout(atlas, o);
    const l = readLayout(atlas, o.name);
    assert.equal(l.xy.length, 2 * N);
    assert.equal(r.reducerDim, o.pca === 0 ? D : 6, o.name);
    assert.equal(l.manifest.params.pca, o.pca);
    assert.equal(r.explainedVarianceRatio.length, o.pca);
    const share = sameMovieNeighbour(l.xy, l.ids);
    assert.ok(share > 0.9, `${o.name}: ${share} of stills next to their own movie`);
  }
  // seeded: the same seed gives the same map
  await mapLayout(atlas, { ...runs[0], name: 'tsne-again' });
  assert.deepEqual(readLayout(atlas, 'tsne-again').xy, readLayout(atlas, 'tsne').xy);
});

test('export layout: csv, json and npy agree with the stored layout', async () => {
  const l = readLayout(atlas, 'pca');
  const dir = outDir;
  const csv = await exportLayout(atlas, 'pca', 'csv', join(dir, 'a.csv'));
  assert.deepEqual([csv.n, csv.kind, csv.format], [N, 'points', 'csv']);
  const rows = parseCsv(readFileSync(join(dir, 'a.csv'), 'utf8'));
  assert.deepEqual(rows[0], ['still_id', 'movie', 'ordinal', 'x', 'y']);
  const first = rows[1];
  assert.equal(Number(first[0]), l.ids[0]);
  assert.equal(first[1], `Movie ${movieOf.get(l.ids[0])} (${2000 + movieOf.get(l.ids[0])!})`);
  assert.equal(first[2], '0');
  assert.equal(Math.fround(Number(first[3])), l.xy[0]);
  assert.equal(rows[N][2], String(PER - 1));
  await exportLayout(atlas, 'pca', 'json', join(dir, 'a.json'));
  const doc = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as {
    n: number;
    points: { still_id: number; y: number }[];
  };
  assert.equal(doc.points.length, N);
  assert.equal(Math.fround(doc.points[N - 1].y), l.xy[2 * N - 1]);
  await exportLayout(atlas, 'pca', 'npy', join(dir, 'a.npy'));
  const npy = readFileSync(join(dir, 'a.npy'));
  const h = 10 + npy.readUInt16LE(8);
  assert.equal(h % 64, 0);
  assert.deepEqual(new Float32Array(npy.buffer.slice(npy.byteOffset + h, npy.byteOffset + npy.length)), l.xy);
});

test('bad options name the bad value', async () => {
  const bad = async (o: Partial<MapOptions>, re: RegExp, code = 'INVALID_ARGUMENT'): Promise<void> => {
    await assert.rejects(
      mapLayout(atlas, { features: 'synth', reduce: 'pca', name: 'x', ...o }),
      (e: unknown) => {
        assert.ok(e instanceof AtlasError, String(e));
        assert.equal(e.code, code);
        assert.match(e.message, re);
        return true;
      },
    );
  };
  await bad({ reduce: 'mds' }, /unknown reduction 'mds': must be one of \[pca, tsne, umap\]/);
  await bad({ features: 'vgg16' }, /no 'vgg16' features/, 'NOT_FOUND');
  await bad({ name: 'a/b' }, /bad layout name 'a\/b'/);
  await bad({ components: 101 }, /components but got 101/);
  await bad({ reduce: 'tsne', perplexity: 50 }, /perplexity 50 needs more than 151 stills; 'synth' has 120/);
  await bad({ reduce: 'umap', neighbors: 120 }, /UMAP with 120 neighbours/);
  await bad({ reduce: 'umap', minDist: 2 }, /a number 0–1 for min-dist but got 2/);
  await bad({ reduce: 'tsne', pca: -1 }, /integer 0–1000 for pca but got -1/);
  await assert.rejects(exportLayout(atlas, 'pca', 'xlsx', '/tmp/x'), /unknown layout export format 'xlsx'/);
  await assert.rejects(exportLayout(atlas, 'nope', 'csv', '/tmp/x'), /no layout named 'nope'/);
});
