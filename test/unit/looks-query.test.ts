/**
 * The read-only queries the explorer and the CLI share: exact similar stills
 * (`StillNeighbours`, batched), colour top-k over a stored palette set
 * (`searchPalettes`), medoids and the summaries of a clustering stored as labels only.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openAtlas } from '../../src/atlas/atlas.js';
import { FeatureWriter } from '../../src/embed/features.js';
import { AtlasError } from '../../src/errors.js';
import { medoids, summariseLabels } from '../../src/looks/cluster.js';
import type { PackedPalette, PaletteSet } from '../../src/looks/palette.js';
import { StillNeighbours } from '../../src/looks/query.js';
import { paletteDistance, parseColourQuery, searchPalettes } from '../../src/looks/search.js';
import { LookVectors } from '../../src/looks/vectors.js';
import { releaseMatmulSessions } from '../../src/numeric/matmul.js';
import { Random } from '../../src/numeric/random.js';
import { tempDir } from '../helpers/tmp.js';

after(() => releaseMatmulSessions());

const D = 12;

/** An atlas holding only a feature set 'toy' of n rows (still ids 10, 11, …), rows 5 and 6 equal. */
async function toyAtlas(n: number): ReturnType<typeof openAtlas> {
  const atlas = await openAtlas(join(tempDir(), 'a'), { create: true });
  const rng = new Random(3);
  const x = Float32Array.from({ length: n * D }, () => rng.normal(0, 1));
  x.copyWithin(6 * D, 5 * D, 6 * D);
  const w = FeatureWriter.open(atlas, { model: 'toy', dim: D, preprocess: 'none' });
  w.append(
    Array.from({ length: n }, (_, i) => i + 10),
    x,
  );
  w.close();
  return atlas;
}

/** Cosine brute force over the normalised vectors, the still itself left out, ties by row. */
function brute(v: LookVectors, stillId: number, k: number): number[] {
  const x = v.all();
  const r = v.rowOf(stillId)!;
  return Array.from({ length: v.rows }, (_, j) => {
    let d = 0;
    for (let c = 0; c < v.dim; c++) d += x[r * v.dim + c] * x[j * v.dim + c];
    return { j, d: 1 - d };
  })
    .filter((e) => e.j !== r)
    .sort((a, b) => a.d - b.d || a.j - b.j)
    .slice(0, k)
    .map((e) => v.stillIds[e.j]);
}

test('similar stills: brute force, batched or alone, resident or streamed; k capped; unknown stills refused', async () => {
  const atlas = await toyAtlas(90);
  try {
    const v = LookVectors.open(atlas, 'toy');
    for (const resident of [true, false]) {
      const near = StillNeighbours.open(atlas, 'toy', { resident });
      const ids = [10, 15, 16, 40, 99, 64];
      const together = await Promise.all(ids.map((id, i) => near.ofStill(id, 3 + i)));
      for (const [i, id] of ids.entries()) {
        assert.deepEqual(
          together[i].map((n) => n.stillId),
          brute(v, id, 3 + i),
          `still ${id}`,
        );
        assert.deepEqual(await near.ofStill(id, 3 + i), together[i]);
        for (let t = 1; t < together[i].length; t++)
          assert.ok(together[i][t].distance >= together[i][t - 1].distance);
      }
      // Rows 5 and 6 (stills 15 and 16) are the same: each is the other's nearest, at distance 0.
      assert.equal(together[1][0].stillId, 16);
      assert.ok(together[1][0].distance < 1e-6);
      assert.equal((await near.ofStill(10, 500)).length, 89);
      // A vector query: still 40's own row finds still 40 first.
      const [own] = await near.ofVectors(v.gather([30]), 1, 4);
      assert.deepEqual(
        own.map((n) => n.stillId),
        [40, ...brute(v, 40, 3)],
      );
      await assert.rejects(
        () => near.ofStill(5, 3),
        (e: unknown) =>
          e instanceof AtlasError && e.code === 'NOT_FOUND' && /still 5 has no 'toy'/.test(e.message),
      );
    }
  } finally {
    await atlas.close();
  }
});

/** A palette set in memory: `n` stills of 4-colour palettes (L, a, b, share), movies of 5 stills each. */
function paletteSet(n: number): PaletteSet {
  const k = 4;
  const rng = new Random(9);
  const colours = new Float32Array(n * k * 4);
  for (let i = 0; i < n; i++) {
    const used = 1 + rng.int(k);
    let left = 1;
    for (let s = 0; s < used; s++) {
      const share = s === used - 1 ? left : left * rng.range(0.2, 0.8);
      left -= share;
      colours.set([rng.range(5, 95), rng.range(-60, 60), rng.range(-60, 60), share], (i * k + s) * 4);
    }
  }
  colours.copyWithin(7 * k * 4, 2 * k * 4, 3 * k * 4); // stills 2 and 7 tie
  const ids = Uint32Array.from({ length: n }, (_, i) => 100 + i);
  const movies = new Map<number, PackedPalette>();
  // Movies in a map order other than their ids, so ties must be broken by id, not by order seen.
  for (let m = Math.ceil(n / 5) - 1; m >= 0; m--)
    movies.set(m + 1, colours.slice(m * 5 * k * 4, (m * 5 + 1) * k * 4));
  movies.set(500, movies.get(1)!); // a movie tied with movie 1
  return {
    manifest: { version: 1, space: 'lab', k, seed: 0, rows: n, updatedAt: '' },
    dir: '',
    ids,
    colours,
    mean: new Float32Array(n * 3),
    rowOf: new Map(Array.from(ids, (id, i) => [id, i])),
    movies,
  };
}

test('colour top-k over a stored palette set equals a full sort (ties in set order, movies by id)', () => {
  const set = paletteSet(300);
  const colours = parseColourQuery('#203040:2,#e08040');
  const palette = (id: number): PackedPalette =>
    set.colours.subarray(set.rowOf.get(id)! * 16, (set.rowOf.get(id)! + 1) * 16);
  const full = Array.from(set.ids, (id) => ({ id, hit: paletteDistance(colours, palette(id)) })).sort(
    (a, b) => a.hit.distance - b.hit.distance,
  );
  for (const k of [1, 7, 24, 299, 400]) {
    const r = searchPalettes(set, colours, { k });
    assert.equal(r.searched, 300);
    assert.deepEqual(r.hits, full.slice(0, k), `k = ${k}`);
  }
  // Only the included stills; the tie between stills 102 and 107 keeps the set's order.
  const odd = searchPalettes(set, colours, { k: 300, include: (id) => id % 2 === 1 || id === 102 });
  assert.deepEqual(
    odd.hits.map((h) => h.id),
    full.filter((h) => h.id % 2 === 1 || h.id === 102).map((h) => h.id),
  );
  const tie = searchPalettes(set, parseColourQuery('#000000'), { k: 300 }).hits.map((h) => h.id);
  assert.equal(tie.indexOf(107), tie.indexOf(102) + 1);
  const movies = searchPalettes(set, colours, { k: 100, movies: true });
  const fullMovies = [...set.movies.entries()]
    .map(([id, p]) => ({ id, hit: paletteDistance(colours, p) }))
    .sort((a, b) => a.hit.distance - b.hit.distance || a.id - b.id);
  assert.equal(movies.searched, set.movies.size);
  assert.deepEqual(movies.hits, fullMovies);
  assert.equal(
    movies.hits.findIndex((h) => h.id === 500),
    movies.hits.findIndex((h) => h.id === 1) + 1,
  );
  assert.throws(() => searchPalettes(set, colours, { k: 0 }), AtlasError);
});

/** Rows as a gatherable matrix. */
function points(x: number[][]): { dim: number; gather(rows: readonly number[]): Float32Array } {
  return { dim: x[0].length, gather: (rows) => Float32Array.from(rows.flatMap((r) => x[r])) };
}

test('medoids: smallest total distance first, ties by row; a large group is sampled with the seed', () => {
  // Points on a line: the middle one is the medoid, then its neighbours (the lower row first on a tie).
  const line = points([[0], [1], [2], [3], [4], [10]]);
  assert.deepEqual(medoids([0, 1, 2, 3, 4, 5], 3, line, 0), [2, 3, 1]);
  assert.deepEqual(medoids([0, 1, 3, 4], 4, line, 0), [1, 3, 0, 4]);
  assert.deepEqual(medoids([5], 3, line, 0), [5]);
  // Brute force on a random cloud.
  const rng = new Random(4);
  const cloud = Array.from({ length: 120 }, () => [0, 0, 0].map(() => Math.fround(rng.normal())));
  const rows = Array.from({ length: 60 }, (_, i) => 2 * i);
  const dist = (a: number, b: number): number =>
    Math.fround(Math.sqrt(cloud[a].reduce((s, v, j) => s + (v - cloud[b][j]) ** 2, 0)));
  const total = (r: number): number => rows.reduce((s, q) => s + (q === r ? 0 : dist(r, q)), 0);
  const want = [...rows].sort((a, b) => total(a) - total(b) || a - b).slice(0, 5);
  assert.deepEqual(medoids(rows, 5, points(cloud), 1), want);
  // Over 400 members: a seeded sample, so the same seed gives the same medoids, all from the group.
  const big = Array.from({ length: 1000 }, () => [rng.normal(), rng.normal()]);
  const members = Array.from({ length: 900 }, (_, i) => i + 50);
  const a = medoids(members, 4, points(big), 7);
  assert.deepEqual(medoids(members, 4, points(big), 7), a);
  assert.ok(a.every((r) => members.includes(r)));
  assert.notDeepEqual(medoids(members, 4, points(big), 8), a);
});

test('a clustering stored as labels only: natural order, sizes, movies by stills, medoids in feature space', async () => {
  const atlas = await toyAtlas(30);
  try {
    const v = LookVectors.open(atlas, 'toy');
    const byStill = new Map<number, string>();
    for (let i = 0; i < 30; i++) byStill.set(10 + i, i < 4 ? 'cluster 10' : i < 20 ? 'cluster 2' : 'noise');
    byStill.set(999, 'cluster 2'); // a still the explorer does not know
    const movieOf = (id: number): number | undefined => (id === 999 ? undefined : id < 20 ? 1 : 2);
    const s = summariseLabels(byStill, { movieOf, vectors: v, count: 3 });
    assert.deepEqual(
      s.map((c) => [c.label, c.size]),
      [
        ['cluster 2', 16],
        ['cluster 10', 4],
        ['noise', 10],
      ],
    );
    assert.deepEqual(s[0].movies, [
      { movieId: 2, stills: 10 },
      { movieId: 1, stills: 6 },
    ]);
    const rows = Array.from({ length: 16 }, (_, i) => 4 + i);
    assert.deepEqual(
      s[0].medoids,
      medoids(rows, 3, v, 0).map((r) => v.stillIds[r]),
    );
    // Without vectors: the first stills of each label.
    assert.deepEqual(summariseLabels(byStill, { movieOf, count: 2 })[1].medoids, [10, 11]);
  } finally {
    await atlas.close();
  }
});
